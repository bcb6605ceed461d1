/**
 * Use case: sign a PDF with a key of the HSM at a PAdES level. Plain inputs and outputs; the HTTP
 * route and the CLI both call this.
 */
import { X509Certificate } from 'node:crypto';
import type { CertificatePool } from '../pki/index.ts';
import {
  PadesError,
  signPdf,
  signatureAppearanceLines,
  type DocMdpLevel,
  type DocumentInput,
  type DocumentOutput,
  type FieldLock,
  type SignPdfResult,
} from '../pades/index.ts';
import type { DigestAlgorithm, SignatureScheme, Signer } from '../signers/Signer.ts';

export type PadesLevel = 'B-B' | 'B-T' | 'B-LT' | 'B-LTA';

export interface SignDocumentParams {
  /** HSM key label. */
  key: string;
  level: PadesLevel;
  digestAlgorithm?: DigestAlgorithm;
  scheme?: SignatureScheme;
  subFilter?: 'ETSI.CAdES.detached' | 'adbe.pkcs7.detached';
  reason?: string;
  location?: string;
  contactInfo?: string;
  certify?: DocMdpLevel;
  fieldName?: string;
  page?: number;
  /** Visible rectangle; absent = invisible signature. */
  rect?: [number, number, number, number];
  /** Image drawn in the visible signature (e.g. the agency seal). */
  image?: { bytes: Uint8Array; kind: 'png' | 'jpeg' };
  lock?: FieldLock;
  signingTime?: Date;
}

export interface SigningDeps {
  /** A Signer for a key label (the HSM token, or any other Signer source). */
  getSigner(label: string): Promise<Signer>;
  /** CA certificates used to complete the signer's chain in the CMS. */
  caPool: CertificatePool;
}

export interface SignDocumentResult extends SignPdfResult {
  level: PadesLevel;
  key: string;
}

/** Issuer certificates of `leaf` found in the pool, issuing CA first (the signer itself excluded). */
export function chainFor(leaf: Uint8Array, pool: CertificatePool): Uint8Array[] {
  return pool.buildChain(new X509Certificate(leaf)).slice(1).map((c) => new Uint8Array(c.raw));
}

export async function signDocument(
  deps: SigningDeps,
  input: DocumentInput,
  output: DocumentOutput,
  params: SignDocumentParams,
): Promise<SignDocumentResult> {
  if (params.level !== 'B-B') {
    throw new PadesError('level-unsupported', `level ${params.level} is not available yet; use B-B`, { status: 400 });
  }
  const signer = await deps.getSigner(params.key);
  const certificate = signer.certificate;
  if (!certificate) {
    throw new PadesError('signer-certificate-missing', `the key "${params.key}" has no certificate next to it in the token`, { status: 409 });
  }
  const signingTime = params.signingTime ?? new Date();
  const result = await signPdf(input, output, {
    signer,
    chain: chainFor(certificate, deps.caPool),
    digestAlgorithm: params.digestAlgorithm,
    scheme: params.scheme,
    subFilter: params.subFilter,
    signingTime,
    reason: params.reason,
    location: params.location,
    contactInfo: params.contactInfo,
    certify: params.certify,
    field: {
      fieldName: params.fieldName,
      page: params.page,
      rect: params.rect,
      lock: params.lock,
      appearance: params.rect
        ? {
            lines: signatureAppearanceLines({ certificate, signingTime, reason: params.reason, location: params.location }),
            image: params.image,
            border: true,
          }
        : undefined,
    },
  });
  return { ...result, level: params.level, key: params.key };
}

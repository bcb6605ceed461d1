/**
 * Use case: sign a PDF with a key of the HSM at a PAdES level. Plain inputs and outputs; the HTTP
 * route and the CLI both call this.
 */
import { x509Certificate } from '../cms/index.ts';
import { extendedKeyUsage, keyUsage, timestampOrOcspOnly, type CertificatePool } from '../pki/index.ts';
import type { X509Certificate } from 'node:crypto';
import { rm, stat } from 'node:fs/promises';
import {
  LEVEL_ORDER,
  PadesError,
  addDocumentTimestamp,
  addValidationData,
  collectChainMaterial,
  revokedPhrase,
  signPdf,
  signatureTimestamper,
  type IssuedTimestamp,
  type KnownSigners,
  type PadesLevel,
  type RevocationProvider,
  type TimestampSource,
  signatureAppearanceLines,
  type DocMdpLevel,
  type DocumentInput,
  type DocumentOutput,
  type FieldLock,
  type SignPdfResult,
  type SignedOutput,
} from '../pades/index.ts';
import type { DigestAlgorithm, SignatureScheme, Signer } from '../signers/Signer.ts';

export type { PadesLevel };

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
  /**
   * Visible rectangle of a new field; absent = invisible. An existing field (`fieldName`) keeps its own
   * and is drawn there when it has an area (a different one: `field-rect-fixed`, 409).
   */
  rect?: [number, number, number, number];
  /** Image drawn in the visible signature (e.g. the agency seal). */
  image?: { bytes: Uint8Array; kind: 'png' | 'jpeg' };
  /** Text of the visible signature; default: signer, organisation, time, reason, location. */
  appearanceLines?: Array<{ text: string; bold?: boolean }>;
  lock?: FieldLock;
  signingTime?: Date;
}

export interface SigningDeps {
  /** A Signer for a key label (the HSM token, or any other Signer source). */
  getSigner(label: string): Promise<Signer>;
  /** CA certificates used to complete the signer's chain in the CMS. */
  caPool: CertificatePool;
  /** RFC 3161 tokens for B-T and above (the built-in TSA or an external one). */
  timestamps?: TimestampSource;
  /** OCSP/CRL for B-LT and above, and the pre-signing revocation check. */
  revocation?: RevocationProvider;
}

export interface SignDocumentResult extends SignPdfResult {
  level: PadesLevel;
  key: string;
  /** The signature's signer and TSA certificates (a later DSS step need not parse its CMS for them). */
  signers: KnownSigners;
  /** The time of its signature-time-stamp token (B-T and above). */
  signatureTimestampAt?: Date;
}

/** Largest document whose intermediate signing stages are kept in memory (see signDocument). */
export const IN_MEMORY_STAGES_MAX = 32 * 1024 * 1024;

async function inputSize(input: DocumentInput): Promise<number> {
  return 'bytes' in input ? input.bytes.length : (await stat(input.path)).size;
}

/** Issuer certificates of `leaf` found in the pool, issuing CA first (the signer itself excluded). */
export function chainFor(leaf: Uint8Array, pool: CertificatePool): Uint8Array[] {
  return pool.buildChain(x509Certificate(leaf)).slice(1).map((c) => new Uint8Array(c.raw));
}

/**
 * Refuses to sign with a revoked certificate (checked before the HSM is asked). At B-LT and above
 * the answer is required (no source answering fails, retryable); below, it is checked when a source
 * answers.
 */
async function precheckRevocation(deps: SigningDeps, certificate: Uint8Array, level: PadesLevel): Promise<void> {
  if (!deps.revocation) {
    if (LEVEL_ORDER[level] >= LEVEL_ORDER['B-LT']) {
      throw new PadesError('revocation-not-configured', `level ${level} needs OCSP or CRL access, which is not configured`, { status: 503 });
    }
    return;
  }
  let m;
  try {
    m = await collectChainMaterial(x509Certificate(certificate), deps.revocation);
  } catch (err) {
    if (LEVEL_ORDER[level] >= LEVEL_ORDER['B-LT']) throw err;
    return;
  }
  if (m.revoked) {
    throw new PadesError(
      'certificate-revoked',
      `the certificate "${m.revoked.subject}" ${revokedPhrase(m.revoked)}; it cannot sign`,
      { status: 409, details: { reason: m.revoked.reason ?? null } },
    );
  }
}

/** The next stage's input: the file, or the bytes in memory with their digest state. */
export function nextInput(out: SignedOutput): DocumentInput {
  return out.path ? { path: out.path } : { bytes: out.bytes!, digest: out.digest };
}

/**
 * A key signs documents only when its certificate allows it (RFC 5280 §4.2.1.3, §4.2.1.12): a
 * keyUsage, when present, must have digitalSignature or nonRepudiation, and an extendedKeyUsage
 * limited to time-stamping or OCSP signing (the TSA's or a responder's key, whose purpose must stay
 * apart: EN 319 421 §7.2) is refused.
 */
function checkSigningPurpose(label: string, x509: X509Certificate): void {
  const usage = keyUsage(x509);
  if (usage !== undefined && !usage.has('digitalSignature') && !usage.has('nonRepudiation')) {
    throw new PadesError('certificate-not-for-signing', `the certificate of "${label}" does not allow signatures (keyUsage without digitalSignature or nonRepudiation)`, { status: 409 });
  }
  if (timestampOrOcspOnly(extendedKeyUsage(x509))) {
    throw new PadesError('certificate-not-for-signing', `the certificate of "${label}" is for time-stamping or OCSP responses only (extendedKeyUsage), not for signing documents`, { status: 409 });
  }
}

export async function signDocument(
  deps: SigningDeps,
  input: DocumentInput,
  output: DocumentOutput,
  params: SignDocumentParams,
): Promise<SignDocumentResult> {
  const level = params.level;
  const needsTs = LEVEL_ORDER[level] >= LEVEL_ORDER['B-T'];
  if (needsTs && !deps.timestamps) {
    throw new PadesError('timestamp-not-configured', `level ${level} needs a time-stamping authority, which is not configured`, { status: 503 });
  }
  const signer = await deps.getSigner(params.key);
  const certificate = signer.certificate;
  if (!certificate) {
    throw new PadesError('signer-certificate-missing', `the key "${params.key}" has no certificate next to it in the token`, { status: 409 });
  }
  const x509 = x509Certificate(certificate);
  const signingTime = params.signingTime ?? new Date();
  const validTo = new Date(x509.validTo);
  if (validTo.getTime() < signingTime.getTime() || new Date(x509.validFrom).getTime() > signingTime.getTime()) {
    throw new PadesError('certificate-expired', `the certificate of "${params.key}" is not valid now (valid ${x509.validFrom} to ${x509.validTo}); it cannot sign`, { status: 409 });
  }
  checkSigningPurpose(params.key, x509);
  await precheckRevocation(deps, certificate, level);

  // Each level builds on the previous one's output. Up to IN_MEMORY_STAGES_MAX the intermediate
  // revisions stay in memory (one growing buffer, the digest carried along) and only the finished
  // document is written; larger documents are staged in files next to the output, so a 200 MB scan
  // is never held whole.
  const lastStage = LEVEL_ORDER[level];
  const inMemory = 'memory' in output || (lastStage >= 2 && (await inputSize(input)) <= IN_MEMORY_STAGES_MAX);
  const stages: string[] = [];
  const stageOut = (n: number): DocumentOutput => {
    if (inMemory) return { memory: true };
    const p = `${output.path}.stage${n}`;
    stages.push(p);
    return { path: p };
  };
  try {
    const digestAlgorithm = params.digestAlgorithm ?? 'SHA-256';
    let issued: IssuedTimestamp | undefined;
    const signed = await signPdf(input, lastStage <= 1 ? output : stageOut(1), {
      signer,
      chain: chainFor(certificate, deps.caPool),
      digestAlgorithm,
      scheme: params.scheme,
      subFilter: params.subFilter,
      signingTime,
      reason: params.reason,
      location: params.location,
      contactInfo: params.contactInfo,
      certify: params.certify,
      extraReservedBytes: needsTs ? deps.timestamps!.tokenSizeEstimate : 0,
      beforeEmbed: needsTs ? signatureTimestamper(deps.timestamps!, digestAlgorithm, (t) => (issued = t)) : undefined,
      timestamped: needsTs,
      field: {
        fieldName: params.fieldName,
        page: params.page,
        rect: params.rect,
        lock: params.lock,
        // A new field is visible with a rectangle; an existing one (a named field) where its own
        // rectangle has an area. Invisible otherwise (nothing is drawn in a zero-area widget).
        appearance: params.rect || params.fieldName !== undefined
          ? {
              lines: params.appearanceLines ?? signatureAppearanceLines({ certificate, signingTime, reason: params.reason, location: params.location }),
              image: params.image,
              border: true,
            }
          : undefined,
      },
    });
    const signers: KnownSigners = {
      cms: signed.cms,
      signerCertificate: certificate,
      timestampSigners: issued ? [issued.tsaCertificate] : [],
      ...(issued?.certificates ? { carried: issued.certificates } : {}),
    };
    let current = nextInput(signed);
    let last: SignedOutput = { path: signed.path, bytes: signed.bytes, digest: signed.digest, length: signed.length };
    if (lastStage >= 2) {
      const lt = await addValidationData(current, lastStage === 2 ? output : stageOut(2), deps.revocation!, { only: signed.cms, known: [signers] });
      current = nextInput(lt);
      last = { path: lt.path, bytes: lt.bytes, digest: lt.digest, length: lt.length };
    }
    if (lastStage >= 3) {
      const lta = await addDocumentTimestamp(current, output, deps.timestamps!, digestAlgorithm);
      last = { path: lta.path, bytes: lta.bytes, digest: lta.digest, length: lta.length };
    }
    return { ...signed, ...last, level, key: params.key, signers, ...(issued ? { signatureTimestampAt: issued.genTime } : {}) };
  } finally {
    await Promise.all(stages.map((p) => rm(p, { force: true })));
  }
}

/**
 * PAdES baseline B-B (ETSI EN 319 142-1 §6.3, profile of EN 319 122-1): one approval or
 * certification signature, produced through the staged session with any Signer.
 */
import { createHash } from 'node:crypto';
import {
  assembleSignedData,
  buildSignedAttributes,
  digest as hashBytes,
  estimateSignedDataSize,
  type AttributeInput,
} from '../cms/index.ts';
import { PdfDocument } from '../pdf/index.ts';
import type { DigestAlgorithm, SignatureScheme, Signer } from '../signers/Signer.ts';
import { PadesError } from './errors.ts';
import { prepareSignature, type DocumentInput, type DocumentOutput, type SignedOutput } from './SigningSession.ts';
import type { DocMdpLevel, SignatureFieldOptions, SubFilter } from './signatureField.ts';

export interface SignPdfOptions {
  signer: Signer;
  /** Issuer certificates (DER) to embed after the signer's: issuing CA … root. */
  chain: readonly Uint8Array[];
  digestAlgorithm?: DigestAlgorithm;
  /** Default: PKCS#1 v1.5 for RSA keys, ECDSA for EC keys. */
  scheme?: SignatureScheme;
  subFilter?: Extract<SubFilter, 'ETSI.CAdES.detached' | 'adbe.pkcs7.detached'>;
  signingTime?: Date;
  reason?: string;
  location?: string;
  contactInfo?: string;
  certify?: DocMdpLevel;
  field?: SignatureFieldOptions;
  /** Bytes to reserve on top of the CMS for unsigned attributes added later (B-T timestamp). */
  extraReservedBytes?: number;
  /**
   * Called with the assembled CMS before embedding; returns the CMS to embed (e.g. with a
   * signature-time-stamp added for B-T).
   */
  beforeEmbed?: (cms: Uint8Array) => Promise<Uint8Array>;
  /** Whether `beforeEmbed` adds a signature-time-stamp: checked against an existing field's /TimeStamp seed value (undefined: not checked). */
  timestamped?: boolean;
  unsignedAttributes?: readonly AttributeInput[];
}

export interface SignPdfResult extends SignedOutput {
  fieldName: string;
  byteRange: readonly [number, number, number, number];
  cms: Uint8Array;
  signingTime: Date;
}

/**
 * The /Contents size depends only on the certificates, key, digest, scheme and profile, and measuring
 * it encodes a whole dummy CMS: remember it per combination (bounded).
 */
const estimateCache = new Map<string, number>();
function cachedEstimate(opts: Parameters<typeof estimateSignedDataSize>[0]): number {
  if (opts.unsignedAttributes?.length) return estimateSignedDataSize(opts);
  const h = createHash('sha256');
  h.update(opts.signerCertificate);
  for (const c of opts.chain) h.update(c);
  const key = `${h.digest('hex')}|${opts.keyType}|${opts.keyBits}|${opts.digestAlgorithm}|${opts.scheme}|${opts.profile}`;
  let size = estimateCache.get(key);
  if (size === undefined) {
    size = estimateSignedDataSize(opts);
    if (estimateCache.size >= 256) estimateCache.delete(estimateCache.keys().next().value!);
    estimateCache.set(key, size);
  }
  return size;
}

export function defaultScheme(signer: Signer): SignatureScheme {
  return signer.key.keyType === 'EC' ? 'ECDSA' : 'RSASSA-PKCS1-v1_5';
}

export async function signPdf(input: DocumentInput, output: DocumentOutput, opts: SignPdfOptions): Promise<SignPdfResult> {
  const signer = opts.signer;
  const cert = signer.certificate;
  if (!cert) throw new PadesError('signer-certificate-missing', `the key "${signer.key.label}" has no certificate next to it in the token`, { status: 409 });
  const digestAlgorithm = opts.digestAlgorithm ?? 'SHA-256';
  const scheme = opts.scheme ?? defaultScheme(signer);
  if ((scheme === 'ECDSA') !== (signer.key.keyType === 'EC')) {
    throw new PadesError('scheme-key-mismatch', `${scheme} cannot be used with a ${signer.key.keyType} key`, { status: 400 });
  }
  const subFilter = opts.subFilter ?? 'ETSI.CAdES.detached';
  const profile = subFilter === 'ETSI.CAdES.detached' ? 'cades' : 'pkcs7';
  const signingTime = opts.signingTime ?? new Date();
  // Reserve exactly what the real CMS needs (measured by encoding one), plus later timestamps.
  const reservedBytes =
    cachedEstimate({
      signerCertificate: cert,
      chain: opts.chain,
      keyType: signer.key.keyType,
      keyBits: signer.key.bits,
      digestAlgorithm,
      scheme,
      profile,
      unsignedAttributes: opts.unsignedAttributes,
    }) + (opts.extraReservedBytes ?? 0);

  const doc = PdfDocument.open('path' in input ? input.path : input.bytes);
  try {
    const prepared = await prepareSignature(doc, input, output, {
      digestAlgorithm,
      field: opts.field,
      signature: {
        subFilter,
        reservedBytes,
        signingTime,
        reason: opts.reason,
        location: opts.location,
        contactInfo: opts.contactInfo,
        certify: opts.certify,
        timestamped: opts.timestamped,
        signerChain: [cert, ...opts.chain],
      },
    });
    try {
      const attrs = buildSignedAttributes({
        contentDigest: prepared.digest,
        digestAlgorithm,
        signerCertificate: cert,
        profile,
        // adbe.pkcs7.detached may carry signing-time; PAdES (cades) must not (EN 319 142-1 §5.3).
        ...(profile === 'pkcs7' ? { signingTime } : {}),
      });
      const signatureValue = await signer.sign(hashBytes(digestAlgorithm, attrs.der), digestAlgorithm, scheme);
      let cms = assembleSignedData({
        signedAttributes: attrs,
        signatureValue,
        signerCertificate: cert,
        chain: opts.chain,
        digestAlgorithm,
        scheme,
        unsignedAttributes: opts.unsignedAttributes,
      });
      if (opts.beforeEmbed) cms = await opts.beforeEmbed(cms);
      const out = await prepared.embed(cms);
      return { ...out, fieldName: prepared.fieldName, byteRange: prepared.byteRange, cms, signingTime };
    } catch (err) {
      await prepared.abort();
      throw err;
    }
  } finally {
    doc.close();
  }
}

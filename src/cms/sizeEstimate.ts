/**
 * Size of the SignedData before it exists, so the PDF /Contents placeholder (ISO 32000-1 §12.8.1) can be
 * reserved tightly but never too small. Computed by assembling a SignedData with dummy values of the
 * maximal length, not from a formula, so it follows any change to the encoding.
 */
import type { DigestAlgorithm, KeyType, SignatureScheme } from '../signers/Signer.ts';
import { CmsError } from './CmsError.ts';
import { tlv } from './der.ts';
import { digestLength } from './digest.ts';
import { TAG } from './encode.ts';
import * as oid from './oids.ts';
import { buildSignedAttributes, type CmsProfile } from './signedAttributes.ts';
import { assembleSignedData, type AttributeInput } from './signedData.ts';

/** Slack on top of the measured size (covers a signing-time shorter/longer than the dummy, rounding). */
export const SIZE_MARGIN = 32;

export interface SignedDataSizeOptions {
  readonly signerCertificate: Uint8Array;
  readonly chain: readonly Uint8Array[];
  readonly keyType: KeyType;
  /** RSA modulus bits, or the EC field size (256, 384, 521). */
  readonly keyBits: number;
  /** Default SHA-512, the longest allowed digest. */
  readonly digestAlgorithm?: DigestAlgorithm;
  /** Default PKCS#1 v1.5 for RSA (PSS identifiers are longer: pass it when used), ECDSA for EC. */
  readonly scheme?: SignatureScheme;
  /** Default `cades`. With `pkcs7` room for a signing-time is included. */
  readonly profile?: CmsProfile;
  /** Bytes reserved for an RFC 3161 token added later as an unsigned attribute (B-T); 0/absent for none. */
  readonly withTimestampBytes?: number;
  /** Further unsigned attributes that will be embedded (measured as given). */
  readonly unsignedAttributes?: readonly AttributeInput[];
}

/** DER length in bytes of the final SignedData, plus SIZE_MARGIN. Double it for the hex /Contents string. */
export function estimateSignedDataSize(opts: SignedDataSizeOptions): number {
  const digestAlgorithm = opts.digestAlgorithm ?? 'SHA-512';
  const scheme = opts.scheme ?? (opts.keyType === 'EC' ? 'ECDSA' : 'RSASSA-PKCS1-v1_5');
  const profile = opts.profile ?? 'cades';
  const signedAttributes = buildSignedAttributes({
    contentDigest: new Uint8Array(digestLength(digestAlgorithm)),
    digestAlgorithm,
    signerCertificate: opts.signerCertificate,
    profile,
    // A year ≥ 2050 forces GeneralizedTime, the longer of the two Time encodings (RFC 5652 §11.3).
    ...(profile === 'pkcs7' ? { signingTime: new Date(Date.UTC(2099, 11, 31, 23, 59, 59)) } : {}),
  });
  const unsignedAttributes = [...(opts.unsignedAttributes ?? [])];
  if (opts.withTimestampBytes !== undefined && opts.withTimestampBytes > 0) {
    unsignedAttributes.push({ oid: oid.OID_SIGNATURE_TIME_STAMP_TOKEN, values: [filler(opts.withTimestampBytes)] });
  }
  const cms = assembleSignedData({
    signedAttributes,
    signatureValue: dummySignature(opts.keyType, opts.keyBits),
    signerCertificate: opts.signerCertificate,
    chain: opts.chain,
    digestAlgorithm,
    scheme,
    unsignedAttributes,
  });
  return cms.length + SIZE_MARGIN;
}

/**
 * Longest signature value for the key: RSA is always the modulus length (RFC 8017 §8.2.1); a DER
 * Ecdsa-Sig-Value (RFC 3279 §2.2.3) is longest when r and s both need a leading zero octet.
 */
function dummySignature(keyType: KeyType, keyBits: number): Uint8Array {
  if (!Number.isInteger(keyBits) || keyBits < 160 || keyBits > 16384) {
    throw new CmsError('cms-invalid-argument', `implausible key size ${keyBits}`);
  }
  const octets = Math.ceil(keyBits / 8);
  if (keyType === 'RSA') return new Uint8Array(octets).fill(0xff);
  const integer = tlv(TAG.INTEGER, [Uint8Array.of(0x00), new Uint8Array(octets).fill(0xff)]);
  return tlv(TAG.SEQUENCE, [integer, integer]);
}

/** A DER OCTET STRING whose total encoded length is exactly `total` octets (total ≥ 2). */
function filler(total: number): Uint8Array {
  for (let content = Math.max(0, total - 6); content <= total; content++) {
    const candidate = tlv(TAG.OCTET_STRING, [new Uint8Array(content)]);
    if (candidate.length === total) return candidate;
    if (candidate.length > total) break;
  }
  // Lengths around 128/256/… boundaries cannot always be hit exactly; one octet more is the safe side.
  return tlv(TAG.OCTET_STRING, [new Uint8Array(Math.max(0, total - 1))]);
}

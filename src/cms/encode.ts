/**
 * Primitive DER values and AlgorithmIdentifiers used when building SignedData. OIDs and INTEGERs go
 * through asn1js; structures are composed with `tlv` from der.ts.
 */
import * as asn1js from 'asn1js';
import type { DigestAlgorithm, SignatureScheme } from '../signers/Signer.ts';
import { CmsError } from './CmsError.ts';
import { tlv } from './der.ts';
import { digestLength, hashAlgorithmOid } from './digest.ts';
import * as oid from './oids.ts';

export const TAG = {
  INTEGER: 0x02,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  SEQUENCE: 0x30,
  SET: 0x31,
  CONTEXT_0: 0xa0,
  CONTEXT_1: 0xa1,
  CONTEXT_2: 0xa2,
  CONTEXT_4: 0xa4,
} as const;

export function encodeOid(value: string): Uint8Array {
  return new Uint8Array(new asn1js.ObjectIdentifier({ value }).toBER(false));
}

export function encodeSmallInteger(value: number): Uint8Array {
  return new Uint8Array(new asn1js.Integer({ value }).toBER(false));
}

export function encodeOctetString(value: Uint8Array): Uint8Array {
  return tlv(TAG.OCTET_STRING, [value]);
}

export const DER_NULL = Uint8Array.of(TAG.NULL, 0x00);

/**
 * RFC 5652 §11.3 Time: UTCTime for 1950–2049, GeneralizedTime otherwise; both in Zulu, to the second,
 * without fractional seconds (RFC 5280 §4.1.2.5 rules, which CMS follows).
 */
export function encodeTime(date: Date): Uint8Array {
  const year = date.getUTCFullYear();
  const rest = [date.getUTCMonth() + 1, date.getUTCDate(), date.getUTCHours(), date.getUTCMinutes(), date.getUTCSeconds()]
    .map((n) => String(n).padStart(2, '0'))
    .join('');
  const ascii = (text: string): Uint8Array => new TextEncoder().encode(text);
  if (year >= 1950 && year < 2050) {
    return tlv(TAG.UTC_TIME, [ascii(`${String(year % 100).padStart(2, '0')}${rest}Z`)]);
  }
  return tlv(TAG.GENERALIZED_TIME, [ascii(`${String(year).padStart(4, '0')}${rest}Z`)]);
}

/** RFC 5754 §2: SHA-2 AlgorithmIdentifiers in CMS are generated with absent parameters. */
export function digestAlgorithmIdentifier(alg: DigestAlgorithm): Uint8Array {
  return tlv(TAG.SEQUENCE, [encodeOid(hashAlgorithmOid(alg))]);
}

/** RFC 4055 §2.1: inside RSASSA-PSS-params the hash identifiers carry an explicit NULL (sha256Identifier …). */
function hashIdentifierWithNull(alg: DigestAlgorithm): Uint8Array {
  return tlv(TAG.SEQUENCE, [encodeOid(hashAlgorithmOid(alg)), DER_NULL]);
}

const ECDSA_OIDS: Readonly<Record<DigestAlgorithm, string>> = {
  'SHA-256': oid.OID_ECDSA_WITH_SHA256,
  'SHA-384': oid.OID_ECDSA_WITH_SHA384,
  'SHA-512': oid.OID_ECDSA_WITH_SHA512,
};

/**
 * SignerInfo.signatureAlgorithm for a new signature.
 * - PKCS#1 v1.5: rsaEncryption with NULL parameters (RFC 3370 §3.2), the form Acrobat and poppler expect.
 * - PSS: id-RSASSA-PSS with complete RSASSA-PSS-params (RFC 4055 §3.1): the hash, MGF1 over the same hash
 *   and saltLength = hash length, matching the Signer port; trailerField keeps its DEFAULT and is omitted.
 * - ECDSA: ecdsa-with-SHA256/384/512 with absent parameters (RFC 5758 §3.2).
 */
export function signatureAlgorithmIdentifier(scheme: SignatureScheme, alg: DigestAlgorithm): Uint8Array {
  switch (scheme) {
    case 'RSASSA-PKCS1-v1_5':
      return tlv(TAG.SEQUENCE, [encodeOid(oid.OID_RSA_ENCRYPTION), DER_NULL]);
    case 'RSASSA-PSS': {
      const hash = hashIdentifierWithNull(alg);
      const params = tlv(TAG.SEQUENCE, [
        tlv(TAG.CONTEXT_0, [hash]),
        tlv(TAG.CONTEXT_1, [tlv(TAG.SEQUENCE, [encodeOid(oid.OID_MGF1), hash])]),
        tlv(TAG.CONTEXT_2, [encodeSmallInteger(digestLength(alg))]),
      ]);
      return tlv(TAG.SEQUENCE, [encodeOid(oid.OID_RSASSA_PSS), params]);
    }
    case 'ECDSA':
      return tlv(TAG.SEQUENCE, [encodeOid(ECDSA_OIDS[alg])]);
    default:
      throw new CmsError('cms-unsupported-algorithm', `unsupported signature scheme ${String(scheme)}`);
  }
}

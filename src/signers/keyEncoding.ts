/**
 * Conversions between PKCS#11 key attributes and X.509 encodings: named-curve OIDs (CKA_EC_PARAMS),
 * EC points (CKA_EC_POINT), SubjectPublicKeyInfo (RFC 5280 §4.1.2.7), and the certificate fields a
 * CKO_CERTIFICATE object repeats (PKCS#11 v2.40 §4.6.3).
 */
import { createPublicKey } from 'node:crypto';
import * as asn1js from 'asn1js';
import type { NamedCurve } from './Signer.ts';
import { HsmError } from './errors.ts';

/** DER `namedCurve OBJECT IDENTIFIER` values of RFC 5480 §2.1.1.1, as stored in CKA_EC_PARAMS. */
export const CURVE_PARAMS: Readonly<Record<NamedCurve, Uint8Array>> = {
  'P-256': Uint8Array.from([0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07]),
  'P-384': Uint8Array.from([0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22]),
  'P-521': Uint8Array.from([0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23]),
};

export const CURVE_FIELD_BYTES: Readonly<Record<NamedCurve, number>> = { 'P-256': 32, 'P-384': 48, 'P-521': 66 };
export const CURVE_BITS: Readonly<Record<NamedCurve, number>> = { 'P-256': 256, 'P-384': 384, 'P-521': 521 };

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

export function curveFromParams(params: Uint8Array): NamedCurve | undefined {
  for (const [name, der] of Object.entries(CURVE_PARAMS) as [NamedCurve, Uint8Array][]) {
    if (equalBytes(der, params)) return name;
  }
  return undefined;
}

/**
 * CKA_EC_POINT is "DER-encoding of ANSI X9.62 ECPoint value Q" (PKCS#11 v2.40 §2.3.3), i.e. an OCTET
 * STRING around the uncompressed point; some modules return the bare point. Accept both, knowing the
 * expected size of the bare point for the curve.
 */
export function ecPointFromAttribute(value: Uint8Array, curve: NamedCurve): Uint8Array {
  const pointLength = 1 + 2 * CURVE_FIELD_BYTES[curve];
  if (value.length === pointLength && value[0] === 0x04) return value;
  const parsed = asn1js.fromBER(value);
  if (parsed.offset !== -1 && parsed.result instanceof asn1js.OctetString) {
    const inner = new Uint8Array(parsed.result.valueBlock.valueHexView);
    if (inner.length === pointLength && inner[0] === 0x04) return inner;
  }
  throw new HsmError('hsm-key-unsupported', `EC point of ${curve} key is neither a bare nor a DER-wrapped uncompressed point`);
}

const b64url = (b: Uint8Array): string => Buffer.from(b).toString('base64url');

/** Strip leading zero bytes of a big-endian unsigned integer (JWK wants the minimal form, RFC 7518 §6.3.1). */
function unsignedMinimal(b: Uint8Array): Uint8Array {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  return b.subarray(i);
}

export function rsaSpki(modulus: Uint8Array, publicExponent: Uint8Array): Uint8Array {
  const key = createPublicKey({
    key: { kty: 'RSA', n: b64url(unsignedMinimal(modulus)), e: b64url(unsignedMinimal(publicExponent)) },
    format: 'jwk',
  });
  return new Uint8Array(key.export({ type: 'spki', format: 'der' }));
}

export function ecSpki(point: Uint8Array, curve: NamedCurve): Uint8Array {
  const n = CURVE_FIELD_BYTES[curve];
  const key = createPublicKey({
    key: { kty: 'EC', crv: curve, x: b64url(point.subarray(1, 1 + n)), y: b64url(point.subarray(1 + n)) },
    format: 'jwk',
  });
  return new Uint8Array(key.export({ type: 'spki', format: 'der' }));
}

export interface CertificateFields {
  /** DER of tbsCertificate.subject, byte for byte (CKA_SUBJECT). */
  subject: Uint8Array;
  /** DER of tbsCertificate.issuer (CKA_ISSUER). */
  issuer: Uint8Array;
  /** DER of the serialNumber INTEGER, tag and length included (CKA_SERIAL_NUMBER). */
  serialNumber: Uint8Array;
  /** DER SubjectPublicKeyInfo. */
  spki: Uint8Array;
}

/**
 * Read the fields of RFC 5280 §4.1 `TBSCertificate` that a PKCS#11 certificate object repeats,
 * keeping the original bytes (re-encoding a Name could change its string types).
 */
export function certificateFields(der: Uint8Array): CertificateFields {
  const parsed = asn1js.fromBER(der);
  const bad = (): HsmError => new HsmError('hsm-failure', 'certificate is not a DER X.509 certificate');
  if (parsed.offset === -1 || !(parsed.result instanceof asn1js.Sequence)) throw bad();
  const tbs = parsed.result.valueBlock.value[0];
  if (!(tbs instanceof asn1js.Sequence)) throw bad();
  const fields = tbs.valueBlock.value;
  // version is `[0] EXPLICIT` and optional (absent means v1).
  const start = fields[0]?.idBlock.tagClass === 3 && fields[0].idBlock.tagNumber === 0 ? 1 : 0;
  const serial = fields[start];
  const issuer = fields[start + 2];
  const subject = fields[start + 4];
  const spki = fields[start + 5];
  if (!serial || !issuer || !subject || !spki) throw bad();
  const bytes = (b: asn1js.AsnType): Uint8Array => new Uint8Array(b.valueBeforeDecodeView);
  return { serialNumber: bytes(serial), issuer: bytes(issuer), subject: bytes(subject), spki: bytes(spki) };
}

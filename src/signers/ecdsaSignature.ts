/**
 * PKCS#11 CKM_ECDSA returns the signature as the raw concatenation r || s, each left-padded to the
 * size of the group order (PKCS#11 v2.40 §2.3.1). X.509 and CMS want the DER structure
 * `Ecdsa-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }` (RFC 3279 §2.2.3, RFC 5753 §7.2).
 */
import { HsmError } from './errors.ts';

/** Minimal DER INTEGER content for a non-negative big-endian magnitude (X.690 §8.3.2). */
function integerContent(magnitude: Uint8Array): Uint8Array {
  let i = 0;
  while (i < magnitude.length - 1 && magnitude[i] === 0) i++;
  const trimmed = magnitude.subarray(i);
  // A set high bit would read as negative: prefix one zero byte.
  if ((trimmed[0] ?? 0) & 0x80) {
    const out = new Uint8Array(trimmed.length + 1);
    out.set(trimmed, 1);
    return out;
  }
  return trimmed.length === 0 ? Uint8Array.of(0) : trimmed;
}

function derLength(n: number): number[] {
  if (n < 0x80) return [n];
  const bytes: number[] = [];
  for (let v = n; v > 0; v >>= 8) bytes.unshift(v & 0xff);
  return [0x80 | bytes.length, ...bytes];
}

function tlv(tag: number, content: Uint8Array): Uint8Array {
  const head = [tag, ...derLength(content.length)];
  const out = new Uint8Array(head.length + content.length);
  out.set(head, 0);
  out.set(content, head.length);
  return out;
}

export function ecdsaRawToDer(raw: Uint8Array): Uint8Array {
  if (raw.length === 0 || raw.length % 2 !== 0) {
    throw new HsmError('hsm-failure', `ECDSA signature from the token has odd length ${raw.length}`);
  }
  const half = raw.length / 2;
  const r = tlv(0x02, integerContent(raw.subarray(0, half)));
  const s = tlv(0x02, integerContent(raw.subarray(half)));
  const body = new Uint8Array(r.length + s.length);
  body.set(r, 0);
  body.set(s, r.length);
  return tlv(0x30, body);
}

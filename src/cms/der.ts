/**
 * Minimal DER tag-length-value reader/writer (ITU-T X.690). asn1js is used for the primitive values; this
 * module composes structures from exact byte slices so that parts we must not alter (a certificate's
 * issuer Name, signed attributes already signed) are copied byte for byte, never re-encoded.
 */
import { CmsError } from './CmsError.ts';

export interface Tlv {
  /** Identifier octet (single-byte tags only: every CMS tag we walk is < 31). */
  readonly tag: number;
  /** Offset of the identifier octet. */
  readonly start: number;
  /** Offset of the first content octet. */
  readonly contentStart: number;
  /** Offset just past the last content octet. */
  readonly end: number;
}

/** Reads one definite-length TLV at `offset` (X.690 §8.1.3). Indefinite lengths are refused: DER only. */
export function readTlv(buf: Uint8Array, offset: number, limit: number = buf.length): Tlv {
  if (offset + 2 > limit) throw malformed(offset, 'truncated header');
  const tag = buf[offset]!;
  if ((tag & 0x1f) === 0x1f) throw malformed(offset, 'multi-byte tag');
  const first = buf[offset + 1]!;
  let length: number;
  let contentStart: number;
  if (first < 0x80) {
    length = first;
    contentStart = offset + 2;
  } else {
    const count = first & 0x7f;
    if (count === 0) throw malformed(offset, 'indefinite length (BER) where DER is required');
    if (count > 4 || offset + 2 + count > limit) throw malformed(offset, 'bad length');
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + buf[offset + 2 + i]!;
    contentStart = offset + 2 + count;
  }
  const end = contentStart + length;
  if (end > limit) throw malformed(offset, 'length runs past the enclosing value');
  return { tag, start: offset, contentStart, end };
}

/** The TLVs directly contained in a constructed TLV. */
export function childrenOf(buf: Uint8Array, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  let pos = parent.contentStart;
  while (pos < parent.end) {
    const child = readTlv(buf, pos, parent.end);
    out.push(child);
    pos = child.end;
  }
  return out;
}

export function slice(buf: Uint8Array, tlv: Tlv): Uint8Array {
  return buf.slice(tlv.start, tlv.end);
}

export function contentOf(buf: Uint8Array, tlv: Tlv): Uint8Array {
  return buf.slice(tlv.contentStart, tlv.end);
}

/** X.690 §8.1.3.5: definite form, short form below 128, otherwise the minimal long form (DER §10.1). */
export function encodeLength(length: number): Uint8Array {
  if (length < 0x80) return Uint8Array.of(length);
  const bytes: number[] = [];
  for (let n = length; n > 0; n = Math.floor(n / 256)) bytes.unshift(n % 256);
  return Uint8Array.of(0x80 | bytes.length, ...bytes);
}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  const total = parts.reduce((sum, p) => sum + p.length, 0);
  const out = new Uint8Array(total);
  let pos = 0;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.length;
  }
  return out;
}

/** Encodes a TLV whose content is the concatenation of `parts`. */
export function tlv(tag: number, parts: readonly Uint8Array[]): Uint8Array {
  const content = concat(parts);
  return concat([Uint8Array.of(tag), encodeLength(content.length), content]);
}

/** Lexicographic comparison of octet strings, shorter-is-smaller when one is a prefix (X.690 §11.6). */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) return a[i]! - b[i]!;
  }
  return a.length - b.length;
}

/**
 * DER SET OF (X.690 §11.6): the encodings of the components appear in ascending order as octet strings.
 * `tag` is 0x31 for a universal SET or a context tag for an IMPLICIT SET OF (e.g. 0xa0 signedAttrs).
 */
export function setOf(tag: number, elements: readonly Uint8Array[]): Uint8Array {
  return tlv(tag, sortSetOf(elements));
}

export function sortSetOf(elements: readonly Uint8Array[]): Uint8Array[] {
  return [...elements].sort(compareBytes);
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && compareBytes(a, b) === 0;
}

/** Checks that `der` holds exactly one complete TLV (used to validate caller-supplied DER values). */
export function isSingleTlv(der: Uint8Array): boolean {
  try {
    return der.length > 0 && readTlv(der, 0).end === der.length;
  } catch {
    return false;
  }
}

function malformed(offset: number, what: string): CmsError {
  return new CmsError('cms-malformed', `DER error at offset ${offset}: ${what}`, { details: { offset } });
}

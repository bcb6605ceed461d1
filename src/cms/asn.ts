/**
 * Small typed helpers over asn1js for reading CMS produced by anyone (BER allowed, RFC 5652 §1.2:
 * "the ... encoding ... may be BER"). Every accessor throws CmsError('cms-malformed') on a shape mismatch.
 */
import * as asn1js from 'asn1js';
import { CmsError } from './CmsError.ts';

export type Block = asn1js.AsnType;

export const CLASS_UNIVERSAL = 1;
export const CLASS_CONTEXT = 3;

export function decode(der: Uint8Array, what: string): { block: Block; end: number } {
  const view = der.byteOffset === 0 && der.byteLength === der.buffer.byteLength ? der : der.slice();
  const parsed = asn1js.fromBER(view);
  if (parsed.offset === -1 || parsed.result.error !== '') {
    throw new CmsError('cms-malformed', `${what}: ${parsed.result.error || 'cannot decode'}`);
  }
  return { block: parsed.result, end: parsed.offset };
}

function id(block: Block): { tagClass: number; tagNumber: number } {
  return (block as asn1js.BaseBlock).idBlock;
}

export function isUniversal(block: Block | undefined, tagNumber: number): boolean {
  return block !== undefined && id(block).tagClass === CLASS_UNIVERSAL && id(block).tagNumber === tagNumber;
}

export function isContext(block: Block | undefined, tagNumber: number): boolean {
  return block !== undefined && id(block).tagClass === CLASS_CONTEXT && id(block).tagNumber === tagNumber;
}

export const UNIVERSAL = { INTEGER: 2, OCTET_STRING: 4, OID: 6, SEQUENCE: 16, SET: 17 } as const;

export function children(block: Block | undefined, what: string): Block[] {
  if (block instanceof asn1js.Constructed || block instanceof asn1js.Sequence || block instanceof asn1js.Set) {
    return block.valueBlock.value;
  }
  const value = (block as { valueBlock?: { value?: unknown } } | undefined)?.valueBlock?.value;
  if (Array.isArray(value)) return value as Block[];
  throw new CmsError('cms-malformed', `${what}: expected a constructed value`);
}

/** The octets the block was decoded from (tag, length and content). */
export function raw(block: Block): Uint8Array {
  return Uint8Array.from((block as asn1js.BaseBlock).valueBeforeDecodeView);
}

export function oidOf(block: Block | undefined, what: string): string {
  if (block instanceof asn1js.ObjectIdentifier) return block.valueBlock.toString();
  throw new CmsError('cms-malformed', `${what}: expected an OBJECT IDENTIFIER`);
}

/** OCTET STRING contents (constructed BER form concatenated), or a context-tagged primitive's contents. */
export function octetsOf(block: Block | undefined, what: string): Uint8Array {
  if (block instanceof asn1js.OctetString) return new Uint8Array(block.getValue());
  if (block instanceof asn1js.Primitive && id(block).tagClass === CLASS_CONTEXT) {
    return Uint8Array.from(block.valueBlock.valueHexView);
  }
  throw new CmsError('cms-malformed', `${what}: expected an OCTET STRING`);
}

export function integerOf(block: Block | undefined, what: string): number {
  if (block instanceof asn1js.Integer) return block.valueBlock.valueDec;
  throw new CmsError('cms-malformed', `${what}: expected an INTEGER`);
}

/** INTEGER value octets without redundant leading zero octets (for serial-number comparison). */
export function integerBytesOf(block: Block | undefined, what: string): Uint8Array {
  if (!(block instanceof asn1js.Integer)) throw new CmsError('cms-malformed', `${what}: expected an INTEGER`);
  const value = block.valueBlock.valueHexView;
  let i = 0;
  while (i < value.length - 1 && value[i] === 0) i++;
  return Uint8Array.from(value.subarray(i));
}

export function timeOf(block: Block | undefined, what: string): Date {
  if (block instanceof asn1js.UTCTime || block instanceof asn1js.GeneralizedTime) return block.toDate();
  throw new CmsError('cms-malformed', `${what}: expected UTCTime or GeneralizedTime`);
}

/** Public API of the PDF layer: reading revisions, the incremental writer, signature placeholders. */
export { type ByteSource, BufferSource, FileSource } from './ByteSource.ts';
export { PdfError, type PdfErrorCode, isPdfError } from './PdfError.ts';
export {
  PdfName,
  PdfReal,
  PdfString,
  PdfRef,
  PdfDict,
  PdfStream,
  PdfContentsHole,
  PdfByteRangeHole,
  type PdfValue,
  type PdfArray,
  type PdfPlaceholder,
  type StreamLocation,
  numberValue,
  dictOf,
  isDict,
  name,
  decodeTextString,
  encodeTextString,
} from './objects.ts';
export { Lexer, type Token } from './Lexer.ts';
export { parseValue, parseIndirectObject, type ParserLimits, DEFAULT_PARSER_LIMITS } from './parser.ts';
export { serialize, serializeName, formatReal, formatNumber, byteRangeText } from './serialize.ts';
export { decodeStream, decodeStreamFully, type DecodeResult } from './filters.ts';
export { type XrefEntry, findStartXref } from './xref.ts';
export { PdfDocument, type OpenOptions, type Revision } from './PdfDocument.ts';
export type { PageInfo } from './pageTree.ts';
export type { SignatureField, SignatureWidget } from './signatureFields.ts';
export {
  IncrementalUpdate,
  type BuildOptions,
  type BuildResult,
  type SignaturePlaceholder,
  fillByteRange,
  contentsHexFor,
  writeContents,
} from './IncrementalUpdate.ts';
export { allowGrowth, extendInPlace, growthRoom } from './growable.ts';

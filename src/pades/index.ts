export { PadesError } from './errors.ts';
export { pdfDate, parsePdfDate } from './pdfDate.ts';
export {
  placeSignature,
  docMdpPermission,
  type DocMdpLevel,
  type FieldLock,
  type PlacedSignature,
  type SignatureDictionaryOptions,
  type SignatureFieldOptions,
  type SubFilter,
} from './signatureField.ts';
export {
  prepareSignature,
  type DocumentInput,
  type DocumentOutput,
  type PrepareOptions,
  type PreparedSignature,
  type SignedOutput,
} from './SigningSession.ts';
export { signPdf, defaultScheme, type SignPdfOptions, type SignPdfResult } from './signPdf.ts';
export { signatureAppearanceLines, subjectAttribute, type AppearanceTextInput } from './appearanceText.ts';

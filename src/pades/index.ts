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
  type RunningDigest,
  type SignedOutput,
} from './SigningSession.ts';
export { signPdf, defaultScheme, type SignPdfOptions, type SignPdfResult } from './signPdf.ts';
export { signatureAppearanceLines, subjectAttribute, type AppearanceTextInput } from './appearanceText.ts';
export { addToDss, vriKey, type ValidationMaterial, type VriEntry } from './dss.ts';
export { appendUpdate } from './SigningSession.ts';
export {
  LEVEL_ORDER,
  MAX_SIGNATURES,
  addDocumentTimestamp,
  addValidationData,
  collectChainMaterial,
  collectSignatureMaterial,
  derLength,
  revokedPhrase,
  signatureTimestamper,
  type IssuedTimestamp,
  type KnownSigners,
  type PadesLevel,
  type RevocationMaterial,
  type RevocationProvider,
  type RevokedCertificate,
  type TimestampSource,
} from './ltv.ts';

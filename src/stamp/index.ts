/** Public API of the stamp layer: scan intake and the certification stamp. */
export { StampError, isStampError, type StampErrorCode } from './errors.ts';
export { normalizeScan, buildScanDocument, checkScanBytes, DEFAULT_SCAN_LIMITS, type ScanFile, type ScanLimits, type NormalizedScan, type ScanDocument, type IntakeOptions } from './intake.ts';
export { DEFAULT_SCAN_DPI } from './resolution.ts';
export { sniffFormat, type ScanFormat } from './sniff.ts';
export { stampCopy, type StampedCopy, type SignaturePlace } from './stampCopy.ts';
export type { PdfRect } from './pageBand.ts';
export {
  renderStampText,
  DEFAULT_STAMP_TEMPLATE,
  DEFAULT_STAMP_LAYOUT,
  PLACEHOLDERS,
  MANDATORY_PLACEHOLDERS,
  checkStampTemplate,
  parseStampTemplate,
  type StampSpec,
  type StampTemplate,
  type StampLayoutOptions,
  type StampLines,
  type StampText,
} from './template.ts';
export { qrMatrix, QR_QUIET_ZONE, type QrMatrix } from './qr.ts';

export {
  buildSignatureAppearance,
  type SignatureAppearance,
  type SignatureAppearanceSpec,
} from './buildSignatureAppearance.ts';
export { formatVietnameseDateTime } from './datetime.ts';
export { AppearanceInputError, AppearanceResourceError, type AppearanceErrorCode } from './errors.ts';
export { DEFAULT_BOLD_FONT_PATH, DEFAULT_FONT_PATH, missingCharacters, textWidth } from './fonts.ts';
export type { ImageSpec } from './images.ts';
export { DEFAULT_FONT_SIZE, layoutText, wrapParagraph, type Box, type MeasureText, type PlacedLine, type TextLineSpec } from './layout.ts';
export type { EmittedObject } from './serialize.ts';

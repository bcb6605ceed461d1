import { InputError, type AppErrorOptions } from '../errors.ts';

/**
 * Stable codes of the PDF layer. All are input problems (HTTP 422): the caller sent a file we cannot
 * or will not process.
 */
export type PdfErrorCode =
  | 'pdf-not-a-pdf'
  | 'pdf-malformed'
  | 'pdf-encrypted'
  | 'pdf-unsupported'
  | 'pdf-limit-exceeded'
  | 'pdf-placeholder-too-small';

export class PdfError extends InputError {
  declare readonly code: PdfErrorCode;

  constructor(code: PdfErrorCode, message: string, options: AppErrorOptions = {}) {
    super(code, message, options);
  }
}

/** True for errors raised by this layer; everything else escaping the parser is a bug. */
export function isPdfError(e: unknown): e is PdfError {
  return e instanceof PdfError;
}

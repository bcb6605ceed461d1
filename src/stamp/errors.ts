import { InputError, type AppErrorOptions } from '../errors.ts';

/**
 * Stable codes of the stamp layer. `scan-*` are refusals of the officer's scan at intake; `stamp-*`
 * are refusals of the stamp specification or template. All are input errors (HTTP 422 by default,
 * 413 for the size/page/pixel limits) the caller can fix; none is retryable.
 */
export type StampErrorCode =
  | 'scan-empty'
  | 'scan-too-large'
  | 'scan-too-many-pages'
  | 'scan-too-many-pixels'
  | 'scan-too-many-annotations'
  | 'scan-unsupported-type'
  | 'scan-corrupt'
  | 'scan-encrypted'
  | 'stamp-invalid-spec'
  | 'stamp-invalid-template'
  | 'stamp-glyph-missing'
  | 'stamp-invalid-pdf';

export class StampError extends InputError {
  declare readonly code: StampErrorCode;

  constructor(code: StampErrorCode, message: string, options: AppErrorOptions = {}) {
    const limit = code === 'scan-too-large' || code === 'scan-too-many-pages' || code === 'scan-too-many-pixels' || code === 'scan-too-many-annotations';
    super(code, message, { ...(limit ? { status: 413 } : {}), ...options });
  }
}

export function isStampError(err: unknown, code?: StampErrorCode): err is StampError {
  return err instanceof StampError && (code === undefined || err.code === code);
}

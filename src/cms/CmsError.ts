import { AppError, type AppErrorOptions } from '../errors.ts';

/**
 * Stable codes of the CMS layer:
 * - `cms-malformed`: the input is not the DER/BER structure it claims to be.
 * - `cms-unsupported-algorithm`: an algorithm this layer does not implement or refuses (e.g. SHA-1 for new signatures).
 * - `cms-unsupported-content`: a well-formed CMS that is not what was asked for (not SignedData, no SignerInfo).
 * - `cms-invalid-argument`: the caller passed inconsistent inputs (digest length, key vs scheme, …).
 */
export type CmsErrorCode =
  | 'cms-malformed'
  | 'cms-unsupported-algorithm'
  | 'cms-unsupported-content'
  | 'cms-invalid-argument';

export class CmsError extends AppError {
  declare readonly code: CmsErrorCode;

  constructor(code: CmsErrorCode, message: string, options: AppErrorOptions = {}) {
    // Malformed or unsupported input comes from a document or a caller: 422, not a server fault.
    super(code, message, { status: code === 'cms-invalid-argument' ? 500 : 422, ...options });
  }
}

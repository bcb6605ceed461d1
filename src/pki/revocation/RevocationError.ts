import { AppError, type AppErrorOptions } from '../../errors.ts';

/**
 * Stable codes of revocation checking (a revoked certificate is NOT an error: it is a status):
 * - `revocation-unavailable` (503, retryable): no source (OCSP nor CRL) gave a usable answer.
 * - `revocation-fetch-failed` (503, retryable unless too large): one source did not answer — network
 *   error, timeout, HTTP error status, OCSP tryLater/internalError, or a body over the size bound.
 * - `revocation-response-invalid` (502): an answer that must not be trusted — malformed, bad signature,
 *   unauthorised responder, CertID or nonce mismatch, not yet valid or stale, wrong CRL issuer or scope.
 * - `revocation-no-source` (422): neither the certificate (AIA / CRLDP) nor the configuration names a URL.
 * - `revocation-invalid-input` (422): the "issuer" given did not issue the certificate.
 */
export type RevocationErrorCode =
  | 'revocation-unavailable'
  | 'revocation-fetch-failed'
  | 'revocation-response-invalid'
  | 'revocation-no-source'
  | 'revocation-invalid-input';

/** Why a single fetch failed or an answer was refused; carried in `details.reason`. */
export type RevocationFailureReason =
  | 'timeout'
  | 'network'
  | 'aborted'
  | 'http-status'
  | 'too-large'
  | 'unsupported-url'
  | 'try-later'
  | 'responder-error'
  | 'malformed'
  | 'status'
  | 'unsupported'
  | 'signature'
  | 'unauthorized-responder'
  | 'cert-id'
  | 'nonce'
  | 'not-yet-valid'
  | 'stale'
  | 'issuer-mismatch'
  | 'scope'
  | 'unauthorized-issuer';

const STATUS: Readonly<Record<RevocationErrorCode, number>> = {
  'revocation-unavailable': 503,
  'revocation-fetch-failed': 503,
  'revocation-response-invalid': 502,
  'revocation-no-source': 422,
  'revocation-invalid-input': 422,
};

export class RevocationError extends AppError {
  declare readonly code: RevocationErrorCode;

  constructor(code: RevocationErrorCode, message: string, options: AppErrorOptions = {}) {
    super(code, message, {
      status: STATUS[code],
      retryable: code === 'revocation-unavailable' || (code === 'revocation-fetch-failed' && options.details?.reason !== 'too-large'),
      ...options,
    });
  }

  /** `details.reason`, when the error concerns one fetch or one answer. */
  get reason(): RevocationFailureReason | undefined {
    return this.details?.reason as RevocationFailureReason | undefined;
  }
}

export function fetchFailed(url: string, reason: RevocationFailureReason, message: string, extra: Record<string, unknown> = {}, cause?: unknown): RevocationError {
  return new RevocationError('revocation-fetch-failed', `${url}: ${message}`, { details: { url, reason, ...extra }, cause });
}

export function invalidAnswer(url: string, reason: RevocationFailureReason, message: string, cause?: unknown): RevocationError {
  return new RevocationError('revocation-response-invalid', `${url}: ${message}`, { details: { url, reason }, cause });
}

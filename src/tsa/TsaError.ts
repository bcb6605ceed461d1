import { AppError, type AppErrorOptions } from '../errors.ts';

/**
 * Stable codes of the time-stamping layer (client side):
 * - `tsa-unreachable`: network error or 5xx after the retries; try again later (503, retryable).
 * - `tsa-timeout`: the TSA did not answer within the time budget (504, retryable).
 * - `tsa-rejected`: the TSA answered with a PKIStatus other than granted/grantedWithMods, or a 4xx
 *   (502: the upstream refused, details carry its status text and failInfo).
 * - `tsa-invalid-response`: the answer is not a usable token: wrong content type, malformed DER, nonce or
 *   imprint mismatch, bad signature, certificate without the timeStamping EKU (502).
 * - `tsa-misconfigured`: the built-in TSA was given a certificate or key it must not use (500).
 * - `tsa-unavailable`: the built-in TSA cannot issue now (serial storage or HSM failure; 503, retryable).
 */
export type TsaErrorCode = 'tsa-unreachable' | 'tsa-timeout' | 'tsa-rejected' | 'tsa-invalid-response' | 'tsa-misconfigured'
  | 'tsa-unavailable' | 'tsa-certificate-not-valid';

const DEFAULTS: Readonly<Record<TsaErrorCode, { status: number; retryable: boolean }>> = {
  'tsa-unreachable': { status: 503, retryable: true },
  'tsa-timeout': { status: 504, retryable: true },
  'tsa-rejected': { status: 502, retryable: false },
  'tsa-invalid-response': { status: 502, retryable: false },
  'tsa-misconfigured': { status: 500, retryable: false },
  'tsa-unavailable': { status: 503, retryable: true },
  'tsa-certificate-not-valid': { status: 503, retryable: false },
};

export class TsaError extends AppError {
  declare readonly code: TsaErrorCode;

  constructor(code: TsaErrorCode, message: string, options: AppErrorOptions = {}) {
    super(code, message, { ...DEFAULTS[code], ...options });
  }
}

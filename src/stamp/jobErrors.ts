/**
 * Errors of intake jobs run away from the service's event loop (the TIFF worker threads, the scan
 * reader's child process): what a job refused crosses back as plain fields and is made into the same
 * error here. A refusal keeps its StampError code, and so its status and message; a limit the job's
 * own checks reached is `scan-decoder-failed` (422); anything else is a fault of the decoder (500).
 */
import { AppError } from '../errors.ts';
import { StampError, type StampErrorCode } from './errors.ts';

export interface JobErrorFields {
  code?: StampErrorCode;
  message: string;
  details?: Record<string, unknown>;
  cause?: string;
  /** Set by JobLimitError: the job refused the scan at one of its own limits. */
  limit?: true;
}

/** A job's own limit refused the scan (its message is complete and names the scan). */
export class JobLimitError extends Error {}

export function jobErrorFields(err: unknown): JobErrorFields {
  if (err instanceof StampError) {
    return {
      code: err.code,
      message: err.message,
      ...(err.details ? { details: err.details } : {}),
      ...(err.cause !== undefined ? { cause: err.cause instanceof Error ? err.cause.message : String(err.cause) } : {}),
    };
  }
  if (err instanceof JobLimitError) return { message: err.message, limit: true };
  return { message: err instanceof Error ? `${err.name}: ${err.message}` : String(err) };
}

/** `decoder` names what ran the job in the messages ("TIFF decoder", "scan reader"). */
export function jobError(e: JobErrorFields, label: string, decoder: string): AppError {
  const cause = e.cause === undefined ? undefined : new Error(e.cause);
  if (e.code) return new StampError(e.code, e.message, { ...(e.details ? { details: e.details } : {}), ...(cause ? { cause } : {}) });
  if (e.limit) return new AppError('scan-decoder-failed', e.message, { status: 422 });
  return new AppError('scan-decoder-failed', `${label}: the ${decoder} failed: ${e.message}`, { status: 500 });
}

/**
 * A job whose thread or process was lost. 422 when the limits were reached (the time, the heap): the
 * same file would reach them again, so it is the file, as with validation-timeout; 500 otherwise.
 */
export function lostJobError(label: string, decoder: string, reason: string, status: 422 | 500): AppError {
  return new AppError('scan-decoder-failed', `${label}: the ${decoder} ${reason}; the scan was not taken`, { status });
}

/**
 * The caller's signal was aborted (the HTTP request whose scan it is went away) before the job reached
 * a runner: nobody would read the answer, so it is not decoded. 400, as `upload-aborted`: nothing
 * reaches the client, the code is for the log and the audit row.
 */
export function abortedJobError(label: string, decoder: string): AppError {
  return new AppError('request-aborted', `${label}: the request went away before the ${decoder} took it; not decoded`, { status: 400 });
}

/**
 * Error base type shared by every layer. Each layer defines its own subclasses with stable codes;
 * the HTTP edge maps them to RFC 9457 problem+json in one place (src/http/problem.ts) and the CLI to
 * exit codes. Messages are built from the arguments and never contain secrets (PINs, keys).
 */
export interface AppErrorOptions {
  /** HTTP status the edge should use; 500 when absent. */
  status?: number;
  /** True when the same request may succeed later (HSM busy, responder down). */
  retryable?: boolean;
  /** Extra, non-secret, machine-readable members added to the problem document. */
  details?: Record<string, unknown>;
  cause?: unknown;
}

export class AppError extends Error {
  /** Stable, documented identifier, e.g. `hsm-pin-incorrect`; never changes once published. */
  readonly code: string;
  readonly status: number;
  readonly retryable: boolean;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: string, message: string, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.status = options.status ?? 500;
    this.retryable = options.retryable ?? false;
    this.details = options.details;
  }
}

/** Input that the caller must fix (bad parameters, unsupported file). */
export class InputError extends AppError {
  constructor(code: string, message: string, options: AppErrorOptions = {}) {
    super(code, message, { status: 422, ...options });
  }
}

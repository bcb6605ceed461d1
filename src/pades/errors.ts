import { AppError, type AppErrorOptions } from '../errors.ts';

/** Signing refused or failed for a reason of the document or the request (not the HSM or the PDF parser). */
export class PadesError extends AppError {
  constructor(code: string, message: string, options: AppErrorOptions = {}) {
    super(code, message, { status: 422, ...options });
  }
}

import { AppError, type AppErrorOptions } from '../errors.ts';

export class PkiError extends AppError {
  constructor(code: string, message: string, options: AppErrorOptions = {}) {
    super(code, message, { status: 422, ...options });
  }
}

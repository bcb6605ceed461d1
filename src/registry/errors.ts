import { AppError, type AppErrorOptions } from '../errors.ts';

/** Storage failures: the database cannot be opened, migrated or written. */
export class RegistryError extends AppError {
  constructor(code: string, message: string, options: AppErrorOptions = {}) {
    super(code, message, { status: 503, ...options });
  }
}

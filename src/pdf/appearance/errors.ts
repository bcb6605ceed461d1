import { AppError, InputError, type AppErrorOptions } from '../../errors.ts';

/**
 * The caller asked for an appearance we cannot draw faithfully: a character the font has no glyph
 * for, text that does not fit the widget even at the smallest legible size, an unreadable image.
 * These are input problems (422), never retryable.
 */
export class AppearanceInputError extends InputError {
  constructor(code: AppearanceErrorCode, message: string, options: AppErrorOptions = {}) {
    super(code, message, options);
  }
}

/** A font or image file that the service itself is configured with could not be loaded (500). */
export class AppearanceResourceError extends AppError {
  constructor(message: string, options: AppErrorOptions = {}) {
    super('appearance-resource-unavailable', message, options);
  }
}

export type AppearanceErrorCode =
  | 'appearance-glyph-missing'
  | 'appearance-text-does-not-fit'
  | 'appearance-invalid-box'
  | 'appearance-invalid-image';

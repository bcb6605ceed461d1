/** Request parameters given as a `parameters` JSON field and/or individual fields. */
import { HttpError } from './problem.ts';

/** Merges a `parameters` JSON string with individual fields (individual fields win). */
export function collectParams(fields: Record<string, string>): Record<string, unknown> {
  const { parameters, ...rest } = fields;
  let base: Record<string, unknown> = {};
  if (parameters !== undefined) {
    try {
      const parsed: unknown = JSON.parse(parameters);
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
      base = parsed as Record<string, unknown>;
    } catch (cause) {
      throw new HttpError('invalid-parameters', 'the "parameters" field must be a JSON object', { status: 400, cause });
    }
  }
  return { ...base, ...rest };
}

/** Building blocks of the operation catalogue's OpenAPI descriptions, shared by every route family. */
import { z } from 'zod';
import type { ApiScope } from '../registry/index.ts';

/** `public`: anyone; `authenticated`: any officer session or API key; a scope: callers holding it. */
export type Access = 'public' | 'authenticated' | ApiScope;

/** A media type → JSON Schema (OpenAPI 3.1 Schema Object = JSON Schema 2020-12). */
export type Content = Record<string, { schema: Record<string, unknown> }>;

/** The JSON Schema of what a zod schema accepts (its input side), without the `$schema` keyword. */
export function inputJsonSchema(schema: z.ZodType): { properties?: Record<string, unknown>; required?: string[]; [k: string]: unknown } {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return rest;
}

/** A required JSON request body validated by `schema`. */
export function jsonBody(schema: z.ZodType): { required: true; content: Content } {
  return { required: true, content: { 'application/json': { schema: inputJsonSchema(schema) } } };
}

export interface Operation {
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** OpenAPI path template, e.g. `/v/{code}`. */
  readonly path: string;
  readonly operationId: string;
  readonly tag: string;
  readonly summary: string;
  readonly description?: string;
  readonly access: Access;
  /** Write an audit row for every call. */
  readonly audit: boolean;
  /**
   * The call commits an act someone is told about at once, on disk before it returns (registry
   * `durably`): its audit row, when the call succeeds, is made durable the same way.
   */
  readonly durableAct?: boolean;
  /** Accepts `Idempotency-Key` (POSTs that create something). */
  readonly idempotent?: boolean;
  /** Query parameters (for uploads sent as a raw body, also the multipart fields). */
  readonly query?: z.ZodObject;
  readonly pathParams?: z.ZodObject;
  readonly requestBody?: { required: boolean; content: Content; description?: string };
  /** Success and notable responses; problem responses for the access checks are added by the generator. */
  readonly responses: Record<string, { description: string; content?: Content }>;
}

export const binary = { type: 'string', contentMediaType: 'application/octet-stream' };
export const pdf = { 'application/pdf': { schema: { type: 'string', contentMediaType: 'application/pdf' } } };
export const html = { 'text/html': { schema: { type: 'string' } } };
export const json = (description: string) => ({ 'application/json': { schema: { type: 'object', description } } });

/** A multipart/form-data body of these parts (`required` names the mandatory ones). */
export function multipart(required: string[], properties: Record<string, unknown>): Content {
  return { 'multipart/form-data': { schema: { type: 'object', required, properties } } };
}

/** Multipart variant of a parameters schema: the PDF, an optional image, the parameters as fields. */
export function uploadBody(params: z.ZodObject, image: boolean): { required: true; content: Content } {
  const fields = inputJsonSchema(params);
  return {
    required: true,
    content: {
      ...multipart(['file'], {
        file: { ...binary, contentMediaType: 'application/pdf', description: 'the PDF' },
        ...(image ? { image: { ...binary, description: 'PNG or JPEG drawn in a visible signature (at most 2 MB)' } } : {}),
        parameters: { type: 'string', description: 'the parameters as one JSON object (individual fields win)' },
        ...fields.properties,
      }),
      'application/pdf': { schema: { type: 'string', contentMediaType: 'application/pdf', description: 'the PDF as the body; parameters in the query string' } },
    },
  };
}


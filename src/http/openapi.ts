/**
 * The OpenAPI 3.1 document, generated from the operations catalogue and the zod schemas the routes
 * validate with (zod 4 `z.toJSONSchema`, JSON Schema 2020-12 — the dialect of OpenAPI 3.1 §4.8.24).
 */
import { z } from 'zod';
import { API_SCOPES, ROLE_SCOPES } from '../registry/index.ts';
import { inputJsonSchema } from './operationParts.ts';
import { OPERATIONS, type Operation } from './operations.ts';
import { PROBLEM_CONTENT_TYPE } from './problem.ts';
import { SESSION_COOKIE, sessionCookieName } from './access/sessionCookie.ts';

type Json = Record<string, unknown>;

/** RFC 9457 problem details with our extensions. */
const problemSchema = z
  .object({
    type: z.string().describe('urn:chungthuc:problem:<code>'),
    title: z.string(),
    status: z.number().int(),
    detail: z.string().optional(),
    instance: z.string().optional(),
    code: z.string().describe('stable machine-readable code'),
    requestId: z.string().optional(),
    retryable: z.boolean().optional(),
  })
  .catchall(z.unknown());

const problem = (description: string) => ({ description, content: { [PROBLEM_CONTENT_TYPE]: { schema: { $ref: '#/components/schemas/Problem' } } } });

function parameters(op: Operation): Json[] {
  const out: Json[] = [];
  const add = (where: 'query' | 'path', schema: z.ZodObject | undefined) => {
    if (!schema) return;
    const js = inputJsonSchema(schema) as { properties?: Record<string, Json>; required?: string[] };
    for (const [name, prop] of Object.entries(js.properties ?? {})) {
      const { description, ...s } = prop;
      out.push({
        name,
        in: where,
        required: where === 'path' || (js.required ?? []).includes(name) ? true : undefined,
        ...(description ? { description } : {}),
        schema: s,
        // Lists (rect, lockFields) are comma-separated in the query string: OpenAPI §4.8.12.4 form, explode false.
        ...(s.type === 'array' ? { style: 'form', explode: false } : {}),
      });
    }
  };
  add('path', op.pathParams);
  add('query', op.query);
  if (op.idempotent) {
    out.push({
      name: 'Idempotency-Key',
      in: 'header',
      description: 'retry-safe creation: the same key with the same request replays the first response; with a different request → 422',
      schema: { type: 'string', minLength: 1, maxLength: 255 },
    });
  }
  return out.map((p) => Object.fromEntries(Object.entries(p).filter(([, v]) => v !== undefined)));
}

/** An API key with the scope, or an officer session whose role grants it (OpenAPI §4.8.30: alternatives). */
function security(op: Operation): Json[] {
  if (op.access === 'public') return [];
  if (op.access === 'authenticated') return [{ apiKey: [] }, { session: [] }];
  const scope = op.access;
  const byRole = Object.values(ROLE_SCOPES).some((s) => s.includes(scope));
  return byRole ? [{ apiKey: [scope] }, { session: [scope] }] : [{ apiKey: [scope] }];
}

function operationObject(op: Operation): Json {
  const responses: Json = { ...op.responses };
  if (op.access !== 'public') {
    responses['401'] = problem('unauthenticated: no, malformed, unknown or revoked API key or session (WWW-Authenticate: Bearer)');
    responses['403'] = problem(`forbidden-scope (the key or role lacks "${op.access}"), forbidden-address (outside the key's CIDRs) or csrf-failed (session without X-CSRF-Token)`);
    responses['429'] = problem('too-many-requests: too many failed authentications from this address (Retry-After)');
  }
  if (op.idempotent) {
    responses['409'] = problem('idempotency-key-in-progress');
    responses['422'] = problem('idempotency-key-reused, or input that cannot be processed');
  }
  if (op.requestBody) responses['400'] ??= problem('invalid parameters or body');
  responses['default'] = problem('any other failure, with a stable code');
  return {
    operationId: op.operationId,
    tags: [op.tag],
    summary: op.summary,
    ...(op.description ? { description: op.description } : {}),
    'x-required-scope': op.access,
    security: security(op),
    ...(parameters(op).length ? { parameters: parameters(op) } : {}),
    ...(op.requestBody ? { requestBody: op.requestBody } : {}),
    responses,
  };
}

export function buildOpenApiDocument(opts: { version: string; serverUrl?: string }, ops: readonly Operation[] = OPERATIONS): Json {
  const paths: Record<string, Json> = {};
  for (const op of ops) (paths[op.path] ??= {})[op.method.toLowerCase()] = operationObject(op);
  return {
    openapi: '3.1.0',
    info: {
      title: 'chungthuc',
      version: opts.version,
      summary: 'PAdES signing, validation and certified electronic copies',
      description:
        'Systems authenticate with `Authorization: Bearer ck_<prefix>_<secret>` (an API key bound to a tenant, with scopes); ' +
        `officers with the \`${SESSION_COOKIE}\` cookie from \`POST /api/v1/session\`, sending \`X-CSRF-Token\` on every unsafe method. ` +
        `Scopes: ${API_SCOPES.join(', ')}. Roles grant: ${Object.entries(ROLE_SCOPES).map(([r, s]) => `${r} → ${s.join(', ')}`).join('; ')}. ` +
        'Errors are RFC 9457 problem documents with a stable `code`.',
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    ...(opts.serverUrl ? { servers: [{ url: opts.serverUrl }] } : {}),
    paths,
    components: {
      schemas: { Problem: inputJsonSchema(problemSchema) },
      securitySchemes: {
        apiKey: { type: 'http', scheme: 'bearer', bearerFormat: 'ck_<prefix>_<secret>', description: 'API key created with `chungthuc apikey create` or `POST /api/v1/api-keys`' },
        session: {
          type: 'apiKey',
          in: 'cookie',
          name: SESSION_COOKIE,
          description: `officer session from \`POST /api/v1/session\` (named \`${sessionCookieName({ secure: true })}\` when the service is published over https); unsafe methods also need the \`X-CSRF-Token\` header`,
        },
      },
    },
  };
}

/**
 * The single error mapper at the HTTP edge: every failure leaves as an RFC 9457 problem document
 * (`application/problem+json`) with a stable `code` (also the last segment of `type`). Unknown
 * errors become `internal-error` without leaking their message.
 */
import type { Context } from 'koa';
import { AppError } from '../errors.ts';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  code: string;
  requestId?: string;
  retryable?: boolean;
  [extension: string]: unknown;
}

/** Titles for codes raised by the HTTP layer itself; other layers' codes carry their message as detail. */
const TITLES: Record<number, string> = {
  400: 'Bad request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not found',
  405: 'Method not allowed',
  406: 'Not acceptable',
  408: 'Request timeout',
  409: 'Conflict',
  413: 'Content too large',
  415: 'Unsupported media type',
  422: 'Unprocessable content',
  429: 'Too many requests',
  500: 'Internal server error',
  502: 'Bad gateway',
  503: 'Service unavailable',
  504: 'Gateway timeout',
};

/** Stable codes for errors thrown by Koa and its routers rather than by our code. */
const HTTP_CODES: Record<number, string> = {
  400: 'bad-request',
  404: 'not-found',
  405: 'method-not-allowed',
  406: 'not-acceptable',
  413: 'body-too-large',
  415: 'unsupported-media-type',
};

export function problemType(code: string): string {
  return `urn:chungthuc:problem:${code}`;
}

/** An error raised by the HTTP layer (routing, limits, input parsing). */
export class HttpError extends AppError {}

export function toProblem(err: unknown, instance: string, requestId: string): Problem {
  if (err instanceof AppError) {
    const status = err.status >= 400 && err.status <= 599 ? err.status : 500;
    const problem: Problem = {
      type: problemType(err.code),
      title: TITLES[status] ?? 'Error',
      status,
      code: err.code,
      detail: err.message,
      instance,
      requestId,
    };
    if (err.retryable) problem.retryable = true;
    if (err.details) {
      for (const [k, v] of Object.entries(err.details)) if (!(k in problem)) problem[k] = v;
    }
    return problem;
  }
  // Koa/http-errors raised by middleware (e.g. malformed URI): keep the status, not the internals.
  const status = httpStatusOf(err);
  if (status !== undefined && status < 500) {
    const code = HTTP_CODES[status] ?? 'bad-request';
    return { type: problemType(code), title: TITLES[status] ?? 'Error', status, code, instance, requestId };
  }
  return {
    type: problemType('internal-error'),
    title: TITLES[500]!,
    status: 500,
    code: 'internal-error',
    detail: 'an unexpected error occurred; quote the request id when reporting it',
    instance,
    requestId,
  };
}

function httpStatusOf(err: unknown): number | undefined {
  if (typeof err === 'object' && err !== null && 'status' in err) {
    const s = (err as { status: unknown }).status;
    if (typeof s === 'number' && s >= 400 && s <= 599) return s;
  }
  return undefined;
}

export function sendProblem(ctx: Context, problem: Problem): void {
  ctx.status = problem.status;
  ctx.type = PROBLEM_CONTENT_TYPE;
  ctx.body = JSON.stringify(problem);
  // A more precise Retry-After set by whoever raised the problem (e.g. the throttle) wins, then the
  // problem's own retryAfterSeconds (so header and body agree), then 5 s.
  if ((problem.status === 503 || problem.status === 429) && !ctx.response.get('Retry-After')) ctx.set('Retry-After', retryAfterOf(problem) ?? '5');
}

/** The `retryAfterSeconds` member of a problem or an error's details, as a Retry-After value. */
export function retryAfterOf(details: Record<string, unknown> | undefined): string | undefined {
  const s = details?.retryAfterSeconds;
  return typeof s === 'number' && Number.isFinite(s) && s >= 0 ? String(Math.ceil(s)) : undefined;
}

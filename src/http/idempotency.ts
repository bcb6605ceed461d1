/**
 * `Idempotency-Key` on POSTs that create something (draft-ietf-httpapi-idempotency-key-header):
 * the first request with a key runs and its response is stored; a retry with the same key and the
 * same request (fingerprint: parameters + SHA-256 of the uploaded parts) gets the stored response
 * again (`Idempotent-Replayed: true`); the same key with a different request → 422
 * `idempotency-key-reused`; while the first is still running → 409 `idempotency-key-in-progress`.
 * A failed request gives its key back, so a retry runs again. Keys are scoped per API key or per
 * officer (one officer's key never replays another's response).
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile, mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Context } from 'koa';
import type { IdempotencyRepository } from '../registry/index.ts';
import type { AppState } from './middleware.ts';
import { HttpError } from './problem.ts';

export interface IdempotencyDeps {
  repo: IdempotencyRepository;
  /** Folder for stored response bodies. */
  storeDir: string;
  ttlMs: number;
}

/** A response ready to send: headers plus a body file (as the signing routes produce). */
export interface FileResponse {
  status: number;
  headers: Record<string, string>;
  file: string;
  length: number;
}

const KEY = /^[\x21-\x7e]{1,255}$/;

export async function sha256File(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** Canonical JSON (sorted keys) of the request's identity. */
export function fingerprint(parts: Record<string, unknown>): string {
  const canon = (v: unknown): unknown =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, canon((v as Record<string, unknown>)[k])])) : v;
  return createHash('sha256').update(JSON.stringify(canon(parts))).digest('hex');
}

function send(ctx: Context, r: FileResponse): void {
  ctx.status = r.status;
  for (const [k, v] of Object.entries(r.headers)) ctx.set(k, v);
  ctx.length = r.length;
  ctx.body = createReadStream(r.file);
}

export function idempotencyKeyOf(ctx: Context): string | undefined {
  const key = ctx.get('idempotency-key');
  if (key === '') return undefined;
  // The draft's value is a Structured Field string: a quoted key is accepted without its quotes.
  const bare = /^"(.*)"$/.exec(key)?.[1] ?? key;
  if (!KEY.test(bare)) throw new HttpError('invalid-idempotency-key', 'Idempotency-Key must be 1–255 visible ASCII characters', { status: 400 });
  return bare;
}

/**
 * Runs `run` at most once per (API key or officer, Idempotency-Key) and answers with its response, or with the
 * stored one. `requestHash` is computed by the caller (it knows the request's parts).
 */
export async function idempotent(
  ctx: Context & { state: AppState },
  deps: IdempotencyDeps,
  key: string | undefined,
  requestHash: () => Promise<string>,
  run: () => Promise<FileResponse>,
): Promise<void> {
  if (key === undefined) return send(ctx, await run());
  const p = ctx.state.principal;
  const apiKeyId = p?.kind === 'api-key' ? p.keyId : null;
  const officerId = p?.kind === 'officer' ? p.officerId : null;
  const hash = await requestHash();
  const r = deps.repo.reserve({ key, apiKeyId, officerId, method: ctx.method, path: ctx.path, requestHash: hash, ttlMs: deps.ttlMs });
  if (!r.reserved) {
    const e = r.existing;
    if (e.method !== ctx.method || e.path !== ctx.path || e.requestHash !== hash) {
      throw new HttpError('idempotency-key-reused', 'this Idempotency-Key was used for a different request', { status: 422 });
    }
    if (e.state === 'pending' || !e.response?.file) {
      ctx.set('Retry-After', '2');
      throw new HttpError('idempotency-key-in-progress', 'a request with this Idempotency-Key is still running', { status: 409, retryable: true });
    }
    const file = path.join(deps.storeDir, e.response.file);
    const size = await stat(file).then((s) => s.size, () => null);
    if (size === null) throw new HttpError('idempotency-response-gone', 'the stored response of this Idempotency-Key is gone', { status: 410 });
    ctx.set('Idempotent-Replayed', 'true');
    ctx.state.audit = { ...ctx.state.audit, details: { ...ctx.state.audit?.details, idempotentReplay: true } };
    return send(ctx, { status: e.response.status, headers: e.response.headers, file, length: size });
  }
  let res: FileResponse;
  let name: string;
  try {
    res = await run();
    await mkdir(deps.storeDir, { recursive: true });
    name = `${r.id}-${hash.slice(0, 16)}.bin`;
    await copyFile(res.file, path.join(deps.storeDir, name));
  } catch (err) {
    deps.repo.release(r.id);
    throw err;
  }
  deps.repo.complete(r.id, { status: res.status, headers: res.headers, file: name });
  send(ctx, res);
}

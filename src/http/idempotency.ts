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
import { copyFile, mkdir, stat, writeFile } from 'node:fs/promises';
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

/**
 * A response ready to send: headers plus a body file (as the signing routes produce), or a small body
 * in memory (a certification's JSON answer: nothing can fail between its register entry and the answer).
 */
export type FileResponse = { status: number; headers: Record<string, string>; length: number } & ({ file: string; body?: undefined } | { body: Uint8Array; file?: undefined });

const KEY = /^[\x21-\x7e]{1,255}$/;

export { sha256File } from '../cms/index.ts';

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
  ctx.body = r.body !== undefined ? Buffer.from(r.body) : createReadStream(r.file);
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
  /**
   * Does the work. It calls `committed()` once the work is done for good (e.g. the register entry is
   * written): a failure after that point keeps the key (see below) instead of giving it back.
   */
  run: (committed: () => void) => Promise<FileResponse>,
): Promise<void> {
  if (key === undefined) return send(ctx, await run(() => {}));
  const hash = await requestHash();
  const r = await reserveOrReplay(ctx, deps, key, hash);
  if (r === undefined) return;
  let res: FileResponse;
  let done = false;
  try {
    res = await run(() => (done = true));
  } catch (err) {
    // Nothing was done: the key is given back, so a corrected retry runs. Once the work was done,
    // a retry must not do it again: the key stays pending until it expires (retries get 409).
    if (!done) deps.repo.release(r.id);
    else ctx.state.log.error({ err, idempotencyKey: key }, 'an idempotent request failed after its work was done; its key is kept');
    throw err;
  }
  // Done, whatever happens next: the key is never given back now (a retry must not do it twice).
  // Should keeping the answer fail, the key stays pending until it expires (retries get 409) and
  // this caller still gets the answer.
  try {
    await mkdir(deps.storeDir, { recursive: true });
    const name = `${r.id}-${hash.slice(0, 16)}.bin`;
    if (res.body !== undefined) await writeFile(path.join(deps.storeDir, name), res.body);
    else await copyFile(res.file, path.join(deps.storeDir, name));
    deps.repo.complete(r.id, { status: res.status, headers: res.headers, file: name });
  } catch (err) {
    ctx.state.log.error({ err, idempotencyKey: key }, 'could not keep the answer of an idempotent request');
    // A small answer can still be kept in the database, so a retry gets it instead of 409 until the key expires.
    if (res.body !== undefined) {
      try {
        deps.repo.complete(r.id, { status: res.status, headers: res.headers, body: res.body });
      } catch (again) {
        ctx.state.log.error({ err: again, idempotencyKey: key }, 'could not keep the answer in the database either');
      }
    }
  }
  send(ctx, res);
}

/**
 * Reserves (caller, key) for this request, or answers with the stored response of an earlier one
 * (resolving undefined). 422 for the same key on a different request, 409 while the first runs.
 */
async function reserveOrReplay(ctx: Context & { state: AppState }, deps: IdempotencyDeps, key: string, hash: string): Promise<{ id: number } | undefined> {
  const p = ctx.state.principal;
  const apiKeyId = p?.kind === 'api-key' ? p.keyId : null;
  const officerId = p?.kind === 'officer' ? p.officerId : null;
  const r = deps.repo.reserve({ key, apiKeyId, officerId, method: ctx.method, path: ctx.path, requestHash: hash, ttlMs: deps.ttlMs });
  if (r.reserved) return { id: r.id };
  const e = r.existing;
  if (e.method !== ctx.method || e.path !== ctx.path || e.requestHash !== hash) {
    throw new HttpError('idempotency-key-reused', 'this Idempotency-Key was used for a different request', { status: 422 });
  }
  if (e.state === 'pending' || !e.response || (e.response.file === undefined && e.response.body === undefined)) {
    ctx.set('Retry-After', '2');
    throw new HttpError('idempotency-key-in-progress', 'a request with this Idempotency-Key is still running', { status: 409, retryable: true });
  }
  ctx.set('Idempotent-Replayed', 'true');
  ctx.state.audit = { ...ctx.state.audit, details: { ...ctx.state.audit?.details, idempotentReplay: true } };
  if (e.response.body !== undefined) {
    ctx.status = e.response.status;
    for (const [k, v] of Object.entries(e.response.headers)) ctx.set(k, v);
    ctx.body = Buffer.from(e.response.body);
    return undefined;
  }
  const file = path.join(deps.storeDir, e.response.file!);
  const size = await stat(file).then((s) => s.size, () => null);
  if (size === null) throw new HttpError('idempotency-response-gone', 'the stored response of this Idempotency-Key is gone', { status: 410 });
  send(ctx, { status: e.response.status, headers: e.response.headers, file, length: size });
  return undefined;
}

/** A small JSON answer of a creating POST. */
export interface JsonResponse {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
  /**
   * What a replay answers, when it must differ from the first answer: a secret shown once (a new
   * API key, a generated password) is never stored, so its replay carries null in its place.
   */
  replay?: unknown;
}

/**
 * `idempotent` for JSON answers: the (small) response is kept inline in the database. The request's
 * identity is the caller, the path and the canonical JSON of the parsed body.
 */
export async function idempotentJson(
  ctx: Context & { state: AppState },
  deps: IdempotencyDeps,
  request: unknown,
  run: () => Promise<JsonResponse>,
): Promise<void> {
  const answer = (status: number, headers: Record<string, string>, body: unknown) => {
    ctx.status = status;
    for (const [k, v] of Object.entries(headers)) ctx.set(k, v);
    ctx.body = body;
  };
  const key = idempotencyKeyOf(ctx);
  if (key === undefined) {
    const res = await run();
    return answer(res.status, res.headers ?? {}, res.body);
  }
  const r = await reserveOrReplay(ctx, deps, key, fingerprint({ request }));
  if (r === undefined) return;
  let res: JsonResponse;
  try {
    res = await run();
  } catch (err) {
    deps.repo.release(r.id);
    throw err;
  }
  const headers = { 'Content-Type': 'application/json; charset=utf-8', ...res.headers };
  try {
    deps.repo.complete(r.id, { status: res.status, headers, body: Buffer.from(JSON.stringify(res.replay ?? res.body)) });
  } catch (err) {
    ctx.state.log.error({ err, idempotencyKey: key }, 'could not keep the answer of an idempotent request');
  }
  answer(res.status, headers, res.body);
}

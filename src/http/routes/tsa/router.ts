/**
 * POST /tsa — the built-in RFC 3161 time-stamping authority over HTTP (RFC 3161 §3.4):
 * `application/timestamp-query` in, `application/timestamp-reply` out. Client errors are answered
 * inside a TimeStampResp (status rejection), as the RFC wants, not as problem+json.
 */
import Router from '@koa/router';
import type { AppState } from '../../middleware.ts';
import { readBody } from '../../body.ts';
import { handleTimestampQuery, MAX_TIMESTAMP_QUERY_BYTES, type TimeStampAuthority } from '../../../tsa/index.ts';

export function tsaRouter(deps: { getTsa: () => Promise<TimeStampAuthority> }): Router<AppState> {
  const router = new Router<AppState>({ sensitive: true });
  router.post('/tsa', async (ctx) => {
    const body = await readBody(ctx, MAX_TIMESTAMP_QUERY_BYTES);
    const tsa = await deps.getTsa();
    const r = await handleTimestampQuery(tsa, ctx.get('content-type'), body);
    ctx.status = r.status;
    ctx.type = r.contentType;
    ctx.body = Buffer.from(r.body);
  });
  return router;
}

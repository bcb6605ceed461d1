/**
 * Liveness and readiness. `/healthz` answers while the process runs; `/readyz` only when every
 * dependency the service needs to do its work answers (the HSM token and the database).
 */
import Router from '@koa/router';
import type { AppState } from '../../middleware.ts';
import { sendProblem, problemType } from '../../problem.ts';

export interface ReadinessCheck {
  name: string;
  check(): Promise<void> | void;
}

export function healthRouter(checks: readonly ReadinessCheck[]): Router<AppState> {
  const router = new Router<AppState>({ sensitive: true });
  router.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  router.get('/readyz', async (ctx) => {
    const results: Record<string, { ok: boolean; error?: string }> = {};
    await Promise.all(
      checks.map(async (c) => {
        try {
          await c.check();
          results[c.name] = { ok: true };
        } catch (err) {
          results[c.name] = { ok: false, error: err instanceof Error ? err.message : String(err) };
        }
      }),
    );
    const ready = Object.values(results).every((r) => r.ok);
    if (ready) {
      ctx.body = { status: 'ready', checks: results };
      return;
    }
    sendProblem(ctx, {
      type: problemType('not-ready'),
      title: 'Service unavailable',
      status: 503,
      code: 'not-ready',
      detail: `not ready: ${Object.entries(results).filter(([, r]) => !r.ok).map(([n]) => n).join(', ')}`,
      instance: ctx.path,
      requestId: ctx.state.requestId,
      checks: results,
    });
  });
  return router;
}

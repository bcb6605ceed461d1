/**
 * The fast path of GET /v/{code} (src/http/routes/verification/fastLookup.ts) against the Koa route it
 * stands in for, on the same running service (same register, buckets, audit log, metrics): the Koa
 * app alone is served on a second socket. For every request the fast path takes, both give the same
 * status, headers and bytes, the same audit row, the same log lines and the same metrics; what it
 * must leave to Koa (credentials, HEAD, unknown codes, anything a router would decode) it leaves;
 * and one request never costs two rate-limit tokens.
 */
import http from 'node:http';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { OPERATIONS } from '../../src/http/operations.ts';
import type { ServiceMetrics } from '../../src/http/metrics.ts';
import { lookupFastPath } from '../../src/http/routes/verification/fastLookup.ts';
import type { LookupRoute } from '../../src/http/routes/verification/router.ts';
import { AuditLog } from '../../src/registry/index.ts';
import { freePorts } from '../support/ocspResponder.ts';
import { startPkiWorld, type PkiWorld } from '../support/pkiWorld.ts';
import { certifySample } from '../support/sampleCopy.ts';

let world: PkiWorld;
let code: string;
/** The Koa app alone, and the app with a record of what its fast path took. */
let koaOnly: http.Server;
let probe: http.Server;
const took: boolean[] = [];
const logLines: Array<Record<string, unknown>> = [];

const listen = async (s: http.Server): Promise<string> => {
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(s.address() as { port: number }).port}`;
};
let koaUrl: string;
let probeUrl: string;

beforeAll(async () => {
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) logLines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  // The lookup bucket holds 40 and refills once a minute here (60 and 60 a minute by default): the
  // token tests below count exactly, however slow the machine, and see the setting reach both routes.
  // Both ports given: a service on port 0 could draw the metrics port freed a moment before.
  const [port, metricsPort] = await freePorts(2);
  world = await startPkiWorld(
    'fast-lookup',
    { TRUST_PROXY: 'loopback', PORT: String(port), METRICS_PORT: String(metricsPort), RATE_LIMIT_LOOKUP_BURST: '40', RATE_LIMIT_LOOKUP_PER_MINUTE: '1' },
    pino({ level: 'info', base: { svc: 'chungthuc' } }, sink),
  );
  ({ code } = await certifySample(world, 'FL'));
  const app = world.svc.app;
  const koa = app.callback();
  koaOnly = http.createServer(koa);
  probe = http.createServer((req, res) => {
    const fast = app.fastPath(req, res);
    took.push(fast);
    if (!fast) void koa(req, res);
  });
  koaUrl = await listen(koaOnly);
  probeUrl = await listen(probe);
  // The copy's file facts are looked at once (validation), then known: the fast path's case.
  expect((await get(world.svc.url, `/v/${code}`, { 'x-forwarded-for': '198.51.100.1' })).status).toBe(200);
}, 120_000);

afterAll(async () => {
  koaOnly?.closeAllConnections();
  probe?.closeAllConnections();
  await Promise.all([koaOnly, probe].map((s) => new Promise((r) => s?.close(r))));
  await world?.stop();
});

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** One request with exactly these headers (fetch would add its own Accept), and `body` if given. */
function get(base: string, path: string, headers: Record<string, string>, method = 'GET', body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const u = new URL(base);
    const req = http.request({ host: u.hostname, port: u.port, path, method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** What must be equal: everything but the date and the connection management. */
const comparable = (a: Answer) => {
  const { date: _d, connection: _c, 'keep-alive': _k, ...headers } = a.headers;
  return { status: a.status, headers, body: a.body.toString('utf8') };
};

const BROWSER = 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8';

/** Requests the fast path answers itself. */
const TAKEN: Array<[string, string, Record<string, string>]> = [
  ['JSON', '', { accept: 'application/json' }],
  ['HTML', '', { accept: 'text/html' }],
  ['a browser', '', { accept: BROWSER }],
  ['JSON by negotiation', '', { accept: 'text/html;q=0.1, application/json;q=0.9' }],
  ['no Accept', '', {}],
  ['English', '?lang=en', { accept: BROWSER }],
  ['Vietnamese asked for', '?lang=vi', { accept: 'application/json' }],
];

describe('GET /v/{code}: the fast path and the Koa route', () => {
  it('give the same status, headers and bytes, and the fast path answers these itself', async () => {
    for (const [i, [name, query, headers]] of TAKEN.entries()) {
      for (const shape of [(c: string) => c, (c: string) => c.toLowerCase()]) {
        const path = `/v/${shape(code)}${query}`;
        const h = { ...headers, 'x-request-id': `same-${i}`, 'x-forwarded-for': `198.51.100.${10 + i}` };
        took.length = 0;
        const [viaKoa, viaProbe, viaService] = [await get(koaUrl, path, h), await get(probeUrl, path, h), await get(world.svc.url, path, h)];
        expect(took, name).toEqual([true]);
        expect(viaKoa.status, name).toBe(200);
        expect(comparable(viaProbe), name).toEqual(comparable(viaKoa));
        expect(comparable(viaService), name).toEqual(comparable(viaKoa));
      }
    }
    const json = JSON.parse((await get(world.svc.url, `/v/${code}`, { accept: 'application/json' })).body.toString('utf8')) as { status: string; checks: Record<string, { outcome: string }> };
    expect(json.status).toBe('valid');
    expect(json.checks).toMatchObject({ integrity: { outcome: 'VALID' }, status: { outcome: 'VALID' }, issuer: { outcome: 'VALID' } });
  });

  it('leaves to Koa what it must not answer, which Koa then answers as before', async () => {
    const unknown = 'A'.repeat(32);
    const cases: Array<[string, string, Record<string, string>, string, number]> = [
      ['an unknown code', `/v/${unknown}`, { accept: 'application/json' }, 'GET', 404],
      ['a session cookie', `/v/${code}`, { cookie: 'ct_session=ended' }, 'GET', 200],
      ['an API key', `/v/${code}`, { authorization: 'Bearer ck_000000000000_nonsense' }, 'GET', 401],
      ['HEAD', `/v/${code}`, {}, 'HEAD', 200],
      ['a trailing slash', `/v/${code}/`, {}, 'GET', 200],
      ['another query', `/v/${code}?lang=fr`, {}, 'GET', 200],
      ['an encoded code', `/v/%${code.charCodeAt(0).toString(16)}${code.slice(1)}`, {}, 'GET', 200],
      ['a malformed code', '/v/abc', { accept: 'application/json' }, 'GET', 404],
      ['a body', `/v/${code}`, { 'content-length': '2' }, 'GET', 200],
    ];
    for (const [name, path, headers, method, status] of cases) {
      took.length = 0;
      const h = { ...headers, 'x-request-id': `left-${name.replace(/\W/g, '-')}`, 'x-forwarded-for': '198.51.100.99' };
      const body = name === 'a body' ? '{}' : undefined;
      const viaProbe = await get(probeUrl, path, h, method, body);
      expect(took, name).toEqual([false]);
      expect(viaProbe.status, name).toBe(status);
      // Both answered by Koa here (`took` is what tests the fast path): the same answer, as before it.
      const viaKoa = await get(koaUrl, path, h, method, body);
      expect(comparable(viaProbe), name).toEqual(comparable(viaKoa));
    }
    // The ended session was answered by the chain: it clears the cookie.
    const cookie = await get(probeUrl, `/v/${code}`, { cookie: 'ct_session=ended' });
    expect(String(cookie.headers['set-cookie'])).toContain('ct_session=;');
  });

  it('write the same audit row, log lines and metrics', async () => {
    const h = (id: string) => ({ accept: 'application/json', 'x-request-id': id, 'x-forwarded-for': '203.0.113.7' });
    const before = await requestsCounted();
    took.length = 0;
    await get(probeUrl, `/v/${code}?lang=en`, h('audit-fast'));
    await get(koaUrl, `/v/${code}?lang=en`, h('audit-koa'));
    expect(took).toEqual([true]);
    // Page views are written in batches (within 100 ms): wait for both rows.
    const rows = () => new AuditLog(world.svc.db.db).list({ limit: 100_000 });
    await vi.waitFor(() => expect(rows().filter((x) => x.requestId === 'audit-fast' || x.requestId === 'audit-koa')).toHaveLength(2), { timeout: 5000 });
    const row = (id: string) => {
      const r = rows().find((x) => x.requestId === id);
      expect(r, id).toBeDefined();
      const { id: _id, at: _at, requestId: _rid, ...rest } = r!;
      return rest;
    };
    expect(row('audit-fast')).toEqual(row('audit-koa'));
    expect(row('audit-fast')).toMatchObject({ actorKind: 'public', action: 'verification.lookup', outcome: 'success', status: 200, ip: '203.0.113.7', details: { method: 'GET', path: `/v/${code}` } });

    const lines = (id: string) => logLines.filter((l) => l.reqId === id).map(({ time: _t, ms: _ms, reqId: _r, pid: _p, hostname: _h, ...rest }) => rest);
    expect(lines('audit-fast')).toEqual(lines('audit-koa'));
    expect(lines('audit-fast')).toEqual([
      expect.objectContaining({ lookup: 'public-code', found: true, status: 'valid', msg: 'public verification lookup' }),
      expect.objectContaining({ method: 'GET', path: `/v/${code}`, status: 200, msg: 'request' }),
    ]);
    expect(await requestsCounted()).toBe(before + 2);
  });

  it('take one token per request, whichever path answers and however it ends', async () => {
    // The lookup bucket holds 40 per client (RATE_LIMIT_LOOKUP_BURST): 20 by the fast path, 19 by Koa and one unknown code handed over.
    const h = (i: number) => ({ accept: 'application/json', 'x-forwarded-for': '192.0.2.55', 'x-request-id': `bucket-${i}` });
    took.length = 0;
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++) statuses.push((await get(probeUrl, `/v/${code}`, h(i))).status);
    for (let i = 20; i < 39; i++) statuses.push((await get(koaUrl, `/v/${code}`, h(i))).status);
    statuses.push((await get(probeUrl, `/v/${'B'.repeat(32)}`, h(39))).status);
    expect(statuses).toEqual([...Array<number>(39).fill(200), 404]);
    expect(took).toEqual([...Array<boolean>(20).fill(true), false]);
    took.length = 0;
    const limited = await get(probeUrl, `/v/${code}`, h(40));
    expect(took).toEqual([false]);
    expect(limited.status).toBe(429);
    expect(limited.headers['retry-after']).toBeDefined();
    expect(JSON.parse(limited.body.toString('utf8'))).toMatchObject({ code: 'rate-limited' });
    // Another client is not affected.
    expect((await get(probeUrl, `/v/${code}`, { ...h(41), 'x-forwarded-for': '192.0.2.56' })).status).toBe(200);
    // The public API's lookup shares the bucket: 20 page views and 20 API lookups use up the 40.
    const mixed: number[] = [];
    const c57 = { accept: 'application/json', 'x-forwarded-for': '192.0.2.57' };
    for (let i = 0; i < 20; i++) mixed.push((await get(world.svc.url, `/v/${code}`, c57)).status);
    for (let i = 0; i < 21; i++) mixed.push((await get(world.svc.url, `/api/v1/public/copies/${code}`, c57)).status);
    expect(mixed).toEqual([...Array<number>(40).fill(200), 429]);
    expect((await get(world.svc.url, `/v/${code}`, c57)).status).toBe(429);
  });
});

/** chungthuc_http_requests_total for GET /v/{code} 200, from the service's /metrics. */
async function requestsCounted(): Promise<number> {
  const text = await (await fetch(`${world.svc.metricsUrl}/metrics`)).text();
  const m = /^chungthuc_http_requests_total\{method="GET",route="\/v\/\{code\}",status="200"\} (\d+)$/m.exec(text);
  return m ? Number(m[1]) : 0;
}

describe('the fast path when something throws', () => {
  /** The fast path over `route` and `metrics`, then a fallback answering 503, on a socket of its own. */
  async function serve(route: LookupRoute, metrics?: ServiceMetrics) {
    const lines: Array<Record<string, unknown>> = [];
    const logger = pino({ level: 'info' }, new Writable({ write: (c: Buffer, _e, done) => (lines.push(JSON.parse(c.toString('utf8')) as Record<string, unknown>), done()) }));
    const audit = { appendDeferred: () => undefined } as unknown as AuditLog;
    const fast = lookupFastPath({ route, operation: OPERATIONS.find((o) => o.operationId === 'verification.lookup')!, clientOf: () => '192.0.2.1', logger, audit, metrics });
    const server = http.createServer((req, res) => fast(req, res) || res.writeHead(503).end('fallback'));
    return { url: await listen(server), lines, close: () => new Promise((r) => server.close(r)) };
  }
  const answer = { copyStatus: 'valid' as const, headers: { 'Content-Type': 'application/json; charset=utf-8' }, body: Buffer.from('{"status":"valid"}') };

  it('before the answer: the request goes on to Koa with the token it took, and the server stays up', async () => {
    const handed: unknown[] = [];
    const s = await serve({ take: () => ({ ok: true }), handOver: (_req, t) => handed.push(t), knownAnswer: () => { throw new Error('disk gone'); } });
    try {
      const r = await get(s.url, `/v/${'C'.repeat(32)}`, { accept: 'application/json' });
      expect([r.status, r.body.toString()]).toEqual([503, 'fallback']);
      expect(handed).toEqual([{ ok: true }]);
      expect((await get(s.url, `/v/${'C'.repeat(32)}`, {})).status).toBe(503);
    } finally {
      await s.close();
    }
    // A throw before any token was taken: handed over with none.
    const none: unknown[] = [];
    const t = await serve({ take: () => { throw new Error('bucket broke'); }, handOver: (_req, tk) => none.push(tk), knownAnswer: () => answer });
    try {
      expect((await get(t.url, `/v/${'C'.repeat(32)}`, {})).status).toBe(503);
      expect(none).toEqual([]);
    } finally {
      await t.close();
    }
  });

  it('after the answer: the client has it, the failure is logged, the server stays up', async () => {
    const metrics = { observeRequest: () => { throw new Error('metrics broke'); } } as unknown as ServiceMetrics;
    const s = await serve({ take: () => ({ ok: true }), handOver: () => undefined, knownAnswer: () => answer }, metrics);
    try {
      const r = await get(s.url, `/v/${'C'.repeat(32)}`, { accept: 'application/json' });
      expect([r.status, r.body.toString()]).toEqual([200, '{"status":"valid"}']);
      expect(s.lines.some((l) => l.msg === 'public lookup failed after its answer was written')).toBe(true);
      expect((await get(s.url, `/v/${'C'.repeat(32)}`, {})).status).toBe(200);
    } finally {
      await s.close();
    }
  });
});

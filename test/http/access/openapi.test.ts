/** The OpenAPI 3.1 document: valid (an independent validator from npm) and in step with the mounted routes. */
import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestService, type TestService } from '../../support/service.ts';

let svc: TestService;
beforeAll(async () => {
  svc = await startTestService({ API_AUTH: 'required' });
});
afterAll(async () => {
  await svc?.stop();
});

type Doc = { openapi: string; paths: Record<string, Record<string, { security: unknown[]; 'x-required-scope': string; parameters?: Array<{ name: string; in: string }> }>> };

/** `/v/:code` (router syntax) → `/v/{code}` (OpenAPI path template). */
const template = (p: string) => p.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

describe('GET /openapi.json', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    const res = await fetch(`${svc.url}/openapi.json`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as Doc;
    expect(doc.openapi).toBe('3.1.0');
    const v = new Validator();
    const r = await v.validate(doc as unknown as Parameters<Validator["validate"]>[0]);
    expect(r.errors ?? []).toEqual([]);
    expect(r.valid).toBe(true);
    expect(v.version).toBe('3.1');
    // The validator does reject: a document without `info` is not OpenAPI.
    expect((await new Validator().validate({ openapi: '3.1.0', paths: {} })).valid).toBe(false);
  });

  it('documents every mounted route, and every documented route is mounted', async () => {
    const doc = (await (await fetch(`${svc.url}/openapi.json`)).json()) as Doc;
    const mounted = new Set(svc.routes.map((r) => `${r.method} ${template(r.path)}`));
    const documented = new Set(Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`)));
    expect(mounted.size).toBeGreaterThan(10);
    expect([...mounted].filter((r) => !documented.has(r)), 'mounted but not documented').toEqual([]);
    expect([...documented].filter((r) => !mounted.has(r)), 'documented but not mounted').toEqual([]);
  });

  it('says which scope each operation needs, generated from the route schemas', async () => {
    const doc = (await (await fetch(`${svc.url}/openapi.json`)).json()) as Doc;
    const sign = doc.paths['/api/v1/signatures']!.post!;
    expect(sign['x-required-scope']).toBe('sign');
    // No role grants "sign": only API keys. Officers reach admin operations through their session.
    expect(sign.security).toEqual([{ apiKey: ['sign'] }]);
    expect(doc.paths['/api/v1/officers']!.get!.security).toEqual([{ apiKey: ['admin'] }, { session: ['admin'] }]);
    // From signatureParamsSchema (zod) — the same schema the route validates with.
    expect(sign.parameters?.map((p) => p.name)).toEqual(expect.arrayContaining(['key', 'level', 'digestAlgorithm', 'rect', 'lockFields', 'Idempotency-Key']));
    expect(doc.paths['/api/v1/validations']!.post!['x-required-scope']).toBe('validate');
    expect(doc.paths['/v/{code}']!.get!.security).toEqual([]);
  });
});

describe('GET /api', () => {
  it('is a self-contained page listing every operation', async () => {
    const res = await fetch(`${svc.url}/api`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/html');
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
    const html = await res.text();
    for (const r of svc.routes) expect(html).toContain(`<code>${template(r.path)}</code>`);
    expect(html).not.toMatch(/<script|https?:\/\/(?!127\.0\.0\.1)/);
  });
});

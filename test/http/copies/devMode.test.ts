/**
 * With API_AUTH=off (the development default) the access middleware demands nothing, yet the
 * register still checks who calls: no tenant for anonymous callers, and a role's scopes are
 * enforced (an officer cannot annul, a supervisor can reach the annulment, nobody but a holder of
 * "sign" signs). Paths are case-sensitive: /API/v1/… is no way around the catalogue's checks.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestService, type TestService } from '../../support/service.ts';
import { bearer, createKey, createOfficer, createTenant, loginOfficer, session, type OfficerLogin } from '../access/helpers.ts';

let svc: TestService;
const logins: Record<string, OfficerLogin> = {};
beforeAll(async () => {
  svc = await startTestService({ API_AUTH: 'off' });
  await createTenant(svc, 'DEV');
  for (const [username, role] of [['dev.officer', 'officer'], ['dev.supervisor', 'supervisor'], ['dev.admin', 'admin']] as const) {
    const o = await createOfficer(svc, 'DEV', username, { role, key: { officer: 'officer1', supervisor: 'officer2', admin: undefined }[role] });
    logins[role] = await loginOfficer(svc, o.username, o.password);
  }
});
afterAll(async () => {
  await svc?.stop();
});

const annul = (headers: Record<string, string>) =>
  fetch(`${svc.url}/api/v1/certified-copies/00000000-0000-4000-8000-000000000000/annul`, {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/json' },
    body: JSON.stringify({ decisionNumber: '1/QĐ', decisionDate: '2026-11-29', reason: 'thử' }),
  });
const answer = async (r: Response) => [r.status, ((await r.json()) as { code?: string }).code];

describe('the register with API_AUTH=off', () => {
  it('refuses anonymous callers (no tenant) and a role without the scope', async () => {
    expect(await answer(await fetch(`${svc.url}/api/v1/certified-copies`))).toEqual([401, 'unauthenticated']);
    expect(await answer(await annul({}))).toEqual([401, 'unauthenticated']);
    expect(await answer(await annul(session(logins.officer!)))).toEqual([403, 'forbidden-scope']);
    expect(await answer(await annul(session(logins.admin!)))).toEqual([403, 'forbidden-scope']);
  });

  it('lets a role holding the scope through to the handler', async () => {
    expect(await answer(await annul(session(logins.supervisor!)))).toEqual([404, 'copy-not-found']);
    const list = await fetch(`${svc.url}/api/v1/certified-copies`, { headers: session(logins.admin!) });
    expect(list.status).toBe(200);
  });

  it('an officer session cannot sign; a path in other letters reaches no handler; a bad date is a 400', async () => {
    const sign = await fetch(`${svc.url}/api/v1/signatures?key=seal`, { method: 'POST', headers: { ...session(logins.supervisor!), 'content-type': 'application/pdf' }, body: '%PDF-1.7' });
    expect(await answer(sign)).toEqual([403, 'forbidden-scope']);
    const validateOnly = await createKey(svc, 'DEV', 'validate');
    expect(await answer(await fetch(`${svc.url}/api/v1/certified-copies`, { headers: bearer(validateOnly) }))).toEqual([403, 'forbidden-scope']);
    for (const p of ['/API/v1/certified-copies', '/Api/v1/certified-copies', '/api/V1/refusals']) {
      expect(await answer(await fetch(`${svc.url}${p}`, { headers: bearer(validateOnly) }))).toEqual([404, 'not-found']);
    }
    const badDate = await fetch(`${svc.url}/api/v1/certified-copies/00000000-0000-4000-8000-000000000000/annul`, {
      method: 'POST',
      headers: { ...session(logins.supervisor!), 'content-type': 'application/json' },
      body: JSON.stringify({ decisionNumber: '1/QĐ', decisionDate: '2025-13-01', reason: 'thử' }),
    });
    expect(badDate.status).toBe(400);
    expect((await fetch(`${svc.url}/api/v1/certified-copies?from=2025-00-10`, { headers: session(logins.admin!) })).status).toBe(400);
  });
});

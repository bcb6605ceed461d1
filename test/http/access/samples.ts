/**
 * SAMPLES: one minimal request per catalogued operation (src/http/operations.ts), keyed by
 * operationId, for the authorization matrix (authorization.test.ts). Adding a route = adding ONE
 * entry here; the matrix fails for any catalogued operation without one.
 *
 * `status` is the handler's own answer to a caller who passed the access check (default 200); give
 * a function when it depends on the caller (e.g. a tenant-scoped lookup answers 404 to another
 * tenant's key). Requests must be repeatable: the matrix sends each one once per caller.
 */
import { readFileSync } from 'node:fs';
import type { FixtureSet } from '../../../scripts/gen-fixtures.ts';
import type { TestService } from '../../support/service.ts';
import { createKey, type CreatedOfficer } from './helpers.ts';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CopyRepository } from '../../../src/registry/index.ts';
import { sampleCopy } from '../../registry/fixtures/sampleCopy.ts';

export interface World {
  svc: TestService;
  fx: FixtureSet;
  /** A PDF signed by tenant A (input of extend). */
  signedPdf: Buffer;
  /** An RFC 3161 TimeStampReq. */
  tsQuery: Buffer;
  /** Tenant A's officers: the matrix's callers and `target`, an officer the admin routes change. */
  officers: Record<'officer' | 'supervisor' | 'admin' | 'target', CreatedOfficer>;
  /** A fresh short token for unique names. */
  uniq(): string;
}

export interface Caller {
  name: string;
  kind: 'anonymous' | 'officer' | 'api-key';
  /** The caller's tenant: A (the world's) or B (another tenant). */
  tenant: 'A' | 'B' | null;
  scopes: readonly string[];
}

export interface SampleRequest {
  path: string;
  headers?: Record<string, string>;
  body?: Uint8Array<ArrayBuffer> | string;
}

export interface Sample {
  request(w: World): SampleRequest | Promise<SampleRequest>;
  status?: number | ((c: Caller) => number);
  /** Session callers sign in anew before this request (it ends their session). */
  freshSession?: boolean;
}

const UNKNOWN_CODE = 'AAAAAAAAAAAAAAAAAAAAAAAAAA';
const pdf = (w: World) => readFileSync(w.fx.classic);
const jsonBody = (v: unknown) => ({ headers: { 'content-type': 'application/json' }, body: JSON.stringify(v) });
const form = (v: Record<string, string>) => ({ headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(v).toString() });
/** Tenant-scoped things of tenant A: another tenant's caller is told they do not exist. */
const ownTenant = (ok: number) => (c: Caller) => (c.tenant === 'A' ? ok : 404);
const officerOnly = (ok: number) => (c: Caller) => (c.kind === 'officer' ? ok : 401);
/** A register entry of tenant A with a stored file (written by the repository: no signing needed here). */
function tenantACopy(w: World): string {
  const tenant = w.svc.db.db.prepare("SELECT id FROM tenants WHERE code = 'A'").get() as { id: string };
  const entry = new CopyRepository(w.svc.db.db).issueCopy({ ...sampleCopy(tenant.id, Number.parseInt(w.uniq(), 36) % 100_000), certifiedAt: new Date() });
  const file = path.join(w.svc.dataDir, 'copies', entry.fileKey);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, '%PDF-1.7\n');
  return entry.id;
}
/** A multipart body without any scan: the copies routes answer 400 file-missing once access is granted. */
const noScan = () => ({ headers: { 'content-type': 'multipart/form-data; boundary=x' }, body: '--x\r\nContent-Disposition: form-data; name="documentType"\r\n\r\nGiấy khai sinh\r\n--x--\r\n' });

export const SAMPLES: Record<string, Sample> = {
  // Operations and documentation.
  'health.live': { request: () => ({ path: '/healthz' }) },
  'health.ready': { request: () => ({ path: '/readyz' }) },
  'docs.openapi': { request: () => ({ path: '/openapi.json' }) },
  'docs.page': { request: () => ({ path: '/api' }) },

  // Signing, validation, time stamps.
  'signatures.create': { request: (w) => ({ path: '/api/v1/signatures?level=B-B', headers: { 'content-type': 'application/pdf' }, body: pdf(w) }) },
  'signatures.extend': { request: (w) => ({ path: '/api/v1/signatures/extend?level=B-T', headers: { 'content-type': 'application/pdf' }, body: new Uint8Array(w.signedPdf) }) },
  'validations.create': { request: (w) => ({ path: '/api/v1/validations', headers: { 'content-type': 'application/pdf' }, body: pdf(w) }) },
  'tsa.timestamp': { request: (w) => ({ path: '/tsa', headers: { 'content-type': 'application/timestamp-query' }, body: new Uint8Array(w.tsQuery) }) },

  // Public verification pages (unknown code: the handlers' own answers).
  'web.asset': { request: () => ({ path: '/assets/no-such-asset.css' }), status: 404 },
  'verification.entry': { request: () => ({ path: '/v' }) },
  'verification.typedCode': { request: () => ({ path: '/v', ...form({ code: UNKNOWN_CODE }) }), status: 400 },
  'verification.lookup': { request: () => ({ path: `/v/${UNKNOWN_CODE}`, headers: { accept: 'application/json' } }), status: 404 },
  'verification.access': { request: () => ({ path: `/v/${UNKNOWN_CODE}/access`, ...form({ access_code: '123456' }) }), status: 404 },
  'verification.validate': { request: (w) => ({ path: `/v/${UNKNOWN_CODE}/validation`, headers: { 'content-type': 'application/pdf' }, body: pdf(w) }) },
  'verification.file': { request: () => ({ path: `/v/${UNKNOWN_CODE}/file` }), status: 403 },

  // Officer sessions and tenant administration (issue #6).
  'session.create': { request: (w) => ({ path: '/api/v1/session', ...jsonBody({ username: w.officers.target.username, password: w.officers.target.password }) }) },
  'session.read': { request: () => ({ path: '/api/v1/session' }), status: officerOnly(200) },
  'session.delete': { request: () => ({ path: '/api/v1/session' }), status: officerOnly(204), freshSession: true },
  // A wrong current password: nothing changes (one failure counted; the matrix signs in anew often enough).
  'session.changePassword': { request: () => ({ path: '/api/v1/session/password', ...jsonBody({ currentPassword: 'not-the-password', newPassword: 'a-new-password-1234' }) }), status: officerOnly(403) },
  'officers.list': { request: () => ({ path: '/api/v1/officers?limit=2' }) },
  'signingKeys.list': { request: () => ({ path: '/api/v1/signing-keys' }) },
  'officers.create': {
    request: (w) => ({ path: '/api/v1/officers', ...jsonBody({ username: `m-${w.uniq()}`, displayName: 'Trần Thị B', title: 'Công chức Tư pháp - Hộ tịch', role: 'officer' }) }),
    status: 201,
  },
  'officers.update': { request: (w) => ({ path: `/api/v1/officers/${w.officers.target.id}`, ...jsonBody({ title: `Chức danh ${w.uniq()}` }) }), status: ownTenant(200) },
  'apikeys.list': { request: () => ({ path: '/api/v1/api-keys' }) },
  'apikeys.create': { request: (w) => ({ path: '/api/v1/api-keys', ...jsonBody({ name: `k-${w.uniq()}`, scopes: ['validate'] }) }), status: 201 },
  'apikeys.revoke': { request: async (w) => ({ path: `/api/v1/api-keys/${(await createKey(w.svc, 'A', 'validate')).id}` }), status: ownTenant(200) },
  'audit.list': { request: () => ({ path: '/api/v1/audit?limit=5' }) },

  // Officer console and the public report page (issue #8).
  'console.home': { request: () => ({ path: '/console' }), status: 303 },
  'console.login': { request: () => ({ path: '/console/login' }), status: (c) => (c.kind === 'officer' ? 303 : 200) },
  ...Object.fromEntries(
    (
      [
        ['certify', 'certify'],
        ['today', 'read-registry'],
        ['search', 'read-registry'],
        ['admin', 'admin'],
      ] as const
    ).map(([section, scope]): [string, Sample] => [
      `console.${section}`,
      // No session → the login page; a role without the section's scope → 403.
      { request: () => ({ path: `/console/${section}` }), status: (c) => (c.kind !== 'officer' ? 303 : c.scopes.includes(scope) ? 200 : 403) },
    ]),
  ),
  // Every officer's own account page; without a session → the login page.
  'console.account': { request: () => ({ path: '/console/account' }), status: (c) => (c.kind !== 'officer' ? 303 : 200) },
  // Certified copies, refusals and the public lookup API (issue #7).
  'copies.certify': { request: () => ({ path: '/api/v1/certified-copies', ...noScan() }), status: 400 },
  'copies.preview': { request: () => ({ path: '/api/v1/certified-copies/preview', ...noScan() }), status: 400 },
  'copies.list': { request: () => ({ path: '/api/v1/certified-copies?limit=1' }) },
  'copies.get': { request: (w) => ({ path: `/api/v1/certified-copies/${tenantACopy(w)}` }), status: ownTenant(200) },
  'copies.pdf': { request: (w) => ({ path: `/api/v1/certified-copies/${tenantACopy(w)}/pdf` }), status: ownTenant(200) },
  'copies.annul': {
    request: (w) => ({ path: `/api/v1/certified-copies/${tenantACopy(w)}/annul`, ...jsonBody({ decisionNumber: '5/QĐ-UBND', decisionDate: '2026-11-29', reason: 'Chứng thực sai' }) }),
    status: ownTenant(200),
  },
  'refusals.create': { request: () => ({ path: '/api/v1/refusals', ...jsonBody({ ground: 'illegible', documentType: 'Giấy khai sinh' }) }), status: 201 },
  'refusals.list': { request: () => ({ path: '/api/v1/refusals?limit=1' }) },
  'copies.publicLookup': { request: () => ({ path: `/api/v1/public/copies/${UNKNOWN_CODE}` }), status: 404 },
  'report.form': { request: () => ({ path: '/report' }) },
  'report.create': { request: (w) => ({ path: '/report', headers: { 'content-type': 'application/pdf' }, body: pdf(w) }) },
};

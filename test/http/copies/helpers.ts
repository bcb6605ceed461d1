/** Shared set-up of the certified-copy API tests: tenants, keys and officers, scans, multipart requests. */
import { fixturePdf, rasterize, Workdir } from '../../stamp/helpers.ts';
import { bearer, cli, createKey, createOfficer, createTenant, holderOf, type CreatedKey, type CreatedOfficer } from '../access/helpers.ts';
import type { TestService } from '../../support/service.ts';

/** `n` A4 pages rendered to JPEG at 100 dpi, each with its own label ("Trang k"). */
export async function jpegScans(n: number, label = 'Trang'): Promise<Uint8Array[]> {
  const wd = new Workdir();
  try {
    const pdf = await fixturePdf(Array.from({ length: n }, (_, i) => ({ size: [595, 842] as [number, number], label: `${label} ${i + 1}` })));
    return Array.from({ length: n }, (_, i) => rasterize(wd, pdf, i + 1, 'jpeg', 100));
  } finally {
    wd.remove();
  }
}

export interface TenantWorld {
  code: string;
  tenantId: string;
  key: CreatedKey;
  officer: CreatedOfficer & { displayName: string };
}

/** A tenant, a key for its systems and an officer (with personal key `officerKey`; null: none, leaving the dev keys to the test). */
export async function tenantWorld(svc: TestService, code: string, officerKey: string | null = 'officer1'): Promise<TenantWorld> {
  await createTenant(svc, code);
  const key = await createKey(svc, code, 'certify,read-registry,annul,validate');
  // An officer with a personal key bears the name in its certificate (the stamp and the signature name one person).
  const displayName = officerKey ? holderOf(officerKey) : `Cán bộ ${code}`;
  const officer = { ...(await createOfficer(svc, code, `can-bo.${code.toLowerCase()}`, { key: officerKey ?? undefined, name: displayName, title: 'Phó Chủ tịch UBND' })), displayName };
  const tenantId = (svc.db.db.prepare('SELECT id FROM tenants WHERE code = ?').get(code) as { id: string }).id;
  return { code, tenantId, key, officer };
}

export const FIELDS = {
  documentType: 'Giấy khai sinh',
  originalIssuer: 'UBND xã Đông Sơn',
  requesterName: 'Trần Thị Hoa',
  originalPages: '3',
};

export function scanForm(scans: readonly Uint8Array[], fields: Record<string, string>, type = 'image/jpeg'): FormData {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  scans.forEach((s, i) => form.append('file', new Blob([new Uint8Array(s)], { type }), `trang-${i + 1}.${type === 'image/jpeg' ? 'jpg' : 'bin'}`));
  return form;
}

export async function post(svc: TestService, path: string, auth: Record<string, string>, body: FormData | Record<string, unknown>, headers: Record<string, string> = {}): Promise<Response> {
  const isForm = body instanceof FormData;
  return fetch(`${svc.url}${path}`, {
    method: 'POST',
    headers: { ...auth, ...headers, ...(isForm ? {} : { 'content-type': 'application/json' }) },
    body: isForm ? body : JSON.stringify(body),
  });
}

export async function get(svc: TestService, path: string, auth: Record<string, string>): Promise<Response> {
  return fetch(`${svc.url}${path}`, { headers: auth });
}

export { bearer, cli, createOfficer };

export interface CertifiedJson {
  copy: { id: string; number: number; status: string; publicCode: string; registerVolume: string; feeVnd: number; certifierName: string; requesterName: string; caseCode: string | null; pdfSha256: string };
  accessCode: string;
  verificationUrl: string;
  pdfUrl: string;
}

export function countRows(svc: TestService, sql: string, ...params: unknown[]): number {
  return (svc.db.db.prepare(sql).get(...params) as { n: number }).n;
}

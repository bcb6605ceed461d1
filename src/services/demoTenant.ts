/**
 * The demo office a fresh development checkout starts with (`npm start` with the dev PKI, DEMO on):
 * a tenant allowed to sign with the dev HSM keys and three accounts — an officer (key officer1), a
 * supervisor who may annul (key officer2) and an administrator. Passwords are random, stored only
 * as scrypt hashes, and returned once so the start banner can print them; later starts find the
 * accounts and return none. Never used with a production PKI (Config.demo).
 */
import { generatePassword, OfficerRepository, TenantRepository, type OfficerRole, type Sqlite, type Tenant } from '../registry/index.ts';

export const DEMO_TENANT = { code: 'DEMO', name: 'UBND phường Hạc Thành (demo)' } as const;

/** The dev token's keys the demo tenant may sign with (scripts/dev-pki.ts creates them). */
export const DEMO_KEYS = ['seal', 'officer1', 'officer2'] as const;

export interface DemoAccountSpec {
  readonly username: string;
  readonly displayName: string;
  readonly title: string;
  readonly role: OfficerRole;
  readonly signingKeyLabel: string | null;
  /** Names earlier builds gave the account: a data directory seeded then is mended to `displayName`. */
  readonly formerDisplayNames?: readonly string[];
}

export const DEMO_ACCOUNTS: readonly DemoAccountSpec[] = [
  { username: 'canbo.demo', displayName: 'Nguyễn Văn An', title: 'Công chức Tư pháp – Hộ tịch', role: 'officer', signingKeyLabel: 'officer1' },
  { username: 'lanhdao.demo', displayName: 'Lê Thị Bình', title: 'Phó Chủ tịch UBND phường', role: 'supervisor', signingKeyLabel: 'officer2', formerDisplayNames: ['Trần Thị Bình'] },
  { username: 'quantri.demo', displayName: 'Lê Minh Châu', title: 'Quản trị hệ thống', role: 'admin', signingKeyLabel: null },
];

export interface DemoCredentials {
  readonly username: string;
  readonly password: string;
  readonly role: OfficerRole;
}

export interface DemoSeed {
  readonly tenant: Tenant;
  /** Accounts created by this call with their one-time passwords; empty when they already existed. */
  readonly created: readonly DemoCredentials[];
  /** Usernames of existing accounts whose name from an earlier build was mended by this call. */
  readonly renamed: readonly string[];
}

/**
 * Creates what is missing of the demo office (idempotent: each piece is created only if absent, so
 * a start interrupted half-way is completed by the next one). An existing account that still bears
 * a name an earlier build gave it gets the current one — the demo supervisor was once named
 * differently from her key's certificate, which certification now refuses; a name an administrator
 * chose is left alone.
 */
export async function seedDemoTenant(db: Sqlite): Promise<DemoSeed> {
  const tenants = new TenantRepository(db);
  const officers = new OfficerRepository(db);
  // Several instances may start together on a new data directory: what another one created meanwhile is taken as it is.
  const tenant = tenants.getByCode(DEMO_TENANT.code) ?? orTheirs(() => tenants.create({ code: DEMO_TENANT.code, name: DEMO_TENANT.name }), () => tenants.getByCode(DEMO_TENANT.code));
  for (const key of DEMO_KEYS) {
    if (!tenants.maySignWith(tenant.id, key)) orTheirs(() => tenants.allowSigningKey(tenant.id, key), () => tenants.maySignWith(tenant.id, key) || null);
  }
  const created: DemoCredentials[] = [];
  const renamed: string[] = [];
  for (const spec of DEMO_ACCOUNTS) {
    const existing = officers.getByUsername(spec.username);
    if (existing) {
      if (existing.tenantId === tenant.id && spec.formerDisplayNames?.includes(existing.displayName)) {
        officers.update(existing.id, { displayName: spec.displayName });
        renamed.push(spec.username);
      }
      continue;
    }
    const password = generatePassword();
    // Its password is printed by the instance that made it.
    const made = await officers.create({ tenantId: tenant.id, ...spec, password, createdBy: 'demo-seed' }).then(
      () => true,
      (err: unknown) => (officers.getByUsername(spec.username) ? false : Promise.reject(err)),
    );
    if (made) created.push({ username: spec.username, password, role: spec.role });
  }
  return { tenant, created, renamed };
}

/** `make()`, or, when it failed because another process made the same thing first, what `theirs()` finds. */
function orTheirs<T, U>(make: () => T, theirs: () => U | null): T | U {
  try {
    return make();
  } catch (err) {
    const found = theirs();
    if (found === null) throw err;
    return found;
  }
}

/** The start banner's demo part: the one-time passwords (first start only) and how to try the console. */
export function demoBannerLines(seed: DemoSeed, base: string): string[] {
  const lines = [`Demo office "${seed.tenant.name}" (tenant ${seed.tenant.code}; DEMO=off to leave it out):`];
  if (seed.created.length > 0) {
    lines.push('  accounts created now — the passwords are shown ONCE, write them down:');
    for (const c of seed.created) lines.push(`    ${c.role.padEnd(10)} ${c.username.padEnd(14)} ${c.password}`);
  } else {
    lines.push(`  accounts: ${DEMO_ACCOUNTS.map((a) => `${a.username} (${a.role})`).join(', ')} — passwords were printed at the first start`);
  }
  for (const username of seed.renamed) {
    const spec = DEMO_ACCOUNTS.find((a) => a.username === username)!;
    lines.push(`  ${username} renamed to "${spec.displayName}", the name on its key's certificate`);
  }
  lines.push(
    `  certify the sample scan: open ${base}/console, sign in as canbo.demo, drop fixtures/sample-scan-1.jpg`,
    '  and fixtures/sample-scan-2.jpg, fill in the form, "Chứng thực và ký số", then open the QR link.',
    `  check any signed PDF: ${base}/report`,
  );
  return lines;
}

/** A certified copy of the sample scan made with the real CLI in a running world, for the page tests. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { cli } from '../http/access/helpers.ts';
import { DEV_PATHS } from './hsm.ts';
import type { PkiWorld } from './pkiWorld.ts';

export interface SampleCopy {
  /** The public code (what the QR code opens at /v/{code}). */
  code: string;
  /** The certified PDF. */
  pdf: Buffer;
}

/** Creates tenant `tenant` and certifies fixtures/sample-scan-1.jpg for it (one page, a birth certificate). */
export async function certifySample(world: PkiWorld, tenant: string): Promise<SampleCopy> {
  const agency = `UBND phường ${tenant}`;
  expect((await cli(world.svc, ['tenant', 'create', '--code', tenant, '--name', agency])).code).toBe(0);
  const out = path.join(world.tmp, `ban-sao-${tenant}.pdf`);
  const scan = path.join(DEV_PATHS.root, 'fixtures', 'sample-scan-1.jpg');
  const r = await cli(world.svc, ['certify', scan, '-o', out, '--tenant', tenant, '--document-type', 'Giấy khai sinh', '--issuer', agency, '--requester', 'Nguyễn Văn Mẫu', '--original-pages', '1']);
  expect(r.code, r.err).toBe(0);
  return { code: /\/v\/([A-Z2-7]{32})/.exec(r.out)![1]!, pdf: readFileSync(out) };
}

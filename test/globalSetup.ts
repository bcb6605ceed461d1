// Runs once before the suite: makes sure the HSM token and the dev PKI exist (idempotent, fast when
// present), so `npx vitest run` works on its own as well as under `npm test`.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export default function setup(): void {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/dev-pki.ts'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) throw new Error('scripts/dev-pki.ts failed; see its output above');
}

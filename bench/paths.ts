/** Where the benchmark reads its inputs and writes its outputs. */
import path from 'node:path';
import { DEV_PATHS } from '../scripts/devPkiPaths.ts';
import { BENCH_DIR } from '../scripts/gen-bench-fixtures.ts';

export const BENCH_PATHS = {
  benchDir: BENCH_DIR,
  /** git-ignored: results.json and the signed outputs while a measurement runs. */
  outDir: path.join(BENCH_DIR, 'out'),
  workDir: path.join(BENCH_DIR, 'out', 'work'),
  resultsJson: path.join(BENCH_DIR, 'out', 'results.json'),
  issuingCaPem: DEV_PATHS.issuingCaPem,
  issuingCaKey: DEV_PATHS.issuingCaKey,
  /** issuing CA + root CA, PEM: the chain every engine embeds. */
  chainPem: DEV_PATHS.chainPem,
} as const;

/**
 * Every file of the shared corpus gets the verdict its manifest expects (README of the corpus):
 * intact → no TOTAL-FAILED, no disallowed change, the expected number of signatures; reject → at
 * least one TOTAL-FAILED; flag → disallowed changes reported (or a failure) and never TOTAL-PASSED;
 * error-clean / no-signature → a clean error or no signature, never a valid one. No trust anchors.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEV_PATHS } from '../../support/hsm.ts';
import { validatePdf, type ValidationReport } from '../../../src/pades/validation/index.ts';

const CORPUS = path.resolve(DEV_PATHS.root, '..', 'shared', 'corpus');
interface Entry {
  file: string;
  class: string;
  expect: { verdict: string; signatures?: number; alsoAcceptable?: string[] };
}
const manifest = JSON.parse(readFileSync(path.join(CORPUS, 'manifest.json'), 'utf8')) as Entry[];

/**
 * Files that cannot pass for a reason outside this module, each explained in the report:
 * qpdf-minimal-signed-restricted.pdf is encrypted (RC4/AES standard security handler) and the PDF
 * layer refuses encrypted files; the validator reports a clean `pdf-encrypted` error instead.
 */
const KNOWN_LIMITS = new Map([['docmdp/qpdf-minimal-signed-restricted.pdf', 'pdf-encrypted']]);

function satisfies(verdict: string, r: ValidationReport, e: Entry): string | null {
  const failed = r.signatures.some((s) => s.indication === 'TOTAL-FAILED');
  const disallowed = r.revisions.some((x) => x.verdict === 'not-allowed');
  switch (verdict) {
    case 'intact':
      if (r.document.error) return `error ${r.document.error.code}`;
      if (failed) return 'a signature is TOTAL-FAILED';
      if (disallowed) return 'disallowed change reported';
      if (r.signatures.length !== e.expect.signatures) return `${r.signatures.length} signatures, expected ${e.expect.signatures}`;
      return null;
    case 'reject':
      return failed ? null : 'no TOTAL-FAILED signature';
    case 'flag':
      if (r.documentIndication === 'TOTAL-PASSED') return 'document TOTAL-PASSED';
      return failed || disallowed ? null : 'no disallowed change reported';
    case 'no-signature':
    case 'error-clean':
      if (r.signatures.some((s) => s.indication === 'TOTAL-PASSED') || r.documentIndication === 'TOTAL-PASSED') return 'a valid signature reported';
      return r.document.error || r.signatures.length === 0 ? null : 'signatures reported without an error';
    default:
      return `unknown verdict ${verdict}`;
  }
}

describe('validatePdf over the shared corpus', () => {
  it('gives every file the verdict its manifest expects', async () => {
    const tally = new Map<string, { files: number; ok: number; failedSigs: number; flagged: number; errors: number }>();
    const problems: string[] = [];
    for (const e of manifest) {
      const r = await validatePdf({ path: path.join(CORPUS, e.file) }, { trustAnchors: [] });
      // The report is plain data.
      expect(JSON.parse(JSON.stringify(r))).toEqual(r);
      const known = KNOWN_LIMITS.get(e.file);
      const verdicts = [e.expect.verdict, ...(e.expect.alsoAcceptable ?? [])];
      const reasons = verdicts.map((v) => satisfies(v, r, e));
      const ok = reasons.some((x) => x === null) || (known !== undefined && r.document.error?.code === known);
      if (!ok) problems.push(`${e.file} [${e.expect.verdict}]: ${reasons.join(' / ')}`);
      const t = tally.get(e.class) ?? { files: 0, ok: 0, failedSigs: 0, flagged: 0, errors: 0 };
      t.files++;
      if (ok) t.ok++;
      if (r.signatures.some((s) => s.indication === 'TOTAL-FAILED')) t.failedSigs++;
      if (r.revisions.some((x) => x.verdict === 'not-allowed')) t.flagged++;
      if (r.document.error) t.errors++;
      tally.set(e.class, t);
    }
    console.log('\ncorpus tally (class: files, as expected, with TOTAL-FAILED, with disallowed changes, clean errors)');
    console.table(Object.fromEntries([...tally].sort()));
    expect(problems).toEqual([]);
    expect(manifest.length).toBe(99);
  }, 120_000);

  it('never reports a signature of an attack class as TOTAL-PASSED', async () => {
    const attacks = manifest.filter((e) => ['reject', 'flag'].includes(e.expect.verdict));
    expect(attacks.length).toBeGreaterThan(15);
    for (const e of attacks) {
      const r = await validatePdf({ path: path.join(CORPUS, e.file) }, { trustAnchors: [] });
      expect(r.documentIndication, e.file).not.toBe('TOTAL-PASSED');
    }
  }, 60_000);
});

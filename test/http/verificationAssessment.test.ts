/**
 * The public page's integrity check looks at the stored file again after `recheckMs`, not on every
 * view; its issuer check reads the file's signature verdicts.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CopyAssessor, issuerCheck } from '../../src/http/routes/verification/assessment.ts';
import type { PublicCopyView } from '../../src/registry/index.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'assess-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const bytes = Buffer.from('%PDF-1.7\nnot really signed\n');
const view = { status: 'valid', pdfSha256: createHash('sha256').update(bytes).digest('hex') } as PublicCopyView;

function store(name: string, content: Buffer): void {
  mkdirSync(path.join(dir, 'copies', 'T'), { recursive: true });
  writeFileSync(path.join(dir, 'copies', 'T', name), content);
}

describe('CopyAssessor', () => {
  it('notices a replaced file once the recheck interval has passed', async () => {
    store('a.pdf', bytes);
    const assessor = new CopyAssessor(path.join(dir, 'copies'), undefined, 10, 0);
    // Hash matches; with no validation configured the signatures are "not validated".
    expect((await assessor.assess(view, 'T/a.pdf')).integrity).toEqual({ outcome: 'ERROR', reason: 'not-validated' });
    store('a.pdf', Buffer.concat([bytes, Buffer.from('appended\n')]));
    expect((await assessor.assess(view, 'T/a.pdf')).integrity).toEqual({ outcome: 'INVALID', reason: 'hash-differs' });
  });

  it('trusts what it saw within the interval, and reports a missing file and a key outside the store', async () => {
    store('b.pdf', bytes);
    const assessor = new CopyAssessor(path.join(dir, 'copies'), undefined, 10, 60_000);
    expect((await assessor.assess(view, 'T/b.pdf')).integrity.reason).toBe('not-validated');
    store('b.pdf', Buffer.from('tampered'));
    expect((await assessor.assess(view, 'T/b.pdf')).integrity.reason).toBe('not-validated');
    expect((await assessor.assess(view, 'T/none.pdf')).integrity).toEqual({ outcome: 'ERROR', reason: 'file-missing' });
    expect((await assessor.assess(view, '../../etc/passwd')).integrity).toEqual({ outcome: 'ERROR', reason: 'file-missing' });
  });

  it('answers without waiting once the facts are in and fresh, never from a failed look', async () => {
    store('c.pdf', bytes);
    const fresh = new CopyAssessor(path.join(dir, 'copies'), undefined, 10, 60_000);
    expect(fresh.assessKnown(view, 'T/c.pdf')).toBeUndefined();
    const waited = await fresh.assess(view, 'T/c.pdf');
    expect(fresh.assessKnown(view, 'T/c.pdf')).toEqual(waited);
    expect(fresh.assessKnown({ ...view, status: 'annulled' }, 'T/c.pdf')?.status).toEqual({ outcome: 'INVALID', reason: 'annulled' });
    await fresh.assess(view, 'T/none.pdf');
    expect(fresh.assessKnown(view, 'T/none.pdf')).toBeUndefined();
    const stale = new CopyAssessor(path.join(dir, 'copies'), undefined, 10, 0);
    await stale.assess(view, 'T/c.pdf');
    expect(stale.assessKnown(view, 'T/c.pdf')).toBeUndefined(); // past the recheck interval: look again
  });
});

describe('issuerCheck', () => {
  type Sig = { indication: 'TOTAL-PASSED' | 'TOTAL-FAILED' | 'INDETERMINATE'; subIndication: string | null };
  const of = (...signatures: Sig[]) => issuerCheck({ signatures } as unknown as Parameters<typeof issuerCheck>[0]);
  const passed: Sig = { indication: 'TOTAL-PASSED', subIndication: null };

  it('calls a copy revoked whatever form the revocation verdict takes (EN 319 102-1 Table 5)', () => {
    for (const sub of ['REVOKED', 'REVOKED_NO_POE', 'REVOKED_CA_NO_POE']) {
      const indication = sub === 'REVOKED' ? 'TOTAL-FAILED' : 'INDETERMINATE';
      expect(of(passed, { indication, subIndication: sub }), sub).toEqual({ outcome: 'INVALID', reason: 'revoked' });
    }
  });

  it('tells untrusted chains, indeterminate verdicts and trusted signers apart', () => {
    expect(of(passed, { indication: 'INDETERMINATE', subIndication: 'CHAIN_CONSTRAINTS_FAILURE' })).toEqual({ outcome: 'INVALID', reason: 'untrusted' });
    expect(of(passed, { indication: 'INDETERMINATE', subIndication: 'TRY_LATER' })).toEqual({ outcome: 'ERROR', reason: 'indeterminate' });
    expect(of(passed, passed)).toEqual({ outcome: 'VALID', reason: 'trusted' });
    expect(of()).toEqual({ outcome: 'INVALID', reason: 'untrusted' });
    expect(issuerCheck(null)).toEqual({ outcome: 'ERROR', reason: 'not-validated' });
  });
});

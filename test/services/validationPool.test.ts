/**
 * Validation in worker threads (the service's path): the same report as in this thread, and a job
 * that outlives its limit takes only its worker down; a fresh one answers the next job.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateFixtures } from '../../scripts/gen-fixtures.ts';
import { loadConfig } from '../../src/config.ts';
import { buildTrustServices } from '../../src/main.ts';
import { parsePolicy, policyToJson } from '../../src/pades/validation/index.ts';
import { loadCertificates } from '../../src/pki/index.ts';
import { openDatabase } from '../../src/registry/index.ts';
import { signDocument } from '../../src/services/signDocument.ts';
import { validateDocument } from '../../src/services/validateDocument.ts';
import { ValidationPool } from '../../src/services/validationPool.ts';
import type { Pkcs11Token } from '../../src/signers/index.ts';
import { classicPdf } from '../support/classicPdf.ts';
import { DEV_PATHS, openDevToken } from '../support/hsm.ts';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'chungthuc-vpool-'));
let token: Pkcs11Token;
let signed: string;
const anchors = loadCertificates(DEV_PATHS.rootCaPem);
const policy = parsePolicy({ name: 'no-revocation', revocation: { required: false } });
const settings = { trustAnchors: anchors.map((c) => new Uint8Array(c.raw)), policyJson: policyToJson(policy), timeoutMs: 20_000, revocation: { timeoutMs: 1000 } };

beforeAll(async () => {
  const fx = generateFixtures(path.join(tmp, 'fx'));
  token = await openDevToken();
  const db = openDatabase(path.join(tmp, 'db.sqlite'));
  const trust = buildTrustServices(loadConfig({ ...process.env, DATA_DIR: tmp, LOG_LEVEL: 'silent' }), (l) => token.getSigner(l), db.db);
  signed = path.join(tmp, 'signed.pdf');
  await signDocument(trust.signing, { path: fx.classic }, { path: signed }, { key: 'officer1', level: 'B-B', reason: 'x' });
  db.close();
}, 60_000);
afterAll(async () => {
  await token?.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe('validation worker pool', () => {
  it('gives the report validation in this thread gives', async () => {
    const pool = new ValidationPool({ ...settings, size: 1, hardLimitMs: 60_000 });
    try {
      const inWorker = await pool.validate({ path: signed });
      const here = await validateDocument({ trustAnchors: anchors, policy }, { path: signed });
      expect(inWorker.documentIndication).toBe('TOTAL-PASSED');
      expect(inWorker.signatures.map((s) => [s.indication, s.signerSubject])).toEqual(here.signatures.map((s) => [s.indication, s.signerSubject]));
      expect(pool.completed).toBe(1);
      // Through validateDocument, as the routes call it.
      const routed = await validateDocument({ trustAnchors: anchors, policy, pool }, { path: signed });
      expect(routed.documentIndication).toBe('TOTAL-PASSED');
      expect(pool.completed).toBe(2);
    } finally {
      await pool.close();
    }
  });

  it('a job past its limit fails with validation-timeout and takes only its worker down: the next job is answered', async () => {
    const lost: string[] = [];
    const pool = new ValidationPool({ ...settings, size: 1, hardLimitMs: 60_000, onWorkerLost: (r) => lost.push(r) });
    try {
      await expect(pool.validate({ path: signed }, { hardLimitMs: 1 })).rejects.toMatchObject({ code: 'validation-timeout', status: 422 });
      expect(lost).toHaveLength(1);
      expect((await pool.validate({ path: signed })).documentIndication).toBe('TOTAL-PASSED');
    } finally {
      await pool.close();
    }
    await expect(pool.validate({ path: signed })).rejects.toMatchObject({ code: 'validation-unavailable' });
  });

  it('an urgent job (a stored copy a QR lookup waits for) goes ahead of the uploads waiting', async () => {
    const pool = new ValidationPool({ ...settings, size: 1, hardLimitMs: 60_000 });
    try {
      const order: string[] = [];
      const run = (name: string, urgent: boolean) => pool.validate({ path: signed }, { urgent }).then(() => order.push(name));
      await Promise.all([run('first', false), run('upload', false), run('stored-copy-1', true), run('stored-copy-2', true)]);
      // Urgent jobs keep their order among themselves.
      expect(order).toEqual(['first', 'stored-copy-1', 'stored-copy-2', 'upload']);
    } finally {
      await pool.close();
    }
  });

  it('a file that exhausts a worker\'s heap fails alone with validation-failed; a fresh worker answers the next job', async () => {
    // Millions of numbers in /AcroForm /Fields: a few MB of file, far more than 64 MB of parsed objects.
    const numbers = `[${'0 '.repeat(3_000_000)}]`;
    const pdf = classicPdf([`<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields ${numbers} >> >>`, '<< /Type /Pages /Kids [3 0 R] /Count 1 >>', '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>']);
    const heavy = path.join(tmp, 'heavy.pdf');
    writeFileSync(heavy, pdf);

    const lost: string[] = [];
    const pool = new ValidationPool({ ...settings, size: 1, hardLimitMs: 60_000, maxHeapMb: 64, onWorkerLost: (r) => lost.push(r) });
    try {
      await expect(pool.validate({ path: heavy })).rejects.toMatchObject({ code: 'validation-failed', status: 500 });
      expect(lost).toHaveLength(1);
      expect(lost[0]).toMatch(/memory limit/);
      expect((await pool.validate({ path: signed })).documentIndication).toBe('TOTAL-PASSED');
      expect(lost).toHaveLength(1);
    } finally {
      await pool.close();
    }
  });

  it('a file the worker cannot read is an error of that job only', async () => {
    const pool = new ValidationPool({ ...settings, size: 2, hardLimitMs: 60_000 });
    try {
      const [missing, fine] = await Promise.allSettled([pool.validate({ path: path.join(tmp, 'no-such.pdf') }), pool.validate({ path: signed })]);
      expect(missing.status).toBe('rejected');
      // A fault, not a client's error: no code, and its message stays in the log (not the answer).
      expect((missing as PromiseRejectedResult).reason).not.toHaveProperty('code');
      expect(fine).toMatchObject({ status: 'fulfilled', value: { documentIndication: 'TOTAL-PASSED' } });
    } finally {
      await pool.close();
    }
  });
});

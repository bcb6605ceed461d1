/**
 * Files with very many signature fields: fields sharing one signature dictionary are one signature
 * (the B-LT step used to gather validation data once per field: 1 000 fields took 1.2 s of event
 * loop), and beyond MAX_SIGNATURES distinct signatures the B-LT step and the validator refuse the
 * file with pdf-limit-exceeded instead of working through all of them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type { X509Certificate } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateFixtures } from '../../scripts/gen-fixtures.ts';
import { loadConfig } from '../../src/config.ts';
import { buildTrustServices, type TrustServices } from '../../src/main.ts';
import { MAX_SIGNATURES, appendUpdate, type RevocationProvider } from '../../src/pades/index.ts';
import { parsePolicy } from '../../src/pades/validation/index.ts';
import { IncrementalUpdate, PdfDict, PdfDocument, PdfName, PdfRef, PdfString, type PdfValue } from '../../src/pdf/index.ts';
import { loadCertificates } from '../../src/pki/index.ts';
import { openDatabase, type OpenedDatabase } from '../../src/registry/index.ts';
import { extendDocument } from '../../src/services/extendDocument.ts';
import { signDocument } from '../../src/services/signDocument.ts';
import { validateDocument } from '../../src/services/validateDocument.ts';
import type { Pkcs11Token } from '../../src/signers/index.ts';
import { DEV_PATHS, openDevToken } from '../support/hsm.ts';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'chungthuc-many-sigs-'));
let token: Pkcs11Token;
let db: OpenedDatabase;
let trust: TrustServices;
let signed: Uint8Array;

beforeAll(async () => {
  const fx = generateFixtures(path.join(tmp, 'fx'));
  token = await openDevToken();
  db = openDatabase(path.join(tmp, 'db.sqlite'));
  trust = buildTrustServices(loadConfig({ ...process.env, DATA_DIR: tmp, LOG_LEVEL: 'silent' }), (l) => token.getSigner(l), db.db);
  signed = (await signDocument({ ...trust.signing, revocation: undefined }, { path: fx.classic }, { memory: true }, { key: 'officer1', level: 'B-T', reason: 'x' })).bytes!;
}, 60_000);
afterAll(async () => {
  db?.close();
  await token?.close();
  rmSync(tmp, { recursive: true, force: true });
});

/** Revocation answers without a responder: this file is about counts, not statuses. */
const counting = (asked: X509Certificate[]): RevocationProvider => ({
  chain: (leaf, carried) => trust.signing.revocation!.chain(leaf, carried),
  async revocation(cert) {
    asked.push(cert);
    return { status: 'good', certs: [] };
  },
});

/** `signed` plus `n` more signature fields: sharing its signature dictionary, or each with its own copy whose CMS differs in its last bytes (n ≤ 65 535). */
async function withFields(n: number, distinct: boolean): Promise<Uint8Array> {
  const doc = PdfDocument.open(signed);
  const [field] = doc.signatureFields();
  const up = new IncrementalUpdate(doc);
  const acroRef = doc.catalog.get('AcroForm');
  if (!(acroRef instanceof PdfRef) || !field?.valueRef || !field.value) throw new Error('fixture: expected an indirect /AcroForm and signature dictionary');
  const fields = [...(doc.resolve(doc.resolveDict(acroRef)!.get('Fields')) as PdfValue[])];
  const contents = (field.value.get('Contents') as PdfString).bytes;
  const derEnd = contents.findLastIndex((b) => b !== 0) + 1;
  for (let i = 0; i < n; i++) {
    let v: PdfRef = field.valueRef;
    if (distinct) {
      const bytes = Uint8Array.from(contents);
      // XOR with i + 1 (1..n, never 0): every copy differs from the original and from each other. Setting
      // the bytes to i instead made one copy equal the original whenever its byte before last was 0.
      bytes[derEnd - 2]! ^= (i + 1) >> 8;
      bytes[derEnd - 1]! ^= (i + 1) & 255;
      const sig = new PdfDict();
      for (const [k, val] of field.value.entries()) sig.set(k, val);
      sig.set('Contents', new PdfString(bytes, true));
      v = up.add(sig);
    }
    const d = new PdfDict();
    d.set('FT', PdfName.of('Sig'));
    d.set('T', new PdfString(Buffer.from(`copy${i}`), false));
    d.set('V', v);
    fields.push(up.add(d));
  }
  up.edit(acroRef.num).set('Fields', fields);
  return (await appendUpdate({ bytes: signed }, { memory: true }, up.build().bytes)).bytes!;
}

describe('many signature fields', () => {
  it('fields sharing one signature dictionary get validation data once', async () => {
    const asked: X509Certificate[] = [];
    const r = await extendDocument({ ...trust.signing, revocation: counting(asked) }, { bytes: await withFields(1000, false) }, { memory: true }, 'B-LT');
    expect(r.added).toEqual(['dss']);
    // One signature: officer1, its issuing CA and the TSA of its time-stamp asked once each.
    expect(asked).toHaveLength(3);
    const doc = PdfDocument.open(r.bytes!);
    expect([...doc.resolveDict(doc.resolveDict(doc.catalog.get('DSS'))?.get('VRI'))!.keys()]).toHaveLength(1);
  });

  it(`more than ${MAX_SIGNATURES} distinct signatures: the B-LT step and the validator refuse with pdf-limit-exceeded`, async () => {
    const bytes = await withFields(MAX_SIGNATURES, true); // the original one and MAX_SIGNATURES copies
    const asked: X509Certificate[] = [];
    await expect(extendDocument({ ...trust.signing, revocation: counting(asked) }, { bytes }, { memory: true }, 'B-LT')).rejects.toMatchObject({
      code: 'pdf-limit-exceeded',
      status: 422,
      message: expect.stringMatching(new RegExp(`${MAX_SIGNATURES + 1} signatures .* at most ${MAX_SIGNATURES}`)),
    });
    expect(asked).toHaveLength(0);
    const report = await validateDocument({ trustAnchors: loadCertificates(DEV_PATHS.rootCaPem), policy: parsePolicy({ name: 'x', revocation: { required: false } }) }, { bytes });
    expect(report.document.error?.code).toBe('pdf-limit-exceeded');
    expect(report.documentIndication).not.toBe('TOTAL-PASSED');
  });
});

// The built-in TSA with the real HSM key `tsa`, judged by `openssl ts` (query, reply -text, verify).
import { X509Certificate, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  encodeTimeStampReq,
  parseTimeStampResp,
  parseTimeStampToken,
  verifyTimeStampToken,
  type PkiFailureInfo,
} from '../../src/cms/index.ts';
import {
  DEV_TSA_POLICY_OID,
  SqliteSerialSource,
  TSA_SERIAL_SCHEMA_SQL,
  TimeStampAuthority,
  TsaError,
  handleTimestampQuery,
} from '../../src/tsa/index.ts';
import { devCertPath, readPemDer } from '../support/hsm.ts';
import { openDevTsaKit, run, startServer, tsaHandler, type DevTsaKit, type TestServer } from './tsaTestKit.ts';

let kit: DevTsaKit;
let tsa: TimeStampAuthority;
let server: TestServer;
const dataFile = (): string => path.join(kit.dir, 'data.bin');

beforeAll(async () => {
  kit = await openDevTsaKit();
  tsa = kit.newTsa({ accuracy: { millis: 500 } }).tsa;
  server = await startServer(tsaHandler(tsa));
  writeFileSync(dataFile(), randomBytes(4096));
});

afterAll(async () => {
  await server?.close();
  await kit?.close();
});

async function post(body: Uint8Array, contentType = 'application/timestamp-query'): Promise<{ status: number; type: string; body: Uint8Array }> {
  const res = await fetch(server.url, { method: 'POST', headers: { 'content-type': contentType }, body: Uint8Array.from(body) });
  return { status: res.status, type: res.headers.get('content-type') ?? '', body: new Uint8Array(await res.arrayBuffer()) };
}

function opensslQuery(name: string, args: string[]): Uint8Array {
  const file = path.join(kit.dir, `${name}.tsq`);
  const r = run('openssl', ['ts', '-query', '-data', dataFile(), ...args, '-out', file]);
  expect(r.status, r.out).toBe(0);
  return new Uint8Array(readFileSync(file));
}

function saveReply(name: string, der: Uint8Array): string {
  const file = path.join(kit.dir, `${name}.tsr`);
  writeFileSync(file, der);
  return file;
}

describe('answering openssl ts -query over HTTP', () => {
  it.each([
    ['sha256', ['-sha256', '-cert']],
    ['sha384', ['-sha384', '-cert', '-tspolicy', DEV_TSA_POLICY_OID]],
    ['sha512', ['-sha512', '-no_nonce', '-cert']],
    ['sha256-nocert', ['-sha256']],
  ])('%s: reply -text shows the fields and openssl ts -verify says OK', async (name, args) => {
    const query = opensslQuery(name, args);
    const reply = await post(query);
    expect(reply.status).toBe(200);
    expect(reply.type).toBe('application/timestamp-reply');
    const file = saveReply(name, reply.body);

    const text = run('openssl', ['ts', '-reply', '-in', file, '-text']);
    expect(text.status, text.out).toBe(0);
    expect(text.out).toMatch(/Status: Granted\./);
    expect(text.out).toContain(`Policy OID: ${DEV_TSA_POLICY_OID}`);
    expect(text.out).toMatch(/Serial number: 0x[0-9A-F]+/);
    expect(text.out).toMatch(/Accuracy: (unspecified|0x00) seconds, 0x01F4 millis, unspecified micros/i);
    expect(text.out).toContain(`Hash Algorithm: ${name.slice(0, 6)}`);
    expect(text.out).toMatch(/TSA: DirName:.*Time-Stamping Authority/);
    const queryText = run('openssl', ['ts', '-query', '-in', path.join(kit.dir, `${name}.tsq`), '-text']).out;
    const nonce = /Nonce: (.*)/.exec(queryText)?.[1];
    if (args.includes('-no_nonce')) expect(text.out).toMatch(/Nonce: unspecified/);
    else expect(text.out).toContain(`Nonce: ${nonce!}`);

    // -queryfile checks nonce, imprint, policy and certReq against the query; -data re-hashes the file.
    for (const check of [['-queryfile', path.join(kit.dir, `${name}.tsq`)], ['-data', dataFile()]]) {
      const v = run('openssl', ['ts', '-verify', ...check, '-in', file, '-CAfile', kit.rootPem, '-untrusted', kit.untrustedPem]);
      expect(v.out).toContain('Verification: OK');
    }
    const token = parseTimeStampToken(parseTimeStampResp(reply.body).timeStampToken!);
    expect(token.signedData.certificates.length).toBe(args.includes('-cert') ? 3 : 0);
  });

  it('openssl ts -verify fails on other data (the check has teeth)', async () => {
    const reply = await post(opensslQuery('other', ['-sha256', '-cert']));
    const file = saveReply('other', reply.body);
    const otherData = path.join(kit.dir, 'other.bin');
    writeFileSync(otherData, 'not the time-stamped data');
    const v = run('openssl', ['ts', '-verify', '-data', otherData, '-in', file, '-CAfile', kit.rootPem, '-untrusted', kit.untrustedPem]);
    expect(v.out).not.toContain('Verification: OK');
    expect(v.out).toMatch(/message imprint mismatch/i);
  });

  it('genTime has milliseconds only when the accuracy is below one second', async () => {
    const clock = () => new Date(Date.UTC(2030, 0, 2, 3, 4, 5, 670));
    const imprint = { hashAlgorithm: 'SHA-256' as const, hashedMessage: new Uint8Array(32).fill(7) };
    const fine = kit.newTsa({ accuracy: { millis: 100 }, clock }).tsa;
    const coarse = kit.newTsa({ accuracy: { seconds: 1 }, clock }).tsa;
    const tokenOf = async (t: TimeStampAuthority) =>
      parseTimeStampToken(parseTimeStampResp(await t.respond(encodeTimeStampReq({ messageImprint: imprint }))).timeStampToken!).tstInfo;
    const a = await tokenOf(fine);
    const b = await tokenOf(coarse);
    expect(a.genTimeText).toBe('20300102030405.67Z'); // RFC 3161 §2.4.2: no trailing zeros
    expect(a.genTime.toISOString()).toBe('2030-01-02T03:04:05.670Z');
    expect(b.genTimeText).toBe('20300102030405Z');
    expect(b.accuracy).toEqual({ seconds: 1 });
  });

  it('tokens from the library verify with verifyTimeStampToken: ESS v2, EKU, content type', async () => {
    const data = randomBytes(100);
    const { createHash } = await import('node:crypto');
    const hashedMessage = new Uint8Array(createHash('sha512').update(data).digest());
    const resp = parseTimeStampResp(
      await tsa.respond(encodeTimeStampReq({ messageImprint: { hashAlgorithm: 'SHA-512', hashedMessage }, nonce: 42n, certReq: true })),
    );
    const v = verifyTimeStampToken(resp.timeStampToken!, { data });
    expect(v.problems).toEqual([]);
    expect(v.valid).toBe(true);
    expect(v.signingCertificate).toBe('match');
    expect(v.contentType).toBe('match');
    expect(v.imprint).toBe('match');
    expect(v.tsaName).toBe('match');
    expect(v.tstInfo.nonce).toBe(42n);
    expect(v.signature.algorithm).toBe('RSASSA-PKCS1-v1_5/SHA-256');
    expect(verifyTimeStampToken(resp.timeStampToken!, { data: randomBytes(100) }).imprint).toBe('mismatch');
  });
});

describe('rejections are TimeStampResp values, never throws', () => {
  const rejected = async (body: Uint8Array): Promise<{ failInfo: readonly PkiFailureInfo[]; text: string }> => {
    const reply = await post(body);
    expect(reply.status).toBe(200);
    const resp = parseTimeStampResp(reply.body);
    expect(resp.status.statusName).toBe('rejection');
    expect(resp.timeStampToken).toBeUndefined();
    const file = saveReply(`rejected-${resp.status.failInfo.join('-')}`, reply.body);
    return { failInfo: resp.status.failInfo, text: run('openssl', ['ts', '-reply', '-in', file, '-text']).out };
  };

  it('garbage → badDataFormat', async () => {
    const r = await rejected(new TextEncoder().encode('hello, I am not DER'));
    expect(r.failInfo).toEqual(['badDataFormat']);
    expect(r.text).toMatch(/Status: Rejected/);
    expect(r.text).toContain('Failure info: the data submitted has the wrong format');
  });

  it('empty body and truncated DER → badDataFormat', async () => {
    expect((await rejected(new Uint8Array(0))).failInfo).toEqual(['badDataFormat']);
    const query = opensslQuery('trunc', ['-sha256']);
    expect((await rejected(query.subarray(0, query.length - 3))).failInfo).toEqual(['badDataFormat']);
  });

  it('SHA-1 imprint → badAlg', async () => {
    const r = await rejected(opensslQuery('sha1', ['-sha1']));
    expect(r.failInfo).toEqual(['badAlg']);
    expect(r.text).toContain('Failure info: unrecognized or unsupported algorithm identifier');
  });

  it('unknown policy → unacceptedPolicy', async () => {
    const r = await rejected(opensslQuery('policy', ['-sha256', '-tspolicy', '1.2.3.4.5']));
    expect(r.failInfo).toEqual(['unacceptedPolicy']);
    expect(r.text).toContain('Failure info: the requested TSA policy is not supported by the TSA');
  });

  // Hand-made DER for requests the encoder refuses to produce (short TLV lengths only).
  const tlv = (tag: number, ...parts: number[][]): number[] => {
    const content = parts.flat();
    return [tag, content.length, ...content];
  };
  const SHA256_ALG = tlv(0x30, [0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01], [0x05, 0x00]);
  const request = (hashLength: number, ...more: number[][]): Uint8Array =>
    Uint8Array.from(tlv(0x30, [0x02, 0x01, 0x01], tlv(0x30, SHA256_ALG, tlv(0x04, new Array<number>(hashLength).fill(1))), ...more));

  it('the hand-made request is accepted when well-formed (control)', async () => {
    const reply = await post(request(32));
    expect(parseTimeStampResp(reply.body).status.statusName).toBe('granted');
  });

  it('wrong imprint length → badDataFormat', async () => {
    expect((await rejected(request(31))).failInfo).toEqual(['badDataFormat']);
  });

  it('version 2 → badDataFormat', async () => {
    const v2 = request(32);
    v2[4] = 2;
    expect((await rejected(v2)).failInfo).toEqual(['badDataFormat']);
  });

  it('a request extension → unacceptedExtension', async () => {
    // extensions [0] IMPLICIT SEQUENCE OF Extension { extnID 1.2.3, extnValue OCTET STRING { NULL } }
    const extensions = tlv(0xa0, tlv(0x30, [0x06, 0x02, 0x2a, 0x03], tlv(0x04, [0x05, 0x00])));
    expect((await rejected(request(32, extensions))).failInfo).toEqual(['unacceptedExtension']);
  });
});

describe('handleTimestampQuery edge', () => {
  it('wrong content type → 415 without touching the TSA', async () => {
    const before = kit.newTsa().tsa;
    const r = await handleTimestampQuery(before, 'application/json', new Uint8Array(10));
    expect(r.status).toBe(415);
    expect(new TextDecoder().decode(r.body)).toContain('application/timestamp-query');
    const overHttp = await post(opensslQuery('ct', ['-sha256']), 'application/octet-stream');
    expect(overHttp.status).toBe(415);
  });

  it('content type parameters and case are ignored', async () => {
    const r = await handleTimestampQuery(tsa, 'Application/TimeStamp-Query; charset=binary', opensslQuery('ctp', ['-sha256']));
    expect(r.status).toBe(200);
    expect(parseTimeStampResp(r.body).status.statusName).toBe('granted');
  });

  it('oversized body → 413', async () => {
    const r = await handleTimestampQuery(tsa, 'application/timestamp-query', new Uint8Array(70_000));
    expect(r.status).toBe(413);
  });

  it('a failing HSM → 503 with a systemFailure TimeStampResp, reported to onError', async () => {
    const errors: unknown[] = [];
    const broken = kit.newTsa({
      signer: { ...kit.signer, key: kit.signer.key, certificate: kit.signer.certificate, sign: () => Promise.reject(new Error('HSM gone')) },
      onError: (e) => errors.push(e),
    }).tsa;
    const r = await handleTimestampQuery(broken, 'application/timestamp-query', opensslQuery('sysfail', ['-sha256']));
    expect(r.status).toBe(503);
    const resp = parseTimeStampResp(r.body);
    expect(resp.status.statusName).toBe('rejection');
    expect(resp.status.failInfo).toEqual(['systemFailure']);
    expect((errors[0] as Error).message).toBe('HSM gone');
  });

  it('issues no token outside its certificate\'s validity: systemFailure (503) before and after it, granted inside', async () => {
    const cert = new X509Certificate(Buffer.from(kit.certificate));
    for (const at of [new Date(new Date(cert.validTo).getTime() + 1000), new Date(new Date(cert.validFrom).getTime() - 1000)]) {
      const errors: unknown[] = [];
      const { tsa } = kit.newTsa({ clock: () => at, onError: (e) => errors.push(e), dbFile: path.join(kit.dir, `validity-${at.getTime()}.db`) });
      const r = await handleTimestampQuery(tsa, 'application/timestamp-query', opensslQuery('validity', ['-sha256']));
      expect(r.status).toBe(503);
      expect(parseTimeStampResp(r.body).status.failInfo).toEqual(['systemFailure']);
      expect(errors[0]).toMatchObject({ code: 'tsa-certificate-not-valid' });
    }
    // Inside the validity it answers.
    const ok = await handleTimestampQuery(kit.newTsa({ clock: () => new Date(new Date(cert.validTo).getTime() - 60_000) }).tsa, 'application/timestamp-query', opensslQuery('validity-ok', ['-sha256']));
    expect(parseTimeStampResp(ok.body).status.statusName).toBe('granted');
  });
});

describe('configuration checks', () => {
  it('refuses a certificate without the timeStamping EKU (officer1)', () => {
    expect(() => kit.newTsa({ certificate: readPemDer(devCertPath('officer1')) })).toThrow(TsaError);
    try {
      kit.newTsa({ certificate: readPemDer(devCertPath('officer1')) });
    } catch (e) {
      expect((e as TsaError).code).toBe('tsa-misconfigured');
      expect((e as TsaError).message).toMatch(/extendedKeyUsage/);
    }
  });

  it('refuses a certificate that is not for the HSM key', async () => {
    const seal = await kit.token.getSigner('seal');
    expect(() => kit.newTsa({ signer: seal })).toThrow(/not for HSM key "seal"/);
  });

  it('policy is configurable and extra policies can be accepted', async () => {
    const custom = kit.newTsa({ policyOid: '1.3.6.1.4.1.99999.2.7', acceptedPolicies: ['1.3.6.1.4.1.99999.2.7', '1.3.6.1.4.1.99999.2.8'] }).tsa;
    const imprint = { hashAlgorithm: 'SHA-256' as const, hashedMessage: new Uint8Array(32).fill(1) };
    const policyOf = async (reqPolicy?: string) => {
      const resp = parseTimeStampResp(await custom.respond(encodeTimeStampReq({ messageImprint: imprint, ...(reqPolicy ? { reqPolicy } : {}) })));
      return resp.timeStampToken === undefined ? resp.status.failInfo : parseTimeStampToken(resp.timeStampToken).tstInfo.policy;
    };
    expect(await policyOf()).toBe('1.3.6.1.4.1.99999.2.7');
    expect(await policyOf('1.3.6.1.4.1.99999.2.8')).toBe('1.3.6.1.4.1.99999.2.8');
    expect(await policyOf(DEV_TSA_POLICY_OID)).toEqual(['unacceptedPolicy']);
  });
});

describe('serial numbers', () => {
  it('strictly increase and stay unique across a restart over the same sqlite file', async () => {
    const dbFile = path.join(kit.dir, 'restart.db');
    const imprint = { hashAlgorithm: 'SHA-256' as const, hashedMessage: new Uint8Array(32).fill(9) };
    const serialsOf = async (t: TimeStampAuthority, n: number): Promise<bigint[]> => {
      const out: bigint[] = [];
      for (let i = 0; i < n; i++) {
        const resp = parseTimeStampResp(await t.respond(encodeTimeStampReq({ messageImprint: imprint })));
        out.push(parseTimeStampToken(resp.timeStampToken!).tstInfo.serialNumber);
      }
      return out;
    };
    const first = kit.newTsa({ dbFile });
    const a = await serialsOf(first.tsa, 5);
    first.db.close();
    const second = kit.newTsa({ dbFile });
    const b = await serialsOf(second.tsa, 5);
    const all = [...a, ...b];
    for (let i = 1; i < all.length; i++) expect(all[i]! > all[i - 1]!).toBe(true);
    expect(new Set(all).size).toBe(all.length);
    // Persisted: the row holds the last serial handed out.
    const row = second.db.prepare('SELECT last_serial FROM tsa_serials').safeIntegers(true).get() as { last_serial: bigint };
    expect(row.last_serial).toBe(b[4]);
  });

  it('a clock going backwards cannot repeat a serial; the time floor covers a restored backup', () => {
    const db = new BetterSqlite3(':memory:');
    let now = 1_000_000;
    const source = new SqliteSerialSource(db, { now: () => now });
    const s1 = source.next();
    expect(s1).toBe(1_000_000n * 1024n);
    now = 999_000; // clock stepped back
    const s2 = source.next();
    expect(s2).toBe(s1 + 1n);
    // Restore an old backup: the counter goes back, but a later clock puts serials above it again.
    db.prepare('UPDATE tsa_serials SET last_serial = 5').run();
    now = 1_000_001;
    expect(source.next()).toBe(1_000_001n * 1024n);
    db.close();
  });

  it('two sources on one file (two processes) never share a serial', () => {
    const file = path.join(kit.dir, 'shared.db');
    const db1 = new BetterSqlite3(file);
    const db2 = new BetterSqlite3(file);
    const s1 = new SqliteSerialSource(db1, { now: () => 5 });
    const s2 = new SqliteSerialSource(db2, { now: () => 5 });
    const seen = new Set<bigint>();
    for (let i = 0; i < 50; i++) {
      seen.add(s1.next());
      seen.add(s2.next());
    }
    expect(seen.size).toBe(100);
    db1.close();
    db2.close();
  });

  it('separate TSA identities have separate counters, and the schema SQL is reusable', () => {
    const db = new BetterSqlite3(':memory:');
    db.exec(TSA_SERIAL_SCHEMA_SQL); // what a migration will run
    const a = new SqliteSerialSource(db, { tsa: 'a', now: () => 1 });
    const b = new SqliteSerialSource(db, { tsa: 'b', now: () => 1 });
    expect(a.next()).toBe(1024n);
    expect(b.next()).toBe(1024n);
    expect(a.next()).toBe(1025n);
    expect(() => db.prepare("INSERT INTO tsa_serials VALUES ('c', 0, 'x')").run()).toThrow(/CHECK/);
    db.close();
  });
});

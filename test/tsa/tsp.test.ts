// RFC 3161 ASN.1 in src/cms/tsp.ts (tests live with the TSA work): encodings checked byte for byte and
// against openssl's reading of them.
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  CmsError,
  checkTimeStampingCertificate,
  encodeBigInteger,
  encodeNamedBits,
  encodeTimeStampReq,
  encodeTimeStampResp,
  encodeTstInfo,
  parseTimeStampReq,
  parseTimeStampResp,
  parseTstInfo,
  PKI_FAILURE_BITS,
} from '../../src/cms/index.ts';
import { DEV_PATHS, devCertPath, readPemDer } from '../support/hsm.ts';
import { run } from './tsaTestKit.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'chungthuc-tsp-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('primitive encodings (X.690)', () => {
  it('INTEGER from bigint is minimal two\'s complement', () => {
    expect(hex(encodeBigInteger(0n))).toBe('020100');
    expect(hex(encodeBigInteger(127n))).toBe('02017f');
    expect(hex(encodeBigInteger(128n))).toBe('02020080');
    expect(hex(encodeBigInteger(0x7fffffffffffffffn))).toBe('02087fffffffffffffff');
    expect(hex(encodeBigInteger(0xffffffffffffffffn))).toBe('020900ffffffffffffffff');
    expect(hex(encodeBigInteger(-1n))).toBe('0201ff');
    expect(hex(encodeBigInteger(-129n))).toBe('0202ff7f');
  });

  it('named bits drop trailing zero bits (X.690 §11.2.2)', () => {
    expect(hex(encodeNamedBits([PKI_FAILURE_BITS.badAlg]))).toBe('03020780');
    expect(hex(encodeNamedBits([PKI_FAILURE_BITS.badRequest]))).toBe('03020520');
    expect(hex(encodeNamedBits([PKI_FAILURE_BITS.unacceptedPolicy]))).toBe('0303000001');
    expect(hex(encodeNamedBits([PKI_FAILURE_BITS.systemFailure]))).toBe('03050600000040');
  });
});

describe('TimeStampReq', () => {
  it('our request reads back in openssl ts -query -text and in our parser', () => {
    const hashedMessage = new Uint8Array(48).fill(0xab);
    const der = encodeTimeStampReq({
      messageImprint: { hashAlgorithm: 'SHA-384', hashedMessage },
      reqPolicy: '1.3.6.1.4.1.99999.1.1',
      nonce: 0x8000000000000001n,
      certReq: true,
    });
    const file = path.join(dir, 'ours.tsq');
    writeFileSync(file, der);
    const text = run('openssl', ['ts', '-query', '-in', file, '-text']);
    expect(text.status, text.out).toBe(0);
    expect(text.out).toContain('Hash Algorithm: sha384');
    expect(text.out).toContain('Policy OID: 1.3.6.1.4.1.99999.1.1');
    expect(text.out).toContain('Nonce: 0x8000000000000001');
    expect(text.out).toContain('Certificate required: yes');
    const back = parseTimeStampReq(der);
    expect(back).toMatchObject({ version: 1, reqPolicy: '1.3.6.1.4.1.99999.1.1', nonce: 0x8000000000000001n, certReq: true, extensions: [] });
    expect(back.messageImprint.hashAlgorithm).toBe('SHA-384');
    expect(back.messageImprint.hasParameters).toBe(false);
  });

  it('certReq false is omitted (DEFAULT) and parses as false', () => {
    const der = encodeTimeStampReq({ messageImprint: { hashAlgorithm: 'SHA-256', hashedMessage: new Uint8Array(32) } });
    expect(hex(der)).not.toContain('0101ff');
    expect(parseTimeStampReq(der)).toMatchObject({ certReq: false, nonce: undefined, reqPolicy: undefined });
  });

  it('parses openssl-made queries', () => {
    const data = path.join(dir, 'd.bin');
    writeFileSync(data, 'hello');
    const file = path.join(dir, 'o.tsq');
    expect(run('openssl', ['ts', '-query', '-data', data, '-sha512', '-cert', '-out', file]).status).toBe(0);
    const req = parseTimeStampReq(new Uint8Array(readFileSync(file)));
    expect(req.messageImprint.hashAlgorithm).toBe('SHA-512');
    expect(req.certReq).toBe(true);
    expect(typeof req.nonce).toBe('bigint');
  });

  it('refuses trailing bytes and wrong shapes', () => {
    const der = encodeTimeStampReq({ messageImprint: { hashAlgorithm: 'SHA-256', hashedMessage: new Uint8Array(32) } });
    expect(() => parseTimeStampReq(Uint8Array.from([...der, 0]))).toThrow(CmsError);
    expect(() => parseTimeStampReq(Uint8Array.of(0x30, 0x03, 0x02, 0x01, 0x01))).toThrow(CmsError);
    expect(() => encodeTimeStampReq({ messageImprint: { hashAlgorithm: 'SHA-256', hashedMessage: new Uint8Array(31) } })).toThrow(/31 bytes/);
  });
});

describe('TSTInfo and TimeStampResp', () => {
  it('round-trips every field', () => {
    const name = Uint8Array.of(0x30, 0x0d, 0x31, 0x0b, 0x30, 0x09, 0x06, 0x03, 0x55, 0x04, 0x06, 0x13, 0x02, 0x56, 0x4e); // C=VN
    const der = encodeTstInfo({
      policy: '1.2.3.4',
      messageImprint: { hashAlgorithm: 'SHA-256', hashedMessage: new Uint8Array(32).fill(3) },
      serialNumber: (1n << 100n) + 5n,
      genTime: new Date(Date.UTC(2031, 11, 31, 23, 59, 58, 5)),
      accuracy: { millis: 5, micros: 7 },
      nonce: 99n,
      tsaName: name,
    });
    const info = parseTstInfo(der);
    expect(info).toMatchObject({
      version: 1,
      policy: '1.2.3.4',
      serialNumber: (1n << 100n) + 5n,
      genTimeText: '20311231235958.005Z',
      accuracy: { millis: 5, micros: 7 },
      ordering: false,
      nonce: 99n,
    });
    expect(info.tsaName).toEqual({ kind: 'directoryName', name });
    expect(info.genTime.getTime()).toBe(Date.UTC(2031, 11, 31, 23, 59, 58, 5));
  });

  it('refuses a serial that is not positive or exceeds 160 bits', () => {
    const base = { policy: '1.2.3', messageImprint: { hashAlgorithm: 'SHA-256' as const, hashedMessage: new Uint8Array(32) }, genTime: new Date() };
    expect(() => encodeTstInfo({ ...base, serialNumber: 0n })).toThrow(CmsError);
    expect(() => encodeTstInfo({ ...base, serialNumber: 1n << 160n })).toThrow(CmsError);
  });

  it('a response status is consistent with the token', () => {
    expect(() => encodeTimeStampResp({ status: 'granted' })).toThrow(/needs a token/);
    expect(() => encodeTimeStampResp({ status: 'rejection', timeStampToken: Uint8Array.of(0x30, 0x00) })).toThrow(/must not carry/);
    const der = encodeTimeStampResp({ status: 'waiting', statusText: ['later', 'bientôt'], failInfo: ['timeNotAvailable', 'badAlg'] });
    expect(parseTimeStampResp(der).status).toEqual({
      status: 3,
      statusName: 'waiting',
      statusText: ['later', 'bientôt'],
      failInfo: ['badAlg', 'timeNotAvailable'],
    });
  });
});

describe('TSA certificate profile (RFC 3161 §2.3)', () => {
  it('accepts the dev TSA certificate and refuses the others with the reason', () => {
    expect(checkTimeStampingCertificate(readPemDer(devCertPath('tsa')))).toEqual({ ok: true, problem: undefined });
    expect(checkTimeStampingCertificate(readPemDer(devCertPath('officer1'))).problem).toBe('no extendedKeyUsage extension');
    expect(checkTimeStampingCertificate(readPemDer(DEV_PATHS.ocspPem)).problem).toMatch(/not exactly id-kp-timeStamping/);
    expect(checkTimeStampingCertificate(new Uint8Array(5)).ok).toBe(false);
  });
});

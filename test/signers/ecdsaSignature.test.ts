import { generateKeyPairSync, sign, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { HsmError, ecdsaRawToDer } from '../../src/signers/index.ts';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('ecdsaRawToDer (RFC 3279 §2.2.3)', () => {
  it('adds a zero byte when the high bit is set and strips redundant leading zeros', () => {
    const r = new Uint8Array(32).fill(0x80);
    const s = new Uint8Array(32);
    s[30] = 0x01;
    s[31] = 0x02;
    const der = ecdsaRawToDer(new Uint8Array([...r, ...s]));
    expect(hex(der)).toBe(`3027022100${'80'.repeat(32)}02020102`);
  });

  it('encodes a zero half as INTEGER 0', () => {
    expect(hex(ecdsaRawToDer(new Uint8Array(64)))).toBe('3006020100020100');
  });

  it('uses long-form lengths for P-521 sized values', () => {
    const der = ecdsaRawToDer(new Uint8Array(132).fill(0xff));
    // SEQUENCE of two 67-byte INTEGERs (0x00 + 66) => 2 * 69 = 138 > 127.
    expect(hex(der.subarray(0, 3))).toBe('30818a');
  });

  it('matches what node:crypto produces and verifies for real P-256 signatures', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    for (let i = 0; i < 20; i++) {
      const data = Buffer.from(`m${i}`);
      const raw = sign('sha256', data, { key: privateKey, dsaEncoding: 'ieee-p1363' });
      const der = ecdsaRawToDer(raw);
      expect(verify('sha256', data, { key: publicKey, dsaEncoding: 'der' }, der)).toBe(true);
    }
  });

  it('rejects an odd-length input', () => {
    expect(() => ecdsaRawToDer(new Uint8Array(63))).toThrow(HsmError);
  });
});

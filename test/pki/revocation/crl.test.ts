// CRL parsing and signature checks (src/cms/crl.ts) against CRLs made by `openssl ca -gencrl`.
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

import { DEV_PATHS } from '../../../scripts/devPkiPaths.ts';
import { CmsError } from '../../../src/cms/CmsError.ts';
import { crlEntryFor, parseCrl, verifyCrlSignature } from '../../../src/cms/crl.ts';
import { childrenOf, readTlv, slice } from '../../../src/cms/der.ts';
import { devCert, indexRevocation, resignWithOtherKey, tempDir } from './revocationTestKit.ts';

const run = promisify(execFile);
const tmp = tempDir();
afterAll(() => tmp.remove());

describe('parseCrl', () => {
  const pem = readFileSync(DEV_PATHS.issuingCaCrlPem);
  const der = new Uint8Array(readFileSync(DEV_PATHS.issuingCaCrl));

  it('lists exactly the serials `openssl crl -text` lists, with their dates and reasons', async () => {
    const { stdout } = await run('openssl', ['crl', '-in', DEV_PATHS.issuingCaCrlPem, '-noout', '-text']);
    const serials = [...stdout.matchAll(/Serial Number: ([0-9A-F]+)/g)].map((m) => m[1]);
    const crl = parseCrl(pem);
    expect(serials.length).toBeGreaterThan(0);
    expect(crl.revoked.map((e) => e.serialHex)).toEqual(serials);
    const reasons = [...stdout.matchAll(/CRL Reason Code: *\n *(.+)/g)].map((m) => m[1]!.trim());
    expect(crl.revoked.map((e) => e.reason)).toEqual(reasons.map((r) => (r === 'Key Compromise' ? 'keyCompromise' : r)));
    const dates = [...stdout.matchAll(/Revocation Date: (.+)/g)].map((m) => Date.parse(m[1]!));
    expect(crl.revoked.map((e) => e.revocationDate.getTime())).toEqual(dates);
  });

  it('reads issuer, update times and CRL number as openssl does', async () => {
    const crl = parseCrl(der);
    const { stdout } = await run('openssl', ['crl', '-in', DEV_PATHS.issuingCaCrl, '-inform', 'DER', '-noout', '-lastupdate', '-nextupdate', '-crlnumber']);
    expect(crl.thisUpdate.getTime()).toBe(Date.parse(/lastUpdate=(.+)/.exec(stdout)![1]!));
    expect(crl.nextUpdate!.getTime()).toBe(Date.parse(/nextUpdate=(.+)/.exec(stdout)![1]!));
    expect(crl.crlNumber).toBe(BigInt(`0x${/crlNumber=(?:0x)?([0-9A-Fa-f]+)/.exec(stdout)![1]}`));
    expect(crl.version).toBe(2);
    expect(Buffer.from(crl.issuer).equals(Buffer.from(slice(crl.tbs, childrenOf(crl.tbs, readTlv(crl.tbs, 0))[2]!)))).toBe(true);
    expect(crl.unhandledCriticalExtensions).toEqual([]);
    // authorityKeyIdentifier of the CRL is the issuing CA's subjectKeyIdentifier.
    const { stdout: ski } = await run('openssl', ['x509', '-in', DEV_PATHS.issuingCaPem, '-noout', '-ext', 'subjectKeyIdentifier']);
    expect(Buffer.from(crl.authorityKeyIdentifier!).toString('hex').toUpperCase()).toBe(/([0-9A-F:]{20,})/.exec(ski)![1]!.replace(/:/g, ''));
  });

  it('gives the same result for PEM and DER input', () => {
    const a = parseCrl(pem);
    const b = parseCrl(der);
    expect(Buffer.from(a.der).equals(Buffer.from(b.der))).toBe(true);
    expect(a.revoked).toEqual(b.revoked);
  });

  it('finds the revoked officer by serial, with the time and reason openssl ca recorded', () => {
    const crl = parseCrl(der);
    const revoked = devCert('officer-revoked');
    const record = indexRevocation(revoked)!;
    const entry = crlEntryFor(crl, revoked);
    expect(entry?.reason).toBe('keyCompromise');
    expect(record.reason).toBe('keyCompromise');
    expect(entry?.revocationDate.getTime()).toBe(record.date.getTime());
    expect(crlEntryFor(crl, devCert('officer1'))).toBeUndefined();
  });

  it('rejects garbage and truncation as cms-malformed', () => {
    expect(() => parseCrl(new TextEncoder().encode('not a crl'))).toThrow(CmsError);
    expect(() => parseCrl(der.subarray(0, der.length - 10))).toThrow(/CRL/);
  });
});

describe('verifyCrlSignature', () => {
  const der = new Uint8Array(readFileSync(DEV_PATHS.issuingCaCrl));

  it('accepts the CA-signed CRL with the issuing CA key and not with the root key', () => {
    const crl = parseCrl(der);
    expect(verifyCrlSignature(crl, devCert('issuing-ca'))).toBe(true);
    expect(verifyCrlSignature(crl, devCert('root-ca'))).toBe(false);
  });

  it('rejects a CRL signed by another key — as openssl does', async () => {
    const forged = resignWithOtherKey(der);
    const file = path.join(tmp.dir, 'forged.crl');
    writeFileSync(file, forged);
    // openssl crl reports the verification on stderr (exit status 0 either way).
    const genuine = await run('openssl', ['crl', '-in', DEV_PATHS.issuingCaCrl, '-inform', 'DER', '-CAfile', DEV_PATHS.chainPem, '-noout']);
    expect(genuine.stderr).toContain('verify OK');
    const other = await run('openssl', ['crl', '-in', file, '-inform', 'DER', '-CAfile', DEV_PATHS.chainPem, '-noout']);
    expect(other.stderr).toContain('verify failure');
    const crl = parseCrl(forged);
    expect(crl.revoked.length).toBe(parseCrl(der).revoked.length);
    expect(verifyCrlSignature(crl, devCert('issuing-ca'))).toBe(false);
  });

  it('rejects a CRL whose signed part was altered', () => {
    const altered = Uint8Array.from(der);
    // Change a revoked serial's last octet: still a CRL, no longer the signed one.
    const serial = Buffer.from(parseCrl(der).revoked[0]!.serialNumber);
    const at = Buffer.from(altered).indexOf(serial);
    altered[at + serial.length - 1]! ^= 0x01;
    const crl = parseCrl(altered);
    expect(crl.revoked[0]!.serialHex).not.toBe(parseCrl(der).revoked[0]!.serialHex);
    expect(verifyCrlSignature(crl, devCert('issuing-ca'))).toBe(false);
  });
});

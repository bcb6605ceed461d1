// Extension readers against what `openssl x509 -text` says about the dev certificates.
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

import { devOcspUrl, devRepoUrl } from '../../../scripts/devPkiPaths.ts';
import { OID_KP_OCSP_SIGNING } from '../../../src/cms/ocsp.ts';
import { certificatePolicies, crlUrls, extendedKeyUsage, keyUsage, ocspUrls } from '../../../src/pki/index.ts';
import { devCert } from './revocationTestKit.ts';

describe('certificate extensions', () => {
  it('reads AIA id-ad-ocsp and CRLDP URLs of an officer certificate', () => {
    const officer = devCert('officer1');
    expect(ocspUrls(officer)).toEqual([devOcspUrl()]);
    expect(crlUrls(officer)).toEqual([`${devRepoUrl()}/issuing-ca.crl`]);
    expect(crlUrls(devCert('issuing-ca'))).toEqual([`${devRepoUrl()}/root-ca.crl`]);
    expect(ocspUrls(devCert('issuing-ca'))).toEqual([]);
  });

  it('reads keyUsage bits and extendedKeyUsage', () => {
    expect([...keyUsage(devCert('issuing-ca'))!].sort()).toEqual(['cRLSign', 'keyCertSign']);
    expect([...keyUsage(devCert('officer1'))!].sort()).toEqual(['digitalSignature', 'nonRepudiation']);
    expect(extendedKeyUsage(devCert('ocsp'))).toEqual([OID_KP_OCSP_SIGNING]);
    expect(extendedKeyUsage(devCert('officer1'))).toBeUndefined();
  });

  it('reads certificatePolicies identifiers, qualifiers or not', () => {
    expect(certificatePolicies(devCert('officer1'))).toBeUndefined();
    const dir = mkdtempSync(path.join(os.tmpdir(), 'chungthuc-policies-'));
    try {
      const cnf = '[req]\ndistinguished_name = dn\nprompt = no\n[dn]\nCN = policies\n[e]\ncertificatePolicies = 2.16.704.1.2.1, @cps\n[cps]\npolicyIdentifier = 1.3.6.1.4.1.99999.1\nCPS.1 = "http://ca.example/cps"\n';
      writeFileSync(path.join(dir, 'req.cnf'), cnf);
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', path.join(dir, 'k.pem'), '-days', '1', '-config', path.join(dir, 'req.cnf'), '-extensions', 'e', '-out', path.join(dir, 'c.pem')], { stdio: 'ignore' });
      expect(certificatePolicies(new X509Certificate(readFileSync(path.join(dir, 'c.pem'))))).toEqual(['2.16.704.1.2.1', '1.3.6.1.4.1.99999.1']);
      // Not the RFC 5280 §4.2.1.4 structure: a SET, an OID not inside a PolicyInformation, trailing bytes, empty.
      for (const [name, der] of [['set', '31:05:30:03:06:01:2a'], ['bare', '30:05:04:03:06:01:2a'], ['trailing', '30:05:30:03:06:01:2a:05:00'], ['empty', '30:00']]) {
        writeFileSync(path.join(dir, `${name}.cnf`), `[req]\ndistinguished_name = dn\nprompt = no\n[dn]\nCN = ${name}\n[e]\n2.5.29.32 = DER:${der}\n`);
        execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', path.join(dir, 'k.pem'), '-days', '1', '-config', path.join(dir, `${name}.cnf`), '-extensions', 'e', '-out', path.join(dir, `${name}.pem`)], { stdio: 'ignore' });
        expect(() => certificatePolicies(new X509Certificate(readFileSync(path.join(dir, `${name}.pem`)))), name).toThrow(/certificatePolicies|PolicyInformation|policyIdentifier/);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

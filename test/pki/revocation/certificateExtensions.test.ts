// Extension readers against what `openssl x509 -text` says about the dev certificates.
import { describe, expect, it } from 'vitest';

import { devOcspUrl, devRepoUrl } from '../../../scripts/devPkiPaths.ts';
import { OID_KP_OCSP_SIGNING } from '../../../src/cms/ocsp.ts';
import { crlUrls, extendedKeyUsage, keyUsage, ocspUrls } from '../../../src/pki/index.ts';
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
});

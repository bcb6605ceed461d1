// CRL scope (RFC 5280 §5.2.5 issuingDistributionPoint, §6.3.3 (b)(2)) with CRLs from a throwaway
// `openssl ca` whose user certificate points its CRLDP at the repository server.
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { parseCrl } from '../../../src/cms/crl.ts';
import { CrlFetcher, RevocationError } from '../../../src/pki/index.ts';
import { startRepoServer, type RepoServer } from '../../support/repoServer.ts';
import { makeCert, tempDir } from './revocationTestKit.ts';

const run = promisify(execFile);
const tmp = tempDir();
let repo: RepoServer;
let ca: X509Certificate;
let user: X509Certificate;
let revokedUser: X509Certificate;
let userDp: string;

async function gencrl(conf: string, section: string, name: string): Promise<Uint8Array> {
  const pem = path.join(tmp.dir, `${name}.pem`);
  await run('openssl', ['ca', '-config', conf, '-gencrl', '-crlexts', section, '-out', pem]);
  const der = path.join(tmp.dir, name);
  await run('openssl', ['crl', '-in', pem, '-outform', 'DER', '-out', der]);
  return new Uint8Array(readFileSync(der));
}

beforeAll(async () => {
  repo = await startRepoServer({ port: 0 });
  userDp = `${repo.url}/idp-user.crl`;
  const caFiles = await makeCert(tmp.dir, 'ca', '/CN=Scope Test CA', ['basicConstraints=critical,CA:true', 'keyUsage=critical,keyCertSign,cRLSign', 'subjectKeyIdentifier=hash']);
  const userExt = ['basicConstraints=critical,CA:false', `crlDistributionPoints=URI:${userDp}`];
  const userFiles = await makeCert(tmp.dir, 'user', '/CN=Scope Test User', userExt, caFiles);
  const revokedFiles = await makeCert(tmp.dir, 'revoked', '/CN=Scope Test Revoked', userExt, caFiles);
  ca = new X509Certificate(readFileSync(caFiles.cert));
  user = new X509Certificate(readFileSync(userFiles.cert));
  revokedUser = new X509Certificate(readFileSync(revokedFiles.cert));
  writeFileSync(path.join(tmp.dir, 'index.txt'), '');
  writeFileSync(path.join(tmp.dir, 'crlnumber'), '01\n');
  const conf = path.join(tmp.dir, 'ca.cnf');
  const idp = (name: string, lines: string[]): string => `[${name}]\nissuingDistributionPoint = critical, @${name}_dp\n[${name}_dp]\n${lines.join('\n')}\n`;
  writeFileSync(
    conf,
    [
      `[ca]\ndefault_ca = tca\n[tca]\ndir = ${tmp.dir}\ndatabase = $dir/index.txt\ncrlnumber = $dir/crlnumber\ncertificate = ${caFiles.cert}\nprivate_key = ${caFiles.key}\ndefault_md = sha256\ndefault_crl_days = 2\n`,
      idp('idp_user', [`fullname = URI:${userDp}`, 'onlyuser = TRUE']),
      idp('idp_ca', [`fullname = URI:${userDp}`, 'onlyCA = TRUE']),
      idp('idp_other', ['fullname = URI:http://elsewhere.example/other.crl']),
    ].join('\n'),
  );
  await run('openssl', ['ca', '-config', conf, '-revoke', revokedFiles.cert, '-crl_reason', 'keyCompromise']);
  repo.override('idp-user.crl', await gencrl(conf, 'idp_user', 'idp-user.crl'));
  repo.override('idp-ca.crl', await gencrl(conf, 'idp_ca', 'idp-ca.crl'));
  repo.override('idp-other.crl', await gencrl(conf, 'idp_other', 'idp-other.crl'));
});
afterAll(async () => {
  await repo?.stop();
  tmp.remove();
});

async function reason(p: Promise<unknown>): Promise<string | undefined> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(RevocationError);
  return (e as RevocationError).reason;
}

describe('CRL scope (issuingDistributionPoint)', () => {
  it('parses the IDP openssl wrote', async () => {
    const der = new Uint8Array(readFileSync(path.join(tmp.dir, 'idp-user.crl')));
    const crl = parseCrl(der);
    expect(crl.issuingDistributionPoint).toMatchObject({ fullNameUris: [userDp], onlyContainsUserCerts: true, onlyContainsCACerts: false, indirectCRL: false });
    expect(crl.unhandledCriticalExtensions).toEqual([]);
    const { stdout } = await run('openssl', ['crl', '-in', path.join(tmp.dir, 'idp-user.crl.pem'), '-noout', '-text']);
    expect(stdout).toContain('Only User Certificates');
  });

  it('uses a CRL whose IDP names the certificate’s distribution point and covers end entities', async () => {
    const fetcher = new CrlFetcher();
    expect((await fetcher.check(user, ca)).status).toBe('good');
    const r = await fetcher.check(revokedUser, ca);
    expect([r.status, r.reason, r.url]).toEqual(['revoked', 'keyCompromise', userDp]);
  });

  it('refuses a CA-certificates-only CRL for an end-entity certificate', async () => {
    expect(await reason(new CrlFetcher({ urls: [`${repo.url}/idp-ca.crl`] }).check(user, ca))).toBe('scope');
  });

  it('refuses a CRL for another distribution point', async () => {
    expect(await reason(new CrlFetcher({ urls: [`${repo.url}/idp-other.crl`] }).check(user, ca))).toBe('scope');
  });
});

/**
 * pathProblems (RFC 5280 §6.1) on chains made with openssl: the CA checks, path length with
 * self-issued certificates, and the name forms of name constraints beyond the PDF tests' directory
 * names and e-mail addresses (DNS, URI hosts, IP ranges, forms that cannot be checked).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pathProblems } from '../../src/pki/index.ts';
import { SECTIONS, createTestPki, type Issued, type TestPki } from '../pades/validation/pathTestKit.ts';

const EXTENSIONS = `${SECTIONS.ca}${SECTIONS.caLen0}[ca_nc]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
nameConstraints = critical, permitted;DNS:example.com, permitted;IP:10.0.0.0/255.0.0.0, excluded;URI:.evil.example, permitted;otherName:1.2.3.4;UTF8:x
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[leaf]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[leaf_ok]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
subjectAltName = DNS:a.example.com, IP:10.1.2.3, URI:https://good.example/x
[leaf_dns]
basicConstraints = critical, CA:FALSE
subjectAltName = DNS:example.org
[leaf_ip]
basicConstraints = critical, CA:FALSE
subjectAltName = IP:192.168.1.1
[leaf_uri]
basicConstraints = critical, CA:FALSE
subjectAltName = URI:https://www.evil.example/x
[leaf_other]
basicConstraints = critical, CA:FALSE
subjectAltName = otherName:1.2.3.4;UTF8:y
[leaf_no_aki]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
[empty]
`;

let pki: TestPki;
let root: Issued;
const c: Record<string, Issued> = {};

beforeAll(() => {
  pki = createTestPki('pki-path', EXTENSIONS);
  root = pki.root('PP Root', 'ca');
  c.len0 = pki.issue('PP pathlen 0', root, 'ca_len0');
  // A self-issued certificate (same name, new key: a CA key rollover) does not count towards pathlen.
  c.rollover = pki.issue('PP rollover', c.len0, 'ca', { subject: '/CN=PP pathlen 0' });
  c.underRollover = pki.issue('PP leaf under rollover', c.rollover, 'leaf');
  c.nc = pki.issue('PP constrained', root, 'ca_nc');
  for (const n of ['leaf_ok', 'leaf_dns', 'leaf_ip', 'leaf_uri', 'leaf_other']) c[n] = pki.issue(`PP ${n}`, c.nc, n);
  // A certificate with no extensions at all, as an intermediate.
  c.bare = pki.issue('PP bare', root, 'empty');
  c.underBare = pki.issue('PP leaf under bare', c.bare, 'leaf_no_aki');
}, 120_000);

afterAll(() => pki?.cleanup());

const problems = (...chain: Issued[]) => pathProblems(chain.map((x) => x.cert), true);

describe('pathProblems', () => {
  it('a self-issued intermediate does not count towards pathLenConstraint', () => {
    expect(c.rollover!.cert.subject).toBe(c.len0!.cert.subject);
    expect(problems(c.underRollover!, c.rollover!, c.len0!, root)).toEqual([]);
  });

  it('an intermediate without basicConstraints is refused', () => {
    expect(problems(c.underBare!, c.bare!, root).join('\n')).toMatch(/PP bare.*(without basicConstraints|version 1)/);
  });

  it('DNS, IP and URI names inside the permitted subtrees pass', () => {
    expect(problems(c.leaf_ok!, c.nc!, root)).toEqual([]);
  });

  it('a DNS name outside, an IP address outside, a URI host in an excluded subtree, an otherName fail', () => {
    expect(problems(c.leaf_dns!, c.nc!, root).join()).toMatch(/dNSName example\.org is outside every permitted subtree/);
    expect(problems(c.leaf_ip!, c.nc!, root).join()).toMatch(/iPAddress c0a80101 is outside every permitted subtree/);
    expect(problems(c.leaf_uri!, c.nc!, root).join()).toMatch(/uniformResourceIdentifier https:\/\/www\.evil\.example\/x is in an excluded subtree/);
    expect(problems(c.leaf_other!, c.nc!, root).join()).toMatch(/GeneralName form \[0\], which this validator cannot check/);
  });

  it('the trust anchor itself is not judged, but its name constraints bind the path below it', () => {
    expect(problems(root)).toEqual([]);
    expect(problems(c.leaf_dns!, c.nc!).join()).toMatch(/dNSName example\.org is outside every permitted subtree/);
  });
});

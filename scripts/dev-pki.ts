/**
 * Dev PKI generator (dev only, idempotent): a SoftHSM2 token with the service's keys, a two-level CA
 * made with the openssl CLI (file CA keys), an OCSP responder certificate, CRLs, an NSS db trusting the
 * root. Keys of end entities are generated inside the HSM; their PKCS#10 requests are signed through
 * PKCS#11 with our Signer, so a run also proves the signers layer end to end.
 *
 *   node --import tsx scripts/dev-pki.ts
 *
 * A second run checks each artefact and only rebuilds what is missing or stale.
 */
import { spawnSync } from 'node:child_process';
import { X509Certificate, createHash, createPrivateKey, createPublicKey, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { certificateFields, openToken, type KeyInfo, type KeyPairSpec, type Pkcs11Token, type Signer } from '../src/signers/index.ts';
import {
  DEV_KEY_LABELS,
  DEV_PATHS as P,
  DEV_PKCS11_MODULE,
  DEV_TOKEN_LABEL,
  type DevKeyLabel,
  devAgency,
  devCertPath,
  devCsrPath,
  devOcspUrl,
  devRepoUrl,
} from './devPkiPaths.ts';

export class DevPkiError extends Error {}

// ---------------------------------------------------------------------------------------------- helpers

function run(cmd: string, args: string[], opts: { input?: string; allowFail?: boolean } = {}): { ok: boolean; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', input: opts.input, env: process.env });
  const ok = r.status === 0 && r.error === undefined;
  if (!ok && !opts.allowFail) {
    // Arguments may hold the dev PINs (softhsm2-util): show only the command name and its stderr.
    const why = r.error ? r.error.message : (r.stderr || r.stdout).trim().split('\n').slice(-6).join('\n');
    throw new DevPkiError(`${cmd} ${args[0] ?? ''} failed: ${why}`);
  }
  return { ok, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

const openssl = (...args: string[]): string => run('openssl', args).stdout;

function writeIfChanged(file: string, data: string | Uint8Array, mode?: number): boolean {
  const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data);
  if (existsSync(file) && readFileSync(file).equals(buf)) return false;
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, buf, mode === undefined ? undefined : { mode });
  if (mode !== undefined) chmodSync(file, mode);
  return true;
}

function pemToDer(pem: string, what = 'the input'): Uint8Array {
  const m = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/.exec(pem);
  if (!m) throw new DevPkiError(`${what} is not a PEM file`);
  return new Uint8Array(Buffer.from((m[2] ?? '').replace(/\s+/g, ''), 'base64'));
}

function derToPem(der: Uint8Array, label: string): string {
  const b64 = Buffer.from(der).toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

/** OpenSSL `ca` date format (GeneralizedTime, RFC 5280 §4.1.2.5.2). */
function caDate(d: Date): string {
  return d.toISOString().replace(/[-:T]/g, '').replace(/\.\d{3}Z$/, 'Z');
}

function yearsFromNow(years: number): Date {
  const d = new Date();
  d.setUTCFullYear(d.getUTCFullYear() + years);
  d.setUTCHours(0, 0, 0, 0);
  return d;
}

const equalBytes = (a: Uint8Array, b: Uint8Array): boolean => Buffer.from(a).equals(Buffer.from(b));

// ------------------------------------------------------------------------------ what is on disk now
//
// Whether an artefact is usable is read from the artefacts themselves, never carried from one step to
// the next: a run killed half-way (after a CA was rebuilt, while a file was being written) leaves files
// that the next run must see as stale, or it would keep them for good.

/** Certificates this close to their end are made again (dev material: nothing to keep). */
const RENEW_BEFORE_MS = 30 * 86_400_000;

/** The certificate in `file`, or undefined when it is missing or does not parse (cut short). */
function readCert(file: string): X509Certificate | undefined {
  try {
    return new X509Certificate(readFileSync(file));
  } catch {
    return undefined;
  }
}

function mustReadCert(file: string): X509Certificate {
  const cert = readCert(file);
  if (!cert) throw new DevPkiError(`${path.relative(P.root, file)} was just written but does not parse`);
  return cert;
}

/** Issued (named and signed) by `issuer`; a root by itself. */
function issuedBy(cert: X509Certificate, issuer: X509Certificate): boolean {
  return cert.checkIssued(issuer) && cert.verify(issuer.publicKey);
}

const endsSoon = (cert: X509Certificate): boolean => Date.parse(cert.validTo) - Date.now() < RENEW_BEFORE_MS;

/** The private key in `keyFile` is the one `cert` certifies (false when missing or cut short). */
function keyMatches(keyFile: string, cert: X509Certificate): boolean {
  try {
    const spki = createPublicKey(createPrivateKey(readFileSync(keyFile))).export({ type: 'spki', format: 'der' });
    return spki.equals(cert.publicKey.export({ type: 'spki', format: 'der' }));
  } catch {
    return false;
  }
}

/**
 * The certificate names `url` as a URI (its AIA or CRL distribution point): the DER of a GeneralName
 * uniformResourceIdentifier ([6] IA5String). A certificate made before DEV_PKI_OCSP_URL or
 * DEV_PKI_REPO_URL changed does not, and is made again.
 */
function namesUri(cert: X509Certificate, url: string): boolean {
  const bytes = Buffer.from(url, 'latin1');
  if (bytes.length > 127) return cert.raw.includes(bytes);
  return cert.raw.includes(Buffer.concat([Buffer.from([0x86, bytes.length]), bytes]));
}

/** A CA made from `keyFile`, whose `openssl ca` database has `index`: usable as it is? */
function caUsable(cert: X509Certificate | undefined, issuer: X509Certificate | undefined, keyFile: string, index: string): cert is X509Certificate {
  return cert !== undefined && issuedBy(cert, issuer ?? cert) && keyMatches(keyFile, cert) && existsSync(index) && !endsSoon(cert);
}

/** Owner-only, whatever made the file or folder (an older run, a copy, a umask). */
function ownerOnly(file: string, mode: 0o600 | 0o700): void {
  if (existsSync(file) && (statSync(file).mode & 0o077) !== 0) chmodSync(file, mode);
}

// ----------------------------------------------------------------------------------------------- HSM

/** SoftHSM2 configuration: the token directory is absolute, so rewrite it if the checkout moved. */
function ensureHsmFiles(summary: string[]): { pin: string; soPin: string; pinCreated: boolean } {
  mkdirSync(P.tokensDir, { recursive: true });
  const conf = `# generated by scripts/dev-pki.ts (dev only)\ndirectories.tokendir = ${P.tokensDir}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`;
  if (writeIfChanged(P.softhsmConf, conf)) summary.push(`wrote ${path.relative(P.root, P.softhsmConf)}`);
  let pinCreated = false;
  const secret = (file: string): string => {
    if (existsSync(file)) {
      const v = readFileSync(file, 'utf8').trim();
      if (v.length >= 4) {
        ownerOnly(file, 0o600);
        return v;
      }
    }
    const v = randomBytes(8).toString('hex');
    writeFileSync(file, `${v}\n`, { mode: 0o600 });
    chmodSync(file, 0o600);
    if (file === P.pinFile) pinCreated = true;
    summary.push(`created ${path.relative(P.root, file)}`);
    return v;
  };
  const pin = secret(P.pinFile);
  const soPin = secret(P.soPinFile);
  // SoftHSM2 reads SOFTHSM2_CONF at C_Initialize and so do softhsm2-util/pkcs11-tool children.
  process.env.SOFTHSM2_CONF = P.softhsmConf;
  return { pin, soPin, pinCreated };
}

function tokenExists(label: string): boolean {
  const out = run('softhsm2-util', ['--show-slots']).stdout;
  return out.split('\n').some((l) => {
    const m = /^\s*Label:\s*(.*?)\s*$/.exec(l);
    return m?.[1] === label;
  });
}

function ensureToken(pin: string, soPin: string, pinCreated: boolean, summary: string[]): void {
  if (tokenExists(DEV_TOKEN_LABEL)) {
    if (!pinCreated) return;
    // A token whose PIN we no longer know is useless: start it over (dev material only).
    run('softhsm2-util', ['--delete-token', '--token', DEV_TOKEN_LABEL]);
    summary.push(`deleted token ${DEV_TOKEN_LABEL} (its PIN file was missing)`);
  }
  run('softhsm2-util', ['--init-token', '--free', '--label', DEV_TOKEN_LABEL, '--pin', pin, '--so-pin', soPin]);
  summary.push(`initialised token ${DEV_TOKEN_LABEL}`);
}

// ------------------------------------------------------------------------------------------------ CAs

const ROOT_SUBJECT = '/C=VN/O=Chungthuc Dev/CN=Chungthuc Dev Root CA';
const ISSUING_SUBJECT = '/C=VN/O=Chungthuc Dev/CN=Chungthuc Dev Issuing CA';
const OCSP_SUBJECT = '/C=VN/O=Chungthuc Dev/CN=Chungthuc Dev OCSP Responder';

function opensslConfig(): string {
  const ocsp = devOcspUrl();
  const repo = devRepoUrl();
  const caSection = (name: string, dir: string, cert: string, key: string): string => `
[ ${name} ]
dir              = ${dir}
database         = $dir/index.txt
serial           = $dir/serial
crlnumber        = $dir/crlnumber
new_certs_dir    = $dir/newcerts
certificate      = ${cert}
private_key      = ${key}
default_md       = sha256
default_days     = 825
default_crl_days = 30
policy           = policy_any
# keep the request's DN as built (UTF8String values, our order)
preserve         = yes
unique_subject   = no
email_in_dn      = no
copy_extensions  = none
string_mask      = utf8only
utf8             = yes
crl_extensions   = ext_crl
`;
  // RFC 5280 §4.2.2.1 AIA (OCSP + caIssuers), §4.2.1.13 CRLDP; RFC 6960 §4.2.2.2.1 id-pkix-ocsp-nocheck.
  return `# generated by scripts/dev-pki.ts (dev only)
[ ca ]
default_ca = issuing_ca
${caSection('root_ca', P.rootCaDb, P.rootCaPem, P.rootCaKey)}
${caSection('issuing_ca', P.issuingCaDb, P.issuingCaPem, P.issuingCaKey)}
[ policy_any ]
countryName            = supplied
stateOrProvinceName    = optional
localityName           = optional
organizationName       = optional
organizationalUnitName = optional
commonName             = supplied

[ req ]
distinguished_name = req_dn
string_mask        = utf8only
utf8               = yes
prompt             = no

[ req_dn ]
CN = unused

[ ext_crl ]
authorityKeyIdentifier = keyid:always

[ ext_root ]
basicConstraints     = critical, CA:true
keyUsage             = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash

[ ext_issuing ]
basicConstraints       = critical, CA:true, pathlen:0
keyUsage               = critical, keyCertSign, cRLSign
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always
authorityInfoAccess    = caIssuers;URI:${repo}/root-ca.cer
crlDistributionPoints  = URI:${repo}/root-ca.crl

[ ext_ocsp ]
basicConstraints       = critical, CA:false
keyUsage               = critical, digitalSignature
extendedKeyUsage       = critical, OCSPSigning
noCheck                = ignored
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always

[ ext_signer ]
basicConstraints       = critical, CA:false
keyUsage               = critical, digitalSignature, nonRepudiation
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always
authorityInfoAccess    = OCSP;URI:${ocsp}, caIssuers;URI:${repo}/issuing-ca.cer
crlDistributionPoints  = URI:${repo}/issuing-ca.crl

[ ext_tsa ]
basicConstraints       = critical, CA:false
keyUsage               = critical, digitalSignature, nonRepudiation
# RFC 3161 §2.3: the TSA certificate has exactly one, critical, extendedKeyUsage: id-kp-timeStamping.
extendedKeyUsage       = critical, timeStamping
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always
authorityInfoAccess    = OCSP;URI:${ocsp}, caIssuers;URI:${repo}/issuing-ca.cer
crlDistributionPoints  = URI:${repo}/issuing-ca.crl
`;
}

function initCaDb(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(path.join(dir, 'newcerts'), { recursive: true });
  writeFileSync(path.join(dir, 'index.txt'), '');
  writeFileSync(path.join(dir, 'index.txt.attr'), 'unique_subject = no\n');
  // Random serials (RFC 5280 §4.1.2.2, CA/B BR 7.1: at least 64 bits of entropy) so a rebuilt CA never
  // reuses a serial that a cached OCSP/CRL answer still talks about.
  writeFileSync(path.join(dir, 'serial'), `${'4' + randomBytes(15).toString('hex').slice(1)}\n`);
  writeFileSync(path.join(dir, 'crlnumber'), '1000\n');
}

/** Both CAs' validity starts 3 years back so the expired end entity's past validity nests inside it. */
const CA_NOT_BEFORE = (): Date => yearsFromNow(-3);

function caIssue(caName: 'root_ca' | 'issuing_ca', args: string[]): void {
  openssl('ca', '-config', P.opensslConf, '-name', caName, '-batch', '-notext', '-utf8', ...args);
}

interface Cas {
  root: X509Certificate;
  issuing: X509Certificate;
}

/**
 * The root CA, the issuing CA and the OCSP responder's certificate: each is made again when it does not
 * parse, is not signed by the CA above it as that CA is now, has lost its key or its database, or ends
 * within RENEW_BEFORE_MS. What hangs below a CA made again is then stale by the same tests.
 */
function ensureCas(summary: string[]): Cas {
  const privateDir = path.join(P.certsDir, 'private');
  mkdirSync(privateDir, { recursive: true, mode: 0o700 });
  ownerOnly(privateDir, 0o700);
  for (const key of [P.rootCaKey, P.issuingCaKey, P.ocspKey]) ownerOnly(key, 0o600);
  writeIfChanged(P.opensslConf, opensslConfig());
  let root = readCert(P.rootCaPem);
  if (!caUsable(root, undefined, P.rootCaKey, path.join(P.rootCaDb, 'index.txt'))) {
    openssl('genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:4096', '-out', P.rootCaKey);
    chmodSync(P.rootCaKey, 0o600);
    initCaDb(P.rootCaDb);
    const csr = path.join(P.rootCaDb, 'root-ca.csr');
    openssl('req', '-new', '-config', P.opensslConf, '-utf8', '-key', P.rootCaKey, '-subj', ROOT_SUBJECT, '-out', csr);
    // `openssl ca -selfsign` (not `req -x509`) so the root is in its own database and can be backdated.
    caIssue('root_ca', ['-selfsign', '-keyfile', P.rootCaKey, '-in', csr, '-out', P.rootCaPem, '-extensions', 'ext_root',
      '-startdate', caDate(CA_NOT_BEFORE()), '-enddate', caDate(yearsFromNow(17))]);
    root = mustReadCert(P.rootCaPem);
    summary.push('created root CA (RSA-4096, 20 years)');
  }
  let issuing = readCert(P.issuingCaPem);
  if (!caUsable(issuing, root, P.issuingCaKey, P.issuingCaIndex) || !namesUri(issuing, `${devRepoUrl()}/root-ca.crl`)) {
    openssl('genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:3072', '-out', P.issuingCaKey);
    chmodSync(P.issuingCaKey, 0o600);
    initCaDb(P.issuingCaDb);
    const csr = path.join(P.issuingCaDb, 'issuing-ca.csr');
    openssl('req', '-new', '-config', P.opensslConf, '-utf8', '-key', P.issuingCaKey, '-subj', ISSUING_SUBJECT, '-out', csr);
    caIssue('root_ca', ['-in', csr, '-out', P.issuingCaPem, '-extensions', 'ext_issuing',
      '-startdate', caDate(CA_NOT_BEFORE()), '-enddate', caDate(yearsFromNow(7))]);
    issuing = mustReadCert(P.issuingCaPem);
    summary.push('created issuing CA (RSA-3072, 10 years, pathlen 0)');
  }
  const ocsp = readCert(P.ocspPem);
  if (!ocsp || !issuedBy(ocsp, issuing) || !keyMatches(P.ocspKey, ocsp) || endsSoon(ocsp)) {
    openssl('genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', P.ocspKey);
    chmodSync(P.ocspKey, 0o600);
    const csr = path.join(P.issuingCaDb, 'ocsp.csr');
    openssl('req', '-new', '-config', P.opensslConf, '-utf8', '-key', P.ocspKey, '-subj', OCSP_SUBJECT, '-out', csr);
    caIssue('issuing_ca', ['-in', csr, '-out', P.ocspPem, '-extensions', 'ext_ocsp', '-days', '825']);
    mustReadCert(P.ocspPem);
    summary.push('created OCSP responder certificate');
  }
  return { root, issuing };
}

// ------------------------------------------------------------------------------------- end entities

interface EndEntity {
  label: DevKeyLabel;
  spec: KeyPairSpec;
  subject: [string, string][];
  extensions: 'ext_signer' | 'ext_tsa';
  revoke?: boolean;
  expired?: boolean;
}

function endEntities(): EndEntity[] {
  const agency = devAgency();
  const person = (cn: string): [string, string][] => [['C', 'VN'], ['O', agency], ['CN', cn]];
  const list: EndEntity[] = [
    { label: 'tsa', spec: { label: 'tsa', type: 'RSA', bits: 3072 }, subject: [['C', 'VN'], ['O', 'Chungthuc Dev'], ['CN', 'Chungthuc Dev Time-Stamping Authority']], extensions: 'ext_tsa' },
    { label: 'seal', spec: { label: 'seal', type: 'RSA', bits: 3072 }, subject: [['C', 'VN'], ['O', agency], ['CN', agency]], extensions: 'ext_signer' },
    { label: 'officer1', spec: { label: 'officer1', type: 'RSA', bits: 2048 }, subject: person('Nguyễn Văn An'), extensions: 'ext_signer' },
    { label: 'officer2', spec: { label: 'officer2', type: 'EC', curve: 'P-256' }, subject: person('Lê Thị Bình'), extensions: 'ext_signer' },
    { label: 'officer-revoked', spec: { label: 'officer-revoked', type: 'RSA', bits: 2048 }, subject: person('Trần Văn Cường'), extensions: 'ext_signer', revoke: true },
    { label: 'officer-expired', spec: { label: 'officer-expired', type: 'RSA', bits: 2048 }, subject: person('Phạm Thị Dung'), extensions: 'ext_signer', expired: true },
  ];
  const labels = list.map((e) => e.label);
  if (labels.join() !== DEV_KEY_LABELS.join()) throw new DevPkiError('end-entity list and DEV_KEY_LABELS disagree');
  return list;
}

const ATTR_OID: Record<string, string> = { C: '2.5.4.6', O: '2.5.4.10', OU: '2.5.4.11', CN: '2.5.4.3' };

/**
 * PKCS#10 (RFC 2986 §4) request signed through the HSM. Names are UTF8String (RFC 5280 §4.1.2.6),
 * except countryName which X.520 fixes as PrintableString.
 */
async function buildCsr(signer: Signer, subject: [string, string][], spki: Uint8Array): Promise<Uint8Array> {
  const csr = new pkijs.CertificationRequest();
  csr.version = 0;
  for (const [k, v] of subject) {
    const type = ATTR_OID[k];
    if (!type) throw new DevPkiError(`unknown RDN attribute ${k}`);
    const value = k === 'C' ? new asn1js.PrintableString({ value: v }) : new asn1js.Utf8String({ value: v });
    csr.subject.typesAndValues.push(new pkijs.AttributeTypeAndValue({ type, value }));
  }
  csr.subjectPublicKeyInfo = pkijs.PublicKeyInfo.fromBER(new Uint8Array(spki));
  csr.attributes = [];
  const rsa = signer.key.keyType === 'RSA';
  // sha256WithRSAEncryption (RFC 4055 §5, NULL params) / ecdsa-with-SHA256 (RFC 5758 §3.2, absent params).
  const algorithm = rsa
    ? new pkijs.AlgorithmIdentifier({ algorithmId: '1.2.840.113549.1.1.11', algorithmParams: new asn1js.Null() })
    : new pkijs.AlgorithmIdentifier({ algorithmId: '1.2.840.10045.4.3.2' });
  csr.signatureAlgorithm = algorithm;
  // toSchema(true) encodes the TBS part from the fields; keep those exact bytes as what is signed.
  const tbs = csr.toSchema(true).valueBlock.value[0];
  if (!tbs) throw new DevPkiError('pkijs produced no CertificationRequestInfo');
  csr.tbsView = new Uint8Array(tbs.toBER());
  const digest = createHash('sha256').update(csr.tbsView).digest();
  const sig = await signer.sign(digest, 'SHA-256', rsa ? 'RSASSA-PKCS1-v1_5' : 'ECDSA');
  csr.signatureValue = new asn1js.BitString({ valueHex: sig });
  return new Uint8Array(csr.toSchema().toBER());
}

function serialOf(certPem: string): string {
  return run('openssl', ['x509', '-noout', '-serial'], { input: certPem }).stdout.trim().replace(/^serial=/, '').toUpperCase();
}

/** Status letter (V/R/E) of a serial in an `openssl ca` index.txt. */
function indexStatus(serialHex: string): string | undefined {
  for (const line of readFileSync(P.issuingCaIndex, 'utf8').split('\n')) {
    const f = line.split('\t');
    if ((f[3] ?? '').toUpperCase() === serialHex) return f[0];
  }
  return undefined;
}

async function ensureEndEntity(token: Pkcs11Token, ee: EndEntity, existing: KeyInfo[], issuing: X509Certificate, summary: string[]): Promise<{ crlDirty: boolean }> {
  let crlDirty = false;
  let key = existing.find((k) => k.label === ee.label);
  let spki: Uint8Array;
  if (!key) {
    const generated = await token.generateKeyPair(ee.spec);
    key = generated.key;
    spki = generated.spki;
    summary.push(`generated key ${ee.label} in the HSM`);
  } else {
    spki = await token.getPublicKeySpki(ee.label);
  }
  const certFile = devCertPath(ee.label);
  const current = readCert(certFile);
  // The expired one is made expired: only the others are renewed before their end.
  const stale =
    current === undefined ||
    !issuedBy(current, issuing) ||
    !equalBytes(certificateFields(new Uint8Array(current.raw)).spki, spki) ||
    (!ee.expired && endsSoon(current)) ||
    !namesUri(current, devOcspUrl()) ||
    !namesUri(current, `${devRepoUrl()}/issuing-ca.crl`);
  let certPem = current === undefined ? undefined : readFileSync(certFile, 'utf8');
  if (stale) {
    const signer = await token.getSigner(ee.label);
    const csr = await buildCsr(signer, ee.subject, spki);
    writeFileSync(devCsrPath(ee.label), derToPem(csr, 'CERTIFICATE REQUEST'));
    const validity = ee.expired
      ? ['-startdate', caDate(yearsFromNow(-2)), '-enddate', caDate(yearsFromNow(-1))]
      : ['-days', ee.label === 'tsa' || ee.label === 'seal' ? '1825' : '825'];
    caIssue('issuing_ca', ['-in', devCsrPath(ee.label), '-out', certFile, '-extensions', ee.extensions, ...validity]);
    certPem = readFileSync(certFile, 'utf8');
    mustReadCert(certFile);
    summary.push(`issued certificate ${ee.label}`);
    crlDirty = true;
  }
  if (ee.revoke && certPem !== undefined && indexStatus(serialOf(certPem)) !== 'R') {
    // RFC 5280 §5.3.1 reasonCode keyCompromise.
    openssl('ca', '-config', P.opensslConf, '-name', 'issuing_ca', '-batch', '-revoke', certFile, '-crl_reason', 'keyCompromise');
    summary.push(`revoked ${ee.label} (keyCompromise)`);
    crlDirty = true;
  }
  const der = pemToDer(certPem as string, path.relative(P.root, certFile));
  const signer = await token.getSigner(ee.label);
  if (!signer.certificate || !equalBytes(signer.certificate, der)) {
    await token.importCertificate(ee.label, key.id, der);
    summary.push(`stored certificate ${ee.label} in the token`);
  }
  return { crlDirty };
}

// ----------------------------------------------------------------------------------- CRLs and copies

const normalSerial = (hex: string): string => hex.toUpperCase().replace(/^0+(?=.)/, '');

/** The serials an `openssl ca` database lists as revoked. */
function revokedSerials(index: string): string[] {
  return readFileSync(index, 'utf8')
    .split('\n')
    .map((line) => line.split('\t'))
    .filter((f) => f[0] === 'R')
    .map((f) => normalSerial(f[3] ?? ''))
    .sort();
}

/**
 * The CRL signed by the CA as it is now, listing exactly what its database has revoked (a run killed
 * between a revocation and the CRL leaves one that does not), with its nextUpdate over a week away.
 */
function crlCurrent(pemFile: string, caPem: string, index: string): boolean {
  if (!existsSync(pemFile)) return false;
  const r = run('openssl', ['crl', '-in', pemFile, '-CAfile', caPem, '-noout', '-text'], { allowFail: true });
  // `openssl crl -CAfile` prints "verify failure" and still exits 0.
  if (!r.ok || !/verify OK/.test(r.stderr)) return false;
  const next = /Next Update: (.+)/.exec(r.stdout)?.[1];
  if (next === undefined || !(Date.parse(next) - Date.now() > 7 * 86_400_000)) return false;
  const listed = [...r.stdout.matchAll(/Serial Number: ([0-9A-Fa-f]+)/g)].map((m) => normalSerial(m[1] ?? '')).sort();
  return listed.join() === revokedSerials(index).join();
}

/** A CRL made again when asked (a certificate was just issued or revoked) or when it is not current. */
function ensureCrl(caName: 'root_ca' | 'issuing_ca', caPem: string, index: string, pemFile: string, derFile: string, force: boolean, summary: string[]): void {
  if (force || !crlCurrent(pemFile, caPem, index)) {
    openssl('ca', '-config', P.opensslConf, '-name', caName, '-batch', '-gencrl', '-crldays', '30', '-out', pemFile);
    summary.push(`generated CRL ${path.basename(derFile)}`);
  }
  // The DER the repository serves is the PEM's (a run may have died between writing the two).
  writeIfChanged(derFile, pemToDer(readFileSync(pemFile, 'utf8'), path.relative(P.root, pemFile)));
}

function ensureCopies(): void {
  const root = readFileSync(P.rootCaPem, 'utf8');
  const issuing = readFileSync(P.issuingCaPem, 'utf8');
  const clean = (pem: string): string => derToPem(pemToDer(pem), 'CERTIFICATE');
  writeIfChanged(P.chainPem, clean(issuing) + clean(root));
  writeIfChanged(P.trustRootPem, clean(root));
  writeIfChanged(P.rootCaCer, pemToDer(root));
  writeIfChanged(P.issuingCaCer, pemToDer(issuing));
}

const NSS_NICK = 'Chungthuc Dev Root CA';

/** The NSS db trusts the root as it is now (not one a rebuilt CA replaced). */
function nssTrustsRoot(db: string): boolean {
  if (!existsSync(path.join(P.nssDir, 'cert9.db'))) return false;
  const listed = run('certutil', ['-L', '-d', db, '-n', NSS_NICK, '-a'], { allowFail: true });
  try {
    return listed.ok && equalBytes(pemToDer(listed.stdout), pemToDer(readFileSync(P.rootCaPem, 'utf8')));
  } catch {
    return false;
  }
}

function ensureNssDb(summary: string[]): void {
  const db = `sql:${P.nssDir}`;
  if (nssTrustsRoot(db)) return;
  rmSync(P.nssDir, { recursive: true, force: true });
  mkdirSync(P.nssDir, { recursive: true });
  run('certutil', ['-N', '-d', db, '--empty-password']);
  // "CT,C,C": trusted CA for TLS clients, and trusted for e-mail and object signing (pdfsig).
  run('certutil', ['-A', '-d', db, '-n', NSS_NICK, '-t', 'CT,C,C', '-i', P.rootCaPem]);
  summary.push('created NSS db certs/nssdb');
}

// ---------------------------------------------------------------------------------------------- main

export interface DevPkiResult {
  /** What was created or refreshed; empty when everything was already in place. */
  changes: string[];
  elapsedMs: number;
}

/** Longest a run waits for another one to finish (a first run takes seconds). */
const LOCK_WAIT_MS = 5 * 60_000;

/** The pid in a lock file; 0 while it is being written; undefined when the file is gone or stale. */
function lockHolder(lock: string): number | undefined {
  let text: string;
  let mtimeMs: number;
  try {
    text = readFileSync(lock, 'utf8');
    mtimeMs = statSync(lock).mtimeMs;
  } catch {
    return undefined;
  }
  const pid = Number(text.trim());
  if (!Number.isInteger(pid) || pid <= 0) return Date.now() - mtimeMs > 10_000 ? undefined : 0;
  try {
    process.kill(pid, 0);
    return pid;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM' ? pid : undefined;
  }
}

/**
 * One run at a time: `npm start` and `npm test` started together (or the tests' global setup) would both
 * generate the keys, and the token would end up with two key pairs under each label. The lock is a file
 * in hsm/ holding the owner's pid; one left by a run that was killed is taken over.
 */
async function withSetupLock<T>(fn: () => Promise<T>): Promise<T> {
  const lock = path.join(P.hsmDir, '.dev-pki.lock');
  mkdirSync(P.hsmDir, { recursive: true });
  const started = Date.now();
  let told = false;
  for (;;) {
    try {
      writeFileSync(lock, `${process.pid}\n`, { flag: 'wx', mode: 0o600 });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = lockHolder(lock);
    if (holder === undefined) {
      rmSync(lock, { force: true });
      continue;
    }
    if (Date.now() - started > LOCK_WAIT_MS) {
      throw new DevPkiError(`another dev PKI setup (pid ${holder}) has held ${path.relative(P.root, lock)} for over ${LOCK_WAIT_MS / 60_000} minutes; remove it if no setup is running`);
    }
    if (!told && holder !== 0) {
      process.stderr.write(`dev-pki: waiting for the setup running as pid ${holder}\n`);
      told = true;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { force: true });
  }
}

/**
 * Build or refresh the dev PKI and HSM token. Safe to call repeatedly (tests' global setup), and after a
 * run that was killed at any point: every artefact is checked as it is, not as the last run left word.
 */
export async function ensureDevPki(): Promise<DevPkiResult> {
  const t0 = Date.now();
  const changes: string[] = [];
  return withSetupLock(async () => {
    mkdirSync(P.certsDir, { recursive: true });
    const { pin, soPin, pinCreated } = ensureHsmFiles(changes);
    ensureToken(pin, soPin, pinCreated, changes);
    const { issuing } = ensureCas(changes);
    let crlDirty = false;
    const token = await openToken({ module: DEV_PKCS11_MODULE, tokenLabel: DEV_TOKEN_LABEL, pin, poolSize: 1 });
    try {
      let existing = await token.listKeys();
      // Two setups that once ran at the same time each generated a label's key pair: which one signs, and
      // which one the certificate is for, then varies. Such a label starts over (dev keys).
      const doubled = DEV_KEY_LABELS.filter((label) => existing.filter((k) => k.label === label).length > 1);
      for (const label of doubled) {
        const count = existing.filter((k) => k.label === label).length;
        for (let i = 0; i < count; i++) await token.destroyKey(label);
        changes.push(`destroyed ${count} key pairs labelled ${label} (two setups had run at once)`);
      }
      if (doubled.length > 0) existing = await token.listKeys();
      for (const ee of endEntities()) {
        const r = await ensureEndEntity(token, ee, existing, issuing, changes);
        crlDirty ||= r.crlDirty;
      }
    } finally {
      await token.close();
    }
    ensureCrl('root_ca', P.rootCaPem, path.join(P.rootCaDb, 'index.txt'), P.rootCaCrlPem, P.rootCaCrl, false, changes);
    ensureCrl('issuing_ca', P.issuingCaPem, P.issuingCaIndex, P.issuingCaCrlPem, P.issuingCaCrl, crlDirty, changes);
    ensureCopies();
    ensureNssDb(changes);
    return { changes, elapsedMs: Date.now() - t0 };
  });
}

const invokedDirectly = process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) {
  ensureDevPki().then(
    (r) => {
      const head = r.changes.length === 0 ? 'dev PKI up to date' : `dev PKI ready (${r.changes.length} change${r.changes.length === 1 ? '' : 's'})`;
      console.log(`${head} in ${r.elapsedMs} ms — token "${DEV_TOKEN_LABEL}", keys: ${DEV_KEY_LABELS.join(', ')}; files under certs/ and hsm/`);
      for (const c of r.changes) console.log(`  - ${c}`);
    },
    (e: unknown) => {
      const code = e instanceof Error && 'code' in e ? ` [${String((e as { code: unknown }).code)}]` : '';
      console.error(`dev-pki failed${code}: ${e instanceof Error ? e.message : String(e)}`);
      if (code.includes('hsm-pin-incorrect')) {
        console.error('  hsm/pin does not match the token; remove hsm/tokens (dev keys are regenerated) and run again');
      }
      process.exitCode = 1;
    },
  );
}

/**
 * RFC 5280 §6.1 checks of a built chain beyond name and key chaining (CertificatePool only matches
 * issuer names and verifies signatures; node's checkIssued accepts an issuer that is not a CA):
 * - every issuer is a CA: basicConstraints cA (§4.2.1.9, §6.1.4 (k)), keyUsage keyCertSign when
 *   present (§6.1.4 (n)); a version 1 or 2 intermediate cannot show it is one and is refused;
 * - pathLenConstraint (§6.1.4 (l), (m)): self-issued intermediates do not count;
 * - no critical extension this code does not process (§4.2, §6.1.4 (o));
 * - name constraints (§4.2.1.10, §6.1.3 (b), (c)) on directoryName, rfc822Name (and the subject's
 *   emailAddress), dNSName, URI hosts and iPAddress; a constraint on another name form that the
 *   certificate uses cannot be checked, so it fails.
 * The trust anchor (last certificate when `anchored`) is trusted out of band: its own extensions are not
 * judged, but its pathLenConstraint and name constraints bind the path below it (as OpenSSL and NSS do).
 * Certificate policies are not processed (any policy is acceptable to this validator).
 */
import type { X509Certificate } from 'node:crypto';
import { decodeOid } from '../cms/crl.ts';
import { childrenOf, contentOf, readTlv, type Tlv } from '../cms/der.ts';
import { certificateExtensions, keyUsage } from './revocation/certificateExtensions.ts';

const OID_BASIC_CONSTRAINTS = '2.5.29.19';
const OID_NAME_CONSTRAINTS = '2.5.29.30';
const OID_SUBJECT_ALT_NAME = '2.5.29.17';
const OID_EMAIL_ADDRESS = '1.2.840.113549.1.9.1';

/**
 * Extensions that may be critical: processed here or by the validator (keyUsage, extendedKeyUsage,
 * basicConstraints, nameConstraints, subjectAltName), or without effect on whether the path is valid
 * for a signature (identifiers, pointers to revocation data and issuers, policies — accepted as any
 * policy — qualified-certificate statements, OCSP no-check, CT).
 */
const PROCESSED = new Set([
  '2.5.29.15', // keyUsage
  '2.5.29.19', // basicConstraints
  '2.5.29.30', // nameConstraints
  '2.5.29.37', // extendedKeyUsage
  '2.5.29.17', // subjectAltName
  '2.5.29.18', // issuerAltName
  '2.5.29.14', // subjectKeyIdentifier
  '2.5.29.35', // authorityKeyIdentifier
  '2.5.29.31', // cRLDistributionPoints
  '2.5.29.46', // freshestCRL
  '2.5.29.32', // certificatePolicies
  '2.5.29.33', // policyMappings
  '2.5.29.36', // policyConstraints
  '2.5.29.54', // inhibitAnyPolicy
  '2.5.29.9', // subjectDirectoryAttributes
  '2.5.29.16', // privateKeyUsagePeriod
  '1.3.6.1.5.5.7.1.1', // authorityInfoAccess
  '1.3.6.1.5.5.7.1.11', // subjectInfoAccess
  '1.3.6.1.5.5.7.1.3', // qcStatements
  '1.3.6.1.5.5.7.48.1.5', // id-pkix-ocsp-nocheck
  '1.3.6.1.4.1.11129.2.4.2', // CT precertificate SCTs
]);

interface Parsed {
  version: number;
  extensions: Map<string, { critical: boolean; value: Uint8Array }>;
  basicConstraints: { ca: boolean; pathLen: number | undefined } | undefined;
  keyUsage: ReturnType<typeof keyUsage>;
  nameConstraints: NameConstraints | undefined;
  /** The names name constraints apply to. */
  names: GeneralName[];
}

/** Everything the checks read, decoded at once: a certificate that does not decode is a problem, not a crash. */
function parse(cert: X509Certificate): Parsed {
  const der = new Uint8Array(cert.raw);
  const tbs = childrenOf(der, readTlv(der, 0))[0];
  const first = tbs === undefined ? undefined : childrenOf(der, tbs)[0];
  // version [0] EXPLICIT INTEGER DEFAULT v1 (0).
  const version = first?.tag === 0xa0 ? (contentOf(der, childrenOf(der, first)[0]!)[0] ?? 0) + 1 : 1;
  const extensions = new Map<string, { critical: boolean; value: Uint8Array }>();
  for (const e of certificateExtensions(cert)) {
    // RFC 5280 §4.2: a certificate MUST NOT include more than one instance of an extension.
    if (extensions.has(e.oid)) throw new Error(`extension ${e.oid} appears twice`);
    extensions.set(e.oid, { critical: e.critical, value: e.value });
  }
  const nc = extensions.get(OID_NAME_CONSTRAINTS);
  return {
    version,
    extensions,
    basicConstraints: basicConstraints(extensions.get(OID_BASIC_CONSTRAINTS)?.value),
    keyUsage: keyUsage(cert),
    nameConstraints: nc ? parseNameConstraints(nc.value) : undefined,
    names: namesOf(der, extensions.get(OID_SUBJECT_ALT_NAME)?.value),
  };
}

/** basicConstraints (cA, pathLenConstraint), undefined when absent. */
function basicConstraints(v: Uint8Array | undefined): { ca: boolean; pathLen: number | undefined } | undefined {
  if (!v) return undefined;
  let ca = false;
  let pathLen: number | undefined;
  for (const t of childrenOf(v, readTlv(v, 0))) {
    if (t.tag === 0x01) ca = contentOf(v, t)[0] !== 0;
    else if (t.tag === 0x02) {
      const c = contentOf(v, t);
      pathLen = c.length > 4 ? Number.MAX_SAFE_INTEGER : c.reduce((n, b) => n * 256 + b, 0);
    }
  }
  return { ca, pathLen };
}

const who = (c: X509Certificate) => `"${c.subject.replace(/\n/g, ', ')}"`;
const selfIssued = (c: X509Certificate) => c.subject === c.issuer;

/** Why the chain (leaf first) is not a valid path under RFC 5280 §6.1; empty when it is. */
export function pathProblems(chain: readonly X509Certificate[], anchored: boolean): string[] {
  const problems: string[] = [];
  const parsed: Parsed[] = [];
  for (const c of chain) {
    try {
      parsed.push(parse(c));
    } catch (e) {
      return [`${who(c)}: its extensions or names cannot be decoded (${(e as Error).message})`];
    }
  }
  const anchorAt = anchored ? chain.length - 1 : -1;
  chain.forEach((c, i) => {
    const p = parsed[i]!;
    if (i !== anchorAt) {
      for (const [oid, e] of p.extensions) if (e.critical && !PROCESSED.has(oid)) problems.push(`${who(c)} has a critical extension ${oid} that is not processed (RFC 5280 §4.2)`);
    }
    if (i === 0) return;
    // An issuer: a CA. The anchor is trusted as one unless it says it is not.
    const bc = p.basicConstraints;
    const ku = p.keyUsage;
    const below = who(chain[i - 1]!);
    if (i !== anchorAt) {
      if (p.version < 3) problems.push(`${who(c)} is a version ${p.version} certificate: not a CA certificate, yet it issued ${below} (RFC 5280 §6.1.4 (k))`);
      else if (!bc) problems.push(`${who(c)} is a certificate without basicConstraints: not a CA certificate, yet it issued ${below} (RFC 5280 §6.1.4 (k))`);
    }
    if (bc && !bc.ca) problems.push(`${who(c)} is not a CA certificate (basicConstraints cA false), yet it issued ${below} (RFC 5280 §6.1.4 (k))`);
    if (ku && !ku.has('keyCertSign')) problems.push(`${who(c)}: keyUsage lacks keyCertSign, yet it issued ${below} (RFC 5280 §6.1.4 (n))`);
    // Intermediates below this CA (the leaf is not one); self-issued ones do not count (§6.1.4 (l)).
    if (bc?.pathLen !== undefined) {
      const intermediates = chain.slice(1, i).filter((x) => !selfIssued(x)).length;
      if (intermediates > bc.pathLen) problems.push(`${who(c)} has pathLenConstraint ${bc.pathLen}, but ${intermediates} intermediate CA certificate(s) follow it (RFC 5280 §6.1.4 (l))`);
    }
    if (p.nameConstraints) {
      // §6.1.3 (b), (c): every certificate below, except self-issued intermediates (the leaf always).
      for (let j = i - 1; j >= 0; j--) {
        const sub = chain[j]!;
        if (j > 0 && selfIssued(sub)) continue;
        const bad = nameConstraintProblem(p.nameConstraints, parsed[j]!.names);
        if (bad) problems.push(`${who(sub)} violates the name constraints of ${who(c)}: ${bad} (RFC 5280 §4.2.1.10)`);
      }
    }
  });
  return problems;
}

// ------------------------------------------------------------------------------ name constraints

type Form = 'directoryName' | 'rfc822Name' | 'dNSName' | 'uniformResourceIdentifier' | 'iPAddress' | 'other';

interface GeneralName {
  form: Form;
  /** Tag of the GeneralName (for `other` forms). */
  tag: number;
  /** directoryName: normalised RDNs; strings: the text; iPAddress: the octets. */
  rdns?: string[][];
  text?: string;
  octets?: Uint8Array;
}

interface NameConstraints {
  permitted: GeneralName[];
  excluded: GeneralName[];
}

const FORMS: Record<number, Form> = { 0x81: 'rfc822Name', 0x82: 'dNSName', 0xa4: 'directoryName', 0x86: 'uniformResourceIdentifier', 0x87: 'iPAddress' };

function generalName(buf: Uint8Array, t: Tlv): GeneralName {
  const form = FORMS[t.tag] ?? 'other';
  if (form === 'directoryName') return { form, tag: t.tag, rdns: rdnsOf(buf, childrenOf(buf, t)[0]!) };
  if (form === 'iPAddress') return { form, tag: t.tag, octets: contentOf(buf, t) };
  if (form === 'other') return { form, tag: t.tag };
  return { form, tag: t.tag, text: Buffer.from(contentOf(buf, t)).toString('latin1') };
}

/** NameConstraints ::= SEQUENCE { permittedSubtrees [0] GeneralSubtrees OPTIONAL, excludedSubtrees [1] … }. */
function parseNameConstraints(v: Uint8Array): NameConstraints {
  const out: NameConstraints = { permitted: [], excluded: [] };
  for (const part of childrenOf(v, readTlv(v, 0))) {
    const list = part.tag === 0xa0 ? out.permitted : part.tag === 0xa1 ? out.excluded : undefined;
    if (!list) throw new Error(`unexpected field 0x${part.tag.toString(16)}`);
    // GeneralSubtree ::= SEQUENCE { base GeneralName, minimum [0] DEFAULT 0, maximum [1] OPTIONAL }
    for (const subtree of childrenOf(v, part)) {
      const base = childrenOf(v, subtree)[0];
      if (!base) throw new Error('empty GeneralSubtree');
      list.push(generalName(v, base));
    }
  }
  return out;
}

/** The subject DN (when not empty), its emailAddress attributes as rfc822Name, and subjectAltName entries. */
function namesOf(der: Uint8Array, san: Uint8Array | undefined): GeneralName[] {
  const tbs = childrenOf(der, childrenOf(der, readTlv(der, 0))[0]!);
  const at = tbs[0]?.tag === 0xa0 ? 1 : 0;
  const subject = tbs[at + 4]!;
  const out: GeneralName[] = [];
  const rdns = rdnsOf(der, subject);
  if (rdns.length > 0) out.push({ form: 'directoryName', tag: 0xa4, rdns });
  for (const rdn of childrenOf(der, subject)) {
    for (const atv of childrenOf(der, rdn)) {
      const [type, value] = childrenOf(der, atv);
      if (type && value && decodeOid(contentOf(der, type)) === OID_EMAIL_ADDRESS) out.push({ form: 'rfc822Name', tag: 0x81, text: Buffer.from(contentOf(der, value)).toString('latin1') });
    }
  }
  if (san) for (const t of childrenOf(san, readTlv(san, 0))) out.push(generalName(san, t));
  return out;
}

/** Why `names` break `nc`, or undefined. */
function nameConstraintProblem(nc: NameConstraints, names: readonly GeneralName[]): string | undefined {
  for (const name of names) {
    const sameForm = (c: GeneralName) => c.form === name.form && (name.form !== 'other' || c.tag === name.tag);
    const permitted = nc.permitted.filter(sameForm);
    const excluded = nc.excluded.filter(sameForm);
    if (permitted.length === 0 && excluded.length === 0) continue;
    if (name.form === 'other') return `a constraint on GeneralName form [${name.tag & 0x1f}], which this validator cannot check`;
    const label = describe(name);
    if (excluded.some((c) => within(name, c))) return `${label} is in an excluded subtree`;
    if (permitted.length > 0 && !permitted.some((c) => within(name, c))) return `${label} is outside every permitted subtree`;
  }
  return undefined;
}

function describe(n: GeneralName): string {
  if (n.form === 'directoryName') return `directoryName ${n.rdns!.map((r) => r.join('+')).join(',')}`;
  if (n.form === 'iPAddress') return `iPAddress ${Buffer.from(n.octets!).toString('hex')}`;
  return `${n.form} ${n.text}`;
}

function within(name: GeneralName, base: GeneralName): boolean {
  switch (name.form) {
    case 'directoryName':
      // The base's RDNs are the first RDNs of the name (§7.1 comparison).
      return base.rdns!.length <= name.rdns!.length && base.rdns!.every((rdn, i) => sameRdn(rdn, name.rdns![i]!));
    case 'rfc822Name':
      return mailWithin(name.text!, base.text!);
    case 'dNSName':
      return dnsWithin(name.text!.toLowerCase(), base.text!.toLowerCase());
    case 'uniformResourceIdentifier': {
      const host = uriHost(name.text!);
      return host !== undefined && hostWithin(host, base.text!.toLowerCase());
    }
    case 'iPAddress': {
      const a = name.octets!;
      const b = base.octets!;
      if (b.length !== 2 * a.length) return false;
      return a.every((x, i) => (x & b[a.length + i]!) === (b[i]! & b[a.length + i]!));
    }
    default:
      return false;
  }
}

function sameRdn(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}

/** "example.com" covers it and its subdomains; ".example.com" only subdomains (common practice). */
function dnsWithin(name: string, base: string): boolean {
  if (base === '') return true;
  if (base.startsWith('.')) return name.endsWith(base);
  return name === base || name.endsWith(`.${base}`);
}

/** URI and mailbox hosts: ".example.com" any subdomain, "example.com" that host only (§4.2.1.10). */
function hostWithin(host: string, base: string): boolean {
  return base.startsWith('.') ? host.endsWith(base) : host === base;
}

/** "user@host" that mailbox, "host" every mailbox on it, ".domain" every mailbox under it. */
function mailWithin(mail: string, base: string): boolean {
  const at = mail.lastIndexOf('@');
  if (at < 0) return false;
  const host = mail.slice(at + 1).toLowerCase();
  if (base.includes('@')) {
    const b = base.lastIndexOf('@');
    return mail.slice(0, at) === base.slice(0, b) && host === base.slice(b + 1).toLowerCase();
  }
  return hostWithin(host, base.toLowerCase());
}

function uriHost(uri: string): string | undefined {
  const m = /^[a-z][a-z0-9+.-]*:\/\/(?:[^@/?#]*@)?(\[[^\]]*\]|[^:/?#]*)/i.exec(uri);
  return m && m[1] ? m[1].toLowerCase() : undefined;
}

/**
 * RDNs of a Name as "oid=value" strings, values of string types compared as RFC 5280 §7.1 asks
 * (case-insensitive, outer white space removed, inner runs folded); other values as hex.
 */
function rdnsOf(buf: Uint8Array, name: Tlv): string[][] {
  return childrenOf(buf, name).map((rdn) =>
    childrenOf(buf, rdn).map((atv) => {
      const [type, value] = childrenOf(buf, atv);
      if (!type || !value) throw new Error('malformed AttributeTypeAndValue');
      return `${decodeOid(contentOf(buf, type))}=${attributeValue(buf, value)}`;
    }),
  );
}

function attributeValue(buf: Uint8Array, t: Tlv): string {
  const raw = Buffer.from(contentOf(buf, t));
  let text: string | undefined;
  if (t.tag === 0x0c || t.tag === 0x13 || t.tag === 0x16) text = raw.toString('utf8'); // UTF8String, PrintableString, IA5String
  else if (t.tag === 0x14) text = raw.toString('latin1'); // TeletexString, read as Latin-1
  else if (t.tag === 0x1e && raw.length % 2 === 0) text = Buffer.from(raw).swap16().toString('utf16le'); // BMPString
  if (text === undefined) return `#${raw.toString('hex')}`;
  return nameValueKey(text);
}

/**
 * The attributes of a Name (its DER), by attribute type OID, string values normalised as RFC 5280
 * §7.1 compares them (case-insensitive, outer white space removed, inner runs folded); other values
 * as `#hex`. For comparisons with a value written elsewhere, normalise it with `nameValueKey`.
 */
export function nameAttributes(nameDer: Uint8Array): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const rdn of rdnsOf(nameDer, readTlv(nameDer, 0))) {
    for (const av of rdn) {
      const eq = av.indexOf('=');
      const oid = av.slice(0, eq);
      out.set(oid, [...(out.get(oid) ?? []), av.slice(eq + 1)]);
    }
  }
  return out;
}

/** A name attribute's text as `nameAttributes` keeps it, for comparison. */
export function nameValueKey(text: string): string {
  return text.trim().replace(/\s+/g, ' ').toLowerCase();
}

/**
 * X.509 certificate revocation lists (RFC 5280 §5): parsing (DER or PEM) and signature verification.
 * Also holds the few X.509-level readers that OCSP shares with CRLs (Time, AlgorithmIdentifier,
 * Extensions, the SIGNED{} signature check), since both are "a TBS structure signed by a CA key".
 * Parsing walks DER with der.ts, which keeps the exact signed octets and stays fast on large CRLs.
 */
import { X509Certificate, constants, createVerify, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { CmsError } from './CmsError.ts';
import { certificateFields, integerValue } from './certificateFields.ts';
import { bytesEqual, childrenOf, contentOf, readTlv, slice, type Tlv } from './der.ts';
import { hashAlgorithmFromOid, nodeHashName, type HashAlgorithm } from './digest.ts';
import * as oid from './oids.ts';

// ------------------------------------------------------------------------------------ shared readers

export const TAGS = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  OID: 0x06,
  ENUMERATED: 0x0a,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  SEQUENCE: 0x30,
} as const;

export interface AlgorithmIdentifier {
  readonly oid: string;
  /** DER of the parameters when present (NULL counts as present). */
  readonly parameters: Uint8Array | undefined;
}

/** RFC 5280 §4.1 Extension: extnValue is returned as the contents of its OCTET STRING. */
export interface Extension {
  readonly oid: string;
  readonly critical: boolean;
  readonly value: Uint8Array;
}

export function malformed(what: string, cause?: unknown): CmsError {
  return new CmsError('cms-malformed', what, cause === undefined ? {} : { cause });
}

/** Runs a DER walk, turning any shape error into cms-malformed naming the structure. */
export function parsing<T>(what: string, walk: () => T): T {
  try {
    return walk();
  } catch (cause) {
    if (cause instanceof CmsError) throw new CmsError('cms-malformed', `${what}: ${cause.message}`, { cause });
    throw malformed(`${what}: ${(cause as Error).message}`, cause);
  }
}

export function expectTag(t: Tlv | undefined, tag: number, what: string): Tlv {
  if (t === undefined) throw new Error(`${what} is missing`);
  if (t.tag !== tag) throw new Error(`${what}: expected tag 0x${tag.toString(16)}, found 0x${t.tag.toString(16)}`);
  return t;
}

/** X.690 §8.19 OBJECT IDENTIFIER contents to dotted form. */
export function decodeOid(content: Uint8Array): string {
  if (content.length === 0) throw new Error('empty OBJECT IDENTIFIER');
  const arcs: bigint[] = [];
  let value = 0n;
  for (let i = 0; i < content.length; i++) {
    const byte = content[i]!;
    value = (value << 7n) | BigInt(byte & 0x7f);
    if ((byte & 0x80) === 0) {
      arcs.push(value);
      value = 0n;
    } else if (i === content.length - 1) throw new Error('truncated OBJECT IDENTIFIER');
  }
  const first = arcs[0]!;
  const head = first < 40n ? [0n, first] : first < 80n ? [1n, first - 40n] : [2n, first - 80n];
  return [...head, ...arcs.slice(1)].join('.');
}

export function oidAt(buf: Uint8Array, t: Tlv | undefined, what: string): string {
  return decodeOid(contentOf(buf, expectTag(t, TAGS.OID, what)));
}

/** Non-negative INTEGER/ENUMERATED as bigint (serials and CRL numbers reach 20 octets, RFC 5280 §5.2.3). */
export function unsignedAt(buf: Uint8Array, t: Tlv, what: string): bigint {
  const content = contentOf(buf, t);
  if (content.length === 0 || (content[0]! & 0x80) !== 0) throw new Error(`${what} is not a non-negative integer`);
  let n = 0n;
  for (const b of content) n = (n << 8n) | BigInt(b);
  return n;
}

/**
 * RFC 5280 §4.1.2.5: UTCTime YYMMDDHHMMSSZ (50–99 → 19xx) and GeneralizedTime YYYYMMDDHHMMSSZ;
 * fractional seconds are tolerated in GeneralizedTime because OCSP responders emit them.
 */
export function timeAt(buf: Uint8Array, t: Tlv | undefined, what: string): Date {
  if (t === undefined) throw new Error(`${what} is missing`);
  const text = Buffer.from(contentOf(buf, t)).toString('latin1');
  let m: RegExpExecArray | null;
  let year: number;
  if (t.tag === TAGS.UTC_TIME) {
    m = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text);
    if (!m) throw new Error(`${what}: bad UTCTime "${text}"`);
    const yy = Number(m[1]);
    year = yy >= 50 ? 1900 + yy : 2000 + yy;
  } else if (t.tag === TAGS.GENERALIZED_TIME) {
    m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:\.(\d{1,9}))?Z$/.exec(text);
    if (!m) throw new Error(`${what}: bad GeneralizedTime "${text}"`);
    year = Number(m[1]);
  } else {
    throw new Error(`${what}: expected UTCTime or GeneralizedTime`);
  }
  const ms = m[7] === undefined ? 0 : Math.floor(Number(`0.${m[7]}`) * 1000);
  const date = new Date(Date.UTC(year, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]), ms));
  if (Number.isNaN(date.getTime())) throw new Error(`${what}: invalid date "${text}"`);
  return date;
}

export function algorithmAt(buf: Uint8Array, t: Tlv | undefined, what: string): AlgorithmIdentifier {
  const [alg, params] = childrenOf(buf, expectTag(t, TAGS.SEQUENCE, what));
  return { oid: oidAt(buf, alg, `${what}.algorithm`), parameters: params === undefined ? undefined : slice(buf, params) };
}

/** Extensions ::= SEQUENCE SIZE (1..MAX) OF Extension (RFC 5280 §4.1). */
export function extensionsAt(buf: Uint8Array, t: Tlv, what: string): Extension[] {
  return childrenOf(buf, expectTag(t, TAGS.SEQUENCE, what)).map((ext) => {
    const parts = childrenOf(buf, expectTag(ext, TAGS.SEQUENCE, `${what} entry`));
    const id = oidAt(buf, parts[0], `${what} extnID`);
    let critical = false;
    let at = 1;
    if (parts[1]?.tag === TAGS.BOOLEAN) {
      critical = contentOf(buf, parts[1])[0] !== 0;
      at = 2;
    }
    const value = contentOf(buf, expectTag(parts[at], TAGS.OCTET_STRING, `${what} extnValue`));
    return { oid: id, critical, value };
  });
}

/** BIT STRING contents without the unused-bits octet; signatures and keys always have 0 unused bits. */
export function bitStringBytes(buf: Uint8Array, t: Tlv | undefined, what: string): Uint8Array {
  const content = contentOf(buf, expectTag(t, TAGS.BIT_STRING, what));
  if (content.length === 0 || content[0] !== 0) throw new Error(`${what}: BIT STRING with unused bits`);
  return content.slice(1);
}

/** subjectPublicKey BIT STRING value of a certificate (what OCSP's issuerKeyHash/byKey hash, RFC 6960 §4.1.1). */
export function publicKeyBits(certificateDer: Uint8Array): Uint8Array {
  const spki = certificateFields(certificateDer).subjectPublicKeyInfo;
  return parsing('subjectPublicKeyInfo', () => bitStringBytes(spki, childrenOf(spki, readTlv(spki, 0))[1], 'subjectPublicKey'));
}

/** Serial number of a certificate as upper-case hex of its value octets (no redundant leading zero). */
export function certificateSerialHex(certificateDer: Uint8Array): string {
  return hex(integerValue(certificateFields(certificateDer).serialNumber));
}

export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex').toUpperCase();
}

// -------------------------------------------------------------------------------- SIGNED{} check

type Resolved =
  | { readonly family: 'RSASSA-PKCS1-v1_5'; readonly hash: HashAlgorithm }
  | { readonly family: 'ECDSA'; readonly hash: HashAlgorithm }
  | { readonly family: 'RSASSA-PSS'; readonly hash: HashAlgorithm; readonly saltLength: number }
  | { readonly family: 'Ed25519' }
  | { readonly family: 'Ed448' };

/** Signature AlgorithmIdentifiers of X.509 structures: RFC 4055 §5 / RFC 5754 §3 (RSA), RFC 5758 §3.2 (ECDSA), RFC 8410 (EdDSA). */
const SIGNATURE_ALGORITHMS: ReadonlyMap<string, Resolved> = new Map<string, Resolved>([
  [oid.OID_SHA1_WITH_RSA, { family: 'RSASSA-PKCS1-v1_5', hash: 'SHA-1' }],
  [oid.OID_SHA224_WITH_RSA, { family: 'RSASSA-PKCS1-v1_5', hash: 'SHA-224' }],
  [oid.OID_SHA256_WITH_RSA, { family: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }],
  [oid.OID_SHA384_WITH_RSA, { family: 'RSASSA-PKCS1-v1_5', hash: 'SHA-384' }],
  [oid.OID_SHA512_WITH_RSA, { family: 'RSASSA-PKCS1-v1_5', hash: 'SHA-512' }],
  [oid.OID_ECDSA_WITH_SHA1, { family: 'ECDSA', hash: 'SHA-1' }],
  [oid.OID_ECDSA_WITH_SHA224, { family: 'ECDSA', hash: 'SHA-224' }],
  [oid.OID_ECDSA_WITH_SHA256, { family: 'ECDSA', hash: 'SHA-256' }],
  [oid.OID_ECDSA_WITH_SHA384, { family: 'ECDSA', hash: 'SHA-384' }],
  [oid.OID_ECDSA_WITH_SHA512, { family: 'ECDSA', hash: 'SHA-512' }],
  [oid.OID_ED25519, { family: 'Ed25519' }],
  [oid.OID_ED448, { family: 'Ed448' }],
]);

/** signatureAlgorithm of a certificate (RFC 5280 §4.1.1.2), e.g. for cryptographic constraints on a chain. */
export function certificateSignatureAlgorithm(certificateDer: Uint8Array): AlgorithmIdentifier {
  return parsing('Certificate', () => algorithmAt(certificateDer, childrenOf(certificateDer, readTlv(certificateDer, 0))[1], 'signatureAlgorithm'));
}

/** The digest behind a signature algorithm (undefined for EdDSA or an unknown algorithm), for policy checks. */
export function signatureHash(alg: AlgorithmIdentifier): HashAlgorithm | undefined {
  try {
    const r = resolveSignature(alg);
    return r.family === 'Ed25519' || r.family === 'Ed448' ? undefined : r.hash;
  } catch {
    return undefined;
  }
}

function resolveSignature(alg: AlgorithmIdentifier): Resolved {
  const known = SIGNATURE_ALGORITHMS.get(alg.oid);
  if (known) return known;
  if (alg.oid === oid.OID_RSASSA_PSS) return resolvePss(alg.parameters);
  throw new CmsError('cms-unsupported-algorithm', `unsupported signature algorithm ${alg.oid}`);
}

/** RSASSA-PSS-params (RFC 4055 §3.1); node:crypto only does MGF1 over the same hash and trailerField 1. */
function resolvePss(parameters: Uint8Array | undefined): Resolved {
  if (parameters === undefined) throw new CmsError('cms-unsupported-algorithm', 'RSASSA-PSS without parameters');
  return parsing('RSASSA-PSS-params', () => {
    let hashOid = oid.OID_SHA1;
    let mgfHashOid = oid.OID_SHA1;
    let saltLength = 20;
    for (const field of childrenOf(parameters, readTlv(parameters, 0))) {
      const inner = childrenOf(parameters, field)[0];
      if (field.tag === 0xa0) hashOid = algorithmAt(parameters, inner, 'hashAlgorithm').oid;
      else if (field.tag === 0xa1) {
        const mgf = childrenOf(parameters, expectTag(inner, TAGS.SEQUENCE, 'maskGenAlgorithm'));
        if (oidAt(parameters, mgf[0], 'maskGenAlgorithm') !== oid.OID_MGF1) throw new CmsError('cms-unsupported-algorithm', 'PSS mask generation is not MGF1');
        mgfHashOid = algorithmAt(parameters, mgf[1], 'MGF1 hash').oid;
      } else if (field.tag === 0xa2) saltLength = Number(unsignedAt(parameters, expectTag(inner, TAGS.INTEGER, 'saltLength'), 'saltLength'));
      else if (field.tag === 0xa3 && unsignedAt(parameters, expectTag(inner, TAGS.INTEGER, 'trailerField'), 'trailerField') !== 1n) {
        throw new CmsError('cms-unsupported-algorithm', 'PSS trailerField other than 1');
      }
    }
    const hash = hashAlgorithmFromOid(hashOid);
    if (hash === undefined || hash === 'SHAKE256' || mgfHashOid !== hashOid) {
      throw new CmsError('cms-unsupported-algorithm', `unsupported PSS hash ${hashOid} / MGF1 ${mgfHashOid}`);
    }
    return { family: 'RSASSA-PSS', hash, saltLength };
  });
}

/**
 * Verifies SIGNED{ToBeSigned} (RFC 5280 §4.1.1.3, §5.1.1.3; RFC 6960 §4.2.1): `signature` over the exact
 * DER octets `tbs` with `key`. False when the value does not verify (including a key of the wrong type);
 * throws cms-unsupported-algorithm for an algorithm this layer does not implement.
 */
export function verifySignatureValue(alg: AlgorithmIdentifier, tbs: Uint8Array, signature: Uint8Array, key: KeyObject): boolean {
  const r = resolveSignature(alg);
  try {
    if (r.family === 'Ed25519' || r.family === 'Ed448') return cryptoVerify(null, tbs, key, signature);
    const verifier = createVerify(nodeHashName(r.hash));
    verifier.update(tbs);
    if (r.family === 'RSASSA-PKCS1-v1_5') return verifier.verify({ key, padding: constants.RSA_PKCS1_PADDING }, signature);
    if (r.family === 'RSASSA-PSS') return verifier.verify({ key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: r.saltLength }, signature);
    return verifier.verify({ key, dsaEncoding: 'der' }, signature);
  } catch {
    // OpenSSL throws on some malformed values or mismatched key types: still "does not verify".
    return false;
  }
}

// -------------------------------------------------------------------------------------------- CRLs

/** RFC 5280 §5.3.1 CRLReason (value 7 is unused). OCSP reuses it (RFC 6960 §4.2.1). */
export type CrlReason =
  | 'unspecified'
  | 'keyCompromise'
  | 'cACompromise'
  | 'affiliationChanged'
  | 'superseded'
  | 'cessationOfOperation'
  | 'certificateHold'
  | 'removeFromCRL'
  | 'privilegeWithdrawn'
  | 'aACompromise';

const REASONS: readonly (CrlReason | undefined)[] = [
  'unspecified',
  'keyCompromise',
  'cACompromise',
  'affiliationChanged',
  'superseded',
  'cessationOfOperation',
  'certificateHold',
  undefined,
  'removeFromCRL',
  'privilegeWithdrawn',
  'aACompromise',
];

export function crlReasonFromCode(code: bigint | number): CrlReason {
  const reason = REASONS[Number(code)];
  if (reason === undefined) throw new Error(`unknown CRLReason ${code}`);
  return reason;
}

/** RFC 5280 §5.2 / §5.3 extension identifiers. */
export const OID_CRL_NUMBER = '2.5.29.20';
export const OID_CRL_REASON = '2.5.29.21';
export const OID_INVALIDITY_DATE = '2.5.29.24';
export const OID_DELTA_CRL_INDICATOR = '2.5.29.27';
export const OID_ISSUING_DISTRIBUTION_POINT = '2.5.29.28';
export const OID_CERTIFICATE_ISSUER = '2.5.29.29';
export const OID_AUTHORITY_KEY_IDENTIFIER = '2.5.29.35';

export interface CrlEntry {
  /** userCertificate value octets, no redundant leading zero. */
  readonly serialNumber: Uint8Array;
  /** Same, upper-case hex (the form `openssl crl -text` and X509Certificate.serialNumber print). */
  readonly serialHex: string;
  readonly revocationDate: Date;
  readonly reason: CrlReason | undefined;
  readonly invalidityDate: Date | undefined;
}

/**
 * RFC 5280 §5.2.5 issuingDistributionPoint: the CRL's scope. A relying party must check it against the
 * certificate (§6.3.3 (b)(2)) — see `crlScopeProblem`.
 */
export interface IssuingDistributionPoint {
  /** uniformResourceIdentifier entries of distributionPoint fullName. */
  readonly fullNameUris: readonly string[];
  /** True when the distributionPoint is given in another form (nameRelativeToCRLIssuer, other GeneralNames). */
  readonly otherNames: boolean;
  readonly onlyContainsUserCerts: boolean;
  readonly onlyContainsCACerts: boolean;
  /** A partitioned CRL that covers only some reasons. */
  readonly onlySomeReasons: boolean;
  readonly indirectCRL: boolean;
  readonly onlyContainsAttributeCerts: boolean;
}

export interface ParsedCrl {
  /** The whole CertificateList, DER. */
  readonly der: Uint8Array;
  /** tbsCertList octets exactly as signed. */
  readonly tbs: Uint8Array;
  /** 1 or 2 (RFC 5280 §5.1.2.1: absent version means v1). */
  readonly version: number;
  /** DER of the issuer Name. */
  readonly issuer: Uint8Array;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date | undefined;
  readonly revoked: readonly CrlEntry[];
  readonly crlNumber: bigint | undefined;
  /** keyIdentifier of authorityKeyIdentifier (RFC 5280 §5.2.1), when present. */
  readonly authorityKeyIdentifier: Uint8Array | undefined;
  readonly issuingDistributionPoint: IssuingDistributionPoint | undefined;
  /** Present on a delta CRL (RFC 5280 §5.2.4): the base CRL number. */
  readonly deltaCrlIndicator: bigint | undefined;
  readonly extensions: readonly Extension[];
  /**
   * Critical CRL or entry extensions this parser does not act on (delta indicator, certificate issuer of
   * indirect CRLs, unknown ones; the issuing distribution point is parsed and left to `crlScopeProblem`). RFC 5280 §5.2: such a CRL MUST NOT be
   * used to determine revocation status.
   */
  readonly unhandledCriticalExtensions: readonly string[];
  readonly signatureAlgorithm: AlgorithmIdentifier;
  readonly signature: Uint8Array;
}

const PEM_CRL = /-----BEGIN X509 CRL-----([A-Za-z0-9+/=\s]+)-----END X509 CRL-----/;

/** Parses a CRL given as DER or PEM (`-----BEGIN X509 CRL-----`, RFC 7468 §6). */
export function parseCrl(input: Uint8Array): ParsedCrl {
  let der = input;
  if (input[0] !== TAGS.SEQUENCE) {
    const m = PEM_CRL.exec(Buffer.from(input).toString('latin1'));
    if (!m) throw malformed('CRL: neither DER nor a PEM "X509 CRL"');
    der = new Uint8Array(Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64'));
  }
  return parsing('CRL', () => parseCrlDer(der));
}

function parseCrlDer(der: Uint8Array): ParsedCrl {
  const top = expectTag(readTlv(der, 0), TAGS.SEQUENCE, 'CertificateList');
  if (top.end !== der.length) throw new Error('trailing bytes after CertificateList');
  const [tbsTlv, algTlv, sigTlv, extra] = childrenOf(der, top);
  if (extra !== undefined) throw new Error('extra fields in CertificateList');
  const fields = childrenOf(der, expectTag(tbsTlv, TAGS.SEQUENCE, 'tbsCertList'));
  let i = 0;
  let version = 1;
  if (fields[i]?.tag === TAGS.INTEGER) version = Number(unsignedAt(der, fields[i++]!, 'version')) + 1;
  const innerAlg = expectTag(fields[i++], TAGS.SEQUENCE, 'tbsCertList.signature');
  const issuer = slice(der, expectTag(fields[i++], TAGS.SEQUENCE, 'issuer'));
  const thisUpdate = timeAt(der, fields[i++], 'thisUpdate');
  let nextUpdate: Date | undefined;
  if (fields[i]?.tag === TAGS.UTC_TIME || fields[i]?.tag === TAGS.GENERALIZED_TIME) nextUpdate = timeAt(der, fields[i++], 'nextUpdate');
  const unhandled: string[] = [];
  let revoked: CrlEntry[] = [];
  if (fields[i]?.tag === TAGS.SEQUENCE) revoked = childrenOf(der, fields[i++]!).map((e) => parseEntry(der, e, unhandled));
  let extensions: Extension[] = [];
  if (fields[i]?.tag === 0xa0) extensions = extensionsAt(der, expectTag(childrenOf(der, fields[i++]!)[0], TAGS.SEQUENCE, 'crlExtensions'), 'crlExtensions');
  if (i !== fields.length) throw new Error('unexpected fields in tbsCertList');
  // RFC 5280 §5.1.1.2: signatureAlgorithm MUST be identical to tbsCertList.signature.
  if (!bytesEqual(slice(der, innerAlg), slice(der, expectTag(algTlv, TAGS.SEQUENCE, 'signatureAlgorithm')))) {
    throw new Error('signatureAlgorithm differs from tbsCertList.signature');
  }
  let crlNumber: bigint | undefined;
  let aki: Uint8Array | undefined;
  let delta: bigint | undefined;
  let idp: IssuingDistributionPoint | undefined;
  for (const ext of extensions) {
    if (ext.oid === OID_CRL_NUMBER) crlNumber = unsignedAt(ext.value, expectTag(readTlv(ext.value, 0), TAGS.INTEGER, 'cRLNumber'), 'cRLNumber');
    else if (ext.oid === OID_DELTA_CRL_INDICATOR) delta = unsignedAt(ext.value, expectTag(readTlv(ext.value, 0), TAGS.INTEGER, 'BaseCRLNumber'), 'BaseCRLNumber');
    else if (ext.oid === OID_AUTHORITY_KEY_IDENTIFIER) {
      // AuthorityKeyIdentifier ::= SEQUENCE { keyIdentifier [0] IMPLICIT OCTET STRING OPTIONAL, ... }
      const kid = childrenOf(ext.value, readTlv(ext.value, 0)).find((c) => c.tag === 0x80);
      if (kid) aki = contentOf(ext.value, kid);
    }
    else if (ext.oid === OID_ISSUING_DISTRIBUTION_POINT) idp = parseIdp(ext.value);
    // CRL number, AKI and IDP are read; everything else critical (delta indicator, unknown) is not acted on.
    if (ext.critical && ext.oid !== OID_CRL_NUMBER && ext.oid !== OID_AUTHORITY_KEY_IDENTIFIER && ext.oid !== OID_ISSUING_DISTRIBUTION_POINT) unhandled.push(ext.oid);
  }
  return {
    der,
    tbs: slice(der, tbsTlv!),
    version,
    issuer,
    thisUpdate,
    nextUpdate,
    revoked,
    crlNumber,
    authorityKeyIdentifier: aki,
    issuingDistributionPoint: idp,
    deltaCrlIndicator: delta,
    extensions,
    unhandledCriticalExtensions: [...new Set(unhandled)],
    signatureAlgorithm: algorithmAt(der, algTlv, 'signatureAlgorithm'),
    signature: bitStringBytes(der, sigTlv, 'signatureValue'),
  };
}

/**
 * IssuingDistributionPoint ::= SEQUENCE { distributionPoint [0] DistributionPointName OPTIONAL,
 *   onlyContainsUserCerts [1] BOOLEAN DEFAULT FALSE, onlyContainsCACerts [2] BOOLEAN DEFAULT FALSE,
 *   onlySomeReasons [3] ReasonFlags OPTIONAL, indirectCRL [4] BOOLEAN DEFAULT FALSE,
 *   onlyContainsAttributeCerts [5] BOOLEAN DEFAULT FALSE }          (implicit tags, RFC 5280 Appendix A.2)
 */
function parseIdp(v: Uint8Array): IssuingDistributionPoint {
  const fields = childrenOf(v, expectTag(readTlv(v, 0), TAGS.SEQUENCE, 'issuingDistributionPoint'));
  const flag = (tag: number): boolean => {
    const f = fields.find((t) => t.tag === tag);
    return f !== undefined && contentOf(v, f)[0] !== 0;
  };
  const uris: string[] = [];
  let otherNames = false;
  const dp = fields.find((t) => t.tag === 0xa0);
  if (dp !== undefined) {
    for (const choice of childrenOf(v, dp)) {
      if (choice.tag !== 0xa0) {
        otherNames = true;
        continue;
      }
      for (const gn of childrenOf(v, choice)) {
        if (gn.tag === 0x86) uris.push(Buffer.from(contentOf(v, gn)).toString('latin1'));
        else otherNames = true;
      }
    }
  }
  return {
    fullNameUris: uris,
    otherNames,
    onlyContainsUserCerts: flag(0x81),
    onlyContainsCACerts: flag(0x82),
    onlySomeReasons: fields.some((t) => t.tag === 0x83),
    indirectCRL: flag(0x84),
    onlyContainsAttributeCerts: flag(0x85),
  };
}

/**
 * RFC 5280 §6.3.3 (b)(2): why this complete CRL cannot decide the status of `certificate`, or undefined
 * when it can. `distributionPointUris` are the URIs the CRL was expected under (the certificate's CRLDP
 * and the URL it was fetched from); when the IDP names a distribution point, one must match.
 */
export function crlScopeProblem(crl: ParsedCrl, certificate: X509Certificate, distributionPointUris: readonly string[]): string | undefined {
  const idp = crl.issuingDistributionPoint;
  if (idp === undefined) return undefined;
  if (idp.indirectCRL) return 'an indirect CRL (not supported)';
  if (idp.onlySomeReasons) return 'a CRL partitioned by reason (onlySomeReasons)';
  if (idp.onlyContainsAttributeCerts) return 'a CRL of attribute certificates only';
  if (idp.onlyContainsUserCerts && certificate.ca) return 'a CRL of end-entity certificates only, for a CA certificate';
  if (idp.onlyContainsCACerts && !certificate.ca) return 'a CRL of CA certificates only, for an end-entity certificate';
  if ((idp.fullNameUris.length > 0 || idp.otherNames) && !idp.fullNameUris.some((u) => distributionPointUris.includes(u))) {
    return `a CRL for distribution point ${idp.fullNameUris.join(', ') || '(not a URI)'}, not ${distributionPointUris.join(', ')}`;
  }
  return undefined;
}

function parseEntry(der: Uint8Array, entry: Tlv, unhandled: string[]): CrlEntry {
  const [serialTlv, dateTlv, extTlv] = childrenOf(der, expectTag(entry, TAGS.SEQUENCE, 'revokedCertificates entry'));
  const serialNumber = integerValue(slice(der, expectTag(serialTlv, TAGS.INTEGER, 'userCertificate')));
  let reason: CrlReason | undefined;
  let invalidityDate: Date | undefined;
  if (extTlv !== undefined) {
    for (const ext of extensionsAt(der, extTlv, 'crlEntryExtensions')) {
      if (ext.oid === OID_CRL_REASON) {
        reason = crlReasonFromCode(unsignedAt(ext.value, expectTag(readTlv(ext.value, 0), TAGS.ENUMERATED, 'reasonCode'), 'reasonCode'));
      } else if (ext.oid === OID_INVALIDITY_DATE) {
        invalidityDate = timeAt(ext.value, readTlv(ext.value, 0), 'invalidityDate');
      } else if (ext.critical) {
        // certificateIssuer (indirect CRLs, §5.3.3) and unknown critical entry extensions.
        unhandled.push(ext.oid);
      }
    }
  }
  return { serialNumber, serialHex: hex(serialNumber), revocationDate: timeAt(der, dateTlv, 'revocationDate'), reason, invalidityDate };
}

const entryIndex = new WeakMap<ParsedCrl, Map<string, CrlEntry>>();

/** The CRL entry of `certificate` (by serial number), or undefined when it is not listed. */
export function crlEntryFor(crl: ParsedCrl, certificate: X509Certificate | Uint8Array): CrlEntry | undefined {
  let index = entryIndex.get(crl);
  if (index === undefined) {
    index = new Map(crl.revoked.map((e) => [e.serialHex, e]));
    entryIndex.set(crl, index);
  }
  const der = certificate instanceof X509Certificate ? new Uint8Array(certificate.raw) : certificate;
  return index.get(certificateSerialHex(der));
}

/** Verifies the CRL signature (RFC 5280 §6.3.3 (f)) with the issuer certificate's or a given public key. */
export function verifyCrlSignature(crl: ParsedCrl, issuer: X509Certificate | KeyObject): boolean {
  const key = issuer instanceof X509Certificate ? issuer.publicKey : issuer;
  return verifySignatureValue(crl.signatureAlgorithm, crl.tbs, crl.signature, key);
}

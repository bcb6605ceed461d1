/**
 * OCSP messages (RFC 6960): building an OCSPRequest, parsing an OCSPResponse / BasicOCSPResponse and
 * verifying its signature. Pure encode/decode and crypto; fetching, responder authorisation policy and
 * freshness rules live in src/pki/revocation.
 */
import { X509Certificate, randomBytes, type KeyObject } from 'node:crypto';
import { CmsError } from './CmsError.ts';
import { certificateFields, integerValue } from './certificateFields.ts';
import {
  TAGS,
  algorithmAt,
  bitStringBytes,
  crlReasonFromCode,
  expectTag,
  extensionsAt,
  hex,
  oidAt,
  parsing,
  publicKeyBits,
  timeAt,
  unsignedAt,
  verifySignatureValue,
  type AlgorithmIdentifier,
  type CrlReason,
  type Extension,
} from './crl.ts';
import { bytesEqual, childrenOf, contentOf, readTlv, slice, tlv, type Tlv } from './der.ts';
import { digest, hashAlgorithmFromOid, hashAlgorithmOid, type HashAlgorithm } from './digest.ts';
import { DER_NULL, encodeOctetString, encodeOid } from './encode.ts';

/** RFC 6960 §4.2.1 id-pkix-ocsp-basic, §4.4.1 id-pkix-ocsp-nonce, §4.2.2.2.1 id-pkix-ocsp-nocheck. */
export const OID_OCSP_BASIC = '1.3.6.1.5.5.7.48.1.1';
export const OID_OCSP_NONCE = '1.3.6.1.5.5.7.48.1.2';
export const OID_OCSP_NOCHECK = '1.3.6.1.5.5.7.48.1.5';
/** RFC 5280 §4.2.1.12 id-kp-OCSPSigning. */
export const OID_KP_OCSP_SIGNING = '1.3.6.1.5.5.7.3.9';

/** Hashes a CertID may use when we build one (RFC 6960 §4.1.1; SHA-1 is what most responders index). */
export type CertIdHash = 'SHA-1' | 'SHA-256';

/** RFC 6960 §4.1.1 CertID. */
export interface CertId {
  readonly hashAlgorithmOid: string;
  /** Undefined when the responder used a digest we cannot compute. */
  readonly hashAlgorithm: HashAlgorithm | undefined;
  readonly issuerNameHash: Uint8Array;
  readonly issuerKeyHash: Uint8Array;
  /** serialNumber value octets, no redundant leading zero. */
  readonly serialNumber: Uint8Array;
}

type CertInput = X509Certificate | Uint8Array;

const derOf = (c: CertInput): Uint8Array => (c instanceof X509Certificate ? new Uint8Array(c.raw) : c);

/**
 * CertID of `certificate` (RFC 6960 §4.1.1): issuerNameHash over the DER of the certificate's issuer
 * field, issuerKeyHash over the issuer's subjectPublicKey BIT STRING value (no tag, length or
 * unused-bits octet), and the certificate's serial number.
 */
export function buildCertId(certificate: CertInput, issuer: CertInput, hash: CertIdHash = 'SHA-1'): CertId {
  const fields = certificateFields(derOf(certificate));
  return {
    hashAlgorithmOid: hashAlgorithmOid(hash),
    hashAlgorithm: hash,
    issuerNameHash: digest(hash, fields.issuer),
    issuerKeyHash: digest(hash, publicKeyBits(derOf(issuer))),
    serialNumber: integerValue(fields.serialNumber),
  };
}

/** True when `certId` (as found in a response, whatever its hash) designates `certificate` issued by `issuer`. */
export function certIdMatches(certId: CertId, certificate: CertInput, issuer: CertInput): boolean {
  const alg = certId.hashAlgorithm;
  if (alg !== 'SHA-1' && alg !== 'SHA-256' && alg !== 'SHA-384' && alg !== 'SHA-512') return false;
  const fields = certificateFields(derOf(certificate));
  return (
    bytesEqual(certId.serialNumber, integerValue(fields.serialNumber)) &&
    bytesEqual(certId.issuerNameHash, digest(alg, fields.issuer)) &&
    bytesEqual(certId.issuerKeyHash, digest(alg, publicKeyBits(derOf(issuer))))
  );
}

function encodeCertId(id: CertId): Uint8Array {
  // Hash AlgorithmIdentifier with NULL parameters, as OpenSSL writes it (RFC 6960 does not constrain it).
  return tlv(TAGS.SEQUENCE, [
    tlv(TAGS.SEQUENCE, [encodeOid(id.hashAlgorithmOid), DER_NULL]),
    encodeOctetString(id.issuerNameHash),
    encodeOctetString(id.issuerKeyHash),
    // INTEGER: value octets plus a leading zero when the top bit is set (X.690 §8.3.2).
    tlv(TAGS.INTEGER, [(id.serialNumber[0]! & 0x80) !== 0 ? Uint8Array.of(0, ...id.serialNumber) : id.serialNumber]),
  ]);
}

export interface OcspRequestOptions {
  /**
   * RFC 8954 §2.1 nonce (1..32 octets): `true` (default) draws 32 random octets, `false` omits the
   * extension, a Uint8Array is used as is.
   */
  readonly nonce?: boolean | Uint8Array;
}

export interface OcspRequest {
  readonly der: Uint8Array;
  readonly nonce: Uint8Array | undefined;
}

/**
 * An unsigned OCSPRequest (RFC 6960 §4.1.1) for one or more CertIDs:
 *   OCSPRequest ::= SEQUENCE { tbsRequest TBSRequest }                      (no optionalSignature)
 *   TBSRequest  ::= SEQUENCE { requestList SEQUENCE OF Request, requestExtensions [2] EXPLICIT Extensions }
 * version v1 is the DEFAULT and so is omitted in DER.
 */
export function buildOcspRequest(certIds: CertId | readonly CertId[], options: OcspRequestOptions = {}): OcspRequest {
  const ids = Array.isArray(certIds) ? (certIds as readonly CertId[]) : [certIds as CertId];
  if (ids.length === 0) throw new CmsError('cms-invalid-argument', 'an OCSP request needs at least one CertID');
  const nonce = options.nonce === false ? undefined : options.nonce === true || options.nonce === undefined ? new Uint8Array(randomBytes(32)) : options.nonce;
  if (nonce !== undefined && (nonce.length < 1 || nonce.length > 32)) {
    throw new CmsError('cms-invalid-argument', `an OCSP nonce has 1 to 32 octets (RFC 8954 §2.1), not ${nonce.length}`);
  }
  const requestList = tlv(TAGS.SEQUENCE, ids.map((id) => tlv(TAGS.SEQUENCE, [encodeCertId(id)])));
  const parts = [requestList];
  if (nonce !== undefined) {
    // RFC 8954 §2.1: the extnValue holds the DER of Nonce ::= OCTET STRING.
    const ext = tlv(TAGS.SEQUENCE, [encodeOid(OID_OCSP_NONCE), encodeOctetString(encodeOctetString(nonce))]);
    parts.push(tlv(0xa2, [tlv(TAGS.SEQUENCE, [ext])]));
  }
  return { der: tlv(TAGS.SEQUENCE, [tlv(TAGS.SEQUENCE, parts)]), nonce };
}

// ---------------------------------------------------------------------------------------- responses

/** RFC 6960 §4.2.1 OCSPResponseStatus (4 is not used). */
export type OcspResponseStatus = 'successful' | 'malformedRequest' | 'internalError' | 'tryLater' | 'sigRequired' | 'unauthorized';

const RESPONSE_STATUSES: readonly (OcspResponseStatus | undefined)[] = ['successful', 'malformedRequest', 'internalError', 'tryLater', undefined, 'sigRequired', 'unauthorized'];

export type ResponderId = { readonly kind: 'byName'; readonly name: Uint8Array } | { readonly kind: 'byKey'; readonly keyHash: Uint8Array };

export type OcspCertStatus =
  | { readonly status: 'good' }
  | { readonly status: 'revoked'; readonly revocationTime: Date; readonly reason: CrlReason | undefined }
  | { readonly status: 'unknown' };

export interface SingleResponse {
  readonly certId: CertId;
  readonly certStatus: OcspCertStatus;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date | undefined;
  readonly extensions: readonly Extension[];
}

export interface BasicOcspResponse {
  /** tbsResponseData octets exactly as signed. */
  readonly tbsResponseData: Uint8Array;
  readonly version: number;
  readonly responderId: ResponderId;
  readonly producedAt: Date;
  readonly responses: readonly SingleResponse[];
  readonly extensions: readonly Extension[];
  /** The nonce the responder echoed (RFC 8954), undefined when it sent none. */
  readonly nonce: Uint8Array | undefined;
  readonly signatureAlgorithm: AlgorithmIdentifier;
  readonly signature: Uint8Array;
  /** DER certificates from `certs` (the responder's certificate and possibly its chain). */
  readonly certs: readonly Uint8Array[];
}

export interface OcspResponse {
  /** The whole OCSPResponse, DER (what a PAdES DSS /OCSPs stream holds, ETSI EN 319 142-1 §5.4.2). */
  readonly der: Uint8Array;
  readonly responseStatus: OcspResponseStatus;
  /** Present when responseStatus is successful and the responseType is id-pkix-ocsp-basic. */
  readonly basic: BasicOcspResponse | undefined;
  /** responseType OID when responseBytes are present. */
  readonly responseType: string | undefined;
}

/**
 *   OCSPResponse  ::= SEQUENCE { responseStatus ENUMERATED, responseBytes [0] EXPLICIT ResponseBytes OPTIONAL }
 *   ResponseBytes ::= SEQUENCE { responseType OBJECT IDENTIFIER, response OCTET STRING }
 */
export function parseOcspResponse(der: Uint8Array): OcspResponse {
  return parsing('OCSPResponse', () => {
    const top = expectTag(readTlv(der, 0), TAGS.SEQUENCE, 'OCSPResponse');
    if (top.end !== der.length) throw new Error('trailing bytes after OCSPResponse');
    const [statusTlv, bytesTlv] = childrenOf(der, top);
    const code = Number(unsignedAt(der, expectTag(statusTlv, TAGS.ENUMERATED, 'responseStatus'), 'responseStatus'));
    const responseStatus = RESPONSE_STATUSES[code];
    if (responseStatus === undefined) throw new Error(`unknown responseStatus ${code}`);
    if (bytesTlv === undefined) {
      if (responseStatus === 'successful') throw new Error('successful response without responseBytes');
      return { der, responseStatus, basic: undefined, responseType: undefined };
    }
    const rb = childrenOf(der, expectTag(childrenOf(der, expectTag(bytesTlv, 0xa0, 'responseBytes'))[0], TAGS.SEQUENCE, 'ResponseBytes'));
    const responseType = oidAt(der, rb[0], 'responseType');
    const inner = contentOf(der, expectTag(rb[1], TAGS.OCTET_STRING, 'response'));
    const basic = responseType === OID_OCSP_BASIC ? parseBasic(inner) : undefined;
    return { der, responseStatus, basic, responseType };
  });
}

/**
 * BasicOCSPResponse ::= SEQUENCE { tbsResponseData ResponseData, signatureAlgorithm, signature BIT STRING,
 *                                  certs [0] EXPLICIT SEQUENCE OF Certificate OPTIONAL }
 * ResponseData ::= SEQUENCE { version [0] EXPLICIT DEFAULT v1, responderID, producedAt GeneralizedTime,
 *                             responses SEQUENCE OF SingleResponse, responseExtensions [1] EXPLICIT OPTIONAL }
 */
function parseBasic(der: Uint8Array): BasicOcspResponse {
  const top = expectTag(readTlv(der, 0), TAGS.SEQUENCE, 'BasicOCSPResponse');
  if (top.end !== der.length) throw new Error('trailing bytes after BasicOCSPResponse');
  const [tbsTlv, algTlv, sigTlv, certsTlv] = childrenOf(der, top);
  const fields = childrenOf(der, expectTag(tbsTlv, TAGS.SEQUENCE, 'tbsResponseData'));
  let i = 0;
  let version = 1;
  if (fields[i]?.tag === 0xa0) version = Number(unsignedAt(der, expectTag(childrenOf(der, fields[i++]!)[0], TAGS.INTEGER, 'version'), 'version')) + 1;
  const responderId = parseResponderId(der, fields[i++]);
  const producedAt = timeAt(der, expectTag(fields[i++], TAGS.GENERALIZED_TIME, 'producedAt'), 'producedAt');
  const responses = childrenOf(der, expectTag(fields[i++], TAGS.SEQUENCE, 'responses')).map((r) => parseSingle(der, r));
  let extensions: Extension[] = [];
  if (fields[i]?.tag === 0xa1) extensions = extensionsAt(der, childrenOf(der, fields[i++]!)[0]!, 'responseExtensions');
  if (i !== fields.length) throw new Error('unexpected fields in ResponseData');
  const certs = certsTlv === undefined ? [] : childrenOf(der, expectTag(childrenOf(der, expectTag(certsTlv, 0xa0, 'certs'))[0], TAGS.SEQUENCE, 'certs')).map((c) => slice(der, c));
  return {
    tbsResponseData: slice(der, tbsTlv!),
    version,
    responderId,
    producedAt,
    responses,
    extensions,
    nonce: nonceOf(extensions),
    signatureAlgorithm: algorithmAt(der, algTlv, 'signatureAlgorithm'),
    signature: bitStringBytes(der, sigTlv, 'signature'),
    certs,
  };
}

/** ResponderID ::= CHOICE { byName [1] Name, byKey [2] KeyHash } (explicit tags: the module is EXPLICIT TAGS). */
function parseResponderId(der: Uint8Array, t: Tlv | undefined): ResponderId {
  if (t?.tag === 0xa1) return { kind: 'byName', name: slice(der, expectTag(childrenOf(der, t)[0], TAGS.SEQUENCE, 'responderID byName')) };
  if (t?.tag === 0xa2) return { kind: 'byKey', keyHash: contentOf(der, expectTag(childrenOf(der, t)[0], TAGS.OCTET_STRING, 'responderID byKey')) };
  throw new Error('responderID is neither byName nor byKey');
}

/**
 * SingleResponse ::= SEQUENCE { certID, certStatus, thisUpdate GeneralizedTime,
 *                               nextUpdate [0] EXPLICIT OPTIONAL, singleExtensions [1] EXPLICIT OPTIONAL }
 * CertStatus ::= CHOICE { good [0] IMPLICIT NULL, revoked [1] IMPLICIT RevokedInfo, unknown [2] IMPLICIT NULL }
 * RevokedInfo ::= SEQUENCE { revocationTime GeneralizedTime, revocationReason [0] EXPLICIT CRLReason OPTIONAL }
 */
function parseSingle(der: Uint8Array, t: Tlv): SingleResponse {
  const f = childrenOf(der, expectTag(t, TAGS.SEQUENCE, 'SingleResponse'));
  const certId = parseCertId(der, f[0]);
  const st = f[1];
  let certStatus: OcspCertStatus;
  if (st?.tag === 0x80) certStatus = { status: 'good' };
  else if (st?.tag === 0x82) certStatus = { status: 'unknown' };
  else if (st?.tag === 0xa1) {
    const [timeTlv, reasonTlv] = childrenOf(der, st);
    const reason = reasonTlv === undefined ? undefined : crlReasonFromCode(unsignedAt(der, expectTag(childrenOf(der, expectTag(reasonTlv, 0xa0, 'revocationReason'))[0], TAGS.ENUMERATED, 'revocationReason'), 'revocationReason'));
    certStatus = { status: 'revoked', revocationTime: timeAt(der, expectTag(timeTlv, TAGS.GENERALIZED_TIME, 'revocationTime'), 'revocationTime'), reason };
  } else throw new Error('certStatus is not good, revoked or unknown');
  const thisUpdate = timeAt(der, expectTag(f[2], TAGS.GENERALIZED_TIME, 'thisUpdate'), 'thisUpdate');
  let i = 3;
  let nextUpdate: Date | undefined;
  if (f[i]?.tag === 0xa0) nextUpdate = timeAt(der, expectTag(childrenOf(der, f[i++]!)[0], TAGS.GENERALIZED_TIME, 'nextUpdate'), 'nextUpdate');
  let extensions: Extension[] = [];
  if (f[i]?.tag === 0xa1) extensions = extensionsAt(der, childrenOf(der, f[i++]!)[0]!, 'singleExtensions');
  if (i !== f.length) throw new Error('unexpected fields in SingleResponse');
  return { certId, certStatus, thisUpdate, nextUpdate, extensions };
}

function parseCertId(der: Uint8Array, t: Tlv | undefined): CertId {
  const [algTlv, nameTlv, keyTlv, serialTlv] = childrenOf(der, expectTag(t, TAGS.SEQUENCE, 'CertID'));
  const alg = algorithmAt(der, algTlv, 'CertID.hashAlgorithm');
  return {
    hashAlgorithmOid: alg.oid,
    hashAlgorithm: hashAlgorithmFromOid(alg.oid),
    issuerNameHash: contentOf(der, expectTag(nameTlv, TAGS.OCTET_STRING, 'issuerNameHash')),
    issuerKeyHash: contentOf(der, expectTag(keyTlv, TAGS.OCTET_STRING, 'issuerKeyHash')),
    serialNumber: integerValue(slice(der, expectTag(serialTlv, TAGS.INTEGER, 'serialNumber'))),
  };
}

/**
 * RFC 8954 §2.1: extnValue is the DER of an OCTET STRING holding the nonce. Some older responders echo the
 * raw octets instead (RFC 2560 left it open); those are returned as they are.
 */
function nonceOf(extensions: readonly Extension[]): Uint8Array | undefined {
  const ext = extensions.find((e) => e.oid === OID_OCSP_NONCE);
  if (ext === undefined) return undefined;
  try {
    const t = readTlv(ext.value, 0);
    if (t.tag === TAGS.OCTET_STRING && t.end === ext.value.length) return contentOf(ext.value, t);
  } catch {
    /* raw nonce */
  }
  return ext.value;
}

/** True when the ResponderID designates `certificate` (byName: subject DER; byKey: SHA-1 of its public key, RFC 6960 §4.2.2.3). */
export function responderIdMatches(responderId: ResponderId, certificate: CertInput): boolean {
  const der = derOf(certificate);
  if (responderId.kind === 'byName') return bytesEqual(responderId.name, certificateFields(der).subject);
  return bytesEqual(responderId.keyHash, digest('SHA-1', publicKeyBits(der)));
}

/** Verifies the BasicOCSPResponse signature over tbsResponseData (RFC 6960 §4.2.1) with the signer's key. */
export function verifyOcspSignature(basic: BasicOcspResponse, signer: X509Certificate | KeyObject): boolean {
  const key = signer instanceof X509Certificate ? signer.publicKey : signer;
  return verifySignatureValue(basic.signatureAlgorithm, basic.tbsResponseData, basic.signature, key);
}

/** Upper-case hex of a CertID's serial (the form X509Certificate.serialNumber and `openssl` print). */
export function certIdSerialHex(certId: CertId): string {
  return hex(certId.serialNumber);
}

/**
 * RFC 3161 Time-Stamp Protocol structures (with the RFC 5816 ESSCertIDv2 update): encode and parse
 * TimeStampReq, TSTInfo and TimeStampResp, assemble a TimeStampToken (SignedData over TSTInfo) from a
 * signature made elsewhere (the HSM), and verify a token. Verification returns a value, never throws for
 * a bad token; only undecodable input throws CmsError('cms-malformed').
 *
 * The module definition of RFC 3161 Appendix C uses IMPLICIT TAGS: `[0]`/`[1]` below are implicit
 * unless the type is a CHOICE (GeneralName), which X.680 §31.2.7 makes explicit.
 */
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import type { DigestAlgorithm, SignatureScheme } from '../signers/Signer.ts';
import { CmsError } from './CmsError.ts';
import { UNIVERSAL, children, decode, isContext, isUniversal, octetsOf, oidOf, raw, type Block } from './asn.ts';
import { certificateFields, certificateKey } from './certificateFields.ts';
import { memoByContent } from './contentMemo.ts';
import { bytesEqual, childrenOf, compareBytes, isSingleTlv, readTlv, setOf, tlv } from './der.ts';
import { digest, digestLength, hashAlgorithmFromOid, hashAlgorithmOid, type HashAlgorithm } from './digest.ts';
import {
  DER_NULL,
  TAG,
  digestAlgorithmIdentifier,
  encodeOctetString,
  encodeOid,
  encodeSmallInteger,
  encodeTime,
  signatureAlgorithmIdentifier,
} from './encode.ts';
import * as oid from './oids.ts';
import { parseSignedData, type ParsedSignedData } from './parseSignedData.ts';
import { attribute, buildSignedAttributes, type SignedAttributes } from './signedAttributes.ts';
import { verifySignerInfo, type CheckOutcome, type SignerInfoVerification } from './verifySignerInfo.ts';

/** RFC 5280 §4.2.1.12 extendedKeyUsage and id-kp-timeStamping. */
export const OID_EXTENDED_KEY_USAGE = '2.5.29.37';
export const OID_KP_TIME_STAMPING = '1.3.6.1.5.5.7.3.8';

const TAG_BOOLEAN = 0x01;
const TAG_BIT_STRING = 0x03;
const TAG_UTF8_STRING = 0x0c;
const TAG_CONTEXT_PRIMITIVE_0 = 0x80;
const TAG_CONTEXT_PRIMITIVE_1 = 0x81;

// ---------------------------------------------------------------------------------------------------
// Status (RFC 3161 §2.4.2, from RFC 2510 / RFC 4210 PKIStatusInfo)

/** PKIStatus values in order: the index is the INTEGER. */
export const PKI_STATUSES = [
  'granted',
  'grantedWithMods',
  'rejection',
  'waiting',
  'revocationWarning',
  'revocationNotification',
] as const;
export type PkiStatus = (typeof PKI_STATUSES)[number];

/** PKIFailureInfo named bits (RFC 3161 §2.4.2). */
export const PKI_FAILURE_BITS = {
  badAlg: 0,
  badRequest: 2,
  badDataFormat: 5,
  timeNotAvailable: 14,
  unacceptedPolicy: 15,
  unacceptedExtension: 16,
  addInfoNotAvailable: 17,
  systemFailure: 25,
} as const;
export type PkiFailureInfo = keyof typeof PKI_FAILURE_BITS;

export interface PkiStatusInfo {
  /** The INTEGER as sent (may be outside PKI_STATUSES in a hostile response). */
  readonly status: number;
  readonly statusName: PkiStatus | undefined;
  readonly statusText: readonly string[];
  readonly failInfo: readonly PkiFailureInfo[];
}

// ---------------------------------------------------------------------------------------------------
// Shared pieces

/** MessageImprint ::= SEQUENCE { hashAlgorithm AlgorithmIdentifier, hashedMessage OCTET STRING } */
export interface MessageImprint {
  readonly hashAlgorithmOid: string;
  /** Undefined for a hash this layer cannot compute. */
  readonly hashAlgorithm: HashAlgorithm | undefined;
  /** False when the AlgorithmIdentifier parameters are absent or NULL (RFC 5754 §2 allows both). */
  readonly hasParameters: boolean;
  readonly hashedMessage: Uint8Array;
}

export interface MessageImprintInput {
  readonly hashAlgorithm: HashAlgorithm;
  readonly hashedMessage: Uint8Array;
}

/** Extension ::= SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING } (RFC 5280 §4.1). */
export interface TspExtension {
  readonly oid: string;
  readonly critical: boolean;
  readonly value: Uint8Array;
}

/**
 * Accuracy ::= SEQUENCE { seconds INTEGER OPTIONAL, millis [0] INTEGER (1..999) OPTIONAL,
 *                         micros [1] INTEGER (1..999) OPTIONAL }
 */
export interface Accuracy {
  readonly seconds?: number;
  readonly millis?: number;
  readonly micros?: number;
}

// ---------------------------------------------------------------------------------------------------
// TimeStampReq (RFC 3161 §2.4.1)

export interface TimeStampReqInput {
  readonly messageImprint: MessageImprintInput;
  readonly reqPolicy?: string;
  /** Positive; RFC 3161 §2.4.1 recommends a large random number (we use 64 bits). */
  readonly nonce?: bigint;
  readonly certReq?: boolean;
}

export interface TimeStampReqInfo {
  readonly version: number;
  readonly messageImprint: MessageImprint;
  /** Exact DER of the request's MessageImprint: a TSA echoes it into TSTInfo unchanged (§2.4.2). */
  readonly messageImprintDer: Uint8Array;
  readonly reqPolicy: string | undefined;
  readonly nonce: bigint | undefined;
  readonly certReq: boolean;
  readonly extensions: readonly TspExtension[];
}

/**
 * TimeStampReq ::= SEQUENCE { version INTEGER { v1(1) }, messageImprint MessageImprint,
 *   reqPolicy TSAPolicyId OPTIONAL, nonce INTEGER OPTIONAL, certReq BOOLEAN DEFAULT FALSE,
 *   extensions [0] IMPLICIT Extensions OPTIONAL }
 * certReq is omitted when false (DER omits DEFAULT values, X.690 §11.5).
 */
export function encodeTimeStampReq(input: TimeStampReqInput): Uint8Array {
  const parts = [encodeSmallInteger(1), encodeMessageImprint(input.messageImprint)];
  if (input.reqPolicy !== undefined) parts.push(encodeOid(input.reqPolicy));
  if (input.nonce !== undefined) parts.push(encodeBigInteger(input.nonce));
  if (input.certReq === true) parts.push(encodeBoolean(true));
  return tlv(TAG.SEQUENCE, parts);
}

export function parseTimeStampReq(der: Uint8Array): TimeStampReqInfo {
  const block = decodeExactly(der, 'TimeStampReq');
  const fields = children(block, 'TimeStampReq');
  let i = 0;
  const version = smallIntegerOf(fields[i++], 'TimeStampReq.version');
  const imprintBlock = fields[i++];
  const messageImprint = parseMessageImprint(imprintBlock);
  let reqPolicy: string | undefined;
  let nonce: bigint | undefined;
  let certReq = false;
  let extensions: TspExtension[] = [];
  if (fields[i] instanceof asn1js.ObjectIdentifier) reqPolicy = oidOf(fields[i++], 'reqPolicy');
  if (fields[i] instanceof asn1js.Integer) nonce = bigIntOf(fields[i++], 'nonce');
  if (fields[i] instanceof asn1js.Boolean) certReq = booleanOf(fields[i++], 'certReq');
  if (isContext(fields[i], 0)) extensions = parseExtensions(fields[i++]!);
  if (i !== fields.length) throw new CmsError('cms-malformed', 'TimeStampReq: unexpected field');
  return { version, messageImprint, messageImprintDer: raw(imprintBlock!), reqPolicy, nonce, certReq, extensions };
}

// ---------------------------------------------------------------------------------------------------
// TSTInfo (RFC 3161 §2.4.2)

export interface TstInfoInput {
  /** TSAPolicyId. */
  readonly policy: string;
  /** The request's MessageImprint DER (echoed verbatim), or an imprint to encode. */
  readonly messageImprint: Uint8Array | MessageImprintInput;
  /** Positive, unique per TSA, at most 160 bits (§2.4.2). */
  readonly serialNumber: bigint;
  readonly genTime: Date;
  readonly accuracy?: Accuracy;
  readonly nonce?: bigint;
  /** DER Name of the TSA (its certificate subject), sent as GeneralName directoryName. */
  readonly tsaName?: Uint8Array;
}

export type TsaGeneralName =
  | { readonly kind: 'directoryName'; readonly name: Uint8Array }
  | { readonly kind: 'other'; readonly der: Uint8Array };

export interface TstInfo {
  /** The DER this was parsed from: the eContent the token signs. */
  readonly der: Uint8Array;
  readonly version: number;
  readonly policy: string;
  readonly messageImprint: MessageImprint;
  readonly serialNumber: bigint;
  readonly genTime: Date;
  /** genTime as sent, e.g. `20250101120000.123Z` (Date keeps only milliseconds). */
  readonly genTimeText: string;
  readonly accuracy: Accuracy | undefined;
  readonly ordering: boolean;
  readonly nonce: bigint | undefined;
  readonly tsaName: TsaGeneralName | undefined;
  readonly extensions: readonly TspExtension[];
}

/**
 * TSTInfo ::= SEQUENCE { version INTEGER { v1(1) }, policy TSAPolicyId, messageImprint MessageImprint,
 *   serialNumber INTEGER, genTime GeneralizedTime, accuracy Accuracy OPTIONAL,
 *   ordering BOOLEAN DEFAULT FALSE, nonce INTEGER OPTIONAL, tsa [0] GeneralName OPTIONAL,
 *   extensions [1] IMPLICIT Extensions OPTIONAL }
 * genTime carries milliseconds only when the accuracy is finer than a second (§2.4.2 allows the
 * fraction; more digits than the accuracy justifies would only pretend precision).
 */
export function encodeTstInfo(input: TstInfoInput): Uint8Array {
  if (input.serialNumber <= 0n || input.serialNumber >= 1n << 160n) {
    throw new CmsError('cms-invalid-argument', 'TSTInfo serialNumber must be positive and at most 160 bits (RFC 3161 §2.4.2)');
  }
  const imprint =
    input.messageImprint instanceof Uint8Array ? input.messageImprint : encodeMessageImprint(input.messageImprint);
  if (!isSingleTlv(imprint)) throw new CmsError('cms-invalid-argument', 'messageImprint is not one DER value');
  const subSecond = input.accuracy !== undefined && !input.accuracy.seconds && (input.accuracy.millis !== undefined || input.accuracy.micros !== undefined);
  const parts = [
    encodeSmallInteger(1),
    encodeOid(input.policy),
    imprint,
    encodeBigInteger(input.serialNumber),
    encodeGeneralizedTime(input.genTime, subSecond),
  ];
  if (input.accuracy !== undefined) parts.push(encodeAccuracy(input.accuracy));
  if (input.nonce !== undefined) parts.push(encodeBigInteger(input.nonce));
  if (input.tsaName !== undefined) parts.push(tlv(TAG.CONTEXT_0, [tlv(TAG.CONTEXT_4, [input.tsaName])]));
  return tlv(TAG.SEQUENCE, parts);
}

export function parseTstInfo(der: Uint8Array): TstInfo {
  const block = decodeExactly(der, 'TSTInfo');
  const fields = children(block, 'TSTInfo');
  let i = 0;
  const version = smallIntegerOf(fields[i++], 'TSTInfo.version');
  const policy = oidOf(fields[i++], 'TSTInfo.policy');
  const messageImprint = parseMessageImprint(fields[i++]);
  const serialNumber = bigIntOf(fields[i++], 'TSTInfo.serialNumber');
  const { date: genTime, text: genTimeText } = generalizedTimeOf(fields[i++], 'TSTInfo.genTime');
  let accuracy: Accuracy | undefined;
  let ordering = false;
  let nonce: bigint | undefined;
  let tsaName: TsaGeneralName | undefined;
  let extensions: TspExtension[] = [];
  if (isUniversal(fields[i], UNIVERSAL.SEQUENCE)) accuracy = parseAccuracy(fields[i++]!);
  if (fields[i] instanceof asn1js.Boolean) ordering = booleanOf(fields[i++], 'ordering');
  if (fields[i] instanceof asn1js.Integer) nonce = bigIntOf(fields[i++], 'nonce');
  if (isContext(fields[i], 0)) {
    const name = children(fields[i++], 'TSTInfo.tsa')[0];
    if (name === undefined) throw new CmsError('cms-malformed', 'TSTInfo.tsa is empty');
    tsaName = isContext(name, 4)
      ? { kind: 'directoryName', name: raw(children(name, 'directoryName')[0]!) }
      : { kind: 'other', der: raw(name) };
  }
  if (isContext(fields[i], 1)) extensions = parseExtensions(fields[i++]!);
  if (i !== fields.length) throw new CmsError('cms-malformed', 'TSTInfo: unexpected field');
  return {
    der: Uint8Array.from(der),
    version,
    policy,
    messageImprint,
    serialNumber,
    genTime,
    genTimeText,
    accuracy,
    ordering,
    nonce,
    tsaName,
    extensions,
  };
}

// ---------------------------------------------------------------------------------------------------
// TimeStampResp (RFC 3161 §2.4.2)

export interface TimeStampRespInput {
  readonly status: PkiStatus;
  readonly statusText?: readonly string[];
  readonly failInfo?: readonly PkiFailureInfo[];
  /** DER ContentInfo; required for granted / grantedWithMods, forbidden otherwise (§2.4.2). */
  readonly timeStampToken?: Uint8Array;
}

export interface TimeStampRespInfo {
  readonly status: PkiStatusInfo;
  readonly timeStampToken: Uint8Array | undefined;
}

/**
 * TimeStampResp ::= SEQUENCE { status PKIStatusInfo, timeStampToken TimeStampToken OPTIONAL }
 * PKIStatusInfo ::= SEQUENCE { status PKIStatus, statusString PKIFreeText OPTIONAL,
 *                              failInfo PKIFailureInfo OPTIONAL }
 */
export function encodeTimeStampResp(input: TimeStampRespInput): Uint8Array {
  const granted = input.status === 'granted' || input.status === 'grantedWithMods';
  if (granted !== (input.timeStampToken !== undefined)) {
    throw new CmsError('cms-invalid-argument', `a ${input.status} response ${granted ? 'needs' : 'must not carry'} a token (RFC 3161 §2.4.2)`);
  }
  const statusParts = [encodeSmallInteger(PKI_STATUSES.indexOf(input.status))];
  if (input.statusText !== undefined && input.statusText.length > 0) {
    // PKIFreeText ::= SEQUENCE SIZE (1..MAX) OF UTF8String (RFC 4210 §5.1.1).
    statusParts.push(tlv(TAG.SEQUENCE, input.statusText.map((text) => tlv(TAG_UTF8_STRING, [new TextEncoder().encode(text)]))));
  }
  if (input.failInfo !== undefined && input.failInfo.length > 0) {
    statusParts.push(encodeNamedBits(input.failInfo.map((name) => PKI_FAILURE_BITS[name])));
  }
  const parts = [tlv(TAG.SEQUENCE, statusParts)];
  if (input.timeStampToken !== undefined) {
    if (!isSingleTlv(input.timeStampToken)) throw new CmsError('cms-invalid-argument', 'timeStampToken is not one DER value');
    parts.push(input.timeStampToken);
  }
  return tlv(TAG.SEQUENCE, parts);
}

export function parseTimeStampResp(der: Uint8Array): TimeStampRespInfo {
  const { statusBlock, token, extra } = timeStampRespFields(der);
  if (extra) throw new CmsError('cms-malformed', 'TimeStampResp: unexpected field');
  const statusFields = children(statusBlock, 'PKIStatusInfo');
  let i = 0;
  const status = smallIntegerOf(statusFields[i++], 'PKIStatusInfo.status');
  let statusText: string[] = [];
  let failInfo: PkiFailureInfo[] = [];
  if (isUniversal(statusFields[i], UNIVERSAL.SEQUENCE)) {
    statusText = children(statusFields[i++], 'PKIFreeText').map((text) => {
      if (!(text instanceof asn1js.Utf8String)) throw new CmsError('cms-malformed', 'PKIFreeText holds a non-UTF8String');
      return text.getValue();
    });
  }
  if (statusFields[i] instanceof asn1js.BitString) failInfo = parseFailureInfo(statusFields[i++] as asn1js.BitString);
  if (i !== statusFields.length) throw new CmsError('cms-malformed', 'PKIStatusInfo: unexpected field');
  return {
    status: { status, statusName: PKI_STATUSES[status], statusText, failInfo },
    timeStampToken: token,
  };
}

/**
 * TimeStampResp ::= SEQUENCE { status PKIStatusInfo, timeStampToken OPTIONAL }, the token as octets:
 * whoever uses it decodes it (verifyTimeStampToken), and decoding it here as well doubled the asn1js
 * work on every response (~2 ms). A DER walk finds the two fields; BER the DER reader refuses, and
 * anything malformed, go through one asn1js decode of the whole, which reports the error as before.
 */
function timeStampRespFields(der: Uint8Array): { statusBlock: Block | undefined; token: Uint8Array | undefined; extra: boolean } {
  try {
    const outer = readTlv(der, 0);
    const [status, token, extra] = outer.tag === TAG.SEQUENCE && outer.end === der.length ? childrenOf(der, outer) : [];
    if (status !== undefined) {
      return {
        statusBlock: decodeExactly(der.subarray(status.start, status.end), 'PKIStatusInfo'),
        token: token === undefined ? undefined : der.slice(token.start, token.end),
        extra: extra !== undefined,
      };
    }
  } catch {
    /* reported by the decode below */
  }
  const [statusBlock, tokenBlock, extra] = children(decodeExactly(der, 'TimeStampResp'), 'TimeStampResp');
  return { statusBlock, token: tokenBlock === undefined ? undefined : raw(tokenBlock), extra: extra !== undefined };
}

// ---------------------------------------------------------------------------------------------------
// TimeStampToken assembly (RFC 3161 §2.4.2, RFC 5816 §2.2.1)

export interface BuildTstSignedAttributesOptions {
  /** DER TSTInfo (the eContent). */
  readonly tstInfo: Uint8Array;
  readonly digestAlgorithm: DigestAlgorithm;
  readonly signerCertificate: Uint8Array;
  /** Optional signing-time attribute; RFC 3161 does not need it (genTime is the time). */
  readonly signingTime?: Date;
}

/**
 * Signed attributes of a time-stamp token: content-type id-ct-TSTInfo (RFC 5652 §11.1 requires it to
 * equal eContentType), message-digest of the TSTInfo DER, and the ESS signing certificate that
 * RFC 3161 §2.4.2 requires, as signing-certificate-v2 (RFC 5816 §2.2.1) so SHA-2 identifies the cert.
 */
export function buildTstSignedAttributes(opts: BuildTstSignedAttributesOptions): SignedAttributes {
  // The CAdES builder already makes message-digest and signing-certificate-v2 exactly as needed; only
  // content-type differs (id-ct-TSTInfo, not id-data), and signing-time is allowed here.
  const cades = buildSignedAttributes({
    contentDigest: digest(opts.digestAlgorithm, opts.tstInfo),
    digestAlgorithm: opts.digestAlgorithm,
    signerCertificate: opts.signerCertificate,
    profile: 'cades',
  });
  const attributes = cades.attributes.filter((a) => a.oid !== oid.OID_CONTENT_TYPE);
  attributes.push(attribute(oid.OID_CONTENT_TYPE, [encodeOid(oid.OID_TST_INFO)]));
  if (opts.signingTime !== undefined) attributes.push(attribute(oid.OID_SIGNING_TIME, [encodeTime(opts.signingTime)]));
  const ordered = [...attributes].sort((a, b) => compareBytes(a.der, b.der));
  return { der: setOf(TAG.SET, ordered.map((a) => a.der)), attributes: ordered, digestAlgorithm: opts.digestAlgorithm };
}

export interface AssembleTimeStampTokenOptions {
  readonly tstInfo: Uint8Array;
  readonly signedAttributes: SignedAttributes;
  /** What `Signer.sign` returned over digest(signedAttributes.der). */
  readonly signatureValue: Uint8Array;
  readonly signerCertificate: Uint8Array;
  /**
   * RFC 3161 §2.4.1: when certReq is true the TSA certificate MUST be in `certificates`; when false it
   * MUST NOT be. The chain goes with it.
   */
  readonly includeCertificates: boolean;
  readonly chain: readonly Uint8Array[];
  readonly digestAlgorithm: DigestAlgorithm;
  readonly scheme: SignatureScheme;
}

/** DER ContentInfo(SignedData) with the TSTInfo encapsulated (RFC 3161 §2.4.2). */
export function assembleTimeStampToken(opts: AssembleTimeStampTokenOptions): Uint8Array {
  if (opts.signedAttributes.digestAlgorithm !== opts.digestAlgorithm) {
    throw new CmsError('cms-invalid-argument', 'signed attributes were built for another digest algorithm');
  }
  if (opts.signatureValue.length === 0) throw new CmsError('cms-invalid-argument', 'empty signature value');
  const { kind } = certificateKey(opts.signerCertificate);
  if ((opts.scheme === 'ECDSA') !== (kind === 'EC')) {
    throw new CmsError('cms-invalid-argument', `a ${kind} certificate key cannot make ${opts.scheme} signatures`);
  }
  const signer = certificateFields(opts.signerCertificate);
  const digestAlgorithm = digestAlgorithmIdentifier(opts.digestAlgorithm);
  const signedAttrs = Uint8Array.from(opts.signedAttributes.der);
  signedAttrs[0] = TAG.CONTEXT_0; // RFC 5652 §5.4: same octets, [0] IMPLICIT in SignerInfo.
  const signerInfo = tlv(TAG.SEQUENCE, [
    encodeSmallInteger(1), // RFC 5652 §5.3: v1 with issuerAndSerialNumber.
    tlv(TAG.SEQUENCE, [signer.issuer, signer.serialNumber]),
    digestAlgorithm,
    signedAttrs,
    signatureAlgorithmIdentifier(opts.scheme, opts.digestAlgorithm),
    encodeOctetString(opts.signatureValue),
  ]);
  const certificates: Uint8Array[] = [];
  if (opts.includeCertificates) {
    for (const cert of [opts.signerCertificate, ...opts.chain]) {
      certificateFields(cert);
      if (!certificates.some((known) => bytesEqual(known, cert))) certificates.push(cert);
    }
  }
  const signedData = tlv(TAG.SEQUENCE, [
    // RFC 5652 §5.1: version 3 because eContentType is not id-data.
    encodeSmallInteger(3),
    setOf(TAG.SET, [digestAlgorithm]),
    tlv(TAG.SEQUENCE, [encodeOid(oid.OID_TST_INFO), tlv(TAG.CONTEXT_0, [encodeOctetString(opts.tstInfo)])]),
    ...(certificates.length > 0 ? [setOf(TAG.CONTEXT_0, certificates)] : []),
    setOf(TAG.SET, [signerInfo]),
  ]);
  return tlv(TAG.SEQUENCE, [encodeOid(oid.OID_SIGNED_DATA), tlv(TAG.CONTEXT_0, [signedData])]);
}

// ---------------------------------------------------------------------------------------------------
// Token parsing and verification

export interface ParsedTimeStampToken {
  readonly signedData: ParsedSignedData;
  readonly tstInfo: TstInfo;
}

export function parseTimeStampToken(der: Uint8Array): ParsedTimeStampToken {
  const signedData = parseSignedData(der);
  if (signedData.contentType !== oid.OID_TST_INFO) {
    throw new CmsError('cms-unsupported-content', `eContentType is ${signedData.contentType}, not id-ct-TSTInfo`);
  }
  if (signedData.encapsulatedContent === undefined) throw new CmsError('cms-malformed', 'the token has no TSTInfo eContent');
  // RFC 3161 §2.4.2: "The time-stamp token MUST NOT contain any signatures other than the TSA's".
  if (signedData.signerInfos.length !== 1) throw new CmsError('cms-malformed', 'a time-stamp token has exactly one SignerInfo');
  return { signedData, tstInfo: parseTstInfo(signedData.encapsulatedContent) };
}

export interface TimeStampingUsageCheck {
  readonly ok: boolean;
  readonly problem: string | undefined;
}

/**
 * RFC 3161 §2.3: the TSA certificate "MUST contain only one instance of the extended key usage field
 * extension ... with KeyPurposeID having value id-kp-timeStamping. This extension MUST be critical."
 * The answer depends on the certificate's octets alone and decoding one with pkijs costs ~0.8 ms on
 * every token checked: memoised per certificate content.
 */
export const checkTimeStampingCertificate: (certificate: Uint8Array) => TimeStampingUsageCheck = memoByContent(256, (certificate) =>
  checkTimeStampingUsage(certificate),
);

function checkTimeStampingUsage(certificate: Uint8Array): TimeStampingUsageCheck {
  let cert: pkijs.Certificate;
  try {
    cert = pkijs.Certificate.fromBER(Uint8Array.from(certificate));
  } catch {
    return { ok: false, problem: 'the certificate cannot be decoded' };
  }
  const ekus = (cert.extensions ?? []).filter((ext) => ext.extnID === OID_EXTENDED_KEY_USAGE);
  if (ekus.length === 0) return { ok: false, problem: 'no extendedKeyUsage extension' };
  if (ekus.length > 1) return { ok: false, problem: 'more than one extendedKeyUsage extension' };
  const eku = ekus[0]!;
  if (!eku.critical) return { ok: false, problem: 'extendedKeyUsage is not critical' };
  let purposes: string[];
  try {
    purposes = children(decode(new Uint8Array(eku.extnValue.getValue()), 'ExtKeyUsageSyntax').block, 'ExtKeyUsageSyntax').map(
      (p) => oidOf(p, 'KeyPurposeId'),
    );
  } catch {
    return { ok: false, problem: 'extendedKeyUsage cannot be decoded' };
  }
  if (purposes.length !== 1 || purposes[0] !== OID_KP_TIME_STAMPING) {
    return { ok: false, problem: `extendedKeyUsage is [${purposes.join(', ')}], not exactly id-kp-timeStamping` };
  }
  return { ok: true, problem: undefined };
}

export interface VerifyTimeStampTokenOptions {
  /** The imprint the token must carry (e.g. the digest the client sent). */
  readonly messageImprint?: MessageImprintInput;
  /** Or the time-stamped data itself, hashed with the token's imprint algorithm. */
  readonly data?: Uint8Array | readonly Uint8Array[];
  /** The TSA certificate when the token does not carry it (certReq false). */
  readonly tsaCertificate?: Uint8Array;
}

export interface TimeStampTokenVerification {
  readonly token: ParsedTimeStampToken;
  readonly tstInfo: TstInfo;
  /** The certificate that signed the token, from the token or the options. */
  readonly tsaCertificate: Uint8Array | undefined;
  /** CMS signature over the signed attributes, and message-digest vs the TSTInfo (RFC 5652 §5.4, §11.2). */
  readonly signature: SignerInfoVerification;
  /** Signed content-type attribute equals id-ct-TSTInfo (RFC 5652 §11.1). */
  readonly contentType: CheckOutcome;
  /** ESS signing-certificate(-v2) binds the TSA certificate (RFC 3161 §2.4.2, RFC 5816). */
  readonly signingCertificate: CheckOutcome;
  /** RFC 3161 §2.3 extendedKeyUsage of the TSA certificate. */
  readonly timeStampingUsage: TimeStampingUsageCheck;
  /** TSTInfo.messageImprint vs what the options expect; `not-checked` when nothing was given. */
  readonly imprint: CheckOutcome;
  /** TSTInfo.tsa directoryName vs the certificate subject (§2.4.2); `absent` / `not-checked` otherwise. */
  readonly tsaName: CheckOutcome;
  readonly problems: readonly string[];
  /**
   * Every check above passed (imprint and tsaName may be not-checked/absent). This is the token's own
   * integrity only: whether the TSA certificate chains to a trust anchor, was valid at genTime and was
   * not revoked is for the caller to establish (the validator does before it uses genTime as a POE).
   */
  readonly valid: boolean;
}

export function verifyTimeStampToken(
  token: Uint8Array | ParsedTimeStampToken,
  options: VerifyTimeStampTokenOptions = {},
): TimeStampTokenVerification {
  const parsed = token instanceof Uint8Array ? parseTimeStampToken(token) : token;
  const { signedData, tstInfo } = parsed;
  const tsaCertificate = signedData.signerCertificate ?? options.tsaCertificate;
  const signature = verifySignerInfo(signedData, tsaCertificate === undefined ? {} : { signerCertificate: tsaCertificate });
  const problems: string[] = [];

  if (signature.status !== 'valid') problems.push(`signature ${signature.status}: ${signature.problem ?? ''} ${signature.detail ?? ''}`.trim());
  else if (!signature.intact) problems.push(`the signature does not cover the TSTInfo (message-digest ${signature.messageDigest})`);

  const attrs = signedData.signedAttributes;
  const contentType: CheckOutcome =
    attrs?.contentType === undefined ? 'absent' : attrs.contentType === oid.OID_TST_INFO ? 'match' : 'mismatch';
  if (contentType !== 'match') problems.push(`content-type attribute ${contentType}`);

  const signingCertificate = signature.signingCertificate;
  if (signingCertificate !== 'match') problems.push(`ESS signing-certificate ${signingCertificate}`);

  const timeStampingUsage =
    tsaCertificate === undefined ? { ok: false, problem: 'no TSA certificate' } : checkTimeStampingCertificate(tsaCertificate);
  if (!timeStampingUsage.ok) problems.push(`TSA certificate: ${timeStampingUsage.problem ?? ''}`);

  const imprint = checkImprint(tstInfo.messageImprint, options);
  if (imprint !== 'match' && imprint !== 'not-checked') problems.push(`message imprint ${imprint}`);

  let tsaName: CheckOutcome = 'absent';
  if (tstInfo.tsaName?.kind === 'directoryName') {
    tsaName = tsaCertificate === undefined ? 'not-checked' : sameSubject(tstInfo.tsaName.name, tsaCertificate);
  } else if (tstInfo.tsaName !== undefined) tsaName = 'not-checked';
  if (tsaName === 'mismatch') problems.push('TSTInfo.tsa does not name the TSA certificate subject');

  if (tstInfo.version !== 1) problems.push(`TSTInfo version ${tstInfo.version}`);

  return {
    token: parsed,
    tstInfo,
    tsaCertificate,
    signature,
    contentType,
    signingCertificate,
    timeStampingUsage,
    imprint,
    tsaName,
    problems,
    valid: problems.length === 0,
  };
}

function sameSubject(name: Uint8Array, certificate: Uint8Array): CheckOutcome {
  try {
    return bytesEqual(name, certificateFields(certificate).subject) ? 'match' : 'mismatch';
  } catch {
    return 'not-checked'; // an undecodable certificate already fails the signature check
  }
}

function checkImprint(actual: MessageImprint, options: VerifyTimeStampTokenOptions): CheckOutcome {
  if (options.messageImprint !== undefined) {
    return sameImprint(actual, options.messageImprint) ? 'match' : 'mismatch';
  }
  if (options.data !== undefined) {
    if (actual.hashAlgorithm === undefined) return 'not-checked';
    return bytesEqual(actual.hashedMessage, digest(actual.hashAlgorithm, options.data)) ? 'match' : 'mismatch';
  }
  return 'not-checked';
}

/** Same algorithm and value; NULL vs absent parameters are equivalent (RFC 5754 §2). */
export function sameImprint(actual: MessageImprint, expected: MessageImprintInput): boolean {
  return (
    actual.hashAlgorithmOid === hashAlgorithmOid(expected.hashAlgorithm) &&
    !actual.hasParameters &&
    bytesEqual(actual.hashedMessage, expected.hashedMessage)
  );
}

// ---------------------------------------------------------------------------------------------------
// Encoding helpers

/**
 * hashAlgorithm with an explicit NULL: RFC 5754 §2 lets SHA-2 parameters be absent or NULL, and NULL is
 * what OpenSSL and most deployed TSAs send and accept.
 */
function encodeMessageImprint(imprint: MessageImprintInput): Uint8Array {
  if (imprint.hashedMessage.length !== digestLength(imprint.hashAlgorithm)) {
    throw new CmsError(
      'cms-invalid-argument',
      `hashedMessage has ${imprint.hashedMessage.length} bytes, ${imprint.hashAlgorithm} needs ${digestLength(imprint.hashAlgorithm)}`,
    );
  }
  return tlv(TAG.SEQUENCE, [
    tlv(TAG.SEQUENCE, [encodeOid(hashAlgorithmOid(imprint.hashAlgorithm)), DER_NULL]),
    encodeOctetString(imprint.hashedMessage),
  ]);
}

/** X.690 §8.3: two's complement, minimal octets (a leading 0x00 keeps a positive value positive). */
export function encodeBigInteger(value: bigint): Uint8Array {
  const bytes: number[] = [];
  let n = value;
  const negative = n < 0n;
  for (;;) {
    bytes.unshift(Number(n & 0xffn));
    n >>= 8n;
    const top = bytes[0]! & 0x80;
    if ((!negative && n === 0n && top === 0) || (negative && n === -1n && top !== 0)) break;
  }
  return tlv(TAG.INTEGER, [Uint8Array.from(bytes)]);
}

function encodeBoolean(value: boolean): Uint8Array {
  return Uint8Array.of(TAG_BOOLEAN, 1, value ? 0xff : 0x00); // X.690 §11.1: DER TRUE is 0xFF.
}

/**
 * GeneralizedTime in UTC (RFC 3161 §2.4.2): YYYYMMDDhhmmss[.s...]Z, the fraction without trailing
 * zeros and wholly omitted when zero.
 */
export function encodeGeneralizedTime(date: Date, withMillis: boolean): Uint8Array {
  const pad = (n: number, w = 2): string => String(n).padStart(w, '0');
  let text =
    pad(date.getUTCFullYear(), 4) +
    pad(date.getUTCMonth() + 1) +
    pad(date.getUTCDate()) +
    pad(date.getUTCHours()) +
    pad(date.getUTCMinutes()) +
    pad(date.getUTCSeconds());
  const millis = date.getUTCMilliseconds();
  if (withMillis && millis !== 0) text += `.${pad(millis, 3).replace(/0+$/, '')}`;
  return tlv(TAG.GENERALIZED_TIME, [new TextEncoder().encode(`${text}Z`)]);
}

function encodeAccuracy(accuracy: Accuracy): Uint8Array {
  const parts: Uint8Array[] = [];
  const check = (name: string, v: number | undefined, max: number): void => {
    if (v !== undefined && (!Number.isInteger(v) || v < (name === 'seconds' ? 0 : 1) || v > max)) {
      throw new CmsError('cms-invalid-argument', `accuracy ${name} ${v} out of range`);
    }
  };
  check('seconds', accuracy.seconds, Number.MAX_SAFE_INTEGER);
  check('millis', accuracy.millis, 999);
  check('micros', accuracy.micros, 999);
  if (accuracy.seconds !== undefined) parts.push(encodeSmallInteger(accuracy.seconds));
  if (accuracy.millis !== undefined) parts.push(implicitInteger(TAG_CONTEXT_PRIMITIVE_0, accuracy.millis));
  if (accuracy.micros !== undefined) parts.push(implicitInteger(TAG_CONTEXT_PRIMITIVE_1, accuracy.micros));
  return tlv(TAG.SEQUENCE, parts);
}

function implicitInteger(tag: number, value: number): Uint8Array {
  const der = encodeSmallInteger(value);
  const tlvInfo = readTlv(der, 0);
  return tlv(tag, [der.subarray(tlvInfo.contentStart)]);
}

/**
 * BIT STRING with named bits (X.690 §11.2.2): bit 0 is the most significant bit of the first octet and
 * trailing zero bits are removed, the unused-bits count saying how many of the last octet are padding.
 */
export function encodeNamedBits(bits: readonly number[]): Uint8Array {
  if (bits.length === 0) return Uint8Array.of(TAG_BIT_STRING, 1, 0);
  const highest = Math.max(...bits);
  const octets = new Uint8Array(Math.floor(highest / 8) + 1);
  for (const bit of bits) octets[bit >> 3]! |= 0x80 >> (bit & 7);
  const unused = 7 - (highest & 7);
  return tlv(TAG_BIT_STRING, [Uint8Array.of(unused), octets]);
}

// ---------------------------------------------------------------------------------------------------
// Decoding helpers

function decodeExactly(der: Uint8Array, what: string): Block {
  const { block, end } = decode(der, what);
  if (end !== der.length) throw new CmsError('cms-malformed', `${what}: ${der.length - end} trailing octets`);
  return block;
}

function parseMessageImprint(block: Block | undefined): MessageImprint {
  const [algorithm, hashed] = children(block, 'MessageImprint');
  const [algOid, params] = children(algorithm, 'MessageImprint.hashAlgorithm');
  const hashAlgorithmOid = oidOf(algOid, 'MessageImprint.hashAlgorithm');
  return {
    hashAlgorithmOid,
    hashAlgorithm: hashAlgorithmFromOid(hashAlgorithmOid),
    hasParameters: params !== undefined && !(params instanceof asn1js.Null),
    hashedMessage: octetsOf(hashed, 'MessageImprint.hashedMessage'),
  };
}

function parseExtensions(block: Block): TspExtension[] {
  return children(block, 'Extensions').map((ext) => {
    const parts = children(ext, 'Extension');
    const critical = parts[1] instanceof asn1js.Boolean ? booleanOf(parts[1], 'critical') : false;
    return {
      oid: oidOf(parts[0], 'extnID'),
      critical,
      value: octetsOf(parts[parts.length - 1], 'extnValue'),
    };
  });
}

function parseAccuracy(block: Block): Accuracy {
  const out: { seconds?: number; millis?: number; micros?: number } = {};
  for (const field of children(block, 'Accuracy')) {
    if (field instanceof asn1js.Integer) out.seconds = Number(bigIntOf(field, 'accuracy.seconds'));
    else if (isContext(field, 0)) out.millis = Number(contextIntegerOf(field));
    else if (isContext(field, 1)) out.micros = Number(contextIntegerOf(field));
    else throw new CmsError('cms-malformed', 'Accuracy: unexpected field');
  }
  return out;
}

function contextIntegerOf(block: Block): bigint {
  return bytesToBigInt(octetsOf(block, 'Accuracy field'));
}

/** INTEGER of any size as bigint (two's complement, X.690 §8.3). */
function bigIntOf(block: Block | undefined, what: string): bigint {
  if (!(block instanceof asn1js.Integer)) throw new CmsError('cms-malformed', `${what}: expected an INTEGER`);
  return bytesToBigInt(block.valueBlock.valueHexView);
}

function bytesToBigInt(bytes: Uint8Array): bigint {
  if (bytes.length === 0) throw new CmsError('cms-malformed', 'empty INTEGER');
  let n = 0n;
  for (const b of bytes) n = (n << 8n) | BigInt(b);
  if (bytes[0]! & 0x80) n -= 1n << BigInt(bytes.length * 8);
  return n;
}

function smallIntegerOf(block: Block | undefined, what: string): number {
  const n = bigIntOf(block, what);
  if (n < -1000n || n > 1000n) throw new CmsError('cms-malformed', `${what}: ${n} out of range`);
  return Number(n);
}

function booleanOf(block: Block | undefined, what: string): boolean {
  if (!(block instanceof asn1js.Boolean)) throw new CmsError('cms-malformed', `${what}: expected a BOOLEAN`);
  return block.getValue();
}

function generalizedTimeOf(block: Block | undefined, what: string): { date: Date; text: string } {
  if (!(block instanceof asn1js.GeneralizedTime)) throw new CmsError('cms-malformed', `${what}: expected GeneralizedTime`);
  const der = raw(block);
  const text = new TextDecoder().decode(der.subarray(readTlv(der, 0).contentStart));
  // RFC 3161 §2.4.2: UTC ("Z"), seconds present, "." as decimal point.
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:\.(\d+))?Z$/.exec(text);
  if (m === null) throw new CmsError('cms-malformed', `${what}: "${text}" is not YYYYMMDDhhmmss[.f]Z`);
  const [, y, mo, d, h, mi, s, frac] = m;
  const ms = frac === undefined ? 0 : Number(`0.${frac}`) * 1000;
  const date = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), Math.floor(ms)));
  if (Number.isNaN(date.getTime())) throw new CmsError('cms-malformed', `${what}: invalid date ${text}`);
  return { date, text };
}

function parseFailureInfo(bits: asn1js.BitString): PkiFailureInfo[] {
  const octets = bits.valueBlock.valueHexView;
  const out: PkiFailureInfo[] = [];
  for (const [name, bit] of Object.entries(PKI_FAILURE_BITS) as [PkiFailureInfo, number][]) {
    const octet = octets[bit >> 3];
    if (octet !== undefined && (octet & (0x80 >> (bit & 7))) !== 0) out.push(name);
  }
  return out;
}

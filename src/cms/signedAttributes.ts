/**
 * Stage 1 of signing: the signed attributes (RFC 5652 §5.3), whose DER is what actually gets signed.
 */
import type { DigestAlgorithm } from '../signers/Signer.ts';
import { CmsError } from './CmsError.ts';
import { certificateFields } from './certificateFields.ts';
import { setOf, sortSetOf, tlv } from './der.ts';
import { digest, digestLength, isDigestAlgorithm } from './digest.ts';
import { TAG, digestAlgorithmIdentifier, encodeOctetString, encodeOid, encodeTime } from './encode.ts';
import * as oid from './oids.ts';

/**
 * - `cades`: PAdES baseline (ETSI EN 319 142-1 §6.3 / EN 319 122-1 §5.2): content-type, message-digest,
 *   signing-certificate-v2. No signing-time: EN 319 142-1 §6.3 requires the claimed time in the
 *   signature dictionary's /M instead.
 * - `pkcs7`: legacy adbe.pkcs7.detached (ISO 32000-1 §12.8.3.3): the same attributes plus an optional
 *   signing-time. signing-certificate-v2 is kept here too: it binds the signer certificate to the
 *   signature (RFC 5035 §1, certificate substitution), and readers that do not know it ignore it.
 */
export type CmsProfile = 'cades' | 'pkcs7';

/** One Attribute (RFC 5652 §5.3) already DER-encoded. */
export interface EncodedAttribute {
  readonly oid: string;
  /** DER of the whole `Attribute ::= SEQUENCE { attrType, attrValues SET OF }`. */
  readonly der: Uint8Array;
}

export interface SignedAttributes {
  /**
   * DER of the attributes as a universal SET OF (tag 0x31): the exact octets to hash and sign
   * (RFC 5652 §5.4). Embedded in SignerInfo with the tag changed to [0] IMPLICIT (0xa0), nothing else.
   */
  readonly der: Uint8Array;
  /** The attributes in DER SET OF order (X.690 §11.6), as they appear inside `der`. */
  readonly attributes: readonly EncodedAttribute[];
  readonly digestAlgorithm: DigestAlgorithm;
}

export interface BuildSignedAttributesOptions {
  /** Digest of the signed content (for PDF: the ByteRange bytes) with `digestAlgorithm`. */
  readonly contentDigest: Uint8Array;
  readonly digestAlgorithm: DigestAlgorithm;
  /** DER of the signer's certificate. */
  readonly signerCertificate: Uint8Array;
  readonly profile: CmsProfile;
  /** Only for `pkcs7`; refused for `cades`. */
  readonly signingTime?: Date;
}

export function buildSignedAttributes(opts: BuildSignedAttributesOptions): SignedAttributes {
  if (!isDigestAlgorithm(opts.digestAlgorithm)) {
    throw new CmsError('cms-unsupported-algorithm', `digest ${String(opts.digestAlgorithm)} is not allowed for new signatures`);
  }
  if (opts.contentDigest.length !== digestLength(opts.digestAlgorithm)) {
    throw new CmsError(
      'cms-invalid-argument',
      `content digest has ${opts.contentDigest.length} bytes, ${opts.digestAlgorithm} needs ${digestLength(opts.digestAlgorithm)}`,
    );
  }
  if (opts.profile === 'cades' && opts.signingTime !== undefined) {
    throw new CmsError('cms-invalid-argument', 'signing-time must not be a signed attribute in PAdES (EN 319 142-1 §6.3); use /M');
  }
  const attributes: EncodedAttribute[] = [
    // RFC 5652 §11.1: content-type is id-data for the detached PDF byte ranges.
    attribute(oid.OID_CONTENT_TYPE, [encodeOid(oid.OID_DATA)]),
    attribute(oid.OID_MESSAGE_DIGEST, [encodeOctetString(opts.contentDigest)]),
    attribute(oid.OID_SIGNING_CERTIFICATE_V2, [signingCertificateV2(opts.signerCertificate, opts.digestAlgorithm)]),
  ];
  if (opts.profile === 'pkcs7' && opts.signingTime !== undefined) {
    attributes.push(attribute(oid.OID_SIGNING_TIME, [encodeTime(opts.signingTime)]));
  }
  const ordered = sortSetOf(attributes.map((a) => a.der)).map((der) => attributes.find((a) => a.der === der)!);
  return {
    der: setOf(TAG.SET, ordered.map((a) => a.der)),
    attributes: ordered,
    digestAlgorithm: opts.digestAlgorithm,
  };
}

/** The octets handed to the hash before `Signer.sign` (RFC 5652 §5.4). */
export function signedAttributesDigest(attrs: SignedAttributes): Uint8Array {
  return digest(attrs.digestAlgorithm, attrs.der);
}

/** `Attribute ::= SEQUENCE { attrType OBJECT IDENTIFIER, attrValues SET OF AttributeValue }`. */
export function attribute(type: string, values: readonly Uint8Array[]): EncodedAttribute {
  return { oid: type, der: tlv(TAG.SEQUENCE, [encodeOid(type), setOf(TAG.SET, values)]) };
}

/**
 * RFC 5035 §3:
 *   SigningCertificateV2 ::= SEQUENCE { certs SEQUENCE OF ESSCertIDv2, policies … OPTIONAL }
 *   ESSCertIDv2 ::= SEQUENCE { hashAlgorithm AlgorithmIdentifier DEFAULT {algorithm id-sha256},
 *                              certHash Hash, issuerSerial IssuerSerial OPTIONAL }
 *   IssuerSerial ::= SEQUENCE { issuer GeneralNames, serialNumber CertificateSerialNumber }
 * DER omits a component equal to its DEFAULT (X.690 §11.5), so hashAlgorithm is absent for SHA-256.
 * The issuer is a GeneralName directoryName, [4] EXPLICIT because Name is a CHOICE (RFC 5280 §4.2.1.6).
 */
function signingCertificateV2(certificate: Uint8Array, alg: DigestAlgorithm): Uint8Array {
  const fields = certificateFields(certificate);
  const issuerSerial = tlv(TAG.SEQUENCE, [
    tlv(TAG.SEQUENCE, [tlv(TAG.CONTEXT_4, [fields.issuer])]),
    fields.serialNumber,
  ]);
  const essCertId = tlv(TAG.SEQUENCE, [
    ...(alg === 'SHA-256' ? [] : [digestAlgorithmIdentifier(alg)]),
    encodeOctetString(digest(alg, certificate)),
    issuerSerial,
  ]);
  return tlv(TAG.SEQUENCE, [tlv(TAG.SEQUENCE, [essCertId])]);
}

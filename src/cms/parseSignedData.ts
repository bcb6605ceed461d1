/**
 * Reading a CMS SignedData (RFC 5652 §5) found in a PDF /Contents or an RFC 3161 token, for validation.
 * Lenient on encoding (BER), strict on structure; results are plain data with the raw DER kept where a
 * verifier needs exact octets (signed attributes, certificates).
 */
import * as pkijs from 'pkijs';
import * as asn1js from 'asn1js';
import { CmsError } from './CmsError.ts';
import {
  CLASS_CONTEXT,
  CLASS_UNIVERSAL,
  UNIVERSAL,
  children,
  decode,
  integerBytesOf,
  integerOf,
  isContext,
  isUniversal,
  oidOf,
  octetsOf,
  raw,
  timeOf,
  type Block,
} from './asn.ts';
import { certificateFields, integerValue } from './certificateFields.ts';
import { bytesEqual, childrenOf, contentOf, readTlv, type Tlv } from './der.ts';
import { digest, hashAlgorithmFromOid, type HashAlgorithm } from './digest.ts';
import * as oid from './oids.ts';

export interface AlgorithmIdentifierInfo {
  readonly oid: string;
  /** DER of the parameters, when present (a NULL counts as present). */
  readonly parameters: Uint8Array | undefined;
}

export interface DigestAlgorithmInfo extends AlgorithmIdentifierInfo {
  /** Undefined for a digest this layer cannot compute. */
  readonly name: HashAlgorithm | undefined;
}

export type SignerIdentifier =
  | { readonly kind: 'issuerAndSerialNumber'; readonly issuer: Uint8Array; readonly serialNumber: Uint8Array }
  | { readonly kind: 'subjectKeyIdentifier'; readonly keyIdentifier: Uint8Array };

export interface ParsedAttribute {
  readonly oid: string;
  /** DER of each AttributeValue. */
  readonly values: readonly Uint8Array[];
}

/** ESSCertID (RFC 2634 §5.4.1, SHA-1) or ESSCertIDv2 (RFC 5035 §4). */
export interface EssCertId {
  readonly hashAlgorithmOid: string;
  readonly hashAlgorithm: HashAlgorithm | undefined;
  readonly certHash: Uint8Array;
  readonly issuerSerial:
    | {
        /** DER Names of the directoryName entries of GeneralNames. */
        readonly issuers: readonly Uint8Array[];
        /** Serial number value octets, no leading zeros. */
        readonly serialNumber: Uint8Array;
      }
    | undefined;
}

export interface ParsedSignedAttributes {
  /** The signed attributes re-tagged as SET OF (0x31): the octets the signature covers (RFC 5652 §5.4). */
  readonly der: Uint8Array;
  readonly all: readonly ParsedAttribute[];
  readonly contentType: string | undefined;
  readonly messageDigest: Uint8Array | undefined;
  readonly signingTime: Date | undefined;
  /** RFC 5035 signing-certificate-v2, first-listed ESSCertIDv2 identifies the signer. */
  readonly signingCertificateV2: readonly EssCertId[] | undefined;
  /** RFC 2634 signing-certificate (v1). */
  readonly signingCertificate: readonly EssCertId[] | undefined;
}

export interface ParsedSignerInfo {
  readonly version: number;
  readonly sid: SignerIdentifier;
  readonly digestAlgorithm: DigestAlgorithmInfo;
  readonly signedAttributes: ParsedSignedAttributes | undefined;
  readonly signatureAlgorithm: AlgorithmIdentifierInfo;
  readonly signatureValue: Uint8Array;
  readonly unsignedAttributes: readonly ParsedAttribute[];
  /** id-aa-signatureTimeStampToken values (DER ContentInfo each). */
  readonly signatureTimeStampTokens: readonly Uint8Array[];
  /** The certificate from `certificates` that `sid` designates, if present. */
  readonly signerCertificate: Uint8Array | undefined;
}

/** The first SignerInfo's fields at top level: a PDF signature has exactly one (ISO 32000-1 §12.8.3.3.1). */
export interface ParsedSignedData extends ParsedSignerInfo {
  readonly signedDataVersion: number;
  readonly digestAlgorithms: readonly string[];
  /** eContentType: id-data for PDF signatures, id-ct-TSTInfo for time-stamp tokens. */
  readonly contentType: string;
  /** eContent when encapsulated (time-stamp tokens; must be absent for detached PDF signatures). */
  readonly encapsulatedContent: Uint8Array | undefined;
  /** DER of every X.509 certificate in `certificates` (other CertificateChoices are skipped). */
  readonly certificates: readonly Uint8Array[];
  /** DER of each RevocationInfoChoice in `crls`. */
  readonly crls: readonly Uint8Array[];
  readonly signerInfos: readonly ParsedSignerInfo[];
}

/**
 * Parses a ContentInfo(SignedData). Trailing zero octets are accepted (the /Contents placeholder is
 * zero-padded, ISO 32000-1 §12.8.1); any other trailing octet is refused as hidden data.
 *
 * Only the values interpreted here are decoded into asn1js blocks. Certificates, CRLs and unsigned
 * attribute values (a signature's time-stamp token: half of a B-T CMS) are returned as exact octets
 * and decoded where they are used (X509Certificate, parseTimeStampToken): asn1js decodes ~4 KB/ms, and
 * decoding them here too cost 2–3 ms per CMS. The structure is first walked with the DER reader; a
 * BER encoding it refuses (indefinite lengths) is walked from one asn1js decode of the whole, and any
 * error is reported from that walk, so BER input and error messages are as before.
 */
export function parseSignedData(der: Uint8Array): ParsedSignedData {
  let root: ReturnType<typeof derNode> | undefined;
  try {
    root = derNode(der, readTlv(der, 0));
  } catch {
    root = undefined; // not definite-length DER at the top: the asn1js walk below decides
  }
  if (root) {
    try {
      return parseContentInfo(der, root, root.end);
    } catch {
      /* reported by the asn1js walk, which accepts BER the DER walk refuses */
    }
  }
  const { block, end } = decode(der, 'ContentInfo');
  return parseContentInfo(der, blockNode(block), end);
}

/**
 * One ASN.1 value as the parser walks it: from the DER reader (a slice, decoded on demand) or from an
 * asn1js decode of the whole CMS (BER).
 */
interface Node {
  /** Tag class and number (single-octet identifiers; the DER reader refuses others). */
  readonly tagClass: number;
  readonly tagNumber: number;
  /** The encoded value (identifier, length, contents): a fresh copy. */
  raw(): Uint8Array;
  /** The directly contained values; throws cms-malformed on a primitive value. */
  children(what: string): Node[];
  /** The value decoded by asn1js, for the typed accessors of asn.ts. */
  block(what: string): Block;
}

function derNode(buf: Uint8Array, tlv: Tlv): Node & { readonly end: number } {
  return {
    tagClass: (tlv.tag >> 6) + 1, // asn1js numbering: 1 universal, 2 application, 3 context, 4 private
    tagNumber: tlv.tag & 0x1f,
    end: tlv.end,
    raw: () => buf.slice(tlv.start, tlv.end),
    children(what) {
      if ((tlv.tag & 0x20) === 0) throw new CmsError('cms-malformed', `${what}: expected a constructed value`);
      return childrenOf(buf, tlv).map((child) => derNode(buf, child));
    },
    block: (what) => decode(buf.subarray(tlv.start, tlv.end), what).block,
  };
}

function blockNode(block: Block): Node {
  const { tagClass, tagNumber } = (block as asn1js.BaseBlock).idBlock;
  return {
    tagClass,
    tagNumber,
    raw: () => raw(block),
    children: (what) => children(block, what).map(blockNode),
    block: () => block,
  };
}

const isUniversalNode = (node: Node | undefined, tagNumber: number) => node?.tagClass === CLASS_UNIVERSAL && node.tagNumber === tagNumber;
const isContextNode = (node: Node | undefined, tagNumber: number) => node?.tagClass === CLASS_CONTEXT && node.tagNumber === tagNumber;

function parseContentInfo(der: Uint8Array, contentInfo: Node, end: number): ParsedSignedData {
  for (let i = end; i < der.length; i++) {
    if (der[i] !== 0) throw new CmsError('cms-malformed', `non-zero data after the CMS structure at offset ${i}`);
  }
  const [typeNode, explicit] = contentInfo.children('ContentInfo');
  const contentInfoType = oidOf(typeNode?.block('ContentInfo.contentType'), 'ContentInfo.contentType');
  if (contentInfoType !== oid.OID_SIGNED_DATA) {
    throw new CmsError('cms-unsupported-content', `ContentInfo holds ${contentInfoType}, not SignedData`);
  }
  if (!isContextNode(explicit, 0)) throw new CmsError('cms-malformed', 'ContentInfo.content is not [0]');
  const signedData = explicit!.children('ContentInfo.content')[0];
  if (signedData === undefined) throw new CmsError('cms-malformed', 'SignedData: expected a constructed value');
  const fields = signedData.children('SignedData');

  let i = 0;
  const signedDataVersion = integerOf(fields[i]?.block('SignedData.version'), 'SignedData.version');
  i++;
  const digestAlgorithms = children(fields[i]?.block('SignedData.digestAlgorithms'), 'SignedData.digestAlgorithms').map(
    (alg) => algorithmIdentifier(alg, 'digestAlgorithms').oid,
  );
  i++;
  const encap = children(fields[i]?.block('EncapsulatedContentInfo'), 'EncapsulatedContentInfo');
  i++;
  const contentType = oidOf(encap[0], 'eContentType');
  const eContent = encap[1];
  let encapsulatedContent: Uint8Array | undefined;
  if (eContent !== undefined) {
    if (!isContext(eContent, 0)) throw new CmsError('cms-malformed', 'eContent is not [0] EXPLICIT');
    encapsulatedContent = octetsOf(children(eContent, 'eContent')[0], 'eContent');
  }
  const certificates: Uint8Array[] = [];
  if (isContextNode(fields[i], 0)) {
    for (const choice of fields[i++]!.children('certificates')) {
      // CertificateChoices: only the untagged X.509 Certificate SEQUENCE is kept (RFC 5652 §10.2.2).
      if (isUniversalNode(choice, UNIVERSAL.SEQUENCE)) certificates.push(choice.raw());
    }
  }
  const crls: Uint8Array[] = [];
  if (isContextNode(fields[i], 1)) {
    for (const choice of fields[i++]!.children('crls')) crls.push(choice.raw());
  }
  if (fields[i] === undefined) throw new CmsError('cms-malformed', 'SignedData.signerInfos: expected a constructed value');
  const signerInfoNodes = fields[i++]!.children('SignedData.signerInfos');
  if (i !== fields.length) throw new CmsError('cms-malformed', 'unexpected fields after signerInfos');
  if (signerInfoNodes.length === 0) throw new CmsError('cms-unsupported-content', 'SignedData has no SignerInfo');
  const signerInfos = signerInfoNodes.map((info) => parseSignerInfo(info, certificates));
  const first = signerInfos[0]!;
  return {
    ...first,
    signedDataVersion,
    digestAlgorithms,
    contentType,
    encapsulatedContent,
    certificates,
    crls,
    signerInfos,
  };
}

function parseSignerInfo(node: Node, certificates: readonly Uint8Array[]): ParsedSignerInfo {
  const fields = node.children('SignerInfo');
  let i = 0;
  const block = (what: string) => fields[i++]?.block(what);
  const version = integerOf(block('SignerInfo.version'), 'SignerInfo.version');
  const sid = signerIdentifier(block('SignerInfo.sid'));
  const digestAlgorithmId = algorithmIdentifier(block('SignerInfo.digestAlgorithm'), 'SignerInfo.digestAlgorithm');
  let signedAttributes: ParsedSignedAttributes | undefined;
  if (isContextNode(fields[i], 0)) signedAttributes = parseSignedAttributes(block('signedAttrs')!);
  const signatureAlgorithm = algorithmIdentifier(block('SignerInfo.signatureAlgorithm'), 'SignerInfo.signatureAlgorithm');
  const signatureValue = octetsOf(block('SignerInfo.signature'), 'SignerInfo.signature');
  let unsignedAttributes: ParsedAttribute[] = [];
  if (isContextNode(fields[i], 1)) unsignedAttributes = fields[i++]!.children('unsignedAttrs').map(parseAttribute);
  if (i !== fields.length) throw new CmsError('cms-malformed', 'unexpected fields in SignerInfo');
  return {
    version,
    sid,
    digestAlgorithm: { ...digestAlgorithmId, name: hashAlgorithmFromOid(digestAlgorithmId.oid) },
    signedAttributes,
    signatureAlgorithm,
    signatureValue,
    unsignedAttributes,
    signatureTimeStampTokens: unsignedAttributes
      .filter((a) => a.oid === oid.OID_SIGNATURE_TIME_STAMP_TOKEN)
      .flatMap((a) => a.values),
    signerCertificate: certificates.find((cert) => certificateMatchesSid(cert, sid)),
  };
}

/** SignerIdentifier ::= CHOICE { issuerAndSerialNumber, subjectKeyIdentifier [0] } (RFC 5652 §5.3). */
function signerIdentifier(block: Block | undefined): SignerIdentifier {
  if (isContext(block, 0)) {
    return { kind: 'subjectKeyIdentifier', keyIdentifier: octetsOf(block, 'subjectKeyIdentifier') };
  }
  const [issuer, serial] = children(block, 'IssuerAndSerialNumber');
  if (!isUniversal(issuer, UNIVERSAL.SEQUENCE)) throw new CmsError('cms-malformed', 'IssuerAndSerialNumber.issuer');
  return { kind: 'issuerAndSerialNumber', issuer: raw(issuer!), serialNumber: integerBytesOf(serial, 'serialNumber') };
}

function algorithmIdentifier(block: Block | undefined, what: string): AlgorithmIdentifierInfo {
  const [algorithm, parameters] = children(block, what);
  return { oid: oidOf(algorithm, what), parameters: parameters === undefined ? undefined : raw(parameters) };
}

/** An attribute: its values (a time-stamp token, validation data, a signed attribute's value) are kept as octets, decoded where used. */
function parseAttribute(node: Node): ParsedAttribute {
  const [type, values] = node.children('Attribute');
  if (values === undefined) throw new CmsError('cms-malformed', 'Attribute.attrValues: expected a constructed value');
  return { oid: oidOf(type?.block('Attribute.attrType'), 'Attribute.attrType'), values: values.children('Attribute.attrValues').map((v) => v.raw()) };
}

function parseSignedAttributes(block: Block): ParsedSignedAttributes {
  const der = raw(block);
  der[0] = 0x31; // RFC 5652 §5.4: the signature covers the SET OF encoding, not the [0] IMPLICIT one.
  const blocks = children(block, 'signedAttrs');
  const all = blocks.map((b) => parseAttribute(blockNode(b)));
  const firstValue = (type: string): Block | undefined => {
    const index = all.findIndex((a) => a.oid === type);
    return index === -1 ? undefined : children(children(blocks[index], 'Attribute')[1], 'attrValues')[0];
  };
  const contentTypeBlock = firstValue(oid.OID_CONTENT_TYPE);
  const messageDigestBlock = firstValue(oid.OID_MESSAGE_DIGEST);
  const signingTimeBlock = firstValue(oid.OID_SIGNING_TIME);
  const v2 = firstValue(oid.OID_SIGNING_CERTIFICATE_V2);
  const v1 = firstValue(oid.OID_SIGNING_CERTIFICATE);
  return {
    der,
    all,
    contentType: contentTypeBlock === undefined ? undefined : oidOf(contentTypeBlock, 'content-type'),
    messageDigest: messageDigestBlock === undefined ? undefined : octetsOf(messageDigestBlock, 'message-digest'),
    signingTime: signingTimeBlock === undefined ? undefined : timeOf(signingTimeBlock, 'signing-time'),
    signingCertificateV2: v2 === undefined ? undefined : essCertIds(v2, 2),
    signingCertificate: v1 === undefined ? undefined : essCertIds(v1, 1),
  };
}

/**
 * SigningCertificate(V2) ::= SEQUENCE { certs SEQUENCE OF ESSCertID(v2), policies … OPTIONAL }.
 * ESSCertIDv2's hashAlgorithm defaults to SHA-256 (RFC 5035 §4); ESSCertID always uses SHA-1.
 */
function essCertIds(block: Block, version: 1 | 2): EssCertId[] {
  const certs = children(children(block, 'SigningCertificate')[0], 'SigningCertificate.certs');
  return certs.map((certId) => {
    const parts = children(certId, 'ESSCertID');
    let at = 0;
    let hashAlgorithmOid = version === 2 ? oid.OID_SHA256 : oid.OID_SHA1;
    if (version === 2 && isUniversal(parts[0], UNIVERSAL.SEQUENCE)) {
      hashAlgorithmOid = algorithmIdentifier(parts[at++], 'ESSCertIDv2.hashAlgorithm').oid;
    }
    const certHash = octetsOf(parts[at++], 'ESSCertID.certHash');
    const issuerSerialBlock = parts[at];
    let issuerSerial: EssCertId['issuerSerial'];
    if (issuerSerialBlock !== undefined) {
      const [generalNames, serial] = children(issuerSerialBlock, 'IssuerSerial');
      issuerSerial = {
        // GeneralName directoryName [4] EXPLICIT Name (RFC 5280 §4.2.1.6); other name forms are skipped.
        issuers: children(generalNames, 'GeneralNames')
          .filter((name) => isContext(name, 4))
          .map((name) => raw(children(name, 'directoryName')[0]!)),
        serialNumber: integerBytesOf(serial, 'IssuerSerial.serialNumber'),
      };
    }
    return { hashAlgorithmOid, hashAlgorithm: hashAlgorithmFromOid(hashAlgorithmOid), certHash, issuerSerial };
  });
}

export function certificateMatchesSid(certificate: Uint8Array, sid: SignerIdentifier): boolean {
  try {
    if (sid.kind === 'issuerAndSerialNumber') {
      const fields = certificateFields(certificate);
      return bytesEqual(fields.issuer, sid.issuer) && bytesEqual(integerValue(fields.serialNumber), sid.serialNumber);
    }
    return bytesEqual(subjectKeyIdentifier(certificate), sid.keyIdentifier);
  } catch {
    return false; // a certificate we cannot read is simply not the signer's
  }
}

/**
 * The certificate's subjectKeyIdentifier extension (RFC 5280 §4.2.1.2), or when absent the SHA-1 of
 * the subjectPublicKey BIT STRING value (method (1) of the same clause), which most CAs use.
 */
export function subjectKeyIdentifier(certificate: Uint8Array): Uint8Array {
  const cert = pkijs.Certificate.fromBER(new Uint8Array(certificate));
  const extension = cert.extensions?.find((ext) => ext.extnID === oid.OID_SUBJECT_KEY_IDENTIFIER);
  if (extension !== undefined) {
    const inner = asn1js.fromBER(extension.extnValue.getValue());
    if (inner.result instanceof asn1js.OctetString) return new Uint8Array(inner.result.getValue());
  }
  const spki = certificateFields(certificate).subjectPublicKeyInfo;
  const bitString = childrenOf(spki, readTlv(spki, 0))[1];
  if (bitString === undefined) throw new CmsError('cms-malformed', 'subjectPublicKeyInfo without key');
  return digest('SHA-1', contentOf(spki, bitString).subarray(1));
}

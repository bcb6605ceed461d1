/**
 * Post-signing changes to a DER SignedData we produced: add unsigned attributes (a signature
 * time-stamp for PAdES B-T, ETSI EN 319 142-1 §6.3 / EN 319 122-1 §5.3) and read the signature value a
 * time-stamp must cover. Only the SignerInfo's unsignedAttrs and the enclosing lengths change; every
 * signed octet is copied verbatim, so the signature stays valid (RFC 5652 §5.3: unsignedAttrs are not
 * covered by the signature).
 */
import { CmsError } from './CmsError.ts';
import { bytesEqual, childrenOf, contentOf, readTlv, setOf, slice, tlv, type Tlv } from './der.ts';
import { TAG, encodeOid } from './encode.ts';
import * as oid from './oids.ts';
import { unsignedAttribute } from './signedData.ts';

interface SignerInfoLocation {
  readonly contentInfo: Tlv;
  readonly explicit: Tlv;
  readonly signedData: Tlv;
  readonly signedDataChildren: readonly Tlv[];
  readonly signerInfos: readonly Tlv[];
  readonly index: number;
  readonly signerInfoChildren: readonly Tlv[];
}

function locateSignerInfo(cms: Uint8Array, index: number): SignerInfoLocation {
  const contentInfo = readTlv(cms, 0);
  const [type, explicit] = childrenOf(cms, contentInfo);
  if (contentInfo.tag !== TAG.SEQUENCE || type === undefined || explicit?.tag !== TAG.CONTEXT_0) {
    throw new CmsError('cms-malformed', 'not a ContentInfo');
  }
  if (!bytesEqual(slice(cms, type), encodeOid(oid.OID_SIGNED_DATA))) {
    throw new CmsError('cms-unsupported-content', 'ContentInfo does not hold SignedData');
  }
  const signedData = childrenOf(cms, explicit)[0];
  if (signedData?.tag !== TAG.SEQUENCE) throw new CmsError('cms-malformed', 'SignedData is not a SEQUENCE');
  const signedDataChildren = childrenOf(cms, signedData);
  const last = signedDataChildren[signedDataChildren.length - 1];
  if (last?.tag !== TAG.SET) throw new CmsError('cms-malformed', 'SignedData has no signerInfos SET');
  const signerInfos = childrenOf(cms, last);
  const signerInfo = signerInfos[index];
  if (signerInfo === undefined) throw new CmsError('cms-unsupported-content', `SignedData has no SignerInfo #${index}`);
  return {
    contentInfo,
    explicit,
    signedData,
    signedDataChildren,
    signerInfos,
    index,
    signerInfoChildren: childrenOf(cms, signerInfo),
  };
}

/** SignerInfo.signature (RFC 5652 §5.3): the octets a signature time-stamp imprints (RFC 3161 Appendix A). */
export function signatureValueOf(cms: Uint8Array, signerIndex = 0): Uint8Array {
  const loc = locateSignerInfo(cms, signerIndex);
  const signature = loc.signerInfoChildren.find((child) => child.tag === TAG.OCTET_STRING);
  if (signature === undefined) throw new CmsError('cms-malformed', 'SignerInfo has no signature OCTET STRING');
  return contentOf(cms, signature);
}

/**
 * Returns a copy of `cms` with one more unsigned attribute on SignerInfo #signerIndex. `values` are the
 * DER AttributeValues. Existing unsigned attributes are kept; the SET OF is re-sorted (X.690 §11.6).
 */
export function addUnsignedAttribute(
  cms: Uint8Array,
  attributeOid: string,
  values: Uint8Array | readonly Uint8Array[],
  signerIndex = 0,
): Uint8Array {
  const loc = locateSignerInfo(cms, signerIndex);
  const newAttribute = unsignedAttribute({ oid: attributeOid, values: values instanceof Uint8Array ? [values] : values });

  const existing = loc.signerInfoChildren.find((child) => child.tag === TAG.CONTEXT_1);
  const kept = loc.signerInfoChildren.filter((child) => child.tag !== TAG.CONTEXT_1).map((child) => slice(cms, child));
  const attributes = existing === undefined ? [] : childrenOf(cms, existing).map((child) => slice(cms, child));
  const signerInfo = tlv(TAG.SEQUENCE, [...kept, setOf(TAG.CONTEXT_1, [...attributes, newAttribute])]);

  const signerInfos = loc.signerInfos.map((info, i) => (i === loc.index ? signerInfo : slice(cms, info)));
  const signedDataParts = loc.signedDataChildren.map((child) => slice(cms, child));
  signedDataParts[signedDataParts.length - 1] = setOf(TAG.SET, signerInfos);
  const signedData = tlv(TAG.SEQUENCE, signedDataParts);
  const contentType = slice(cms, childrenOf(cms, loc.contentInfo)[0]!);
  return tlv(TAG.SEQUENCE, [contentType, tlv(TAG.CONTEXT_0, [signedData])]);
}

/** PAdES B-T: add an RFC 3161 TimeStampToken (a DER ContentInfo) as id-aa-signatureTimeStampToken. */
export function addSignatureTimestamp(cms: Uint8Array, timeStampToken: Uint8Array, signerIndex = 0): Uint8Array {
  return addUnsignedAttribute(cms, oid.OID_SIGNATURE_TIME_STAMP_TOKEN, timeStampToken, signerIndex);
}

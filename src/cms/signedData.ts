/**
 * Stage 4 of signing: wrap the signed attributes and the signature value into a detached
 * ContentInfo(SignedData) (RFC 5652 §3, §5).
 */
import type { DigestAlgorithm, SignatureScheme } from '../signers/Signer.ts';
import { CmsError } from './CmsError.ts';
import { certificateFields, certificateKey } from './certificateFields.ts';
import { bytesEqual, isSingleTlv, setOf, tlv } from './der.ts';
import {
  TAG,
  digestAlgorithmIdentifier,
  encodeOctetString,
  encodeOid,
  encodeSmallInteger,
  signatureAlgorithmIdentifier,
} from './encode.ts';
import * as oid from './oids.ts';
import { attribute, type SignedAttributes } from './signedAttributes.ts';

/** An unsigned attribute to embed: its type and the DER of each AttributeValue. */
export interface AttributeInput {
  readonly oid: string;
  readonly values: readonly Uint8Array[];
}

export interface AssembleSignedDataOptions {
  readonly signedAttributes: SignedAttributes;
  /** What `Signer.sign` returned: raw RSA signature, or DER Ecdsa-Sig-Value. */
  readonly signatureValue: Uint8Array;
  readonly signerCertificate: Uint8Array;
  /** Issuer certificates (DER) to include; duplicates and the signer certificate itself are dropped. */
  readonly chain: readonly Uint8Array[];
  readonly digestAlgorithm: DigestAlgorithm;
  readonly scheme: SignatureScheme;
  readonly unsignedAttributes?: readonly AttributeInput[];
}

export function assembleSignedData(opts: AssembleSignedDataOptions): Uint8Array {
  if (opts.signedAttributes.digestAlgorithm !== opts.digestAlgorithm) {
    throw new CmsError(
      'cms-invalid-argument',
      `signed attributes were built for ${opts.signedAttributes.digestAlgorithm}, not ${opts.digestAlgorithm}`,
    );
  }
  if (opts.signatureValue.length === 0) throw new CmsError('cms-invalid-argument', 'empty signature value');
  checkKeyMatchesScheme(opts.signerCertificate, opts.scheme);

  const signer = certificateFields(opts.signerCertificate);
  const digestAlgorithm = digestAlgorithmIdentifier(opts.digestAlgorithm);
  const signedAttrs = Uint8Array.from(opts.signedAttributes.der);
  signedAttrs[0] = TAG.CONTEXT_0; // RFC 5652 §5.4: same octets, [0] IMPLICIT tag in SignerInfo.

  const signerInfoParts = [
    // RFC 5652 §5.3: version 1 because sid is issuerAndSerialNumber.
    encodeSmallInteger(1),
    tlv(TAG.SEQUENCE, [signer.issuer, signer.serialNumber]),
    digestAlgorithm,
    signedAttrs,
    signatureAlgorithmIdentifier(opts.scheme, opts.digestAlgorithm),
    encodeOctetString(opts.signatureValue),
  ];
  const unsigned = opts.unsignedAttributes ?? [];
  if (unsigned.length > 0) {
    signerInfoParts.push(setOf(TAG.CONTEXT_1, unsigned.map(unsignedAttribute)));
  }
  const signerInfo = tlv(TAG.SEQUENCE, signerInfoParts);

  const signedData = tlv(TAG.SEQUENCE, [
    // RFC 5652 §5.1: version 1 — no attribute certificates, eContentType id-data, only v1 SignerInfos.
    encodeSmallInteger(1),
    setOf(TAG.SET, [digestAlgorithm]),
    // Detached: EncapsulatedContentInfo without eContent (RFC 5652 §5.2; ISO 32000-1 §12.8.3.3.1).
    tlv(TAG.SEQUENCE, [encodeOid(oid.OID_DATA)]),
    // certificates [0] IMPLICIT CertificateSet, a SET OF: DER order (X.690 §11.6); verifiers find the
    // signer through sid, not through position.
    setOf(TAG.CONTEXT_0, uniqueCertificates([opts.signerCertificate, ...opts.chain])),
    setOf(TAG.SET, [signerInfo]),
  ]);
  return tlv(TAG.SEQUENCE, [encodeOid(oid.OID_SIGNED_DATA), tlv(TAG.CONTEXT_0, [signedData])]);
}

export function unsignedAttribute(input: AttributeInput): Uint8Array {
  if (input.values.length === 0) throw new CmsError('cms-invalid-argument', `attribute ${input.oid} has no value`);
  for (const value of input.values) {
    if (!isSingleTlv(value)) throw new CmsError('cms-invalid-argument', `a value of attribute ${input.oid} is not one DER TLV`);
  }
  return attribute(input.oid, input.values).der;
}

function uniqueCertificates(certificates: readonly Uint8Array[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const cert of certificates) {
    certificateFields(cert); // fail early on something that is not a certificate
    if (!out.some((known) => bytesEqual(known, cert))) out.push(cert);
  }
  return out;
}

function checkKeyMatchesScheme(certificate: Uint8Array, scheme: SignatureScheme): void {
  const { kind } = certificateKey(certificate);
  const ok =
    scheme === 'ECDSA' ? kind === 'EC' : scheme === 'RSASSA-PSS' ? kind === 'RSA' || kind === 'RSA-PSS' : kind === 'RSA';
  if (!ok) {
    throw new CmsError('cms-invalid-argument', `a ${kind} certificate key cannot make ${scheme} signatures`);
  }
}

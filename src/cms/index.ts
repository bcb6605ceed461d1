/**
 * CMS for PAdES, in the staged shape of EU DSS (getDataToSign → signDigest → signDocument):
 *   1. buildSignedAttributes(...)          → SignedAttributes; `.der` is the data to sign
 *   2. digest(alg, attrs.der) + Signer.sign  (anywhere: HSM, remote signer)
 *   3. assembleSignedData(...)             → DER ContentInfo(SignedData), detached
 *   4. addSignatureTimestamp(...)          → PAdES B-T, over signatureValueOf(...)
 * plus parseSignedData / verifySignerInfo for validation.
 */
export { CmsError, type CmsErrorCode } from './CmsError.ts';
export * as oids from './oids.ts';
export {
  digest,
  digestLength,
  hashAlgorithmFromOid,
  hashAlgorithmOid,
  isDigestAlgorithm,
  sha256File,
  type DigestAlgorithm,
  type HashAlgorithm,
} from './digest.ts';
export {
  buildSignedAttributes,
  signedAttributesDigest,
  type BuildSignedAttributesOptions,
  type CmsProfile,
  type EncodedAttribute,
  type SignedAttributes,
} from './signedAttributes.ts';
export { assembleSignedData, type AssembleSignedDataOptions, type AttributeInput } from './signedData.ts';
export { addSignatureTimestamp, addUnsignedAttribute, signatureValueOf } from './unsignedAttributes.ts';
export { x509Certificate } from './certificateFields.ts';
export { SIZE_MARGIN, estimateSignedDataSize, type SignedDataSizeOptions } from './sizeEstimate.ts';
export {
  certificateMatchesSid,
  parseSignedData,
  subjectKeyIdentifier,
  type AlgorithmIdentifierInfo,
  type DigestAlgorithmInfo,
  type EssCertId,
  type ParsedAttribute,
  type ParsedSignedAttributes,
  type ParsedSignedData,
  type ParsedSignerInfo,
  type SignerIdentifier,
} from './parseSignedData.ts';
export {
  verifySignerInfo,
  type CheckOutcome,
  type SignatureProblem,
  type SignatureStatus,
  type SignerInfoVerification,
  type VerifySignerInfoOptions,
} from './verifySignerInfo.ts';
export * from './tsp.ts';
export { OID_KP_OCSP_SIGNING, OID_OCSP_BASIC, OID_OCSP_NOCHECK, OID_OCSP_NONCE, buildCertId, buildOcspRequest, certIdMatches, certIdSerialHex, parseOcspResponse, responderIdMatches, verifyOcspSignature, type BasicOcspResponse, type CertId, type CertIdHash, type OcspCertStatus, type OcspRequest, type OcspRequestOptions, type OcspResponse, type OcspResponseStatus, type ResponderId, type SingleResponse } from './ocsp.ts';
export { certificateSerialHex, certificateSignatureAlgorithm, crlEntryFor, crlScopeProblem, parseCrl, signatureHash, verifyCrlSignature, verifySignatureValue, type AlgorithmIdentifier as X509AlgorithmIdentifier, type CrlEntry, type CrlReason, type Extension as X509Extension, type IssuingDistributionPoint, type ParsedCrl } from './crl.ts';

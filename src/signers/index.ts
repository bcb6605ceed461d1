export type { DigestAlgorithm, KeyInfo, KeyType, NamedCurve, SignatureScheme, Signer } from './Signer.ts';
export { HsmError, ckrName, isPkcs11Error, isRecoverable, toHsmError, type HsmErrorCode } from './errors.ts';
export { openToken, Pkcs11Token, type KeyPairSpec, type OpenTokenOptions, type TokenLogger } from './Pkcs11Token.ts';
export { Pkcs11Signer } from './Pkcs11Signer.ts';
export { SessionPool } from './SessionPool.ts';
export { DIGEST_LENGTH, checkDigest, digestInfo } from './digests.ts';
export { ecdsaRawToDer } from './ecdsaSignature.ts';
export { certificateFields, type CertificateFields } from './keyEncoding.ts';

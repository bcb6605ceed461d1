/**
 * The Signer port: one abstract signer, agnostic of where the key lives (HSM over PKCS#11, a remote
 * signing service, a software key in tests). Everything above `signers/` talks to this interface only.
 */
export type DigestAlgorithm = 'SHA-256' | 'SHA-384' | 'SHA-512';

/** Signature schemes allowed for new signatures (ETSI TS 119 312; no MD5/SHA-1). */
export type SignatureScheme = 'RSASSA-PKCS1-v1_5' | 'RSASSA-PSS' | 'ECDSA';

export type KeyType = 'RSA' | 'EC';
export type NamedCurve = 'P-256' | 'P-384' | 'P-521';

export interface KeyInfo {
  /** CKA_LABEL of the private key. */
  readonly label: string;
  /** CKA_ID shared by the private key, public key and certificate objects, hex. */
  readonly id: string;
  readonly keyType: KeyType;
  /** RSA modulus bits, or the EC field size. */
  readonly bits: number;
  readonly namedCurve?: NamedCurve;
}

export interface Signer {
  readonly key: KeyInfo;
  /** DER X.509 certificate stored in the token next to the key (same CKA_ID), if there is one. */
  readonly certificate: Uint8Array | undefined;
  /**
   * Sign a pre-computed digest.
   * - RSASSA-PKCS1-v1_5: returns the raw signature (modulus length), DigestInfo added by the signer.
   * - RSASSA-PSS: MGF1 with the same hash, salt length = hash length (RFC 8017 §9.1, common profile).
   * - ECDSA: returns a DER `Ecdsa-Sig-Value` (RFC 3279 §2.2.3), converted from PKCS#11's raw r||s.
   */
  sign(digest: Uint8Array, digestAlgorithm: DigestAlgorithm, scheme: SignatureScheme): Promise<Uint8Array>;
}

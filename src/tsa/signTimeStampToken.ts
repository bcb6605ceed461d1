/**
 * Sign a TSTInfo into a TimeStampToken with any Signer (HSM key, or another key in tests): signed
 * attributes → digest → Signer.sign → SignedData (RFC 3161 §2.4.2), the same staged flow as PAdES.
 */
import { assembleTimeStampToken, buildTstSignedAttributes, digest } from '../cms/index.ts';
import type { DigestAlgorithm, SignatureScheme, Signer } from '../signers/Signer.ts';

export interface SignTimeStampTokenOptions {
  readonly signer: Signer;
  /** DER certificate of the signer's key. */
  readonly certificate: Uint8Array;
  /** Issuer certificates to include with it (DER). */
  readonly chain: readonly Uint8Array[];
  /** DER TSTInfo. */
  readonly tstInfo: Uint8Array;
  readonly digestAlgorithm: DigestAlgorithm;
  readonly scheme: SignatureScheme;
  /** RFC 3161 §2.4.1 certReq: certificates present exactly when the requester asked. */
  readonly includeCertificates: boolean;
  readonly signingTime?: Date;
}

export async function signTimeStampToken(opts: SignTimeStampTokenOptions): Promise<Uint8Array> {
  const signedAttributes = buildTstSignedAttributes({
    tstInfo: opts.tstInfo,
    digestAlgorithm: opts.digestAlgorithm,
    signerCertificate: opts.certificate,
    ...(opts.signingTime === undefined ? {} : { signingTime: opts.signingTime }),
  });
  const signatureValue = await opts.signer.sign(
    digest(opts.digestAlgorithm, signedAttributes.der),
    opts.digestAlgorithm,
    opts.scheme,
  );
  return assembleTimeStampToken({
    tstInfo: opts.tstInfo,
    signedAttributes,
    signatureValue,
    signerCertificate: opts.certificate,
    includeCertificates: opts.includeCertificates,
    chain: opts.chain,
    digestAlgorithm: opts.digestAlgorithm,
    scheme: opts.scheme,
  });
}

/** PKCS#1 v1.5 for RSA keys (what every RFC 3161 verifier reads), ECDSA for EC keys. */
export function defaultScheme(signer: Signer): SignatureScheme {
  return signer.key.keyType === 'EC' ? 'ECDSA' : 'RSASSA-PKCS1-v1_5';
}

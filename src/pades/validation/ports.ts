/**
 * Ports the validator needs from modules built elsewhere (src/cms/tsp.ts for RFC 3161, and
 * src/pki/revocation for OCSP/CRL). The validator works without them: the corresponding checks are
 * then reported as "not-checked" and the policy decides what that means.
 */
import type { X509Certificate } from 'node:crypto';
import type { HashAlgorithm } from '../../cms/index.ts';

export interface TimestampVerification {
  ok: boolean;
  genTime?: Date;
  /** DER of the TSA certificate that signed the token. */
  tsaCertificate?: Uint8Array;
  problem?: string;
}

/** RFC 3161 §2.4.2 token check: CMS signature, TSA certificate and messageImprint. */
export interface TimestampVerifier {
  verify(tokenDer: Uint8Array, expectedImprint: { alg: HashAlgorithm; digest: Uint8Array }): Promise<TimestampVerification>;
}

export interface RevocationStatus {
  status: 'good' | 'revoked' | 'unknown' | 'unavailable';
  revocationTime?: Date;
  /** Where the answer came from, e.g. `ocsp:http://…`, `crl:dss`. */
  source?: string;
}

/** RFC 6960 / RFC 5280 §6.3 status of `cert` at `at`, from embedded data first (DSS, CMS), else online. */
export interface RevocationSource {
  status(
    cert: X509Certificate,
    issuer: X509Certificate,
    at: Date,
    embedded: { ocsps: Uint8Array[]; crls: Uint8Array[] },
  ): Promise<RevocationStatus>;
}

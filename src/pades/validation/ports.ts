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

/**
 * RFC 3161 §2.4.2 token check: CMS signature, ESS binding, TSA extendedKeyUsage and messageImprint.
 * It does not decide whether the TSA is trusted: the validator builds and checks the TSA's chain
 * (trust anchor, validity and revocation at genTime) before it uses genTime as a proof of existence.
 */
export interface TimestampVerifier {
  verify(tokenDer: Uint8Array, expectedImprint: { alg: HashAlgorithm; digest: Uint8Array }): Promise<TimestampVerification>;
}

export interface RevocationStatus {
  status: 'good' | 'revoked' | 'unknown' | 'unavailable';
  revocationTime?: Date;
  /**
   * RFC 5280 §5.3.1 reason of a `revoked` answer. `certificateHold` is a suspension, not a
   * revocation: the certificate may come back (removeFromCRL), so it gives TRY_LATER, not REVOKED_NO_POE.
   * For a TSA, a reason saying the key was not compromised keeps its tokens from before the revocation
   * (RFC 3161 §4); without a reason the revocation is taken as a possible compromise.
   */
  reason?: string;
  /** Where the answer came from, e.g. `ocsp:http://…`, `crl:dss`. */
  source?: string;
  /** Why no usable answer was found (stale or out-of-scope data, no online source…), for the report. */
  detail?: string;
}

/**
 * Times a revocation answer is judged against. `at` (the positional argument) is the time the status
 * is needed for: a revocation at or before it counts. `freshFrom` (default `at`) is the time the data
 * must be fresh for (EN 319 102-1 §5.2.5: issued at or after it, or still current at it, i.e. its
 * nextUpdate not before it). `now` is the validation time: data issued after it is not accepted.
 */
export interface RevocationQuery {
  freshFrom?: Date;
  now?: Date;
}

/** RFC 6960 / RFC 5280 §6.3 status of `cert` at `at`, from embedded data first (DSS, CMS), else online. */
export interface RevocationSource {
  status(
    cert: X509Certificate,
    issuer: X509Certificate,
    at: Date,
    /** `certs`: the DSS certificates, among which a delegated OCSP responder's may be. */
    embedded: { ocsps: Uint8Array[]; crls: Uint8Array[]; certs?: readonly Uint8Array[] },
    query?: RevocationQuery,
  ): Promise<RevocationStatus>;
}

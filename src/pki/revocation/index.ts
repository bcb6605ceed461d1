/**
 * Revocation data for validation and PAdES B-LT: OCSP (RFC 6960) with CRL (RFC 5280) fallback, bounded
 * fetches, and a cache valid until nextUpdate.
 */
export { OcspClient, type OcspCheckOptions, type OcspCheckResult, type OcspClientOptions } from './OcspClient.ts';
export { CrlFetcher, type CrlCheckResult, type CrlFetchOptions, type CrlFetchResult, type CrlFetcherOptions } from './CrlFetcher.ts';
export {
  RevocationChecker,
  type RevocationAttempt,
  type RevocationCheckOptions,
  type RevocationCheckerOptions,
  type RevocationSource,
  type RevocationStatus,
} from './RevocationChecker.ts';
export { RevocationError, type RevocationErrorCode, type RevocationFailureReason } from './RevocationError.ts';
export { ExpiringCache, type Loaded } from './ExpiringCache.ts';
export { DEFAULT_CLOCK_SKEW_MS, KEY_NOT_COMPROMISED_REASONS } from './common.ts';
export { certificatePolicies, KEY_USAGE_BITS, crlUrls, extendedKeyUsage, hasExtension, keyUsage, ocspUrls, timestampOrOcspOnly, type KeyUsageBit } from './certificateExtensions.ts';

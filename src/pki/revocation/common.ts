/** Small pieces shared by the OCSP client and the CRL fetcher. */
import type { X509Certificate } from 'node:crypto';
import { issuedBy } from '../issuedBy.ts';
import { RevocationError } from './RevocationError.ts';

export const DEFAULT_TIMEOUT_MS = 5_000;
/** Tolerated clock difference with a responder or CA when judging thisUpdate / nextUpdate. */
export const DEFAULT_CLOCK_SKEW_MS = 5 * 60_000;
/**
 * RFC 5280 §5.3.1 revocation reasons that say the key was not compromised (RFC 3161 §4): what a TSA or
 * an OCSP responder signed before such a revocation stays valid.
 */
export const KEY_NOT_COMPROMISED_REASONS: ReadonlySet<string> = new Set(['unspecified', 'affiliationChanged', 'superseded', 'cessationOfOperation']);
/** How long an answer without nextUpdate is reused (RFC 6960 §4.2.2.1: newer information is always available). */
export const DEFAULT_MAX_CACHE_AGE_MS = 5 * 60_000;

/** The pair under check must be certificate + its issuer, or every later comparison is meaningless. */
export function assertIssuedBy(cert: X509Certificate, issuer: X509Certificate): void {
  if (!issuedBy(cert, issuer)) {
    throw new RevocationError('revocation-invalid-input', `"${cert.subject.replace(/\n/g, ', ')}" was not issued by "${issuer.subject.replace(/\n/g, ', ')}"`, {
      details: { serialNumber: cert.serialNumber },
    });
  }
}

/** RFC 5280 §4.1.2.5 validity at `at`, with `skewMs` of tolerance on both ends. */
export function validAt(cert: X509Certificate, at: Date, skewMs: number): boolean {
  const from = Date.parse(cert.validFrom);
  const to = Date.parse(cert.validTo);
  return from - skewMs <= at.getTime() && at.getTime() <= to + skewMs;
}

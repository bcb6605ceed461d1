/**
 * CRL fetcher (RFC 5280 §5, §6.3): downloads the issuer's CRL from the certificate's CRL distribution
 * points (http/https only) or configured URLs, with a timeout and a size bound, and uses it only when it
 * is a complete CRL of that issuer, correctly signed and current. Parsed CRLs are cached by URL until
 * their nextUpdate.
 */
import type { X509Certificate } from 'node:crypto';
import { certificateFields } from '../../cms/certificateFields.ts';
import { crlEntryFor, crlScopeProblem, parseCrl, verifyCrlSignature, type CrlEntry, type CrlReason, type ParsedCrl } from '../../cms/crl.ts';
import { bytesEqual } from '../../cms/der.ts';
import { ExpiringCache } from './ExpiringCache.ts';
import { RevocationError, invalidAnswer } from './RevocationError.ts';
import { DEFAULT_CLOCK_SKEW_MS, DEFAULT_MAX_CACHE_AGE_MS, DEFAULT_TIMEOUT_MS, assertIssuedBy } from './common.ts';
import { crlUrls, keyUsage } from './certificateExtensions.ts';
import { fetchBytes, isFetchableUrl } from './http.ts';

export interface CrlFetcherOptions {
  /** URLs used instead of the certificate's CRL distribution points. */
  readonly urls?: readonly string[];
  /** Per download, body included. Default 5 s. */
  readonly timeoutMs?: number;
  /** Default 20 MiB. */
  readonly maxCrlBytes?: number;
  /** Default 5 min. */
  readonly clockSkewMs?: number;
  /** Cache lifetime of a CRL without nextUpdate. Default 5 min. */
  readonly maxCacheAgeMs?: number;
  /** Bounded cache size (CRLs). Default 64. */
  readonly cacheSize?: number;
  readonly now?: () => Date;
}

export interface CrlFetchOptions {
  readonly urls?: readonly string[];
  readonly signal?: AbortSignal;
  readonly bypassCache?: boolean;
}

export interface CrlFetchResult {
  readonly url: string;
  /** The CRL as downloaded (DER), for a PAdES DSS /CRLs entry. */
  readonly crlDer: Uint8Array;
  readonly parsed: ParsedCrl;
  /** True when this CRL lists `cert` (removeFromCRL entries do not count, RFC 5280 §5.3.1). */
  isRevoked(cert: X509Certificate): boolean;
}

export interface CrlCheckResult {
  readonly status: 'good' | 'revoked';
  readonly revocationTime?: Date;
  readonly reason?: CrlReason;
  readonly thisUpdate: Date;
  readonly nextUpdate?: Date;
  readonly url: string;
  readonly crlDer: Uint8Array;
  readonly parsed: ParsedCrl;
}

interface CachedCrl {
  readonly parsed: ParsedCrl;
  /** Fingerprints of issuers this CRL's signature has been verified against. */
  readonly verifiedFor: Set<string>;
}

function listed(parsed: ParsedCrl, cert: X509Certificate): CrlEntry | undefined {
  const entry = crlEntryFor(parsed, cert);
  return entry !== undefined && entry.reason !== 'removeFromCRL' ? entry : undefined;
}

export class CrlFetcher {
  readonly #cache: ExpiringCache<CachedCrl>;
  readonly #opts: Required<Omit<CrlFetcherOptions, 'urls'>> & { urls: readonly string[] | undefined };

  constructor(options: CrlFetcherOptions = {}) {
    this.#opts = {
      urls: options.urls,
      timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      maxCrlBytes: options.maxCrlBytes ?? 20 * 1024 * 1024,
      clockSkewMs: options.clockSkewMs ?? DEFAULT_CLOCK_SKEW_MS,
      maxCacheAgeMs: options.maxCacheAgeMs ?? DEFAULT_MAX_CACHE_AGE_MS,
      cacheSize: options.cacheSize ?? 64,
      now: options.now ?? (() => new Date()),
    };
    this.#cache = new ExpiringCache(this.#opts.cacheSize, () => this.#opts.now().getTime());
  }

  /** The http(s) URLs a fetch for `cert` would try, in order. */
  urlsFor(cert: X509Certificate, override?: readonly string[]): string[] {
    return [...(override ?? this.#opts.urls ?? crlUrls(cert))].filter(isFetchableUrl);
  }

  /** The first usable CRL among the URLs; failures of every URL are reported together. */
  async fetch(cert: X509Certificate, issuer: X509Certificate, options: CrlFetchOptions = {}): Promise<CrlFetchResult> {
    assertIssuedBy(cert, issuer);
    const urls = this.urlsFor(cert, options.urls);
    if (urls.length === 0) {
      throw new RevocationError('revocation-no-source', 'the certificate has no http CRL distribution point and none is configured', {
        details: { serialNumber: cert.serialNumber },
      });
    }
    const errors: RevocationError[] = [];
    for (const url of urls) {
      try {
        const result = await this.#fromUrl(url, issuer, options);
        // RFC 5280 §6.3.3 (b)(2): the CRL's scope (issuingDistributionPoint) must cover this certificate.
        const problem = crlScopeProblem(result.parsed, cert, [...new Set([url, ...crlUrls(cert)])]);
        if (problem !== undefined) throw invalidAnswer(url, 'scope', `the CRL does not cover the certificate: ${problem}`);
        return result;
      } catch (e) {
        if (!(e instanceof RevocationError)) throw e;
        errors.push(e);
      }
    }
    if (errors.length === 1) throw errors[0]!;
    const allFetch = errors.every((e) => e.code === 'revocation-fetch-failed');
    throw new RevocationError(allFetch ? 'revocation-fetch-failed' : 'revocation-response-invalid', `no usable CRL at ${urls.join(', ')}`, {
      details: { attempts: errors.map((e) => ({ code: e.code, ...e.details, message: e.message })) },
      cause: new AggregateError(errors),
    });
  }

  /** Revocation status of `cert` from its issuer's CRL. */
  async check(cert: X509Certificate, issuer: X509Certificate, options: CrlFetchOptions = {}): Promise<CrlCheckResult> {
    const { url, crlDer, parsed } = await this.fetch(cert, issuer, options);
    const entry = listed(parsed, cert);
    return {
      status: entry ? 'revoked' : 'good',
      ...(entry ? { revocationTime: entry.revocationDate, ...(entry.reason ? { reason: entry.reason } : {}) } : {}),
      thisUpdate: parsed.thisUpdate,
      ...(parsed.nextUpdate ? { nextUpdate: parsed.nextUpdate } : {}),
      url,
      crlDer,
      parsed,
    };
  }

  async #fromUrl(url: string, issuer: X509Certificate, options: CrlFetchOptions): Promise<CrlFetchResult> {
    if (options.bypassCache) this.#cache.delete(url);
    const cached = await this.#cache.getOrLoad(url, async () => {
      const { body } = await fetchBytes(
        { url, method: 'GET', accept: 'application/pkix-crl, application/x-pkcs7-crl;q=0.5, */*;q=0.1' },
        { timeoutMs: this.#opts.timeoutMs, maxBytes: this.#opts.maxCrlBytes, signal: options.signal },
      );
      let parsed: ParsedCrl;
      try {
        parsed = parseCrl(body);
      } catch (cause) {
        throw invalidAnswer(url, 'malformed', `not a CRL: ${(cause as Error).message}`, cause);
      }
      const entry: CachedCrl = { parsed, verifiedFor: new Set() };
      // Validate before caching so a bad CRL is never served from the cache.
      this.#validate(url, entry, issuer);
      return { value: entry, expiresAt: parsed.nextUpdate?.getTime() ?? this.#opts.now().getTime() + this.#opts.maxCacheAgeMs };
    });
    // Checked on every use too: another issuer may share the URL, and time passes.
    this.#validate(url, cached, issuer);
    const parsed = cached.parsed;
    return { url, crlDer: parsed.der, parsed, isRevoked: (cert) => listed(parsed, cert) !== undefined };
  }

  /** RFC 5280 §6.3.3: issuer match (b), complete CRL and critical extensions (b)(2), cRLSign (f), signature (g), freshness (a). */
  #validate(url: string, entry: CachedCrl, issuer: X509Certificate): void {
    const crl = entry.parsed;
    if (!bytesEqual(crl.issuer, certificateFields(new Uint8Array(issuer.raw)).subject)) {
      throw invalidAnswer(url, 'issuer-mismatch', 'the CRL issuer is not the certificate issuer');
    }
    if (crl.unhandledCriticalExtensions.length > 0) {
      throw invalidAnswer(url, 'unsupported', `the CRL has critical extensions this checker does not process: ${crl.unhandledCriticalExtensions.join(', ')}`);
    }
    const usage = keyUsage(issuer);
    if (usage !== undefined && !usage.has('cRLSign')) throw invalidAnswer(url, 'unauthorized-issuer', 'the issuer key is not allowed to sign CRLs (keyUsage without cRLSign)');
    if (!entry.verifiedFor.has(issuer.fingerprint256)) {
      if (!verifyCrlSignature(crl, issuer)) throw invalidAnswer(url, 'signature', 'the CRL signature does not verify with the issuer key');
      entry.verifiedFor.add(issuer.fingerprint256);
    }
    const now = this.#opts.now().getTime();
    if (crl.thisUpdate.getTime() > now + this.#opts.clockSkewMs) throw invalidAnswer(url, 'not-yet-valid', `thisUpdate ${crl.thisUpdate.toISOString()} is in the future`);
    if (crl.nextUpdate !== undefined && crl.nextUpdate.getTime() + this.#opts.clockSkewMs < now) {
      throw invalidAnswer(url, 'stale', `nextUpdate ${crl.nextUpdate.toISOString()} has passed`);
    }
  }
}

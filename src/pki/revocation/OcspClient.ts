/**
 * OCSP client (RFC 6960 over HTTP POST, Appendix A.1): builds the request (SHA-1 CertID by default, as
 * `openssl ocsp -index` responders look certificates up by it; RFC 8954 nonce), fetches with a timeout and
 * a size bound, and accepts an answer only after checking CertID, responder authorisation, signature,
 * nonce and freshness. Good answers are cached by (issuer, serial) until nextUpdate.
 */
import { X509Certificate } from 'node:crypto';
import {
  OID_KP_OCSP_SIGNING,
  OID_OCSP_NOCHECK,
  buildCertId,
  buildOcspRequest,
  certIdMatches,
  parseOcspResponse,
  responderIdMatches,
  verifyOcspSignature,
  type BasicOcspResponse,
  type CertIdHash,
  type OcspResponse,
} from '../../cms/ocsp.ts';
import type { CrlReason } from '../../cms/crl.ts';
import { ExpiringCache } from './ExpiringCache.ts';
import { RevocationError, fetchFailed, invalidAnswer } from './RevocationError.ts';
import { DEFAULT_CLOCK_SKEW_MS, DEFAULT_MAX_CACHE_AGE_MS, DEFAULT_TIMEOUT_MS, assertIssuedBy, validAt } from './common.ts';
import { extendedKeyUsage, hasExtension, ocspUrls } from './certificateExtensions.ts';
import { fetchBytes } from './http.ts';

export interface OcspClientOptions {
  /** Responder URL used instead of the certificate's AIA id-ad-ocsp (e.g. a local relay). */
  readonly url?: string;
  /** Per request, body included. Default 5 s. */
  readonly timeoutMs?: number;
  /** Default 1 MiB. */
  readonly maxResponseBytes?: number;
  /** Default 5 min. */
  readonly clockSkewMs?: number;
  /** Cache lifetime of an answer without nextUpdate. Default 5 min. */
  readonly maxCacheAgeMs?: number;
  /** CertID hash. Default SHA-1 (RFC 6960 §4.1.1 leaves it open; openssl's index lookups use SHA-1). */
  readonly certIdHash?: CertIdHash;
  /** Send a nonce (default true). */
  readonly nonce?: boolean;
  /** Refuse answers that do not echo the nonce (default false: many CDN-fronted responders never do). */
  readonly requireNonce?: boolean;
  /** Bounded cache size (entries). Default 1000. */
  readonly cacheSize?: number;
  /** Clock, for freshness checks. */
  readonly now?: () => Date;
}

export interface OcspCheckOptions {
  /** Overrides both the configured URL and the AIA for this call. */
  readonly url?: string;
  readonly signal?: AbortSignal;
  /** Skip the cache lookup (the fresh answer still replaces the cached one). */
  readonly bypassCache?: boolean;
}

export interface OcspCheckResult {
  readonly status: 'good' | 'revoked' | 'unknown';
  readonly revocationTime?: Date;
  readonly reason?: CrlReason;
  readonly thisUpdate: Date;
  readonly nextUpdate?: Date;
  readonly producedAt: Date;
  /** The whole OCSPResponse DER, for a PAdES DSS /OCSPs entry (ETSI EN 319 142-1 §5.4.2.2). */
  readonly responseDer: Uint8Array;
  /** The certificate whose key signed the response: the issuer itself or its delegated responder. */
  readonly responderCert: X509Certificate;
  /**
   * RFC 6960 §4.2.2.2.1: the delegated responder certificate carries id-pkix-ocsp-nocheck, so its own
   * revocation need not be checked. False for a delegated responder without it: a validator should then
   * check the responder certificate too. True when the issuer signed the response itself.
   */
  readonly responderNoCheck: boolean;
  readonly url: string;
  /** True when the responder echoed our nonce (and it matched). */
  readonly nonceVerified: boolean;
}

export class OcspClient {
  readonly #cache: ExpiringCache<OcspCheckResult>;
  readonly #opts: Required<Omit<OcspClientOptions, 'url'>> & { url: string | undefined };

  constructor(options: OcspClientOptions = {}) {
    this.#opts = {
      url: options.url,
      timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      maxResponseBytes: options.maxResponseBytes ?? 1024 * 1024,
      clockSkewMs: options.clockSkewMs ?? DEFAULT_CLOCK_SKEW_MS,
      maxCacheAgeMs: options.maxCacheAgeMs ?? DEFAULT_MAX_CACHE_AGE_MS,
      certIdHash: options.certIdHash ?? 'SHA-1',
      nonce: options.nonce ?? true,
      requireNonce: options.requireNonce ?? false,
      cacheSize: options.cacheSize ?? 1000,
      now: options.now ?? (() => new Date()),
    };
    this.#cache = new ExpiringCache(this.#opts.cacheSize, () => this.#opts.now().getTime());
  }

  /** The responder URL a check of `cert` would use. */
  urlFor(cert: X509Certificate, override?: string): string | undefined {
    return override ?? this.#opts.url ?? ocspUrls(cert)[0];
  }

  async check(cert: X509Certificate, issuer: X509Certificate, options: OcspCheckOptions = {}): Promise<OcspCheckResult> {
    assertIssuedBy(cert, issuer);
    const url = this.urlFor(cert, options.url);
    if (url === undefined) {
      throw new RevocationError('revocation-no-source', 'the certificate has no OCSP responder (AIA id-ad-ocsp) and none is configured', {
        details: { serialNumber: cert.serialNumber },
      });
    }
    // RFC 6960 §4.1.1: a CertID names (issuer name + key, serial); the issuer's fingerprint stands for both.
    const key = `${issuer.fingerprint256}|${cert.serialNumber}`;
    if (options.bypassCache) this.#cache.delete(key);
    return this.#cache.getOrLoad(key, async () => {
      const result = await this.#query(url, cert, issuer, options.signal);
      const expiresAt = result.nextUpdate?.getTime() ?? this.#opts.now().getTime() + this.#opts.maxCacheAgeMs;
      return { value: result, expiresAt };
    });
  }

  async #query(url: string, cert: X509Certificate, issuer: X509Certificate, signal: AbortSignal | undefined): Promise<OcspCheckResult> {
    const request = buildOcspRequest(buildCertId(cert, issuer, this.#opts.certIdHash), { nonce: this.#opts.nonce });
    const { body } = await fetchBytes(
      { url, method: 'POST', body: request.der, contentType: 'application/ocsp-request', accept: 'application/ocsp-response' },
      { timeoutMs: this.#opts.timeoutMs, maxBytes: this.#opts.maxResponseBytes, signal },
    );
    let response: OcspResponse;
    try {
      response = parseOcspResponse(body);
    } catch (cause) {
      throw invalidAnswer(url, 'malformed', `not an OCSPResponse: ${(cause as Error).message}`, cause);
    }
    // RFC 6960 §2.3: tryLater and internalError mean "ask again later / elsewhere", not an answer.
    if (response.responseStatus === 'tryLater') throw fetchFailed(url, 'try-later', 'the responder answered tryLater');
    if (response.responseStatus === 'internalError') throw fetchFailed(url, 'responder-error', 'the responder answered internalError');
    if (response.responseStatus !== 'successful') throw invalidAnswer(url, 'status', `the responder answered ${response.responseStatus}`);
    const basic = response.basic;
    if (basic === undefined) throw invalidAnswer(url, 'unsupported', `unsupported responseType ${response.responseType ?? '(none)'}`);

    const now = this.#opts.now();
    const skew = this.#opts.clockSkewMs;
    // RFC 6960 §3.2 (1): the certificate identified in the response is the one asked about.
    const single = basic.responses.find((r) => certIdMatches(r.certId, cert, issuer));
    if (single === undefined) throw invalidAnswer(url, 'cert-id', 'no SingleResponse for the requested CertID');
    // RFC 6960 §3.2 (5)-(6) (checked first: cheap, and every check must pass anyway): thisUpdate sufficiently recent (not in the future), nextUpdate not passed.
    if (single.thisUpdate.getTime() > now.getTime() + skew || basic.producedAt.getTime() > now.getTime() + skew) {
      throw invalidAnswer(url, 'not-yet-valid', `thisUpdate ${single.thisUpdate.toISOString()} is in the future`);
    }
    if (single.nextUpdate !== undefined && single.nextUpdate.getTime() + skew < now.getTime()) {
      throw invalidAnswer(url, 'stale', `nextUpdate ${single.nextUpdate.toISOString()} has passed`);
    }
    // RFC 6960 §3.2 (2)-(4): signature valid, by the CA or a responder it authorised.
    const responderCert = this.#authorisedResponder(url, basic, issuer, now);
    if (!verifyOcspSignature(basic, responderCert)) throw invalidAnswer(url, 'signature', 'the response signature does not verify');
    // RFC 8954 §2.1 / RFC 6960 §4.4.1: an echoed nonce must be ours (replay protection).
    let nonceVerified = false;
    if (request.nonce !== undefined && basic.nonce !== undefined) {
      if (Buffer.compare(Buffer.from(basic.nonce), Buffer.from(request.nonce)) !== 0) throw invalidAnswer(url, 'nonce', 'the response nonce is not the request nonce');
      nonceVerified = true;
    } else if (this.#opts.requireNonce) {
      throw invalidAnswer(url, 'nonce', 'the responder did not echo the nonce');
    }
    const st = single.certStatus;
    return {
      status: st.status,
      ...(st.status === 'revoked' ? { revocationTime: st.revocationTime, ...(st.reason ? { reason: st.reason } : {}) } : {}),
      thisUpdate: single.thisUpdate,
      ...(single.nextUpdate ? { nextUpdate: single.nextUpdate } : {}),
      producedAt: basic.producedAt,
      responseDer: response.der,
      responderCert,
      responderNoCheck: responderCert === issuer || hasExtension(responderCert, OID_OCSP_NOCHECK),
      url,
      nonceVerified,
    };
  }

  /**
   * RFC 6960 §4.2.2.2: the signer is the issuing CA itself, or a certificate named by the responderID,
   * issued directly by that CA, carrying id-kp-OCSPSigning in extendedKeyUsage, and valid now.
   * (Locally trusted responders, option 1 of §4.2.2.2, are not supported.)
   */
  #authorisedResponder(url: string, basic: BasicOcspResponse, issuer: X509Certificate, now: Date): X509Certificate {
    if (responderIdMatches(basic.responderId, issuer)) return issuer;
    for (const der of basic.certs) {
      let candidate: X509Certificate;
      try {
        candidate = new X509Certificate(der);
      } catch {
        continue;
      }
      if (!responderIdMatches(basic.responderId, candidate)) continue;
      if (!candidate.checkIssued(issuer) || !candidate.verify(issuer.publicKey)) {
        throw invalidAnswer(url, 'unauthorized-responder', 'the responder certificate was not issued by the certificate issuer');
      }
      if (!(extendedKeyUsage(candidate) ?? []).includes(OID_KP_OCSP_SIGNING)) {
        throw invalidAnswer(url, 'unauthorized-responder', 'the responder certificate lacks id-kp-OCSPSigning');
      }
      if (!validAt(candidate, now, this.#opts.clockSkewMs)) {
        throw invalidAnswer(url, 'unauthorized-responder', 'the responder certificate is not valid now');
      }
      return candidate;
    }
    throw invalidAnswer(url, 'unauthorized-responder', 'the response is signed neither by the issuer nor by a certificate it includes');
  }
}

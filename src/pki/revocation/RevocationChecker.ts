/**
 * Revocation status of a certificate from whichever source answers (standards.md: "OCSP with nonce where
 * supported; CRL fallback — not every CA answers OCSP"). OCSP first by default; a source that fails —
 * down, slow, HTTP error, tryLater, or an answer that does not validate — hands over to the next one.
 * A revoked certificate is a status, not an error; only "no source answered" is an error.
 */
import type { X509Certificate } from 'node:crypto';
import type { CrlReason } from '../../cms/crl.ts';
import { CrlFetcher, type CrlCheckResult } from './CrlFetcher.ts';
import { OcspClient, type OcspCheckResult } from './OcspClient.ts';
import { RevocationError } from './RevocationError.ts';
import { assertIssuedBy } from './common.ts';

export type RevocationSource = 'ocsp' | 'crl';

export interface RevocationAttempt {
  readonly source: RevocationSource;
  readonly code: string;
  readonly message: string;
  readonly reason?: string;
}

export interface RevocationStatus {
  readonly status: 'good' | 'revoked' | 'unknown';
  readonly source: RevocationSource;
  readonly revocationTime?: Date;
  readonly reason?: CrlReason;
  readonly thisUpdate: Date;
  readonly nextUpdate?: Date;
  /** The OCSP answer behind the status (its responseDer goes into a DSS). */
  readonly ocsp?: OcspCheckResult;
  /** The CRL behind the status (its crlDer goes into a DSS). */
  readonly crl?: CrlCheckResult;
  /** Sources tried before this answer, and why they did not give it. */
  readonly attempts: readonly RevocationAttempt[];
}

export interface RevocationCheckOptions {
  /** Ask OCSP before the CRL (default true). */
  readonly preferOcsp?: boolean;
  readonly signal?: AbortSignal;
}

export interface RevocationCheckerOptions {
  readonly ocsp?: OcspClient;
  readonly crl?: CrlFetcher;
}

export class RevocationChecker {
  readonly ocsp: OcspClient;
  readonly crl: CrlFetcher;

  constructor(options: RevocationCheckerOptions = {}) {
    this.ocsp = options.ocsp ?? new OcspClient();
    this.crl = options.crl ?? new CrlFetcher();
  }

  async check(cert: X509Certificate, issuer: X509Certificate, options: RevocationCheckOptions = {}): Promise<RevocationStatus> {
    assertIssuedBy(cert, issuer);
    const order: RevocationSource[] = options.preferOcsp === false ? ['crl', 'ocsp'] : ['ocsp', 'crl'];
    const attempts: RevocationAttempt[] = [];
    const errors: unknown[] = [];
    // RFC 6960 §2.2 "unknown": the responder does not know the certificate; a CRL may. Kept as the
    // answer of last resort.
    let unknown: RevocationStatus | undefined;
    for (const source of order) {
      try {
        const status = source === 'ocsp' ? fromOcsp(await this.ocsp.check(cert, issuer, { signal: options.signal })) : fromCrl(await this.crl.check(cert, issuer, { signal: options.signal }));
        if (status.status === 'unknown') {
          unknown ??= { ...status, attempts: [...attempts] };
          attempts.push({ source, code: 'revocation-status-unknown', message: 'the responder does not know the certificate' });
          continue;
        }
        return { ...status, attempts };
      } catch (e) {
        if (!(e instanceof RevocationError) || e.code === 'revocation-invalid-input') throw e;
        errors.push(e);
        attempts.push({ source, code: e.code, message: e.message, ...(e.reason ? { reason: e.reason } : {}) });
      }
    }
    if (unknown) return unknown;
    throw new RevocationError('revocation-unavailable', `no revocation source answered for serial ${cert.serialNumber}: ${attempts.map((a) => `${a.source}: ${a.message}`).join('; ')}`, {
      details: { serialNumber: cert.serialNumber, attempts },
      cause: new AggregateError(errors),
    });
  }
}

function fromOcsp(r: OcspCheckResult): Omit<RevocationStatus, 'attempts'> {
  return {
    status: r.status,
    source: 'ocsp',
    ...(r.revocationTime ? { revocationTime: r.revocationTime } : {}),
    ...(r.reason ? { reason: r.reason } : {}),
    thisUpdate: r.thisUpdate,
    ...(r.nextUpdate ? { nextUpdate: r.nextUpdate } : {}),
    ocsp: r,
  };
}

function fromCrl(r: CrlCheckResult): Omit<RevocationStatus, 'attempts'> {
  return {
    status: r.status,
    source: 'crl',
    ...(r.revocationTime ? { revocationTime: r.revocationTime } : {}),
    ...(r.reason ? { reason: r.reason } : {}),
    thisUpdate: r.thisUpdate,
    ...(r.nextUpdate ? { nextUpdate: r.nextUpdate } : {}),
    crl: r,
  };
}

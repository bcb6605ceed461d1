/**
 * RFC 3161 client over HTTP (§3.4): POST a DER TimeStampReq as application/timestamp-query, read an
 * application/timestamp-reply, and accept the token only after checking everything §2.4.2 promises:
 * status, nonce, imprint, policy, the TSA certificate's EKU and the CMS signature.
 */
import { randomBytes } from 'node:crypto';
import {
  CmsError,
  digest as hashOf,
  digestLength,
  encodeTimeStampReq,
  parseTimeStampResp,
  parseTimeStampToken,
  verifyTimeStampToken,
  type ParsedTimeStampToken,
  type TimeStampRespInfo,
  type TstInfo,
} from '../cms/index.ts';
import type { DigestAlgorithm } from '../signers/Signer.ts';
import { TsaError } from './TsaError.ts';
import { TIMESTAMP_QUERY, TIMESTAMP_REPLY } from './handleTimestampQuery.ts';

export type TsaAuth =
  | { readonly basic: { readonly user: string; readonly password: string } }
  | { readonly bearer: string };

export interface TsaClientOptions {
  readonly url: string;
  readonly digestAlgorithm?: DigestAlgorithm;
  /** reqPolicy; the token must then carry exactly this policy (§2.4.2). */
  readonly policy?: string;
  /** Ask for the TSA certificate in the token (§2.4.1). Default true. */
  readonly certReq?: boolean;
  /** Send a random 64-bit nonce (§2.4.1, replay protection). Default true. */
  readonly nonce?: boolean;
  /** Budget of one HTTP attempt, body included. Default 10 s. */
  readonly timeoutMs?: number;
  /** Extra attempts after a network error or a 5xx. Default 2. Timeouts are not retried. */
  readonly retries?: number;
  /** Delay before the first retry, doubled each time. Default 250 ms. */
  readonly retryDelayMs?: number;
  readonly auth?: TsaAuth;
  /** The TSA certificate, needed when certReq is false (the token then does not carry it). */
  readonly tsaCertificate?: Uint8Array;
}

export type TimestampRequest = TsaClientOptions &
  (
    | { readonly data: Uint8Array | readonly Uint8Array[]; readonly digest?: undefined }
    | { readonly digest: Uint8Array; readonly data?: undefined }
  );

export interface TimestampResult {
  /** DER ContentInfo(SignedData): the TimeStampToken, e.g. for id-aa-signatureTimeStampToken. */
  readonly token: Uint8Array;
  readonly tstInfo: TstInfo;
  /** DER certificate that signed the token. */
  readonly tsaCertificate: Uint8Array;
  /** Every certificate in the token (TSA certificate and chain), for path building. */
  readonly certificates: readonly Uint8Array[];
  readonly status: 'granted' | 'grantedWithMods';
  readonly statusText: readonly string[];
}

/** Replies larger than this are not time-stamp responses. */
const MAX_REPLY_BYTES = 1024 * 1024;
const TRANSIENT = Symbol('transient');

interface Transient {
  readonly [TRANSIENT]: true;
  readonly error: TsaError;
}

export class TsaClient {
  constructor(private readonly defaults: TsaClientOptions) {}

  timestamp(input: { data: Uint8Array | readonly Uint8Array[] } | { digest: Uint8Array }, overrides: Partial<TsaClientOptions> = {}): Promise<TimestampResult> {
    return requestTimestamp({ ...this.defaults, ...overrides, ...input } as TimestampRequest);
  }
}

export async function requestTimestamp(req: TimestampRequest): Promise<TimestampResult> {
  const digestAlgorithm = req.digestAlgorithm ?? 'SHA-256';
  const hashedMessage = req.digest ?? (req.data !== undefined ? hashOf(digestAlgorithm, req.data) : undefined);
  if (hashedMessage === undefined) throw new TsaError('tsa-misconfigured', 'requestTimestamp needs data or a digest');
  if (hashedMessage.length !== digestLength(digestAlgorithm)) {
    throw new TsaError('tsa-misconfigured', `the digest has ${hashedMessage.length} bytes, ${digestAlgorithm} needs ${digestLength(digestAlgorithm)}`);
  }
  const certReq = req.certReq ?? true;
  const nonce = req.nonce === false ? undefined : randomNonce();
  const body = encodeTimeStampReq({
    messageImprint: { hashAlgorithm: digestAlgorithm, hashedMessage },
    certReq,
    ...(req.policy === undefined ? {} : { reqPolicy: req.policy }),
    ...(nonce === undefined ? {} : { nonce }),
  });
  const { url, headers, label } = target(req);
  const response = await postWithRetries(url, headers, body, label, req);
  return checkResponse(response, { digestAlgorithm, hashedMessage, nonce, certReq, req, label });
}

/** RFC 3161 §2.4.1: a large random number; 64 bits, top bit cleared to keep the INTEGER 8 octets. */
export function randomNonce(): bigint {
  return BigInt(`0x${randomBytes(8).toString('hex')}`) & 0x7fff_ffff_ffff_ffffn;
}

function target(req: TsaClientOptions): { url: URL; headers: Record<string, string>; label: string } {
  let url: URL;
  try {
    url = new URL(req.url);
  } catch (cause) {
    throw new TsaError('tsa-misconfigured', 'the TSA URL is not a URL', { cause });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new TsaError('tsa-misconfigured', `the TSA URL must be http(s), not ${url.protocol}`);
  }
  let auth = req.auth;
  // fetch refuses URLs with credentials; take them as Basic auth unless auth is given explicitly.
  if (url.username !== '' || url.password !== '') {
    auth ??= { basic: { user: decodeURIComponent(url.username), password: decodeURIComponent(url.password) } };
    url.username = '';
    url.password = '';
  }
  const headers: Record<string, string> = { 'content-type': TIMESTAMP_QUERY, accept: TIMESTAMP_REPLY };
  if (auth !== undefined) {
    headers.authorization =
      'bearer' in auth
        ? `Bearer ${auth.bearer}`
        : `Basic ${Buffer.from(`${auth.basic.user}:${auth.basic.password}`, 'utf8').toString('base64')}`;
  }
  // Never put credentials or the query string (API keys) into messages and logs.
  return { url, headers, label: `${url.origin}${url.pathname}` };
}

interface HttpReply {
  readonly status: number;
  readonly contentType: string;
  readonly body: Uint8Array;
}

async function postWithRetries(
  url: URL,
  headers: Record<string, string>,
  body: Uint8Array,
  label: string,
  req: TsaClientOptions,
): Promise<HttpReply> {
  const retries = Math.max(0, req.retries ?? 2);
  const baseDelay = Math.max(0, req.retryDelayMs ?? 250);
  for (let attempt = 0; ; attempt++) {
    const outcome = await attemptPost(url, headers, body, label, req.timeoutMs ?? 10_000);
    if (!(TRANSIENT in outcome)) return outcome;
    if (attempt >= retries) {
      throw new TsaError('tsa-unreachable', `${outcome.error.message} (after ${attempt + 1} attempts)`, {
        cause: outcome.error,
        details: { ...outcome.error.details, attempts: attempt + 1 },
      });
    }
    await new Promise((resolve) => setTimeout(resolve, baseDelay * 2 ** attempt));
  }
}

async function attemptPost(
  url: URL,
  headers: Record<string, string>,
  body: Uint8Array,
  label: string,
  timeoutMs: number,
): Promise<HttpReply | Transient> {
  const signal = AbortSignal.timeout(timeoutMs);
  try {
    const res = await fetch(url, { method: 'POST', headers, body: Uint8Array.from(body), signal });
    if (res.status >= 500) {
      await res.body?.cancel().catch(() => {});
      return transient(new TsaError('tsa-unreachable', `TSA ${label} answered HTTP ${res.status}`, { details: { httpStatus: res.status } }));
    }
    const declared = Number(res.headers.get('content-length') ?? '0');
    if (declared > MAX_REPLY_BYTES) {
      await res.body?.cancel().catch(() => {});
      throw new TsaError('tsa-invalid-response', `TSA ${label} sent ${declared} bytes`, { details: { reason: 'too-large' } });
    }
    const bytes = new Uint8Array(await res.arrayBuffer());
    if (bytes.length > MAX_REPLY_BYTES) {
      throw new TsaError('tsa-invalid-response', `TSA ${label} sent ${bytes.length} bytes`, { details: { reason: 'too-large' } });
    }
    return { status: res.status, contentType: res.headers.get('content-type') ?? '', body: bytes };
  } catch (error) {
    if (error instanceof TsaError) throw error;
    if (signal.aborted || (error as Error).name === 'TimeoutError') {
      throw new TsaError('tsa-timeout', `TSA ${label} did not answer within ${timeoutMs} ms`, { cause: error, details: { timeoutMs } });
    }
    // undici reports connection refused, reset, DNS failure… as TypeError('fetch failed', { cause }).
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    return transient(
      new TsaError('tsa-unreachable', `TSA ${label} unreachable: ${cause?.code ?? cause?.message ?? (error as Error).message}`, {
        cause: error,
      }),
    );
  }
}

function transient(error: TsaError): Transient {
  return { [TRANSIENT]: true, error };
}

interface Expectation {
  readonly digestAlgorithm: DigestAlgorithm;
  readonly hashedMessage: Uint8Array;
  readonly nonce: bigint | undefined;
  readonly certReq: boolean;
  readonly req: TsaClientOptions;
  readonly label: string;
}

function checkResponse(reply: HttpReply, x: Expectation): TimestampResult {
  const invalid = (reason: string, message: string, extra: Record<string, unknown> = {}, cause?: unknown): TsaError =>
    new TsaError('tsa-invalid-response', `TSA ${x.label}: ${message}`, { details: { reason, ...extra }, ...(cause === undefined ? {} : { cause }) });
  const mediaType = reply.contentType.split(';')[0]!.trim().toLowerCase();
  // "application/timestamp-response" is the pre-RFC draft name some old servers still send.
  const isReply = mediaType === TIMESTAMP_REPLY || mediaType === 'application/timestamp-response';
  if (reply.status >= 300 && !isReply) {
    throw new TsaError('tsa-rejected', `TSA ${x.label} answered HTTP ${reply.status}`, { details: { httpStatus: reply.status } });
  }
  if (!isReply) throw invalid('content-type', `unexpected Content-Type "${reply.contentType}"`);

  let resp: TimeStampRespInfo;
  try {
    resp = parseTimeStampResp(reply.body);
  } catch (cause) {
    throw invalid('malformed', 'the reply is not a DER TimeStampResp', {}, cause);
  }
  const { statusName, statusText, failInfo } = resp.status;
  if (statusName !== 'granted' && statusName !== 'grantedWithMods') {
    throw new TsaError('tsa-rejected', `TSA ${x.label} refused: ${statusName ?? resp.status.status}${statusText.length > 0 ? ` (${statusText.join('; ')})` : ''}`, {
      details: { pkiStatus: statusName ?? resp.status.status, statusText, failInfo, httpStatus: reply.status },
    });
  }
  if (resp.timeStampToken === undefined) throw invalid('malformed', `status ${statusName} without a token`);

  let token: ParsedTimeStampToken;
  try {
    token = parseTimeStampToken(resp.timeStampToken);
  } catch (cause) {
    throw invalid('malformed', `the token cannot be read${cause instanceof CmsError ? `: ${cause.message}` : ''}`, {}, cause);
  }
  const { tstInfo } = token;
  // §2.4.2: the nonce "MUST be present in the response with the same value" when the request had one.
  if (x.nonce !== undefined && tstInfo.nonce !== x.nonce) {
    throw invalid('nonce-mismatch', 'the token does not carry our nonce');
  }
  if (x.req.policy !== undefined && tstInfo.policy !== x.req.policy) {
    throw invalid('policy-mismatch', `the token has policy ${tstInfo.policy}, ${x.req.policy} was requested`);
  }
  // §2.4.1: with certReq true the TSA certificate MUST be in the token.
  if (x.certReq && token.signedData.signerCertificate === undefined) {
    throw invalid('certificate-missing', 'certReq was set but the token does not carry the TSA certificate');
  }
  const verification = verifyTimeStampToken(token, {
    messageImprint: { hashAlgorithm: x.digestAlgorithm, hashedMessage: x.hashedMessage },
    ...(x.req.tsaCertificate === undefined ? {} : { tsaCertificate: x.req.tsaCertificate }),
  });
  if (verification.imprint !== 'match') throw invalid('imprint-mismatch', 'the token time-stamps other data');
  if (verification.tsaCertificate === undefined) {
    throw invalid('certificate-missing', 'the token does not carry the TSA certificate and none is configured (tsaCertificate)');
  }
  if (!verification.timeStampingUsage.ok) {
    throw invalid('not-a-tsa-certificate', `the signer is not a TSA: ${verification.timeStampingUsage.problem ?? ''}`);
  }
  if (!verification.valid || verification.tsaCertificate === undefined) {
    throw invalid('signature', `the token does not verify: ${verification.problems.join('; ')}`, { problems: verification.problems });
  }
  return {
    token: resp.timeStampToken,
    tstInfo,
    tsaCertificate: verification.tsaCertificate,
    certificates: token.signedData.certificates,
    status: statusName,
    statusText,
  };
}

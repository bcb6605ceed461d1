/**
 * Bounded HTTP for revocation data: every request has a timeout that also covers reading the body, and
 * the body is cut off past a size bound, so a dead, slow or hostile server can never block a check
 * forever nor exhaust memory (standards.md: "never block forever on a dead responder").
 */
import { RevocationError, fetchFailed } from './RevocationError.ts';

export interface FetchLimits {
  readonly timeoutMs: number;
  readonly maxBytes: number;
  /** Caller's cancellation, combined with the timeout. */
  readonly signal?: AbortSignal | undefined;
}

export interface HttpRequest {
  readonly url: string;
  readonly method: 'GET' | 'POST';
  readonly body?: Uint8Array;
  readonly contentType?: string;
  readonly accept: string;
}

export interface HttpResponse {
  readonly body: Uint8Array;
  readonly contentType: string | undefined;
}

/** Only http(s): RFC 5280 §4.2.1.13 also allows ldap:// and others, which this service does not fetch. */
export function isFetchableUrl(url: string): boolean {
  try {
    const u = new URL(url);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}

export async function fetchBytes(req: HttpRequest, limits: FetchLimits): Promise<HttpResponse> {
  const { url } = req;
  if (!isFetchableUrl(url)) throw fetchFailed(url, 'unsupported-url', 'only http and https URLs are fetched');
  const timeout = AbortSignal.timeout(limits.timeoutMs);
  const signal = limits.signal ? AbortSignal.any([timeout, limits.signal]) : timeout;
  const failed = (cause: unknown): Error => {
    if (timeout.aborted) return fetchFailed(url, 'timeout', `no complete answer within ${limits.timeoutMs} ms`, { timeoutMs: limits.timeoutMs }, cause);
    if (limits.signal?.aborted) return fetchFailed(url, 'aborted', 'cancelled by the caller', {}, cause);
    return fetchFailed(url, 'network', `request failed: ${(cause as Error).message}`, {}, cause);
  };
  let res: Response;
  try {
    const headers: Record<string, string> = { accept: req.accept };
    if (req.contentType) headers['content-type'] = req.contentType;
    // A copy over a plain ArrayBuffer: what BodyInit accepts.
    const body = req.body === undefined ? undefined : new Uint8Array(req.body).buffer;
    res = await fetch(url, { method: req.method, body, headers, signal, redirect: 'follow' });
  } catch (cause) {
    throw failed(cause);
  }
  if (!res.ok) {
    await res.body?.cancel().catch(() => undefined);
    throw fetchFailed(url, 'http-status', `HTTP ${res.status}`, { httpStatus: res.status });
  }
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (declared > limits.maxBytes) {
    await res.body?.cancel().catch(() => undefined);
    throw fetchFailed(url, 'too-large', `body of ${declared} bytes exceeds ${limits.maxBytes}`, { maxBytes: limits.maxBytes });
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    if (res.body) {
      const reader = res.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        total += value.length;
        if (total > limits.maxBytes) {
          await reader.cancel().catch(() => undefined);
          throw fetchFailed(url, 'too-large', `body exceeds ${limits.maxBytes} bytes`, { maxBytes: limits.maxBytes });
        }
        chunks.push(value);
      }
    }
  } catch (cause) {
    if (cause instanceof RevocationError) throw cause;
    throw failed(cause);
  }
  return { body: new Uint8Array(Buffer.concat(chunks)), contentType: res.headers.get('content-type') ?? undefined };
}

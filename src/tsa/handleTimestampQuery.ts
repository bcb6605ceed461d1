/**
 * The HTTP binding of RFC 3161 §3.4 without any web framework: the route (POST /tsa) hands over the
 * Content-Type header and the raw body and sends back what this returns.
 */
import type { TimeStampAuthority } from './TimeStampAuthority.ts';

export const TIMESTAMP_QUERY = 'application/timestamp-query';
export const TIMESTAMP_REPLY = 'application/timestamp-reply';

/** A TimeStampReq is a few hundred bytes; anything near this limit is not one. */
export const MAX_TIMESTAMP_QUERY_BYTES = 64 * 1024;

export interface TimestampHttpResult {
  readonly status: number;
  readonly contentType: string;
  readonly body: Uint8Array;
}

/**
 * - wrong media type → 415, text/plain;
 * - body over MAX_TIMESTAMP_QUERY_BYTES → 413, text/plain;
 * - otherwise a TimeStampResp: 200 for granted and for rejections of the request (the PKIStatus carries
 *   the answer, as RFC 3161 §3.4 clients expect), 503 when the TSA itself failed (systemFailure), so
 *   clients and proxies treat it as temporary.
 */
export async function handleTimestampQuery(
  tsa: TimeStampAuthority,
  contentType: string | undefined,
  body: Uint8Array,
): Promise<TimestampHttpResult> {
  const mediaType = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (mediaType !== TIMESTAMP_QUERY) {
    return text(415, `expected Content-Type ${TIMESTAMP_QUERY}`);
  }
  if (body.length > MAX_TIMESTAMP_QUERY_BYTES) return text(413, 'time-stamp query too large');
  const outcome = await tsa.process(body);
  return {
    status: outcome.failInfo === 'systemFailure' ? 503 : 200,
    contentType: TIMESTAMP_REPLY,
    body: outcome.der,
  };
}

function text(status: number, message: string): TimestampHttpResult {
  return { status, contentType: 'text/plain; charset=utf-8', body: new TextEncoder().encode(`${message}\n`) };
}

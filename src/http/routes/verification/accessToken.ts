/**
 * Short-lived file tokens: after a correct access code the holder gets a link to the registered PDF.
 * The access code itself never goes into a URL (it would end in histories, logs and Referer headers);
 * the link carries `expiry.HMAC-SHA256(key, code|expiry)` instead (RFC 2104), bound to one public code.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export class FileTokens {
  private readonly key: Buffer;

  /**
   * Without a key, one is drawn per process: tokens then die with a restart and do not work across
   * instances — acceptable for links that live minutes; pass a shared key when load-balancing.
   */
  constructor(
    key: Uint8Array | undefined,
    private readonly ttlSeconds: number,
    private readonly nowMs: () => number = Date.now,
  ) {
    this.key = key ? Buffer.from(key) : randomBytes(32);
    if (this.key.length < 32) throw new RangeError('the file-token key needs at least 32 bytes');
  }

  issue(publicCode: string): string {
    const expiry = Math.floor(this.nowMs() / 1000) + this.ttlSeconds;
    return `${expiry}.${this.mac(publicCode, expiry)}`;
  }

  verify(publicCode: string, token: string): boolean {
    const m = /^(\d{1,12})\.([A-Za-z0-9_-]{43})$/.exec(token);
    if (!m) return false;
    const expiry = Number(m[1]);
    if (expiry * 1000 < this.nowMs()) return false;
    const expected = Buffer.from(this.mac(publicCode, expiry));
    const given = Buffer.from(m[2]!);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  private mac(publicCode: string, expiry: number): string {
    return createHmac('sha256', this.key).update(`chungthuc-file|${publicCode}|${expiry}`).digest('base64url');
  }
}

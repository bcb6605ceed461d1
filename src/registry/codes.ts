/**
 * The two codes printed on a certified copy (domain.md "Verification page"):
 * - the public code in the QR URL: opaque, >= 128 bits of randomness, no personal data;
 * - the access code: a second factor that unlocks the requester's name and the document itself,
 *   stored only as an scrypt hash (RFC 7914) so a copy of the database does not reveal it.
 */
import { randomBytes, scrypt, scryptSync, timingSafeEqual } from 'node:crypto';

/** RFC 4648 §6 base32 alphabet: upper case and digits, so the code fits the QR alphanumeric mode. */
const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
/** 20 random bytes = 160 bits, exactly 32 base32 characters without padding. */
const PUBLIC_CODE_BYTES = 20;
export const PUBLIC_CODE_LENGTH = 32;
const PUBLIC_CODE_PATTERN = /^[A-Z2-7]{32}$/;

function base32(bytes: Uint8Array): string {
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
    buffer &= (1 << bits) - 1;
  }
  if (bits > 0) out += BASE32[(buffer << (5 - bits)) & 31];
  return out;
}

/** A fresh public code: 160 bits from the CSPRNG, base32 (RFC 4648 §6), 32 characters. */
export function newPublicCode(): string {
  return base32(randomBytes(PUBLIC_CODE_BYTES));
}

/** Upper-cases a code read from a URL or typed by hand; null when it cannot be a public code. */
export function normalizePublicCode(code: string): string | null {
  const c = code.trim().toUpperCase();
  return PUBLIC_CODE_PATTERN.test(c) ? c : null;
}

/**
 * Crockford's base32 alphabet (no I, L, O, U): the access code is read off paper and typed by a person.
 * 32 divides 256, so `byte & 31` picks every symbol with the same probability.
 */
const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
/**
 * 12 symbols = 60 bits, printed in three groups of four. For a random code, entropy buys more than
 * key stretching: each symbol multiplies an offline guesser's work by 32 for one more keystroke.
 * Codes of 10 symbols (50 bits, scrypt N = 2^14) printed before stay valid: the stored hash names its
 * own parameters.
 */
const ACCESS_CODE_SYMBOLS = 12;

/**
 * scrypt cost (RFC 7914 §2): N = 2^12, r = 8, p = 1 — 4 MiB and ~9 ms here. With 60 bits, guessing
 * one code from a stolen database takes 2^59 of these on average: ~250× the CPU work the 50-bit codes
 * with N = 2^14 asked, at a quarter of the service's cost per code.
 */
const SCRYPT = { N: 4096, r: 8, p: 1, keyLength: 32, saltLength: 16 } as const;

/** An access code together with its stored form; `plain` is shown once and printed on the copy. */
export interface PreparedAccessCode {
  /** Grouped for printing, e.g. "7K3Q-DM9X-2AHB". */
  readonly plain: string;
  /** `scrypt$N$r$p$salt$hash` with base64url salt and hash. */
  readonly hash: string;
}

function newAccessCodePlain(): string {
  const raw = [...randomBytes(ACCESS_CODE_SYMBOLS)].map((b) => CROCKFORD[b & 31]).join('');
  return raw.replace(/.{4}(?=.)/g, '$&-');
}

/** Crockford decoding rules: case-insensitive, O → 0, I/L → 1, separators ignored. */
function canonicalAccessCode(code: string): string {
  return code
    .toUpperCase()
    .replace(/[\s-]/g, '')
    .replace(/O/g, '0')
    .replace(/[IL]/g, '1');
}

function encodeHash(salt: Buffer, key: Buffer): string {
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

const scryptOptions = { N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p, maxmem: 64 * 1024 * 1024 };

/** Generates an access code and hashes it synchronously (blocks the event loop for one scrypt). */
export function prepareAccessCodeSync(): PreparedAccessCode {
  const plain = newAccessCodePlain();
  const salt = randomBytes(SCRYPT.saltLength);
  const key = scryptSync(canonicalAccessCode(plain), salt, SCRYPT.keyLength, scryptOptions);
  return { plain, hash: encodeHash(salt, key) };
}

/**
 * Generates an access code and hashes it on the libuv thread pool: call this before the registry
 * write so that the write transaction (which must not span an await) stays short.
 */
export async function prepareAccessCode(): Promise<PreparedAccessCode> {
  const plain = newAccessCodePlain();
  const salt = randomBytes(SCRYPT.saltLength);
  const key = await new Promise<Buffer>((resolve, reject) => {
    scrypt(canonicalAccessCode(plain), salt, SCRYPT.keyLength, scryptOptions, (err, k) => (err ? reject(err) : resolve(k)));
  });
  return { plain, hash: encodeHash(salt, key) };
}

/**
 * Access codes hashed ahead of need: each certification takes one that is ready and a replacement is
 * hashed on the thread pool while that certification stamps and signs, so the scrypt is off the
 * certification's critical path. The codes exist only in this process's memory until taken, and each
 * is taken once (a code that fails to hash is dropped: its failure goes to the certification that
 * takes it, which then fails before reserving a number).
 */
export class AccessCodePool {
  private readonly ready: Array<Promise<PreparedAccessCode>> = [];

  constructor(
    private readonly size = 2,
    private readonly prepare: () => Promise<PreparedAccessCode> = prepareAccessCode,
  ) {}

  take(): Promise<PreparedAccessCode> {
    while (this.ready.length < this.size + 1) this.ready.push(this.started());
    return this.ready.shift()!;
  }

  private started(): Promise<PreparedAccessCode> {
    const p = this.prepare();
    p.catch(() => undefined); // reported to the taker
    return p;
  }
}

/** The process's pool (certifyCopy's default). */
let sharedPool: AccessCodePool | undefined;
export function nextAccessCode(): Promise<PreparedAccessCode> {
  return (sharedPool ??= new AccessCodePool()).take();
}

const HASH_PATTERN = /^scrypt\$(\d+)\$(\d+)\$(\d+)\$([A-Za-z0-9_-]+)\$([A-Za-z0-9_-]+)$/;

export function isAccessCodeHash(stored: string): boolean {
  return HASH_PATTERN.test(stored);
}

/**
 * Checks a typed access code against its stored hash in constant time. A null `stored` (unknown public
 * code) still costs one scrypt at today's cost, so timing does not tell which public codes exist
 * among those issued since 2026-11-30; a code hashed earlier (N = 2^14) takes longer, which tells
 * only that its 160-bit public code, already known to the caller, is an old one.
 */
export function accessCodeMatches(stored: string | null, typed: string): boolean {
  const m = stored === null ? null : HASH_PATTERN.exec(stored);
  const N = m ? Number(m[1]) : SCRYPT.N;
  const r = m ? Number(m[2]) : SCRYPT.r;
  const p = m ? Number(m[3]) : SCRYPT.p;
  const salt = m ? Buffer.from(m[4]!, 'base64url') : Buffer.alloc(SCRYPT.saltLength);
  const expected = m ? Buffer.from(m[5]!, 'base64url') : Buffer.alloc(SCRYPT.keyLength);
  const actual = scryptSync(canonicalAccessCode(typed), salt, expected.length, { N, r, p, maxmem: 64 * 1024 * 1024 });
  return timingSafeEqual(actual, expected) && m !== null;
}

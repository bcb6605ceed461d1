/**
 * Officer passwords: scrypt (RFC 7914) from node:crypto, stored as a PHC-like string that carries its
 * own parameters and salt, so the cost can be raised later without invalidating old hashes:
 *
 *   $scrypt$ln=15,r=8,p=1$<salt, base64>$<hash, base64>
 *
 * N = 2^15, r = 8, p = 1 is the OWASP Password Storage Cheat Sheet's scrypt minimum (32 MiB and
 * roughly 50–100 ms per check here); the salt is 16 random bytes per password; comparison is
 * constant-time. `DUMMY_PASSWORD_HASH` lets a login for an unknown username cost the same as a real
 * check, so the answer's timing does not tell which usernames exist.
 */
import { randomBytes, randomInt, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { InputError } from '../errors.ts';

export const PASSWORD_MIN_LENGTH = 10;
export const PASSWORD_MAX_LENGTH = 256;

const DEFAULT = { ln: 15, r: 8, p: 1 } as const;
const KEY_BYTES = 32;
const PHC = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9+/]+={0,2})\$([A-Za-z0-9+/]+={0,2})$/;

function derive(password: string, salt: Buffer, ln: number, r: number, p: number, length: number): Promise<Buffer> {
  // maxmem must exceed 128·N·r·p (node's default of 32 MiB is exactly the cost at ln=15, r=8).
  const options: ScryptOptions = { N: 2 ** ln, r, p, maxmem: 256 * 2 ** ln * r * p };
  return new Promise((resolve, reject) => scrypt(password.normalize('NFC'), salt, length, options, (err, key) => (err ? reject(err) : resolve(key))));
}

/** Refuses passwords too short to resist guessing or too long to hash cheaply. */
export function checkPasswordPolicy(password: unknown): string {
  if (typeof password !== 'string' || password.length < PASSWORD_MIN_LENGTH) {
    throw new InputError('password-too-weak', `a password needs at least ${PASSWORD_MIN_LENGTH} characters`);
  }
  if (password.length > PASSWORD_MAX_LENGTH) throw new InputError('password-too-long', `a password has at most ${PASSWORD_MAX_LENGTH} characters`);
  return password;
}

export async function hashPassword(password: string, cost: { ln: number; r: number; p: number } = DEFAULT): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, cost.ln, cost.r, cost.p, KEY_BYTES);
  return `$scrypt$ln=${cost.ln},r=${cost.r},p=${cost.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

/** True when `password` matches `stored`; a malformed stored value never matches. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const m = PHC.exec(stored);
  if (!m) return false;
  const [ln, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (ln < 10 || ln > 22 || r < 1 || p < 1) return false;
  const expected = Buffer.from(m[5]!, 'base64');
  const key = await derive(password, Buffer.from(m[4]!, 'base64'), ln, r, p, expected.length);
  return timingSafeEqual(key, expected);
}

/** A valid hash of a random secret nobody knows: compared against when the username is unknown. */
export const DUMMY_PASSWORD_HASH = `$scrypt$ln=${DEFAULT.ln},r=${DEFAULT.r},p=${DEFAULT.p}$${randomBytes(16).toString('base64')}$${randomBytes(KEY_BYTES).toString('base64')}`;

/** No look-alike characters (0/O, 1/l/I): the password may be read aloud or copied from paper. */
const ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';

/** A generated password: 20 characters from 57 ≈ 116 bits of entropy, in groups of 5 for reading. */
export function generatePassword(): string {
  const chars = Array.from({ length: 20 }, () => ALPHABET[randomInt(ALPHABET.length)]!);
  return [0, 5, 10, 15].map((i) => chars.slice(i, i + 5).join('')).join('-');
}

/**
 * Per-process memo of a pure function of bytes (a certificate's fields, key or usage check), keyed by
 * the SHA-256 of the exact bytes: the same certificate arrives in a fresh buffer from every CMS and
 * token parsed, so identity (a WeakMap) rarely matches, while its content does. Bounded: the oldest
 * entry goes first. Failures are not remembered (they throw before anything is stored).
 */
import { createHash } from 'node:crypto';

export function memoByContent<T>(max: number, compute: (bytes: Uint8Array) => T): (bytes: Uint8Array) => T {
  const entries = new Map<string, T>();
  return (bytes) => {
    const key = createHash('sha256').update(bytes).digest('base64');
    let value = entries.get(key);
    if (value === undefined) {
      value = compute(bytes);
      if (entries.size >= max) entries.delete(entries.keys().next().value!);
      entries.set(key, value);
    }
    return value;
  };
}

/**
 * A small cache for revocation answers: entries expire at a given instant (the answer's nextUpdate, or a
 * maximum age), the size is bounded with least-recently-used eviction (a Map keeps insertion order; a hit
 * re-inserts), and concurrent loads of the same key share one promise so a burst of checks for one
 * certificate makes one request.
 */
export interface Loaded<V> {
  readonly value: V;
  /** Epoch milliseconds after which the value must not be served. */
  readonly expiresAt: number;
}

export class ExpiringCache<V> {
  readonly #entries = new Map<string, Loaded<V>>();
  readonly #inFlight = new Map<string, Promise<V>>();

  constructor(
    readonly maxEntries: number,
    private readonly now: () => number = Date.now,
  ) {
    if (!(maxEntries >= 1)) throw new RangeError('maxEntries must be at least 1');
  }

  get size(): number {
    return this.#entries.size;
  }

  get(key: string): V | undefined {
    const hit = this.#entries.get(key);
    if (hit === undefined) return undefined;
    this.#entries.delete(key);
    if (hit.expiresAt <= this.now()) return undefined;
    this.#entries.set(key, hit);
    return hit.value;
  }

  set(key: string, value: V, expiresAt: number): void {
    this.#entries.delete(key);
    if (expiresAt <= this.now()) return;
    this.#entries.set(key, { value, expiresAt });
    while (this.#entries.size > this.maxEntries) {
      const oldest = this.#entries.keys().next().value as string;
      this.#entries.delete(oldest);
    }
  }

  delete(key: string): void {
    this.#entries.delete(key);
  }

  clear(): void {
    this.#entries.clear();
  }

  /** The cached value, the pending load of the same key, or a new load (whose failure is not cached). */
  getOrLoad(key: string, load: () => Promise<Loaded<V>>): Promise<V> {
    const hit = this.get(key);
    if (hit !== undefined) return Promise.resolve(hit);
    const pending = this.#inFlight.get(key);
    if (pending) return pending;
    const p = (async () => {
      try {
        const loaded = await load();
        this.set(key, loaded.value, loaded.expiresAt);
        return loaded.value;
      } finally {
        this.#inFlight.delete(key);
      }
    })();
    this.#inFlight.set(key, p);
    return p;
  }
}

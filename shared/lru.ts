/**
 * A Map with a bound that drops its least recently used entry: `get` and `set` make a key the
 * most recent (a Map iterates in insertion order, so the oldest key is the first). Used where a
 * process keeps recent decoded things (Fabric blocks and headers, checked block texts, batch
 * records) and must not grow without limit.
 */
export class Lru<K, V> {
  private readonly m = new Map<K, V>();

  constructor(private readonly max: number) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`Lru: max must be a positive integer, got ${max}`);
  }

  /** The value under `k`, made the most recent; undefined if none. */
  get(k: K): V | undefined {
    const v = this.m.get(k);
    if (v !== undefined) {
      this.m.delete(k);
      this.m.set(k, v);
    }
    return v;
  }

  /** Stores `v` under `k` as the most recent, dropping the least recent beyond the bound. */
  set(k: K, v: V): void {
    this.m.delete(k);
    this.m.set(k, v);
    while (this.m.size > this.max) this.m.delete(this.m.keys().next().value as K);
  }

  delete(k: K): void {
    this.m.delete(k);
  }

  clear(): void {
    this.m.clear();
  }

  get size(): number {
    return this.m.size;
  }
}

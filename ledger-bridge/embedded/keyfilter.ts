/**
 * A scalable Bloom filter over the world state's keys. Most reads on the hot path are replay
 * checks of keys that do not exist yet ((deviceId, seq) of a new reading); the filter answers
 * "certainly absent" without touching SQLite. It may say "maybe" for an absent key (then SQLite
 * decides), never "absent" for a present one: every committed key is added, and the filter is
 * rebuilt from the state table when the ledger opens. Deleted keys stay in it (harmless).
 */

const BITS_PER_KEY = 10;
const HASHES = 7;

/** 32-bit FNV-1a and a second, independent-enough mix of the same string. */
function hashes(key: string): [number, number] {
  let h1 = 0x811c9dc5;
  let h2 = 0x9747b28c;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x5bd1e995);
    h2 ^= h2 >>> 15;
  }
  return [h1 >>> 0, (h2 | 1) >>> 0];
}

class Bloom {
  private readonly bits: Uint32Array;
  private readonly size: number;
  count = 0;

  constructor(readonly capacity: number) {
    this.size = capacity * BITS_PER_KEY;
    this.bits = new Uint32Array(Math.ceil(this.size / 32));
  }

  add(h1: number, h2: number): void {
    for (let i = 0; i < HASHES; i++) {
      const bit = (h1 + Math.imul(i, h2)) >>> 0;
      const at = bit % this.size;
      this.bits[at >>> 5] = (this.bits[at >>> 5] as number) | (1 << (at & 31));
    }
    this.count++;
  }

  has(h1: number, h2: number): boolean {
    for (let i = 0; i < HASHES; i++) {
      const at = ((h1 + Math.imul(i, h2)) >>> 0) % this.size;
      if (((this.bits[at >>> 5] as number) & (1 << (at & 31))) === 0) return false;
    }
    return true;
  }
}

/** Grows by adding filters of doubling capacity, so the false-positive rate stays ~1 %. */
export class KeyFilter {
  private readonly filters: Bloom[];

  constructor(initialCapacity = 1 << 20) {
    this.filters = [new Bloom(initialCapacity)];
  }

  /** Records a key as (possibly) present. */
  add(key: string): void {
    let last = this.filters[this.filters.length - 1] as Bloom;
    if (last.count >= last.capacity) {
      last = new Bloom(last.capacity * 2);
      this.filters.push(last);
    }
    const [h1, h2] = hashes(key);
    last.add(h1, h2);
  }

  /** False: the key is certainly not in state. True: it may be. */
  mightHave(key: string): boolean {
    const [h1, h2] = hashes(key);
    for (const f of this.filters) if (f.has(h1, h2)) return true;
    return false;
  }

  /** Keys added so far. */
  get size(): number {
    return this.filters.reduce((n, f) => n + f.count, 0);
  }
}

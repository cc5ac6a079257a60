/**
 * The per-reading cryptography of a batch, as one step over flat buffers so that it can run off
 * the contract's thread: for each item (a reading that passed the registry and partial checks),
 * the tag check HMAC-SHA256(K_tag, "pv2:r" ‖ canonical) = tag (shared/crypto/domains.ts),
 * dataHash = SHA-256(canonical), and the
 * record's Merkle leaf (batch-layout.ts). Deterministic: any implementation gives the same bytes,
 * so where it runs (this thread, the embedded ledger's validation threads: embedded/crypto-pool.ts)
 * never changes a verdict.
 *
 * The loop allocates no Buffer per reading: node:crypto's one-shot hash() with latin1 output (one
 * character per byte: a Buffer result costs an ArrayBuffer each, which was most of the garbage
 * collector's work at 100,000 readings/s, and hex costs twice the characters and a decode),
 * written back into preallocated buffers; the tag is compared with the MAC's characters
 * directly. Inputs are cached views of scratch buffers, one per length.
 */
import { hash } from 'node:crypto';
import { DOMAIN_READING } from '../../../shared/crypto/domains.js';
import { LeafHasher, LEAF_PREFIX } from './batch-layout.js';
import { copy32, copyWords, putDigest, viewOf } from './bytes.js';
import { readingFields, v2FieldsAt } from './reading-fields.js';
import type { BatchInput } from './batch-input.js';

/** The batch's readings to check, as offsets into one buffer (batch-input.ts BatchInput's arrays). */
export interface CryptoJob {
  /** Holds every reading's canonical bytes and tag. */
  readonly data: Buffer;
  readonly canonicalAt: Uint32Array;
  readonly canonicalLength: Uint16Array;
  readonly tagAt: Uint32Array;
  readonly receivedAt: Float64Array;
  /** Per reading, index into routes (encodeRoute bytes). */
  readonly route: Uint16Array;
  readonly routes: readonly Buffer[];
  /** The readings to check (indexes into the arrays above), in batch order. */
  readonly items: Uint32Array;
  /** Per item, index into keys (the device's K_tag). */
  readonly key: Uint16Array;
  readonly keys: readonly Uint8Array[];
}

/**
 * The crypto job of a parsed batch (recordBatch's pass B, logic/readings.ts): the readings
 * `items` (indexes in batch order), item j under `keys[key[j]]`. The one place a job is built
 * from a batch: the contract and the tests that check its bytes use it.
 */
export function cryptoJobFor(input: BatchInput, items: Uint32Array, key: Uint16Array, keys: readonly Uint8Array[]): CryptoJob {
  if (key.length !== items.length) throw new RangeError(`crypto job: ${items.length} items but ${key.length} keys`);
  return {
    data: input.data,
    canonicalAt: input.canonicalAt,
    canonicalLength: input.canonicalLength,
    tagAt: input.tagAt,
    receivedAt: input.receivedAt,
    route: input.route,
    routes: input.routeBytes,
    items,
    key,
    keys,
  };
}

/** Per item: tag verified (1) or not (0), dataHash and leaf hash (32 bytes each, item j at 32·j). */
export interface CryptoResult {
  readonly tagOk: Uint8Array;
  readonly dataHash: Buffer;
  readonly leaf: Buffer;
}

/** Runs a job (the embedded ledger may hand it to worker threads). */
export interface BatchCrypto {
  run(job: CryptoJob): Promise<CryptoResult>;
}

const BLOCK = 64;
/** The reading tag's domain label, which every tagged message starts with. */
const LABEL = Buffer.from(DOMAIN_READING, 'latin1');
/** Bytes before the canonical reading in the inner hash's input: K ⊕ ipad, then the label. */
const PREFIX = BLOCK + LABEL.length;

/** A buffer with cached views [offset, offset + n) for each length n used. */
class Scratch {
  buf: Buffer;
  private views: Buffer[] = [];
  private tails: Buffer[] = [];
  constructor(
    size: number,
    private readonly offset: number,
  ) {
    this.buf = Buffer.alloc(size);
  }
  /** Room for `n` bytes after the offset (keeps the first `offset` bytes); true if it grew. */
  fit(n: number): boolean {
    if (this.offset + n <= this.buf.length) return false;
    const grown = Buffer.alloc(2 * (this.offset + n));
    this.buf.copy(grown, 0, 0, this.offset);
    this.buf = grown;
    this.views = [];
    this.tails = [];
    return true;
  }
  /** [0, offset + n). */
  view(n: number): Buffer {
    return (this.views[n] ??= this.buf.subarray(0, this.offset + n));
  }
  /** [offset, offset + n). */
  tail(n: number): Buffer {
    return (this.tails[n] ??= this.buf.subarray(this.offset, this.offset + n));
  }
}

/** Items [from, to) of a job, on this thread; writes into `out` at the items' own positions. */
export function runCryptoRange(job: CryptoJob, from: number, to: number, out: CryptoResult): void {
  const data = job.data;
  // HMAC pads per key: inner (K ⊕ ipad) is copied before label ‖ message, outer (K ⊕ opad ‖ inner digest).
  const innerPads: Buffer[] = [];
  const outers: Buffer[] = [];
  for (const key of job.keys) {
    if (key.length > BLOCK) throw new RangeError('batch crypto: keys longer than 64 bytes are not used here');
    const ipad = Buffer.alloc(BLOCK, 0x36);
    const opad = Buffer.alloc(BLOCK + 32, 0x5c);
    for (let b = 0; b < key.length; b++) {
      ipad[b] = (ipad[b] as number) ^ (key[b] as number);
      opad[b] = (opad[b] as number) ^ (key[b] as number);
    }
    innerPads.push(ipad);
    outers.push(opad);
  }
  // One message buffer per key, its padded key and label written once: the readings of a batch
  // interleave devices, and a pad copy per reading cost more than the buffers.
  const msgs: Scratch[] = [];
  const msgViews: DataView[] = [];
  const msgOf = (k: number): Scratch => {
    let m = msgs[k];
    if (m === undefined) {
      m = msgs[k] = new Scratch(PREFIX + 256, PREFIX);
      (innerPads[k] as Buffer).copy(m.buf, 0);
      LABEL.copy(m.buf, BLOCK);
      msgViews[k] = viewOf(m.buf);
    }
    return m;
  };
  // The canonical bytes are copied through DataViews: Buffer#copy of a range allocates a view
  // per call (~95 bytes of garbage per reading).
  const dataView = viewOf(data);
  const dataHashView = viewOf(out.dataHash);
  const leafBufs = new Map<number, { buf: Buffer; view: DataView }>();
  const generic = new LeafHasher();
  for (let j = from; j < to; j++) {
    const i = job.items[j] as number;
    const k = job.key[j] as number;
    const at = job.canonicalAt[i] as number;
    const len = job.canonicalLength[i] as number;
    const tagAt = job.tagAt[i] as number;
    const msg = msgOf(k);
    if (msg.fit(len)) msgViews[k] = viewOf(msg.buf);
    copyWords(dataView, at, msgViews[k] as DataView, PREFIX, len);
    const outer = outers[k] as Buffer;
    putDigest(hash('sha256', msg.view(len), 'binary'), outer, BLOCK);
    const mac = hash('sha256', outer, 'binary');
    // Constant time in the tag's content.
    let diff = 0;
    for (let b = 0; b < 32; b++) diff |= mac.charCodeAt(b) ^ (data[tagAt + b] as number);
    if (diff !== 0) continue;
    out.tagOk[j] = 1;
    const dataHash = hash('sha256', msg.tail(len), 'binary');
    putDigest(dataHash, out.dataHash, 32 * j);
    const route = job.routes[job.route[i] as number] as Buffer;
    const receivedAt = job.receivedAt[i] as number;
    const o = v2FieldsAt(data, at, len);
    if (o < 0) {
      // Another layout version: the generic leaf from the decoded fields (the caller decoded
      // these bytes before queueing the item, so this cannot throw).
      const f = readingFields(data, at, len);
      generic
        .leaf(
          f.deviceId,
          f.seq,
          f.t,
          f.epoch,
          f.partialDigest,
          f.bootCount,
          f.uptimeMs,
          out.dataHash.subarray(32 * j, 32 * j + 32),
          data.subarray(tagAt, tagAt + 32),
          receivedAt,
          route,
        )
        .copy(out.leaf, 32 * j);
      continue;
    }
    // Version 2: the leaf's L · deviceId · seq · t · epoch are the canonical bytes [at+1, o+16),
    // its partialDigest the canonical bytes [o+17, o+49), its bootCount · uptimeMs the canonical
    // bytes [o+51, o+60) (batch-layout.ts, "Record leaf").
    // One leaf buffer per (head length, route): the prefix and the route (at its end) are
    // written once per batch, the rest per reading.
    const head = o + 16 - (at + 1);
    const r = job.route[i] as number;
    const slot = head * 65536 + r;
    let lb = leafBufs.get(slot);
    if (lb === undefined) {
      const buf = Buffer.alloc(2 + head + 32 + 9 + 32 + 32 + 8 + route.length);
      buf[0] = LEAF_PREFIX[0] as number;
      buf[1] = LEAF_PREFIX[1] as number;
      route.copy(buf, buf.length - route.length);
      lb = { buf, view: viewOf(buf) };
      leafBufs.set(slot, lb);
    }
    const b = lb.view;
    let p = 2;
    p += copyWords(dataView, at + 1, b, p, head);
    copy32(dataView, o + 17, b, p);
    p += 32;
    p += copyWords(dataView, o + 51, b, p, 9);
    copy32(dataHashView, 32 * j, b, p);
    copy32(dataView, tagAt, b, p + 32);
    p += 64;
    b.setUint32(p, Math.floor(receivedAt / 0x1_0000_0000));
    b.setUint32(p + 4, receivedAt >>> 0);
    putDigest(hash('sha256', lb.buf, 'binary'), out.leaf, 32 * j);
  }
}

/** An empty result for n items. */
export function cryptoResult(n: number): CryptoResult {
  return { tagOk: new Uint8Array(n), dataHash: Buffer.alloc(32 * n), leaf: Buffer.alloc(32 * n) };
}

/** The default: on the calling thread. */
export const inThreadCrypto: BatchCrypto = {
  run(job) {
    const n = job.items.length;
    const out = cryptoResult(n);
    runCryptoRange(job, 0, n, out);
    return Promise.resolve(out);
  },
};

/**
 * The per-device anti-replay window (the IPsec pattern: RFC 4303 §3.4.3, with RFC 6479's ring of
 * bitmap blocks so that advancing never shifts bits). One ledger key per device holds the
 * highest sequence number accepted so far (H), the device time t of that reading, and one bit
 * for each of the W sequence numbers H-W+1..H saying whether it was accepted. A batch reads and
 * writes it once per device, so a batch's state work grows with its devices, not its readings.
 *
 * What the window answers for a sequence number s:
 *
 *   'new'    s > H, or H-W < s ≤ H and its bit is clear: never accepted
 *   'seen'   H-W < s ≤ H and its bit is set: accepted before (the caller looks the record up to
 *            tell an exact resend — `duplicate` — from a replay with other data)
 *   'below'  s ≤ H-W: older than the window, which cannot say; the caller asks the index
 *            (IPsec drops such packets; a ledger must not: a reading that arrives late but was
 *            never recorded is still accepted, exactly as with one key per reading)
 *
 * Pure and deterministic: encode() of equal windows gives equal bytes.
 *
 * Value layout (big-endian): u8 version (1) · u32 H · u32 t high · u32 t low · u16 W · the ring,
 * W/32 + 1 u32 blocks (block b holds sequence numbers with ⌊s/32⌋ mod (W/32+1) = b).
 */
import { viewOf } from './bytes.js';

/** Sequence numbers tracked below and including the highest (a multiple of 32). */
export const WINDOW_BITS = 256;
const VERSION = 1;
const HEADER = 1 + 4 + 8 + 2;
const MAX_SEQ = 0xffffffff;
const MAX_T = Number.MAX_SAFE_INTEGER;

/** What the window says about a sequence number. */
export type WindowAnswer = 'new' | 'seen' | 'below';

/** A device's replay window (mutable: a batch updates its copy as it accepts readings). */
export class ReplayWindow {
  private constructor(
    readonly bits: number,
    private ring: Uint32Array,
    /** Highest accepted seq, -1 while nothing was accepted. */
    private high: number,
    /** Device time of the highest accepted reading (-1 while empty). */
    private highT: number,
  ) {}

  /** An empty window of `bits` sequence numbers (a multiple of 32, 32..65504). */
  static empty(bits = WINDOW_BITS): ReplayWindow {
    if (!Number.isInteger(bits) || bits < 32 || bits > 65504 || bits % 32 !== 0)
      throw new RangeError(`replay window: size must be a multiple of 32 in 32..65504, got ${bits}`);
    return new ReplayWindow(bits, new Uint32Array(bits / 32 + 1), -1, -1);
  }

  /** Decodes a stored window; throws RangeError naming what is wrong. */
  static decode(bytes: Uint8Array): ReplayWindow {
    if (bytes.length < HEADER) throw new RangeError(`replay window: ${bytes.length} bytes is shorter than its header`);
    const v = viewOf(bytes);
    if (v.getUint8(0) !== VERSION) throw new RangeError(`replay window: unknown version ${v.getUint8(0)}`);
    const high = v.getUint32(1);
    const tHi = v.getUint32(5);
    if (tHi > 0x1fffff) throw new RangeError('replay window: t exceeds 2^53 - 1');
    const highT = tHi * 0x1_0000_0000 + v.getUint32(9);
    const bits = v.getUint16(13);
    if (bits < 32 || bits % 32 !== 0) throw new RangeError(`replay window: size ${bits} is not a multiple of 32`);
    const blocks = bits / 32 + 1;
    if (bytes.length !== HEADER + 4 * blocks) throw new RangeError(`replay window: ${bytes.length} bytes, expected ${HEADER + 4 * blocks}`);
    const ring = new Uint32Array(blocks);
    for (let b = 0; b < blocks; b++) ring[b] = v.getUint32(HEADER + 4 * b);
    const w = new ReplayWindow(bits, ring, high, highT);
    if (!w.test(high)) throw new RangeError('replay window: the highest sequence number is not marked');
    return w;
  }

  /** The stored form (only of a window that accepted something). */
  encode(): Uint8Array {
    if (this.high < 0) throw new RangeError('replay window: an empty window is not stored');
    const out = new Uint8Array(HEADER + 4 * this.ring.length);
    const v = new DataView(out.buffer);
    v.setUint8(0, VERSION);
    v.setUint32(1, this.high);
    v.setUint32(5, Math.floor(this.highT / 0x1_0000_0000));
    v.setUint32(9, this.highT >>> 0);
    v.setUint16(13, this.bits);
    for (let b = 0; b < this.ring.length; b++) v.setUint32(HEADER + 4 * b, this.ring[b] as number);
    return out;
  }

  /** True before the first accepted reading. */
  get isEmpty(): boolean {
    return this.high < 0;
  }

  /** Highest accepted seq (undefined while empty). */
  get highest(): number | undefined {
    return this.high < 0 ? undefined : this.high;
  }

  /** Device time of the highest accepted reading (undefined while empty). */
  get highestT(): number | undefined {
    return this.high < 0 ? undefined : this.highT;
  }

  /** Lowest seq the window still tracks (0 while H < W). */
  get floor(): number {
    return Math.max(0, this.high - this.bits + 1);
  }

  private test(seq: number): boolean {
    const block = Math.floor(seq / 32) % this.ring.length;
    return (((this.ring[block] as number) >>> (seq % 32)) & 1) === 1;
  }

  /** What the window knows of `seq` (a u32). */
  check(seq: number): WindowAnswer {
    if (this.high < 0 || seq > this.high) return 'new';
    if (this.high - seq >= this.bits) return 'below';
    return this.test(seq) ? 'seen' : 'new';
  }

  /**
   * Marks `seq` (device time `t`) accepted. Only for a seq the window answers 'new' for; a
   * 'below' seq is outside it and the window does not change (the caller records it in the index).
   */
  accept(seq: number, t: number): void {
    if (!Number.isInteger(seq) || seq < 0 || seq > MAX_SEQ) throw new RangeError(`replay window: seq ${seq} is not a u32`);
    if (!Number.isInteger(t) || t < 0 || t > MAX_T) throw new RangeError(`replay window: t ${t} is not an integer 0..2^53-1`);
    const answer = this.check(seq);
    if (answer === 'seen') throw new RangeError(`replay window: seq ${seq} was accepted before`);
    if (answer === 'below') return;
    const blocks = this.ring.length;
    if (seq > this.high) {
      // Clear the blocks the window advances into (RFC 6479): at most all of them.
      const from = this.high < 0 ? -1 : Math.floor(this.high / 32);
      const to = Math.floor(seq / 32);
      const n = Math.min(to - from, blocks);
      for (let i = 1; i <= n; i++) this.ring[(((to - n + i) % blocks) + blocks) % blocks] = 0;
      if (this.high < 0) this.ring.fill(0);
      this.high = seq;
      this.highT = t;
    }
    const block = Math.floor(seq / 32) % blocks;
    this.ring[block] = ((this.ring[block] as number) | (1 << (seq % 32))) >>> 0;
  }

  /** An independent copy. */
  clone(): ReplayWindow {
    return new ReplayWindow(this.bits, this.ring.slice(), this.high, this.highT);
  }
}

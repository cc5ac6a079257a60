/**
 * Bounds-checked little readers and writers for frame payloads. Every failure is a RangeError
 * that names the message and field ("PARTIAL.epoch: truncated"), so a malformed frame explains
 * itself in logs. ES5-safe and small: the firmware bundles this file.
 */
import { asciiBytes, asciiString } from '../encoding/bytes.js';

const TWO_32 = 4294967296;

/** Sequential strict reader over one payload. */
export class PayloadReader {
  private off = 0;

  constructor(
    private readonly b: Uint8Array,
    private readonly msg: string,
  ) {}

  /** Throws a RangeError naming `field`. */
  fail(field: string, why: string): never {
    throw new RangeError(this.msg + '.' + field + ': ' + why);
  }

  private need(n: number, field: string): number {
    const at = this.off;
    if (at + n > this.b.length) this.fail(field, 'truncated (' + this.b.length + ' bytes)');
    this.off = at + n;
    return at;
  }

  /** Unsigned byte. */
  u8(field: string): number {
    return this.b[this.need(1, field)] as number;
  }

  /** Unsigned 16-bit big-endian. */
  u16(field: string): number {
    const o = this.need(2, field);
    return ((this.b[o] as number) << 8) | (this.b[o + 1] as number);
  }

  /** Unsigned 32-bit big-endian. */
  u32(field: string): number {
    const o = this.need(4, field);
    const b = this.b;
    return (b[o] as number) * 16777216 + (((b[o + 1] as number) << 16) | ((b[o + 2] as number) << 8) | (b[o + 3] as number));
  }

  /** Unsigned 64-bit big-endian as a Number; fails above 2^53 - 1. */
  u53(field: string): number {
    const hi = this.u32(field);
    const lo = this.u32(field);
    if (hi > 0x1fffff) this.fail(field, 'exceeds 2^53 - 1');
    return hi * TWO_32 + lo;
  }

  /** `n` bytes, copied. */
  bytes(n: number, field: string): Uint8Array {
    const o = this.need(n, field);
    return new Uint8Array(this.b.subarray(o, o + n));
  }

  /** u8 length, then that many printable ASCII bytes; length must be within min..max. */
  ascii(min: number, max: number, field: string): string {
    const n = this.u8(field);
    if (n < min || n > max) this.fail(field, 'length ' + n + ' outside ' + min + '..' + max);
    const o = this.need(n, field);
    for (let i = o; i < o + n; i++) {
      const c = this.b[i] as number;
      if (c < 0x20 || c > 0x7e) this.fail(field, 'non-printable byte at ' + (i - o));
    }
    return asciiString(this.b.subarray(o, o + n));
  }

  /** Fails unless every byte was consumed. */
  end(): void {
    if (this.off !== this.b.length) this.fail('length', (this.b.length - this.off) + ' trailing bytes');
  }
}

/** Sequential writer into a payload of known size. */
export class PayloadWriter {
  /** The payload being written. */
  readonly out: Uint8Array;
  private off = 0;

  constructor(
    size: number,
    private readonly msg: string,
  ) {
    this.out = new Uint8Array(size);
  }

  private check(v: number, max: number, field: string): void {
    if (typeof v !== 'number' || v !== Math.floor(v) || v < 0 || v > max) {
      throw new RangeError(this.msg + '.' + field + ': expected an integer 0..' + max + ', got ' + v);
    }
  }

  /** Unsigned byte. */
  u8(v: number, field: string): this {
    this.check(v, 255, field);
    this.out[this.off++] = v;
    return this;
  }

  /** Unsigned 16-bit big-endian. */
  u16(v: number, field: string): this {
    this.check(v, 0xffff, field);
    this.out[this.off++] = v >> 8;
    this.out[this.off++] = v & 255;
    return this;
  }

  /** Unsigned 32-bit big-endian. */
  u32(v: number, field: string): this {
    this.check(v, 0xffffffff, field);
    const o = this.off;
    this.out[o] = (v >>> 24) & 255;
    this.out[o + 1] = (v >>> 16) & 255;
    this.out[o + 2] = (v >>> 8) & 255;
    this.out[o + 3] = v & 255;
    this.off = o + 4;
    return this;
  }

  /** Unsigned integer below 2^53 as 64-bit big-endian. */
  u53(v: number, field: string): this {
    this.check(v, 9007199254740991, field);
    return this.u32(Math.floor(v / TWO_32), field).u32(v % TWO_32, field);
  }

  /** Exactly `n` bytes. */
  bytes(b: Uint8Array, n: number, field: string): this {
    if (!(b instanceof Uint8Array) || b.length !== n) throw new RangeError(this.msg + '.' + field + ': expected ' + n + ' bytes');
    this.out.set(b, this.off);
    this.off += n;
    return this;
  }

  /** u8 length, then the ASCII bytes; length must be within min..max. */
  ascii(s: string, min: number, max: number, field: string): this {
    if (typeof s !== 'string') throw new TypeError(this.msg + '.' + field + ': expected a string');
    const b = asciiBytes(s, this.msg + '.' + field);
    if (b.length < min || b.length > max) throw new RangeError(this.msg + '.' + field + ': length ' + b.length + ' outside ' + min + '..' + max);
    this.u8(b.length, field);
    this.out.set(b, this.off);
    this.off += b.length;
    return this;
  }
}

/** Bytes an ASCII field of string `s` takes (length byte included). */
export function asciiFieldLength(s: string): number {
  return 1 + (typeof s === 'string' ? s.length : 0);
}

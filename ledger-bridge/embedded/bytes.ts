/**
 * Length-prefixed big-endian byte writer and reader for the ledger's binary formats (block
 * headers, transaction envelopes). Pure: Uint8Array, DataView and TextEncoder only, so an
 * auditor's verifier can decode blocks without Node or the database.
 */

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

/** Appends fields to a growing buffer. */
export class ByteWriter {
  private buf: Uint8Array;
  private view: DataView;
  private pos = 0;

  constructor(initial = 256) {
    this.buf = new Uint8Array(initial);
    this.view = new DataView(this.buf.buffer);
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  u8(v: number): this {
    this.ensure(1);
    this.buf[this.pos++] = v & 0xff;
    return this;
  }

  u32(v: number): this {
    this.ensure(4);
    this.view.setUint32(this.pos, v >>> 0);
    this.pos += 4;
    return this;
  }

  /** An integer 0..2^53-1 as 8 bytes big-endian. */
  u64(v: number): this {
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`u64: ${v} is not a safe non-negative integer`);
    this.ensure(8);
    this.view.setUint32(this.pos, Math.floor(v / 0x1_0000_0000));
    this.view.setUint32(this.pos + 4, v >>> 0);
    this.pos += 8;
    return this;
  }

  /** Raw bytes without a length prefix (fixed-size fields such as hashes). */
  raw(b: Uint8Array): this {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
    return this;
  }

  /** u32 length then the bytes. */
  bytes(b: Uint8Array): this {
    this.u32(b.length);
    return this.raw(b);
  }

  /** u32 byte length then UTF-8. */
  str(s: string): this {
    // Room for ASCII first (the common case: keys, JSON args); encodeInto stops at the end of the
    // room without splitting a surrogate pair, and the rest gets its worst case (3 bytes per unit).
    // Reserving 3× up front made an 80 kB argument double the buffer twice.
    this.ensure(4 + s.length);
    const first = utf8.encodeInto(s, this.buf.subarray(this.pos + 4));
    let written = first.written;
    if (first.read < s.length) {
      const rest = s.substring(first.read);
      this.ensure(4 + written + rest.length * 3);
      written += utf8.encodeInto(rest, this.buf.subarray(this.pos + 4 + written)).written;
    }
    this.view.setUint32(this.pos, written);
    this.pos += 4 + written;
    return this;
  }

  /** Bytes written so far (the offset of the next field). */
  get length(): number {
    return this.pos;
  }

  /** The written bytes (a copy, so the writer can be reused). */
  finish(): Uint8Array {
    // An exactly sized buffer is handed out as is (no copy).
    return this.pos === this.buf.length ? this.buf : this.buf.slice(0, this.pos);
  }
}

/** Reads fields written by ByteWriter; throws RangeError on truncation. */
export class ByteReader {
  private pos = 0;
  private readonly view: DataView;

  constructor(private readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  private need(n: number): void {
    if (this.pos + n > this.buf.length) throw new RangeError(`truncated: need ${n} bytes at offset ${this.pos} of ${this.buf.length}`);
  }

  u8(): number {
    this.need(1);
    return this.buf[this.pos++] as number;
  }

  u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.pos);
    this.pos += 4;
    return v;
  }

  u64(): number {
    this.need(8);
    const v = this.view.getUint32(this.pos) * 0x1_0000_0000 + this.view.getUint32(this.pos + 4);
    this.pos += 8;
    if (!Number.isSafeInteger(v)) throw new RangeError(`u64 at offset ${this.pos - 8} exceeds 2^53`);
    return v;
  }

  raw(n: number): Uint8Array {
    this.need(n);
    const out = this.buf.slice(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  bytes(): Uint8Array {
    return this.raw(this.u32());
  }

  str(): string {
    return utf8Decoder.decode(this.raw(this.u32()));
  }

  /** Throws unless every byte was consumed (no trailing garbage). */
  end(): void {
    if (this.pos !== this.buf.length) throw new RangeError(`${this.buf.length - this.pos} trailing bytes`);
  }
}

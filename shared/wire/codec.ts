/**
 * A table-driven codec for frame payloads: each message is described by one layout string
 *
 *   "PARTIAL epoch:4 partialDigest:b32 edgeTimeMs:8 intervalMs:4 maxPerMinute:2"
 *
 * (message name, then `field:kind`), where kind is
 *   1, 2, 4   unsigned big-endian integer of that many bytes
 *   8         unsigned 64-bit big-endian integer below 2^53 (a JS number)
 *   bN        exactly N raw bytes (Uint8Array)
 *   aMIN-MAX  u8 length MIN..MAX, then that many printable ASCII bytes (0x20..0x7e)
 *
 * One small encoder and one strict decoder serve every message, which keeps the firmware
 * bundle small and the layouts in one readable place. Every failure is a RangeError naming
 * message and field: "PARTIAL.partialDigest: truncated".
 * ES5-safe: the firmware bundles this file.
 */

/** A payload as a plain object keyed by field name. */
export type Fields = { [field: string]: unknown };

function fail(msg: string, field: string, why: string): never {
  throw new RangeError(msg + '.' + field + ': ' + why);
}

/** Encodes `o` by `layout`; throws naming the first field out of range. */
export function encodeFields(layout: string, o: Fields): Uint8Array {
  const f = layout.split(' ');
  const msg = f[0] as string;
  let out: Uint8Array | null = null;
  // Pass 0 checks and sizes, pass 1 writes: no intermediate arrays on the board.
  for (let pass = 0; pass < 2; pass++) {
    let off = 0;
    for (let i = 1; i < f.length; i++) {
      const kv = (f[i] as string).split(':');
      const name = kv[0] as string;
      const kind = kv[1] as string;
      const v = o[name];
      const k0 = kind.charAt(0);
      if (k0 === 'a') {
        const r = kind.slice(1).split('-');
        if (typeof v !== 'string') fail(msg, name, 'not a string');
        if (v.length < +(r[0] as string) || v.length > +(r[1] as string)) fail(msg, name, 'length out of range');
        if (out) out[off] = v.length;
        for (let j = 0; j < v.length; j++) {
          const c = v.charCodeAt(j);
          if (c < 0x20 || c > 0x7e) fail(msg, name, 'non-printable');
          if (out) out[off + 1 + j] = c;
        }
        off += 1 + v.length;
      } else if (k0 === 'b') {
        const n = +kind.slice(1);
        if (!(v instanceof Uint8Array) || v.length !== n) fail(msg, name, 'wrong length');
        if (out) out.set(v, off);
        off += n;
      } else {
        const n = +kind;
        const max = n === 8 ? 9007199254740991 : Math.pow(2, 8 * n) - 1;
        if (typeof v !== 'number' || v !== Math.floor(v) || v < 0 || v > max) fail(msg, name, 'not an integer in range');
        let x = v;
        for (let j = n - 1; j >= 0; j--) {
          if (out) out[off + j] = x % 256;
          x = Math.floor(x / 256);
        }
        off += n;
      }
    }
    if (!out) out = new Uint8Array(off);
  }
  return out as Uint8Array;
}

/** Decodes `b` by `layout`, strictly: truncation, trailing bytes and bad values all throw. */
export function decodeFields(layout: string, b: Uint8Array): Fields {
  const f = layout.split(' ');
  const msg = f[0] as string;
  const o: Fields = {};
  let off = 0;
  for (let i = 1; i < f.length; i++) {
    const kv = (f[i] as string).split(':');
    const name = kv[0] as string;
    const kind = kv[1] as string;
    const k0 = kind.charAt(0);
    let n = k0 === 'a' ? 1 : k0 === 'b' ? +kind.slice(1) : +kind;
    if (off + n > b.length) fail(msg, name, 'truncated');
    if (k0 === 'a') {
      const r = kind.slice(1).split('-');
      n = b[off] as number;
      if (n < +(r[0] as string) || n > +(r[1] as string)) fail(msg, name, 'length out of range');
      off++;
      if (off + n > b.length) fail(msg, name, 'truncated');
      let s = '';
      for (let j = 0; j < n; j++) {
        const c = b[off + j] as number;
        if (c < 0x20 || c > 0x7e) fail(msg, name, 'non-printable');
        s += String.fromCharCode(c);
      }
      o[name] = s;
    } else if (k0 === 'b') {
      o[name] = new Uint8Array(b.subarray(off, off + n));
    } else {
      if (n === 8 && ((b[off] as number) !== 0 || (b[off + 1] as number) > 0x1f)) fail(msg, name, 'exceeds 2^53 - 1');
      let x = 0;
      for (let j = 0; j < n; j++) x = x * 256 + (b[off + j] as number);
      o[name] = x;
    }
    off += n;
  }
  if (off !== b.length) fail(msg, 'length', 'trailing bytes');
  return o;
}

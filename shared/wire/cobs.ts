/**
 * Consistent Overhead Byte Stuffing (Cheshire & Baker, 1999): removes every 0x00 from a block
 * so that 0x00 can delimit frames on the link. Overhead is one byte per 254 bytes plus one,
 * so an encoded frame of the wire protocol (≤ 260 raw bytes) is at most 262 bytes. ES5-safe.
 */

/** Largest encoded size of `n` raw bytes. */
export function cobsMaxEncodedLength(n: number): number {
  return n + Math.floor(n / 254) + 1;
}

/** COBS encoding of `src` (no trailing delimiter; the caller appends 0x00). */
export function cobsEncode(src: Uint8Array): Uint8Array {
  const out = new Uint8Array(cobsMaxEncodedLength(src.length));
  let codeAt = 0; // where the current block's code byte goes
  let o = 1;
  let code = 1;
  for (let i = 0; i < src.length; i++) {
    const b = src[i] as number;
    if (b === 0) {
      out[codeAt] = code;
      codeAt = o++;
      code = 1;
    } else {
      out[o++] = b;
      code++;
      if (code === 0xff) {
        out[codeAt] = code;
        codeAt = o++;
        code = 1;
      }
    }
  }
  out[codeAt] = code;
  return out.subarray(0, o);
}

/**
 * COBS decoding of one block (delimiter already removed). Returns null — never throws — when
 * the block is malformed: contains 0x00, or a code byte points past its end.
 */
export function cobsDecode(src: Uint8Array): Uint8Array | null {
  const out = new Uint8Array(src.length);
  let o = 0;
  let i = 0;
  while (i < src.length) {
    const code = src[i] as number;
    if (code === 0 || i + code > src.length) return null; // a zero, or a block running past the end
    i++;
    for (let k = 1; k < code; k++) {
      const b = src[i++] as number;
      if (b === 0) return null;
      out[o++] = b;
    }
    if (code < 0xff && i < src.length) out[o++] = 0;
  }
  return out.subarray(0, o);
}

/**
 * Hex encoding for Uint8Array. ES5-safe (the firmware bundle may include it).
 */

const DIGITS = '0123456789abcdef';

/** Lower-case hex of `bytes`. */
export function toHex(bytes: Uint8Array): string {
  if (!(bytes instanceof Uint8Array)) throw new TypeError('toHex: expected Uint8Array');
  let out = '';
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i] as number;
    out += DIGITS.charAt(b >> 4) + DIGITS.charAt(b & 15);
  }
  return out;
}

function nibble(code: number): number {
  if (code >= 48 && code <= 57) return code - 48; // 0-9
  if (code >= 97 && code <= 102) return code - 87; // a-f
  if (code >= 65 && code <= 70) return code - 55; // A-F
  return -1;
}

/** Bytes of a hex string (either case, even length, no prefix). */
export function fromHex(hex: string): Uint8Array {
  if (typeof hex !== 'string') throw new TypeError('fromHex: expected string');
  if (hex.length % 2 !== 0) throw new RangeError(`fromHex: odd length ${hex.length}`);
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) {
    const hi = nibble(hex.charCodeAt(2 * i));
    const lo = nibble(hex.charCodeAt(2 * i + 1));
    if (hi < 0 || lo < 0) throw new RangeError(`fromHex: invalid hex character at offset ${2 * i}`);
    out[i] = (hi << 4) | lo;
  }
  return out;
}

/**
 * Small byte helpers shared by every part. ES5-safe.
 */

/** Concatenates byte arrays. */
export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let len = 0;
  for (let i = 0; i < parts.length; i++) len += (parts[i] as Uint8Array).length;
  const out = new Uint8Array(len);
  let off = 0;
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i] as Uint8Array;
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/**
 * Compares two byte arrays in time independent of where they differ (tags, MACs).
 * Length is not secret.
 */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] as number) ^ (b[i] as number);
  return diff === 0;
}

/** ASCII bytes of a string of code points 0x20..0x7e; throws RangeError otherwise. */
export function asciiBytes(s: string, what: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) throw new RangeError(`${what}: non-printable or non-ASCII character at ${i}`);
    out[i] = c;
  }
  return out;
}

/** String of ASCII bytes (the inverse of asciiBytes). */
export function asciiString(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i] as number);
  return s;
}

/**
 * Short byte-range helpers for the batch hot path (a few dozen bytes per call, hundreds of calls
 * per batch): plain loops, which V8 compiles to less work than Buffer#compare / Buffer#copy spend
 * checking their arguments and crossing into C++ for 32 bytes.
 */

/** Do a[ai, ai+n) and b[bi, bi+n) hold the same bytes? */
export function sameBytes(a: Uint8Array, ai: number, b: Uint8Array, bi: number, n: number): boolean {
  for (let k = 0; k < n; k++) if (a[ai + k] !== b[bi + k]) return false;
  return true;
}

/** Copies src[at, at+n) to dst at `to`; returns n. Buffer#copy (memcpy) above 48 bytes. */
export function copyBytes(src: Uint8Array, at: number, dst: Uint8Array, to: number, n: number): number {
  if (n > 48) return (src as Buffer).copy(dst, to, at, at + n);
  for (let k = 0; k < n; k++) dst[to + k] = src[at + k] as number;
  return n;
}

/**
 * Writes a digest given as a latin1 string (node:crypto's hash() with 'binary' output: one
 * character per byte, no Buffer allocated) into dst at `to`.
 */
export function putDigest(digest: string, dst: Uint8Array, to: number): number {
  const n = digest.length;
  for (let k = 0; k < n; k++) dst[to + k] = digest.charCodeAt(k);
  return n;
}

/**
 * Copies src[at, at+n) to dst at `to` through DataViews (4 bytes a step, then the rest): no
 * allocation, unlike Buffer#copy of a range (a Uint8Array view per call), at about its speed for
 * the ~100-byte readings of a batch. Returns n.
 */
export function copyWords(src: DataView, at: number, dst: DataView, to: number, n: number): number {
  let k = 0;
  for (; k + 4 <= n; k += 4) dst.setInt32(to + k, src.getInt32(at + k));
  for (; k < n; k++) dst.setUint8(to + k, src.getUint8(at + k));
  return n;
}

/** Copies the 32 bytes src[at, at+32) (a digest, a tag) to dst at `to`: 8 words through DataViews. */
export function copy32(src: DataView, at: number, dst: DataView, to: number): void {
  dst.setInt32(to, src.getInt32(at));
  dst.setInt32(to + 4, src.getInt32(at + 4));
  dst.setInt32(to + 8, src.getInt32(at + 8));
  dst.setInt32(to + 12, src.getInt32(at + 12));
  dst.setInt32(to + 16, src.getInt32(at + 16));
  dst.setInt32(to + 20, src.getInt32(at + 20));
  dst.setInt32(to + 24, src.getInt32(at + 24));
  dst.setInt32(to + 28, src.getInt32(at + 28));
}

/** A DataView over exactly the bytes of `b`. */
export function viewOf(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

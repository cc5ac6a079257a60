/**
 * RFC 9162 (Certificate Transparency v2) Merkle tree hashing, audit paths and consistency
 * proofs, and their pure verifiers. Used twice: over a block's transaction hashes (the header's
 * dataHash) and over all block header hashes (the chain tree whose root each header commits
 * to), so inclusion and consistency proofs are logarithmic in the chain's length.
 *
 * Pure: SHA-256 from @noble/hashes, Uint8Array only; an auditor runs the verifiers offline.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { equalBytes } from '../../shared/encoding/bytes.js';

/** MTH({}) = SHA-256(""): the root of an empty tree. */
export const EMPTY_ROOT: Uint8Array = sha256(new Uint8Array(0));

/** Leaf hash: SHA-256(0x00 ‖ data). The prefix keeps leaves and inner nodes apart. */
export function leafHash(data: Uint8Array): Uint8Array {
  const b = new Uint8Array(1 + data.length);
  b.set(data, 1);
  return sha256(b);
}

/** Inner node hash: SHA-256(0x01 ‖ left ‖ right). */
export function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  const b = new Uint8Array(1 + left.length + right.length);
  b[0] = 1;
  b.set(left, 1);
  b.set(right, 1 + left.length);
  return sha256(b);
}

/** Largest power of two strictly smaller than n (n ≥ 2). */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/**
 * The hash of the subtree over leaves [start, end). Implementations may answer aligned
 * power-of-two ranges from storage; `subtreeFromLeaves` computes from leaf hashes in memory.
 */
export type SubtreeHash = (start: number, end: number) => Uint8Array;

/** A SubtreeHash over an in-memory array of leaf hashes (already leafHash-ed). */
export function subtreeFromLeaves(leaves: readonly Uint8Array[]): SubtreeHash {
  const rec = (start: number, end: number): Uint8Array => {
    const n = end - start;
    if (n === 0) return EMPTY_ROOT;
    if (n === 1) return leaves[start] as Uint8Array;
    const k = splitPoint(n);
    return nodeHash(rec(start, start + k), rec(start + k, end));
  };
  return rec;
}

/** The root over leaf hashes (RFC 9162 MTH). */
export function merkleRoot(leaves: readonly Uint8Array[]): Uint8Array {
  return subtreeFromLeaves(leaves)(0, leaves.length);
}

/** Audit path for leaf `index` in the tree of `size` leaves (RFC 9162 §2.1.3.1, PATH). */
export function inclusionPath(index: number, size: number, subtree: SubtreeHash): Uint8Array[] {
  if (!Number.isInteger(index) || !Number.isInteger(size) || index < 0 || index >= size) {
    throw new RangeError(`inclusionPath: leaf ${index} is outside a tree of ${size}`);
  }
  const path: Uint8Array[] = [];
  const rec = (m: number, start: number, end: number): void => {
    const n = end - start;
    if (n === 1) return;
    const k = splitPoint(n);
    if (m < k) {
      rec(m, start, start + k);
      path.push(subtree(start + k, end));
    } else {
      rec(m - k, start + k, end);
      path.push(subtree(start, start + k));
    }
  };
  rec(index, 0, size);
  return path;
}

/** Consistency proof from a tree of `first` leaves to one of `second` (RFC 9162 §2.1.4.1). */
export function consistencyPath(first: number, second: number, subtree: SubtreeHash): Uint8Array[] {
  if (!Number.isInteger(first) || !Number.isInteger(second) || first < 0 || first > second) {
    throw new RangeError(`consistencyPath: sizes ${first} → ${second} are not a prefix relation`);
  }
  if (first === 0 || first === second) return [];
  const proof: Uint8Array[] = [];
  const rec = (m: number, start: number, end: number, whole: boolean): void => {
    const n = end - start;
    if (m === n) {
      if (!whole) proof.push(subtree(start, end));
      return;
    }
    const k = splitPoint(n);
    if (m <= k) {
      rec(m, start, start + k, whole);
      proof.push(subtree(start + k, end));
    } else {
      rec(m - k, start + k, end, false);
      proof.push(subtree(start, start + k));
    }
  };
  rec(first, 0, second, true);
  return proof;
}

/** Checks an audit path: leaf hash at `index` of a `size`-leaf tree with `root` (RFC 9162 §2.1.3.2). */
export function verifyInclusionPath(leaf: Uint8Array, index: number, size: number, path: readonly Uint8Array[], root: Uint8Array): boolean {
  if (!Number.isInteger(index) || !Number.isInteger(size) || index < 0 || index >= size) return false;
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of path) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && equalBytes(r, root);
}

/** Checks that the tree (`second`, secondRoot) extends (`first`, firstRoot) (RFC 9162 §2.1.4.2). */
export function verifyConsistencyPath(
  first: number,
  second: number,
  firstRoot: Uint8Array,
  secondRoot: Uint8Array,
  proof: readonly Uint8Array[],
): boolean {
  if (!Number.isInteger(first) || !Number.isInteger(second) || first < 0 || first > second) return false;
  if (first === 0) return proof.length === 0 && equalBytes(firstRoot, EMPTY_ROOT);
  if (first === second) return proof.length === 0 && equalBytes(firstRoot, secondRoot);
  if (proof.length === 0) return false;
  const path = isPowerOfTwo(first) ? [firstRoot, ...proof] : [...proof];
  let fn = first - 1;
  let sn = second - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  let fr = path[0] as Uint8Array;
  let sr = path[0] as Uint8Array;
  for (let i = 1; i < path.length; i++) {
    const c = path[i] as Uint8Array;
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && equalBytes(fr, firstRoot) && equalBytes(sr, secondRoot);
}

function isPowerOfTwo(n: number): boolean {
  return n > 0 && (n & (n - 1)) === 0;
}

/**
 * The Merkle accumulator a board folds its readings into, one epoch segment at a time
 * (docs/crypto.md, "Epoch signatures"). ES5-safe: the firmware bundles the fold and the root.
 *
 * Tree: the shape of RFC 9162 §2.1.1 (a tree of n leaves splits at the largest power of two
 * below n), with
 *
 *   leaf  = SHA-256(canonical reading)            = the reading's dataHash
 *   node  = SHA-256("pv2:n" ‖ left ‖ right)
 *
 * A leaf's domain is the canonical reading's own first byte, its layout version (1 or 2;
 * shared/encoding/reading.ts), which no node input starts with ("p"): no node is ever a leaf and
 * no leaf a node. Keeping leaf = dataHash means the ledger, the edge's outbox and the provenance
 * database already hold every leaf: nobody re-hashes readings to build paths.
 *
 * The board keeps only the frontier: for every set bit b of the leaf count, the root of the
 * perfect subtree of 2^b leaves that bit stands for (at most log2(n) + 1 nodes). Adding a leaf
 * merges as many nodes as the count has trailing ones, so n leaves cost n leaf hashes and n - 1
 * node hashes including the final fold: under two SHA-256 runs per reading.
 */
import type { Sha256 } from '../types.js';

/** Domain label of an interior node. */
export const NODE_LABEL = 'pv2:n';

/** A frontier: `nodes[b]` is set exactly when bit b of `count` (below 2^32) is. */
export interface Frontier {
  count: number;
  nodes: (Uint8Array | undefined)[];
}

/** node = SHA-256("pv2:n" ‖ left ‖ right). */
export function merkleNode(sha256: Sha256, left: Uint8Array, right: Uint8Array): Uint8Array {
  const b = new Uint8Array(69);
  for (let i = 0; i < 5; i++) b[i] = NODE_LABEL.charCodeAt(i);
  b.set(left, 5);
  b.set(right, 37);
  return sha256(b);
}

/** An empty frontier. */
export function emptyFrontier(): Frontier {
  return { count: 0, nodes: [] };
}

/** Folds one leaf (a 32-byte dataHash) into `f`. */
export function frontierAdd(sha256: Sha256, f: Frontier, leaf: Uint8Array): void {
  let node = leaf;
  let b = 0;
  while ((f.count >>> b) & 1) {
    node = merkleNode(sha256, f.nodes[b] as Uint8Array, node);
    f.nodes[b] = undefined;
    b++;
  }
  f.nodes[b] = node;
  f.count++;
}

/** The root of everything added so far (RFC 9162 MTH of the leaves); undefined when empty. */
export function frontierRoot(sha256: Sha256, f: Frontier): Uint8Array | undefined {
  let acc: Uint8Array | undefined;
  for (let b = 0; b < f.nodes.length; b++) {
    const n = f.nodes[b];
    if (n) acc = acc ? merkleNode(sha256, n, acc) : n;
  }
  return acc;
}

/** The root of `leaves` (undefined for none). */
export function merkleRoot(sha256: Sha256, leaves: readonly Uint8Array[]): Uint8Array | undefined {
  const f = emptyFrontier();
  for (let i = 0; i < leaves.length; i++) frontierAdd(sha256, f, leaves[i] as Uint8Array);
  return frontierRoot(sha256, f);
}

function largestPowerOfTwoBelow(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/**
 * The inclusion path of leaf `index` (RFC 9162 §2.1.3.1 PATH): sibling subtree roots from the
 * leaf up. RangeError for an index outside the leaves.
 */
export function inclusionPath(sha256: Sha256, leaves: readonly Uint8Array[], index: number): Uint8Array[] {
  if (!(index >= 0 && index < leaves.length && index === Math.floor(index))) {
    throw new RangeError('inclusionPath: index ' + index + ' outside 0..' + (leaves.length - 1));
  }
  const path: Uint8Array[] = [];
  let lo = 0;
  let hi = leaves.length;
  let m = index;
  // Walk down from the root, collecting the sibling of each step; reversed at the end.
  while (hi - lo > 1) {
    const k = largestPowerOfTwoBelow(hi - lo);
    if (m < k) {
      path.push(merkleRoot(sha256, leaves.slice(lo + k, hi)) as Uint8Array);
      hi = lo + k;
    } else {
      path.push(merkleRoot(sha256, leaves.slice(lo, lo + k)) as Uint8Array);
      lo += k;
      m -= k;
    }
  }
  return path.reverse();
}

/**
 * The root that `path` leads to from `leaf` at `index` in a tree of `size` leaves (RFC 9162
 * §2.1.3.2), or undefined when the path cannot belong to such a tree (wrong length).
 */
export function rootFromPath(
  sha256: Sha256,
  leaf: Uint8Array,
  index: number,
  size: number,
  path: readonly Uint8Array[],
): Uint8Array | undefined {
  if (!(index >= 0 && index < size)) return undefined;
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (let i = 0; i < path.length; i++) {
    const p = path[i] as Uint8Array;
    if (sn === 0) return undefined;
    if (fn % 2 === 1 || fn === sn) {
      r = merkleNode(sha256, p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = merkleNode(sha256, r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 ? r : undefined;
}

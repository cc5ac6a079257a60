/**
 * The board's Merkle accumulator (shared/crypto/accumulator.ts): the frontier's root is the RFC
 * 9162 tree hash of the leaves (checked against a direct recursive definition), a frontier never
 * holds more than log2(n) + 1 nodes, n leaves cost 2n - 1 SHA-256 runs, and every inclusion
 * path leads to the root while no path leads there from another leaf or index.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { sha256 } from '../../shared/crypto/sha256.js';
import {
  emptyFrontier,
  frontierAdd,
  frontierRoot,
  inclusionPath,
  merkleNode,
  merkleRoot,
  NODE_LABEL,
  rootFromPath,
} from '../../shared/crypto/accumulator.js';
import { toHex } from '../../shared/encoding/hex.js';
import type { Sha256 } from '../../shared/types.js';

/** RFC 9162 §2.1.1 MTH, written straight from its definition (with our node and leaf rules). */
function mth(leaves: Uint8Array[]): Uint8Array {
  if (leaves.length === 1) return leaves[0]!;
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return merkleNode(sha256, mth(leaves.slice(0, k)), mth(leaves.slice(k)));
}

const leavesOf = (n: number, salt = 0): Uint8Array[] =>
  Array.from({ length: n }, (_, i) => sha256(new Uint8Array([2, salt, i & 255, i >> 8])));

describe('Merkle accumulator', () => {
  it('node = SHA-256("pv2:n" ‖ left ‖ right)', () => {
    const l = new Uint8Array(32).fill(1);
    const r = new Uint8Array(32).fill(2);
    expect(toHex(merkleNode(sha256, l, r))).toBe(toHex(sha256(new Uint8Array([...Buffer.from(NODE_LABEL), ...l, ...r]))));
  });

  it('the frontier root equals the tree hash for every size up to 70, with at most log2(n)+1 nodes held', () => {
    for (let n = 1; n <= 70; n++) {
      const leaves = leavesOf(n);
      const f = emptyFrontier();
      for (const l of leaves) {
        frontierAdd(sha256, f, l);
        expect(f.nodes.filter(Boolean).length).toBeLessThanOrEqual(Math.floor(Math.log2(f.count)) + 1);
      }
      expect(toHex(frontierRoot(sha256, f)!)).toBe(toHex(mth(leaves)));
    }
    expect(frontierRoot(sha256, emptyFrontier())).toBeUndefined();
  });

  it('n leaves cost n - 1 node hashes in all (the leaves themselves are the readings’ dataHashes)', () => {
    for (const n of [1, 2, 3, 31, 32, 33, 1000]) {
      let calls = 0;
      const counting: Sha256 = (d) => {
        calls++;
        return sha256(d);
      };
      const f = emptyFrontier();
      for (const l of leavesOf(n)) frontierAdd(counting, f, l);
      frontierRoot(counting, f);
      expect(calls).toBe(n - 1);
    }
  });

  it('every inclusion path leads to the root; another leaf, index or a changed path node does not (the size is the signed count)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 300 }), fc.nat(), (n, pick) => {
        const leaves = leavesOf(n, 7);
        const root = toHex(merkleRoot(sha256, leaves)!);
        const i = pick % n;
        const path = inclusionPath(sha256, leaves, i);
        expect(toHex(rootFromPath(sha256, leaves[i]!, i, n, path)!)).toBe(root);
        const other = sha256(new Uint8Array([9, 9]));
        expect(toHex(rootFromPath(sha256, other, i, n, path) ?? new Uint8Array(0))).not.toBe(root);
        if (n > 1) {
          const j = (i + 1) % n;
          expect(toHex(rootFromPath(sha256, leaves[i]!, j, n, path) ?? new Uint8Array(0))).not.toBe(root);
          const bad = path.map((p) => p.slice());
          bad[0]![0] = bad[0]![0]! ^ 1;
          expect(toHex(rootFromPath(sha256, leaves[i]!, i, n, bad) ?? new Uint8Array(0))).not.toBe(root);
          expect(rootFromPath(sha256, leaves[i]!, i, n, path.slice(1))).toBeUndefined();
        }
      }),
      { numRuns: 150 },
    );
  });

  it('refuses indexes outside the leaves', () => {
    expect(() => inclusionPath(sha256, leavesOf(3), 3)).toThrow(RangeError);
    expect(() => inclusionPath(sha256, leavesOf(3), -1)).toThrow(RangeError);
    expect(rootFromPath(sha256, leavesOf(1)[0]!, 1, 1, [])).toBeUndefined();
  });
});

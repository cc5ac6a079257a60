import fc from 'fast-check';
import { sha256 } from '@noble/hashes/sha2.js';
import { describe, expect, it } from 'vitest';
import {
  EMPTY_ROOT,
  consistencyPath,
  inclusionPath,
  leafHash,
  merkleRoot,
  nodeHash,
  subtreeFromLeaves,
  verifyConsistencyPath,
  verifyInclusionPath,
} from '../../ledger-bridge/embedded/merkle.js';

const leaves = (n: number, salt = 0): Uint8Array[] =>
  Array.from({ length: n }, (_, i) => leafHash(new TextEncoder().encode(`leaf-${salt}-${i}`)));
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('RFC 9162 Merkle tree', () => {
  it('hashes like the RFC: empty, one leaf, prefixes 0x00 / 0x01, split at the largest power of two', () => {
    expect(hex(EMPTY_ROOT)).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    const d = new TextEncoder().encode('x');
    expect(hex(leafHash(d))).toBe(hex(sha256(new Uint8Array([0, ...d]))));
    const l = leaves(3);
    // MTH(D[3]) = H(0x01 ‖ H(0x01 ‖ l0 ‖ l1) ‖ l2)
    expect(hex(merkleRoot(l))).toBe(hex(nodeHash(nodeHash(l[0] as Uint8Array, l[1] as Uint8Array), l[2] as Uint8Array)));
    expect(hex(merkleRoot([]))).toBe(hex(EMPTY_ROOT));
  });

  it('every audit path verifies for every leaf of trees up to 40 leaves, and fails for a wrong leaf or index', () => {
    for (let n = 1; n <= 40; n++) {
      const l = leaves(n);
      const root = merkleRoot(l);
      const sub = subtreeFromLeaves(l);
      for (let i = 0; i < n; i++) {
        const path = inclusionPath(i, n, sub);
        expect(path.length).toBeLessThanOrEqual(Math.ceil(Math.log2(n)));
        expect(verifyInclusionPath(l[i] as Uint8Array, i, n, path, root)).toBe(true);
        expect(verifyInclusionPath(leafHash(new Uint8Array([9])), i, n, path, root)).toBe(false);
        if (n > 1) expect(verifyInclusionPath(l[i] as Uint8Array, (i + 1) % n, n, path, root)).toBe(false);
      }
    }
  });

  it('every consistency proof m → n verifies up to 40 leaves, and fails against a rewritten history', () => {
    for (let n = 1; n <= 40; n++) {
      const l = leaves(n);
      const sub = subtreeFromLeaves(l);
      const root = merkleRoot(l);
      for (let m = 1; m <= n; m++) {
        const proof = consistencyPath(m, n, sub);
        const oldRoot = merkleRoot(l.slice(0, m));
        expect(verifyConsistencyPath(m, n, oldRoot, root, proof)).toBe(true);
        if (m < n) {
          const forged = [...l];
          forged[m - 1] = leafHash(new Uint8Array([1, 2, 3]));
          expect(verifyConsistencyPath(m, n, merkleRoot(forged.slice(0, m)), root, proof)).toBe(false);
        }
      }
    }
  });

  it('rejects proofs of the wrong size or with flipped bits (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 300 }), fc.nat(), fc.nat(), (n, a, b) => {
        const l = leaves(n, 1);
        const sub = subtreeFromLeaves(l);
        const root = merkleRoot(l);
        const i = a % n;
        const path = inclusionPath(i, n, sub);
        if (path.length === 0) return;
        const j = b % path.length;
        const bad = path.map((p, k) => (k === j ? Uint8Array.from(p, (x, t) => (t === 0 ? x ^ 1 : x)) : p));
        expect(verifyInclusionPath(l[i] as Uint8Array, i, n, bad, root)).toBe(false);
        expect(verifyInclusionPath(l[i] as Uint8Array, i, n, path.slice(1), root)).toBe(false);
        const m = 1 + (b % (n - 1));
        const cp = consistencyPath(m, n, sub);
        expect(verifyConsistencyPath(m, n, merkleRoot(l.slice(0, m)), root, cp.slice(0, -1))).toBe(false);
      }),
      { numRuns: 60 },
    );
  });

  it('refuses out-of-range requests', () => {
    expect(() => inclusionPath(3, 3, subtreeFromLeaves(leaves(3)))).toThrow(RangeError);
    expect(() => consistencyPath(4, 3, subtreeFromLeaves(leaves(3)))).toThrow(RangeError);
    expect(verifyConsistencyPath(0, 5, EMPTY_ROOT, merkleRoot(leaves(5)), [])).toBe(true);
    expect(verifyConsistencyPath(0, 5, merkleRoot(leaves(1)), merkleRoot(leaves(5)), [])).toBe(false);
  });
});

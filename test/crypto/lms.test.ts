/**
 * LMS / LM-OTS (shared/crypto/lms.ts) against the published vectors (shared/crypto/vectors/lms,
 * README there says where each came from): RFC 8554 Appendix F test cases 1 and 2 (HSS, two
 * levels: H5/W8 over H5/W8, and H10/W4 over H5/W8, all SHA-256/256) and RFC 9858 Appendix A test
 * case 1 (LMS_SHA256_M24_H5 with LMOTS_SHA256_N24_W8, the SHA-256/192 sets of SP 800-208).
 * Verification as published; key generation and signing reproduce the published bytes from the
 * published private keys; parameter tables; round trips over the parameter set the boards use;
 * and the rejections (flipped bits anywhere, wrong key, wrong lengths and types).
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { sha256 } from '../../shared/crypto/sha256.js';
import {
  getU32,
  hssVerify,
  lmotsCandidate,
  lmotsParams,
  lmotsPublicKey,
  lmsAuthPath,
  lmsInterior,
  lmsLeafFromKey,
  lmsParams,
  lmsPublicKey,
  lmsSign,
  lmsSignatureLength,
  lmsTree,
  lmsVerify,
  LMOTS_SHA256_N24_W4,
  LMS_SHA256_M24_H5,
} from '../../shared/crypto/lms.js';
import { fromHex, toHex } from '../../shared/encoding/hex.js';

const here = dirname(fileURLToPath(import.meta.url));
interface PrivateVector {
  lmsType: number;
  otsType: number;
  I: string;
  seed: string;
  q: number;
  publicKey: string;
  message: string;
  signature: string;
}
const V = JSON.parse(readFileSync(join(here, '../../shared/crypto/vectors/lms/vectors.json'), 'utf8')) as {
  'rfc8554-test-case-1': { publicKey: string; message: string; signature: string };
  'rfc8554-test-case-2': { publicKey: string; message: string; signature: string; privateKeys: (PrivateVector & { level: number })[] };
  'rfc9858-test-case-1': PrivateVector;
};
const hss = [V['rfc8554-test-case-1'], V['rfc8554-test-case-2']];
const signers: [string, PrivateVector][] = [
  ['RFC 8554 TC2 top (H10, N32 W4)', V['rfc8554-test-case-2'].privateKeys[0]!],
  ['RFC 8554 TC2 level 1 (H5, N32 W8)', V['rfc8554-test-case-2'].privateKeys[1]!],
  ['RFC 9858 TC1 (M24 H5, N24 W8)', V['rfc9858-test-case-1']],
];

describe('LMS parameter sets', () => {
  it('p and ls are those of RFC 8554 Table 1 and SP 800-208 Table 1', () => {
    const table: [number, number, number, number, number][] = [
      // type, n, w, p, ls
      [1, 32, 1, 265, 7],
      [2, 32, 2, 133, 6],
      [3, 32, 4, 67, 4],
      [4, 32, 8, 34, 0],
      [5, 24, 1, 200, 8],
      [6, 24, 2, 101, 6],
      [7, 24, 4, 51, 4],
      [8, 24, 8, 26, 0],
    ];
    for (const [type, n, w, p, ls] of table) expect(lmotsParams(type)).toEqual({ type, n, w, p, ls });
    expect([5, 6, 7, 8, 9].map((t) => lmsParams(t))).toEqual([5, 10, 15, 20, 25].map((h, i) => ({ type: 5 + i, m: 32, h })));
    expect([10, 11, 12, 13, 14].map((t) => lmsParams(t))).toEqual([5, 10, 15, 20, 25].map((h, i) => ({ type: 10 + i, m: 24, h })));
    // The boards' set: 1,380-byte signatures (RFC 8554 §5.4: 4 + 4 + n(p+1) + 4 + h m).
    expect(lmsSignatureLength(lmsParams(LMS_SHA256_M24_H5), lmotsParams(LMOTS_SHA256_N24_W4))).toBe(1380);
  });

  it('refuses type codes it does not implement (SHAKE sets, reserved values)', () => {
    for (const t of [0, 9, 0x10, -1, 1.5]) expect(() => lmotsParams(t)).toThrow(RangeError);
    for (const t of [4, 15, 0x14, 0]) expect(() => lmsParams(t)).toThrow(RangeError);
  });
});

describe('RFC 8554 Appendix F (HSS, as published)', () => {
  it('test cases 1 and 2 verify', () => {
    for (const v of hss) expect(hssVerify(sha256, fromHex(v.publicKey), fromHex(v.message), fromHex(v.signature))).toBe(true);
  });

  it('a flipped bit in the message, the signature (C, a chain, a path node, the inner key) or the key is rejected', () => {
    const v = hss[0]!;
    const pk = fromHex(v.publicKey);
    const msg = fromHex(v.message);
    const sig = fromHex(v.signature);
    const flip = (b: Uint8Array, i: number): Uint8Array => {
      const c = b.slice();
      c[i] = (c[i] as number) ^ 1;
      return c;
    };
    expect(hssVerify(sha256, pk, flip(msg, 0), sig)).toBe(false);
    for (const i of [12, 600, 1290, 1300, 1340, sig.length - 1]) expect(hssVerify(sha256, pk, msg, flip(sig, i))).toBe(false);
    for (const i of [10, pk.length - 1]) expect(hssVerify(sha256, flip(pk, i), msg, sig)).toBe(false);
    // Test case 1's signature under test case 2's key, and truncations.
    expect(hssVerify(sha256, fromHex(hss[1]!.publicKey), msg, sig)).toBe(false);
    expect(hssVerify(sha256, pk, msg, sig.subarray(0, sig.length - 1))).toBe(false);
    expect(hssVerify(sha256, pk, msg, new Uint8Array(0))).toBe(false);
  });
});

describe.each(signers)('%s', (_name, v) => {
  const lms = lmsParams(v.lmsType);
  const ots = lmotsParams(v.otsType);
  const I = fromHex(v.I);
  const seed = fromHex(v.seed);
  const sig = fromHex(v.signature);
  const msg = fromHex(v.message);
  const C = sig.subarray(8, 8 + ots.n);
  const pathInSig = sig.subarray(sig.length - lms.h * lms.m);

  it('the published signature verifies, and no other leaf or message does', () => {
    expect(lmsVerify(sha256, fromHex(v.publicKey), msg, sig)).toBe(true);
    const other = sig.slice();
    other[3] = (other[3] as number) ^ 1; // q ± 1
    expect(lmsVerify(sha256, fromHex(v.publicKey), msg, other)).toBe(false);
    expect(lmsVerify(sha256, fromHex(v.publicKey), msg.subarray(1), sig)).toBe(false);
  });

  it('key generation from SEED and I (Appendix A) gives the leaf the published path leads to the root from', () => {
    // One leaf's key generation, then up the published path: the root must be the published one.
    const K = lmotsPublicKey(sha256, ots, I, v.q, seed) as Uint8Array;
    expect(toHex(K)).toBe(toHex(lmotsCandidate(sha256, ots, I, v.q, sig.subarray(4, 8 + ots.n * (ots.p + 1)), msg)!));
    let node = lmsLeafFromKey(sha256, lms, I, v.q, K);
    let r = (1 << lms.h) + v.q;
    for (let i = 0; i < lms.h; i++) {
      const s = pathInSig.subarray(i * lms.m, (i + 1) * lms.m);
      node = r & 1 ? lmsInterior(sha256, lms, I, r >> 1, s, node) : lmsInterior(sha256, lms, I, r >> 1, node, s);
      r >>= 1;
    }
    expect(toHex(lmsPublicKey(lms, ots, I, node))).toBe(v.publicKey);
  });

  it('signing with the published C reproduces the published signature byte for byte', () => {
    expect(toHex(lmsSign(sha256, lms, ots, I, seed, v.q, msg, pathInSig, C))).toBe(v.signature);
    // Into a buffer after a header (the board's way: its SIG body) it is the same bytes.
    const out = new Uint8Array(7 + sig.length).fill(0xaa);
    lmsSign(sha256, lms, ots, I, seed, v.q, msg, pathInSig, C, out, 7);
    expect(toHex(out.subarray(7))).toBe(v.signature);
    expect([...out.subarray(0, 7)]).toEqual(Array(7).fill(0xaa));
  });

  // The whole tree for the H5 ones (~0.3 M hashes; H10's 1.1 M are left to the leaf check above).
  if (lms.h === 5)
    it('the whole tree regenerates to the published root, and its authentication path is the published one', () => {
      const tree = lmsTree(sha256, lms, ots, I, seed);
      expect(toHex(lmsPublicKey(lms, ots, I, tree.subarray(0, lms.m)))).toBe(v.publicKey);
      expect(toHex(lmsAuthPath(tree, lms, v.q))).toBe(toHex(pathInSig));
    });
});

describe('the boards’ parameter set (LMS_SHA256_M24_H5, LMOTS_SHA256_N24_W4)', () => {
  const lms = lmsParams(LMS_SHA256_M24_H5);
  const ots = lmotsParams(LMOTS_SHA256_N24_W4);
  const I = new Uint8Array(16).map((_, i) => i + 1);
  const seed = new Uint8Array(24).map((_, i) => 200 - i);
  const tree = lmsTree(sha256, lms, ots, I, seed);
  const pub = lmsPublicKey(lms, ots, I, tree.subarray(0, lms.m));

  it('every leaf signs and verifies; a signature verifies for its own message only', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 31 }), fc.uint8Array({ minLength: 0, maxLength: 80 }), (q, msg) => {
        const s = lmsSign(sha256, lms, ots, I, seed, q, msg, lmsAuthPath(tree, lms, q));
        expect(s.length).toBe(1380);
        expect(getU32(s, 0)).toBe(q);
        expect(lmsVerify(sha256, pub, msg, s)).toBe(true);
        const other = new Uint8Array([...msg, 0]);
        expect(lmsVerify(sha256, pub, other, s)).toBe(false);
      }),
      { numRuns: 12 },
    );
  });

  it('malformed signatures and keys are invalid, never an exception', () => {
    const s = lmsSign(sha256, lms, ots, I, seed, 7, new Uint8Array([1, 2, 3]), lmsAuthPath(tree, lms, 7));
    const msg = new Uint8Array([1, 2, 3]);
    const withQ = (q: number): Uint8Array => {
      const c = s.slice();
      c[0] = q >>> 24;
      c[1] = (q >>> 16) & 255;
      c[2] = (q >>> 8) & 255;
      c[3] = q & 255;
      return c;
    };
    expect(lmsVerify(sha256, pub, msg, withQ(32))).toBe(false); // outside the tree
    expect(lmsVerify(sha256, pub, msg, withQ(0xffffffff))).toBe(false);
    const badOts = s.slice();
    badOts[7] = 8; // LM-OTS type of another parameter set
    expect(lmsVerify(sha256, pub, msg, badOts)).toBe(false);
    expect(lmsVerify(sha256, pub, msg, s.subarray(0, 1379))).toBe(false);
    expect(lmsVerify(sha256, pub, msg, new Uint8Array([...s, 0]))).toBe(false);
    expect(lmsVerify(sha256, pub.subarray(0, 47), msg, s)).toBe(false);
    expect(lmsVerify(sha256, new Uint8Array(48), msg, s)).toBe(false);
  });
});

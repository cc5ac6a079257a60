/**
 * Bad input to BBS: wrong types (TypeError), malformed keys, lengths and indexes given to the
 * producing operations (RangeError, with a message naming the problem and never the secret),
 * and malformed or off-curve / off-subgroup / identity points, out-of-range scalars and bad
 * indexes given to the verifying operations (false, never an exception, never true).
 */
import fc from 'fast-check';
import { createRequire } from 'node:module';
import { beforeAll, describe, expect, it } from 'vitest';
import * as bbs from '../../shared/crypto/bbs.js';
import { S } from '../../shared/crypto/bbs-primitives.js';

const te = new TextEncoder();
const R_HEX = '73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001';
const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const bytes = (n: number, fill = 0): Uint8Array => new Uint8Array(n).fill(fill);

describe('bbs before ready()', () => {
  const mclModules = () => Object.keys(createRequire(import.meta.url).cache).filter((k) => k.includes('mcl-wasm'));

  it('refuses to work and says why', () => {
    expect(() => bbs.skToPk(bytes(32, 1))).toThrow(/ready\(\)/);
  });

  it('importing bbs.ts does not load mcl-wasm; ready() does, once', async () => {
    expect(mclModules()).toEqual([]);
    await Promise.all([bbs.ready(), bbs.ready()]);
    expect(mclModules().length).toBeGreaterThan(0);
  });
});

/** Compressed encodings found by search: on the curve but outside the subgroup, and off the curve. */
function badG1(): { offSubgroup: Uint8Array; offCurve: Uint8Array } {
  const { mcl } = S();
  const four = new mcl.Fp();
  four.setInt(4);
  let offSubgroup: Uint8Array | undefined;
  let offCurve: Uint8Array | undefined;
  for (let i = 1; (offSubgroup === undefined || offCurve === undefined) && i < 200; i++) {
    const x = new mcl.Fp();
    x.setInt(i);
    const [square] = mcl.squareRoot(mcl.add(mcl.mul(mcl.mul(x, x), x), four));
    const enc = x.serialize();
    enc[0] = (enc[0] as number) | 0x80;
    if (square) offSubgroup ??= enc;
    else offCurve ??= enc;
  }
  if (offSubgroup === undefined || offCurve === undefined) throw new Error('no test points found');
  return { offSubgroup, offCurve };
}

function badG2(): { offSubgroup: Uint8Array; offCurve: Uint8Array } {
  const { mcl } = S();
  let offSubgroup: Uint8Array | undefined;
  let offCurve: Uint8Array | undefined;
  mcl.verifyOrderG2(false);
  try {
    for (let i = 1; (offSubgroup === undefined || offCurve === undefined) && i < 200; i++) {
      const x1 = new mcl.Fp();
      x1.setInt(i);
      const enc = new Uint8Array(96);
      enc.set(x1.serialize(), 0); // c1 first in the compressed G2 encoding
      enc[0] = (enc[0] as number) | 0x80;
      const p = new mcl.G2();
      try {
        p.deserialize(enc);
        if (!p.isValidOrder()) offSubgroup ??= enc;
      } catch {
        offCurve ??= enc;
      }
    }
  } finally {
    mcl.verifyOrderG2(true);
  }
  if (offSubgroup === undefined || offCurve === undefined) throw new Error('no test points found');
  return { offSubgroup, offCurve };
}

describe('bbs rejects bad input', () => {
  let sk: Uint8Array;
  let pk: Uint8Array;
  const header = te.encode('header');
  const ph = te.encode('presentation');
  const messages = ['deviceId=dev-1', 'site=lab', 'type=temp', 'owner=acme'].map((s) => te.encode(s));
  let sig: Uint8Array;
  let proof: Uint8Array; // discloses [0, 2]
  const idx = [0, 2];
  const disclosed = [messages[0] as Uint8Array, messages[2] as Uint8Array];
  let g1: ReturnType<typeof badG1>;
  let g2: ReturnType<typeof badG2>;
  const identityG1 = (() => {
    const b = bytes(48);
    b[0] = 0xc0;
    return b;
  })();
  const identityG2 = (() => {
    const b = bytes(96);
    b[0] = 0xc0;
    return b;
  })();

  beforeAll(async () => {
    await bbs.ready();
    sk = bbs.keyGen(te.encode('a test key of at least thirty-two bytes'));
    pk = bbs.skToPk(sk);
    sig = bbs.sign(sk, pk, header, messages);
    proof = bbs.proofGen(pk, sig, header, ph, messages, idx);
    g1 = badG1();
    g2 = badG2();
  });

  it('the good inputs are good (so the rejections below are about the damage)', () => {
    expect(bbs.verify(pk, sig, header, messages)).toBe(true);
    expect(bbs.proofVerify(pk, proof, header, ph, disclosed, idx)).toBe(true);
  });

  it('wrong types are TypeErrors', () => {
    const any = (v: unknown) => v as Uint8Array;
    expect(() => bbs.keyGen(any('key material that is long enough....'))).toThrow(TypeError);
    expect(() => bbs.skToPk(any([1, 2, 3]))).toThrow(TypeError);
    expect(() => bbs.sign(sk, pk, any('h'), messages)).toThrow(/header must be a Uint8Array/);
    expect(() => bbs.sign(sk, pk, header, 'm' as unknown as Uint8Array[])).toThrow(TypeError);
    expect(() => bbs.sign(sk, pk, header, ['m'] as unknown as Uint8Array[])).toThrow(/messages\[0\]/);
    expect(() => bbs.verify(any(null), sig, header, messages)).toThrow(TypeError);
    // eslint-disable-next-line no-sparse-arrays
    expect(() => bbs.verify(pk, sig, header, [, messages[1]] as Uint8Array[])).toThrow(/messages\[0\]/);
    // eslint-disable-next-line no-sparse-arrays
    expect(() => bbs.proofVerify(pk, proof, header, ph, disclosed, [0, , 2] as number[])).toThrow(/disclosedIndexes\[1\]/);
    expect(() => bbs.proofGen(pk, sig, header, ph, messages, ['0'] as unknown as number[])).toThrow(
      /disclosedIndexes\[0\] must be a number/,
    );
    expect(() => bbs.proofVerify(pk, any(undefined), header, ph, disclosed, idx)).toThrow(TypeError);
    expect(() => bbs.proofVerify(pk, proof, header, ph, disclosed, 'nope' as unknown as number[])).toThrow(TypeError);
  });

  it('keyGen checks key material and key info lengths', () => {
    expect(() => bbs.keyGen(bytes(31, 7))).toThrow(/at least 32 bytes \(got 31\)/);
    expect(() => bbs.keyGen(bytes(32, 7), bytes(65536))).toThrow(RangeError);
    expect(bbs.keyGen(bytes(32, 7), bytes(65535))).toHaveLength(32);
    // Another key_info or dst derives another key.
    expect(toHex(bbs.keyGen(bytes(32, 7), te.encode('a')))).not.toBe(toHex(bbs.keyGen(bytes(32, 7), te.encode('b'))));
    expect(toHex(bbs.keyGen(bytes(32, 7), undefined, te.encode('other dst')))).not.toBe(toHex(bbs.keyGen(bytes(32, 7))));
  });

  it('secret keys out of range are RangeErrors that do not echo the key', () => {
    for (const bad of [bytes(31, 1), bytes(33, 1), bytes(32, 0), hex(R_HEX), bytes(32, 0xff)]) {
      for (const call of [() => bbs.skToPk(bad), () => bbs.sign(bad, pk, header, messages)]) {
        let err: unknown;
        try {
          call();
        } catch (e) {
          err = e;
        }
        expect(err).toBeInstanceOf(RangeError);
        expect((err as Error).message).toMatch(/sk/);
        if (bad.length > 0 && bad.some((b) => b !== 0)) expect((err as Error).message).not.toContain(toHex(bad));
      }
    }
  });

  it('public keys: wrong length, identity, off the curve, off the subgroup, non-canonical', () => {
    const badPks = {
      short: pk.subarray(0, 95),
      long: new Uint8Array([...pk, 0]),
      identity: identityG2,
      offCurve: g2.offCurve,
      offSubgroup: g2.offSubgroup,
      noCompressionFlag: (() => {
        const b = pk.slice();
        b[0] = (b[0] as number) & 0x7f;
        return b;
      })(),
      junkAfterInfinity: (() => {
        const b = identityG2.slice();
        b[95] = 1;
        return b;
      })(),
    };
    for (const [name, bad] of Object.entries(badPks)) {
      expect(() => bbs.sign(sk, bad, header, messages), name).toThrow(RangeError);
      expect(() => bbs.proofGen(bad, sig, header, ph, messages, idx), name).toThrow(/pk/);
      expect(bbs.verify(bad, sig, header, messages), name).toBe(false);
      expect(bbs.proofVerify(bad, proof, header, ph, disclosed, idx), name).toBe(false);
    }
  });

  it('signatures: wrong length, bad A (identity, off curve, off subgroup), e = 0 or >= r', () => {
    const withA = (a: Uint8Array) => new Uint8Array([...a, ...sig.subarray(48)]);
    const withE = (e: Uint8Array) => new Uint8Array([...sig.subarray(0, 48), ...e]);
    const badSigs = {
      short: sig.subarray(0, 79),
      long: new Uint8Array([...sig, 0]),
      empty: new Uint8Array(0),
      identityA: withA(identityG1),
      offCurveA: withA(g1.offCurve),
      offSubgroupA: withA(g1.offSubgroup),
      junkAfterInfinity: withA(
        (() => {
          const b = identityG1.slice();
          b[47] = 1;
          return b;
        })(),
      ),
      zeroE: withE(bytes(32)),
      eIsR: withE(hex(R_HEX)),
      eAboveR: withE(bytes(32, 0xff)),
    };
    for (const [name, bad] of Object.entries(badSigs)) {
      expect(bbs.verify(pk, bad, header, messages), name).toBe(false);
      expect(() => bbs.proofGen(pk, bad, header, ph, messages, idx), name).toThrow(/signature/);
    }
  });

  it('proofs: lengths, bad points, out-of-range scalars, extra or missing commitments', () => {
    const at = (offset: number, part: Uint8Array) => {
      const b = proof.slice();
      b.set(part, offset);
      return b;
    };
    const badProofs: Record<string, Uint8Array> = {
      empty: new Uint8Array(0),
      belowFloor: proof.subarray(0, bbs.PROOF_BASE_LENGTH - 32),
      notScalarAligned: new Uint8Array([...proof, 0]),
      oneMoreCommitment: new Uint8Array([...proof.subarray(0, proof.length - 32), ...bytes(32, 1), ...proof.subarray(proof.length - 32)]),
      oneLessCommitment: new Uint8Array([...proof.subarray(0, proof.length - 64), ...proof.subarray(proof.length - 32)]),
      identityAbar: at(0, identityG1),
      offCurveBbar: at(48, g1.offCurve),
      offSubgroupD: at(96, g1.offSubgroup),
      zeroEhat: at(144, bytes(32)),
      r1HatIsR: at(176, hex(R_HEX)),
      challengeAboveR: at(proof.length - 32, bytes(32, 0xff)),
      otherChallenge: at(proof.length - 32, bytes(32, 1)),
    };
    for (const [name, bad] of Object.entries(badProofs)) {
      expect(bbs.proofVerify(pk, bad, header, ph, disclosed, idx), name).toBe(false);
    }
  });

  it('proofVerify: indexes and disclosed messages that do not fit are false', () => {
    const cases: [string, Uint8Array[], number[]][] = [
      ['fewer messages than indexes', disclosed.slice(0, 1), idx],
      ['more messages than indexes', [...disclosed, te.encode('x')], idx],
      ['index past L', disclosed, [0, 4]],
      ['negative index', disclosed, [-1, 2]],
      ['fractional index', disclosed, [0, 1.5]],
      ['NaN index', disclosed, [0, Number.NaN]],
      ['unsorted', [disclosed[1] as Uint8Array, disclosed[0] as Uint8Array], [2, 0]],
      ['duplicated', disclosed, [2, 2]],
      ['shifted', disclosed, [1, 2]],
      ['swapped messages', [disclosed[1] as Uint8Array, disclosed[0] as Uint8Array], idx],
    ];
    for (const [name, msgs, indexes] of cases) expect(bbs.proofVerify(pk, proof, header, ph, msgs, indexes), name).toBe(false);
  });

  it('proofGen: indexes out of range, unsorted, duplicated or fractional are RangeErrors', () => {
    for (const indexes of [[4], [-1], [2, 0], [1, 1], [0.5], [Number.NaN], [Number.POSITIVE_INFINITY]]) {
      expect(() => bbs.proofGen(pk, sig, header, ph, messages, indexes), JSON.stringify(indexes)).toThrow(/disclosedIndexes/);
    }
  });

  it('proofGenWithRandomScalars checks what the source returns', () => {
    const gen = (src: bbs.RandomScalarSource) => () => bbs.proofGenWithRandomScalars(pk, sig, header, ph, messages, idx, src);
    expect(gen((n) => Array.from({ length: n - 1 }, () => bytes(32, 1)))).toThrow(/must return 7 scalars/);
    expect(gen((n) => Array.from({ length: n }, () => hex(R_HEX)))).toThrow(/not 32 bytes below r/);
    expect(gen((n) => Array.from({ length: n }, () => bytes(31, 1)))).toThrow(RangeError);
    expect(() => bbs.proofGenWithRandomScalars(pk, sig, header, ph, messages, idx, null as unknown as bbs.RandomScalarSource)).toThrow(
      TypeError,
    );
  });

  it('edge shapes still work: no messages, nothing disclosed, everything disclosed, empty headers', () => {
    const empty = new Uint8Array(0);
    const s0 = bbs.sign(sk, pk, empty, []);
    expect(bbs.verify(pk, s0, empty, [])).toBe(true);
    expect(bbs.verify(pk, s0, empty, [empty])).toBe(false);
    const p0 = bbs.proofGen(pk, s0, empty, empty, [], []);
    expect(p0).toHaveLength(bbs.PROOF_BASE_LENGTH);
    expect(bbs.proofVerify(pk, p0, empty, empty, [], [])).toBe(true);
    const none = bbs.proofGen(pk, sig, header, ph, messages, []);
    expect(none).toHaveLength(bbs.PROOF_BASE_LENGTH + 32 * messages.length);
    expect(bbs.proofVerify(pk, none, header, ph, [], [])).toBe(true);
    const all = bbs.proofGen(pk, sig, header, ph, messages, [0, 1, 2, 3]);
    expect(bbs.proofVerify(pk, all, header, ph, messages, [0, 1, 2, 3])).toBe(true);
  });

  it('many messages: past one MSM chunk (1024 terms) and one 64 KiB batch of randomness', { timeout: 120_000 }, () => {
    const many = Array.from({ length: 1500 }, (_, i) => te.encode(`attribute-${i}`));
    const s = bbs.sign(sk, pk, header, many);
    expect(bbs.verify(pk, s, header, many)).toBe(true);
    expect(bbs.verify(pk, s, header, many.slice(0, -1))).toBe(false);
    const p = bbs.proofGen(pk, s, header, ph, many, [0, 1499]);
    expect(bbs.proofVerify(pk, p, header, ph, [many[0] as Uint8Array, many[1499] as Uint8Array], [0, 1499])).toBe(true);
    expect(bbs.proofVerify(pk, p, header, ph, [many[0] as Uint8Array, many[1498] as Uint8Array], [0, 1499])).toBe(false);
  });

  it('no single flipped bit makes a signature or proof verify (property)', () => {
    fc.assert(
      fc.property(fc.nat({ max: sig.length * 8 - 1 }), (bit) => {
        const b = sig.slice();
        b[bit >> 3] = (b[bit >> 3] as number) ^ (1 << (bit & 7));
        return !bbs.verify(pk, b, header, messages);
      }),
      { numRuns: 60 },
    );
    fc.assert(
      fc.property(fc.nat({ max: proof.length * 8 - 1 }), (bit) => {
        const b = proof.slice();
        b[bit >> 3] = (b[bit >> 3] as number) ^ (1 << (bit & 7));
        return !bbs.proofVerify(pk, b, header, ph, disclosed, idx);
      }),
      { numRuns: 60 },
    );
  });
});

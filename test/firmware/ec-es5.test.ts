/**
 * The benchmark's ES5 scalar multiplication (bench/firmware/ec-es5.ts) computes real points:
 * checked against an independent BigInt implementation (affine double-and-add over p, written
 * here from the curve equation y² = x³ + 4), on the curve, and at the group's order. The bench
 * itself checks the interpreter's point against V8's on every run.
 */
import { describe, expect, it } from 'vitest';
import { G1_X_HEX, G1_Y_HEX, scalarMultG1 } from '../../bench/firmware/ec-es5.js';
import { BENCH_SCALAR } from '../../bench/firmware/workload.js';

const P = BigInt('0x1a0111ea397fe69a4b1ba7b6434bacd764774b84f38512bf6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffaaab');
/** BLS12-381's group order r. */
const R = BigInt('0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001');
const G = { x: BigInt('0x' + G1_X_HEX), y: BigInt('0x' + G1_Y_HEX) };

type Pt = { x: bigint; y: bigint } | null;
const mod = (a: bigint): bigint => ((a % P) + P) % P;
function inv(a: bigint): bigint {
  let [r0, r1, s0, s1] = [P, mod(a), 0n, 1n];
  while (r1 !== 0n) {
    const q = r0 / r1;
    [r0, r1] = [r1, r0 - q * r1];
    [s0, s1] = [s1, s0 - q * s1];
  }
  return mod(s0);
}
function addRef(a: Pt, b: Pt): Pt {
  if (!a) return b;
  if (!b) return a;
  if (a.x === b.x && mod(a.y + b.y) === 0n) return null;
  const l = a.x === b.x ? mod(3n * a.x * a.x * inv(2n * a.y)) : mod((b.y - a.y) * inv(b.x - a.x));
  const x = mod(l * l - a.x - b.x);
  return { x, y: mod(l * (a.x - x) - a.y) };
}
function mulRef(k: bigint): Pt {
  let acc: Pt = null;
  for (let i = k.toString(2).length - 1; i >= 0; i--) {
    acc = addRef(acc, acc);
    if ((k >> BigInt(i)) & 1n) acc = addRef(acc, G);
  }
  return acc;
}
const hex = (k: bigint): string => k.toString(16);
const asBig = (p: { x: string; y: string } | null): Pt => (p ? { x: BigInt('0x' + p.x), y: BigInt('0x' + p.y) } : null);

describe('ES5 BLS12-381 G1 scalar multiplication (benchmark workload)', () => {
  it('agrees with a BigInt reference for small, random and the benchmark scalars, on the curve', () => {
    const scalars = [1n, 2n, 3n, 5n, 255n, 256n, BigInt('0x' + BENCH_SCALAR), R - 1n];
    for (let i = 0; i < 3; i++) scalars.push(BigInt('0x' + Buffer.from(crypto.getRandomValues(new Uint8Array(31))).toString('hex')) + 1n);
    for (const k of scalars) {
      const got = asBig(scalarMultG1(hex(k)));
      expect(got, `k = ${hex(k)}`).toEqual(mulRef(k));
      expect(mod(got!.y * got!.y), `k = ${hex(k)} on y² = x³ + 4`).toBe(mod(got!.x ** 3n + 4n));
    }
    expect(asBig(scalarMultG1('1'))).toEqual(G);
  });

  it('r·G is the point at infinity, (r+1)·G is G, (r-1)·G is -G', () => {
    expect(scalarMultG1(hex(R))).toBeNull();
    expect(asBig(scalarMultG1(hex(R + 1n)))).toEqual(G);
    expect(asBig(scalarMultG1(hex(R - 1n)))).toEqual({ x: G.x, y: mod(-G.y) });
  });
});

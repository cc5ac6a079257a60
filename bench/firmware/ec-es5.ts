/**
 * One elliptic-curve scalar multiplication in plain ECMAScript 5 — what a board would have to
 * run per reading if it signed every reading itself (the paper's "without outsourcing", Fig. 9)
 * instead of completing the edge's partial signature with two SHA-256 runs. The curve is
 * BLS12-381's G1, the group of the BBS signatures Provenant uses (shared/crypto/bbs.ts); a BBS
 * Sign needs several such multiplications, so one is a lower bound on that cost.
 *
 * Written for Espruino's interpreter, which re-reads the source of every statement it runs, so
 * fewer, larger steps win: no BigInt, no ES2015; field elements are 16 limbs of 24 bits in
 * typed arrays (Espruino's plain arrays are linked lists), carries by `%` and an exact division
 * (every intermediate < 2^49 is exact in a double, so V8 and Espruino compute the same bits),
 * Montgomery multiplication (CIOS, R = 2^384), Jacobian coordinates, left-to-right
 * double-and-add, one inversion (Fermat) for the affine result. 24-bit limbs took 2.25 times
 * fewer inner steps than 16-bit ones. Not constant-time, not for keys: a
 * benchmark workload, checked against an independent BigInt implementation in
 * test/firmware/ec-es5.test.ts.
 */

const N = 16;
/** 2^24: the limb base. */
const BASE = 16777216;
/** Hex digits per limb. */
const DIGITS = 6;
/** p = 0x1a0111ea...aaab, the BLS12-381 base field modulus. */
const P_HEX = '1a0111ea397fe69a4b1ba7b6434bacd764774b84f38512bf6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffaaab';
/** The standard G1 generator (x, y). */
export const G1_X_HEX = '17f1d3a73197d7942695638c4fa9ac0fc3688c4f9774b905a14e3a3f171bac586c55e83ff97a1aeffb3af00adb22c6bb';
export const G1_Y_HEX = '08b3f481e3aaa0f1a09e30ed741d8ae4fcf5e095d5d00af600db18cb2c04b3edd03cc744a2888ae40caa232946c5e7e1';

type Fe = Int32Array;

function fe(): Fe {
  return new Int32Array(N);
}

/** Limbs of a big-endian hex string (< 2^384). */
function fromHex(hex: string): Fe {
  const out = fe();
  for (let i = 0; i < N; i++) {
    const end = hex.length - DIGITS * i;
    if (end <= 0) break;
    out[i] = parseInt(hex.substring(Math.max(0, end - DIGITS), end), 16);
  }
  return out;
}

function toHex(a: Fe): string {
  let s = '';
  for (let i = N - 1; i >= 0; i--) s += ((a[i] as number) + BASE).toString(16).substring(1);
  return s;
}

const P = fromHex(P_HEX);
/** -p^-1 mod 2^24 (Newton's iteration on the lowest limb; products < 2^48 are exact). */
const NP = (function () {
  const p0 = P[0] as number;
  let y = 1;
  for (let i = 0; i < 6; i++) y = (y * ((2 * BASE + 2 - ((p0 * y) % BASE)) % BASE)) % BASE;
  return (BASE - y) % BASE;
})();

function copy(a: Fe, out: Fe): void {
  for (let i = 0; i < N; i++) out[i] = a[i] as number;
}

/** a >= b */
function geq(a: Fe, b: Fe): boolean {
  for (let i = N - 1; i >= 0; i--) {
    if ((a[i] as number) !== (b[i] as number)) return (a[i] as number) > (b[i] as number);
  }
  return true;
}

function isZero(a: Fe): boolean {
  for (let i = 0; i < N; i++) if (a[i]) return false;
  return true;
}

/** out = a - p, in place, when it does not underflow (callers check a >= p). */
function subP(a: Fe): void {
  let br = 0;
  for (let i = 0; i < N; i++) {
    let x = (a[i] as number) - (P[i] as number) - br;
    br = x < 0 ? 1 : 0;
    if (br) x += BASE;
    a[i] = x;
  }
}

/** out = a + b mod p (out may alias a or b). */
function add(a: Fe, b: Fe, out: Fe): void {
  let c = 0;
  for (let i = 0; i < N; i++) {
    const x = (a[i] as number) + (b[i] as number) + c;
    c = x >= BASE ? 1 : 0;
    out[i] = c ? x - BASE : x;
  }
  if (c || geq(out, P)) subP(out);
}

/** out = a - b mod p (out may alias a or b). */
function sub(a: Fe, b: Fe, out: Fe): void {
  let br = 0;
  for (let i = 0; i < N; i++) {
    let x = (a[i] as number) - (b[i] as number) - br;
    br = x < 0 ? 1 : 0;
    if (br) x += BASE;
    out[i] = x;
  }
  if (br) {
    let c = 0;
    for (let i = 0; i < N; i++) {
      const x = (out[i] as number) + (P[i] as number) + c;
      c = x >= BASE ? 1 : 0;
      out[i] = c ? x - BASE : x;
    }
  }
}

const T = new Float64Array(N + 2);

/** out = a * b / R mod p (Montgomery, CIOS; out may alias a or b). Each step: x < 2^49, lo = x % 2^24, carry = (x - lo) / 2^24. */
function mul(a: Fe, b: Fe, out: Fe): void {
  const t = T;
  let i: number;
  let j: number;
  let x: number;
  let lo: number;
  let c: number;
  for (i = 0; i < N + 2; i++) t[i] = 0;
  for (i = 0; i < N; i++) {
    const bi = b[i] as number;
    c = 0;
    for (j = 0; j < N; j++) {
      x = (t[j] as number) + (a[j] as number) * bi + c;
      lo = x % BASE;
      t[j] = lo;
      c = (x - lo) / BASE;
    }
    x = (t[N] as number) + c;
    lo = x % BASE;
    t[N] = lo;
    t[N + 1] = (x - lo) / BASE;
    const m = ((t[0] as number) * NP) % BASE;
    x = (t[0] as number) + m * (P[0] as number);
    c = (x - (x % BASE)) / BASE;
    for (j = 1; j < N; j++) {
      x = (t[j] as number) + m * (P[j] as number) + c;
      lo = x % BASE;
      t[j - 1] = lo;
      c = (x - lo) / BASE;
    }
    x = (t[N] as number) + c;
    lo = x % BASE;
    t[N - 1] = lo;
    t[N] = (t[N + 1] as number) + (x - lo) / BASE;
  }
  for (i = 0; i < N; i++) out[i] = t[i] as number;
  if (t[N] || geq(out, P)) subP(out);
}

/** R^2 mod p (R = 2^384), by doubling 1 768 times (a one-off, outside any timing). */
const R2 = (function () {
  const r = fe();
  r[0] = 1;
  for (let i = 0; i < 768; i++) add(r, r, r);
  return r;
})();
const ONE_PLAIN = (function () {
  const r = fe();
  r[0] = 1;
  return r;
})();

function toMont(a: Fe): Fe {
  const out = fe();
  mul(a, R2, out);
  return out;
}

function fromMont(a: Fe): Fe {
  const out = fe();
  mul(a, ONE_PLAIN, out);
  return out;
}

// Temporaries of the point formulas, allocated once.
const A = fe();
const B = fe();
const C = fe();
const D = fe();
const E2 = fe();
const F = fe();
const H = fe();
const HH = fe();
const I = fe();
const J = fe();
const RR = fe();
const V = fe();
const Z1Z1 = fe();
const U2 = fe();
const S2 = fe();

/** A Jacobian point (x, y, z) in Montgomery form; z = 0 is infinity. */
interface Point {
  x: Fe;
  y: Fe;
  z: Fe;
}

/** p = 2p (dbl-2009-l, a = 0). */
function double(p: Point): void {
  mul(p.x, p.x, A);
  mul(p.y, p.y, B);
  mul(B, B, C);
  add(p.x, B, D);
  mul(D, D, D);
  sub(D, A, D);
  sub(D, C, D);
  add(D, D, D);
  add(A, A, E2);
  add(E2, A, E2);
  mul(E2, E2, F);
  // z3 = 2 y z (before y changes)
  mul(p.y, p.z, p.z);
  add(p.z, p.z, p.z);
  sub(F, D, p.x);
  sub(p.x, D, p.x);
  sub(D, p.x, V);
  mul(E2, V, p.y);
  add(C, C, C);
  add(C, C, C);
  add(C, C, C);
  sub(p.y, C, p.y);
}

/** p = p + q, q affine (z = 1) (madd-2007-bl). */
function addAffine(p: Point, qx: Fe, qy: Fe): void {
  mul(p.z, p.z, Z1Z1);
  mul(qx, Z1Z1, U2);
  mul(qy, p.z, S2);
  mul(S2, Z1Z1, S2);
  sub(U2, p.x, H);
  sub(S2, p.y, RR);
  if (isZero(H)) {
    if (isZero(RR)) double(p);
    else for (let i = 0; i < N; i++) p.z[i] = 0;
    return;
  }
  mul(H, H, HH);
  add(HH, HH, I);
  add(I, I, I);
  mul(H, I, J);
  add(RR, RR, RR);
  mul(p.x, I, V);
  mul(RR, RR, p.x);
  sub(p.x, J, p.x);
  sub(p.x, V, p.x);
  sub(p.x, V, p.x);
  // z3 = (z1 + H)^2 - z1z1 - HH
  add(p.z, H, p.z);
  mul(p.z, p.z, p.z);
  sub(p.z, Z1Z1, p.z);
  sub(p.z, HH, p.z);
  // y3 = r (V - x3) - 2 y1 J
  mul(p.y, J, J);
  add(J, J, J);
  sub(V, p.x, V);
  mul(RR, V, p.y);
  sub(p.y, J, p.y);
}

/** a^(p-2) = a^-1 (Fermat), Montgomery in and out. */
function invert(a: Fe, out: Fe): void {
  const e = fromHex(P_HEX);
  e[0] = (e[0] as number) - 2; // p's lowest limb is 0xffaaab: no borrow
  const r = fe();
  copy(a, r);
  let started = false;
  for (let i = N - 1; i >= 0; i--) {
    for (let bit = 23; bit >= 0; bit--) {
      if (started) mul(r, r, r);
      if (((e[i] as number) >> bit) & 1) {
        if (started) mul(r, a, r);
        started = true;
      }
    }
  }
  copy(r, out);
}

/**
 * k·G on BLS12-381 G1 for a scalar given as big-endian hex (1 <= k < 2^256); returns the affine
 * (x, y) as big-endian hex, or null for the point at infinity.
 */
export function scalarMultG1(kHex: string): { x: string; y: string } | null {
  const gx = toMont(fromHex(G1_X_HEX));
  const gy = toMont(fromHex(G1_Y_HEX));
  const k = fromHex(kHex);
  const p: Point = { x: fe(), y: fe(), z: fe() };
  let started = false;
  for (let i = N - 1; i >= 0; i--) {
    for (let bit = 23; bit >= 0; bit--) {
      if (started) double(p);
      if (((k[i] as number) >> bit) & 1) {
        if (!started) {
          copy(gx, p.x);
          copy(gy, p.y);
          copy(toMont(ONE_PLAIN), p.z);
          started = true;
        } else addAffine(p, gx, gy);
      }
    }
  }
  if (!started || isZero(p.z)) return null;
  const zi = fe();
  invert(p.z, zi);
  const zi2 = fe();
  mul(zi, zi, zi2);
  const x = fe();
  mul(p.x, zi2, x);
  mul(zi2, zi, zi2);
  const y = fe();
  mul(p.y, zi2, y);
  return { x: toHex(fromMont(x)), y: toHex(fromMont(y)) };
}

/** One Montgomery multiplication (for timing the field arithmetic alone). */
export function fieldMulOnce(): void {
  mul(R2, R2, A);
}

/**
 * Fig. 9, the device's computational cost vs. number of packets, with and without the
 * outsourced signature, counted (SHA-256 calls, field multiplications) and timed on Espruino's own
 * interpreter (../shared/tools/espruino) where it is present, else in V8 (labelled so).
 *
 * - With outsourcing (Provenant): the edge computes the BBS partial signature once per device per
 *   epoch; the board only MACs each reading: HMAC-SHA256 = 2 SHA-256 calls per packet (counted by
 *   the simulated board's `crypto.SHA256` shim while it runs the built firmware), 0 field
 *   multiplications, no key generation (K_IoT is provisioned).
 * - Without (the paper's "normal scenario", the board signs every packet itself): the cheapest
 *   public-key signature there is, ECDSA on P-256, as a LOWER bound — key generation once (one
 *   scalar multiplication + one inversion), then per packet one SHA-256 and one signature (one
 *   scalar multiplication, two inversions). Field multiplications per scalar multiplication:
 *   left-to-right double-and-add in Jacobian coordinates with affine additions, 255 doublings
 *   (4M+4S) and ~128 additions (8M+3S) = 3,448; an inversion by Fermat ≈ 266 (255 S + 11 M).
 *   A BBS ProofGen (what our edge does instead) costs several such multiplications on a 381-bit
 *   field, so the real gap is wider.
 * - Time per field multiplication: a 256-bit Montgomery multiplication (CIOS, 16-bit limbs,
 *   ES5 — what a board without BigInt or WebAssembly would run), timed on the interpreter and
 *   checked against BigInt in V8; time per SHA-256: the native `require("crypto").SHA256` over
 *   the reading's HMAC inputs, on the interpreter. Board time = count × time per operation (the
 *   point formulas' own interpretation overhead is not added: a lower bound for "without").
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import vm from 'node:vm';

/** Field multiplications per P-256 scalar multiplication (see the module comment). */
export const FMUL_PER_SCALAR_MULT = 255 * 8 + 128 * 11;
/** Field multiplications per inversion by Fermat's little theorem (255 squarings + 11 multiplications). */
export const FMUL_PER_INVERSION = 266;

/** P-256's prime as 16 little-endian 16-bit limbs. */
const P256 = (() => {
  const p = 2n ** 256n - 2n ** 224n + 2n ** 192n + 2n ** 96n - 1n;
  return Array.from({ length: 16 }, (_, i) => Number((p >> BigInt(16 * i)) & 0xffffn));
})();

/**
 * ES5 Montgomery multiplication a·b·2^-256 mod p (16-bit limbs; p' = 1 since p ≡ -1 mod 2^16),
 * as a board would run it. `fmul` is defined in the evaluated scope.
 */
export const FMUL_ES5 = `
var P=[${P256.join(',')}];
function fmul(a,b){
  var t=[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0],i,j,s,C,m,ai;
  for(i=0;i<16;i++){
    C=0;ai=a[i];
    for(j=0;j<16;j++){s=t[j]+ai*b[j]+C;C=Math.floor(s/65536);t[j]=s-C*65536;}
    s=t[16]+C;C=Math.floor(s/65536);t[16]=s-C*65536;t[17]=C;
    m=t[0];
    s=t[0]+m*P[0];C=Math.floor(s/65536);
    for(j=1;j<16;j++){s=t[j]+m*P[j]+C;C=Math.floor(s/65536);t[j-1]=s-C*65536;}
    s=t[16]+C;C=Math.floor(s/65536);t[15]=s-C*65536;t[16]=t[17]+C;
  }
  var ge=t[16]>0;
  if(!ge){ge=true;for(i=15;i>=0;i--){if(t[i]!==P[i]){ge=t[i]>P[i];break;}}}
  var r=[];
  if(ge){C=0;for(i=0;i<16;i++){s=t[i]-P[i]-C;if(s<0){s+=65536;C=1;}else C=0;r.push(s);}}
  else for(i=0;i<16;i++)r.push(t[i]);
  return r;
}
`;

/** Checks the ES5 multiplication against BigInt in V8 (throws if wrong). */
export function checkFmul(): void {
  const ctx = vm.createContext({ Math });
  vm.runInContext(FMUL_ES5, ctx);
  const fmul = ctx['fmul'] as (a: number[], b: number[]) => number[];
  const p = 2n ** 256n - 2n ** 224n + 2n ** 192n + 2n ** 96n - 1n;
  const limbs = (x: bigint): number[] => Array.from({ length: 16 }, (_, i) => Number((x >> BigInt(16 * i)) & 0xffffn));
  const big = (l: number[]): bigint => l.reduce((acc, v, i) => acc + (BigInt(v) << BigInt(16 * i)), 0n);
  const rInv = modPow(2n ** 256n % p, p - 2n, p);
  let a = 0x1234567890abcdefn % p;
  let b = (p - 12345678901234567890n) % p;
  for (let k = 0; k < 20; k++) {
    const want = (((a * b) % p) * rInv) % p;
    const got = big(fmul(limbs(a), limbs(b)));
    if (got !== want) throw new Error(`ES5 Montgomery multiplication is wrong: ${got.toString(16)} ≠ ${want.toString(16)}`);
    a = (a * 6364136223846793005n + 1442695040888963407n) % p;
    b = (b * a + 7n) % p;
  }
}

function modPow(b: bigint, e: bigint, m: bigint): bigint {
  let r = 1n;
  let x = b % m;
  while (e > 0n) {
    if (e & 1n) r = (r * x) % m;
    x = (x * x) % m;
    e >>= 1n;
  }
  return r;
}

/** Per-operation times (µs) and where they were measured. */
export interface OpTimes {
  readonly engine: 'espruino' | 'v8';
  readonly label: string;
  readonly fmulUs: number;
  /** One SHA-256 over `shaBytes` bytes. */
  readonly sha256Us: number;
  readonly shaBytes: number;
}

/** Times one field multiplication and one SHA-256 of `shaBytes` on the Espruino interpreter (or V8). */
export function timeOps(espruino: string | undefined, shaBytes: number, fmulRuns: number): OpTimes {
  const script = `${FMUL_ES5}
var a=[],b=[],i;for(i=0;i<16;i++){a.push((i*4099+7)%65536);b.push((i*7919+3)%65536);}
var t0=getTime();for(i=0;i<${fmulRuns};i++){a=fmul(a,b);}var t1=getTime();
var s="";for(i=0;i<${shaBytes};i++)s+=String.fromCharCode(i&255);
var c=require("crypto");var t2=getTime();for(i=0;i<200;i++){c.SHA256(s);}var t3=getTime();
console.log("EVAL9 "+((t1-t0)/${fmulRuns}*1e6)+" "+((t3-t2)/200*1e6));
result=1;
`;
  if (espruino) {
    const dir = mkdtempSync(join(tmpdir(), 'provenant-fig9-'));
    try {
      const file = join(dir, 'ops.js');
      writeFileSync(file, script);
      const r = spawnSync(espruino, ['--test', file], { cwd: dir, encoding: 'utf8', timeout: 300_000 });
      const m = /EVAL9 ([\d.e+-]+) ([\d.e+-]+)/.exec(r.stdout ?? '');
      if (m)
        return {
          engine: 'espruino',
          label: 'Espruino 2v29 interpreter (Linux build, this machine)',
          fmulUs: Number(m[1]),
          sha256Us: Number(m[2]),
          shaBytes,
        };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const ctx = vm.createContext({ Math });
  vm.runInContext(FMUL_ES5, ctx);
  const fmul = ctx['fmul'] as (a: number[], b: number[]) => number[];
  let a = Array.from({ length: 16 }, (_, i) => (i * 4099 + 7) % 65536);
  const b = Array.from({ length: 16 }, (_, i) => (i * 7919 + 3) % 65536);
  const n = fmulRuns * 100;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) a = fmul(a, b);
  const t1 = performance.now();
  const buf = Buffer.alloc(shaBytes, 1);
  const t2 = performance.now();
  for (let i = 0; i < 2000; i++) createHash('sha256').update(buf).digest();
  const t3 = performance.now();
  return {
    engine: 'v8',
    label: 'V8 (Node) — the Espruino interpreter is not present',
    fmulUs: ((t1 - t0) * 1000) / n,
    sha256Us: ((t3 - t2) * 1000) / 2000,
    shaBytes,
  };
}

/** One row of Fig. 9. */
export interface Fig9Point {
  readonly packets: number;
  readonly with: { readonly sha256: number; readonly fieldMults: number; readonly ms: number };
  readonly without: { readonly sha256: number; readonly fieldMults: number; readonly ms: number };
}

/** Fig. 9's model: counts per packet (measured SHA-256 calls for ours) × per-operation times. */
export function fig9Points(packets: readonly number[], shaPerPacket: number, ops: OpTimes): Fig9Point[] {
  const perSigFmul = FMUL_PER_SCALAR_MULT + 2 * FMUL_PER_INVERSION;
  const keygenFmul = FMUL_PER_SCALAR_MULT + FMUL_PER_INVERSION;
  return packets.map((n) => {
    const wSha = shaPerPacket * n;
    const woSha = n;
    const woF = keygenFmul + perSigFmul * n;
    const r = (v: number): number => Math.round(v * 1000) / 1000;
    return {
      packets: n,
      with: { sha256: r(wSha), fieldMults: 0, ms: r((wSha * ops.sha256Us) / 1000) },
      without: { sha256: woSha, fieldMults: woF, ms: r((woSha * ops.sha256Us + woF * ops.fmulUs) / 1000) },
    };
  });
}

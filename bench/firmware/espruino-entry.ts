/**
 * The firmware benchmark's workload, built with the firmware pipeline (firmware/build.ts
 * bundleEntry: TypeScript → ES5, esbuild, terser) and run as it is on Espruino's own interpreter
 * and in the board shim (V8). It exposes global PV_BENCH; bench/firmware/espruino.ts drives it.
 *
 * - reading(rounds, noStore): the per-reading pieces of the board's sample path, with the firmware's own
 *   code (firmware/src/main.ts sample()): encode the canonical reading v2, tag it
 *   (HMAC-SHA256(K_tag, "pv2:r" ‖ canonical): two runs of the native SHA256), frame it, and keep
 *   it in Storage as the resend ring does (write; the ACK's erase; skipped with noStore). Mean µs of each over `rounds`,
 *   SHA-256 runs and bytes hashed per reading, and the tag (checked against Node's by the bench).
 * - ec(kHex): one BLS12-381 G1 scalar multiplication k·G in ES5 (bench/firmware/ec-es5.ts), in ms,
 *   and the point (checked against a reference by test/firmware/ec-es5.test.ts).
 * - fieldMul(rounds): mean µs of one 381-bit Montgomery multiplication.
 *
 * Times come from getTime() (µs resolution on the Linux build; wall time).
 */
import { sha256, storage } from '../../firmware/src/espruino.js';
import { frameBytes } from '../../firmware/src/wire.js';
import { DOMAIN_READING } from '../../shared/crypto/domains.js';
import { hmacLabeled } from '../../shared/crypto/hmac.js';
import { encodeReadingAs } from '../../shared/encoding/reading.js';
import { toHex } from '../../shared/encoding/hex.js';
import { MSG_READING } from '../../shared/wire/messages.js';
import type { Sha256 } from '../../shared/types.js';
import { fieldMulOnce, scalarMultG1 } from './ec-es5.js';
import { benchKey, benchReading } from './workload.js';

declare const global: { PV_BENCH: unknown };
declare function getTime(): number;

let calls = 0;
let hashed = 0;
const counted: Sha256 = function (d) {
  calls++;
  hashed += d.length;
  return sha256(d);
};

const kTag = benchKey();

function us(t0: number): number {
  return (getTime() - t0) * 1e6;
}

global.PV_BENCH = {
  reading: function (rounds: number, noStore?: boolean): { [k: string]: number | string } {
    const n = Math.max(1, rounds);
    let encode = 0;
    let tagUs = 0;
    let frameUs = 0;
    let storeUs = 0;
    let canonical = encodeReadingAs(benchReading(0), true);
    let tag: Uint8Array = new Uint8Array(32);
    let frame: Uint8Array = new Uint8Array(0);
    calls = 0;
    hashed = 0;
    for (let i = 0; i < n; i++) {
      let t0 = getTime();
      canonical = encodeReadingAs(benchReading(1000 + i), true);
      encode += us(t0);
      t0 = getTime();
      tag = hmacLabeled(counted, kTag, DOMAIN_READING, canonical);
      tagUs += us(t0);
      t0 = getTime();
      const payload = new Uint8Array(canonical.length + 32);
      payload.set(canonical);
      payload.set(tag, canonical.length);
      frame = frameBytes(MSG_READING, payload);
      frameUs += us(t0);
      if (noStore) continue;
      t0 = getTime();
      storage.write('pv.b0', payload);
      storage.erase('pv.b0');
      storeUs += us(t0);
    }
    return {
      // Quoted keys: the pipeline may rename unquoted properties, never quoted ones.
      ['encodeUs']: encode / n,
      ['hmacUs']: tagUs / n,
      ['frameUs']: frameUs / n,
      ['storeUs']: storeUs / n,
      ['sha256PerReading']: calls / n,
      ['bytesHashedPerReading']: hashed / n,
      ['canonicalBytes']: canonical.length,
      ['frameBytes']: frame.length,
      ['lastTag']: toHex(tag),
    };
  },
  ec: function (kHex: string): { [k: string]: number | string | null } {
    const t0 = getTime();
    const p = scalarMultG1(kHex);
    return { ['ms']: us(t0) / 1000, ['x']: p ? p.x : null, ['y']: p ? p.y : null };
  },
  fieldMul: function (rounds: number): number {
    const t0 = getTime();
    for (let i = 0; i < rounds; i++) fieldMulOnce();
    return us(t0) / rounds;
  },
};

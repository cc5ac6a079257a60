/**
 * The reading, key and scalar the firmware benchmark's interpreter workload uses
 * (bench/firmware/espruino-entry.ts), shared with Node so the bench can check the interpreter's
 * answers. ES5-safe: it is bundled into the workload.
 */
import type { Reading } from '../../shared/types.js';

/** K_tag of the bench: byte i is i*7+1. */
export function benchKey(): Uint8Array {
  const k = new Uint8Array(32);
  for (let i = 0; i < 32; i++) k[i] = (i * 7 + 1) & 255;
  return k;
}

const digest = new Uint8Array(32);
for (let i = 0; i < 32; i++) digest[i] = 9;

/** Reading number `seq` of the bench, v2, the LINUX profile's shape: temperature, analog, battery. */
export function benchReading(seq: number): Reading {
  return {
    deviceId: 'bench-linux-0001',
    seq: seq,
    t: 1767225600000 + seq * 1000,
    epoch: 7,
    partialDigest: digest,
    batteryMv: 3012,
    channels: [
      { id: 0, scale: -2, value: 2315 },
      { id: 1, scale: -4, value: 5012 },
    ],
    bootCount: 3,
    uptimeMs: 86400000 + seq * 1000,
  };
}

/**
 * The scalar of the benchmark's multiplication: 255 bits (top hex digit 5, below BLS12-381's
 * group order 0x73ed...), about half of them set, as a BBS signing scalar would be.
 */
export const BENCH_SCALAR = '5bd1d8c7a3e2f0914c6b7a85e3d2c1b0a99f8e7d6c5b4a3928171605f4e3d2c1';

/**
 * The oracle bound's calibration (bench/traffic-eval/oracle.ts) on synthetic peer differences
 * (white noise, seeded): a window tested for a fault it does not carry is flagged at about the
 * calibrated false-positive rate, a large known offset is found in every window, and a faint one
 * only partly.
 */
import { describe, expect, it } from 'vitest';
import { oracleRow, peerSeries, type OracleEpisode, type PeerSeries } from '../../bench/traffic-eval/oracle.js';
import { mulberry32 } from '../../bench/traffic-eval/prng.js';

const PER = 30;
const WINDOWS = 200;

function noise(seed: number): PeerSeries {
  const rng = mulberry32(seed);
  const x = new Float64Array(WINDOWS * PER);
  const o = new Float64Array(WINDOWS * PER);
  for (let i = 0; i < x.length; i++) {
    x[i] = rng.normal() * 0.05;
    o[i] = rng.normal() * 0.05;
  }
  return peerSeries(
    x,
    o,
    0,
    PER,
    Array.from({ length: WINDOWS }, () => false),
  );
}

/** Episodes of `len` windows every 12 windows on a fresh noise series, carrying `offset` (0: none). */
function episodes(offset: number, len: number, seed: number): OracleEpisode[] {
  const base = noise(seed);
  const signal = new Float64Array(base.x.length);
  const out: OracleEpisode[] = [];
  for (let start = 10; start + len < WINDOWS; start += 12) {
    for (let i = start * PER; i < (start + len) * PER; i++) signal[i] = offset;
    out.push({
      channel: 'temperature',
      start,
      observed: { ...base, x: base.x.map((v, i) => v + (signal[i] as number)), resid: base.resid.map((v, i) => v + (signal[i] as number)) },
      withoutFault: base,
      // The template the oracle tests for: a known offset of 0.1 (for offset 0 it tests for a fault that is not there).
      signal: new Float64Array(len * PER).fill(offset === 0 ? 0.1 : offset),
      positive: Array.from({ length: len }, () => true),
    });
  }
  return out;
}

describe('oracle bound', () => {
  const clean = { temperature: [noise(1), noise(2), noise(3)] };

  it('calibrates: windows without the fault are flagged at about the target rate, a large offset always', () => {
    const [none] = oracleRow(episodes(0, 3, 9), clean, 0, [0.05]);
    // With no false positives counted (negatives 0), F1 = 2R/(1+R): R ≈ 0.05 gives ≈ 0.1.
    expect(none!.recall!).toBeLessThan(0.15);
    const [big] = oracleRow(episodes(0.5, 3, 9), clean, 0, [0.005]);
    expect(big!.recall).toBe(1);
    expect(big!.f1).toBe(1);
  });

  it('a faint offset is found in part, more at a higher false-positive rate; the false positives cost precision', () => {
    const eps = episodes(0.004, 2, 11);
    const [low, high] = oracleRow(eps, clean, 400, [0.005, 0.2]);
    expect(low!.recall!).toBeLessThan(high!.recall!);
    expect(high!.recall!).toBeLessThan(1);
    const positives = eps.reduce((s, e) => s + e.positive.length, 0);
    const tp = Math.round(high!.recall! * positives);
    expect(high!.f1).toBeCloseTo((2 * tp) / (2 * tp + (positives - tp) + 0.2 * 400), 10);
  });
});

/**
 * The copy check (shared/traffic/copies.ts): a window that replays genuine readings the site sent
 * before — another device's, shifted to this device's level, cut at other window boundaries — has
 * marks the site's index already holds; an honest window of its own does not; calm air makes no
 * marks; the device state flags `copy` above its threshold.
 */
import { describe, expect, it } from 'vitest';
import { checkMarks, computeMarks, countCopies, MARK_MAX, type MarkOrigin } from '../../shared/traffic/copies.js';
import { advanceDevice, emptyDeviceState } from '../../shared/traffic/device-state.js';
import { computeFeatures, type Arrival, type WindowInput } from '../../shared/traffic/features.js';
import { defaultThresholds, type TrafficProfile } from '../../shared/traffic/model.js';
import { mulberry32 } from '../../bench/traffic-eval/prng.js';

/** A genuine-looking series: a random walk at 0.01 resolution (temperature) and 0.03 (humidity). */
function walk(seed: number, n: number): { temperature: number; humidity: number }[] {
  const rng = mulberry32(seed);
  const out: { temperature: number; humidity: number }[] = [];
  let t = 2500;
  let h = 5000;
  for (let i = 0; i < n; i++) {
    t += Math.floor(rng.next() * 5) - 2;
    h += 3 * (Math.floor(rng.next() * 3) - 1);
    out.push({ temperature: t / 100, humidity: h / 100 });
  }
  return out;
}

/** One 30-reading window of `values` starting at reading `from`, sent as seqs `seq0`…, shifted by `shift`. */
function windowOf(
  values: readonly { temperature: number; humidity: number }[],
  from: number,
  seq0: number,
  shift = { temperature: 0, humidity: 0 },
  drop: readonly number[] = [],
): WindowInput {
  const arrivals: Arrival[] = [];
  for (let i = 0; i < 30; i++) {
    if (drop.includes(i)) continue;
    const v = values[from + i] as { temperature: number; humidity: number };
    const k = seq0 + i;
    arrivals.push({
      seq: k,
      t: 1_000_000 + k * 5_000,
      receivedAt: 1_000_000 + k * 5_000 + 40,
      values: {
        temperature: Math.round((v.temperature + shift.temperature) * 100) / 100,
        humidity: Math.round((v.humidity + shift.humidity) * 100) / 100,
      },
      batteryMv: 3000,
    });
  }
  return { windowStart: 1_000_000 + seq0 * 5_000, windowEnd: 1_000_000 + (seq0 + 30) * 5_000, arrivals, frameErrors: 0, duplicates: 0 };
}

/** The site's index of marks: first window per mark. */
function indexOf(windows: readonly { window: number; marks: readonly number[] }[]): (m: number) => MarkOrigin | undefined {
  const first: Record<string, number> = {};
  for (const { window, marks } of windows) for (const m of marks) if (!(String(m) in first)) first[String(m)] = window;
  return (m) => (String(m) in first ? { deviceId: 'peer', window: first[String(m)] as number } : undefined);
}

describe('copy check', () => {
  const peer = walk(1, 400);
  const own = walk(2, 400);
  // The peer's windows 0..9 (readings 0..299), as the site recorded them.
  const site = Array.from({ length: 10 }, (_, w) => ({ window: w, marks: computeMarks(windowOf(peer, w * 30, w * 30)) }));

  it('marks are sorted, distinct, at most MARK_MAX, and the same on every run', () => {
    const m = computeMarks(windowOf(own, 0, 0));
    expect(m.length).toBeGreaterThan(2);
    expect(m.length).toBeLessThanOrEqual(MARK_MAX);
    expect(checkMarks(m, 'marks')).toBe(m);
    expect(computeMarks(windowOf(own, 0, 0))).toEqual(m);
  });

  it("a replay of a peer's earlier readings, shifted to this device's level and cut elsewhere, is counted; an honest window is not", () => {
    // The forger sends the peer's readings 97..126 (across the peer's windows 3 and 4) in its own
    // window 20, shifted by +1.37 °C and −4.2 %RH, under its own sequence numbers.
    const replayed = computeMarks(windowOf(peer, 97, 600, { temperature: 1.37, humidity: -4.2 }));
    expect(countCopies(20, replayed, indexOf(site))).toBeGreaterThan(defaultThresholds()['copy'] as number);
    // With one reading lost on the air the rest still matches.
    const lossy = computeMarks(windowOf(peer, 97, 600, { temperature: 1.37, humidity: -4.2 }, [14]));
    expect(countCopies(20, lossy, indexOf(site))).toBeGreaterThan(defaultThresholds()['copy'] as number);
    for (let w = 0; w < 10; w++) expect(countCopies(20, computeMarks(windowOf(own, w * 30, 600 + w * 30)), indexOf(site))).toBe(0);
    // Only earlier windows count: the peer's own windows are not copies of themselves.
    for (const { window, marks } of site) expect(countCopies(window, marks, indexOf(site))).toBe(0);
  });

  it('calm air (no steps) makes no marks, so a still sensor is never a "copy" of another', () => {
    const still = Array.from({ length: 60 }, () => ({ temperature: 21.5, humidity: 40.2 }));
    expect(computeMarks(windowOf(still, 0, 0))).toEqual([]);
  });

  it('the device state flags copy above its threshold (two marks by default)', () => {
    const p: TrafficProfile = { deviceId: 'dev-a', window: 0, features: computeFeatures(windowOf(own, 0, 0)) };
    const judged = (copies: number) => advanceDevice(emptyDeviceState(), p, defaultThresholds(), { copies }).judgement;
    expect(judged(2).flagged).toEqual([]);
    expect(judged(3)).toMatchObject({ trafficProven: false, flagged: [{ feature: 'copy', delta: 3, threshold: 2 }] });
    expect(() => judged(-1)).toThrow(/copies must be a non-negative integer/);
  });

  it('malformed marks are refused with the field named', () => {
    expect(() => checkMarks([3, 1], 'profile.marks')).toThrow(/profile.marks must be ascending/);
    expect(() => checkMarks([1.5], 'profile.marks')).toThrow(/profile.marks\[0\] must be an integer/);
    expect(() => checkMarks([2 ** 32], 'profile.marks')).toThrow(/must be an integer in \[0, 2\^32\)/);
    expect(() =>
      checkMarks(
        Array.from({ length: MARK_MAX + 1 }, (_, i) => i),
        'profile.marks',
      ),
    ).toThrow(/at most 16/);
    const p = { deviceId: 'dev-a', window: 0, features: { count: 1 }, marks: [5, 5] };
    expect(() => advanceDevice(emptyDeviceState(), p, defaultThresholds())).toThrow(/marks must be ascending and distinct/);
  });
});

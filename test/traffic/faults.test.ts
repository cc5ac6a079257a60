/**
 * Each seed fault type, injected into real readings (Suthaharan et al. data set, one indoor
 * and one outdoor mote), must be flagged by the contract's model through the same feature and
 * history code the edge and the contract run; and a clean stretch of the same motes must not be.
 */
import { describe, expect, it } from 'vitest';
import { MIN_HISTORY, defaultThresholds } from '../../shared/traffic/model.js';
import { loadDataset } from '../../bench/traffic-eval/dataset.js';
import { injectedRun } from '../../bench/traffic-eval/eval.js';
import { DEVICE_FAULTS } from '../../bench/traffic-eval/faults.js';
import { modelDetector, profilesOf, replay } from '../../bench/traffic-eval/replay.js';
import { simulateMote } from '../../bench/traffic-eval/simulate.js';

const WINDOW_MS = 150_000;
const SEED = 11;
const data = loadDataset();
const motes = data.filter((s) => s.moteId === 2 || s.moteId === 3);

/**
 * F1 each fault type must reach on this test's motes and seed (clean windows of the same run
 * count as the negatives, as in the eval). The target is 0.9 per injected fault type;
 * the full eval (4 motes, seeds 1–5, docs/traffic-profiles.md) meets it for six types. Drift
 * (0.83–0.95) and value modification (0.83–0.89) miss it on some eval seeds; here they reach
 * 0.92, and their bar sits a little below that (0.88) so a regression fails while the test does
 * not claim the target the eval does not meet.
 */
const F1_BAR: Record<(typeof DEVICE_FAULTS)[number], number> = {
  stuck: 0.9,
  spikes: 0.9,
  drift: 0.88,
  noise: 0.9,
  battery: 0.9,
  modification: 0.88,
  injection: 0.9,
  rate: 0.9,
};

describe.each(DEVICE_FAULTS)('fault %s', (type) => {
  it('is flagged in most of its windows and in every mote it is injected into, with few flags on its clean windows', () => {
    let faulty = 0;
    let caught = 0;
    let clean = 0;
    let falseFlags = 0;
    let episodes = 0;
    let found = 0;
    for (const series of motes) {
      const run = injectedRun(series, type, WINDOW_MS, SEED, { donors: data });
      expect(run.episodes.length).toBeGreaterThan(3);
      expect(run.episodes.every((e) => e.type === type)).toBe(true);
      const judged = replay(profilesOf(run), modelDetector(defaultThresholds()));
      const foundHere: Record<number, true> = {};
      judged.forEach((j, i) => {
        const w = run.windows[i]!;
        if (w.realEvent || j.index < MIN_HISTORY) return;
        if (!w.faulty) {
          clean++;
          if (j.judgement.discrepancyStatus) falseFlags++;
          return;
        }
        faulty++;
        if (j.judgement.discrepancyStatus) {
          caught++;
          foundHere[w.episode] = true;
          // The verdict says what tripped.
          expect(j.judgement.flagged.length).toBeGreaterThan(0);
        }
      });
      episodes += run.episodes.length;
      found += Object.keys(foundHere).length;
      expect(Object.keys(foundHere).length).toBeGreaterThan(0);
    }
    expect(faulty).toBeGreaterThan(20);
    expect(clean).toBeGreaterThan(100);
    const precision = caught / (caught + falseFlags);
    const recall = caught / faulty;
    const f1 = (2 * precision * recall) / (precision + recall);
    expect(f1, `${type}: P ${precision.toFixed(3)} R ${recall.toFixed(3)}`).toBeGreaterThanOrEqual(F1_BAR[type]);
    expect(found / episodes).toBeGreaterThanOrEqual(0.9);
  });
});

describe('clean stretch', () => {
  // Windows 46–105 (about 1 h 55 min to 4 h 25 min into the recording): a calm stretch on both
  // motes. Outside it the data holds real, unlabelled environment changes (both indoor motes
  // warm up together at window ~122, both outdoor motes see humidity fall at ~107) that the
  // model flags on purpose.
  const FROM = 46;
  const TO = 106;
  it('is not flagged: a calm hour and a half of an indoor and an outdoor mote, as recorded', () => {
    for (const series of motes) {
      const run = simulateMote(series, [], WINDOW_MS, SEED);
      const judged = replay(profilesOf(run), modelDetector(defaultThresholds()));
      const stretch = judged.slice(FROM, TO);
      expect(stretch.length).toBe(TO - FROM);
      expect(stretch.every((j) => j.judgement.basis >= MIN_HISTORY && !run.windows[j.index]!.realEvent)).toBe(true);
      const flagged = stretch.filter((j) => j.judgement.discrepancyStatus).map((j) => [j.index, j.judgement.flagged]);
      expect(flagged, `mote ${series.moteId}`).toEqual([]);
    }
  });

  it('the same run with an episode flags only around the episode', () => {
    const series = motes[0]!;
    const run = simulateMote(series, [{ type: 'spikes', start: 20, end: 23, channel: 'temperature' }], WINDOW_MS, SEED);
    const judged = replay(profilesOf(run), modelDetector(defaultThresholds()));
    const flaggedAt = judged.filter((j) => j.judgement.discrepancyStatus).map((j) => j.index);
    expect(flaggedAt.filter((w) => w < 36)).toEqual([20, 21, 22]);
  });
});

describe('realistic forgers and fault sizes (injectors)', () => {
  const series = motes[1]!; // outdoor mote 3
  const donor = motes[0]!.rows.map((r) => ({ humidity: r.humidity, temperature: r.temperature }));
  const values = (run: ReturnType<typeof simulateMote>, w: number, ch: string): number[] =>
    run.windows[w]!.input.arrivals.map((a) => a.values[ch] as number);
  const diffs = (xs: number[]): number[] => xs.slice(1).map((x, i) => x - xs[i]!);
  const clean = simulateMote(series, [], WINDOW_MS, SEED);

  it('replay sends another device’s genuine readings on both channels, shifted to start at the current level', () => {
    const run = simulateMote(series, [{ type: 'replay', start: 30, end: 33, channel: 'temperature' }], WINDOW_MS, SEED, {
      magnitude: 1,
      donor,
    });
    expect(run.windows[31]!.faulty).toBe(true);
    for (const ch of ['temperature', 'humidity']) {
      const got = diffs(values(run, 31, ch));
      const own = diffs(values(clean, 31, ch));
      expect(got).not.toEqual(own);
      // Step sizes are the donor's genuine ones: 0.01-quantised, no constant values.
      expect(new Set(got.map((d) => Math.round(d * 100))).size).toBeGreaterThan(1);
    }
    const before = values(clean, 29, 'temperature');
    expect(Math.abs(values(run, 30, 'temperature')[0]! - before[before.length - 1]!)).toBeLessThan(1);
  });

  it('mimic keeps the channel’s genuine fine-scale variation but pins its level; ramp adds a slow slope', () => {
    const mimic = simulateMote(series, [{ type: 'mimic', start: 30, end: 40, channel: 'humidity' }], WINDOW_MS, SEED, { magnitude: 1 });
    const ms = values(mimic, 35, 'humidity');
    const cs = values(clean, 35, 'humidity');
    const rough = (xs: number[]): number => diffs(xs).reduce((s, d) => s + Math.abs(d), 0) / (xs.length - 1);
    expect(rough(ms)).toBeGreaterThan(0.3 * rough(cs));
    expect(rough(ms)).toBeLessThan(3 * rough(cs) + 0.05);
    const mean = (xs: number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(Math.abs(mean(values(mimic, 36, 'humidity')) - mean(values(mimic, 34, 'humidity')))).toBeLessThan(0.5);
    const ramp = simulateMote(series, [{ type: 'ramp', start: 30, end: 46, channel: 'temperature' }], WINDOW_MS, SEED, { magnitude: 1 });
    const gained = mean(values(ramp, 45, 'temperature')) - mean(values(clean, 45, 'temperature'));
    // 0.05–0.15 °C/min over ~38 min.
    expect(Math.abs(gained)).toBeGreaterThan(1.5);
    expect(Math.abs(gained)).toBeLessThan(6.5);
  });

  it('magnitude scales the fault size', () => {
    const shiftAt = (m: number): number => {
      const run = simulateMote(series, [{ type: 'modification', start: 30, end: 33, channel: 'temperature' }], WINDOW_MS, SEED, {
        magnitude: m,
      });
      return values(run, 31, 'temperature')[0]! - values(clean, 31, 'temperature')[0]!;
    };
    expect(shiftAt(0.5) / shiftAt(1)).toBeCloseTo(0.5, 1);
    expect(shiftAt(2) / shiftAt(1)).toBeCloseTo(2, 1);
  });
});

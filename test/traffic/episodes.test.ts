/**
 * The model's episode-aware checks (docs/traffic-profiles.md §2): a channel constant over a whole
 * window (`still`), a slope that keeps its sign over consecutive windows (`trend`), a one-window
 * level step that the other channel does not share (`shift`), and the return to the level from
 * before a faulty window that slipped through (break anchor), which must not count as a new jump.
 * Built on the hand-made steady device of fixtures.ts so each case can be worked out on paper.
 */
import { describe, expect, it } from 'vitest';
import { computeFeatures, type WindowInput } from '../../shared/traffic/features.js';
import { defaultThresholds, judgeProfile, learnModel, type TrafficProfile } from '../../shared/traffic/model.js';
import { steadyWindow } from './fixtures.js';

const profile = (w: number, input: WindowInput): TrafficProfile => ({ deviceId: 'dev-1', window: w, features: computeFeatures(input) });
const steady = (w: number, offset = 0): TrafficProfile => profile(w, steadyWindow(w, { offset }));
const names = (history: readonly TrafficProfile[], p: TrafficProfile): string[] =>
  judgeProfile(history, p, defaultThresholds()).flagged.map((f) => f.feature);

/** The steady window with its humidity replaced by `f(i)` (i = reading index in the window). */
function withHumidity(w: number, f: (i: number) => number): TrafficProfile {
  const input = steadyWindow(w);
  return profile(w, { ...input, arrivals: input.arrivals.map((a, i) => ({ ...a, values: { ...a.values, humidity: f(i) } })) });
}

/** The steady window with `perMin` units per minute added to the temperature, from `start` on. */
function withTempRamp(w: number, perMin: number, start: number): TrafficProfile {
  const input = steadyWindow(w);
  return profile(w, {
    ...input,
    arrivals: input.arrivals.map((a) => ({
      ...a,
      values: { ...a.values, temperature: (a.values['temperature'] as number) + (perMin * (a.t - start)) / 60_000 },
    })),
  });
}

describe('still: a channel constant over the whole window', () => {
  it('is flagged when the history hardly ever held a constant window, and not when it often did', () => {
    const h = Array.from({ length: 20 }, (_, w) => steady(w));
    const stuck = withHumidity(20, () => 50.1);
    expect(stuck.features['ch.humidity.flat']).toBe(1);
    expect(names(h, stuck)).toContain('ch.humidity.still');

    // A sensor that is often constant (every other window) earns no still flag for one more.
    const calm = Array.from({ length: 20 }, (_, w) => (w % 2 === 0 ? withHumidity(w, () => 50.1) : steady(w)));
    expect(learnModel(calm).stillShare['ch.humidity.flat']).toEqual({ share: 0.5, n: 20 });
    expect(
      names(
        calm,
        withHumidity(20, () => 50.1),
      ),
    ).not.toContain('ch.humidity.still');
  });
});

describe('trend: a drift keeps its slope window after window', () => {
  it('sums the standardised slope of the judged window and the accepted ones before it', () => {
    const h = Array.from({ length: 20 }, (_, w) => steady(w));
    const model = learnModel(h);
    expect(model.recent.map((p) => p.window)).toEqual([18, 19]);
    const slopeStats = model.features['ch.temperature.slope'];
    expect(slopeStats).toBeDefined();
    // A gentle ramp, δ(slope) = 6, half the per-window slope threshold, in each of three windows:
    // trend δ = 6/√3, 12/√3, 18/√3 ≈ 3.5, 6.9, 10.4 against t = 9.
    const t0 = steadyWindow(20).arrivals[0]!.t;
    const perMin = 6 * slopeStats!.spread;
    const a = withTempRamp(20, perMin, t0);
    const first = judgeProfile(h, a, defaultThresholds());
    const slopeDelta = (j: typeof first): number | undefined => j.flagged.find((f) => f.feature === 'ch.temperature.slope')?.delta;
    expect(slopeDelta(first)).toBeUndefined();
    // Only one window of it so far: the trend over three needs the two before to agree.
    expect(first.flagged.map((f) => f.feature)).not.toContain('ch.temperature.trend');
    const second = withTempRamp(21, perMin, t0);
    expect(judgeProfile([...h, a], second, defaultThresholds()).trafficProven).toBe(true);
    const h2 = [...h, a, second];
    const third = judgeProfile(h2.slice(-32), withTempRamp(22, perMin, t0), defaultThresholds());
    expect(third.flagged.map((f) => f.feature)).toContain('ch.temperature.trend');
    expect(slopeDelta(third)).toBeUndefined();
  });
});

describe('shift: a level step one channel takes alone', () => {
  it('is flagged for the channel that stepped, not for the one that held', () => {
    const h = Array.from({ length: 20 }, (_, w) => steady(w));
    const flagged = names(h, steady(20, 2));
    expect(flagged).toContain('ch.temperature.shift');
    expect(flagged).not.toContain('ch.humidity.shift');
  });
});

describe('anchors: the end of a fault that slipped through is not a new fault', () => {
  it('a window back at the level from before the gap continues it (break anchor); a new level does not', () => {
    const h = Array.from({ length: 20 }, (_, w) => steady(w));
    // Windows 20–21 were flagged (not in the history); window 22 slipped through with an offset.
    const withSlip = [...h, steady(22, 3)];
    expect(learnModel(withSlip).continuity.find((c) => c.channel === 'temperature')?.breakAnchor?.window).toBe(19);
    // Back to the true level: continues window 19 (three windows back), so no jump and no shift.
    expect(names(withSlip, steady(23)).filter((f) => f.startsWith('ch.temperature'))).toEqual([]);
    // Somewhere else entirely: neither the offset level nor the old one.
    expect(names(withSlip, steady(23, 6))).toContain('ch.temperature.jump');
  });

  it('without a gap, an older accepted window that the level matches closely is continued too (the end of a drift)', () => {
    const h = Array.from({ length: 20 }, (_, w) => steady(w));
    const drifted = [...h, steady(20, 3)];
    expect(learnModel(drifted).continuity.find((c) => c.channel === 'temperature')?.breakAnchor).toBeUndefined();
    expect(learnModel(drifted).continuity.find((c) => c.channel === 'temperature')?.older[0]?.window).toBe(19);
    expect(names(drifted, steady(21)).filter((f) => f.startsWith('ch.temperature'))).toEqual([]);
    expect(names(drifted, steady(21, -3))).toContain('ch.temperature.jump');
  });
});

/**
 * The contract's per-device state machine (shared/traffic/device-state.ts): a fault that lasts
 * longer than the continuity horizon is remembered, so its end is not a new fault; the warm-up is
 * judged against the device class's registered profile; the authority's acknowledgement
 * re-anchors; a battery that drains faster is seen window after window; the sampling-period floor
 * keeps a loaded host's late timers from flagging every device.
 */
import { describe, expect, it } from 'vitest';
import { computeFeatures, type WindowInput } from '../../shared/traffic/features.js';
import { checkClassProfile, classDeltas, learnClassProfile } from '../../shared/traffic/class-profile.js';
import { acknowledgeChange, advanceDevice, emptyDeviceState, YOUNG_HISTORY, type DeviceState } from '../../shared/traffic/device-state.js';
import { CONTINUITY_HORIZON, defaultThresholds, judgeProfile, MIN_HISTORY, type TrafficProfile } from '../../shared/traffic/model.js';
import { steadyWindow } from './fixtures.js';

const profile = (w: number, input: WindowInput, deviceId = 'dev-1'): TrafficProfile => ({
  deviceId,
  window: w,
  features: computeFeatures(input),
});
const steady = (w: number, offset = 0): TrafficProfile => profile(w, steadyWindow(w, { offset }));

/** Runs profiles through the state machine; returns the verdicts (flagged feature names) and the final state. */
function run(
  profiles: readonly TrafficProfile[],
  start: DeviceState = emptyDeviceState(),
  opts = {},
): { flags: string[][]; state: DeviceState } {
  let state = start;
  const flags = profiles.map((p) => {
    const { judgement, next } = advanceDevice(state, p, defaultThresholds(), opts);
    state = next;
    return judgement.flagged.map((f) => f.feature);
  });
  return { flags, state };
}

describe('fault state: the accepted normal a lasting fault cannot overwrite', () => {
  it('an offset that outlasts the continuity horizon persists as a fault, and its end is not a new fault', () => {
    const warm = run(Array.from({ length: 20 }, (_, w) => steady(w)));
    const len = CONTINUITY_HORIZON + 6;
    const offset = run(
      Array.from({ length: len }, (_, k) => steady(20 + k, 3)),
      warm.state,
    );
    // Flagged from its first window until the horizon, then accepted without judgement: but the
    // fault stays open, with the accepted normal from before it in memory.
    expect(offset.flags[0]).toContain('ch.temperature.jump');
    expect(offset.flags.slice(0, CONTINUITY_HORIZON + 1).every((f) => f.length > 0)).toBe(true);
    expect(offset.state.fault?.since).toBe(20);
    expect(offset.state.fault?.memory?.window).toBe(19);
    // The true level comes back: continuous with the memory (and the offset removed), so accepted,
    // and the fault closes; the windows after it are accepted too.
    const after = run(
      Array.from({ length: 6 }, (_, k) => steady(20 + len + k)),
      offset.state,
    );
    expect(after.flags).toEqual([[], [], [], [], [], []]);
    expect(after.state.fault).toBeUndefined();
    // Without the memory (the judge on the history alone), the same return is a jump.
    const plain = judgeProfile(offset.state.history, steady(20 + len), defaultThresholds());
    expect(plain.flagged.map((f) => f.feature)).toContain('ch.temperature.jump');
  });

  it('a fault that never moved a level (noise) closes at the first accepted window', () => {
    const warm = run(Array.from({ length: 20 }, (_, w) => steady(w)));
    const noisy = (w: number): TrafficProfile => {
      const input = steadyWindow(w);
      return profile(w, {
        ...input,
        arrivals: input.arrivals.map((a, i) => ({ ...a, values: { ...a.values, humidity: 50 + (i % 2 === 0 ? 2 : -2) } })),
      });
    };
    const r = run([noisy(20), noisy(21), steady(22)], warm.state);
    expect(r.flags[0]!.length).toBeGreaterThan(0);
    expect(r.flags[2]).toEqual([]);
    expect(r.state.fault).toBeUndefined();
  });

  it('the authority acknowledges a new level: the next window re-anchors without a continuity check', () => {
    const warm = run(Array.from({ length: 20 }, (_, w) => steady(w)));
    const moved = run([steady(20, 5), steady(21, 5)], warm.state);
    expect(moved.flags.every((f) => f.length > 0)).toBe(true);
    const acked = acknowledgeChange(moved.state);
    expect(acked.fault).toBeUndefined();
    const next = run([steady(22, 5), steady(23, 5)], acked);
    expect(next.flags).toEqual([[], []]);
  });
});

describe('warm-up against the class profile', () => {
  const classProfile = learnClassProfile([0, 1, 2].map(() => Array.from({ length: 12 }, (_, w) => steady(w))));

  it('is a checked, finite registry value', () => {
    expect(() => checkClassProfile(classProfile)).not.toThrow();
    expect(classProfile.n).toBe(36);
    expect(() => checkClassProfile({ ...classProfile, n: 3 })).toThrow(/n must be/);
    expect(() => learnClassProfile([[steady(0)]])).toThrow(/at least/);
  });

  it('a device stuck from its first window is flagged from its first window; a normal one is accepted', () => {
    const stuck = (w: number): TrafficProfile => {
      const input = steadyWindow(w);
      return profile(w, { ...input, arrivals: input.arrivals.map((a) => ({ ...a, values: { ...a.values, humidity: 50.1 } })) });
    };
    const bad = run(
      Array.from({ length: MIN_HISTORY + 2 }, (_, w) => stuck(w)),
      emptyDeviceState(),
      { classProfile },
    );
    expect(bad.flags.every((f) => f.includes('ch.humidity.still'))).toBe(true);
    expect(bad.state.history).toHaveLength(0);
    const good = run(
      Array.from({ length: MIN_HISTORY + 2 }, (_, w) => steady(w)),
      emptyDeviceState(),
      { classProfile },
    );
    expect(good.flags.every((f) => f.length === 0)).toBe(true);
    // Without a class profile the stuck device teaches the model (the old warm-up).
    expect(run(Array.from({ length: MIN_HISTORY }, (_, w) => stuck(w))).flags.every((f) => f.length === 0)).toBe(true);
  });

  it('a young device (fewer than YOUNG_HISTORY accepted profiles) keeps its own flags only where the class profile agrees', () => {
    // A window whose temperature climbs 0.29 °C: its slope and spread are far outside the steady
    // history. With the class's slopes registered wide (a class whose devices see sun and wind),
    // the young device's slope flag, learnt from nine windows, is dropped; the std flag the class
    // confirms stands. From YOUNG_HISTORY accepted profiles on, the device's own model judges alone.
    const sloped = (w: number): TrafficProfile => {
      const input = steadyWindow(w);
      return profile(w, {
        ...input,
        arrivals: input.arrivals.map((a, j) => ({
          ...a,
          values: { ...a.values, temperature: (a.values.temperature as number) + 0.01 * j },
        })),
      });
    };
    const wide = { ...classProfile, features: { ...classProfile.features, 'ch.temperature.slope': { centre: 0, spread: 1 } } };
    const judged = (n: number, cls: typeof classProfile): string[] => {
      const before = run(
        Array.from({ length: n }, (_, w) => steady(w)),
        emptyDeviceState(),
        { classProfile: cls },
      ).state;
      expect(before.history).toHaveLength(n);
      return advanceDevice(before, sloped(n), defaultThresholds(), { classProfile: cls }).judgement.flagged.map((f) => f.feature);
    };
    expect(YOUNG_HISTORY).toBeGreaterThan(MIN_HISTORY);
    expect(judged(MIN_HISTORY + 1, wide)).toEqual(['ch.temperature.std']);
    expect(judged(MIN_HISTORY + 1, classProfile)).toEqual(['ch.temperature.slope', 'ch.temperature.std']);
    expect(judged(YOUNG_HISTORY, wide)).toEqual(['ch.temperature.slope', 'ch.temperature.std']);
  });

  it('judges the level step from the last accepted warm-up window', () => {
    const d = classDeltas(classProfile, steady(3), steady(4, 4));
    expect(d.find((x) => x.feature === 'ch.temperature.jump')!.delta).toBeGreaterThan(defaultThresholds()['ch.*.jump']!);
  });
});

describe('battery.drop: a battery falling faster than it did', () => {
  const withDrain = (w: number, mvPerWindow: number): TrafficProfile => {
    const input = steadyWindow(w);
    return profile(w, { ...input, arrivals: input.arrivals.map((a) => ({ ...a, batteryMv: 3000 - Math.round(w * mvPerWindow) })) });
  };
  it('is flagged when the level falls several mV per window faster, not when a cell is swapped (it rises)', () => {
    const h = Array.from({ length: 20 }, (_, w) => withDrain(w, 1));
    const drop = judgeProfile(
      h,
      { ...withDrain(20, 1), features: { ...withDrain(20, 1).features, 'battery.mean': 3000 - 20 - 8 } },
      defaultThresholds(),
    );
    expect(drop.flagged.map((f) => f.feature)).toContain('battery.drop');
    const swap = judgeProfile(
      h,
      { ...withDrain(20, 1), features: { ...withDrain(20, 1).features, 'battery.mean': 3050 } },
      defaultThresholds(),
    );
    expect(swap.flagged.map((f) => f.feature)).not.toContain('battery.drop');
  });

  it('after a drain that stopped (a raised rate back to normal), the level it left is not a drop; a cell still dying is', () => {
    const warm = run(Array.from({ length: 20 }, (_, w) => withDrain(w, 1)));
    // Six windows sampling three times as fast (flagged), the battery falling 10 mV a window meanwhile.
    const fast = (w: number, mv: number): TrafficProfile => {
      const p = withDrain(w, 1);
      return {
        ...p,
        features: { ...p.features, count: 3 * (p.features.count as number), rate: 3 * (p.features.rate as number), 'battery.mean': mv },
      };
    };
    const raised = run(
      Array.from({ length: 6 }, (_, k) => fast(20 + k, 3000 - 20 - 10 * (k + 1))),
      warm.state,
    );
    expect(raised.flags.every((f) => f.includes('count') || f.includes('rate'))).toBe(true);
    // Back to the normal rate: the battery goes on from the lower level at 1 mV a window.
    const level = (w: number): number => 3000 - 20 - 60 - (w - 25);
    const back = run(
      [26, 27, 28].map((w) => ({ ...withDrain(w, 1), features: { ...withDrain(w, 1).features, 'battery.mean': level(w) } })),
      raised.state,
    );
    expect(back.flags).toEqual([[], [], []]);
    // The same level, still falling 10 mV a window: a drop.
    const dying = run(
      [26, 27].map((w) => ({ ...withDrain(w, 1), features: { ...withDrain(w, 1).features, 'battery.mean': 3000 - 20 - 10 * (w - 19) } })),
      raised.state,
    );
    expect(dying.flags.every((f) => f.includes('battery.drop'))).toBe(true);
  });
});

describe('inter-arrival floor: a share of the sampling period', () => {
  // The demo's boards: 2 readings/s, 2 s windows (4 readings); on a loaded host one timer fires
  // 120 ms late (the next one on time), which used to flag iat.mad and iat.median on every board.
  const win = (w: number, lateMs = 0, periodMs = 500): TrafficProfile => {
    const arrivals = Array.from({ length: Math.round(2000 / periodMs) }, (_, i) => {
      const k = w * 4 + i;
      const t = 1_000_000 + w * 2000 + i * periodMs + (i === 1 ? lateMs : 0);
      return { seq: k, t, receivedAt: t + 5, values: { '0': 21.5 }, batteryMv: 3000 };
    });
    return profile(w, {
      windowStart: 1_000_000 + w * 2000,
      windowEnd: 1_000_000 + (w + 1) * 2000,
      arrivals,
      frameErrors: 0,
      duplicates: 0,
    });
  };
  it('a late timer is not a discrepancy; sampling twice as fast still is', () => {
    const h = Array.from({ length: 20 }, (_, w) => win(w));
    expect(judgeProfile(h, win(20, 120), defaultThresholds()).flagged).toEqual([]);
    const fast = judgeProfile(h, win(20, 0, 250), defaultThresholds()).flagged.map((f) => f.feature);
    expect(fast).toContain('iat.median');
  });
});

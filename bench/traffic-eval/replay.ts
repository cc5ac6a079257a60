/**
 * Replays windows through the SAME code the edge and the contract run: computeFeatures (edge)
 * → the contract's per-device state machine (shared/traffic/device-state.ts: judgeProfile on the
 * last MODEL_HISTORY accepted profiles, the fault state, the class profile during warm-up).
 * The baselines see the same features under the same history rule (flagged profiles are never
 * learnt from) and are calibrated to a clean false-positive rate (calibrate.ts).
 */
import { computeMarks } from '../../shared/traffic/copies.js';
import { computeFeatures } from '../../shared/traffic/features.js';
import { MIN_HISTORY, MODEL_HISTORY, type Judgement, type Thresholds, type TrafficProfile } from '../../shared/traffic/model.js';
import { advanceDevice, emptyDeviceState, type ClassProfile } from '../../shared/traffic/device-state.js';
import type { SimRun } from './simulate.js';

/** Judges one device's profiles in window order (holds that device's state). */
export type Detector = (profile: TrafficProfile) => Judgement;
/** Makes a fresh detector for one device. */
export type DetectorFactory = () => Detector;

/**
 * The contract's model: thresholds, the device class's registered profile for the warm-up, and
 * (optional) the same-window profiles of the device's peers that their own model accepted.
 */
export function modelDetector(
  thresholds: Thresholds,
  classProfile?: ClassProfile,
  peersAt?: (window: number) => readonly TrafficProfile[],
  copies?: () => (profile: TrafficProfile) => number,
): DetectorFactory {
  return () => {
    let state = emptyDeviceState();
    const copiesOf = copies?.();
    return (profile) => {
      const { judgement, next } = advanceDevice(state, profile, thresholds, {
        ...(classProfile !== undefined ? { classProfile } : {}),
        ...(peersAt !== undefined ? { peers: peersAt(profile.window) } : {}),
        ...(copiesOf !== undefined ? { copies: copiesOf(profile) } : {}),
      });
      state = next;
      return judgement;
    };
  };
}

/** A baseline's per-feature score of one window against the accepted history (larger = stranger). */
type Scorer = (xs: readonly number[], x: number, f: string, state: Record<string, { pos: number; neg: number }>) => number;

/** A baseline detector: flags the window when some feature's score exceeds `level`. */
function baseline(name: string, level: number, scorer: Scorer): DetectorFactory {
  return () => {
    const accepted: TrafficProfile[] = [];
    const state: Record<string, { pos: number; neg: number }> = {};
    return (profile) => {
      const history = accepted.slice(-MODEL_HISTORY);
      if (history.length < MIN_HISTORY) {
        accepted.push(profile);
        return { trafficProven: true, discrepancyStatus: false, flagged: [], basis: history.length };
      }
      const flagged: Judgement['flagged'] = [];
      for (const f of Object.keys(profile.features).sort()) {
        const xs = history.map((p) => p.features[f]).filter((v): v is number => v !== undefined);
        if (xs.length < MIN_HISTORY) continue;
        const delta = scorer(xs, profile.features[f] as number, f, state);
        if (delta > level) flagged.push({ feature: `${name}:${f}`, delta, threshold: level });
      }
      if (flagged.length === 0) accepted.push(profile);
      if (accepted.length > MODEL_HISTORY) accepted.shift();
      return { trafficProven: flagged.length === 0, discrepancyStatus: flagged.length > 0, flagged, basis: history.length };
    };
  };
}

const meanStd = (xs: readonly number[]): [number, number] => {
  const m = xs.reduce((s, v) => s + v, 0) / xs.length;
  return [m, Math.sqrt(xs.reduce((s, v) => s + (v - m) * (v - m), 0) / xs.length)];
};
/** A feature that never moved in the history has no scale: the baselines skip it (score 0) rather than flag its first change. */
const ratio = (d: number, s: number): number => (s === 0 ? 0 : d / s);
const medianOf = (xs: readonly number[]): number => {
  const s = xs.slice().sort((a, b) => a - b);
  const k = s.length >> 1;
  return s.length % 2 === 1 ? (s[k] as number) : ((s[k - 1] as number) + (s[k] as number)) / 2;
};

/**
 * Baseline 1, the textbook first attempt: per feature, mean and standard deviation over the same
 * history; flag |z| > z. No robust statistics, no pairs, no continuity; a feature with no spread
 * in the history is skipped (otherwise its first change would be an infinite z and no level
 * could reach the model's false-positive rate).
 */
export function zScoreDetector(z = 3): DetectorFactory {
  return baseline('z', z, (xs, x) => {
    const [m, sd] = meanStd(xs);
    return ratio(Math.abs(x - m), sd);
  });
}

/**
 * Baseline 2, robust: per feature, |x − median| / (1.4826 · MAD) over the history (1.2533 · mean
 * absolute deviation when the MAD is 0, as for counts that mostly repeat); flag above `k`.
 */
export function medianMadDetector(k = 3.5): DetectorFactory {
  return baseline('mad', k, (xs, x) => {
    const med = medianOf(xs);
    const dev = xs.map((v) => Math.abs(v - med));
    const mad = 1.4826 * medianOf(dev);
    return ratio(Math.abs(x - med), mad > 0 ? mad : (1.2533 * dev.reduce((s, v) => s + v, 0)) / dev.length);
  });
}

/**
 * Baseline 3, sequential: a two-sided CUSUM per feature on the window's z-score against the
 * history (slack 0.5 σ), S⁺ = max(0, S⁺ + z − 0.5), S⁻ = max(0, S⁻ − z − 0.5); flag when either
 * exceeds `h`, and restart both sums after a flag. Catches small persistent shifts a one-window
 * rule misses.
 */
export function cusumDetector(h = 5): DetectorFactory {
  return baseline('cusum', h, (xs, x, f, state) => {
    const [m, sd] = meanStd(xs);
    const z = sd === 0 ? 0 : (x - m) / sd;
    const s = (state[f] ??= { pos: 0, neg: 0 });
    s.pos = Math.max(0, s.pos + z - 0.5);
    s.neg = Math.max(0, s.neg - z - 0.5);
    const score = Math.max(s.pos, s.neg);
    if (score > h) {
      s.pos = 0;
      s.neg = 0;
    }
    return score;
  });
}

/** The baselines, by name, as functions of their level (the calibrated knob). */
export const BASELINES = {
  'z-score': zScoreDetector,
  'median/MAD': medianMadDetector,
  CUSUM: cusumDetector,
} as const;
/** A baseline's name. */
export type BaselineName = keyof typeof BASELINES;

/** One judged window. */
export interface JudgedWindow {
  readonly index: number;
  readonly profile: TrafficProfile;
  readonly judgement: Judgement;
}

/** Profiles of a run's windows (features computed once, shared by every detector). */
export function profilesOf(run: SimRun): TrafficProfile[] {
  return run.windows.map((w) => ({
    deviceId: `mote-${run.moteId}`,
    window: w.index,
    features: computeFeatures(w.input),
    marks: computeMarks(w.input),
  }));
}

/** Judges every profile of one device in order with a fresh detector. */
export function replay(profiles: readonly TrafficProfile[], detector: DetectorFactory): JudgedWindow[] {
  const judge = detector();
  return profiles.map((profile) => ({ index: profile.window, profile, judgement: judge(profile) }));
}

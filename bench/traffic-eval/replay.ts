/**
 * Replays windows through the SAME code the edge and the contract run: computeFeatures (edge)
 * → judgeProfile (contract) with the contract's history rule (the last MODEL_HISTORY ACCEPTED
 * profiles, oldest first; flagged ones are stored but never learnt from). The baseline detector
 * sees the same features under the same history rule.
 */
import { computeFeatures } from '../../shared/traffic/features.js';
import {
  MIN_HISTORY,
  MODEL_HISTORY,
  judgeProfile,
  type Judgement,
  type Thresholds,
  type TrafficProfile,
} from '../../shared/traffic/model.js';
import type { SimRun } from './simulate.js';

/** A detector: the contract's judge or a baseline, same signature. */
export type Detector = (history: readonly TrafficProfile[], profile: TrafficProfile) => Judgement;

/** The contract's model with a threshold vector. */
export function modelDetector(thresholds: Thresholds): Detector {
  return (history, profile) => judgeProfile(history, profile, thresholds);
}

/**
 * Baseline: a fixed z-score rule, the textbook first attempt. Per feature, mean and standard
 * deviation over the same history; flag |z| > z (3 by default). No robust statistics, no floors,
 * no pairs: a feature that never moved (frame errors always 0) trips on its first event.
 */
export function zScoreDetector(z = 3): Detector {
  return (history, profile) => {
    if (history.length < MIN_HISTORY) return { trafficProven: true, discrepancyStatus: false, flagged: [], basis: history.length };
    const flagged: Judgement['flagged'] = [];
    for (const f of Object.keys(profile.features).sort()) {
      const xs = history.map((p) => p.features[f]).filter((v): v is number => v !== undefined);
      if (xs.length < MIN_HISTORY) continue;
      const m = xs.reduce((s, v) => s + v, 0) / xs.length;
      const sd = Math.sqrt(xs.reduce((s, v) => s + (v - m) * (v - m), 0) / xs.length);
      const d = Math.abs((profile.features[f] as number) - m);
      const delta = sd === 0 ? (d === 0 ? 0 : Number.MAX_VALUE) : d / sd;
      if (delta > z) flagged.push({ feature: f, delta, threshold: z });
    }
    return { trafficProven: flagged.length === 0, discrepancyStatus: flagged.length > 0, flagged, basis: history.length };
  };
}

/** One judged window. */
export interface JudgedWindow {
  readonly index: number;
  readonly profile: TrafficProfile;
  readonly judgement: Judgement;
}

/** Profiles of a run's windows (features computed once, shared by every detector). */
export function profilesOf(run: SimRun): TrafficProfile[] {
  return run.windows.map((w) => ({ deviceId: `mote-${run.moteId}`, window: w.index, features: computeFeatures(w.input) }));
}

/** Judges every profile in order under the contract's history rule. */
export function replay(profiles: readonly TrafficProfile[], detect: Detector): JudgedWindow[] {
  const accepted: TrafficProfile[] = [];
  return profiles.map((profile) => {
    const judgement = detect(accepted.slice(-MODEL_HISTORY), profile);
    if (judgement.trafficProven) accepted.push(profile);
    if (accepted.length > MODEL_HISTORY) accepted.shift();
    return { index: profile.window, profile, judgement };
  });
}

/**
 * The Traffic Profile Provenance model (talk, Algorithm 4; BRIEF §6.4 and §9): learn a
 * correlation model C from a device's recent ACCEPTED profiles and judge a new profile against
 * it. The contract calls `judgeProfile` inside every endorser, so the decision must be the same
 * bits everywhere:
 *
 * - only +, -, *, /, Math.sqrt, Math.abs/min/max and comparisons (IEEE-754 exact on every
 *   platform); no Math.exp/log/pow/trig, no Math.random, no dates;
 * - features are visited in code-unit-sorted key order; no Map/Set iteration;
 * - every input number is checked finite (NaN/Infinity → RangeError naming the field).
 *
 * The model C:
 * - per feature f: centre = median of f over the history, spread = max(1.4826·MAD,
 *   1.2533·mean absolute deviation from the median, floor(f)), where the floor keeps a feature
 *   that never moved in history (frame errors always 0) from tripping on a single event;
 *   δ(f) = |f − centre| / spread;
 * - per pair (x, y) of related features (two channels' means, e.g. temperature vs humidity;
 *   rate vs battery slope): least-squares fit y = a + b·x over the history, used only when the
 *   history shows the relation (|Pearson r| ≥ PAIR_MIN_CORR); δ = |y − (a + b·x)| / residual
 *   spread (robust, floored like the features). A pair catches a change that keeps each feature
 *   inside its own range but breaks their relation (one channel modified or drifting).
 * A feature or pair is flagged when δ > t, t from the threshold vector (exact name, then
 * `ch.*.<stat>` for channel features, then `*~*` for pairs, then `*`).
 *
 * The contract's side of the bargain (H4a, ledger-bridge/contracts): it stores every profile
 * with its verdict, but passes `judgeProfile` only the last MODEL_HISTORY profiles of the device
 * that were ACCEPTED (trafficProven), oldest first. A flagged profile therefore never becomes
 * part of the model it is judged by: a persistent fault stays flagged instead of being learnt.
 * While fewer than MIN_HISTORY accepted profiles exist, every profile is accepted (and so learnt
 * from): the device's first windows define its normal behaviour. The flip side: a genuine,
 * lasting change of behaviour (moved sensor) keeps being flagged until an operator re-baselines
 * the device; the contract must not accept it on its own, or a patient attacker could walk the
 * model anywhere.
 */
import { byCodeUnit } from './features.js';

/** One device's feature vector for one window, as carried by the Traffic Profile transaction. */
export interface TrafficProfile {
  readonly deviceId: string;
  /** Window index (window start / window length); increasing per device. */
  readonly window: number;
  /** Feature name → value (see features.ts). Finite numbers only. */
  readonly features: Readonly<Record<string, number>>;
}

/** Threshold vector t: feature or pair name (or wildcard, see module doc) → δ limit. */
export type Thresholds = Record<string, number>;

/** The contract's verdict for one profile. */
export interface Judgement {
  /** True when no feature and no pair tripped (always true below MIN_HISTORY). */
  readonly trafficProven: boolean;
  /** The negation of trafficProven: a discrepancy was detected. */
  readonly discrepancyStatus: boolean;
  /** What tripped, sorted by name: δ and the threshold it exceeded. Pairs are named `x~y`. */
  readonly flagged: { feature: string; delta: number; threshold: number }[];
  /** How many history profiles the model was learnt from. */
  readonly basis: number;
}

/** How many recent ACCEPTED profiles the contract keeps per device and passes to judgeProfile. */
export const MODEL_HISTORY = 32;
/** Below this many accepted profiles, a profile is accepted unjudged and only learnt from. */
export const MIN_HISTORY = 8;
/** Pairs enter the model only when their history correlation is at least this strong. */
export const PAIR_MIN_CORR = 0.6;
/**
 * Continuity is judged against the last accepted window only while at most this many windows
 * were skipped since: a lasting level change (a moved sensor, a weather front, a persistent
 * offset) is flagged for this many windows, after which the model re-anchors on it instead of
 * locking the device out for ever. Its end (the offset removed) is then the next discontinuity.
 */
export const CONTINUITY_HORIZON = 5;
/** Largest threshold a transaction may carry: a lying edge cannot switch the check off. */
export const MAX_THRESHOLD = 100;

/** The default threshold vector (tuned with `provenant traffic eval`, docs/traffic-profiles.md). */
export function defaultThresholds(): Thresholds {
  return {
    '*': 6,
    '*~*': 10,
    'rate~battery.slope': 6,
    'battery.slope': 8,
    'ch.*.dmean': 20,
    'ch.*.flat': 7,
    'ch.*.jump': 12,
    'ch.*.slope': 12,
    'ch.*.std': 25,
  };
}

/** Learnt statistics of one feature. */
export interface FeatureStats {
  readonly centre: number;
  readonly spread: number;
  readonly n: number;
}

/** Learnt linear relation between two features. */
export interface PairStats {
  readonly x: string;
  readonly y: string;
  readonly intercept: number;
  readonly slope: number;
  readonly corr: number;
  readonly spread: number;
  readonly n: number;
}

/** The correlation model C learnt from a history. */
export interface CorrelationModel {
  readonly features: Readonly<Record<string, FeatureStats>>;
  readonly continuity: readonly ContinuityStats[];
  readonly pairs: readonly PairStats[];
  readonly basis: number;
  /** Window of the last accepted profile (-1 for an empty history). */
  readonly lastWindow: number;
}

/** Learnt continuity of one channel between consecutive windows. */
export interface ContinuityStats {
  readonly channel: string;
  /** Tail (mean of the last three values) of the last accepted window. */
  readonly lastTail: number;
  /** Usual head(next) − tail(previous) between consecutive accepted windows, and its spread. */
  readonly jumpCentre: number;
  readonly jumpSpread: number;
  /** Usual tail − head within a window, and its spread. */
  readonly moveCentre: number;
  readonly moveSpread: number;
}

/**
 * Level features (a channel's mean, min, max, head, tail; the battery's mean) follow the
 * environment and wander far over an hour: they are not judged against the history's centre
 * (that flags every warm afternoon) but through continuity (`ch.<id>.jump`).
 */
export function isLevelFeature(name: string): boolean {
  if (name === 'battery.mean') return true;
  if (!name.startsWith('ch.')) return false;
  const stat = name.slice(name.lastIndexOf('.') + 1);
  return stat === 'mean' || stat === 'min' || stat === 'max' || stat === 'head' || stat === 'tail';
}

/** Learns C from the accepted history (oldest first, windows increasing). Features with < MIN_HISTORY values are left out. */
export function learnModel(history: readonly TrafficProfile[]): CorrelationModel {
  const names: Record<string, true> = {};
  history.forEach((p, i) => {
    checkProfile(p, `history[${i}]`);
    const prev = history[i - 1];
    if (prev !== undefined && !(p.window > prev.window)) {
      throw new RangeError(`history must be in increasing window order: history[${i}].window ${p.window} after ${prev.window} (device ${p.deviceId})`);
    }
    for (const k of Object.keys(p.features)) names[k] = true;
  });
  const sorted = Object.keys(names).sort(byCodeUnit);
  const features: Record<string, FeatureStats> = {};
  for (const f of sorted) {
    if (isLevelFeature(f)) continue;
    const xs = column(history, f);
    if (xs.length < MIN_HISTORY) continue;
    const centre = median(xs);
    features[f] = { centre, spread: Math.max(robustSpread(xs, centre), floorFor(f, centre)), n: xs.length };
  }
  const continuity: ContinuityStats[] = [];
  for (const f of sorted) {
    if (!f.startsWith('ch.') || !f.endsWith('.head')) continue;
    const c = fitContinuity(history, f.slice(3, f.length - 5));
    if (c !== undefined) continuity.push(c);
  }
  const pairs: PairStats[] = [];
  for (const [x, y] of candidatePairs(sorted)) {
    const pair = fitPair(history, x, y);
    if (pair !== undefined) pairs.push(pair);
  }
  const last = history[history.length - 1];
  return { features, continuity, pairs, basis: history.length, lastWindow: last === undefined ? -1 : last.window };
}

/**
 * Continuity of one channel: a window must start (head) where the last accepted window ended
 * (tail), give or take the usual step between windows; when windows were skipped (flagged),
 * the usual within-window move is added per skipped window, its spread growing with √skipped.
 * A shifted or injected level breaks continuity at once; a natural fall, however fast, is
 * continuous and passes; and once the fault ends, the next window continues the last good one.
 */
function fitContinuity(history: readonly TrafficProfile[], ch: string): ContinuityStats | undefined {
  const head = `ch.${ch}.head`;
  const tail = `ch.${ch}.tail`;
  const jumps: number[] = [];
  const moves: number[] = [];
  const steps: number[] = [];
  let lastTail: number | undefined;
  for (let i = 0; i < history.length; i++) {
    const p = history[i] as TrafficProfile;
    const h = p.features[head];
    const t = p.features[tail];
    const d = p.features[`ch.${ch}.dmean`];
    if (h === undefined || t === undefined) continue;
    moves.push(t - h);
    if (d !== undefined) steps.push(d);
    const prev = history[i - 1];
    const pt = prev?.features[tail];
    if (prev !== undefined && pt !== undefined && p.window === prev.window + 1) jumps.push(h - pt);
    lastTail = t;
  }
  if (lastTail === undefined || jumps.length < MIN_HISTORY / 2 || moves.length < MIN_HISTORY) return undefined;
  const stepFloor = Math.max(steps.length > 0 ? median(steps) : 0, 1e-6);
  const jumpCentre = median(jumps);
  const moveCentre = median(moves);
  return {
    channel: ch,
    lastTail,
    jumpCentre,
    jumpSpread: Math.max(robustSpread(jumps, jumpCentre), stepFloor),
    moveCentre,
    moveSpread: Math.max(robustSpread(moves, moveCentre), stepFloor),
  };
}

/**
 * Judges `profile` against a model learnt from `history` (the device's last ≤ MODEL_HISTORY
 * accepted profiles, oldest first). Deterministic: same inputs → same bits on every endorser.
 */
export function judgeProfile(
  history: readonly TrafficProfile[],
  profile: TrafficProfile,
  thresholds: Thresholds,
): Judgement {
  if (!Array.isArray(history)) throw new TypeError('history must be an array of profiles');
  checkProfile(profile, 'profile');
  checkThresholds(thresholds);
  if (history.length > MODEL_HISTORY) {
    throw new RangeError(`history has ${history.length} profiles; the contract passes at most MODEL_HISTORY (${MODEL_HISTORY})`);
  }
  history.forEach((p, i) => {
    if (p.deviceId !== profile.deviceId) {
      throw new RangeError(`history[${i}] belongs to device ${p.deviceId}, not ${profile.deviceId}`);
    }
  });
  if (history.length < MIN_HISTORY) {
    return { trafficProven: true, discrepancyStatus: false, flagged: [], basis: history.length };
  }
  const model = learnModel(history);
  const flagged: { feature: string; delta: number; threshold: number }[] = [];
  for (const { feature, delta } of deltas(model, profile)) {
    const t = thresholdFor(thresholds, feature);
    if (delta > t) flagged.push({ feature, delta, threshold: t });
  }
  flagged.sort((a, b) => byCodeUnit(a.feature, b.feature));
  const proven = flagged.length === 0;
  return { trafficProven: proven, discrepancyStatus: !proven, flagged, basis: model.basis };
}

/**
 * δ of every feature and pair of `profile` that the model covers, sorted by name. The judge
 * compares these with the thresholds; the evaluation and the plot read them directly.
 */
export function deltas(model: CorrelationModel, profile: TrafficProfile): { feature: string; delta: number }[] {
  const out: { feature: string; delta: number }[] = [];
  for (const f of Object.keys(profile.features).sort(byCodeUnit)) {
    const st = model.features[f];
    if (st === undefined) continue;
    out.push({ feature: f, delta: Math.abs((profile.features[f] as number) - st.centre) / st.spread });
  }
  const gap = profile.window - model.lastWindow;
  if (model.lastWindow >= 0 && !(gap >= 1)) {
    throw new RangeError(`profile.window ${profile.window} must be after the last history window ${model.lastWindow} (device ${profile.deviceId})`);
  }
  for (const c of model.continuity) {
    const h = profile.features[`ch.${c.channel}.head`];
    if (h === undefined || gap - 1 > CONTINUITY_HORIZON) continue;
    const skipped = gap - 1;
    const expected = c.lastTail + c.jumpCentre + skipped * (c.moveCentre + c.jumpCentre);
    const spread = c.jumpSpread + Math.sqrt(skipped) * c.moveSpread;
    out.push({ feature: `ch.${c.channel}.jump`, delta: Math.abs(h - expected) / spread });
  }
  for (const p of model.pairs) {
    const x = profile.features[p.x];
    const y = profile.features[p.y];
    if (x === undefined || y === undefined) continue;
    out.push({ feature: `${p.x}~${p.y}`, delta: Math.abs(y - (p.intercept + p.slope * x)) / p.spread });
  }
  return out.sort((a, b) => byCodeUnit(a.feature, b.feature));
}

/** The threshold that applies to a feature or pair name (module doc: lookup order). */
export function thresholdFor(thresholds: Thresholds, name: string): number {
  const exact = own(thresholds, name);
  if (exact !== undefined) return exact;
  if (name.indexOf('~') >= 0) {
    const p = own(thresholds, '*~*');
    if (p !== undefined) return p;
  } else if (name.startsWith('ch.')) {
    const stat = name.slice(name.lastIndexOf('.') + 1);
    const c = own(thresholds, `ch.*.${stat}`);
    if (c !== undefined) return c;
  }
  return own(thresholds, '*') ?? (defaultThresholds()['*'] as number);
}

function own(o: Thresholds, k: string): number | undefined {
  return Object.prototype.hasOwnProperty.call(o, k) ? o[k] : undefined;
}

/** Pairs the model considers: every two channels' slopes and means (temperature vs humidity), and rate vs battery slope. */
function candidatePairs(sorted: readonly string[]): [string, string][] {
  const out: [string, string][] = [];
  for (const stat of PAIR_STATS) {
    const fs = sorted.filter((f) => f.startsWith('ch.') && f.endsWith(`.${stat}`));
    for (let i = 0; i < fs.length; i++) {
      for (let j = i + 1; j < fs.length; j++) out.push([fs[i] as string, fs[j] as string]);
    }
  }
  out.push(['rate', 'battery.slope']);
  return out;
}

const PAIR_STATS = ['slope'] as const;

function fitPair(history: readonly TrafficProfile[], x: string, y: string): PairStats | undefined {
  const xs: number[] = [];
  const ys: number[] = [];
  for (const p of history) {
    const a = p.features[x];
    const b = p.features[y];
    if (a === undefined || b === undefined) continue;
    xs.push(a);
    ys.push(b);
  }
  const n = xs.length;
  if (n < MIN_HISTORY) return undefined;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += xs[i] as number;
    my += ys[i] as number;
  }
  mx /= n;
  my /= n;
  let sxx = 0;
  let syy = 0;
  let sxy = 0;
  for (let i = 0; i < n; i++) {
    const dx = (xs[i] as number) - mx;
    const dy = (ys[i] as number) - my;
    sxx += dx * dx;
    syy += dy * dy;
    sxy += dx * dy;
  }
  if (sxx === 0 || syy === 0) return undefined;
  const corr = sxy / Math.sqrt(sxx * syy);
  if (Math.abs(corr) < PAIR_MIN_CORR) return undefined;
  const slope = sxy / sxx;
  const intercept = my - slope * mx;
  const resid = xs.map((a, i) => (ys[i] as number) - (intercept + slope * a));
  const rc = median(resid);
  const spread = Math.max(robustSpread(resid, rc), floorFor(y, median(ys)) / 2);
  return { x, y, intercept, slope, corr, spread, n };
}

/**
 * Smallest spread a feature may have. Counts get a Poisson-like √centre (at least 1): a single
 * frame error or lost reading is not a discrepancy. Fractions (repeat) get 0.05. Everything else
 * 1% of |centre| (a level never moves by less than its own noise) and a tiny absolute floor.
 */
export function floorFor(name: string, centre: number): number {
  if (name === 'count' || name === 'seq.gaps' || name === 'seq.dups' || name === 'frame.errors') {
    return Math.sqrt(Math.max(Math.abs(centre), 1));
  }
  if (name.endsWith('.flat')) return 0.05;
  if (name === 'rate') return 0.15 * Math.abs(centre);
  if (name.startsWith('iat.')) return Math.max(0.01 * Math.abs(centre), 0.01);
  return Math.max(0.01 * Math.abs(centre), 1e-6);
}

function column(history: readonly TrafficProfile[], f: string): number[] {
  const xs: number[] = [];
  for (const p of history) {
    const v = p.features[f];
    if (v !== undefined) xs.push(v);
  }
  return xs;
}

function median(xs: readonly number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

/** max(1.4826·MAD, 1.2533·mean |x − c|): both estimate σ for normal data; the second does not collapse to 0 when most values tie. */
function robustSpread(xs: readonly number[], c: number): number {
  const dev = xs.map((x) => Math.abs(x - c));
  let s = 0;
  for (const d of dev) s += d;
  return Math.max(1.4826 * median(dev), (1.2533 * s) / dev.length);
}

function checkProfile(p: TrafficProfile, where: string): void {
  if (typeof p !== 'object' || p === null) throw new TypeError(`${where} must be a profile object`);
  if (typeof p.deviceId !== 'string' || p.deviceId.length === 0) throw new TypeError(`${where}.deviceId must be a non-empty string`);
  if (typeof p.window !== 'number' || !Number.isFinite(p.window)) {
    throw new RangeError(`${where}.window must be a finite number (device ${p.deviceId})`);
  }
  if (typeof p.features !== 'object' || p.features === null) throw new TypeError(`${where}.features must be an object`);
  for (const k of Object.keys(p.features)) {
    const v = p.features[k];
    if (typeof v !== 'number') throw new TypeError(`${where}.features.${k} must be a number (device ${p.deviceId})`);
    if (!Number.isFinite(v)) throw new RangeError(`${where}.features.${k} must be finite, got ${String(v)} (device ${p.deviceId})`);
  }
}

function checkThresholds(t: Thresholds): void {
  if (typeof t !== 'object' || t === null) throw new TypeError('thresholds must be an object');
  for (const k of Object.keys(t)) {
    const v = t[k];
    if (typeof v !== 'number') throw new TypeError(`thresholds.${k} must be a number`);
    if (!Number.isFinite(v) || v <= 0 || v > MAX_THRESHOLD) {
      throw new RangeError(`thresholds.${k} must be in (0, ${MAX_THRESHOLD}], got ${String(v)}`);
    }
  }
}

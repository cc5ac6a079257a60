/**
 * Learning the correlation model C (model.ts) from a device's accepted history: per-feature
 * robust centre and spread, channel continuity between windows, and linear relations between
 * pairs of features. Same determinism rules as the judge: +, -, *, /, Math.sqrt/abs/min/max and
 * comparisons only, sorted iteration, finite inputs.
 */
import { checkMarks } from './copies.js';
import { byCodeUnit } from './features.js';
import type { TrafficProfile } from './model.js';

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
/** Smallest spread of the inter-arrival features, as a share of the median sampling period. */
export const IAT_FLOOR_SHARE = 0.05;
/** The judge sums the standardised slope of this many windows (the judged one and the accepted ones before it) to see a drift. */
export const TREND_WINDOWS = 3;

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

/**
 * Learnt relation between two channels' level changes from one window to the next: tail(i+1) −
 * tail(i) of channel `y` against the same of channel `x` over consecutive accepted windows, as a
 * least-squares line with the (trimmed) robust spread of its residuals. The weather moves both
 * channels together (warm air is drier); a sensor that drifts or is offset moves one.
 */
export interface ShiftStats {
  readonly x: string;
  readonly y: string;
  readonly intercept: number;
  readonly slope: number;
  readonly spread: number;
  readonly n: number;
}

/** The correlation model C learnt from a history. */
export interface CorrelationModel {
  readonly features: Readonly<Record<string, FeatureStats>>;
  /** Per `ch.<id>.flat` feature: share of history windows with flat = 1 (channel constant all window), out of n. */
  readonly stillShare: Readonly<Record<string, { readonly share: number; readonly n: number }>>;
  readonly continuity: readonly ContinuityStats[];
  /** The last TREND_WINDOWS − 1 accepted profiles (oldest first), for the slope trend. */
  readonly recent: readonly TrafficProfile[];
  /** Channel level-change relations between consecutive windows (every ordered pair of channels). */
  readonly shifts: readonly ShiftStats[];
  readonly pairs: readonly PairStats[];
  readonly basis: number;
  /** Window of the last accepted profile (-1 for an empty history). */
  readonly lastWindow: number;
  /**
   * Battery level step per window (battery.mean of a window minus that of the accepted window
   * before it, over consecutive windows): centre, spread, and the last accepted level.
   */
  readonly battery?: { readonly centre: number; readonly spread: number; readonly lastMean: number };
}

/** Smallest spread of the battery step per window, mV (a 2 mV ADC averaged over a window). */
export const BATTERY_STEP_FLOOR = 0.25;

/** One accepted window a new window may continue: its index, tail, and tail − head. */
export interface Anchor {
  readonly window: number;
  readonly tail: number;
  readonly move: number;
}

/** Learnt continuity of one channel between consecutive windows. */
export interface ContinuityStats {
  readonly channel: string;
  /** Tail (mean of the last three values) of the last accepted window. */
  readonly lastTail: number;
  /** Tail − head of the last accepted window. */
  readonly lastMove: number;
  /** Usual head(next) − tail(previous) between consecutive accepted windows, and its spread. */
  readonly jumpCentre: number;
  readonly jumpSpread: number;
  /** Usual tail − head within a window, and its spread. */
  readonly moveCentre: number;
  readonly moveSpread: number;
  /**
   * The accepted window just before the most recent gap in the accepted history (the windows
   * after it up to the last accepted one are consecutive), if any. When a faulty window slipped
   * through after flagged ones, the level it started from lives here (model.ts).
   */
  readonly breakAnchor?: Anchor;
  /** The accepted windows before the last one, newest first (at most CONTINUITY_HORIZON). */
  readonly older: readonly Anchor[];
}

/**
 * Level features (a channel's mean, min, max, head, tail; the battery's mean) follow the
 * environment and wander far over an hour: they are not judged against the history's centre
 * (that flags every warm afternoon) but through continuity (`ch.<id>.jump` / `.gap`).
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
      throw new RangeError(
        `history must be in increasing window order: history[${i}].window ${p.window} after ${prev.window} (device ${p.deviceId})`,
      );
    }
    for (const k of Object.keys(p.features)) names[k] = true;
  });
  const sorted = Object.keys(names).sort(byCodeUnit);
  const medianOf = (f: string): number | undefined => {
    const xs = column(history, f);
    return xs.length === 0 ? undefined : median(xs);
  };
  const features: Record<string, FeatureStats> = {};
  for (const f of sorted) {
    if (isLevelFeature(f)) continue;
    const xs = column(history, f);
    if (xs.length < MIN_HISTORY) continue;
    const centre = median(xs);
    features[f] = { centre, spread: Math.max(robustSpread(xs, centre), floorFor(f, centre, medianOf)), n: xs.length };
  }
  const stillShare: Record<string, { share: number; n: number }> = {};
  for (const f of sorted) {
    if (!f.startsWith('ch.') || !f.endsWith('.flat')) continue;
    const xs = column(history, f);
    if (xs.length < MIN_HISTORY) continue;
    let still = 0;
    for (const x of xs) if (x >= 1) still++;
    stillShare[f] = { share: still / xs.length, n: xs.length };
  }
  const continuity: ContinuityStats[] = [];
  for (const f of sorted) {
    if (!f.startsWith('ch.') || !f.endsWith('.head')) continue;
    const c = fitContinuity(history, f.slice(3, f.length - 5));
    if (c !== undefined) continuity.push(c);
  }
  const pairs: PairStats[] = [];
  for (const [x, y] of candidatePairs(sorted)) {
    const pair = fitPair(history, x, y, medianOf);
    if (pair !== undefined) pairs.push(pair);
  }
  const shifts: ShiftStats[] = [];
  const channels = continuity.map((c) => c.channel);
  for (const y of channels) {
    for (const x of channels) {
      if (x === y) continue;
      const st = fitShift(history, x, y);
      if (st !== undefined) shifts.push(st);
    }
  }
  const last = history[history.length - 1];
  const recent = history.slice(Math.max(0, history.length - (TREND_WINDOWS - 1)));
  const steps: number[] = [];
  for (let i = 1; i < history.length; i++) {
    const a = history[i - 1] as TrafficProfile;
    const b = history[i] as TrafficProfile;
    const x = a.features['battery.mean'];
    const y = b.features['battery.mean'];
    if (x !== undefined && y !== undefined && b.window === a.window + 1) steps.push(y - x);
  }
  const lastMean = last?.features['battery.mean'];
  let battery: CorrelationModel['battery'];
  if (steps.length >= MIN_HISTORY / 2 && lastMean !== undefined) {
    const centre = median(steps);
    battery = { centre, spread: Math.max(trimmedSpread(steps, centre), BATTERY_STEP_FLOOR), lastMean };
  }
  return {
    ...(battery !== undefined ? { battery } : {}),
    features,
    stillShare,
    recent,
    continuity,
    shifts,
    pairs,
    basis: history.length,
    lastWindow: last === undefined ? -1 : last.window,
  };
}

/**
 * Continuity of one channel: a window must start (head) where the last accepted window ended
 * (tail), give or take the usual step between windows; when windows were skipped (flagged),
 * the usual within-window move is added per skipped window, the allowance growing with
 * √skipped (model.ts scales it by how lively the windows on both sides of the gap are).
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
  let lastMove = 0;
  let lastWindow = -1;
  let breakAnchor: Anchor | undefined;
  const older: Anchor[] = [];
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
    if (lastTail !== undefined) {
      older.unshift({ window: lastWindow, tail: lastTail, move: lastMove });
      if (older.length > CONTINUITY_HORIZON) older.pop();
    }
    if (lastTail !== undefined && p.window > lastWindow + 1) breakAnchor = { window: lastWindow, tail: lastTail, move: lastMove };
    lastTail = t;
    lastMove = t - h;
    lastWindow = p.window;
  }
  if (lastTail === undefined || jumps.length < MIN_HISTORY / 2 || moves.length < MIN_HISTORY) return undefined;
  const stepFloor = Math.max(steps.length > 0 ? median(steps) : 0, 1e-6);
  const jumpCentre = median(jumps);
  const moveCentre = median(moves);
  return {
    channel: ch,
    lastTail,
    lastMove,
    jumpCentre,
    // Trimmed: one accepted level break (a fault's end) must not widen the jump allowance.
    jumpSpread: Math.max(trimmedSpread(jumps, jumpCentre), stepFloor),
    moveCentre,
    moveSpread: Math.max(robustSpread(moves, moveCentre), stepFloor),
    ...(breakAnchor !== undefined ? { breakAnchor } : {}),
    older,
  };
}

/** Fits ShiftStats for channels x → y (undefined with fewer than MIN_HISTORY / 2 consecutive window pairs). */
function fitShift(history: readonly TrafficProfile[], x: string, y: string): ShiftStats | undefined {
  const tx = `ch.${x}.tail`;
  const ty = `ch.${y}.tail`;
  const xs: number[] = [];
  const ys: number[] = [];
  for (let j = 1; j < history.length; j++) {
    const pj = history[j] as TrafficProfile;
    const pi = history[j - 1] as TrafficProfile;
    if (pi.window !== pj.window - 1) continue;
    const a = pj.features[tx];
    const b = pj.features[ty];
    const a0 = pi.features[tx];
    const b0 = pi.features[ty];
    if (a === undefined || b === undefined || a0 === undefined || b0 === undefined) continue;
    xs.push(a - a0);
    ys.push(b - b0);
  }
  const n = xs.length;
  if (n < MIN_HISTORY / 2) return undefined;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += xs[i] as number;
    my += ys[i] as number;
  }
  mx /= n;
  my /= n;
  let sxx = 0;
  let sxy = 0;
  for (let i = 0; i < n; i++) {
    const dx = (xs[i] as number) - mx;
    sxx += dx * dx;
    sxy += dx * ((ys[i] as number) - my);
  }
  const slope = sxx === 0 ? 0 : sxy / sxx;
  const intercept = my - slope * mx;
  const resid = xs.map((a, i) => (ys[i] as number) - (intercept + slope * a));
  const rc = median(resid);
  const steps = column(history, `ch.${y}.dmean`);
  const floor = Math.max(steps.length > 0 ? median(steps) : 0, 1e-6);
  return { x, y, intercept, slope, spread: Math.max(trimmedSpread(resid, rc), floor), n };
}

/** Pairs the model considers: every two channels' slopes (temperature vs humidity), and rate vs battery slope. */
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

function fitPair(
  history: readonly TrafficProfile[],
  x: string,
  y: string,
  medianOf: (f: string) => number | undefined,
): PairStats | undefined {
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
  const spread = Math.max(robustSpread(resid, rc), floorFor(y, median(ys), medianOf) / 2);
  return { x, y, intercept, slope, corr, spread, n };
}

/**
 * Smallest spread a feature may have, so that a feature that never moved in the history does
 * not trip on the smallest possible change. Counts get a Poisson-like √centre (at least 1): a
 * single frame error or lost reading is not a discrepancy. Fractions (flat) get 0.05, rate 15%
 * of its centre, inter-arrival times 5% of the median sampling period (at least 0.01 s). Slopes get one quantum across the window: for a
 * channel its usual step between readings (median `dmean`, at least 0.01% of its level), for the
 * battery 1 mV (60 mV·min/h), divided by
 * the window's span (median count / median rate). A channel's std and dmean at least 0.01% of
 * its level. Everything else 1% of |centre|.
 * `medianOf` gives the history median of another feature (undefined when absent).
 */
export function floorFor(name: string, centre: number, medianOf: (f: string) => number | undefined = () => undefined): number {
  if (name === 'count' || name === 'seq.gaps' || name === 'seq.dups' || name === 'frame.errors') {
    return Math.sqrt(Math.max(Math.abs(centre), 1));
  }
  if (name.endsWith('.flat')) return 0.05;
  if (name === 'rate') return Math.max(0.15 * Math.abs(centre), 1e-6);
  if (name.startsWith('iat.')) {
    // A share of the sampling period: a board's timer (an interpreter busy signing, a loaded
    // host running simulated boards) slips by a few percent of its period without any fault.
    const period = medianOf('iat.median') ?? centre;
    return Math.max(IAT_FLOOR_SHARE * Math.abs(period), 0.01 * Math.abs(centre), 0.01);
  }
  if (name === 'battery.slope' || (name.startsWith('ch.') && name.endsWith('.slope'))) {
    const count = medianOf('count');
    const rate = medianOf('rate');
    if (count !== undefined && rate !== undefined && count > 0 && rate > 0) {
      const spanMin = count / rate;
      const ch = name.slice(0, name.length - 6);
      const quantum =
        name === 'battery.slope' ? 60 : Math.max(medianOf(`${ch}.dmean`) ?? 0, 0.0001 * Math.abs(medianOf(`${ch}.mean`) ?? 0));
      return Math.max(quantum / spanMin, 1e-6);
    }
  }
  if (name.startsWith('ch.') && (name.endsWith('.std') || name.endsWith('.dmean'))) {
    // A channel that sat still for the whole history: 0.01% of its level is its first wiggle.
    const level = medianOf(`${name.slice(0, name.lastIndexOf('.'))}.mean`) ?? 0;
    return Math.max(0.01 * Math.abs(centre), 0.0001 * Math.abs(level), 1e-6);
  }
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

/** Median of a non-empty list. */
export function median(xs: readonly number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

/** max(1.4826·MAD, 1.2533·mean |x − c|): both estimate σ for normal data; the second does not collapse to 0 when most values tie. */
export function robustSpread(xs: readonly number[], c: number): number {
  const dev = xs.map((x) => Math.abs(x - c));
  let s = 0;
  for (const d of dev) s += d;
  return Math.max(1.4826 * median(dev), (1.2533 * s) / dev.length);
}

/**
 * Like robustSpread, but the mean absolute deviation leaves out the largest eighth of the
 * deviations (one accepted level break among 32 windows would otherwise widen it several-fold):
 * max(1.4826·MAD, 1.5856·mean of the smallest ⌈7n/8⌉ |x − c|), both σ for normal data.
 */
export function trimmedSpread(xs: readonly number[], c: number): number {
  const dev = xs.map((x) => Math.abs(x - c)).sort((a, b) => a - b);
  const keep = Math.max(1, dev.length - Math.floor(dev.length / 8));
  let s = 0;
  for (let i = 0; i < keep; i++) s += dev[i] as number;
  return Math.max(1.4826 * median(dev), (1.5856 * s) / keep);
}

/** Validates one profile (TypeError for shapes, RangeError for values), naming where it sits. */
export function checkProfile(p: TrafficProfile, where: string): void {
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
  if (p.marks !== undefined) checkMarks(p.marks, `${where}.marks`);
}

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
 * The model C (learnt in learn.ts):
 * - per feature f other than levels: centre = median of f over the history, spread =
 *   max(1.4826·MAD, 1.2533·mean absolute deviation from the median, floor(f)), where the floor
 *   keeps a feature that never moved in history (frame errors always 0) from tripping on a
 *   single event; δ(f) = |f − centre| / spread (for `flat`, only above the centre counts);
 * - per channel, continuity (`ch.<id>.jump`; `ch.<id>.gap` when flagged windows were skipped
 *   since the last accepted one, so the two can get different thresholds): the window's head
 *   must continue the last accepted window's tail, give or take the usual step, widened by
 *   √(skipped windows) × the movement seen in this window or the last accepted one (within
 *   ACTIVITY_FLOOR and 1 × the usual within-window move). Levels (mean/min/max, battery
 *   level) are judged only this way: the weather moves them further than any fault in an hour;
 * - anchors: a window may also continue the break anchor (the accepted window before the most
 *   recent gap in the accepted history, at most BREAK_REACH windows back) or, on a close match
 *   (δ < OLDER_MATCH), an older accepted window (at most ANCHOR_REACH back): the end of a fault
 *   whose first or middle windows slipped through is not a new jump;
 * - per channel, `shift` (consecutive windows): the tail-to-tail level step against every other
 *   channel's step, on a line learnt over the history (learn.ts ShiftStats); a channel that
 *   steps alone (offset, drift) leaves a residual the weather does not;
 * - per channel, `trend`: signed slope δ of this window and the last TREND_WINDOWS − 1 accepted
 *   ones, summed over √n: a drift keeps its sign;
 * - per channel, `still`: a window with every reading identical, weighed by how rare such windows
 *   are in the history (a stuck sensor, even in still air);
 * - per pair (x, y) of related features (two channels' slopes: temperature vs humidity; rate vs
 *   battery slope): least-squares fit y = a + b·x over the history, used only when the history
 *   shows the relation (|Pearson r| ≥ PAIR_MIN_CORR); δ = |y − (a + b·x)| / robust residual
 *   spread. A pair catches a change that keeps each feature inside its own range but breaks
 *   their relation (one channel drifting).
 * A feature or pair is flagged when δ > t, t from the threshold vector (exact name, then
 * `ch.*.<stat>` for channel features, then `*~*` for pairs, then `*`).
 *
 * The contract's side of the bargain (H4a, ledger-bridge/contracts): it stores every profile
 * with its verdict, but passes `judgeProfile` only the last MODEL_HISTORY profiles of the device
 * that were ACCEPTED (trafficProven), oldest first, in increasing window order. A flagged profile
 * therefore never becomes part of the model it is judged by: a persistent fault stays flagged
 * instead of being learnt. While fewer than MIN_HISTORY accepted profiles exist, every profile
 * is accepted (and so learnt from): the device's first windows define its normal behaviour.
 * The flip side, a genuine lasting change of level (a moved sensor, a weather front), is bounded:
 * continuity is only judged within CONTINUITY_HORIZON skipped windows, after which the model
 * re-anchors on the new level; the per-feature statistics never learn from flagged profiles.
 */
import { byCodeUnit } from './features.js';
import { CONTINUITY_HORIZON, MIN_HISTORY, TREND_WINDOWS, checkProfile, learnModel, type CorrelationModel } from './learn.js';

export {
  CONTINUITY_HORIZON,
  MIN_HISTORY,
  PAIR_MIN_CORR,
  TREND_WINDOWS,
  floorFor,
  isLevelFeature,
  learnModel,
  type Anchor,
  type ContinuityStats,
  type CorrelationModel,
  type FeatureStats,
  type PairStats,
  type ShiftStats,
} from './learn.js';

/** One device's feature vector for one window, as carried by the Traffic Profile transaction. */
export interface TrafficProfile {
  readonly deviceId: string;
  /** Window index (window start / window length); increasing per device. */
  readonly window: number;
  /** Feature name → value (see features.ts). Finite numbers only. */
  readonly features: Readonly<Record<string, number>>;
  /** The window's marks (copies.ts computeMarks): fingerprints of its fine structure, for the site's copy check. */
  readonly marks?: readonly number[];
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
/**
 * After skipped windows, a channel may have moved naturally by about as much as it moves within
 * a window right now or did in the last accepted window (whichever is livelier), but at least
 * this share of its usual within-window move and at most the usual move itself. Calm windows on
 * both sides of a level gap mean the level jumped: an offset, not the weather.
 */
export const ACTIVITY_FLOOR = 0.25;
/**
 * A window may also continue an older accepted window (at most ANCHOR_REACH windows back) when
 * it matches that one closely (δ below OLDER_MATCH): the level came back to where it was before
 * a faulty window slipped through, which is the end of the fault, not a new one.
 */
export const OLDER_MATCH = 3;
/** How far back (windows skipped) an older anchor may lie. */
export const ANCHOR_REACH = CONTINUITY_HORIZON + 2;
/**
 * How far back (windows skipped) the break anchor may lie: a fault slips through at most a few
 * windows into its episode; further back, the run after the gap is the device's new normal.
 */
export const BREAK_REACH = CONTINUITY_HORIZON;
/** A window returned from a fault only if its head broke away from the window judged before it by more than this many jump spreads. */
export const RETURN_BREAK = 3;
/** Largest threshold a transaction may carry: a lying edge cannot switch the check off. */
export const MAX_THRESHOLD = 100;
/**
 * Default re-anchoring time: continuity with the device's accepted normal (its last accepted
 * window, and the memory of the level from before a fault) is judged for this many windows
 * after the last accepted one (and the memory kept as long); only then, or when the authority
 * acknowledges the change on the ledger, does a new level become normal without judgement.
 */
export const REANCHOR_WINDOWS = 32;

/** What the device state adds to the accepted history (device-state.ts). */
export interface JudgeContext {
  /**
   * The last accepted window before the current fault began (the device's accepted normal): a
   * window back at its level (within the allowance for the time since) continues it, however
   * many windows the fault lasted.
   */
  readonly memory?: TrafficProfile;
  /** Windows after which continuity is no longer judged (default REANCHOR_WINDOWS). */
  readonly reanchorWindows?: number;
  /** The authority acknowledged a change of level: judge this window without continuity or shift. */
  readonly reanchor?: boolean;
  /**
   * The open fault's level offsets (channel → how far the fault's first window started from where
   * it should have, signed) and the window judged just before this one: a window that continues
   * that one minus the offset is the fault's end (the offset removed), wherever the weather took
   * the level meanwhile.
   */
  readonly offsets?: { readonly prev: TrafficProfile; readonly by: Readonly<Record<string, number>> };
}

/** What the judge tells the device state besides the verdict. */
export interface JudgeInfo {
  /** Channels whose continuity came from the fault's memory or offset (the level returned). */
  returned: string[];
  /** Channel → signed distance of this window's head from where it should have started (last accepted window). */
  breaks: Record<string, number>;
  /** Channels whose head broke away from the window judged just before (context.offsets.prev) by more than RETURN_BREAK jump spreads. */
  broke?: string[];
}

/** The default threshold vector (tuned with `provenant traffic eval`, docs/traffic-profiles.md). */
export function defaultThresholds(): Thresholds {
  return {
    '*': 6,
    '*~*': 10,
    copy: 2,
    'rate~battery.slope': 6,
    'battery.slope': 8,
    'ch.*.dmean': 16,
    'ch.*.flat': 10,
    'ch.*.gap': 10,
    'ch.*.jump': 16,
    'ch.*.peer': 8,
    'ch.*.peerlevel': 1,
    'ch.*.peerramp': 4,
    'ch.*.peersum': 12,
    'ch.*.peerstep': 6,
    'ch.*.persist': 1,
    'ch.*.shift': 20,
    'ch.*.slope': 12,
    'ch.*.std': 25,
    'ch.*.still': 10,
    'ch.*.trend': 9,
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
  context: JudgeContext = {},
  info: JudgeInfo = { returned: [], breaks: {} },
): Judgement {
  if (!Array.isArray(history)) throw new TypeError('history must be an array of profiles');
  checkProfile(profile, 'profile');
  checkThresholds(thresholds);
  checkContext(context, profile);
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
  for (const { feature, delta } of deltas(model, profile, context, info)) {
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
export function deltas(
  model: CorrelationModel,
  profile: TrafficProfile,
  context: JudgeContext = {},
  info: JudgeInfo = { returned: [], breaks: {} },
): { feature: string; delta: number }[] {
  const reach = context.reanchorWindows ?? REANCHOR_WINDOWS;
  const memory = context.memory;
  const out: { feature: string; delta: number }[] = [];
  for (const f of Object.keys(profile.features).sort(byCodeUnit)) {
    const st = model.features[f];
    if (st === undefined) continue;
    const d = (profile.features[f] as number) - st.centre;
    // A window less flat than usual is not a stuck sensor (noise has dmean and std): one-sided.
    out.push({ feature: f, delta: (f.endsWith('.flat') ? Math.max(d, 0) : Math.abs(d)) / st.spread });
  }
  // A channel constant over the whole window (flat = 1: every reading identical) while the
  // history shows that rarely: δ = share of history windows that were not constant / share that
  // were (at least one window's worth), so a sensor that is often still (quantised, calm air)
  // needs many windows of it in its history before one is unremarkable.
  for (const f of Object.keys(profile.features).sort(byCodeUnit)) {
    if (!f.startsWith('ch.') || !f.endsWith('.flat') || (profile.features[f] as number) < 1) continue;
    const st = model.stillShare[f];
    if (st === undefined) continue;
    out.push({ feature: `${f.slice(0, f.length - 5)}.still`, delta: (1 - st.share) / Math.max(st.share, 1 / st.n) });
  }
  // Persistent slope (drift): the standardised slope of this window summed with those of the
  // last TREND_WINDOWS − 1 accepted windows (when they are recent), over √count. A drift keeps
  // one sign window after window; the weather's excursions around its centre mostly do not.
  for (const f of Object.keys(profile.features).sort(byCodeUnit)) {
    if (!f.startsWith('ch.') || !f.endsWith('.slope')) continue;
    const st = model.features[f];
    if (st === undefined) continue;
    let sum = ((profile.features[f] as number) - st.centre) / st.spread;
    let n = 1;
    for (let i = model.recent.length - 1; i >= 0 && n < TREND_WINDOWS; i--) {
      const p = model.recent[i] as TrafficProfile;
      if (profile.window - p.window > TREND_WINDOWS + 2) break;
      const v = p.features[f];
      if (v === undefined) continue;
      sum += (v - st.centre) / st.spread;
      n++;
    }
    if (n === TREND_WINDOWS) out.push({ feature: `${f.slice(0, f.length - 6)}.trend`, delta: Math.abs(sum) / Math.sqrt(n) });
  }
  const gap = profile.window - model.lastWindow;
  if (model.lastWindow >= 0 && !(gap >= 1)) {
    throw new RangeError(
      `profile.window ${profile.window} must be after the last history window ${model.lastWindow} (device ${profile.deviceId})`,
    );
  }
  const returned: Record<string, true> = {};
  for (const c of model.continuity) {
    const h = profile.features[`ch.${c.channel}.head`];
    if (h === undefined || gap - 1 > CONTINUITY_HORIZON || context.reanchor === true) continue;
    const tail = profile.features[`ch.${c.channel}.tail`];
    const moveNow = tail === undefined ? c.moveCentre : tail - h;
    const cont = (aWindow: number, aTail: number, aMove: number, signed?: (d: number) => void): number => {
      const skipped = profile.window - aWindow - 1;
      const expected = aTail + c.jumpCentre + skipped * (c.moveCentre + c.jumpCentre);
      signed?.(h - expected);
      const activity = Math.max(Math.abs(moveNow - c.moveCentre), Math.abs(aMove - c.moveCentre), ACTIVITY_FLOOR * c.moveSpread);
      const spread = c.jumpSpread + Math.sqrt(skipped) * Math.min(activity, c.moveSpread);
      return Math.abs(h - expected) / spread;
    };
    const fromLast = cont(model.lastWindow, c.lastTail, c.lastMove, (d) => (info.breaks[c.channel] = d));
    let delta = fromLast;
    // The run of accepted windows since the last gap may have started with a faulty window that
    // slipped through: continuing the level from before that gap is continuity too.
    const b = c.breakAnchor;
    if (b !== undefined && profile.window - b.window - 1 <= BREAK_REACH) delta = Math.min(delta, cont(b.window, b.tail, b.move));
    let memoryHit = false;
    // The device's accepted normal from before the current fault: back at that level is the
    // fault's end, however long it lasted (the memory a fault cannot overwrite).
    const mh = memory?.features[`ch.${c.channel}.head`];
    const mt = memory?.features[`ch.${c.channel}.tail`];
    if (memory !== undefined && mh !== undefined && mt !== undefined && profile.window - memory.window - 1 <= reach) {
      const dm = cont(memory.window, mt, mt - mh);
      if (dm < delta) {
        delta = dm;
        memoryHit = true;
      }
    }
    const off = context.offsets;
    const j = off?.by[c.channel];
    const pt = off?.prev.features[`ch.${c.channel}.tail`];
    // A return is a break away from the window judged just before (the offset removed); a window
    // that continues that one smoothly has not returned, whatever an anchor's allowance says.
    const broke =
      pt === undefined || off?.prev.window !== profile.window - 1 || Math.abs(h - pt - c.jumpCentre) / c.jumpSpread > RETURN_BREAK;
    if (off !== undefined && j !== undefined && pt !== undefined && off.prev.window === profile.window - 1) {
      const dr = Math.abs(h - (pt - j) - c.jumpCentre) / c.jumpSpread;
      if (dr < delta) {
        delta = dr;
        memoryHit = true;
      }
    }
    if (broke && pt !== undefined) (info.broke ??= []).push(c.channel);
    if (memoryHit && broke) info.returned.push(c.channel);
    for (const a of c.older) {
      if (profile.window - a.window - 1 > ANCHOR_REACH) break;
      const d = cont(a.window, a.tail, a.move);
      if (d < OLDER_MATCH) delta = Math.min(delta, d);
    }
    if (delta < fromLast) returned[c.channel] = true;
    out.push({ feature: `ch.${c.channel}.${gap > 1 ? 'gap' : 'jump'}`, delta });
  }
  // Level change since the last accepted window (consecutive windows only), explained by another
  // channel's change (learn.ts ShiftStats); the best explanation counts.
  if (gap === 1 && context.reanchor !== true) {
    const lastTail: Record<string, number> = {};
    for (const c of model.continuity) lastTail[c.channel] = c.lastTail;
    const best: Record<string, number> = {};
    for (const st of model.shifts) {
      const x = profile.features[`ch.${st.x}.tail`];
      const y = profile.features[`ch.${st.y}.tail`];
      const x0 = lastTail[st.x];
      const y0 = lastTail[st.y];
      if (x === undefined || y === undefined || x0 === undefined || y0 === undefined) continue;
      const d = Math.abs(y - y0 - (st.intercept + st.slope * (x - x0))) / st.spread;
      const prev = best[st.y];
      best[st.y] = prev === undefined ? d : Math.min(prev, d);
    }
    // A channel back at an older level (break or older anchor) stepped back, not away.
    for (const ch of Object.keys(best).sort(byCodeUnit))
      if (!returned[ch]) out.push({ feature: `ch.${ch}.shift`, delta: best[ch] as number });
  }
  // A battery that falls faster than it did, window after window (a dying cell, a drain): the
  // level step per window since the last accepted one, one-sided (a swapped or charged cell
  // rises, which is not a fault).
  // During an open fault the step is taken from the window judged just before (flagged or not):
  // a drain that stopped (a raised rate back to normal) is not a drop because the level fell
  // while the flagged windows lasted, and a cell still dying keeps falling from window to window.
  const bm = profile.features['battery.mean'];
  const prevMean = context.offsets?.prev.window === profile.window - 1 ? context.offsets.prev.features['battery.mean'] : undefined;
  if (model.battery !== undefined && bm !== undefined && model.lastWindow >= 0) {
    const step = prevMean !== undefined ? bm - prevMean : (bm - model.battery.lastMean) / gap;
    out.push({ feature: 'battery.drop', delta: Math.max(model.battery.centre - step, 0) / model.battery.spread });
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

function checkContext(c: JudgeContext, profile: TrafficProfile): void {
  if (typeof c !== 'object' || c === null) throw new TypeError('context must be an object');
  if (c.memory !== undefined) {
    checkProfile(c.memory, 'context.memory');
    if (c.memory.deviceId !== profile.deviceId)
      throw new RangeError(`context.memory belongs to device ${c.memory.deviceId}, not ${profile.deviceId}`);
    if (!(c.memory.window < profile.window))
      throw new RangeError(`context.memory.window ${c.memory.window} must be before profile.window ${profile.window}`);
  }
  if (c.reanchorWindows !== undefined && !(Number.isInteger(c.reanchorWindows) && c.reanchorWindows >= 1 && c.reanchorWindows <= 10_000)) {
    throw new RangeError(`context.reanchorWindows must be an integer in 1..10000, got ${String(c.reanchorWindows)}`);
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

/**
 * The per-device state machine the Traffic Profile Provenance contract keeps on the ledger
 * (ledger-bridge/contracts/logic/traffic.ts) and the evaluation replays: judge a profile, then
 * decide what the device's state becomes. Same determinism rules as model.ts.
 *
 * - History: the last MODEL_HISTORY accepted profiles (flagged ones are stored on the ledger but
 *   never learnt from).
 * - Warm-up: while fewer than MIN_HISTORY profiles were accepted, the device class's registered
 *   profile judges (class-profile.ts); without one, the profile is accepted unjudged.
 * - Fault state: the first flagged window opens a fault and keeps the device's accepted normal
 *   from before it (`memory`: the last accepted profile). While the fault is open the judge
 *   also accepts a window back at the memory's level (the fault's end, however long the fault
 *   lasted, even after windows at the faulty level slipped through). A fault that broke a
 *   channel's level ("fault persisting") closes only when a window returns to the memory's
 *   level, after `reanchorWindows` windows, or when the authority acknowledges the change on
 *   the ledger (`acknowledgeChange`); any other fault closes at the first accepted window.
 */
import { byCodeUnit } from './features.js';
import { median } from './learn.js';
import { classDeltas, type ClassProfile } from './class-profile.js';
import {
  advancePeerHistory,
  nextPeerRecent,
  nextPeerSum,
  PEER_HISTORY,
  PEER_LEARN,
  PEER_MIN,
  peerRamp,
  PEER_VOUCH,
  STEP_AWAY,
  peerDeltas,
  peerLevels,
  peerSteps,
  peerStepsRaw,
  peerTails,
  type PeerDelta,
  type PeerRecent,
  type PeerRecord,
  type PeerTails,
} from './peers.js';
import {
  CONTINUITY_HORIZON,
  judgeProfile,
  MIN_HISTORY,
  MODEL_HISTORY,
  REANCHOR_WINDOWS,
  thresholdFor,
  type JudgeInfo,
  type Judgement,
  type Thresholds,
  type TrafficProfile,
} from './model.js';

export type { ClassProfile } from './class-profile.js';

/** An open fault: since when, the last flagged window, and the accepted normal from before it. */
export interface FaultState {
  readonly since: number;
  readonly lastFlagged: number;
  /** The last accepted profile before the fault (absent when the device had none). */
  readonly memory?: TrafficProfile;
  /** A channel's level broke (jump, gap or shift flagged): the fault ends only when the level returns to the memory's. */
  readonly level: boolean;
  /** Channel → signed offset of the fault's first level break (model.ts JudgeContext.offsets). */
  readonly offsets: Readonly<Record<string, number>>;
  /** The profile judged last (flagged or not), for the offset return. */
  readonly prev: TrafficProfile;
}

/** A flag that says a channel's level broke away from the accepted normal. */
function isLevelBreak(feature: string): boolean {
  return feature.endsWith('.jump') || feature.endsWith('.gap') || feature.endsWith('.shift');
}

/**
 * Right after the warm-up, while the device has fewer than this many accepted profiles, its own
 * model's spreads are learnt from a handful of windows: a flag on a feature the class profile also
 * judges stands only if the class profile flags it too, and the pair lines (`x~y`, a least-squares
 * line through a few points) are left out. Level breaks (jump, gap, shift), the battery drop, the
 * trend and a constant window (flat, still) stand as the own model judged them. Chosen on the
 * tuning set (device faults from the first window lasting 8–16 windows: the device's first accepted
 * windows come after the fault, and the next windows' ordinary slopes and slope pairs were flagged
 * against those few: 7–14% of the windows after a later episode flagged).
 */
export const YOUNG_HISTORY = 12;

/** The own model's verdict on a young device (fewer than YOUNG_HISTORY accepted profiles), checked by its class profile. */
function youngJudgement(j: Judgement, cls: ClassProfile, profile: TrafficProfile): Judgement {
  if (!j.discrepancyStatus) return j;
  const byClass: Record<string, number> = {};
  for (const { feature, delta } of classDeltas(cls, undefined, profile)) byClass[feature] = delta;
  const flagged = j.flagged.filter((f) => {
    if (isLevelBreak(f.feature) || f.feature.endsWith('.flat') || f.feature.endsWith('.still')) return true;
    if (f.feature.includes('~')) return false;
    const c = byClass[f.feature];
    return c === undefined || c > f.threshold;
  });
  return { trafficProven: flagged.length === 0, discrepancyStatus: flagged.length > 0, flagged, basis: j.basis };
}

/** Share of the class's registered tolerance by which the level difference to the peers may move in the warm-up and still be vouched for. */
export const WARMUP_VOUCH_SHARE = 0.25;

/**
 * Warm-up only (no peer reference to judge by yet): the channels whose level break the peers
 * vouch for. Against the device's last accepted window's peer record, a channel is vouched for
 * when its level difference to the peers (median over the peers) moved by at most
 * WARMUP_VOUCH_SHARE of the class's registered tolerance (the device moved with the air its peers
 * see), or came at least halfway back to the peers (co-located devices of a class agree within
 * that tolerance: a break towards the peers is the end of a fault present from the first windows,
 * a pinned or shifted level accepted while nothing could judge it, not a new one). Without this,
 * the warm-up's continuity held the device to the forged level for the rest of the warm-up: 62%
 * of the windows after a mimic from the first window flagged on the tuning set.
 */
function vouchedInWarmup(
  history: readonly PeerRecord[] | undefined,
  profile: TrafficProfile,
  peers: readonly TrafficProfile[],
  tolerance: Readonly<Record<string, number>> | undefined,
): Record<string, 'moved' | 'back'> {
  const out: Record<string, 'moved' | 'back'> = {};
  const last = history?.[history.length - 1];
  if (last === undefined) return out;
  const now = peerLevels(profile, peers);
  for (const ch of Object.keys(now).sort(byCodeUnit)) {
    const ds: number[] = [];
    for (const id of Object.keys(last.d).sort(byCodeUnit)) {
      const v = last.d[id]?.[ch];
      if (v !== undefined) ds.push(v);
    }
    if (ds.length === 0) continue;
    const before = median(ds);
    const d = now[ch] as number;
    const tol = tolerance?.[ch];
    if (tol !== undefined && Math.abs(d - before) <= WARMUP_VOUCH_SHARE * tol) out[ch] = 'moved';
    else if (Math.abs(d) * 2 <= Math.abs(before)) out[ch] = 'back';
  }
  return out;
}

/** What the contract keeps per device. */
export interface DeviceState {
  /** Window of the device's latest judged profile (accepted or flagged), -1 before the first. */
  readonly lastWindow: number;
  /** Last ≤ MODEL_HISTORY accepted profiles, oldest first. */
  readonly history: readonly TrafficProfile[];
  /** The open fault, if any ("fault persisting"). */
  readonly fault?: FaultState;
  /** The authority acknowledged a change of level: the next profile re-anchors the model. */
  readonly reanchor?: boolean;
  /** Level differences to the device's peers over its last accepted windows (peers.ts), when peers are judged. */
  readonly peerHistory?: readonly PeerRecord[];
  /** Per channel, the run sum of the signed peer δ (peers.ts nextPeerSum). */
  readonly peerSum?: Readonly<Record<string, number>>;
  /** Per channel, the signed peer δ of the last consecutive judged windows (peers.ts peerRamp). */
  readonly peerRecent?: Readonly<Record<string, readonly PeerRecent[]>>;
  /** The tail differences to the peers of the window judged last (peers.ts peerTails), for the next window's step test. */
  readonly peerTails?: PeerTails;
  /**
   * Per channel, a break away from the peers that persists ("fault persisting" against the peers):
   * the window it began in, the difference to the peers just before it and just after it.
   */
  readonly persist?: Readonly<Record<string, PersistState>>;
}

/** A level break away from the peers held open until the difference comes back (advanceDevice). */
export interface PersistState {
  readonly since: number;
  readonly before: number;
  readonly after: number;
  /** Flagged while it persists (a break the peers did not vouch for); otherwise only remembered, so its end is not a new break. */
  readonly held?: true;
}

/** Settings of the state machine (registered with the device class; defaults in model.ts). */
export interface DeviceOptions {
  readonly classProfile?: ClassProfile;
  readonly reanchorWindows?: number;
  /**
   * The same-window profiles of the other devices of the device's site and class that their own
   * model accepted (peers.ts): the device's levels are judged against theirs (`ch.<id>.peer`), and
   * a level break its own model flagged on a channel the peers vouch for is the environment.
   */
  readonly peers?: readonly TrafficProfile[];
  /**
   * How many of the profile's marks the site saw first in another window (copies.ts countCopies):
   * above the `copy` threshold the window replays readings the site already sent.
   */
  readonly copies?: number;
}

/** The state of a device never profiled. */
export function emptyDeviceState(): DeviceState {
  return { lastWindow: -1, history: [] };
}

/** Judges `profile` and returns the verdict and the device's next state. */
export function advanceDevice(
  state: DeviceState,
  profile: TrafficProfile,
  thresholds: Thresholds,
  options: DeviceOptions = {},
): { judgement: Judgement; next: DeviceState } {
  const reach = options.reanchorWindows ?? REANCHOR_WINDOWS;
  const fault = state.fault !== undefined && profile.window - state.fault.since <= reach ? state.fault : undefined;
  const info: JudgeInfo = { returned: [], breaks: {} };
  let judgement: Judgement;
  let forgedBefore = false;
  if (state.history.length < MIN_HISTORY && options.classProfile !== undefined) {
    judgement = judgeProfile(state.history, profile, thresholds);
    const flagged: Judgement['flagged'] = [];
    const last = state.reanchor === true ? undefined : state.history[state.history.length - 1];
    const back =
      options.peers !== undefined ? vouchedInWarmup(state.peerHistory, profile, options.peers, options.classProfile.peerTolerance) : {};
    // As in the model (CONTINUITY_HORIZON): after that many skipped windows the level is no longer
    // held to the last accepted one's.
    const held = last === undefined || profile.window - last.window - 1 <= CONTINUITY_HORIZON;
    for (const { feature, delta } of classDeltas(options.classProfile, last, profile)) {
      const t = thresholdFor(thresholds, feature);
      const ch = feature.slice(3, feature.lastIndexOf('.'));
      if (isLevelBreak(feature) && (!held || back[ch] !== undefined)) {
        // A break back to the peers: the level before it was the fault, so the peer records
        // learnt at it (unjudged: no reference yet) are dropped with it.
        if (held && back[ch] === 'back' && delta > t) forgedBefore = true;
        continue;
      }
      if (delta > t) flagged.push({ feature, delta, threshold: t });
    }
    flagged.sort((a, b) => byCodeUnit(a.feature, b.feature));
    judgement = { trafficProven: flagged.length === 0, discrepancyStatus: flagged.length > 0, flagged, basis: state.history.length };
  } else {
    judgement = judgeProfile(
      state.history,
      profile,
      thresholds,
      {
        ...(fault?.memory !== undefined ? { memory: fault.memory } : {}),
        reanchorWindows: reach,
        ...(state.reanchor === true ? { reanchor: true } : {}),
        ...(fault !== undefined ? { offsets: { prev: fault.prev, by: fault.offsets } } : {}),
      },
      info,
    );
    if (state.history.length < YOUNG_HISTORY && options.classProfile !== undefined)
      judgement = youngJudgement(judgement, options.classProfile, profile);
  }
  let peerSum = state.peerSum;
  let peerRecent = state.peerRecent;
  let peerLearn = true;
  let persist = state.persist;
  let stepRaw: Record<string, Record<string, number>> | undefined;
  let tails = state.peerTails;
  if (options.peers !== undefined) {
    const pd = peerDeltas(state.peerHistory ?? [], profile, options.peers);
    for (const d of pd) if (d.delta > PEER_LEARN) peerLearn = false;
    const sums: Record<string, number> = {};
    for (const d of pd) sums[d.channel] = nextPeerSum(state.peerSum?.[d.channel], d.signed);
    peerSum = sums;
    const recent: Record<string, PeerRecent[]> = {};
    const ramps: Record<string, number> = {};
    for (const d of pd) {
      recent[d.channel] = nextPeerRecent(state.peerRecent?.[d.channel], profile.window, d.signed, false);
      ramps[d.channel] = peerRamp(recent[d.channel] as PeerRecent[]);
    }
    peerRecent = recent;
    // The class's registered tolerance: a level further from the peers' than two co-located
    // devices of the class may differ is flagged whatever the device's reference learnt (a
    // device offset from its first window), and never learnt.
    const tolerated: Judgement['flagged'] = [];
    const tol = options.classProfile?.peerTolerance;
    if (tol !== undefined) {
      const levels = peerLevels(profile, options.peers);
      for (const ch of Object.keys(levels).sort(byCodeUnit)) {
        const unit = tol[ch];
        if (unit === undefined) continue;
        const delta = Math.abs(levels[ch] as number) / unit;
        if (delta > 1) peerLearn = false;
        const feature = `ch.${ch}.peerlevel`;
        const t = thresholdFor(thresholds, feature);
        if (delta > t) tolerated.push({ feature, delta, threshold: t });
      }
    }
    // The step test and the persisting break (peers.ts peerSteps): a level that steps away from
    // the peers between two readings, strongly and where the peers do not vouch for it, is held
    // open until the difference comes back at least halfway (or steps back by half the break).
    const raw = peerStepsRaw(state.peerTails, profile, options.peers);
    const steps = peerSteps(state.peerHistory ?? [], raw, state.peerTails, profile);
    const levelsNow = peerLevels(profile, options.peers);
    const persisting: Record<string, PersistState> = {};
    // A channel no peer judged in this window keeps its open break as it was.
    for (const ch of Object.keys(state.persist ?? {}).sort(byCodeUnit)) {
      const open = (state.persist as Record<string, PersistState>)[ch] as PersistState;
      if (levelsNow[ch] === undefined && profile.window - open.since <= reach) persisting[ch] = open;
    }
    const held: Judgement['flagged'] = [];
    // A break is judged only from a full reference that followed the device up to the window
    // before: its last PEER_MIN windows all accepted and learnt, and at most PEER_MIN windows of its
    // reach missing. After a long fault (nothing learnt for its length) the reference is thin and
    // old, its spread narrow, and an ordinary step of the air scores as a break.
    const ph = state.peerHistory ?? [];
    let fresh = ph.length >= PEER_HISTORY - PEER_MIN;
    for (let k = 1; k <= PEER_MIN && fresh; k++) if (ph[ph.length - k]?.window !== profile.window - k) fresh = false;
    for (const ch of Object.keys(levelsNow).sort(byCodeUnit)) {
      const now = levelsNow[ch] as number;
      const open = state.persist?.[ch];
      const st = steps.find((x) => x.channel === ch);
      if (open !== undefined && profile.window - open.since <= reach) {
        const off = open.after - open.before;
        const sign = off > 0 ? 1 : -1;
        const delta = (2 * (now - open.before) * sign) / Math.abs(off);
        const steppedBack = st !== undefined && st.step * sign * 2 <= -Math.abs(off);
        const t = thresholdFor(thresholds, `ch.${ch}.persist`);
        // A step back by half the break, or the level back where it was: the break is over, and
        // this window's step is its end, not a new break.
        if (steppedBack || !(delta > 0)) continue;
        if (open.held === true && delta > t) {
          held.push({ feature: `ch.${ch}.persist`, delta, threshold: t });
          persisting[ch] = open;
          continue;
        }
        // Back at least halfway (the air met the forged level, or the fault is fading): no longer
        // flagged, but remembered until it is fully back, so the step back at its end is not
        // taken for a new break.
        persisting[ch] = { since: open.since, before: open.before, after: open.after };
      }
      // A strong step from an accepted window: held open when the peers do not vouch for the
      // level it reached (and it stepped away from them); otherwise only remembered, so that the
      // step back is recognised as its end rather than a new break.
      if (st === undefined || !fresh || st.step === 0) continue;
      const t = thresholdFor(thresholds, `ch.${ch}.peerstep`);
      if (!(st.delta > t)) continue;
      const z = pd.find((x) => x.channel === ch)?.signed ?? 0;
      const zr = state.peerRecent?.[ch];
      const zl = zr?.[zr.length - 1];
      const zPrev = zl !== undefined && zl.window === profile.window - 1 ? zl.z : 0;
      const sg = st.signed > 0 ? 1 : -1;
      const hold = z * sg >= PEER_VOUCH && (z - zPrev) * sg >= STEP_AWAY;
      if (hold) held.push({ feature: `ch.${ch}.peerstep`, delta: st.delta, threshold: t });
      persisting[ch] = { since: profile.window, before: st.before, after: st.before + st.step, ...(hold ? { held: true as const } : {}) };
    }
    persist = persisting;
    stepRaw = raw;
    tails = peerTails(profile, options.peers);
    judgement = withPeers(judgement, pd, sums, ramps, thresholds, tolerated, held);
  }
  if (options.copies !== undefined) judgement = withCopies(judgement, options.copies, thresholds);
  const last = state.history[state.history.length - 1];
  let nextFault: FaultState | undefined = fault;
  if (judgement.discrepancyStatus) {
    const offsets: Record<string, number> = { ...(fault?.offsets ?? {}) };
    for (const f of judgement.flagged) {
      if (!isLevelBreak(f.feature)) continue;
      const ch = f.feature.slice(3, f.feature.lastIndexOf('.'));
      const b = info.breaks[ch];
      if (offsets[ch] === undefined && b !== undefined) offsets[ch] = b;
    }
    const level = Object.keys(offsets).length > 0;
    nextFault =
      fault !== undefined
        ? { ...fault, lastFlagged: profile.window, level: fault.level || level, offsets, prev: profile }
        : {
            since: profile.window,
            lastFlagged: profile.window,
            level,
            offsets,
            prev: profile,
            ...(last !== undefined ? { memory: last } : {}),
          };
  } else if (fault !== undefined) {
    // Over when the level came back (to the memory's, or the offset removed), or, for a fault
    // that never moved a level (noise, a stuck sensor, a raised rate), at the first accepted window.
    // A window accepted straight after the memory (nothing accepted during the fault) whose
    // continuity with it was judged ends the fault too. One accepted only because the fault
    // outlasted CONTINUITY_HORIZON (a re-anchor without judgement) does not: the fault persists,
    // and its end is recognised by the memory.
    const direct = last !== undefined && fault.memory !== undefined && last.window === fault.memory.window;
    const judged = last !== undefined && profile.window - last.window - 1 <= CONTINUITY_HORIZON;
    const over = !fault.level || fault.memory === undefined || info.returned.length > 0 || (direct && judged);
    nextFault = over ? undefined : { ...fault, prev: profile };
  }
  if (peerRecent !== undefined && judgement.trafficProven) {
    // The window's record in the ramp series carries its final verdict (an anchor must be accepted).
    const done: Record<string, PeerRecent[]> = {};
    for (const ch of Object.keys(peerRecent)) {
      const r = peerRecent[ch] as readonly PeerRecent[];
      const last = r[r.length - 1] as PeerRecent;
      done[ch] = [...r.slice(0, -1), { ...last, ok: true }];
    }
    peerRecent = done;
  }
  const history = judgement.trafficProven ? [...state.history, profile].slice(-MODEL_HISTORY) : state.history;
  const peerHistory =
    options.peers !== undefined
      ? advancePeerHistory(
          forgedBefore && judgement.trafficProven ? [] : (state.peerHistory ?? []),
          profile,
          options.peers,
          judgement.trafficProven && peerLearn,
          stepRaw,
        )
      : state.peerHistory;
  return {
    judgement,
    next: {
      lastWindow: profile.window,
      history,
      ...(nextFault !== undefined ? { fault: nextFault } : {}),
      ...(peerHistory !== undefined ? { peerHistory } : {}),
      ...(peerSum !== undefined ? { peerSum } : {}),
      ...(peerRecent !== undefined ? { peerRecent } : {}),
      ...(tails !== undefined ? { peerTails: tails } : {}),
      ...(persist !== undefined && Object.keys(persist).length > 0 ? { persist } : {}),
    },
  };
}

/**
 * The device's own verdict combined with its peers' (peers.ts): a level break (jump, gap, shift)
 * on a channel whose level the peers vouch for is dropped, and a channel whose level left the
 * peers' is flagged (`ch.<id>.peer`).
 */
function withPeers(
  j: Judgement,
  pd: readonly PeerDelta[],
  sums: Readonly<Record<string, number>>,
  ramps: Readonly<Record<string, number>>,
  thresholds: Thresholds,
  tolerated: Judgement['flagged'] = [],
  held: Judgement['flagged'] = [],
): Judgement {
  const vouched: Record<string, true> = {};
  const flagged: Judgement['flagged'] = [...tolerated, ...held];
  for (const { channel, delta } of pd) {
    if (delta < PEER_VOUCH) vouched[channel] = true;
    const feature = `ch.${channel}.peer`;
    const t = thresholdFor(thresholds, feature);
    if (delta > t) flagged.push({ feature, delta, threshold: t });
    const run = Math.abs(sums[channel] ?? 0);
    const ts = thresholdFor(thresholds, `ch.${channel}.peersum`);
    if (run > ts) flagged.push({ feature: `ch.${channel}.peersum`, delta: run, threshold: ts });
    // The weather moves every channel's difference at once (warm air is drier); a forged ramp
    // moves one: the largest ramp of the other channels is taken off.
    let others = 0;
    for (const c of Object.keys(ramps)) if (c !== channel) others = Math.max(others, Math.abs(ramps[c] as number));
    const ramp = Math.abs(ramps[channel] ?? 0) - others;
    const tr = thresholdFor(thresholds, `ch.${channel}.peerramp`);
    if (ramp > tr) flagged.push({ feature: `ch.${channel}.peerramp`, delta: ramp, threshold: tr });
  }
  // A channel beyond the class's tolerance is not vouched for, however steady its difference.
  for (const f of tolerated) delete vouched[f.feature.slice(3, f.feature.lastIndexOf('.'))];
  for (const f of j.flagged) {
    if (isLevelBreak(f.feature) && vouched[f.feature.slice(3, f.feature.lastIndexOf('.'))]) continue;
    flagged.push(f);
  }
  flagged.sort((a, b) => byCodeUnit(a.feature, b.feature));
  return { trafficProven: flagged.length === 0, discrepancyStatus: flagged.length > 0, flagged, basis: j.basis };
}

/** A window whose fine structure copies earlier ones (copies.ts) is flagged `copy`, δ = the marks seen before. */
function withCopies(j: Judgement, copies: number, thresholds: Thresholds): Judgement {
  if (!(Number.isInteger(copies) && copies >= 0)) throw new RangeError(`copies must be a non-negative integer, got ${String(copies)}`);
  const t = thresholdFor(thresholds, 'copy');
  if (!(copies > t)) return j;
  const flagged = [...j.flagged, { feature: 'copy', delta: copies, threshold: t }];
  flagged.sort((a, b) => byCodeUnit(a.feature, b.feature));
  return { trafficProven: false, discrepancyStatus: true, flagged, basis: j.basis };
}

/** The authority's acknowledgement of a device's change (recorded on the ledger): close its fault, re-anchor on the next profile. */
export function acknowledgeChange(state: DeviceState): DeviceState {
  // The peers are re-learnt too: the acknowledged level is the device's new normal against them.
  return { lastWindow: state.lastWindow, history: state.history, reanchor: true };
}

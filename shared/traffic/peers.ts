/**
 * Cross-device consistency ("peer check"): devices of one site and class (the two indoor motes of
 * a room, the outdoor motes of a yard) see the same air, so the DIFFERENCE between a device's
 * level and a peer's level in the same window is steady even when the weather moves both a lot.
 * A per-device model cannot tell a steady offset, a slow ramp, a replay of genuine readings from
 * elsewhere or a pinned level with genuine noise from a changed environment; the peers can: the
 * forged level drifts away from what the peers see. Same determinism rules as model.ts.
 *
 * Per channel and peer, over the device's last PEER_HISTORY accepted windows (the ones the
 * combined verdict accepted, so a fault never enters the reference it is judged by): the
 * difference d = mean(device) − mean(peer), its median (centre) and trimmed robust spread (at
 * least the spread of its window-to-window steps, and PEER_FLOOR_SHARE of the channel's usual
 * within-window roughness). δ of a peer = |d − centre| / spread; a channel's δ is the median of its
 * peers' δ (a minority of faulty peers cannot move it; with one peer it is that peer's), named
 * `ch.<id>.peer`. A channel whose δ is below PEER_VOUCH is vouched for: its level agrees with
 * what the peers see, so a level break the device's own model flagged (jump, gap, shift) was the
 * environment, not a fault (the end of a long fault, a weather front).
 *
 * Peers are passed by the caller: the same-window profiles of the other devices of the class
 * whose own (per-device) verdict accepted that window. A peer the device has no history with
 * yet is skipped until PEER_MIN windows were seen together. With two devices per site a
 * disagreement cannot be attributed: both are flagged (the evaluation judges one faulty device
 * among recorded peers; docs/traffic-profiles.md). From four devices (three peers each) the
 * median attributes it; with three, an honest device's two peers split and their median is the mean.
 */
import { byCodeUnit } from './features.js';
import { checkProfile, median, robustSpread, trimmedSpread } from './learn.js';
import type { TrafficProfile } from './model.js';

/** How many accepted windows of peer differences the device keeps. */
export const PEER_HISTORY = 32;
/** Fewest windows seen together before a peer judges. */
export const PEER_MIN = 8;
/** Below this δ a channel's level is vouched for by its peers. */
export const PEER_VOUCH = 3;
/**
 * An accepted window enters the reference only if no channel's peer δ exceeds this: a faint
 * offset that the thresholds let through must not become the peers' normal within a few windows.
 */
export const PEER_LEARN = 4;
/** A reference older than this many windows is dropped (the device re-learns its peers). */
export const PEER_REACH = 32;

/** One accepted window: per peer, per channel, the level difference device − peer, and the peer's level. */
export interface PeerRecord {
  readonly window: number;
  readonly d: Readonly<Record<string, Readonly<Record<string, number>>>>;
  readonly level: Readonly<Record<string, Readonly<Record<string, number>>>>;
  /**
   * Per peer, per channel, the step of the difference across the window's start (peerStepsRaw),
   * when the window judged just before was consecutive: what the step test (peerSteps) learns its
   * spread from.
   */
  readonly s?: Readonly<Record<string, Readonly<Record<string, number>>>>;
}

/** The peer δ of one channel (signed: the device above its peers is positive), and how many peers judged it. */
export interface PeerDelta {
  readonly channel: string;
  readonly delta: number;
  readonly signed: number;
  readonly peers: number;
}

function channelsOf(p: TrafficProfile): string[] {
  const out: string[] = [];
  for (const f of Object.keys(p.features).sort(byCodeUnit)) {
    if (f.startsWith('ch.') && f.endsWith('.mean')) out.push(f.slice(3, f.length - 5));
  }
  return out;
}

/** The level differences of `profile` against each peer (peer deviceId → channel → d). */
export function peerDifferences(profile: TrafficProfile, peers: readonly TrafficProfile[]): Record<string, Record<string, number>> {
  return differences(profile, peers, 'mean');
}

/** Per peer and channel, `profile`'s channel statistic `stat` less the peer's (mean: the level; head/tail: a window's ends). */
function differences(
  profile: TrafficProfile,
  peers: readonly TrafficProfile[],
  stat: 'mean' | 'head' | 'tail',
): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  const chs = channelsOf(profile);
  for (const peer of peers) {
    if (peer.deviceId === profile.deviceId) continue;
    const row: Record<string, number> = {};
    for (const ch of chs) {
      const a = profile.features[`ch.${ch}.${stat}`];
      const b = peer.features[`ch.${ch}.${stat}`];
      if (a !== undefined && b !== undefined) row[ch] = a - b;
    }
    out[peer.deviceId] = row;
  }
  return out;
}

/** The usable reference: records within PEER_REACH windows of `window`. */
function reference(history: readonly PeerRecord[], window: number): readonly PeerRecord[] {
  let i = history.length;
  while (i > 0 && window - (history[i - 1] as PeerRecord).window <= PEER_REACH) i--;
  return i === 0 ? history : history.slice(i);
}

/** δ per channel of `profile` against its peers (sorted by channel), from the device's peer history. */
export function peerDeltas(history: readonly PeerRecord[], profile: TrafficProfile, peers: readonly TrafficProfile[]): PeerDelta[] {
  checkProfile(profile, 'profile');
  peers.forEach((p, i) => checkProfile(p, `peers[${i}]`));
  const ref = reference(history, profile.window);
  const now = peerDifferences(profile, peers);
  const out: PeerDelta[] = [];
  for (const ch of channelsOf(profile)) {
    const rough = profile.features[`ch.${ch}.dmean`];
    const ds: number[] = [];
    for (const id of Object.keys(now).sort(byCodeUnit)) {
      const x = (now[id] as Record<string, number>)[ch];
      if (x === undefined) continue;
      const xs: number[] = [];
      const steps: number[] = [];
      let prev: { w: number; v: number } | undefined;
      let lastLevel: number | undefined;
      let lastOwn: number | undefined;
      for (const r of ref) {
        const v = r.d[id]?.[ch];
        if (v === undefined) continue;
        xs.push(v);
        if (prev !== undefined && r.window === prev.w + 1) steps.push(v - prev.v);
        prev = { w: r.window, v };
        const l = r.level[id]?.[ch];
        if (l !== undefined) {
          lastLevel = l;
          lastOwn = l + v;
        }
      }
      if (xs.length < PEER_MIN) continue;
      const c = median(xs);
      const stepSpread = steps.length >= PEER_MIN / 2 ? robustSpread(steps, median(steps)) : 0;
      const spread = Math.max(trimmedSpread(xs, c), stepSpread, PEER_FLOOR_SHARE * (rough ?? 0), 1e-6);
      // Two sensors answer a change of the air with different speed and gain: the difference may
      // move by a share of how far BOTH moved, the same way, since the device's last accepted
      // window (the smaller move counts). A device that stays put while its peers move (a pinned
      // level) gets no such allowance.
      const pl = peers.find((p) => p.deviceId === id)?.features[`ch.${ch}.mean`];
      const own = profile.features[`ch.${ch}.mean`];
      let moved = 0;
      if (pl !== undefined && lastLevel !== undefined && own !== undefined && lastOwn !== undefined) {
        const mp = pl - lastLevel;
        const mo = own - lastOwn;
        if ((mp > 0 && mo > 0) || (mp < 0 && mo < 0)) moved = Math.min(Math.abs(mp), Math.abs(mo));
      }
      ds.push((x - c) / (spread + PEER_GAIN * moved));
    }
    if (ds.length === 0) continue;
    const signed = median(ds);
    out.push({ channel: ch, delta: Math.abs(signed), signed, peers: ds.length });
  }
  return out;
}

/**
 * Per channel, the median over the peers of the level difference device − peer in this window
 * (no history needed): what the class's registered tolerance (ClassProfile.peerTolerance) judges.
 */
export function peerLevels(profile: TrafficProfile, peers: readonly TrafficProfile[]): Record<string, number> {
  const now = peerDifferences(profile, peers);
  const out: Record<string, number> = {};
  for (const ch of channelsOf(profile)) {
    const ds: number[] = [];
    for (const id of Object.keys(now).sort(byCodeUnit)) {
      const x = (now[id] as Record<string, number>)[ch];
      if (x !== undefined) ds.push(x);
    }
    if (ds.length > 0) out[ch] = median(ds);
  }
  return out;
}

/** Share of the peer's own level change since the device's last accepted window by which the difference may move. */
export const PEER_GAIN = 0.5;
/** Smallest spread of a peer difference, as a share of the channel's usual step between readings (its dmean). */
export const PEER_FLOOR_SHARE = 1;

/** The device's next peer history after judging `profile` (only accepted windows enter it). */
export function advancePeerHistory(
  history: readonly PeerRecord[],
  profile: TrafficProfile,
  peers: readonly TrafficProfile[],
  accepted: boolean,
  steps?: Readonly<Record<string, Readonly<Record<string, number>>>>,
): PeerRecord[] {
  const ref = reference(history, profile.window);
  if (!accepted) return ref.slice();
  const d = peerDifferences(profile, peers);
  if (Object.keys(d).length === 0) return ref.slice();
  const level: Record<string, Record<string, number>> = {};
  for (const p of peers) {
    if (d[p.deviceId] === undefined) continue;
    const row: Record<string, number> = {};
    for (const ch of Object.keys(d[p.deviceId] as Record<string, number>)) row[ch] = p.features[`ch.${ch}.mean`] as number;
    level[p.deviceId] = row;
  }
  const s = steps !== undefined && Object.keys(steps).length > 0 ? { s: steps } : {};
  return [...ref, { window: profile.window, d, level, ...s }].slice(-PEER_HISTORY);
}

/** A window's signed peer δ must exceed this for the run sum to grow (the CUSUM's slack). */
export const PEER_SLACK = 3;

/**
 * The run sum of a channel's signed peer δ (a CUSUM that restarts as soon as a window is back
 * within PEER_SLACK of its peers, or changes side): a ramp or a faint offset too small for any
 * one window adds up window after window; the end of the fault ends the run at once, so the
 * windows after it are not flagged for the sum to drain.
 */
export function nextPeerSum(prev: number | undefined, signed: number): number {
  const p = prev ?? 0;
  if (signed > PEER_SLACK) return (p > 0 ? p : 0) + signed - PEER_SLACK;
  if (signed < -PEER_SLACK) return (p < 0 ? p : 0) + signed + PEER_SLACK;
  return 0;
}

/** How many consecutive judged windows the ramp test looks back over (peerRamp). */
export const RAMP_WINDOWS = 10;

/** One judged window's signed peer δ of a channel (any verdict), for the ramp test. */
export interface PeerRecent {
  readonly window: number;
  readonly z: number;
  /** The window's verdict accepted it (a ramp's anchor must be a window judged normal). */
  readonly ok: boolean;
}

/** The channel's recent signed δ after this window: the last RAMP_WINDOWS consecutive windows ending at `window`. */
export function nextPeerRecent(prev: readonly PeerRecent[] | undefined, window: number, z: number, ok: boolean): PeerRecent[] {
  const last = prev?.[prev.length - 1];
  const kept = last !== undefined && last.window === window - 1 ? (prev as readonly PeerRecent[]) : [];
  return [...kept, { window, z, ok }].slice(-RAMP_WINDOWS);
}

/** Windows before a ramp's onset whose mean δ is the ramp's anchor (the level it left). */
export const RAMP_ANCHOR = 2;

/**
 * The ramp test on a channel's recent signed peer δ (oldest first, consecutive, ending with this
 * window). For every onset k windows back (k ≥ 2, with RAMP_ANCHOR accepted windows before it), the
 * anchor a = mean δ of the windows just before the onset, and the least-squares slope through
 * the anchor of y = δ − a against x = ½, 1½, …, k − ½, standardised: Σ x·y / √(Σx² + (Σx)²/m)
 * (unit spread for δ noise of unit spread, the anchor's own noise included). A steady difference,
 * however far from the reference's centre, scores about 0 (it is the peer check's and the run
 * sum's); a ramp of slope β (δ per window) scores about β·k^1.5/√3, where its level grows like k.
 * An onset counts only while this window is still at least half as far from the anchor as the
 * fitted ramp says, and only away from the reference's centre (δ further out than the anchor,
 * the same side as the slope): the end of a fault brings δ back and must not be flagged for the
 * windows before it. Returns the signed statistic of largest magnitude.
 */
export function peerRamp(recent: readonly PeerRecent[]): number {
  const n = recent.length;
  const m = RAMP_ANCHOR;
  let best = 0;
  for (let k = 2; k + m <= n; k++) {
    let a = 0;
    let accepted = true;
    for (let j = k; j < k + m; j++) {
      a += (recent[n - 1 - j] as PeerRecent).z;
      if (!(recent[n - 1 - j] as PeerRecent).ok) accepted = false;
    }
    if (!accepted) continue;
    a /= m;
    let sxy = 0;
    let sxx = 0;
    let sx = 0;
    for (let j = 0; j < k; j++) {
      const x = k - j - 0.5;
      sxy += x * ((recent[n - 1 - j] as PeerRecent).z - a);
      sxx += x * x;
      sx += x;
    }
    const slope = sxy / sxx;
    const z = (recent[n - 1] as PeerRecent).z;
    const now = z - a;
    // Away from the peers' centre (a way back to it is the end of a fault), and still at least
    // half as far from the anchor as the fitted ramp says.
    if (!(z * slope > 0 && Math.abs(z) > Math.abs(a) && Math.abs(now) * 2 >= Math.abs(slope * (k - 0.5)) && now * slope > 0)) continue;
    // A ramp is a line: the δ's scatter about the fitted line (at least the unit spread of δ)
    // widens the statistic's noise; the weather's wander zigzags where a forged ramp does not.
    let rss = 0;
    for (let j = 0; j < k; j++) {
      const r = (recent[n - 1 - j] as PeerRecent).z - a - slope * (k - j - 0.5);
      rss += r * r;
    }
    const scatter = Math.max(1, Math.sqrt(rss / (k - 1)));
    const stat = sxy / (scatter * Math.sqrt(sxx + (sx * sx) / m));
    if (Math.abs(stat) > Math.abs(best)) best = stat;
  }
  return best;
}

/** The tail differences (device − peer, mean of the last three readings, per peer and channel) of the window judged last. */
export interface PeerTails {
  readonly window: number;
  readonly t: Readonly<Record<string, Readonly<Record<string, number>>>>;
}

/** This window's tail differences to each peer (what the next window's step starts from). */
export function peerTails(profile: TrafficProfile, peers: readonly TrafficProfile[]): PeerTails {
  return { window: profile.window, t: differences(profile, peers, 'tail') };
}

/**
 * Per peer and channel, the step of the difference device − peer across this window's start: its
 * head difference less the tail difference of the window judged just before (only when that one
 * is the previous window). A level that breaks away from the peers (an offset, a pinned level)
 * steps by the offset between two readings; the air moves both sides of the difference.
 */
export function peerStepsRaw(
  prev: PeerTails | undefined,
  profile: TrafficProfile,
  peers: readonly TrafficProfile[],
): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  if (prev === undefined || prev.window !== profile.window - 1) return out;
  const head = differences(profile, peers, 'head');
  for (const id of Object.keys(head).sort(byCodeUnit)) {
    const before = prev.t[id];
    if (before === undefined) continue;
    const row: Record<string, number> = {};
    for (const ch of Object.keys(head[id] as Record<string, number>).sort(byCodeUnit)) {
      const b = before[ch];
      if (b !== undefined) row[ch] = ((head[id] as Record<string, number>)[ch] as number) - b;
    }
    out[id] = row;
  }
  return out;
}

/**
 * A step is held open (device-state.ts) only if the window's peer δ also moved by at least this
 * much away from the peers since the window before (besides being at least PEER_VOUCH away):
 * when a forged level was partly learnt by the reference, the true level coming back after it
 * steps strongly, but its δ hardly moves away from the (shifted) centre; a break moves it at once.
 */
export const STEP_AWAY = 2;

/** The step δ of one channel (signed, median over its peers), the step itself (median, in units) and the difference before it. */
export interface PeerStep {
  readonly channel: string;
  readonly delta: number;
  readonly signed: number;
  /** Median over the peers of the step of the difference (units). */
  readonly step: number;
  /** Median over the peers of the difference just before the step (the previous window's tail). */
  readonly before: number;
}

/**
 * The step test: per channel and peer, the step of the difference across the window's start
 * against the steps of the device's reference (accepted windows that followed a judged window),
 * δ = (step − median) / max(robust spread, the channel's usual step between readings); the
 * channel's δ is the median over its peers.
 */
export function peerSteps(
  history: readonly PeerRecord[],
  raw: Readonly<Record<string, Readonly<Record<string, number>>>>,
  prev: PeerTails | undefined,
  profile: TrafficProfile,
): PeerStep[] {
  const ref = reference(history, profile.window);
  const out: PeerStep[] = [];
  for (const ch of channelsOf(profile)) {
    const rough = profile.features[`ch.${ch}.dmean`] ?? 0;
    const ds: number[] = [];
    const st: number[] = [];
    const bs: number[] = [];
    for (const id of Object.keys(raw).sort(byCodeUnit)) {
      const x = (raw[id] as Record<string, number>)[ch];
      if (x === undefined) continue;
      const xs: number[] = [];
      for (const r of ref) {
        const v = r.s?.[id]?.[ch];
        if (v !== undefined) xs.push(v);
      }
      if (xs.length < PEER_MIN) continue;
      const c = median(xs);
      const spread = Math.max(robustSpread(xs, c), PEER_FLOOR_SHARE * rough, 1e-6);
      ds.push((x - c) / spread);
      st.push(x);
      const b = prev?.t[id]?.[ch];
      if (b !== undefined) bs.push(b);
    }
    if (ds.length === 0 || bs.length === 0) continue;
    const signed = median(ds);
    out.push({ channel: ch, delta: Math.abs(signed), signed, step: median(st), before: median(bs) });
  }
  return out;
}

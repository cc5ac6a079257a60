/**
 * The oracle bound: the best per-window detector possible when it knows the fault's exact shape
 * (the value the fault added to each reading of the faulted channel), the channel and the
 * episode's first window, and sees every reading of the device and of its peers (what the
 * features summarise: levels, head, tail, slope). It cannot know whether a window is faulty; it
 * tests it.
 *
 * Per reading, x = device value − median of the peers' values at the same reading index (the
 * peers' clean runs; 5 s readings on one timeline). For the k-th window of an episode it computes
 * known-signal (Neyman–Pearson, matched-filter) statistics over the episode's readings so far
 * (causal, like the model), with s the known signal per reading:
 * - `level`: Σ s (x − b) / ‖s‖, b = mean of x over the BASELINE windows before the onset (the
 *   likelihood-ratio test for a known signal in white noise);
 * - `step`: Σ Δs Δx / ‖Δs‖ on reading-to-reading increments (the test for a known signal in
 *   random-walk noise: the peer difference wanders);
 * - `level/σ`, `step/σ`: the same divided by the noise scale of the BASELINE windows before the
 *   onset (√(mean Δx² / 2) and √(mean Δx²)): the test studentised for the local weather, since
 *   the difference wanders more in the afternoon sun than at night.
 * Each statistic's threshold is calibrated per episode and per k on the clean runs (the same
 * template placed at every window boundary of every mote with peers, same channel, no labelled
 * event in the windows used): the largest value whose exceedance rate is at most the target FPR,
 * so every decision, faulty or not, is a test at that false-positive rate. F1 counts the injected
 * run's clean windows as false positives at that rate (FP = FPR × negatives). The bound reported
 * is the best statistic's F1 per row (chosen with the truth: an oracle may pick its test).
 *
 * What it bounds: detectors of the faulted channel's level against the peers under the noise the
 * clean runs show (the statistics are the likelihood-ratio tests for Gaussian white or random-walk
 * noise; heavy tails or other correlation could let a cleverer statistic do better, which is why
 * each row also shows the model: where the model beats the oracle, the oracle is not a bound).
 * It knows more than a deployable detector can: the onset, the channel, the sign and the size.
 */
import type { SimRun } from './simulate.js';

/** Fault types whose signal is a level on one channel: the oracle's rows. */
export const ORACLE_ROWS = ['drift', 'modification', 'ramp', 'mimic'] as const;
/** Windows before the onset the statistics take their baseline and noise scale from. */
export const BASELINE = 4;

const BASE_STATS = (['level', 'near', 'step'] as const).flatMap((k) => [k, `${k}/σr`, `${k}/σw`, `${k}/σm`] as const);
type BaseStat = (typeof BASE_STATS)[number];
const STATS = [...BASE_STATS, ...BASE_STATS.map((b) => `resid ${b}` as const)];
/** One of the oracle's statistics. */
export type OracleStat = (typeof STATS)[number];

/** Per reading index, the channel's difference to the peers (NaN where the device or every peer lacks it). */
export interface PeerSeries {
  readonly x: Float64Array;
  /**
   * x less β × the other channel's difference to the peers (β fitted on the mote's clean run,
   * window-mean steps): the weather that moves both channels' differences at once taken out.
   */
  readonly resid: Float64Array;
  /** The series whose wander scale normalises `/σm` (the mote's clean run; default this one). */
  readonly scaleX?: Float64Array;
  readonly scaleResid?: Float64Array;
  /** β of the residual. */
  readonly beta: number;
  /** Readings per window. */
  readonly perWindow: number;
  /** Per window: no labelled event (usable as clean). */
  readonly clean: readonly boolean[];
}

/** Channel values of a run by reading index (sequence number), NaN where lost. */
export function valuesBySeq(run: SimRun, channel: string, length: number): Float64Array {
  const out = new Float64Array(length).fill(NaN);
  for (const w of run.windows) {
    for (const a of w.input.arrivals) {
      const v = a.values[channel];
      if (v !== undefined && a.seq >= 0 && a.seq < length) out[a.seq] = v;
    }
  }
  return out;
}

/** device − median over the peers, per reading index. */
export function peerDiff(device: Float64Array, peers: readonly Float64Array[]): Float64Array {
  const x = new Float64Array(device.length).fill(NaN);
  const ys: number[] = [];
  for (let i = 0; i < device.length; i++) {
    const v = device[i] as number;
    if (Number.isNaN(v)) continue;
    ys.length = 0;
    for (const p of peers) {
      const y = p[i];
      if (y !== undefined && !Number.isNaN(y)) ys.push(y);
    }
    if (ys.length === 0) continue;
    ys.sort((a, b) => a - b);
    const k = ys.length >> 1;
    x[i] = v - (ys.length % 2 === 1 ? (ys[k] as number) : ((ys[k - 1] as number) + (ys[k] as number)) / 2);
  }
  return x;
}

/** Window means of a per-reading series (NaN where a window has no value). */
function windowMeans(x: Float64Array, perWindow: number): number[] {
  const out: number[] = [];
  for (let w = 0; w * perWindow < x.length; w++) {
    let s = 0;
    let n = 0;
    for (let i = w * perWindow; i < Math.min(x.length, (w + 1) * perWindow); i++) {
      const v = x[i] as number;
      if (!Number.isNaN(v)) {
        s += v;
        n++;
      }
    }
    out.push(n > 0 ? s / n : NaN);
  }
  return out;
}

/**
 * β of channel difference x on the other channel's difference o: least squares through the origin
 * of x's window-mean steps on o's, over clean consecutive windows of a clean run.
 */
export function coMovement(x: Float64Array, o: Float64Array, perWindow: number, clean: readonly boolean[]): number {
  const mx = windowMeans(x, perWindow);
  const mo = windowMeans(o, perWindow);
  let sxy = 0;
  let syy = 0;
  for (let w = 1; w < Math.min(mx.length, mo.length); w++) {
    if (!clean[w] || !clean[w - 1]) continue;
    const dx = (mx[w] as number) - (mx[w - 1] as number);
    const dy = (mo[w] as number) - (mo[w - 1] as number);
    if (Number.isNaN(dx) || Number.isNaN(dy)) continue;
    sxy += dx * dy;
    syy += dy * dy;
  }
  return syy > 0 ? sxy / syy : 0;
}

/** The oracle's series of one channel: its difference to the peers and the residual after the other channel's. */
export function peerSeries(x: Float64Array, other: Float64Array, beta: number, perWindow: number, events: readonly boolean[]): PeerSeries {
  const resid = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const o = other[i] as number;
    resid[i] = (x[i] as number) - beta * (Number.isNaN(o) ? 0 : o);
  }
  return { x, resid, beta, perWindow, clean: events.map((e) => !e) };
}

/** One injected episode as the oracle sees it. */
export interface OracleEpisode {
  readonly channel: string;
  /** The run's peer difference (the injected device against its peers). */
  readonly observed: PeerSeries;
  /** The same without the fault (the twin's difference): the statistic's shift is observed − this, exactly (the statistics are linear in x). */
  readonly withoutFault: PeerSeries;
  /** Onset window (the group's start). */
  readonly start: number;
  /** Per reading from the onset's first reading: the value the fault added (injected − the same run without the fault). */
  readonly signal: Float64Array;
  /** Per window from the onset: scored as a positive (faulty, no labelled event). */
  readonly positive: readonly boolean[];
}

/** The oracle's figures for one row at one FPR. */
export interface OracleResult {
  readonly fpr: number;
  /** Best statistic's F1 (null when there were no positives). */
  readonly f1: number | null;
  readonly recall: number | null;
  readonly stat: OracleStat | null;
  /** Every statistic's F1. */
  readonly perStat: Readonly<Record<OracleStat, number | null>>;
}

type Values = Record<OracleStat, number | null>;

/** The statistics of template s[0, len) placed at reading r0 of x. */
function statsAt(series: PeerSeries, r0: number, s: Float64Array, len: number): Values {
  const a = baseStatsAt(series.x, r0, s, len, series.perWindow, series.scaleX ?? series.x);
  const b = baseStatsAt(series.resid, r0, s, len, series.perWindow, series.scaleResid ?? series.resid);
  const out = {} as Values;
  for (const k of BASE_STATS) {
    out[k] = a[k];
    out[`resid ${k}`] = b[k];
  }
  return out;
}

/** Windows before the onset whose window-mean steps give the local wander scale. */
export const SCALE_WINDOWS = 8;

/** RMS of the window-mean steps over windows [from, to) of x (NaN with fewer than two windows). */
function wanderScale(x: Float64Array, perWindow: number, from: number, to: number): number {
  let prev = NaN;
  let d2 = 0;
  let nd = 0;
  for (let w = Math.max(0, from); w < to; w++) {
    let sum = 0;
    let n = 0;
    for (let i = w * perWindow; i < Math.min(x.length, (w + 1) * perWindow); i++) {
      const v = x[i] as number;
      if (!Number.isNaN(v)) {
        sum += v;
        n++;
      }
    }
    const m = n > 0 ? sum / n : NaN;
    if (!Number.isNaN(m) && !Number.isNaN(prev)) {
      d2 += (m - prev) * (m - prev);
      nd++;
    }
    prev = m;
  }
  return nd > 0 ? Math.max(0.005, Math.sqrt(d2 / nd)) : NaN;
}

const moteScale = new WeakMap<Float64Array, number>();
/** The wander scale of a whole series (the mote's clean run: how much its difference to the peers moves a window). */
function seriesScale(x: Float64Array, perWindow: number): number {
  let v = moteScale.get(x);
  if (v === undefined) {
    v = wanderScale(x, perWindow, 0, Math.ceil(x.length / perWindow));
    moteScale.set(x, v);
  }
  return v;
}

/**
 * The statistics of template s[0, len) placed at reading r0 of x: level against a baseline of
 * BASELINE windows (`level`) or of the last window (`near`), and the increments (`step`), each
 * raw, over the reading-step noise before the onset (`/σr`), over the local wander scale
 * (`/σw`, SCALE_WINDOWS before the onset) and over the series' wander scale (`/σm`).
 */
function baseStatsAt(
  x: Float64Array,
  r0: number,
  s: Float64Array,
  len: number,
  perWindow: number,
  scaleOf: Float64Array,
): Record<BaseStat, number | null> {
  let b = 0;
  let nb = 0;
  let bn = 0;
  let nbn = 0;
  let d2 = 0;
  let nd = 0;
  let prev = NaN;
  for (let i = Math.max(0, r0 - BASELINE * perWindow); i < r0; i++) {
    const v = x[i] as number;
    if (Number.isNaN(v)) continue;
    b += v;
    nb++;
    if (i >= r0 - perWindow) {
      bn += v;
      nbn++;
    }
    if (!Number.isNaN(prev)) {
      d2 += (v - prev) * (v - prev);
      nd++;
    }
    prev = v;
  }
  const base = nb > 0 ? b / nb : NaN;
  const baseNear = nbn > 0 ? bn / nbn : NaN;
  // Quantisation (0.01) is the least noise a difference of two readings carries.
  const sdStep = nd > 0 ? Math.max(0.005, Math.sqrt(d2 / nd)) : NaN;
  const w0 = Math.floor(r0 / perWindow);
  const sdWander = wanderScale(x, perWindow, w0 - SCALE_WINDOWS, w0);
  const sdMote = seriesScale(scaleOf, perWindow);
  let lv = 0;
  let lnv = 0;
  let ln = 0;
  let st = 0;
  let sn = 0;
  let prevX = r0 - 1 >= 0 ? (x[r0 - 1] as number) : NaN;
  let prevS = 0;
  for (let j = 0; j < len && r0 + j < x.length; j++) {
    const o = x[r0 + j] as number;
    const sig = s[j] as number;
    if (!Number.isNaN(o)) {
      if (!Number.isNaN(base)) {
        lv += sig * (o - base);
        lnv += sig * (o - baseNear);
        ln += sig * sig;
      }
      if (!Number.isNaN(prevX)) {
        const ds = sig - prevS;
        st += ds * (o - prevX);
        sn += ds * ds;
      }
    }
    prevX = o;
    prevS = sig;
  }
  const raw: Record<string, number | null> = {
    level: ln > 0 ? lv / Math.sqrt(ln) : null,
    near: ln > 0 && !Number.isNaN(baseNear) ? lnv / Math.sqrt(ln) : null,
    step: sn > 0 ? st / Math.sqrt(sn) : null,
  };
  const out = {} as Record<BaseStat, number | null>;
  const div = (v: number | null, d: number): number | null => (v === null || Number.isNaN(d) ? null : v / d);
  for (const k of ['level', 'near', 'step'] as const) {
    const v = raw[k] ?? null;
    out[k] = v;
    out[`${k}/σr`] = div(v, sdStep);
    out[`${k}/σw`] = div(v, sdWander);
    out[`${k}/σm`] = div(v, sdMote);
  }
  return out;
}

/** One decision (an episode's k-th window) under one statistic. */
interface Decision {
  /** The statistic over clean stretches (H0), sorted descending. */
  readonly h0: Float64Array;
  readonly obs: number;
  /** Its shift under the fault: obs − the same without the fault. */
  readonly mu: number;
}

/** How many of `desc` (sorted descending) lie strictly above c. */
function above(desc: Float64Array, c: number): number {
  let lo = 0;
  let hi = desc.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((desc[mid] as number) > c) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * True positives of a statistic's decisions at a mean false-positive rate `fpr`, the better of two
 * allocations: the same rate for every decision (threshold per decision), or the rate spent where
 * the fault's shift is large against the clean spread (one threshold c on the Gaussian log
 * likelihood ratio (z − μ/2)·μ, z and μ in units of the decision's clean spread, c chosen so that
 * the mean clean exceedance over the decisions is at most `fpr`: the Neyman–Pearson test of
 * the whole set of decisions under one false-positive budget).
 */
function truePositives(decisions: readonly Decision[], fpr: number): number {
  let equal = 0;
  for (const d of decisions) {
    if (d.h0.length === 0) continue;
    const thr = d.h0[Math.min(d.h0.length - 1, Math.floor(fpr * d.h0.length))] as number;
    if (d.obs > thr) equal++;
  }
  // LR allocation: per decision, scores of its clean values and of the observation.
  const scored = decisions
    .filter((d) => d.h0.length > 1 && d.mu > 0)
    .map((d) => {
      let m = 0;
      for (const v of d.h0) m += v;
      m /= d.h0.length;
      let v2 = 0;
      for (const v of d.h0) v2 += (v - m) * (v - m);
      const sd = Math.sqrt(v2 / d.h0.length) || 1;
      const mu = d.mu / sd;
      const score = (v: number): number => ((v - m) / sd - mu / 2) * mu;
      // Descending in v, so descending in score (mu > 0).
      return { h0: d.h0.map(score), obs: score(d.obs) };
    });
  const all = decisions.length;
  const meanFpr = (c: number): number => {
    let s = 0;
    for (const d of scored) s += above(d.h0, c) / d.h0.length;
    return all === 0 ? 0 : s / all;
  };
  let lo = -1e4;
  let hi = 1e8;
  for (let it = 0; it < 200 && hi - lo > 1e-9 * Math.max(1, Math.abs(hi)); it++) {
    const mid = (lo + hi) / 2;
    if (meanFpr(mid) <= fpr) hi = mid;
    else lo = mid;
  }
  let lr = 0;
  for (const d of scored) if (d.obs > hi) lr++;
  return Math.max(equal, lr);
}

/**
 * The oracle's F1 for one row at each FPR of `fprs`: `episodes` of the injected runs, `clean` the
 * clean peer differences of every mote with peers (per channel), `negatives` the injected runs'
 * scored clean windows.
 */
export function oracleRow(
  episodes: readonly OracleEpisode[],
  clean: Readonly<Record<string, readonly PeerSeries[]>>,
  negatives: number,
  fprs: readonly number[],
): OracleResult[] {
  const decisions = {} as Record<OracleStat, Decision[]>;
  for (const name of STATS) decisions[name] = [];
  let positives = 0;
  for (const ep of episodes) {
    const pool = clean[ep.channel] ?? [];
    const n = ep.observed.perWindow;
    for (let k = 1; k <= ep.positive.length; k++) {
      if (!ep.positive[k - 1]) continue;
      positives++;
      const len = k * n;
      // H0: the same template at every clean window boundary.
      const h0: Values[] = [];
      for (const series of pool) {
        const windows = series.clean.length;
        for (let a = BASELINE; a + k <= windows; a++) {
          let ok = true;
          for (let j = a - BASELINE; j < a + k && ok; j++) if (!series.clean[j]) ok = false;
          if (ok) h0.push(statsAt(series, a * n, ep.signal, len));
        }
      }
      const obs = statsAt(ep.observed, ep.start * n, ep.signal, len);
      const obs0 = statsAt(ep.withoutFault, ep.start * n, ep.signal, len);
      for (const name of STATS) {
        const v = obs[name];
        const v0 = obs0[name];
        if (v === null || v0 === null) continue;
        const col = Float64Array.from(h0.map((h) => h[name]).filter((u): u is number => u !== null))
          .sort()
          .reverse();
        decisions[name].push({ h0: col, obs: v, mu: v - v0 });
      }
    }
  }
  return fprs.map((fpr) => {
    const fp = fpr * negatives;
    const perStat = {} as Record<OracleStat, number | null>;
    let best: { stat: OracleStat; f1: number; recall: number } | null = null;
    for (const name of STATS) {
      const t = truePositives(decisions[name], fpr);
      const f1 = positives === 0 ? null : (2 * t) / (2 * t + (positives - t) + fp);
      perStat[name] = f1;
      if (f1 !== null && (best === null || f1 > best.f1)) best = { stat: name, f1, recall: t / positives };
    }
    return { fpr, f1: best?.f1 ?? null, recall: best?.recall ?? null, stat: best?.stat ?? null, perStat };
  });
}

/**
 * The oracle's view of one injected run (single-fault rows): per episode group, the signal from
 * the run against its twin without the fault (same seed: the same arrivals, only values differ).
 */
export function oracleEpisodes(
  run: SimRun,
  twin: SimRun,
  peers: readonly SimRun[],
  perWindow: number,
  /** The mote's clean series per channel (β, and the wander scale of `/σm`). */
  moteClean: Readonly<Record<string, PeerSeries>>,
): OracleEpisode[] {
  const length = run.windows.length * perWindow + perWindow;
  const events = run.windows.map((w) => w.realEvent);
  const byChannel: Record<string, { observed: PeerSeries; withoutFault: PeerSeries; signal: Float64Array }> = {};
  const out: OracleEpisode[] = [];
  run.groups.forEach((g, gi) => {
    const ep = run.episodes[g.members[0] as number];
    if (ep === undefined) return;
    const channel = ep.channel;
    const view = (byChannel[channel] ??= (() => {
      const dev = valuesBySeq(run, channel, length);
      const base = valuesBySeq(twin, channel, length);
      const signal = new Float64Array(length);
      for (let i = 0; i < length; i++) {
        const d = (dev[i] as number) - (base[i] as number);
        signal[i] = Number.isNaN(d) ? 0 : d;
      }
      const otherChannel = channel === 'temperature' ? 'humidity' : 'temperature';
      const x = peerDiff(
        dev,
        peers.map((p) => valuesBySeq(p, channel, length)),
      );
      const o = peerDiff(
        valuesBySeq(run, otherChannel, length),
        peers.map((p) => valuesBySeq(p, otherChannel, length)),
      );
      const own = moteClean[channel];
      const observed: PeerSeries = {
        ...peerSeries(x, o, own?.beta ?? 0, perWindow, events),
        ...(own !== undefined ? { scaleX: own.x, scaleResid: own.resid } : {}),
      };
      const x0 = x.map((v, i) => v - (signal[i] as number));
      const withoutFault: PeerSeries = {
        ...observed,
        x: x0,
        resid: observed.resid.map((v, i) => v - (signal[i] as number)),
      };
      return { observed, withoutFault, signal };
    })());
    let last = g.start;
    run.windows.forEach((w, i) => {
      if (w.episode === gi && w.faulty) last = Math.max(last, i);
    });
    const positive: boolean[] = [];
    for (let i = g.start; i <= last; i++) {
      const w = run.windows[i];
      positive.push(w !== undefined && w.faulty && w.episode === gi && !w.realEvent);
    }
    out.push({
      channel,
      observed: view.observed,
      withoutFault: view.withoutFault,
      start: g.start,
      signal: view.signal.slice(g.start * perWindow, (last + 1) * perWindow),
      positive,
    });
  });
  return out;
}

/**
 * Turns one mote's real readings into what an edge box would have received from it, with
 * seeded, reproducible faults injected on top (evaluation only; Node or browser, no I/O).
 *
 * Real: the channel values (temperature, humidity) and their labels, one reading per 5 s.
 * Synthesised, because the data set does not carry them (said so in the report and the docs):
 * - device clock: 5 s period with ±20 ms (σ) jitter; edge clock offset per mote; radio latency
 *   10–80 ms; 0.3% of readings lost on the air; 0.2% of frames arrive corrupt (frame errors);
 *   0.2% of readings arrive twice (a retransmission after a lost ACK);
 * - battery: two AA cells starting at 2,950–3,050 mV, losing 3 mV per hour idle plus 0.02 mV per
 *   reading sent, read through a 2 mV (σ) noisy ADC and rounded to whole mV.
 * Values are quantised to 0.01 like the data set's.
 */
import type { Arrival, WindowInput } from '../../shared/traffic/features.js';
import type { MoteSeries } from './dataset.js';
import { applyDeviceFault, type Episode, type FaultContext, type FaultType, type SimReading } from './faults.js';
import { mulberry32, subSeed } from './prng.js';

/** Period of the data set's motes. */
export const PERIOD_MS = 5_000;
/** Device clock origin (the data set was collected on 9 May 2010). */
const T0 = Date.UTC(2010, 4, 9, 12, 0, 0);
const IDLE_MV_PER_HOUR = 3;
const MV_PER_READING = 0.02;

/** One window as the edge saw it, with the evaluation's ground truth. */
export interface SimWindow {
  readonly index: number;
  readonly input: WindowInput;
  /** Some reading in the window was changed, added or drained by an injected fault. */
  readonly faulty: boolean;
  /** Group (run.groups index) of the fault touching this window, or -1. */
  readonly episode: number;
  /** Some reading in the window carries the data set's label 1 (a real introduced event). */
  readonly realEvent: boolean;
}

/** A simulated run of one mote. */
export interface SimRun {
  readonly moteId: number;
  readonly windows: readonly SimWindow[];
  readonly episodes: readonly Episode[];
  /** Episode groups (faults happening together): windows [start, end) and their episodes' indices. */
  readonly groups: readonly { readonly start: number; readonly end: number; readonly members: readonly number[] }[];
}

/** How many windows of `windowMs` a series spans (before injection). */
export function windowCount(series: MoteSeries, windowMs: number): number {
  return Math.floor((series.rows.length * PERIOD_MS) / windowMs);
}

/**
 * Simulates one mote with the given fault episodes (aligned on whole windows of `windowMs`).
 * `seed` drives every synthetic choice; the same arguments give the same run.
 */
export function simulateMote(
  series: MoteSeries,
  episodes: readonly Episode[],
  windowMs: number,
  seed: number,
  ctx: FaultContext = { magnitude: 1 },
): SimRun {
  const rng = mulberry32(subSeed(seed, series.moteId, 7));
  const offset = rng.int(-2_000, 2_000);
  // Clean readings with their nominal window (edge clock) so episodes align on windows.
  let readings: SimReading[] = series.rows.map((row, i) => {
    const t = T0 + i * PERIOD_MS + Math.round(rng.normal() * 20);
    return {
      t,
      values: { humidity: row.humidity, temperature: row.temperature },
      faulty: false,
      realEvent: row.label === 1,
      window: Math.floor((i * PERIOD_MS) / windowMs),
      episode: -1,
      batteryExtraMvPerHour: 0,
    };
  });
  const groups: { start: number; end: number; members: number[] }[] = [];
  const groupOf: Record<number, number> = {};
  episodes.forEach((ep, k) => {
    const g = ep.group ?? k;
    if (groupOf[g] === undefined) {
      groupOf[g] = groups.length;
      groups.push({ start: ep.start, end: ep.end, members: [] });
    }
    const grp = groups[groupOf[g] as number] as { start: number; end: number; members: number[] };
    grp.members.push(k);
    grp.start = Math.min(grp.start, ep.start);
    grp.end = Math.max(grp.end, ep.end);
    readings = applyDeviceFault(readings, ep, groupOf[g] as number, windowMs, mulberry32(subSeed(seed, series.moteId, 100 + k)), ctx);
  });
  readings.sort((a, b) => a.t - b.t);

  // Battery along the device's own timeline (a raised sampling rate drains it faster).
  let level = 2_950 + rng.uniform(0, 100);
  let lastT = readings.length > 0 ? (readings[0] as SimReading).t : T0;
  let dying = 0; // extra drop of a dying battery; the cell is swapped when the episode ends
  const arrivals: { a: Arrival; r: SimReading }[] = [];
  const frameErrorsAt: number[] = [];
  const dupAt: number[] = [];
  readings.forEach((r, seq) => {
    const dtHours = (r.t - lastT) / 3_600_000;
    lastT = r.t;
    level -= dtHours * IDLE_MV_PER_HOUR + MV_PER_READING;
    dying = r.batteryExtraMvPerHour > 0 ? dying + dtHours * r.batteryExtraMvPerHour : 0;
    const batteryMv = Math.round(level - dying + rng.normal() * 2);
    const receivedAt = r.t + offset + rng.int(10, 80);
    const roll = rng.next();
    if (roll < 0.003) return; // lost on the air: a sequence gap
    if (roll < 0.005)
      frameErrorsAt.push(receivedAt); // corrupt frame: dropped, counted
    else {
      arrivals.push({ a: { seq, t: r.t, receivedAt, values: quantise(r.values), batteryMv }, r });
      if (roll < 0.007) dupAt.push(receivedAt + 1_000); // retransmitted copy, discarded by the edge
    }
  });

  const origin = T0 + offset;
  // Whole windows only: a trailing partial window would look like a rate drop.
  const nWin = Math.max(1, Math.floor(((readings.length > 0 ? lastT : T0) - T0) / windowMs));
  const buckets: { a: Arrival[]; faulty: boolean; realEvent: boolean; episode: number; fe: number; dups: number }[] = [];
  for (let w = 0; w < nWin; w++) buckets.push({ a: [], faulty: false, realEvent: false, episode: -1, fe: 0, dups: 0 });
  const bucketOf = (ms: number): number => Math.max(0, Math.floor((ms - origin) / windowMs));
  for (const { a, r } of arrivals) {
    const b = buckets[bucketOf(a.receivedAt)];
    if (b === undefined) continue;
    b.a.push(a);
    if (r.faulty) {
      b.faulty = true;
      b.episode = r.episode;
    }
    if (r.realEvent) b.realEvent = true;
  }
  for (const ms of frameErrorsAt) {
    const b = buckets[bucketOf(ms)];
    if (b !== undefined) b.fe++;
  }
  for (const ms of dupAt) {
    const b = buckets[bucketOf(ms)];
    if (b !== undefined) b.dups++;
  }

  let lastSeq: number | undefined;
  const windows: SimWindow[] = buckets.map((b, w) => {
    const input: WindowInput = {
      windowStart: origin + w * windowMs,
      windowEnd: origin + (w + 1) * windowMs,
      arrivals: b.a,
      frameErrors: b.fe,
      duplicates: b.dups,
      ...(lastSeq !== undefined ? { lastSeqBefore: lastSeq } : {}),
    };
    for (const a of b.a) lastSeq = lastSeq === undefined ? a.seq : Math.max(lastSeq, a.seq);
    return { index: w, input, faulty: b.faulty, episode: b.episode, realEvent: b.realEvent };
  });
  return { moteId: series.moteId, windows, episodes, groups };
}

function quantise(v: Readonly<Record<string, number>>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of Object.keys(v)) out[k] = Math.round((v[k] as number) * 100) / 100;
  return out;
}

/** How episodes are laid out in a run. */
export interface ScheduleOptions {
  /** First window an episode may start at (ignored with `fromStart`). */
  readonly warmup: number;
  /** Clean windows at least between two episodes. */
  readonly gap: number;
  readonly maxEpisodes?: number;
  /** Episode length range in windows, inclusive (default [2, 6]). */
  readonly length?: readonly [number, number];
  /** The first episode starts at window 0: the device is faulty from its first profile. */
  readonly fromStart?: boolean;
  /** Faults per episode (several at once, distinct types and channels); default 1. */
  readonly together?: number;
}

/** Scheduling of episodes: after warm-up (or from window 0), at least `gap` clean windows apart, away from real events. */
export function scheduleEpisodes(
  series: MoteSeries,
  types: readonly FaultType[],
  windowMs: number,
  seed: number,
  opts: ScheduleOptions,
): Episode[] {
  const rng = mulberry32(subSeed(seed, series.moteId, 3));
  const n = windowCount(series, windowMs);
  const [lo, hi] = opts.length ?? [2, 6];
  const eventWin: boolean[] = new Array<boolean>(n).fill(false);
  series.rows.forEach((row, i) => {
    if (row.label === 1) {
      const w = Math.floor((i * PERIOD_MS) / windowMs);
      for (let d = -2; d <= 2; d++) if (w + d >= 0 && w + d < n) eventWin[w + d] = true;
    }
  });
  const out: Episode[] = [];
  let w = opts.fromStart ? 0 : opts.warmup + rng.int(0, 3);
  let k = 0;
  let group = 0;
  const together = Math.max(1, opts.together ?? 1);
  while (w < n - 2 && (opts.maxEpisodes === undefined || group < opts.maxEpisodes)) {
    const len = rng.int(lo, hi);
    const end = Math.min(n - 1, w + len);
    let clash = false;
    for (let i = w - 1; i <= end; i++) if (eventWin[i]) clash = true;
    if (clash) {
      w += 1;
      continue;
    }
    // (Drawn only for several faults at once, so single-fault schedules stay what they were.)
    const channels = together > 1 && rng.next() < 0.5 ? (['humidity', 'temperature'] as const) : (['temperature', 'humidity'] as const);
    const used: Record<string, true> = {};
    for (let f = 0; f < together; f++) {
      let type = types[k % types.length] as FaultType;
      k++;
      for (let tries = 0; used[type] && tries < types.length; tries++) {
        type = types[k % types.length] as FaultType;
        k++;
      }
      used[type] = true;
      const channel = together === 1 ? rng.pick(['temperature', 'humidity'] as const) : channels[f % 2]!;
      out.push({ type, start: w, end, channel, group });
    }
    group++;
    w = end + opts.gap + rng.int(0, 4);
  }
  return out;
}

/**
 * `provenant traffic eval`: the evaluation of the traffic-profile model on real labelled data.
 *
 * 1. Clean run: every mote of the data set as recorded (synthetic arrival times and battery,
 *    see simulate.ts), judged window by window; the data set's own labelled events are scored
 *    as positives (precision/recall reported as they are) and every other window as a negative.
 * 2. One run per fault type (the seed's device faults and the realistic forgers, faults.ts), and
 *    one with several faults at once: every mote with seeded episodes injected; windows touched
 *    by the fault are positives, clean windows negatives (windows with a real labelled event are
 *    left out of these runs' scores). Size (`magnitude`), episode length, and whether the first
 *    episode starts at the device's first window are options.
 * 3. The baselines (z-score, median/MAD, CUSUM; replay.ts) judge the same feature vectors under
 *    the same history rule, each calibrated on the clean run to the model's clean false-positive
 *    rate (or `targetFpr`), so their F1 is compared at the same cost in false alarms.
 */
import { countCopies } from '../../shared/traffic/copies.js';
import { learnClassProfile, type ClassProfile } from '../../shared/traffic/class-profile.js';
import { MIN_HISTORY, defaultThresholds, type Thresholds, type TrafficProfile } from '../../shared/traffic/model.js';
import { loadDataset, resolveDataset, type MoteSeries } from './dataset.js';
import { FAULT_TYPES, type FaultType } from './faults.js';
import { add, score, summarise, zero, type Counts, type Summary } from './metrics.js';
import { subSeed } from './prng.js';
import { BASELINES, modelDetector, profilesOf, replay, type BaselineName, type DetectorFactory, type JudgedWindow } from './replay.js';
import { PERIOD_MS, scheduleEpisodes, simulateMote, type SimRun } from './simulate.js';
import {
  ORACLE_ROWS,
  coMovement,
  oracleEpisodes,
  oracleRow,
  peerDiff,
  peerSeries,
  valuesBySeq,
  type OracleEpisode,
  type OracleResult,
  type PeerSeries,
} from './oracle.js';

/** The false-positive rate the oracle is also calibrated to beside the model's: the acceptance's clean-FPR limit. */
export const ORACLE_FPR_LIMIT = 0.02;

/** The rows of a report: every fault type, then several faults at once. */
export const ROWS = [...FAULT_TYPES, 'combined'] as const;
/** One row. */
export type Row = (typeof ROWS)[number];
/** The fault types a combined episode draws its pairs from (distinct types on the two channels). */
const COMBINED_TYPES: readonly FaultType[] = ['modification', 'noise', 'drift', 'battery', 'stuck', 'rate', 'spikes', 'injection'];

/** Options of one evaluation. */
export interface EvalOptions {
  /** `single-hop` (default, the tuning set), `multi-hop` (held out) or a CSV file with the same columns. */
  readonly data?: string;
  readonly seed: number;
  /** Window length, seconds. */
  readonly windowSec: number;
  readonly thresholds?: Thresholds;
  /** Restrict to these motes (tests use one to stay quick). */
  readonly motes?: readonly number[];
  /** Fault size multiplier (faults.ts), default 1. */
  readonly magnitude?: number;
  /** Episode length range in windows, default [2, 6]. */
  readonly episode?: readonly [number, number];
  /** The first episode starts at the device's first window. */
  readonly fromStart?: boolean;
  /** Rows to run (default all). */
  readonly rows?: readonly Row[];
  /** Run the baselines (default true). */
  readonly baselines?: boolean;
  /** Clean false-positive rate the baselines are calibrated to (default: the model's). */
  readonly targetFpr?: number;
  /** Judge warm-up windows against a class profile learnt from the other motes (default true). */
  readonly classProfile?: boolean;
  /**
   * Judge each mote's levels against its peers (the other motes of its kind, indoor/outdoor, as
   * recorded, in the windows their own model accepted; shared/traffic/peers.ts). Default true.
   */
  readonly peers?: boolean;
  /**
   * With peers: the site's copy check (shared/traffic/copies.ts) counts each window's marks that
   * a device of its kind (or itself, earlier) sent before. Default true.
   */
  readonly copies?: boolean;
  /**
   * The class's registered level tolerance between co-located devices (ClassProfile.peerTolerance),
   * per channel; default PEER_TOLERANCE, null for none.
   */
  readonly peerTolerance?: Readonly<Record<string, number>> | null;
  /** With peers: the oracle bound (oracle.ts) for the level-fault rows (default true). */
  readonly oracle?: boolean;
  /** Called with every injected run and the model's verdicts on it (diagnostics: which windows, which features). */
  readonly trace?: (row: Row | 'clean', series: MoteSeries, run: SimRun, judged: readonly JudgedWindow[]) => void;
}

/**
 * The tolerance the evaluation registers for both data sets' classes: 1.5 °C and 4.5 %RH (1.5 units).
 * Chosen on the tuning set: its co-located motes differ by up to 0.88 °C / 2.70 %RH (5th–95th
 * percentile of the window means); one unit (1 °C, 3 %RH) flagged 2–3 of its clean windows
 * (FPR 1.9 → 2.3%), 1.5 units none. An authority registers its own from commissioning.
 */
export const PEER_TOLERANCE: Readonly<Record<string, number>> = { humidity: 4.5, temperature: 1.5 };

/** One detector's figures. */
export interface DetectorResult {
  readonly perRow: Partial<Record<Row, Summary>>;
  /** All injected runs together. */
  readonly injected: Summary;
  /** Clean run: false-positive rate over windows without a labelled event. */
  readonly clean: Summary;
  /** Clean run scored against the data set's labels. */
  readonly realEvents: Summary;
  /** The calibrated level (baselines) or undefined (the model). */
  readonly level?: number;
}

/** The evaluation's result. */
export interface EvalResult {
  readonly seed: number;
  readonly windowSec: number;
  readonly data: string;
  readonly source: string;
  readonly magnitude: number;
  readonly episode: readonly [number, number];
  readonly fromStart: boolean;
  /** Levels judged against the peers (EvalOptions.peers). */
  readonly peers: boolean;
  readonly motes: number;
  readonly readings: number;
  readonly windowsJudged: number;
  readonly thresholds: Thresholds;
  readonly rows: readonly Row[];
  readonly model: DetectorResult;
  readonly baselines: Partial<Record<BaselineName, DetectorResult>>;
  /**
   * Clean-run flags of the model (no injection, no labelled event) and how many of them fall
   * within ±1 window of a flag on another mote of the same kind (indoor/outdoor): the same
   * room or weather changing, i.e. environmental influence the data set does not label.
   */
  readonly cleanFlags: { readonly total: number; readonly shared: number };
  /**
   * The oracle bound per level-fault row (oracle.ts): at the model's clean FPR and at
   * ORACLE_FPR_LIMIT. Absent without peers or with `oracle: false`.
   */
  readonly oracle: Partial<Record<Row, { readonly atModel: OracleResult; readonly atLimit: OracleResult }>>;
  readonly elapsedMs: number;
}

/** One mote with seeded episodes of one row's faults. */
export function injectedRun(
  series: MoteSeries,
  row: Row,
  windowMs: number,
  seed: number,
  opts: { magnitude?: number; episode?: readonly [number, number]; fromStart?: boolean; donors?: readonly MoteSeries[] } = {},
): SimRun {
  const combined = row === 'combined';
  const episodes = scheduleEpisodes(series, combined ? COMBINED_TYPES : [row], windowMs, seed, {
    warmup: MIN_HISTORY + 4,
    gap: 8,
    length: opts.episode ?? [2, 6],
    fromStart: opts.fromStart ?? false,
    together: combined ? 2 : 1,
  });
  return simulateMote(series, episodes, windowMs, seed, {
    magnitude: opts.magnitude ?? 1,
    donor: donorReadings(series, opts.donors, seed),
  });
}

/**
 * What a replaying forger sends: another mote's genuine readings (one of the same kind when the
 * data set has one), or, for a mote alone in the data set, its own readings (another time); the
 * forger replays a stretch recorded before the episode when there is one (faults.ts).
 */
function donorReadings(
  series: MoteSeries,
  donors: readonly MoteSeries[] | undefined,
  seed: number,
): { humidity: number; temperature: number }[] {
  const others = (donors ?? []).filter((d) => d.moteId !== series.moteId);
  const same = others.filter((d) => d.indoor === series.indoor);
  const pool = same.length > 0 ? same : others;
  if (pool.length === 0) return series.rows.map((r) => ({ humidity: r.humidity, temperature: r.temperature }));
  const d = pool[subSeed(seed, series.moteId, 11) % pool.length] as MoteSeries;
  return d.rows.map((r) => ({ humidity: r.humidity, temperature: r.temperature }));
}

/** Runs the evaluation (pure computation after loading the CSV). */
export function runEval(opts: EvalOptions): EvalResult {
  const started = performance.now();
  if (!Number.isInteger(opts.seed) || opts.seed < 0) throw new RangeError(`seed must be a non-negative integer, got ${opts.seed}`);
  if (!(opts.windowSec >= 10 && opts.windowSec <= 3_600)) throw new RangeError(`window must be 10..3600 seconds, got ${opts.windowSec}`);
  const magnitude = opts.magnitude ?? 1;
  if (!(magnitude > 0 && magnitude <= 10)) throw new RangeError(`magnitude must be in (0, 10], got ${magnitude}`);
  const episode = opts.episode ?? [2, 6];
  if (!(Number.isInteger(episode[0]) && Number.isInteger(episode[1]) && episode[0] >= 1 && episode[1] >= episode[0] && episode[1] <= 64)) {
    throw new RangeError(`episode length must be LO[-HI] windows with 1 ≤ LO ≤ HI ≤ 64, got ${episode.join('-')}`);
  }
  const ds = resolveDataset(opts.data);
  const all = loadDataset(ds.file);
  let data = all;
  if (opts.motes !== undefined) data = data.filter((s) => (opts.motes as readonly number[]).includes(s.moteId));
  if (data.length === 0) throw new RangeError(`no motes left to evaluate (motes ${String(opts.motes)} not in ${ds.label})`);
  const thresholds = opts.thresholds ?? defaultThresholds();
  const rows = opts.rows ?? ROWS;
  const windowMs = opts.windowSec * 1000;
  let windowsJudged = 0;

  // Clean runs (features computed once per mote), and each mote's class profile: learnt from the
  // clean runs of the OTHER motes of the data set, as an authority would register it from devices
  // of the same class it already runs.
  const cleanRuns = all.map((series) => {
    const run = simulateMote(series, [], windowMs, opts.seed);
    return { series, run, profiles: profilesOf(run) };
  });
  const classOf = (moteId: number): ClassProfile | undefined => {
    if (opts.classProfile === false) return undefined;
    const others = cleanRuns.filter((c) => c.series.moteId !== moteId);
    if (others.length === 0) return undefined;
    const learnt = learnClassProfile(others.map((c) => c.profiles.filter((_, i) => !c.run.windows[i]?.realEvent)));
    return opts.peerTolerance === null ? learnt : { ...learnt, peerTolerance: opts.peerTolerance ?? PEER_TOLERANCE };
  };
  // Peers: the other motes of the same kind, their clean profiles in the windows their own
  // (per-device) model accepted (computed once per peer, when first needed): one faulty device
  // among honest, recorded peers.
  const ownAccepted: (boolean[] | undefined)[] = [];
  const acceptedOf = (i: number): boolean[] => {
    const c = cleanRuns[i] as (typeof cleanRuns)[number];
    return (ownAccepted[i] ??= replay(c.profiles, modelDetector(thresholds, classOf(c.series.moteId))).map(
      (j) => j.judgement.trafficProven,
    ));
  };
  const peersOf = (moteId: number, indoor: boolean): ((window: number) => TrafficProfile[]) | undefined => {
    if (opts.peers === false) return undefined;
    const idx = cleanRuns.map((c, i) => (c.series.moteId !== moteId && c.series.indoor === indoor ? i : -1)).filter((i) => i >= 0);
    if (idx.length === 0) return undefined;
    return (window) => {
      const out: TrafficProfile[] = [];
      for (const i of idx) {
        const c = cleanRuns[i] as (typeof cleanRuns)[number];
        const p = c.profiles[window];
        if (p !== undefined && p.window === window && acceptedOf(i)[window] === true) out.push(p);
      }
      return out;
    };
  };
  // The site's mark index: every mark the other motes of the kind sent (their clean runs), with
  // the first window that sent it; the device's own earlier windows are added as it goes.
  const copiesOf = (moteId: number, indoor: boolean): (() => (p: TrafficProfile) => number) | undefined => {
    if (opts.peers === false || opts.copies === false) return undefined;
    const site = new Map<number, number>();
    for (const c of cleanRuns) {
      if (c.series.moteId === moteId || c.series.indoor !== indoor) continue;
      for (const p of c.profiles) {
        for (const m of p.marks ?? []) {
          const w = site.get(m);
          if (w === undefined || p.window < w) site.set(m, p.window);
        }
      }
    }
    return () => {
      const own = new Map<number, number>();
      return (p) => {
        const n = countCopies(p.window, p.marks ?? [], (m) => {
          const w = site.get(m);
          const o = own.get(m);
          const first = w === undefined ? o : o === undefined ? w : Math.min(w, o);
          return first !== undefined ? { deviceId: first === o ? p.deviceId : 'peer', window: first } : undefined;
        });
        for (const m of p.marks ?? []) if (!own.has(m)) own.set(m, p.window);
        return n;
      };
    };
  };
  const modelFor: Record<number, DetectorFactory> = {};
  for (const s of data)
    modelFor[s.moteId] = modelDetector(thresholds, classOf(s.moteId), peersOf(s.moteId, s.indoor), copiesOf(s.moteId, s.indoor));
  const cleanOf = cleanRuns.filter((c) => data.includes(c.series));

  // Model: clean run.
  const model = { perRow: {} as Partial<Record<Row, Counts>>, clean: zero(), real: zero() };
  const cleanFlagged: { mote: number; indoor: boolean; windows: Record<number, true> }[] = [];
  for (const { series, run, profiles } of cleanOf) {
    const judged = replay(profiles, modelFor[series.moteId] as DetectorFactory);
    windowsJudged += judged.length;
    opts.trace?.('clean', series, run, judged);
    const windows: Record<number, true> = {};
    judged.forEach((j, i) => {
      if (j.judgement.discrepancyStatus && !run.windows[i]?.realEvent) windows[i] = true;
    });
    cleanFlagged.push({ mote: series.moteId, indoor: series.indoor, windows });
    const c = score(run, judged, 'real');
    add(model.real, c);
    add(model.clean, { ...zero(), fp: c.fp, tn: c.tn });
  }
  const modelCleanFpr = summarise(model.clean).fpr ?? 0;
  const target = opts.targetFpr ?? modelCleanFpr;

  // Baselines: calibrated on the clean runs to the target FPR.
  const baselineNames = opts.baselines === false ? [] : (Object.keys(BASELINES) as BaselineName[]);
  const levels: Partial<Record<BaselineName, number>> = {};
  const base: Partial<Record<BaselineName, { perRow: Partial<Record<Row, Counts>>; clean: Counts; real: Counts }>> = {};
  for (const name of baselineNames) {
    const cal = calibrate(name, cleanOf, target);
    levels[name] = cal.level;
    windowsJudged += cal.judged;
    const acc = { perRow: {} as Partial<Record<Row, Counts>>, clean: zero(), real: zero() };
    for (const { run, profiles } of cleanOf) {
      const c = score(run, replay(profiles, BASELINES[name](cal.level)), 'real');
      add(acc.real, c);
      add(acc.clean, { ...zero(), fp: c.fp, tn: c.tn });
    }
    base[name] = acc;
  }

  // The oracle's clean peer-difference series (every mote with peers, every window, per channel).
  const oracleOn = opts.oracle !== false && opts.peers !== false;
  const peerRuns = (moteId: number, indoor: boolean): SimRun[] =>
    cleanRuns.filter((c) => c.series.moteId !== moteId && c.series.indoor === indoor).map((c) => c.run);
  const perWindow = Math.round(windowMs / PERIOD_MS);
  const oracleClean: Record<string, PeerSeries[]> = {};
  const oracleEps: Partial<Record<Row, OracleEpisode[]>> = {};
  /** Per mote and channel, its clean series (β of the channel's peer difference on the other channel's, oracle.ts coMovement). */
  const oracleMote: Record<number, Record<string, PeerSeries>> = {};
  if (oracleOn) {
    for (const c of cleanRuns) {
      const peers = peerRuns(c.series.moteId, c.series.indoor);
      if (peers.length === 0) continue;
      const length = c.run.windows.length * perWindow + perWindow;
      const events = c.run.windows.map((w) => w.realEvent);
      const diff = (ch: string): Float64Array =>
        peerDiff(
          valuesBySeq(c.run, ch, length),
          peers.map((p) => valuesBySeq(p, ch, length)),
        );
      const t = diff('temperature');
      const h = diff('humidity');
      const clean = events.map((e) => !e);
      const beta = { temperature: coMovement(t, h, perWindow, clean), humidity: coMovement(h, t, perWindow, clean) };
      const own = {
        temperature: peerSeries(t, h, beta.temperature, perWindow, events),
        humidity: peerSeries(h, t, beta.humidity, perWindow, events),
      };
      oracleMote[c.series.moteId] = own;
      (oracleClean['temperature'] ??= []).push(own.temperature);
      (oracleClean['humidity'] ??= []).push(own.humidity);
    }
  }

  // Injected runs.
  rows.forEach((row) => {
    const ti = ROWS.indexOf(row);
    model.perRow[row] = zero();
    for (const name of baselineNames) (base[name] as { perRow: Partial<Record<Row, Counts>> }).perRow[row] = zero();
    for (const series of data) {
      const run = injectedRun(series, row, windowMs, subSeed(opts.seed, ti + 1), {
        magnitude,
        episode,
        fromStart: opts.fromStart ?? false,
        donors: all,
      });
      const profiles = profilesOf(run);
      if (oracleOn && (ORACLE_ROWS as readonly string[]).includes(row)) {
        const peers = peerRuns(series.moteId, series.indoor);
        if (peers.length > 0) {
          // The same run without the fault (same seed: the same arrivals, only the values differ).
          const twin = simulateMote(series, [], windowMs, subSeed(opts.seed, ti + 1));
          (oracleEps[row] ??= []).push(...oracleEpisodes(run, twin, peers, perWindow, oracleMote[series.moteId] ?? {}));
        }
      }
      const judged = replay(profiles, modelFor[series.moteId] as DetectorFactory);
      windowsJudged += judged.length;
      opts.trace?.(row, series, run, judged);
      add(model.perRow[row] as Counts, score(run, judged, 'injected'));
      for (const name of baselineNames) {
        const bj = replay(profiles, BASELINES[name](levels[name] as number));
        windowsJudged += bj.length;
        add((base[name] as { perRow: Partial<Record<Row, Counts>> }).perRow[row] as Counts, score(run, bj, 'injected'));
      }
    }
  });

  const result = (acc: { perRow: Partial<Record<Row, Counts>>; clean: Counts; real: Counts }, level?: number): DetectorResult => {
    const perRow: Partial<Record<Row, Summary>> = {};
    const sum = zero();
    for (const row of rows) {
      perRow[row] = summarise(acc.perRow[row] as Counts);
      add(sum, acc.perRow[row] as Counts);
    }
    return {
      perRow,
      injected: summarise(sum),
      clean: summarise(acc.clean),
      realEvents: summarise(acc.real),
      ...(level !== undefined ? { level } : {}),
    };
  };
  let total = 0;
  let shared = 0;
  for (const m of cleanFlagged) {
    for (const w of Object.keys(m.windows).map(Number)) {
      total++;
      const peers = cleanFlagged.filter((o) => o.mote !== m.mote && o.indoor === m.indoor);
      if (peers.some((o) => o.windows[w - 1] || o.windows[w] || o.windows[w + 1])) shared++;
    }
  }
  const baselines: Partial<Record<BaselineName, DetectorResult>> = {};
  for (const name of baselineNames) baselines[name] = result(base[name] as never, levels[name]);
  const oracle: EvalResult['oracle'] = {};
  for (const row of rows) {
    const eps = oracleEps[row];
    if (eps === undefined) continue;
    const c = model.perRow[row] as Counts;
    const negatives = c.fp + c.tn;
    const [atModel, atLimit] = oracleRow(eps, oracleClean, negatives, [modelCleanFpr, ORACLE_FPR_LIMIT]) as [OracleResult, OracleResult];
    oracle[row] = { atModel, atLimit };
  }
  return {
    seed: opts.seed,
    windowSec: opts.windowSec,
    data: ds.name,
    source: ds.label,
    magnitude,
    episode: [episode[0], episode[1]],
    fromStart: opts.fromStart ?? false,
    peers: opts.peers !== false,
    motes: data.length,
    readings: data.reduce((s, d) => s + d.rows.length, 0),
    windowsJudged,
    thresholds,
    rows,
    model: result(model),
    baselines,
    cleanFlags: { total, shared },
    oracle,
    elapsedMs: Math.round(performance.now() - started),
  };
}

/**
 * The baseline's level whose clean false-positive rate is the largest not above `target`
 * (bisection on a log scale over 0.5 … 10^6; the rate falls as the level rises).
 */
export function calibrate(
  name: BaselineName,
  clean: readonly { run: SimRun; profiles: ReturnType<typeof profilesOf> }[],
  target: number,
): { level: number; fpr: number; judged: number } {
  let judged = 0;
  const fprAt = (level: number): number => {
    const c = zero();
    for (const { run, profiles } of clean) {
      const j = replay(profiles, BASELINES[name](level));
      judged += j.length;
      const s = score(run, j, 'real');
      c.fp += s.fp;
      c.tn += s.tn;
    }
    return c.fp + c.tn === 0 ? 0 : c.fp / (c.fp + c.tn);
  };
  let lo = Math.log(0.5);
  let hi = Math.log(1e6);
  let best = { level: Math.exp(hi), fpr: fprAt(Math.exp(hi)) };
  for (let i = 0; i < 16; i++) {
    const mid = (lo + hi) / 2;
    const f = fprAt(Math.exp(mid));
    if (f <= target) {
      best = { level: Math.exp(mid), fpr: f };
      hi = mid;
    } else lo = mid;
  }
  return { ...best, judged };
}

const pct = (v: number | null): string => (v === null ? '    - ' : `${(v * 100).toFixed(1).padStart(5)}%`);
const num = (v: number | null): string => (v === null ? '   - ' : v.toFixed(2).padStart(5));

/** The human-readable report (the JSON line is printed separately). */
export function formatReport(r: EvalResult): string {
  const lines: string[] = [];
  const names = Object.keys(r.baselines) as BaselineName[];
  lines.push(
    `traffic-profile evaluation: ${r.data} data, ${r.motes} motes, ${r.readings} real readings, window ${r.windowSec} s, seed ${r.seed}, magnitude ×${r.magnitude}, episodes ${r.episode[0]}–${r.episode[1]} windows${r.fromStart ? ', first episode from the first window' : ''}`,
  );
  lines.push(`data: ${r.source} (values and labels real; arrival times, losses, frame errors and battery synthesised)`);
  lines.push(
    `model: shared/traffic (thresholds ${JSON.stringify(r.thresholds)})${r.peers ? ", levels judged against the peers (the other motes of the mote's kind, as recorded)" : ', each mote alone (no peers)'}`,
  );
  lines.push(
    `baselines, calibrated on the clean run to the model's clean FPR: ${names.map((n) => `${n} level ${(r.baselines[n]?.level ?? 0).toFixed(2)} (FPR ${pct(r.baselines[n]?.clean.fpr ?? null).trim()})`).join(', ')}`,
  );
  lines.push('');
  const withOracle = Object.keys(r.oracle).length > 0;
  const head = `${'fault'.padEnd(13)} ${'win+'.padStart(5)} ${'eps'.padStart(4)} | ${'P'.padStart(6)} ${'R'.padStart(6)} ${'F1'.padStart(6)} ${'FPR'.padStart(6)} ${'delay'.padStart(5)} ${'found'.padStart(7)} ${'after'.padStart(6)} |${withOracle ? ` ${'oracle F1'.padStart(9)} ${'@2%'.padStart(6)} |` : ''} ${names.map((n) => `${n} F1`.padStart(14)).join(' ')}`;
  lines.push(head);
  lines.push('-'.repeat(head.length));
  const row = (label: string, m: Summary, b: (Summary | undefined)[], o?: { atModel: OracleResult; atLimit: OracleResult }): string =>
    `${label.padEnd(13)} ${String(m.windowsPositive).padStart(5)} ${String(m.episodes).padStart(4)} | ${pct(m.precision)} ${pct(m.recall)} ${pct(m.f1)} ${pct(m.fpr)} ${num(m.meanDelay)} ${`${m.detected}/${m.episodes}`.padStart(7)} ${pct(m.afterRate)} |${withOracle ? ` ${pct(o?.atModel.f1 ?? null).padStart(9)} ${pct(o?.atLimit.f1 ?? null)} |` : ''} ${b.map((s) => `${pct(s?.f1 ?? null)} d${num(s?.meanDelay ?? null)}`.padStart(14)).join(' ')}`;
  for (const t of r.rows) {
    lines.push(
      row(
        t,
        r.model.perRow[t] as Summary,
        names.map((n) => r.baselines[n]?.perRow[t]),
        r.oracle[t],
      ),
    );
  }
  lines.push('-'.repeat(head.length));
  lines.push(
    row(
      'all injected',
      r.model.injected,
      names.map((n) => r.baselines[n]?.injected),
    ),
  );
  lines.push(
    row(
      'real events',
      r.model.realEvents,
      names.map((n) => r.baselines[n]?.realEvents),
    ),
  );
  lines.push('');
  lines.push(
    `delay: windows from an episode's first window to its first flag (× ${r.windowSec} s); after: share of the clean windows after an episode (up to 16) that were flagged`,
  );
  if (withOracle)
    lines.push(
      `oracle: the best known-signal test of the faulted channel's readings against the peers', knowing the fault's shape, channel and onset (bench/traffic-eval/oracle.ts), calibrated on the clean runs to the model's clean FPR and to ${ORACLE_FPR_LIMIT * 100}%: what a detector of those readings could reach (level faults only; where the model beats it, not a bound: docs/traffic-profiles.md)`,
    );
  lines.push(`clean windows (no injection, no labelled event): model FPR ${pct(r.model.clean.fpr)} of ${r.model.clean.windowsNegative}`);
  lines.push(
    `model flags on clean windows: ${r.cleanFlags.total}, of which ${r.cleanFlags.shared} within ±1 window of a flag on another mote of the same kind (indoor/outdoor): shared environment changes the data set does not label`,
  );
  lines.push(`${r.windowsJudged} window judgements in ${r.elapsedMs} ms`);
  return lines.join('\n');
}

/** The one JSON line of figures that ends the command's output. */
export function jsonLine(r: EvalResult): string {
  const slim = (d: DetectorResult): unknown => ({
    perFault: d.perRow,
    injected: d.injected,
    cleanFpr: d.clean.fpr,
    realEvents: d.realEvents,
    ...(d.level !== undefined ? { level: d.level } : {}),
  });
  const baselines: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(r.baselines)) baselines[k] = slim(v);
  return JSON.stringify({
    eval: 'traffic',
    data: r.data,
    seed: r.seed,
    windowSec: r.windowSec,
    magnitude: r.magnitude,
    episode: r.episode,
    fromStart: r.fromStart,
    peers: r.peers,
    motes: r.motes,
    readings: r.readings,
    windowsJudged: r.windowsJudged,
    elapsedMs: r.elapsedMs,
    model: { ...(slim(r.model) as object), cleanFlags: r.cleanFlags },
    baselines,
    oracle: Object.fromEntries(
      Object.entries(r.oracle).map(([row, o]) => [
        row,
        {
          f1: o.atModel.f1,
          fpr: o.atModel.fpr,
          stat: o.atModel.stat,
          f1AtLimit: o.atLimit.f1,
          fprLimit: o.atLimit.fpr,
          statAtLimit: o.atLimit.stat,
        },
      ]),
    ),
  });
}

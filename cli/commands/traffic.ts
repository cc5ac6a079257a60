/**
 * `provenant traffic`: the traffic-profile model's evaluation and plot (docs/traffic-profiles.md).
 *   traffic eval [--csv FILE] [--seed N] [--window SEC] [--threshold NAME=T ...] [--json]
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

/** Adds `provenant traffic eval` and `provenant traffic plot`. */
export function register(program: Command): void {
  const traffic = program.command('traffic').description('traffic-profile model: evaluation on labelled data, plots');

  traffic
    .command('eval')
    .description(
      'replay the labelled sensor data set (plus seeded injected faults) through the feature and model code; print P/R/F1/FPR/delay per fault type next to a z-score baseline, then one JSON line',
    )
    .option('--csv <file>', 'CSV with columns reading,mote_id,indoor,humidity,temperature,label (default: the npm data set)')
    .option('--seed <n>', 'seed of the synthetic arrivals and fault injection', intArg('--seed', 0, 2 ** 31), 1)
    .option('--window <seconds>', 'window length in seconds', intArg('--window', 10, 3600), 150)
    .option('--threshold <name=t>', "override a threshold (repeatable): '*', '*~*', 'ch.*.<stat>' or a feature name", thresholdArg)
    .option('--json', 'print only the JSON line')
    .action(async (o: { csv?: string; seed: number; window: number; threshold?: Record<string, number>; json?: boolean }) => {
      const { runEval, formatReport, jsonLine } = await import('../../bench/traffic-eval/eval.js');
      const { defaultThresholds } = await import('../../shared/traffic/model.js');
      const thresholds = { ...defaultThresholds(), ...(o.threshold ?? {}) };
      const r = runEval({ ...(o.csv !== undefined ? { csv: o.csv } : {}), seed: o.seed, windowSec: o.window, thresholds });
      if (!o.json) process.stdout.write(`${formatReport(r)}\n`);
      process.stdout.write(`${jsonLine(r)}\n`);
    });

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

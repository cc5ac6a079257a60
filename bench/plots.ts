/**
 * `provenant bench plots`: plots of the other benchmarks with the evaluation's plotting module
 * (bench/plot): the embedded ledger's validated readings/s against the batch size and against the
 * batches in flight, its commit-latency CDF at half load, and the crypto benchmark's operations,
 * ours beside the peer library's. Each benchmark runs as its own child process exactly as
 * `provenant bench ledger|crypto` (their last JSON lines are the data); `--replot plots.json`
 * draws again from a saved run. Writes SVG + PNG per figure and plots.json into `--out`; the last
 * stdout line is one JSON object.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { ProvenantError } from '../shared/errors.js';

const cli = join(dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'provenant.js');
const say = (m: string): void => {
  process.stderr.write(`[bench plots] ${m}\n`);
};
const round = (x: number, d = 1): number => Math.round(x * 10 ** d) / 10 ** d;

/** What `provenant bench ledger` prints last (the fields plotted). */
interface LedgerLine {
  batch: number;
  inflight: number;
  readingsPerSecond: number;
  cpuUsPerReading: number;
  ledgerThreadCpuUsPerReading: number | null;
  loadAverage: number[];
  halfLoad: { p50Ms: number; p99Ms: number; offeredReadingsPerSecond: number; saturated: boolean };
}

/** What `provenant bench crypto` prints last. */
interface CryptoLine {
  msPerOp: { ours: Record<string, number>; peer: Record<string, number> };
  ratios: Record<string, number>;
}

/** A saved run: everything the figures are drawn from. */
export interface PlotsData {
  readonly machine: { cpus: number; node: string; loadAverage: [number, number] };
  readonly ledger?: {
    readonly readings: number;
    readonly byBatch: LedgerLine[];
    readonly byInflight: LedgerLine[];
    /** Per batch size: the latency CDF at half load, as [ms, fraction] points. */
    readonly cdf: { batch: number; points: [number, number][] }[];
  };
  readonly crypto?: CryptoLine;
}

const list = (name: string) => (v: string) => {
  const out = v.split(',').map((x) => Number(x.trim()));
  if (out.length === 0 || !out.every((n) => Number.isInteger(n) && n > 0))
    throw new ProvenantError('PROV_ERR_BAD_INPUT', `${name} must be a comma-separated list of positive integers, got '${v}'`, {
      field: name,
    });
  return out;
};

/** Runs `provenant bench <args>` and returns its last stdout line, parsed. */
function benchLine<T>(args: string[]): T {
  say(`provenant bench ${args.join(' ')}`);
  const out = execFileSync(process.execPath, [cli, 'bench', ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
    maxBuffer: 64 * 1024 * 1024,
  });
  const last = out.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(last) as T;
  } catch {
    throw new ProvenantError('PROV_ERR_BAD_INPUT', `provenant bench ${args[0] ?? ''} ended without a JSON line: ${last.slice(0, 200)}`);
  }
}

/** [ms, fraction] points of the empirical CDF of sorted latencies, at most ~200. */
export function cdfPoints(sorted: readonly number[]): [number, number][] {
  const n = sorted.length;
  if (n === 0) return [];
  const step = Math.max(1, Math.floor(n / 200));
  const out: [number, number][] = [];
  for (let i = 0; i < n; i += step) out.push([sorted[i] as number, round((i + 1) / n, 4)]);
  if ((out[out.length - 1] as [number, number])[1] !== 1) out.push([sorted[n - 1] as number, 1]);
  return out;
}

async function run(o: {
  out: string;
  readings: number;
  batches: number[];
  inflights: number[];
  cryptoRuns: number;
  only: string;
  replot?: string;
}): Promise<void> {
  mkdirSync(o.out, { recursive: true });
  let data: PlotsData;
  if (o.replot !== undefined) {
    data = JSON.parse(readFileSync(o.replot, 'utf8')) as PlotsData;
  } else {
    const load0 = loadavg()[0] as number;
    const parts = new Set(o.only.split(',').map((s) => s.trim()));
    let ledger: PlotsData['ledger'];
    if (parts.has('ledger')) {
      const tmp = mkdtempSync(join(tmpdir(), 'prov-bench-plots-'));
      try {
        const common = ['--readings', String(o.readings), '--latency-seconds', '3'];
        const byBatch: LedgerLine[] = [];
        const cdf: { batch: number; points: [number, number][] }[] = [];
        for (const b of o.batches) {
          const file = join(tmp, `lat-${b}.json`);
          byBatch.push(benchLine<LedgerLine>(['ledger', '--batch', String(b), '--inflight', '32', ...common, '--latency-out', file]));
          cdf.push({ batch: b, points: cdfPoints(JSON.parse(readFileSync(file, 'utf8')) as number[]) });
        }
        const byInflight: LedgerLine[] = [];
        for (const k of o.inflights) {
          const same = k === 32 ? byBatch.find((l) => l.batch === 250) : undefined;
          byInflight.push(same ?? benchLine<LedgerLine>(['ledger', '--batch', '250', '--inflight', String(k), ...common]));
        }
        ledger = { readings: o.readings, byBatch, byInflight, cdf };
      } finally {
        rmSync(tmp, { recursive: true, force: true });
      }
    }
    const crypto = parts.has('crypto') ? benchLine<CryptoLine>(['crypto', '--runs', String(o.cryptoRuns)]) : undefined;
    data = {
      machine: { cpus: availableParallelism(), node: process.version, loadAverage: [round(load0, 2), round(loadavg()[0] as number, 2)] },
      ...(ledger ? { ledger } : {}),
      ...(crypto ? { crypto } : {}),
    };
    writeFileSync(join(o.out, 'plots.json'), `${JSON.stringify(data, null, 1)}\n`);
  }
  const files = await drawPlots(data, o.out);
  for (const f of files) say(`wrote ${f}`);
  const l = data.ledger;
  process.stdout.write(
    `${JSON.stringify({
      bench: 'plots',
      machine: data.machine,
      files,
      ledger: l
        ? {
            readingsPerSecondByBatch: l.byBatch.map((r) => [r.batch, r.readingsPerSecond]),
            readingsPerSecondByInflight: l.byInflight.map((r) => [r.inflight, r.readingsPerSecond]),
            halfLoadP50P99ByBatch: l.byBatch.map((r) => [r.batch, r.halfLoad.p50Ms, r.halfLoad.p99Ms]),
          }
        : null,
      crypto: data.crypto ? data.crypto.ratios : null,
    })}\n`,
  );
}

/** Draws every figure `data` has into `dir`; returns the files written. */
export async function drawPlots(data: PlotsData, dir: string): Promise<string[]> {
  const { lineChart, groupedBarChart, niceMax } = await import('./plot/svg.js');
  const { writeFigure } = await import('./plot/png.js');
  const files: string[] = [];
  const fig = async (name: string, svg: string): Promise<void> => {
    const f = await writeFigure(join(dir, name), svg);
    files.push(f.svg, f.png);
  };
  const load = `load ${data.machine.loadAverage[0]}–${data.machine.loadAverage[1]} on ${data.machine.cpus} cores`;
  const l = data.ledger;
  if (l) {
    const rate = (rows: LedgerLine[], x: (r: LedgerLine) => number) => [
      { name: 'readings/s (wall)', points: rows.map((r) => [x(r), r.readingsPerSecond] as [number, number]) },
      {
        name: 'if the ledger thread had a core',
        dashed: true,
        points: rows.map(
          (r) =>
            [x(r), r.ledgerThreadCpuUsPerReading === null ? null : Math.round(1e6 / r.ledgerThreadCpuUsPerReading)] as [
              number,
              number | null,
            ],
        ),
      },
    ];
    await fig(
      'ledger-batch',
      lineChart({
        title: 'bench ledger — validated readings/s vs. batch size',
        xLabel: `readings per transaction (log scale); 32 in flight; ${load}`,
        yLabel: 'readings/s',
        logX: true,
        series: rate(l.byBatch, (r) => r.batch),
      }),
    );
    await fig(
      'ledger-inflight',
      lineChart({
        title: 'bench ledger — validated readings/s vs. batches in flight',
        xLabel: `batches in flight (log scale); 250 readings each; ${load}`,
        yLabel: 'readings/s',
        logX: true,
        series: rate(l.byInflight, (r) => r.inflight),
      }),
    );
    const top = niceMax(Math.max(1, ...l.cdf.flatMap((c) => c.points.map(([x]) => x))));
    await fig(
      'ledger-latency-cdf',
      lineChart({
        title: 'bench ledger — commit latency at half load (CDF)',
        xLabel: `scheduled → block on disk (ms); ${load}`,
        yLabel: 'fraction of batches',
        x: [0, top],
        y: [0, 1],
        xTicks: Array.from({ length: 6 }, (_, k) => (top * k) / 5),
        series: l.cdf.map((c) => ({ name: `batch ${c.batch}`, points: c.points })),
        refs: [{ y: 0.99, label: 'p99' }],
      }),
    );
  }
  const c = data.crypto;
  if (c) {
    const ops = ['sign', 'verify', 'proofGen', 'proofVerify'];
    await fig(
      'crypto-bbs',
      groupedBarChart({
        title: 'bench crypto — BBS, ms per operation (log scale)',
        xLabel: `operation (6 attributes, 3 disclosed); ${load}`,
        yLabel: 'ms per operation',
        series: ['ours (mcl-wasm)', 'peer (@digitalbazaar, JS)'],
        groups: ops.map((op) => ({ label: op, values: [c.msPerOp.ours[op] ?? null, c.msPerOp.peer[op] ?? null] })),
        logY: true,
        labels: true,
      }),
    );
    const phases = ['signPartial', 'validatePartial', 'complete', 'completeNativeSha256', 'validateReading'];
    await fig(
      'crypto-outsourced',
      groupedBarChart({
        title: "bench crypto — the outsourced signature's phases (log scale)",
        xLabel: `edge: signPartial; ledger: validate…; device: complete; ${load}`,
        yLabel: 'ms per operation',
        series: ['ours'],
        groups: phases.map((p) => ({ label: p.replace('NativeSha256', ' (native)'), values: [c.msPerOp.ours[p] ?? null] })),
        logY: true,
        labels: true,
        width: 720,
      }),
    );
  }
  return files;
}

/** Adds `provenant bench plots`. */
export function register(bench: Command): void {
  bench
    .command('plots')
    .description(
      'plots of the other benchmarks (bench/plot): ledger readings/s vs batch size and vs batches in flight, commit-latency CDF, crypto ours vs peer',
    )
    .option('--out <dir>', 'where the SVG/PNG files and plots.json go', 'docs/img/bench')
    .option('--readings <n>', 'readings in each ledger run', (v: string) => list('--readings')(v)[0] as number, 60_000)
    .option('--batches <list>', 'batch sizes of the ledger sweep (32 in flight)', list('--batches'), [10, 50, 250, 1000])
    .option('--inflights <list>', 'batches in flight of the ledger sweep (batches of 250)', list('--inflights'), [1, 4, 16, 32, 64])
    .option('--crypto-runs <n>', 'bench crypto --runs', (v: string) => list('--crypto-runs')(v)[0] as number, 5)
    .option('--only <list>', 'which benchmarks: ledger,crypto', 'ledger,crypto')
    .option('--replot <file>', 'draw again from a saved plots.json (runs nothing)')
    .action(run);
}

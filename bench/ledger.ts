/**
 * `provenant bench ledger` (npm run bench:ledger): committed, validated readings per second
 * through the real Data Provenance contract on the embedded ledger, commit latency p50/p99 at
 * half that load, and the raw SQLite insert rate measured in the same run as the ceiling.
 * The implementation lives in bench/ledger/ and loads only when the command runs.
 */
import type { Command } from 'commander';
import { ProvenantError } from '../shared/errors.js';

function positiveInt(name: string, max: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1 || n > max)
      throw new ProvenantError('PROV_ERR_BAD_INPUT', `${name} must be an integer 1..${max}, got '${v}'`, { field: name });
    return n;
  };
}

/** Adds `bench ledger`. */
export function register(bench: Command): void {
  bench
    .command('ledger')
    .description(
      'embedded ledger: validated readings/s through the real contracts, p50/p99 commit latency at half load, raw SQLite ceiling',
    )
    .option('--devices <n>', 'simulated devices', positiveInt('--devices', 10_000), 50)
    .option('--batch <n>', 'readings per transaction (batch)', positiveInt('--batch', 10_000), 250)
    .option('--readings <n>', 'readings in the throughput phase', positiveInt('--readings', 5_000_000), 300_000)
    .option(
      '--warmup <n>',
      'readings submitted before the throughput phase, not timed (the JIT done compiling the per-batch code, the SQLite file grown, as the floor is warm)',
      (v: string) => {
        const n = Number(v);
        if (!Number.isInteger(n) || n < 0 || n > 5_000_000)
          throw new ProvenantError('PROV_ERR_BAD_INPUT', `--warmup must be an integer 0..5000000, got '${v}'`, { field: 'warmup' });
        return n;
      },
      200_000,
    )
    .option(
      '--inflight <n>',
      'device-affine batches in flight (the devices are split into this many groups)',
      positiveInt('--inflight', 10_000),
      32,
    )
    .option(
      '--latency-batch <n>',
      'readings per batch in the latency phase (default: --batch, so half load is half of what was measured)',
      positiveInt('--latency-batch', 10_000),
    )
    .option(
      '--latency-rate <n>',
      'readings/s offered in the latency phase (default: half the throughput just measured)',
      positiveInt('--latency-rate', 10_000_000),
    )
    .option('--latency-seconds <s>', 'length of the half-load latency phase', positiveInt('--latency-seconds', 600), 4)
    .option('--sync <mode>', "SQLite durability: 'full' (default) or 'normal'", 'full')
    .option(
      '--block-max-tx <n>',
      'block size in transactions (default: half the batches in flight, so one half is simulated while the other is written)',
      positiveInt('--block-max-tx', 65_535),
    )
    .option('--block-timeout-ms <ms>', 'block cut timeout', positiveInt('--block-timeout-ms', 60_000), 2)
    .option(
      '--endorsers <n>',
      'simulate on this many endorser threads (default 0: on the ledger thread)',
      (v: string) => {
        const n = Number(v);
        if (!Number.isInteger(n) || n < 0 || n > 64)
          throw new ProvenantError('PROV_ERR_BAD_INPUT', `--endorsers must be an integer 0..64, got '${v}'`, { field: 'endorsers' });
        return n;
      },
      0,
    )
    .option(
      '--validation-threads <n>',
      'run the tag checks and hashing of each batch on this many threads (default 0: on the ledger thread)',
      (v: string) => {
        const n = Number(v);
        if (!Number.isInteger(n) || n < 0 || n > 64)
          throw new ProvenantError('PROV_ERR_BAD_INPUT', `--validation-threads must be an integer 0..64, got '${v}'`, {
            field: 'validationThreads',
          });
        return n;
      },
      0,
    )
    .option('--no-commit-worker', 'write blocks on the ledger thread instead of the commit worker')
    .option('--verify', 'run provenant ledger verify over the result and report its time')
    .option(
      '--latency-out <file>',
      "also write the latency phase's commit latencies (ms, sorted, JSON array) to this file (bench plots draws their CDF)",
    )
    .action(async (opts: LedgerBenchOptions) => {
      if (opts.sync !== 'full' && opts.sync !== 'normal')
        throw new ProvenantError('PROV_ERR_BAD_INPUT', `--sync must be 'full' or 'normal', got '${opts.sync}'`, { field: 'sync' });
      const { runLedgerBench } = await import('./ledger/run.js');
      await runLedgerBench(opts);
    });
}

/** Options of the ledger benchmark. */
export interface LedgerBenchOptions {
  devices: number;
  batch: number;
  readings: number;
  warmup: number;
  inflight: number;
  latencySeconds: number;
  latencyBatch?: number;
  latencyRate?: number;
  sync: 'full' | 'normal';
  blockMaxTx?: number;
  blockTimeoutMs: number;
  verify?: boolean;
  latencyOut?: string;
  commitWorker: boolean;
  endorsers: number;
  validationThreads: number;
}

/**
 * The ledger benchmark's phases (see bench/ledger.ts):
 *   1. ceilings, in this run: the validation floor (HMAC-SHA256 + SHA-256 per reading, one core)
 *      and the raw SQLite rate for exactly the rows the batch layout writes (ceilings.ts);
 *   2. throughput: pre-generated packed batches through DataProvenance.recordBatch, device-affine
 *      (the devices split into --inflight groups, one batch per group in flight, as the edge's
 *      forwarder does); counts only readings the contract accepted (HMAC + replay checked); an
 *      MVCC conflict would be resubmitted and counted;
 *   3. latency: batches offered open-loop at half the measured throughput (a group's batch waits
 *      for the group's previous one, as on the edge); scheduled time → committed.
 * Before phase 2, `--warmup` readings (default 200,000) go through the same path untimed, so the
 * timed phase starts with the contract's code compiled, the commit worker running and the SQLite
 * file grown, as the floor's best round does; CPU is also reported per thread (ledger thread, the
 * ledger's worker threads, the rest of the process: V8's background threads, libuv).
 * Progress on stderr, human figures on stdout, last line one JSON object.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CONTRACTS } from '../../ledger-bridge/client.js';
import { contracts } from '../../ledger-bridge/contracts/index.js';
import { codeOf } from '../../shared/errors.js';
import { EmbeddedLedger } from '../../ledger-bridge/embedded/index.js';
import { verifyLedger } from '../../ledger-bridge/embedded/verify.js';
import type { LedgerBenchOptions } from '../ledger.js';
import { sqliteCeiling, validationFloor } from './ceilings.js';
import { Fleet, type Device } from './fleet.js';

const progress = (m: string): void => {
  process.stderr.write(`[bench ledger] ${m}\n`);
};

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number;
}

const round = (x: number, d = 1): number => Math.round(x * 10 ** d) / 10 ** d;

/** Clock ticks per second of /proc's CPU times (getconf CLK_TCK; 100 on Linux unless changed). */
function clockTicks(): number {
  try {
    const n = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return Number.isFinite(n) && n > 0 ? n : 100;
  } catch {
    return 100;
  }
}

/**
 * CPU seconds of this process's main thread — the ledger thread: simulation, validation, sealing
 * — from /proc (Linux; undefined elsewhere). The rest of the process CPU is the commit worker's
 * SQLite writes and V8's own background threads (garbage collection, compilation).
 */
function ledgerThreadCpuSeconds(ticks: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / ticks;
  } catch {
    return undefined;
  }
}

/** CPU seconds of each thread of this process, by thread id (Linux; empty elsewhere). */
function threadCpuSeconds(ticks: number): Map<number, number> {
  const out = new Map<number, number>();
  let tids: string[];
  try {
    tids = readdirSync('/proc/self/task');
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(Number(tid), (Number(fields[11]) + Number(fields[12])) / ticks);
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return out;
}

/** CPU seconds spent between two snapshots by the threads `pick` selects. */
function cpuBetween(before: Map<number, number>, after: Map<number, number>, pick: (tid: number) => boolean): number {
  let s = 0;
  for (const [tid, v] of after) if (pick(tid)) s += v - (before.get(tid) ?? 0);
  return s;
}
const fmt = (x: number): string => Math.round(x).toLocaleString('en');
const CONFLICTS = new Set(['PROV_ERR_MVCC_READ_CONFLICT', 'PROV_ERR_PHANTOM_READ_CONFLICT']);

/** Runs the benchmark and prints its figures. */
export async function runLedgerBench(options: LedgerBenchOptions): Promise<void> {
  // Blocks of half the batches in flight by default: while one half's block is on disk, the
  // ledger thread simulates the other half's batches (with every batch in one block, it idled
  // through each write: 60–63 % busy against 84–95 % with half, at load 14–30).
  const opts = {
    ...options,
    latencyBatch: options.latencyBatch ?? options.batch,
    blockMaxTx: options.blockMaxTx ?? Math.max(1, Math.ceil(Math.min(options.inflight, options.devices) / 2)),
  };
  const dir = mkdtempSync(join(tmpdir(), 'prov-bench-ledger-'));
  const load0 = loadavg()[0] as number;
  try {
    progress('phase 1/3: ceilings — validation floor (HMAC-SHA256 + SHA-256 per reading, one core)');
    const floorBefore = validationFloor();
    progress(`  ${round(floorBefore.usPerReading, 2)} µs per reading = ${fmt(floorBefore.readingsPerSecond)} readings/s`);

    const ticks = clockTicks();
    const threadsBeforeOpen = new Set(threadCpuSeconds(ticks).keys());
    const ledger = await EmbeddedLedger.open({
      path: join(dir, 'ledger.db'),
      contracts,
      sync: opts.sync,
      blockMaxTx: opts.blockMaxTx,
      blockTimeoutMs: opts.blockTimeoutMs,
      commitWorker: opts.commitWorker,
      ...(opts.validationThreads > 0 ? { validationThreads: opts.validationThreads } : {}),
      ...(opts.endorsers > 0
        ? {
            endorsers: {
              count: opts.endorsers,
              module: new URL('../../ledger-bridge/contracts/index.ts', import.meta.url).href.replace(
                /\.ts$/,
                extname(fileURLToPath(import.meta.url)),
              ),
            },
          }
        : {}),
    });
    // The threads the ledger started: its commit worker and validation threads (endorsers too).
    const ledgerWorkers = new Set([...threadCpuSeconds(ticks).keys()].filter((tid) => !threadsBeforeOpen.has(tid)));
    const fleet = await Fleet.enroll(ledger, opts.devices, progress);
    const groups = fleet.groups(opts.inflight);
    const lanes = groups.length;
    const batches = Math.ceil(opts.readings / opts.batch);
    const warmBatches = Math.ceil(opts.warmup / opts.batch);
    progress(
      `generating ${warmBatches} + ${batches} packed batches of ${opts.batch} signed readings (warm-up + timed), ${opts.devices} devices in ${lanes} device-affine groups`,
    );
    const lanesOf = (count: number): Uint8Array[][] => {
      const out: Uint8Array[][] = groups.map(() => []);
      for (let i = 0; i < count; i++) {
        const g = i % lanes;
        (out[g] as Uint8Array[]).push(fleet.batch(groups[g] as Device[], opts.batch));
      }
      return out;
    };
    // Warm-up batches first: each device's seqs keep rising from them into the timed ones.
    const warm = lanesOf(warmBatches);
    const work = lanesOf(batches);
    const sample = (work[0] as Uint8Array[])[0] as Uint8Array;

    progress(`  SQLite ceiling for the batch layout's rows (sync=${opts.sync}, ${opts.blockMaxTx} transactions per SQLite transaction)`);
    const recordBytes = 64 + opts.batch * 92;
    const ceiling = await sqliteCeiling(
      join(dir, 'ceiling.db'),
      {
        readings: opts.batch,
        devicesPerBatch: Math.max(1, Math.round(opts.devices / lanes)),
        envelopeBytes: sample.length + recordBytes + 400,
        recordBytes,
      },
      opts,
    );
    progress(
      `  ${fmt(ceiling.readingsPerSecond)} readings/s (${fmt(ceiling.rowsPerSecond)} rows/s, ${round(ceiling.rowsPerBatch)} rows per batch)`,
    );

    let accepted = 0;
    let rejected = 0;
    let conflicts = 0;
    let failed = 0;
    const submit = async (arg: Uint8Array): Promise<{ accepted: number; rejected: unknown[] } | undefined> => {
      for (;;) {
        try {
          const r = await ledger.submit('edge-1', { contract: CONTRACTS.dataProvenance, fn: 'recordBatch', args: [arg] });
          return JSON.parse(Buffer.from(r.result).toString()) as { accepted: number; rejected: unknown[] };
        } catch (err) {
          if (CONFLICTS.has(codeOf(err) ?? '')) {
            conflicts++;
            continue;
          }
          failed++;
          progress(`  batch failed: ${(err as Error).message.slice(0, 200)}`);
          return undefined;
        }
      }
    };
    /** Submits every lane's batches in order, the lanes concurrently. */
    const runLanes = (lanesWork: Uint8Array[][]): Promise<unknown> =>
      Promise.all(
        lanesWork.map(async (lane) => {
          for (const arg of lane) {
            const res = await submit(arg);
            if (res === undefined) continue;
            accepted += res.accepted;
            rejected += res.rejected.length;
          }
        }),
      );
    if (warmBatches > 0) {
      progress(`warm-up (not timed): ${warmBatches} batches, ${lanes} in flight`);
      await runLanes(warm);
      warm.length = 0;
    }
    const warmAccepted = accepted;
    const warmRejected = rejected;
    accepted = 0;
    rejected = 0;

    progress(`phase 2/3: throughput, ${batches} batches, ${lanes} in flight (one per device group)`);
    const blocksBefore = ledger.stats.blocks;
    const sealBefore = ledger.stats.sealMsTotal;
    const cpuBefore = process.cpuUsage();
    const threadBefore = ledgerThreadCpuSeconds(ticks);
    const threadsBefore = threadCpuSeconds(ticks);
    const eluBefore = performance.eventLoopUtilization();
    const t0 = performance.now();
    await runLanes(work);
    const seconds = (performance.now() - t0) / 1000;
    // Share of the phase the ledger thread was running callbacks (simulating, sealing): below 1,
    // the rest it waited — for blocks on disk, or (on a busy machine) for a core.
    const ledgerThreadBusy = performance.eventLoopUtilization(eluBefore).utilization;
    const cpu = process.cpuUsage(cpuBefore);
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    const threadAfter = ledgerThreadCpuSeconds(ticks);
    const threadsAfter = threadCpuSeconds(ticks);
    const perReading = (sec: number): number | null =>
      threadsAfter.size === 0 || accepted === 0 ? null : round((1e6 * sec) / accepted, 2);
    const threadCpu = {
      ledger: perReading(cpuBetween(threadsBefore, threadsAfter, (tid) => tid === process.pid)),
      ledgerWorkers: perReading(cpuBetween(threadsBefore, threadsAfter, (tid) => ledgerWorkers.has(tid))),
      rest: perReading(cpuBetween(threadsBefore, threadsAfter, (tid) => tid !== process.pid && !ledgerWorkers.has(tid))),
    };
    const ledgerThreadUs =
      threadBefore === undefined || threadAfter === undefined || accepted === 0 ? null : (1e6 * (threadAfter - threadBefore)) / accepted;
    const sealSeconds = (ledger.stats.sealMsTotal - sealBefore) / 1000;
    const throughput = accepted / seconds;
    const blocks = ledger.stats.blocks - blocksBefore;
    progress(
      `  ${fmt(throughput)} validated readings/s (${accepted} accepted, ${rejected} rejected, ${failed} failed, ${conflicts} MVCC conflicts resubmitted) in ${round(seconds, 2)} s, ${blocks} blocks`,
    );
    if (warmBatches > 0) progress(`  (warm-up before it: ${warmAccepted} accepted, ${warmRejected} rejected)`);
    progress(
      `  process CPU ${round(cpuSeconds, 2)} s (${fmt(accepted / cpuSeconds)} readings per CPU-second, ${round((1e6 * cpuSeconds) / accepted, 2)} µs per reading); ledger thread busy ${round(100 * ledgerThreadBusy)} % of the phase`,
    );
    work.length = 0;

    const offered = opts.latencyRate ?? throughput / 2;
    const batchesPerSecond = offered / opts.latencyBatch;
    const latencyBatches = Math.max(20, Math.round(batchesPerSecond * opts.latencySeconds));
    progress(
      `phase 3/3: latency at half load: ${fmt(offered)} readings/s offered = ${round(batchesPerSecond, 1)} batches/s of ${opts.latencyBatch}, ${latencyBatches} batches`,
    );
    const queued: Uint8Array[] = [];
    for (let i = 0; i < latencyBatches; i++) queued.push(fleet.batch(groups[i % lanes] as Device[], opts.latencyBatch));
    const latencies: number[] = [];
    let latencyAccepted = 0;
    const latencyCpuBefore = process.cpuUsage();
    const interval = 1000 / batchesPerSecond;
    const inFlight: Promise<void>[] = groups.map(() => Promise.resolve());
    const start = performance.now();
    await new Promise<void>((resolve) => {
      let sent = 0;
      let done = 0;
      const tick = (): void => {
        // Open loop: every batch whose time has come is handed to its group now, late or not.
        while (sent < queued.length && performance.now() - start >= sent * interval) {
          const i = sent++;
          const scheduled = start + i * interval;
          const g = i % lanes;
          inFlight[g] = (inFlight[g] as Promise<void>).then(async () => {
            const res = await submit(queued[i] as Uint8Array);
            latencies.push(performance.now() - scheduled);
            latencyAccepted += res?.accepted ?? 0;
            if (++done === queued.length) resolve();
          });
        }
        if (sent < queued.length) setTimeout(tick, Math.max(0, start + sent * interval - performance.now()));
      };
      tick();
    });
    const latencySeconds = (performance.now() - start) / 1000;
    const achieved = latencyAccepted / latencySeconds;
    const latencyCpu = process.cpuUsage(latencyCpuBefore);
    const latencyLoad = loadavg()[0] as number;
    // Open loop: if the ledger could not keep up, batches queued and the percentiles measure the queue.
    const saturated = achieved < 0.95 * offered;
    latencies.sort((a, b) => a - b);
    if (opts.latencyOut !== undefined) writeFileSync(opts.latencyOut, JSON.stringify(latencies.map((l) => round(l, 2))));
    const p50 = percentile(latencies, 50);
    const p99 = percentile(latencies, 99);
    const max = latencies[latencies.length - 1] ?? NaN;
    const height = ledger.head().height;
    await ledger.close();

    const floorAfter = validationFloor();
    const floor = floorBefore.usPerReading <= floorAfter.usPerReading ? floorBefore : floorAfter;
    const load1 = loadavg()[0] as number;

    let verify: { ok: boolean; seconds: number } | null = null;
    if (opts.verify) {
      progress('verifying the whole chain (provenant ledger verify)');
      const tv = performance.now();
      const report = await verifyLedger(join(dir, 'ledger.db'));
      verify = { ok: report.ok, seconds: round((performance.now() - tv) / 1000, 2) };
    }

    const out = process.stdout;
    const where =
      opts.endorsers > 0
        ? `${opts.endorsers} endorser threads`
        : opts.validationThreads > 0
          ? `simulation on the ledger thread, tag checks and hashing on ${opts.validationThreads} validation threads`
          : 'simulation and validation on the ledger thread';
    out.write(
      `\nEmbedded ledger, ${opts.devices} devices, batches of ${opts.batch} readings (packed), ${lanes} device-affine batches in flight, blocks ≤ ${opts.blockMaxTx} tx / ${opts.blockTimeoutMs} ms, sync=${opts.sync}, commit ${opts.commitWorker ? 'on a worker thread' : 'on the ledger thread'}, ${where}; ${availableParallelism()} cores, load average ${round(load0, 2)} → ${round(load1, 2)}\n`,
    );
    out.write(`  validated readings committed/s ......... ${fmt(throughput)}   (target ≥ 100,000; paper: ~2,500 tx/s on 6 Fabric peers)\n`);
    out.write(
      `  … per CPU-second of this process ....... ${fmt(accepted / cpuSeconds)}   (${round((1e6 * cpuSeconds) / accepted, 2)} µs of CPU per reading, all threads; on a shared machine wall-clock figures include waiting for a core)\n`,
    );
    out.write(
      `  ledger thread busy ...................... ${round(100 * ledgerThreadBusy)} % of the phase (the rest: waiting for blocks on disk, or for a core)\n`,
    );
    if (ledgerThreadUs !== null)
      out.write(
        `  ledger thread CPU per reading ........... ${round(ledgerThreadUs, 2)} µs: with a core of its own it could take ${fmt(1e6 / ledgerThreadUs)} readings/s; the other ${round((1e6 * cpuSeconds) / accepted - ledgerThreadUs, 2)} µs are the commit worker and V8's background threads\n`,
      );
    out.write(
      `  validation floor (one core) ............ ${fmt(floor.readingsPerSecond)} readings/s (${round(floor.usPerReading, 2)} µs HMAC-SHA256 + SHA-256 per reading); ledger at ${round((100 * throughput) / floor.readingsPerSecond)} % of it, floor ratio ${round(floor.readingsPerSecond / throughput, 2)} (target ≤ 2)\n`,
    );
    out.write(
      `  raw SQLite ceiling (same rows) ......... ${fmt(ceiling.readingsPerSecond)} readings/s  (${fmt(ceiling.rowsPerSecond)} rows/s, ${round(ceiling.rowsPerBatch)} rows per batch); ledger at ${round((100 * throughput) / ceiling.readingsPerSecond)} %\n`,
    );
    out.write(
      `  MVCC conflicts resubmitted ............. ${conflicts}; failed batches ${failed}; ledger thread validating + sealing blocks ${round((100 * sealSeconds) / seconds)} % of the phase\n`,
    );
    out.write(
      `  commit latency at half load ............ p50 ${round(p50, 2)} ms, p99 ${round(p99, 2)} ms, max ${round(max, 2)} ms  (target ≤ 10 / ≤ 50 ms; paper: ~50 ms)\n`,
    );
    out.write(
      `  half load offered / achieved ........... ${fmt(offered)} / ${fmt(achieved)} readings/s in batches of ${opts.latencyBatch}${opts.latencyRate === undefined ? ' (half the throughput above)' : ' (--latency-rate)'}${saturated ? ' — SATURATED: the ledger fell behind, the percentiles measure its queue' : ''}; ${round((latencyCpu.user + latencyCpu.system) / Math.max(1, latencyAccepted), 2)} µs CPU per reading, load average ${round(latencyLoad, 2)}\n`,
    );
    out.write(
      `  blocks in throughput phase ............. ${blocks} (${round(batches / Math.max(1, blocks))} tx/block), chain height ${height}\n`,
    );
    if (verify) out.write(`  ledger verify ........................... ${verify.ok ? 'OK' : 'FAILED'} in ${verify.seconds} s\n`);
    out.write(
      `${JSON.stringify({
        bench: 'ledger',
        devices: opts.devices,
        batch: opts.batch,
        inflight: lanes,
        blockMaxTx: opts.blockMaxTx,
        blockTimeoutMs: opts.blockTimeoutMs,
        sync: opts.sync,
        commitWorker: opts.commitWorker,
        endorsers: opts.endorsers,
        validationThreads: opts.validationThreads,
        cores: availableParallelism(),
        loadAverage: [round(load0, 2), round(load1, 2)],
        warmupReadings: warmAccepted,
        readings: accepted,
        rejected,
        failedBatches: failed,
        mvccConflictsResubmitted: conflicts,
        seconds: round(seconds, 3),
        readingsPerCpuSecond: Math.round(accepted / cpuSeconds),
        cpuUsPerReading: round((1e6 * cpuSeconds) / accepted, 2),
        ledgerThreadBusy: round(ledgerThreadBusy, 3),
        ledgerThreadCpuUsPerReading: ledgerThreadUs === null ? null : round(ledgerThreadUs, 2),
        threadCpuUsPerReading: threadCpu,
        sealShare: round(sealSeconds / seconds, 3),
        validationFloorReadingsPerSecond: Math.round(floor.readingsPerSecond),
        validationFloorUsPerReading: round(floor.usPerReading, 3),
        floorShare: round(throughput / floor.readingsPerSecond, 3),
        floorRatio: round(floor.readingsPerSecond / throughput, 2),
        sqliteCeilingReadingsPerSecond: Math.round(ceiling.readingsPerSecond),
        sqliteCeilingRowsPerSecond: Math.round(ceiling.rowsPerSecond),
        halfLoad: {
          batch: opts.latencyBatch,
          offeredReadingsPerSecond: Math.round(offered),
          offeredFrom: opts.latencyRate === undefined ? 'half the measured throughput' : '--latency-rate',
          achievedReadingsPerSecond: Math.round(achieved),
          saturated,
          cpuUsPerReading: round((latencyCpu.user + latencyCpu.system) / Math.max(1, latencyAccepted), 2),
          loadAverage: round(latencyLoad, 2),
          batches: latencies.length,
          p50Ms: round(p50, 2),
          p99Ms: round(p99, 2),
          maxMs: round(max, 2),
        },
        blocks,
        height,
        verify,
        readingsPerSecond: Math.round(throughput),
      })}\n`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

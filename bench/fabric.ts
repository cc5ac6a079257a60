/**
 * `provenant bench fabric --config FILE` (npm run bench:fabric -- --config FILE): what a Fabric
 * network does for Provenant, next to what it does at all, measured in the same run:
 *
 *  - raw:        a trivial chaincode (bench/fabric/put-contract.ts, one blind PutState per
 *                transaction): the network's transactions/s at this concurrency — run before and
 *                after the Provenant runs, so a load change during the run shows;
 *  - batched:    Provenant's recordBatch with many readings per transaction: readings/s, with
 *                `--batch-concurrency` batches in flight (a few suffice: each carries thousands of
 *                readings, and more only queue — past the client's endorsement deadline on a busy
 *                machine);
 *  - unbatched:  recordBatch with one reading per transaction, at the same concurrency as raw, so
 *                its tx/s compares with raw tx/s (what the contract costs per transaction);
 *  - answers:    with `--answers N`, the auditor's answer path alone (bench/fabric/answers.ts): N
 *                readings in transactions of `--answer-batch`, each asked about once; with
 *                `--answers-only` the other runs are skipped and the JSON line is the answers'.
 *
 * The chaincodes: `--deploy` deploys a fresh Provenant chaincode and the put chaincode with the
 * peer CLI (the environment of docs/fabric.md §1) and serves them from this host; otherwise
 * `--chaincode` (default: the config's) must be a Provenant chaincode deployed for the benchmark
 * and not configured yet, and `--raw-chaincode` a deployed put chaincode. The last line is one
 * JSON object with the figures.
 */
import { availableParallelism, loadavg } from 'node:os';
import type { Command } from 'commander';
import type { FabricConfig } from '../ledger-bridge/fabric/config.js';
import type { FabricLedgerClient } from '../ledger-bridge/fabric/fabric-client.js';

interface Options {
  config?: string;
  deploy?: boolean;
  ccHost: string;
  chaincode?: string;
  rawChaincode?: string;
  readings: string;
  unbatchedReadings: string;
  rawTxs: string;
  batchSize: string;
  concurrency: string;
  batchConcurrency: string;
  devices: string;
  answers: string;
  answerBatch: string;
  answerConcurrency: string;
  answersOnly?: boolean;
  answerReads?: string;
}

interface RunResult {
  mode: 'raw' | 'batched' | 'unbatched';
  readingsPerTx: number;
  txs: number;
  readings: number;
  accepted: number;
  seconds: number;
  txPerSecond: number;
  readingsPerSecond: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  reendorsed: number;
  /** Transactions that failed (not retried; the client already re-endorses MVCC conflicts). */
  failed: number;
  /** CPU ms per reading (raw: per transaction) of each local process measured (peer, orderer, chaincode, client). */
  cpuMsPer: Record<string, number>;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

const round = (x: number, d = 1): number => Math.round(x * 10 ** d) / 10 ** d;

function positive(name: string, v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`--${name} must be a positive integer, got "${v}"`);
  return n;
}

/**
 * Runs `txs` transactions with `concurrency` workers, each with one transaction in flight (a
 * latency is one transaction's submit→commit, not time queued behind the others). Worker k runs
 * transactions k, k + concurrency, k + 2·concurrency…, so with device-affine batches (batch i of
 * device group i mod concurrency) a group has one batch in flight at a time. A transaction that
 * fails is counted, not retried (the client already re-endorses MVCC conflicts).
 */
async function measure(
  client: FabricLedgerClient,
  mode: RunResult['mode'],
  count: number,
  concurrency: number,
  readingsPerTx: number,
  tx: (i: number) => { contract: string; fn: string; args: string[] },
  acceptedOf: (result: Uint8Array) => number,
  pids: Record<string, number | undefined> = {},
): Promise<RunResult> {
  const { cpuMeter } = await import('./fabric/cpu.js');
  const meter = cpuMeter(pids);
  const latencies: number[] = [];
  let accepted = 0;
  const reendorsed0 = client.stats.reendorsed;
  let failed = 0;
  const t0 = performance.now();
  const workers = Math.min(concurrency, count);
  const worker = async (k: number): Promise<void> => {
    for (let i = k; i < count; i += workers) {
      const t = performance.now();
      try {
        const r = await client.submit(tx(i) as Parameters<FabricLedgerClient['submit']>[0]);
        latencies.push(performance.now() - t);
        accepted += acceptedOf(r.result);
      } catch (err) {
        failed++;
        process.stderr.write(`[bench fabric]   ${mode} transaction ${i} failed: ${(err as Error).message.slice(0, 200)}\n`);
      }
    }
  };
  await Promise.all(Array.from({ length: workers }, (_, k) => worker(k)));
  const seconds = (performance.now() - t0) / 1000;
  const cpu = meter.stop();
  const units = mode === 'raw' ? count : Math.max(1, accepted);
  const cpuMsPer = Object.fromEntries(Object.entries(cpu).map(([k, v]) => [k, round((v * 1000) / units, 3)]));
  latencies.sort((a, b) => a - b);
  return {
    cpuMsPer,
    mode,
    readingsPerTx,
    txs: count,
    readings: mode === 'raw' ? 0 : count * readingsPerTx,
    accepted,
    seconds: round(seconds, 2),
    txPerSecond: round(count / seconds, 1),
    readingsPerSecond: mode === 'raw' ? 0 : round(accepted / seconds, 0),
    latencyMs: {
      p50: round(percentile(latencies, 50)),
      p90: round(percentile(latencies, 90)),
      p99: round(percentile(latencies, 99)),
      max: round(latencies.at(-1) ?? 0),
    },
    reendorsed: client.stats.reendorsed - reendorsed0,
    failed,
  };
}

/** Registers `provenant bench fabric`. */
export function register(bench: Command): void {
  bench
    .command('fabric')
    .description("Provenant's readings/s on a Fabric network next to a trivial chaincode's tx/s, same run (last line JSON)")
    .option('--config <file>', 'Fabric client config (YAML/JSON, as deploy/fabric/config/*.yaml): the identity and the gateway peer')
    .option(
      '--deploy',
      'deploy a fresh Provenant chaincode and the trivial put chaincode with the peer CLI (docs/fabric.md §1 environment)',
    )
    .option('--cc-host <host>', 'with --deploy: this host as the peer reaches it (the chaincode servers run here)', '127.0.0.1')
    .option(
      '--chaincode <name>',
      'without --deploy: a Provenant chaincode deployed for the benchmark, not configured yet (default: the config’s)',
    )
    .option('--raw-chaincode <name>', 'without --deploy: a deployed chaincode serving bench/fabric/put-contract.ts')
    .option('--readings <n>', 'readings in the batched run', '100000')
    .option('--batch-size <n>', 'readings per transaction in the batched run', '2000')
    .option('--unbatched-readings <n>', 'readings (= transactions) in the one-reading-per-transaction run', '1000')
    .option('--raw-txs <n>', 'transactions in each raw run (before and after)', '1000')
    .option('--concurrency <n>', 'transactions in flight in the raw and unbatched runs (maxInFlight)', '32')
    .option('--batch-concurrency <n>', 'batches in flight in the batched run (device-affine lanes)', '8')
    .option('--devices <n>', 'simulated devices', '50')
    .option('--answers <n>', "readings the auditor's answer path is measured on (0: not measured)", '0')
    .option('--answer-batch <n>', 'readings per transaction of those (Fig. 8 at 5 × 100/s: ~50)', '50')
    .option('--answer-concurrency <n>', 'questions the auditor has in flight (as the eval auditor)', '256')
    .option('--answers-only', 'only the answer path (needs --answers): no raw, batched or unbatched run')
    .option('--answer-reads <batch:inFlight>', "the auditor's coalesced reads: questions per read and reads in flight (default: its own)")
    .action(async (opts: Options) => {
      if (!opts.config || (!opts.deploy && !opts.rawChaincode)) {
        process.stderr.write(
          'bench fabric needs a Fabric network and two chaincodes:\n' +
            '  --config FILE        a Fabric client config (like deploy/fabric/config/auditor.yaml)\n' +
            '  --deploy             deploy a fresh Provenant chaincode and the trivial put chaincode with the peer CLI\n' +
            '                       (environment of docs/fabric.md §1), or name them:\n' +
            '  --chaincode NAME --raw-chaincode NAME   (docs/fabric.md §10)\n',
        );
        process.exitCode = 2;
        return;
      }
      const n = {
        readings: positive('readings', opts.readings),
        batchSize: positive('batch-size', opts.batchSize),
        unbatched: positive('unbatched-readings', opts.unbatchedReadings),
        rawTxs: positive('raw-txs', opts.rawTxs),
        concurrency: positive('concurrency', opts.concurrency),
        batchConcurrency: positive('batch-concurrency', opts.batchConcurrency),
        devices: positive('devices', opts.devices),
        answers: opts.answers === '0' ? 0 : positive('answers', opts.answers),
        answerBatch: positive('answer-batch', opts.answerBatch),
        answerConcurrency: positive('answer-concurrency', opts.answerConcurrency),
      };
      if (opts.answersOnly && n.answers === 0) throw new RangeError('--answers-only needs --answers N');
      const log = (m: string): void => void process.stderr.write(`[bench fabric] ${m}\n`);
      const load0 = loadavg()[0] as number;
      const { loadFabricConfig } = await import('../ledger-bridge/fabric/config.js');
      const { FabricLedgerClient } = await import('../ledger-bridge/fabric/fabric-client.js');
      const base = loadFabricConfig(opts.config);
      const served: { stop(): Promise<void> }[] = [];
      const clients: FabricLedgerClient[] = [];
      try {
        let provenantName = opts.chaincode ?? base.chaincode;
        let rawName = opts.rawChaincode as string;
        const { fabnetPids } = await import('./fabric/cpu.js');
        const nodes = fabnetPids(process.env.FABNET_DIR);
        let provenantPid: number | undefined;
        let rawPid: number | undefined;
        if (opts.deploy) {
          const { checkDeployEnv, deployAndServe, freshName, COLLECTIONS, PUT_CONTRACT } = await import('./fabric/deploy.js');
          checkDeployEnv();
          const policy = process.env.BENCH_SIGNATURE_POLICY ?? `OR('${base.mspId}.peer')`;
          const prov = await deployAndServe({ name: freshName('provbench'), host: opts.ccHost, collections: COLLECTIONS, policy, log });
          served.push(prov);
          const put = await deployAndServe({ name: freshName('putbench'), host: opts.ccHost, contractsModule: PUT_CONTRACT, policy, log });
          served.push(put);
          provenantName = prov.name;
          rawName = put.name;
          provenantPid = prov.pid;
          rawPid = put.pid;
        }
        const open = async (chaincode: string): Promise<FabricLedgerClient> => {
          const cfg: FabricConfig = { ...base, chaincode, maxInFlight: Math.max(n.concurrency, n.batchConcurrency), maxRetries: 20 };
          const c = await FabricLedgerClient.connect(cfg);
          clients.push(c);
          return c;
        };
        const provenant = await open(provenantName);
        const raw = await open(rawName);
        const target = { peerEndpoint: base.peerEndpoint, channel: base.channel, chaincode: provenantName, rawChaincode: rawName };
        log(`target ${JSON.stringify(target)}`);

        const { prepare, batches, batchTx } = await import('./fabric/workload.js');
        const w = await prepare(provenant, n.devices, log);
        const provPids = { ...nodes, chaincode: provenantPid };
        const answerPhase = async () => {
          if (n.answers === 0) return undefined;
          const { measureAnswers } = await import('./fabric/answers.js');
          log(`answers: ${n.answers} readings in transactions of ${n.answerBatch}, ${n.answerConcurrency} questions in flight`);
          // A client of its own: nothing the writer fetched is cached for it.
          const auditorClient = await open(provenantName);
          return measureAnswers({
            writer: provenant,
            auditorClient,
            batches: batches(w, n.answers, n.answerBatch, n.batchConcurrency),
            tx: (b) => batchTx(b),
            lanes: n.batchConcurrency,
            concurrency: n.answerConcurrency,
            ...(opts.answerReads
              ? {
                  reads: {
                    maxBatch: positive('answer-reads batch', opts.answerReads.split(':')[0] ?? ''),
                    maxInFlight: positive('answer-reads in flight', opts.answerReads.split(':')[1] ?? ''),
                  },
                }
              : {}),
            pids: provPids,
            log,
          });
        };
        if (opts.answersOnly) {
          const answers = await answerPhase();
          process.stdout.write(
            `answers: ${answers?.answers} in ${answers?.seconds} s = ${answers?.answersPerSecond}/s (${answers?.blocks} blocks, ${answers?.readingsPerTx} readings/tx); p50 ${answers?.latencyMs.p50} ms; CPU ms per answer ${JSON.stringify(answers?.cpuMsPerAnswer)}; ledger reads per answer ${answers?.reads.perAnswer} ${JSON.stringify(answers?.reads)}; verdicts ${JSON.stringify(answers?.verdicts)}\n`,
          );
          process.stdout.write(
            `${JSON.stringify({ bench: 'fabric-answers', target, devices: n.devices, loadAverage: [round(load0, 2), round(loadavg()[0] as number, 2)], deployed: Boolean(opts.deploy), ...answers })}\n`,
          );
          return;
        }
        const tag = w.runTag;
        const putTx = (phase: string) => (i: number) => ({ contract: 'Put', fn: 'put', args: [`${tag}-${phase}-${i}`, String(i)] });
        const acceptedOf = (r: Uint8Array): number => (JSON.parse(Buffer.from(r).toString()) as { accepted: number }).accepted;
        // Warm-up: the first transactions pay connection set-up and the peer's first dial of the chaincode.
        await measure(raw, 'raw', Math.min(50, n.rawTxs), n.concurrency, 1, putTx('warm'), () => 0);

        log(`raw: ${n.rawTxs} put transactions, ${n.concurrency} in flight`);
        const rawPids = { ...nodes, chaincode: rawPid };
        const rawBefore = await measure(raw, 'raw', n.rawTxs, n.concurrency, 1, putTx('a'), () => 0, rawPids);
        // Packed before the clock starts, like the readings themselves: the timed phases measure the
        // network and the contract, not this load generator (the edge packs as readings arrive).
        const big = batches(w, n.readings, n.batchSize, n.batchConcurrency).map((b) => batchTx(b));
        log(`batched: ${n.readings} readings in ${big.length} transactions of ${n.batchSize}, ${n.batchConcurrency} in flight`);
        const batched = await measure(
          provenant,
          'batched',
          big.length,
          n.batchConcurrency,
          n.batchSize,
          (i) => big[i] as ReturnType<typeof batchTx>,
          acceptedOf,
          provPids,
        );
        const single = batches(w, n.unbatched, 1, n.concurrency).map((b) => batchTx(b));
        log(`unbatched: ${n.unbatched} readings, one per transaction, ${n.concurrency} in flight`);
        const unbatched = await measure(
          provenant,
          'unbatched',
          single.length,
          n.concurrency,
          1,
          (i) => single[i] as ReturnType<typeof batchTx>,
          acceptedOf,
          provPids,
        );
        log(`raw again: ${n.rawTxs} put transactions`);
        const rawAfter = await measure(raw, 'raw', n.rawTxs, n.concurrency, 1, putTx('b'), () => 0, rawPids);

        const answers = await answerPhase();
        const rawTxPerSecond = round((rawBefore.txPerSecond + rawAfter.txPerSecond) / 2);
        const rows = [rawBefore, batched, unbatched, rawAfter];
        const out = (s: string): void => void process.stdout.write(`${s}\n`);
        out(
          `\nFabric ${base.peerEndpoint} channel ${base.channel}: ${n.devices} devices, ${n.concurrency} transactions in flight (batched: ${n.batchConcurrency})`,
        );
        out('run         readings/tx     txs  readings/s     tx/s   p50 ms   p90 ms   p99 ms  re-endorsed  failed');
        for (const r of rows) {
          out(
            `${(r === rawAfter ? 'raw (after)' : r.mode).padEnd(11)} ${String(r.mode === 'raw' ? '-' : r.readingsPerTx).padStart(11)} ${String(r.txs).padStart(7)} ${String(r.mode === 'raw' ? '-' : r.readingsPerSecond).padStart(11)} ${String(r.txPerSecond).padStart(8)} ${String(r.latencyMs.p50).padStart(8)} ${String(r.latencyMs.p90).padStart(8)} ${String(r.latencyMs.p99).padStart(8)} ${String(r.reendorsed).padStart(12)} ${String(r.failed).padStart(7)}`,
          );
        }
        const parts = [...new Set(rows.flatMap((r) => Object.keys(r.cpuMsPer)))];
        out(`CPU ms per reading (raw: per transaction) of the processes measured on this host:`);
        for (const r of rows)
          out(`  ${(r === rawAfter ? 'raw (after)' : r.mode).padEnd(11)} ${parts.map((k) => `${k} ${r.cpuMsPer[k] ?? '-'}`).join('  ')}`);
        const ratio = round(batched.readingsPerSecond / rawTxPerSecond, 1);
        // Work, not rate: the CPU every local process spent per batched reading, and the rate those
        // cores would carry if nothing else ran on them (the machine may be shared).
        const cpuMsPerReading = round(
          Object.values(batched.cpuMsPer).reduce((x, y) => x + y, 0),
          4,
        );
        const cores = availableParallelism();
        const cpuBoundReadingsPerSecond = cpuMsPerReading > 0 ? Math.round((cores * 1000) / cpuMsPerReading) : 0;
        out(
          `CPU per batched reading, all local processes: ${cpuMsPerReading} ms → ${cpuBoundReadingsPerSecond} readings/s on ${cores} idle cores (load average ${round(load0, 1)} → ${round(loadavg()[0] as number, 1)})`,
        );
        out(
          `Provenant: ${batched.readingsPerSecond} readings/s batched (${n.batchSize} per transaction, packed, device-affine); trivial put chaincode: ${rawTxPerSecond} tx/s (mean of before/after): ${ratio}× (targets: ≥ 10,000 readings/s and ≥ 30×, no failed batch: ${batched.failed} failed)`,
        );
        out(
          `per transaction: one-reading recordBatch ${unbatched.txPerSecond} tx/s vs put ${rawTxPerSecond} tx/s at the same concurrency (${round(unbatched.txPerSecond / rawTxPerSecond, 2)}×)`,
        );
        out(
          `note: with fewer transactions in flight than the orderer's BatchSize.MaxMessageCount, blocks are cut by BatchTimeout and every figure above is bound by it (raise --concurrency to check)`,
        );
        out(
          JSON.stringify({
            bench: 'fabric',
            target,
            devices: n.devices,
            concurrency: n.concurrency,
            batchConcurrency: n.batchConcurrency,
            batchSize: n.batchSize,
            loadAverage: [round(load0, 2), round(loadavg()[0] as number, 2)],
            deployed: Boolean(opts.deploy),
            cpuMsPerReading,
            cpuBoundReadingsPerSecond,
            cores,
            readingsPerSecond: batched.readingsPerSecond,
            rawTxPerSecond,
            ratioToRaw: ratio,
            failedBatches: batched.failed,
            raw: { before: rawBefore, after: rawAfter },
            batched,
            unbatched,
            ...(answers ? { answers } : {}),
          }),
        );
      } finally {
        await Promise.all(clients.map((c) => c.close()));
        for (const s of served) await s.stop();
      }
    });
}

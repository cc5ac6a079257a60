/**
 * `provenant bench fabric --config FILE` (npm run bench:fabric -- --config FILE): committed
 * readings per second and submit→commit latency percentiles against a given Fabric network,
 * with batching on (many readings per transaction) and off (one reading per transaction), so
 * operators can size a deployment. Without --config it says what it needs and exits non-zero
 * (no Fabric network runs on this machine); `--stand-in` runs it against the in-process stand-in
 * peer instead and says so loudly. The last line is one JSON object with the figures.
 */
import type { Command } from 'commander';
import type { FabricConfig } from '../ledger-bridge/fabric/config.js';

interface Options {
  config?: string;
  standIn?: boolean;
  readings: string;
  unbatchedReadings: string;
  batchSize: string;
  concurrency: string;
  devices: string;
  batchTimeoutMs: string;
  maxMessageCount: string;
}

interface ModeResult {
  mode: 'batched' | 'unbatched';
  readingsPerTx: number;
  readings: number;
  accepted: number;
  txs: number;
  seconds: number;
  readingsPerSecond: number;
  txPerSecond: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  reendorsed: number;
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

/** Registers `provenant bench fabric`. */
export function register(bench: Command): void {
  bench
    .command('fabric')
    .description('readings/s and commit latency on a Fabric network, batching on and off (last line JSON)')
    .option('--config <file>', 'Fabric client config (YAML/JSON, the ledger.fabric section of an edge config)')
    .option('--stand-in', 'run against the in-process STAND-IN peer instead of a network (not Fabric figures)')
    .option('--readings <n>', 'readings in the batched run', '20000')
    .option('--unbatched-readings <n>', 'readings in the one-reading-per-transaction run', '400')
    .option('--batch-size <n>', 'readings per transaction when batching', '500')
    .option('--concurrency <n>', 'transactions in flight (maxInFlight)', '16')
    .option('--devices <n>', 'simulated devices', '50')
    .option('--batch-timeout-ms <n>', 'stand-in orderer BatchTimeout (Fabric default 2000)', '2000')
    .option('--max-message-count <n>', 'stand-in orderer BatchSize.MaxMessageCount (Fabric sample: 10)', '10')
    .action(async (opts: Options) => {
      if (!opts.config && !opts.standIn) {
        process.stderr.write(
          'bench fabric needs a Fabric network: pass --config FILE (see deploy/fabric/edge.yaml and docs/fabric.md).\n' +
            'No network runs on this machine; `--stand-in` measures this client and the contracts against an in-process stand-in peer instead.\n',
        );
        process.exitCode = 2;
        return;
      }
      const n = {
        readings: positive('readings', opts.readings),
        unbatched: positive('unbatched-readings', opts.unbatchedReadings),
        batchSize: positive('batch-size', opts.batchSize),
        concurrency: positive('concurrency', opts.concurrency),
        devices: positive('devices', opts.devices),
        batchTimeoutMs: positive('batch-timeout-ms', opts.batchTimeoutMs),
        maxMessageCount: positive('max-message-count', opts.maxMessageCount),
      };
      const log = (m: string): void => void process.stderr.write(`[bench fabric] ${m}\n`);
      let cleanup = async (): Promise<void> => {};
      let target: Record<string, unknown>;
      let config: FabricConfig;
      if (opts.standIn) {
        const banner =
          '!!! STAND-IN PEER: figures measure this client, gRPC and the contracts (own process) against an in-memory orderer — NOT a Fabric network !!!';
        process.stdout.write(`${banner}\n`);
        // The chaincode runs in its own process, as beside a real peer: `provenant chaincode serve`.
        const { spawn } = await import('node:child_process');
        const { fileURLToPath } = await import('node:url');
        const cli = fileURLToPath(new URL('../bin/provenant.js', import.meta.url));
        const child = spawn(process.execPath, [cli, 'chaincode', 'serve', '--address', '127.0.0.1:0', '--id', 'provenant_bench:stand-in'], {
          stdio: ['ignore', 'pipe', 'inherit'],
        });
        const port = await new Promise<number>((resolve, reject) => {
          let out = '';
          child.stdout.on('data', (d: Buffer) => {
            out += d.toString();
            const m = /chaincode server listening (\{.*\})/.exec(out);
            if (m) resolve((JSON.parse(m[1] as string) as { port: number }).port);
          });
          child.once('exit', (code) => reject(new Error(`chaincode server exited with ${code}`)));
        });
        const { StandInPeer } = await import('../test/support/fabric-stand-in/gateway-peer.js');
        const peer = await StandInPeer.start({
          channel: 'mychannel',
          chaincodeName: 'provenant',
          chaincodeAddress: `127.0.0.1:${port}`,
          batchTimeoutMs: n.batchTimeoutMs,
          maxMessageCount: n.maxMessageCount,
        });
        const id = (f: string): string => fileURLToPath(new URL(`../test/support/fabric-stand-in/fixtures/${f}`, import.meta.url));
        config = {
          peerEndpoint: peer.address,
          mspId: 'Org1MSP',
          certPath: id('stand-in-client-cert.pem'),
          keyPath: id('stand-in-client-key.pem'),
          channel: 'mychannel',
          chaincode: 'provenant',
        };
        target = { kind: 'stand-in', batchTimeoutMs: n.batchTimeoutMs, maxMessageCount: n.maxMessageCount };
        cleanup = async () => {
          await peer.close();
          child.removeAllListeners('exit');
          child.kill('SIGTERM');
        };
      } else {
        const { loadFabricConfig } = await import('../ledger-bridge/fabric/config.js');
        config = loadFabricConfig(opts.config as string);
        target = { kind: 'fabric', peerEndpoint: config.peerEndpoint, channel: config.channel, chaincode: config.chaincode };
      }
      const { FabricLedgerClient } = await import('../ledger-bridge/fabric/fabric-client.js');
      const { prepare, batches, batchTx } = await import('./fabric/workload.js');
      const client = await FabricLedgerClient.connect({ ...config, maxInFlight: n.concurrency, maxRetries: 20 });
      try {
        log(`target ${JSON.stringify(target)}`);
        const w = await prepare(client, n.devices, log);
        const run = async (mode: ModeResult['mode'], total: number, size: number): Promise<ModeResult> => {
          const txs = batches(w, total, size);
          log(`${mode}: ${total} readings in ${txs.length} transactions of ${size}, ${n.concurrency} in flight`);
          const latencies: number[] = [];
          let accepted = 0;
          const reendorsed0 = client.stats.reendorsed;
          const t0 = performance.now();
          // `concurrency` workers, each with one transaction in flight: a latency is one
          // transaction's submit→commit, not time spent queueing behind the others.
          let next = 0;
          const worker = async (): Promise<void> => {
            for (let i = next++; i < txs.length; i = next++) {
              const t = performance.now();
              const r = await client.submit(batchTx(txs[i] as Parameters<typeof batchTx>[0]));
              latencies.push(performance.now() - t);
              accepted += (JSON.parse(Buffer.from(r.result).toString()) as { accepted: number }).accepted;
            }
          };
          await Promise.all(Array.from({ length: Math.min(n.concurrency, txs.length) }, worker));
          const seconds = (performance.now() - t0) / 1000;
          latencies.sort((a, b) => a - b);
          return {
            mode,
            readingsPerTx: size,
            readings: total,
            accepted,
            txs: txs.length,
            seconds: round(seconds, 2),
            readingsPerSecond: round(accepted / seconds, 0),
            txPerSecond: round(txs.length / seconds, 1),
            latencyMs: {
              p50: round(percentile(latencies, 50)),
              p90: round(percentile(latencies, 90)),
              p99: round(percentile(latencies, 99)),
              max: round(latencies.at(-1) ?? 0),
            },
            reendorsed: client.stats.reendorsed - reendorsed0,
          };
        };
        const batched = await run('batched', n.readings, n.batchSize);
        const unbatched = await run('unbatched', n.unbatched, 1);
        const rows = [batched, unbatched];
        process.stdout.write(
          `\nFabric ${opts.standIn ? '(STAND-IN PEER)' : String(target.peerEndpoint)}: ${n.devices} devices, ${n.concurrency} transactions in flight\n`,
        );
        process.stdout.write(
          'mode        readings/tx  readings  accepted   txs  readings/s    tx/s   p50 ms   p90 ms   p99 ms  re-endorsed\n',
        );
        for (const r of rows) {
          process.stdout.write(
            `${r.mode.padEnd(11)} ${String(r.readingsPerTx).padStart(11)} ${String(r.readings).padStart(9)} ${String(r.accepted).padStart(9)} ${String(r.txs).padStart(5)} ${String(r.readingsPerSecond).padStart(11)} ${String(r.txPerSecond).padStart(7)} ${String(r.latencyMs.p50).padStart(8)} ${String(r.latencyMs.p90).padStart(8)} ${String(r.latencyMs.p99).padStart(8)} ${String(r.reendorsed).padStart(12)}\n`,
          );
        }
        const speedup = unbatched.readingsPerSecond > 0 ? round(batched.readingsPerSecond / unbatched.readingsPerSecond, 1) : null;
        process.stdout.write(
          `batching: ${speedup ?? '-'}× the readings/s of one reading per transaction (target on a real 1-peer network: ≥ 10,000 readings/s, ≥ 30× raw ~300 tx/s)\n`,
        );
        if (opts.standIn) process.stdout.write('!!! STAND-IN PEER figures: not comparable with a Fabric network !!!\n');
        process.stdout.write(
          `${JSON.stringify({ bench: 'fabric', standIn: Boolean(opts.standIn), target, devices: n.devices, concurrency: n.concurrency, batched, unbatched, batchingSpeedup: speedup })}\n`,
        );
      } finally {
        await client.close();
        await cleanup();
      }
    });
}

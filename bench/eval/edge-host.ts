/**
 * Worker role `edge`: Provenant's edge runtime (edge-runtime/src/runtime.ts) as in service — one
 * SerialLink and device session per board, the SQLite outbox, the forwarder batching into
 * Data Provenance `recordBatch` transactions, the traffic monitor — with its board links on the
 * board bus and its ledger reached over the ledger's HTTP API (embedded) or a Fabric gateway.
 *
 * It timestamps, per reading, when the reading was durably stored in the outbox (what the ACK
 * to the board waits for) and when the ledger confirmed its transaction committed.
 */
import { performance } from 'node:perf_hooks';
import { EdgeRuntime } from '../../edge-runtime/src/runtime.js';
import { SerialLink } from '../../edge-runtime/src/links/serial-link.js';
import { wireChallengeCodec } from '../../edge-runtime/src/session/challenge-codec.js';
import { CredentialStore } from '../../edge-runtime/src/session/credentials.js';
import type { Log } from '../../edge-runtime/src/log.js';
import type { LedgerClient } from '../../ledger-bridge/client.js';
import { fromHex } from '../../shared/encoding/hex.js';
import { parsePolicy } from '../../shared/crypto/index.js';
import { EdgeBus, busPortPath } from './bus.js';
import { cpuMsNow, serveWorker } from './ipc.js';
import { openEvalLedger, type EvalLedgerSpec } from './ledger-spec.js';

/** What the orchestrator gives the edge. */
export interface EdgeInit {
  readonly ledger: EvalLedgerSpec;
  readonly edgeId: string;
  readonly issuerPk: string;
  readonly policy: unknown;
  readonly credentialsDir: string;
  readonly outboxPath: string;
  readonly socketPath: string;
  /** The edge's board links: bus ports firstPort..firstPort+ports-1. */
  readonly firstPort: number;
  readonly ports: number;
  /** The profile's interval: the fastest any board of the run samples at (ms, may be < 100). */
  readonly intervalMs: number;
  readonly batchSize: number;
  readonly maxWaitMs: number;
  readonly windowMs: number;
}

/** What the edge measured since the last collect. */
export interface EdgeCollect {
  /** [deviceId:seq, ms] stored in the outbox. */
  readonly stored: [string, number][];
  /** [deviceId:seq, ms] its transaction committed. */
  readonly committed: [string, number][];
  /** [ms, readings] per committed transaction. */
  readonly txs: [number, number][];
  readonly rejected: number;
  /** Readings the ledger rejected, by the contract's reason (docs/contracts.md). */
  readonly rejectedBy: Record<string, number>;
  /** The contract's message of the first few rejections of each reason. */
  readonly rejectedSamples: Record<string, string[]>;
  readonly depth: number;
  readonly cpuMs: number;
  readonly rssMiB: number;
  readonly heapMiB: number;
  /** Warnings and errors the edge logged, by message (with the last one's fields). */
  readonly warnings: Record<string, { count: number; last: string }>;
}

const now = (): number => performance.timeOrigin + performance.now();

export async function runEdgeHost(): Promise<void> {
  let rt: EdgeRuntime | undefined;
  let bus: EdgeBus | undefined;
  let ledger: LedgerClient | undefined;
  let stored: [string, number][] = [];
  let committed: [string, number][] = [];
  let txs: [number, number][] = [];
  let rejected = 0;
  let rejectedBy: Record<string, number> = {};
  let rejectedSamples: Record<string, string[]> = {};
  let cpu = process.cpuUsage();
  let warnings: Record<string, { count: number; last: string }> = {};
  const note =
    (level: string) =>
    (fields: Record<string, unknown>, message: string): void => {
      const k = `${level}: ${message}`;
      const w = (warnings[k] ??= { count: 0, last: '' });
      w.count++;
      w.last = JSON.stringify(fields).slice(0, 300);
    };
  const noop = (): void => undefined;
  const log: Log = { debug: noop, info: noop, warn: note('warn'), error: note('error'), child: () => log };

  await serveWorker(
    {
      init: async (a: EdgeInit) => {
        const { ready } = await import('../../shared/crypto/index.js');
        await ready();
        ledger = await openEvalLedger(a.ledger, 'edge');
        const credentials = new CredentialStore(fromHex(a.issuerPk));
        const loaded = credentials.loadDirectory(a.credentialsDir);
        if (loaded.refused.length > 0) throw new Error(`credentials refused: ${JSON.stringify(loaded.refused.slice(0, 3))}`);
        const runtime = await EdgeRuntime.start({
          edgeId: a.edgeId,
          outboxPath: a.outboxPath,
          ledger,
          credentials,
          policy: parsePolicy(a.policy),
          profile: { intervalMs: a.intervalMs, burst: 64 },
          forwarder: { batchSize: a.batchSize, maxWaitMs: a.maxWaitMs },
          traffic: { windowMs: a.windowMs },
          challengeCodec: wireChallengeCodec,
          log,
        });
        rt = runtime;
        // Every device's partial signature for this epoch, signed (and stored) now, before its
        // board starts: a fresh edge per point would otherwise sign them one per HELLO on its
        // event loop while the first boards' readings wait for their ACKs (~10 ms of BBS each on a
        // quiet machine, ~60 ms at load 25: 300 boards' start stalled the edge for ~18 s, their
        // rings filled and were resent). A deployed edge signs at the first HELLO of an epoch.
        for (const id of credentials.deviceIds()) {
          const found = credentials.lookup(id);
          if (found.ok) runtime.partials.current(found.credential);
        }
        const store = runtime.store.bind(runtime);
        runtime.store = (item) =>
          store(item).then((status) => {
            if (status === 'stored') stored.push([`${item.deviceId}:${item.seq}`, now()]);
            return status;
          });
        runtime.forwarder.onSettled((s) => {
          const t = now();
          for (const row of s.committed) committed.push([`${row.deviceId}:${row.seq}`, t]);
          rejected += s.rejected.length;
          for (const r of s.rejected) {
            rejectedBy[r.reason] = (rejectedBy[r.reason] ?? 0) + 1;
            const kept = (rejectedSamples[r.reason] ??= []);
            if (kept.length < 3) kept.push(r.message.slice(0, 240));
          }
          txs.push([t, s.committed.length + s.rejected.length]);
        });
        bus = new EdgeBus(a.firstPort, a.ports);
        await bus.listen(a.socketPath);
        for (let i = a.firstPort; i < a.firstPort + a.ports; i++) {
          const link = new SerialLink({
            path: busPortPath(i),
            baudRate: 115200,
            binding: bus.binding as never,
            reconnectInitialMs: 200,
            reconnectMaxMs: 2000,
          });
          await runtime.attach(link, { name: `eval board ${i}` });
        }
        return { loaded: loaded.loaded, pid: process.pid };
      },
      collect: () => {
        const c = process.cpuUsage(cpu);
        cpu = process.cpuUsage();
        const m = process.memoryUsage();
        const out: EdgeCollect = {
          stored,
          committed,
          txs,
          rejected,
          rejectedBy,
          rejectedSamples,
          depth: rt?.outbox.depth ?? 0,
          cpuMs: (c.user + c.system) / 1000,
          rssMiB: m.rss / 2 ** 20,
          heapMiB: m.heapUsed / 2 ** 20,
          warnings,
        };
        warnings = {};
        stored = [];
        committed = [];
        txs = [];
        rejected = 0;
        rejectedBy = {};
        rejectedSamples = {};
        return out;
      },
      /** This process's CPU time so far (ms): sampled at the measurement window's edges. */
      cpu: () => cpuMsNow(),
      /** Devices with a reading committed since the last collect. */
      committedDevices: () => new Set(committed.map(([k]) => k.slice(0, k.lastIndexOf(':')))).size,
      /** Outbox depth and readings committed since the last collect. */
      depth: () => ({ depth: rt?.outbox.depth ?? 0, committed: committed.length }),
    },
    async () => {
      await rt?.stop({ closeLinks: true });
      await bus?.close();
      await ledger?.close();
    },
  );
}

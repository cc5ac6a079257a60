/**
 * Worker role `auditor`: the provenance authority. A ProvenanceFollower tails the ledger into
 * its provenance database (SQLite), checking each transaction's inclusion proof, as the deployed
 * auditor does; then, for each committed reading it stored (or every `sample`-th), the Auditor
 * answers "is this reading genuine?" (Data Provenance `verify` on the ledger, the record's
 * inclusion proof up to the head, checked; the verdict written to the database). The time that
 * answer is ready is the end of the paper's response time.
 */
import { performance } from 'node:perf_hooks';
import type { LedgerClient } from '../../ledger-bridge/client.js';
import type { IngestTx, ProvenanceDb } from '../../ledger-bridge/provenance/store.js';
import { fromHex } from '../../shared/encoding/hex.js';
import { decodeReading } from '../../shared/encoding/reading.js';
import { cpuMsNow, serveWorker } from './ipc.js';
import { openEvalLedger, type EvalLedgerSpec } from './ledger-spec.js';

/** What the orchestrator gives the auditor. */
export interface AuditorInit {
  readonly ledger: EvalLedgerSpec;
  readonly dbPath: string;
}

/** What the auditor measured since the last collect. */
export interface AuditorCollect {
  /** [deviceId:seq, ms] the auditor's answer was ready. */
  readonly answered: [string, number][];
  readonly verdicts: Record<string, number>;
  /** Committed readings ingested and not yet answered (sampled ones only). */
  readonly backlog: number;
  readonly ingested: number;
  readonly cpuMs: number;
}

const now = (): number => performance.timeOrigin + performance.now();
/**
 * Questions the auditor has in flight at once (clients asking concurrently). Each waits on ledger
 * round trips that it shares with the others in flight (LedgerReads: one verifyMany and one
 * signatureLevelMany for all of them), so many in flight cost little more than one; with 64, at
 * ~0.2 s per answer under load, the auditor could not answer more than ~320 a second (Little's law).
 */
const CONCURRENCY = 256;
/**
 * PROVENANT_EVAL_SINGLE_READS=1: the auditor as it was before coalescing — one `verify` and one
 * `signatureLevel` request per question, 64 questions in flight — for A/B runs at the same load.
 */
const SINGLE_READS = process.env['PROVENANT_EVAL_SINGLE_READS'] === '1';

export async function runAuditorHost(): Promise<void> {
  let ledger: LedgerClient | undefined;
  let db: ProvenanceDb | undefined;
  let stopFollower: (() => Promise<void>) | undefined;
  let answered: [string, number][] = [];
  let verdicts: Record<string, number> = {};
  let ingested = 0;
  let ingestedTotal = 0;
  let sample = 1;
  let counter = 0;
  const queue: { deviceId: string; seq: number; data: Uint8Array; tag: Uint8Array }[] = [];
  let inFlight = 0;
  let cpu = process.cpuUsage();
  let check:
    | ((q: { deviceId: string; at: { seq: number }; data: Uint8Array; tag: Uint8Array; askedBy: string }) => Promise<{ verdict: string }>)
    | undefined;

  // Answers go out CONCURRENCY at a time (an auditor serving many clients), in ledger order.
  const drain = (): void => {
    while (check && inFlight < (SINGLE_READS ? 64 : CONCURRENCY) && queue.length > 0) {
      const r = queue.shift() as (typeof queue)[number];
      const ask = check;
      inFlight++;
      void ask({ deviceId: r.deviceId, at: { seq: r.seq }, data: r.data, tag: r.tag, askedBy: 'eval' })
        .then(
          (res) => {
            verdicts[res.verdict] = (verdicts[res.verdict] ?? 0) + 1;
          },
          (err: unknown) => {
            const k = `error: ${err instanceof Error ? err.message.slice(0, 80) : String(err)}`;
            verdicts[k] = (verdicts[k] ?? 0) + 1;
          },
        )
        .finally(() => {
          answered.push([`${r.deviceId}:${r.seq}`, now()]);
          inFlight--;
          drain();
        });
    }
  };

  await serveWorker(
    {
      init: async (a: AuditorInit) => {
        const { ProvenanceDb, ProvenanceFollower, Auditor, embeddedProofChecker } = await import('../../ledger-bridge/auditor/index.js');
        const client = await openEvalLedger(a.ledger, 'auditor');
        ledger = client;
        // The follower and the Auditor share one inclusion proof (and its check) per transaction
        // through the ledger client's proof cache (ledger-bridge/auditor/proof-cache.ts), as the
        // deployed auditor does: an answer does not cost O(batch).
        let checkProof = embeddedProofChecker;
        if (a.ledger.type === 'fabric') {
          const { fabricAwareChecker } = await import('../../ledger-bridge/auditor/connect.js');
          checkProof = await fabricAwareChecker();
        }
        const store = await ProvenanceDb.open(a.dbPath);
        db = store;
        // The follower stores each transaction; this wrapper also queues its committed readings
        // for an answer, in ledger order.
        const tapped = Object.create(store) as ProvenanceDb;
        tapped.ingest = async (name: string, tx: IngestTx) => {
          const counts = await store.ingest(name, tx);
          tx.readings.forEach((r, i) => {
            if (tx.rejected.has(i)) return;
            ingested++;
            ingestedTotal++;
            if (counter++ % sample !== 0) return;
            const data = fromHex(r.canonical);
            const reading = decodeReading(data);
            queue.push({ deviceId: reading.deviceId, seq: reading.seq, data, tag: fromHex(r.tag) });
          });
          drain();
          return counts;
        };
        const auditor = new Auditor({ ledger: client, db: store, checkProof, ...(SINGLE_READS ? { reads: false as const } : {}) });
        check = (q) => auditor.check(q);
        const follower = new ProvenanceFollower({ ledger: client, db: tapped, checkProof, name: 'eval' });
        follower.start();
        stopFollower = () => follower.stop();
        return { pid: process.pid };
      },
      /** Answer every `every`-th committed reading from now on (1: all). */
      sample: (a: { every: number }) => {
        sample = Math.max(1, Math.floor(a.every));
        counter = 0;
        return { sample };
      },
      collect: () => {
        const c = process.cpuUsage(cpu);
        cpu = process.cpuUsage();
        const out: AuditorCollect = { answered, verdicts, backlog: queue.length, ingested, cpuMs: (c.user + c.system) / 1000 };
        answered = [];
        verdicts = {};
        ingested = 0;
        return out;
      },
      /** This process's CPU time so far (ms). */
      cpu: () => cpuMsNow(),
      backlog: () => ({ backlog: queue.length + inFlight, ingested }),
      /** Drops the questions not yet asked (an earlier point's: their answers are no longer collected). */
      reset: () => {
        queue.length = 0;
        return { inFlight };
      },
      /** The ledger's height, readings stored so far, questions queued or in flight: is the follower caught up? */
      progress: async () => ({
        head: ledger ? (await ledger.head()).height : 0,
        ingestedTotal,
        backlog: queue.length + inFlight,
      }),
    },
    async () => {
      await stopFollower?.();
      await db?.close();
      await ledger?.close();
    },
  );
}

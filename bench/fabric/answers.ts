/**
 * The auditor's answer path on Fabric alone (`bench fabric --answers N`): N readings recorded in
 * transactions of `--answer-batch` readings (as an edge batches them: Fig. 8 at 5 × 100/s put ~50
 * in each), then an Auditor on a fresh client answers "is this reading genuine?" for every one,
 * `concurrency` questions in flight (as the eval's auditor does): Data Provenance `verify` and
 * `signatureLevel` (coalesced into `…Many` reads), the inclusion proof of the reading's transaction
 * up to the head (qscc), checked, and the partial signature re-verified. It reports answers/s, the
 * latency of an answer, the CPU per answer of every local process, and the ledger reads per answer:
 * qscc reads of the proof path (GetChainInfo, GetBlockByNumber, GetBlockByTxID, from the client's
 * counters; null for a client without them) and gateway evaluations of the coalesced reads.
 */
import { performance } from 'node:perf_hooks';
import type { FabricLedgerClient } from '../../ledger-bridge/fabric/fabric-client.js';
import { fromHex } from '../../shared/encoding/hex.js';
import { decodeReading } from '../../shared/encoding/reading.js';
import type { ReadingSubmission } from '../../shared/records.js';
import { cpuMeter } from './cpu.js';

/** What the answer phase measured. */
export interface AnswersResult {
  readonly answers: number;
  readonly readingsPerTx: number;
  readonly txs: number;
  /** Distinct blocks the answered readings' transactions are in. */
  readonly blocks: number;
  readonly concurrency: number;
  readonly seconds: number;
  readonly answersPerSecond: number;
  readonly latencyMs: { p50: number; p99: number; max: number };
  readonly verdicts: Record<string, number>;
  /** CPU ms per answer of each local process measured (peer, orderer, chaincode, client = the auditor). */
  readonly cpuMsPerAnswer: Record<string, number>;
  /** Their sum. */
  readonly cpuMsPerAnswerTotal: number;
  /** Ledger reads of the answer phase (per answer): proof path (qscc) and coalesced evaluations. */
  readonly reads: {
    readonly headReads: number | null;
    readonly blockFetches: number | null;
    readonly txLookups: number | null;
    readonly evaluations: number;
    readonly perAnswer: number;
  };
}

const round = (x: number, d = 1): number => Math.round(x * 10 ** d) / 10 ** d;
const pct = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;

/**
 * Records `batches` (one recordBatch each, `lanes` in flight) with `writer`, then answers every
 * reading with an Auditor on `auditorClient` (fresh: nothing cached), `concurrency` at a time.
 */
export async function measureAnswers(opts: {
  readonly writer: FabricLedgerClient;
  readonly auditorClient: FabricLedgerClient;
  readonly batches: readonly (readonly ReadingSubmission[])[];
  readonly tx: (b: readonly ReadingSubmission[]) => { contract: string; fn: string; args: string[] };
  readonly lanes: number;
  readonly concurrency: number;
  /** The coalesced reads' questions per read and reads in flight (default: LedgerReads.for's). */
  readonly reads?: { readonly maxBatch?: number; readonly maxInFlight?: number };
  readonly pids: Record<string, number | undefined>;
  readonly log: (m: string) => void;
}): Promise<AnswersResult> {
  const { writer, auditorClient: client, batches } = opts;
  // 1. Recorded (not measured): the readings and where they landed.
  const questions: { deviceId: string; seq: number; data: Uint8Array; tag: Uint8Array }[] = [];
  const blocks = new Set<number>();
  let next = 0;
  const lane = async (): Promise<void> => {
    for (let i = next++; i < batches.length; i = next++) {
      const b = batches[i] as readonly ReadingSubmission[];
      const r = await writer.submit(opts.tx(b) as Parameters<FabricLedgerClient['submit']>[0]);
      const rejected = new Set(
        (JSON.parse(Buffer.from(r.result).toString()) as { rejected: { index: number }[] }).rejected.map((x) => x.index),
      );
      blocks.add(r.blockNumber);
      b.forEach((s, k) => {
        if (rejected.has(k)) return;
        const data = fromHex(s.canonical);
        const reading = decodeReading(data);
        questions.push({ deviceId: reading.deviceId, seq: reading.seq, data, tag: fromHex(s.tag) });
      });
    }
  };
  await Promise.all(Array.from({ length: Math.min(opts.lanes, batches.length) }, () => lane()));
  opts.log(`answers: ${questions.length} readings recorded in ${batches.length} transactions, ${blocks.size} blocks; answering`);

  // 2. Answered (measured): a fresh Auditor, its reads coalesced and its proofs shared as deployed.
  const { Auditor } = await import('../../ledger-bridge/auditor/auditor.js');
  const { LedgerReads } = await import('../../ledger-bridge/auditor/coalesce.js');
  const { fabricAwareChecker } = await import('../../ledger-bridge/auditor/connect.js');
  const reads = opts.reads ? new LedgerReads(client, opts.reads) : LedgerReads.for(client);
  const auditor = new Auditor({ ledger: client, checkProof: await fabricAwareChecker(), reads });
  const stats = client.stats as unknown as Record<string, number | undefined>;
  const counter = (k: string): number | undefined => stats[k];
  const before = { head: counter('headReads'), block: counter('blockFetches'), tx: counter('txLookups') };
  // Gateway evaluations of the coalesced reads and of the partial check (getPartial, getConfig).
  let evaluations = 0;
  const evaluate = client.evaluate.bind(client);
  client.evaluate = (p) => {
    evaluations++;
    return evaluate(p);
  };
  const meter = cpuMeter(opts.pids);
  const latencies: number[] = [];
  const verdicts: Record<string, number> = {};
  const t0 = performance.now();
  let q = 0;
  const worker = async (): Promise<void> => {
    for (let i = q++; i < questions.length; i = q++) {
      const x = questions[i] as (typeof questions)[number];
      const t = performance.now();
      const v = await auditor.check({ deviceId: x.deviceId, at: { seq: x.seq }, data: x.data, tag: x.tag, askedBy: 'bench' }).then(
        (r) => r.verdict,
        (err: unknown) => `error: ${(err as Error).message.slice(0, 80)}`,
      );
      latencies.push(performance.now() - t);
      verdicts[v] = (verdicts[v] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: Math.min(opts.concurrency, questions.length) }, () => worker()));
  const seconds = (performance.now() - t0) / 1000;
  const cpu = meter.stop();
  client.evaluate = evaluate;
  const n = Math.max(1, questions.length);
  const cpuMsPerAnswer = Object.fromEntries(Object.entries(cpu).map(([k, v]) => [k, round((v * 1000) / n, 3)]));
  latencies.sort((a, b) => a - b);
  const delta = (k: string, b: number | undefined): number | null => {
    const a = counter(k);
    return a === undefined || b === undefined ? null : a - b;
  };
  const headReads = delta('headReads', before.head);
  const blockFetches = delta('blockFetches', before.block);
  const txLookups = delta('txLookups', before.tx);
  const qscc = (headReads ?? 0) + (blockFetches ?? 0) + (txLookups ?? 0);
  return {
    answers: questions.length,
    readingsPerTx: batches[0]?.length ?? 0,
    txs: batches.length,
    blocks: blocks.size,
    concurrency: opts.concurrency,
    seconds: round(seconds, 2),
    answersPerSecond: round(questions.length / seconds, 1),
    latencyMs: { p50: round(pct(latencies, 50)), p99: round(pct(latencies, 99)), max: round(latencies.at(-1) ?? 0) },
    verdicts,
    cpuMsPerAnswer,
    cpuMsPerAnswerTotal: round(
      Object.values(cpuMsPerAnswer).reduce((a, b) => a + b, 0),
      3,
    ),
    reads: { headReads, blockFetches, txLookups, evaluations, perAnswer: round((qscc + evaluations) / n, 3) },
  };
}

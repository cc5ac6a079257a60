/**
 * Store-and-forward from the outbox to the ledger: batches by size and time, one Data Provenance
 * `recordBatch` transaction per batch, retries with exponential backoff while the ledger is away
 * (for hours if need be: the outbox holds the readings), and records each reading's verdict.
 *
 * At-least-once becomes exactly-once at the ledger: a batch whose commit status was lost (crash,
 * timeout) is submitted again, and the contract answers REPLAY with `duplicate: true` for every
 * reading it already holds with the same dataHash; those count as committed here.
 */
import { CONTRACTS, type LedgerClient } from '../../../ledger-bridge/client.js';
import { encodeReadingBatch, parseBatchResult, BATCH_VERSION, type BatchResult } from '../../../shared/records.js';
import type { PartialSignatureJson } from '../../../shared/crypto/credential.js';
import { backoffDelay } from '../links/link.js';
import { errorMessage, silentLog, type Log } from '../log.js';
import type { Outbox, PendingRow } from './outbox.js';

/** Batching and retry settings. */
export interface ForwarderOptions {
  /** Most readings per transaction. Default 500. */
  readonly batchSize?: number;
  /** Longest a reading waits for its batch to fill (ms). Default 200. */
  readonly maxWaitMs?: number;
  /** First retry delay after a failed submit (ms); doubles up to retryMaxMs. Default 500. */
  readonly retryInitialMs?: number;
  /** Default 30000. */
  readonly retryMaxMs?: number;
  readonly log?: Log;
  readonly clock?: () => number;
}

/** What one settled batch did, for metrics and the device views. */
export interface SettledBatch {
  readonly txId: string;
  readonly committed: readonly PendingRow[];
  readonly rejected: readonly { readonly row: PendingRow; readonly reason: string; readonly message: string }[];
  /** Submit → commit time (ms). */
  readonly latencyMs: number;
  /** The contract's answer and the block, for the provenance database. */
  readonly result: BatchResult;
  readonly blockNumber: number;
  /** The submissions in batch order (result.rejected indexes into this). */
  readonly submissions: readonly PendingRow['submission'][];
}

/** Forwarder state, for /health and metrics. */
export interface ForwarderStatus {
  readonly running: boolean;
  readonly ledgerUp: boolean;
  readonly consecutiveFailures: number;
  readonly lastError: string | null;
  readonly batches: number;
}

/** Moves readings from the outbox to the ledger. */
export class Forwarder {
  private running = false;
  private lock: Promise<void> = Promise.resolve();
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private failures = 0;
  private lastError: string | null = null;
  private batches = 0;
  private readonly listeners = new Set<(s: SettledBatch) => void>();
  private readonly batchSize: number;
  private readonly maxWaitMs: number;
  private readonly log: Log;
  private readonly clock: () => number;

  constructor(
    private readonly outbox: Outbox,
    private readonly ledger: LedgerClient,
    private readonly options: ForwarderOptions = {},
  ) {
    this.batchSize = options.batchSize ?? 500;
    this.maxWaitMs = options.maxWaitMs ?? 200;
    if (!Number.isInteger(this.batchSize) || this.batchSize < 1 || this.batchSize > 10_000) {
      throw new RangeError(`forwarder.batchSize must be 1..10000, got ${this.batchSize}`);
    }
    this.log = (options.log ?? silentLog).child({ part: 'forwarder' });
    this.clock = options.clock ?? Date.now;
  }

  /** Called for every settled batch. */
  onSettled(listener: (s: SettledBatch) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Starts the loop (idempotent). */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Tells the loop new readings are waiting (it may fill a batch sooner). */
  kick(): void {
    // While backing off from a failed submit, new readings must not hammer the ledger.
    if (this.failures === 0) this.wake?.();
  }

  /** Stops after the batch in flight, if any, is settled. */
  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
  }

  /** Current state. */
  status(): ForwarderStatus {
    return {
      running: this.running,
      ledgerUp: this.failures === 0,
      consecutiveFailures: this.failures,
      lastError: this.lastError,
      batches: this.batches,
    };
  }

  /** Submits everything waiting, now, until the outbox is empty or a submit fails (tests, shutdown). */
  async drain(): Promise<void> {
    while (this.outbox.depth > 0) {
      await this.submitOnce();
    }
  }

  private async run(): Promise<void> {
    while (this.running) {
      const depth = this.outbox.depth;
      if (depth === 0) {
        await this.sleep(1000);
        continue;
      }
      if (depth < this.batchSize) {
        // Wait for the batch to fill or for its oldest reading to have waited maxWaitMs; kick()
        // wakes us on every new reading, so re-evaluate after each wake.
        const due = (this.outbox.oldestPendingAt() ?? this.clock()) + this.maxWaitMs - this.clock();
        if (due > 0) {
          await this.sleep(due);
          continue;
        }
      }
      try {
        await this.submitOnce();
        this.failures = 0;
        this.lastError = null;
      } catch (err) {
        this.lastError = errorMessage(err);
        const delay = backoffDelay(this.failures, this.options.retryInitialMs ?? 500, this.options.retryMaxMs ?? 30_000);
        this.failures += 1;
        this.log.warn(
          { err: this.lastError, failures: this.failures, retryInMs: delay, outboxDepth: this.outbox.depth },
          'ledger submit failed; readings stay in the outbox',
        );
        await this.sleep(delay);
      }
    }
  }

  /**
   * One batch at a time: the loop and drain() share this lock, so a batch is never submitted
   * twice concurrently (two transactions over the same keys would only MVCC-conflict).
   */
  private submitOnce(): Promise<void> {
    const next = this.lock.then(() => this.submitBatch());
    this.lock = next.catch(() => undefined);
    return next;
  }

  /** Builds, submits and settles one batch. Throws when the ledger does not answer. */
  private async submitBatch(): Promise<void> {
    const rows = this.outbox.takeBatch(this.batchSize);
    if (rows.length === 0) return;
    const partials: PartialSignatureJson[] = [];
    const seen = new Set<string>();
    for (const r of rows) {
      if (seen.has(r.partialDigest)) continue;
      seen.add(r.partialDigest);
      const stored = this.outbox.getPartial(r.partialDigest);
      if (stored && !stored.onLedger) partials.push(stored.partial);
    }
    const args = [encodeReadingBatch({ version: BATCH_VERSION, readings: rows.map((r) => r.submission), partials })];
    const started = this.clock();
    const commit = await this.ledger.submit({ contract: CONTRACTS.dataProvenance, fn: 'recordBatch', args });
    const result: BatchResult = parseBatchResult(new TextDecoder().decode(commit.result));
    const latencyMs = this.clock() - started;
    const rejectedAt = new Map(result.rejected.map((r) => [r.index, r]));
    const committed: PendingRow[] = [];
    const rejected: { row: PendingRow; reason: string; message: string }[] = [];
    rows.forEach((row, i) => {
      const verdict = rejectedAt.get(i);
      if (!verdict || verdict.duplicate === true) committed.push(row);
      else rejected.push({ row, reason: verdict.reason, message: verdict.message });
    });
    this.outbox.settle(
      result.txId,
      committed.map((r) => r.id),
      rejected.map((r) => ({ id: r.row.id, reason: r.reason })),
      this.clock(),
    );
    this.outbox.markPartialsOnLedger([...new Set(committed.map((r) => r.partialDigest))]);
    this.batches += 1;
    if (rejected.length > 0) {
      this.log.warn(
        { txId: result.txId, rejected: rejected.slice(0, 10).map((r) => ({ deviceId: r.row.deviceId, seq: r.row.seq, reason: r.reason })) },
        `ledger rejected ${rejected.length} of ${rows.length} readings`,
      );
    }
    const settled: SettledBatch = {
      txId: result.txId,
      committed,
      rejected,
      latencyMs,
      result,
      blockNumber: commit.blockNumber,
      submissions: rows.map((r) => r.submission),
    };
    for (const l of this.listeners) {
      try {
        l(settled);
      } catch (err) {
        this.log.error({ err: errorMessage(err) }, 'settled listener threw');
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wake = () => {
        this.wake = undefined;
        done();
      };
    });
  }
}

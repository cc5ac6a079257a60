/**
 * Store-and-forward from the outbox to the ledger: batches by size and time, one Data Provenance
 * `recordBatch` transaction per batch (the packed binary batch of shared/encoding/batch.ts),
 * retries with exponential backoff while the ledger is away (for hours if need be: the outbox
 * holds the readings), and records each reading's verdict.
 *
 * Device affinity: up to `maxInFlight` batches are in flight at once, and each device's readings
 * are in at most one of them — a batch takes only readings of devices no in-flight batch has. A
 * batch reads and writes its devices' replay-window keys (docs/contracts.md), so two in-flight
 * batches of one device would be an MVCC conflict by construction; with affinity they never are.
 * A conflict that still happens (a registration update racing a batch) invalidates the batch as a
 * whole; it is resubmitted at once (up to `conflictRetries` times) and counted.
 *
 * At-least-once becomes exactly-once at the ledger: a batch whose commit status was lost (crash,
 * timeout) is submitted again, and the contract answers REPLAY with `duplicate: true` for every
 * reading it already holds with the same dataHash; those count as committed here — under the
 * transaction that DID record them, which the forwarder reads back from the ledger (the record's
 * txId), never under the resubmission that recorded nothing for them.
 */
import { CONTRACTS, lacksFunction, type LedgerClient } from '../../../ledger-bridge/client.js';
import { MAX_BATCH_ROUTES, packReadingBatch, routeKey } from '../../../shared/encoding/batch.js';
import { encodeReadingBatch, parseBatchResult, BATCH_VERSION, MAX_BATCH_PARTIALS, type BatchResult } from '../../../shared/records.js';
import type { PartialSignatureJson } from '../../../shared/crypto/credential.js';
import { codeOf, ProvenantError } from '../../../shared/errors.js';
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
  /**
   * Longest retry delay (ms). Default 5000: after an outage the ledger is tried at least this
   * often, so commits resume within about this long of it coming back.
   */
  readonly retryMaxMs?: number;
  readonly log?: Log;
  readonly clock?: () => number;
  /** Batches in flight at once, each with readings of devices no other in-flight batch has. Default 4. */
  readonly maxInFlight?: number;
  /** Resubmissions of a batch an MVCC or phantom-read conflict invalidated, before it counts as failed. Default 5. */
  readonly conflictRetries?: number;
  /** 'packed' (default) or 'json' (the ReadingBatch JSON, for a ledger whose chaincode predates the packed batch). */
  readonly encoding?: 'packed' | 'json';
}

const CONFLICTS = new Set(['PROV_ERR_MVCC_READ_CONFLICT', 'PROV_ERR_PHANTOM_READ_CONFLICT']);
/** Readings traced per `getMany` read (the contract answers at most MAX_MANY, 1,000). */
const TRACE_PER_READ = 500;
const decoder = new TextDecoder();

/** What one settled batch did, for metrics and the device views. */
export interface SettledBatch {
  readonly txId: string;
  readonly committed: readonly PendingRow[];
  /**
   * Rows of `committed` that the ledger already held (answered as duplicates of an earlier
   * transaction), by row id → the id of the transaction that recorded them.
   */
  readonly recordedBy: ReadonlyMap<number, string>;
  readonly rejected: readonly { readonly row: PendingRow; readonly reason: string; readonly message: string }[];
  /** Submit → commit time (ms). */
  readonly latencyMs: number;
  /** The contract's answer and the block, for the provenance database. */
  readonly result: BatchResult;
  readonly blockNumber: number;
  /** The submissions in batch order (result.rejected indexes into this). */
  readonly submissions: readonly PendingRow['submission'][];
  /** Times this batch was resubmitted after an MVCC or phantom-read conflict. */
  readonly conflicts: number;
}

/** Forwarder state, for /health and metrics. */
export interface ForwarderStatus {
  readonly running: boolean;
  readonly ledgerUp: boolean;
  readonly consecutiveFailures: number;
  readonly lastError: string | null;
  readonly batches: number;
  /** Batches in flight now. */
  readonly inFlight: number;
  /** MVCC / phantom-read conflicts resubmitted so far. */
  readonly conflicts: number;
  /** SIG bodies the ledger recorded (or already held) so far. */
  readonly signaturesRecorded: number;
}

/** Moves readings from the outbox to the ledger. */
export class Forwarder {
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private failures = 0;
  private lastError: string | null = null;
  private batches = 0;
  private conflicts = 0;
  /** No new batch before this time (backing off after a failed submit). */
  private pausedUntil = 0;
  /** Devices with a batch in flight (device affinity). */
  private readonly busy = new Set<string>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly listeners = new Set<(s: SettledBatch) => void>();
  /** A pass over the waiting SIG bodies is running. */
  private sigBusy = false;
  /** The ledger's chaincode predates `getMany` (it said so): duplicates are traced with one `get` each (warned once). */
  private noGetMany = false;
  private sigPass: Promise<void> = Promise.resolve();
  /** SIG body row id → not before this time (the ledger had no key for it yet, or did not answer). */
  private readonly sigRetryAt = new Map<number, number>();
  private sigRecorded = 0;
  private readonly batchSize: number;
  private readonly maxWaitMs: number;
  private readonly maxInFlight: number;
  private readonly retryInitialMs: number;
  private readonly retryMaxMs: number;
  private readonly log: Log;
  private readonly clock: () => number;

  constructor(
    private readonly outbox: Outbox,
    private readonly ledger: LedgerClient,
    private readonly options: ForwarderOptions = {},
  ) {
    this.batchSize = options.batchSize ?? 500;
    this.maxWaitMs = options.maxWaitMs ?? 200;
    this.maxInFlight = options.maxInFlight ?? 4;
    if (!Number.isInteger(this.maxInFlight) || this.maxInFlight < 1 || this.maxInFlight > 256) {
      throw new RangeError(`forwarder.maxInFlight must be 1..256, got ${this.maxInFlight}`);
    }
    this.retryInitialMs = options.retryInitialMs ?? 500;
    this.retryMaxMs = options.retryMaxMs ?? 5_000;
    if (!Number.isInteger(this.batchSize) || this.batchSize < 1 || this.batchSize > 10_000) {
      throw new RangeError(`forwarder.batchSize must be 1..10000, got ${this.batchSize}`);
    }
    if (!(this.retryInitialMs >= 1 && this.retryMaxMs >= this.retryInitialMs && this.retryMaxMs <= 3_600_000)) {
      throw new RangeError(
        `forwarder retry delays must satisfy 1 <= retryInitialMs <= retryMaxMs <= 3600000, got ${this.retryInitialMs} and ${this.retryMaxMs}`,
      );
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

  /** Stops after the batches in flight, if any, are settled. */
  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
    await Promise.allSettled([...this.inFlight]);
    await this.sigPass;
  }

  /** Current state. */
  status(): ForwarderStatus {
    return {
      running: this.running,
      ledgerUp: this.failures === 0,
      consecutiveFailures: this.failures,
      lastError: this.lastError,
      batches: this.batches,
      inFlight: this.inFlight.size,
      conflicts: this.conflicts,
      signaturesRecorded: this.sigRecorded,
    };
  }

  /**
   * Submits everything waiting, now, until the outbox is empty or a submit fails (tests,
   * shutdown); then the SIG bodies whose readings are settled.
   */
  async drain(): Promise<void> {
    for (;;) {
      await Promise.allSettled([...this.inFlight]);
      if (this.outbox.depth === 0) {
        await this.sigPass;
        await this.forwardSignatures();
        return;
      }
      const rows = fitOneBatch(this.outbox.takeBatch(this.batchSize, this.busy));
      // Everything left belongs to devices a batch of the loop holds: wait for it.
      if (rows.length === 0) continue;
      await this.launch(rows);
    }
  }

  private async run(): Promise<void> {
    while (this.running) {
      const now = this.clock();
      if (now < this.pausedUntil) {
        await this.sleep(this.pausedUntil - now);
        continue;
      }
      if (this.inFlight.size >= this.maxInFlight) {
        await this.sleep(1000);
        continue;
      }
      if (!this.sigBusy && this.outbox.hasPendingSignatures()) this.sigPass = this.forwardSignatures();
      const { count, oldest } = this.outbox.pendingExcept(this.busy);
      if (count === 0) {
        await this.sleep(1000);
        continue;
      }
      if (count < this.batchSize) {
        // Wait for the batch to fill or for its oldest reading to have waited maxWaitMs; kick()
        // wakes us on every new reading (and a settled batch frees its devices), so re-evaluate.
        const due = (oldest ?? now) + this.maxWaitMs - now;
        if (due > 0) {
          await this.sleep(due);
          continue;
        }
      }
      // Leave devices for the other batches that may go in flight: this one takes its share.
      const share = Math.max(1, Math.ceil(this.outbox.pendingDevices(this.busy) / (this.maxInFlight - this.inFlight.size)));
      const rows = fitOneBatch(this.outbox.takeBatch(this.batchSize, this.busy, share));
      if (rows.length > 0) this.launch(rows).catch(() => undefined);
    }
  }

  /**
   * Starts a batch: its devices are busy until it settles or fails. A failure backs the loop off
   * (the readings stay pending in the outbox); the returned promise rejects with it.
   */
  private launch(rows: PendingRow[]): Promise<void> {
    const devices = new Set(rows.map((r) => r.deviceId));
    for (const d of devices) this.busy.add(d);
    const done = this.submitWithRetries(rows).then(
      () => {
        this.failures = 0;
        this.lastError = null;
      },
      (err: unknown) => {
        this.lastError = errorMessage(err);
        const delay = backoffDelay(this.failures, this.retryInitialMs, this.retryMaxMs);
        this.failures += 1;
        this.pausedUntil = this.clock() + delay;
        this.log.warn(
          { err: this.lastError, failures: this.failures, retryInMs: delay, outboxDepth: this.outbox.depth },
          'ledger submit failed; readings stay in the outbox',
        );
        throw err;
      },
    );
    const tracked = done.finally(() => {
      for (const d of devices) this.busy.delete(d);
      this.inFlight.delete(tracked);
      this.wake?.();
    });
    this.inFlight.add(tracked);
    return tracked;
  }

  /** Submits a batch, resubmitting it after an MVCC / phantom-read conflict (up to conflictRetries times). */
  private async submitWithRetries(rows: PendingRow[]): Promise<void> {
    const limit = this.options.conflictRetries ?? 5;
    for (let conflicts = 0; ; conflicts++) {
      try {
        await this.submitBatch(rows, conflicts);
        return;
      } catch (err) {
        if (conflicts >= limit || !CONFLICTS.has(codeOf(err) ?? '')) throw err;
        this.conflicts += 1;
        this.log.info(
          { err: errorMessage(err), devices: new Set(rows.map((r) => r.deviceId)).size, conflicts: conflicts + 1 },
          'batch invalidated by a conflict; resubmitting',
        );
      }
    }
  }

  /**
   * Builds, submits and settles one batch. Throws when the ledger does not answer, or (after
   * settling the rest) when readings it answered as duplicates could not be traced.
   */
  private async submitBatch(rows: PendingRow[], conflicts: number): Promise<void> {
    const partials: PartialSignatureJson[] = [];
    const seen = new Set<string>();
    for (const r of rows) {
      if (seen.has(r.partialDigest)) continue;
      seen.add(r.partialDigest);
      const stored = this.outbox.getPartial(r.partialDigest);
      if (stored && !stored.onLedger) partials.push(stored.partial);
    }
    const batch = { version: BATCH_VERSION as typeof BATCH_VERSION, readings: rows.map((r) => r.submission), partials };
    // The packed batch goes as bytes: the embedded ledger stores them as they are; a client that
    // carries only text (Fabric, the ledger's HTTP API) sends their base64 (client.ts textArgs).
    const args = [this.options.encoding === 'json' ? encodeReadingBatch(batch) : packReadingBatch(batch)];
    const started = this.clock();
    const commit = await this.ledger.submit({ contract: CONTRACTS.dataProvenance, fn: 'recordBatch', args });
    const result: BatchResult = parseBatchResult(decoder.decode(commit.result));
    const latencyMs = this.clock() - started;
    const rejectedAt = new Map(result.rejected.map((r) => [r.index, r]));
    const committed: PendingRow[] = [];
    const duplicates: PendingRow[] = [];
    const rejected: { row: PendingRow; reason: string; message: string }[] = [];
    rows.forEach((row, i) => {
      const verdict = rejectedAt.get(i);
      if (!verdict) committed.push(row);
      else if (verdict.duplicate === true) duplicates.push(row);
      else rejected.push({ row, reason: verdict.reason, message: verdict.message });
    });
    // Readings the ledger already held were recorded by an earlier transaction (its commit status
    // was lost): settle them under THAT transaction. One we cannot look up stays pending and is
    // asked about again with the next batch.
    const recordedBy = await this.recordingTransactions(duplicates);
    for (const row of duplicates) if (recordedBy.has(row.id)) committed.push(row);
    this.outbox.settle(
      result.txId,
      committed.map((r) => r.id),
      rejected.map((r) => ({ id: r.row.id, reason: r.reason })),
      this.clock(),
      recordedBy,
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
      recordedBy,
      rejected,
      latencyMs,
      result,
      blockNumber: commit.blockNumber,
      submissions: rows.map((r) => r.submission),
      conflicts,
    };
    for (const l of this.listeners) {
      try {
        l(settled);
      } catch (err) {
        this.log.error({ err: errorMessage(err) }, 'settled listener threw');
      }
    }
    const unknown = duplicates.length - recordedBy.size;
    if (unknown > 0) {
      // Back off like after a failed submit rather than resubmitting them at once.
      throw new ProvenantError(
        'PROV_ERR_LEDGER_UNAVAILABLE',
        `${unknown} reading(s) the ledger already holds could not be traced to their transaction; they stay in the outbox`,
        { txId: result.txId },
      );
    }
  }

  /**
   * For rows the ledger answered as duplicates: row id → id of the transaction whose record holds
   * the reading (Data Provenance `getMany`, TRACE_PER_READ readings per read; one `get` each on a
   * chaincode without it), checked to be the same data. Rows whose record cannot be read now are
   * left out (they stay pending).
   */
  private async recordingTransactions(rows: readonly PendingRow[]): Promise<Map<number, string>> {
    const out = new Map<number, string>();
    for (let i = 0; i < rows.length; i += TRACE_PER_READ) {
      const chunk = rows.slice(i, i + TRACE_PER_READ);
      if (chunk.length > 1 && !this.noGetMany && (await this.traceMany(chunk, out))) continue;
      for (let j = 0; j < chunk.length; j += 16) await Promise.all(chunk.slice(j, j + 16).map((row) => this.traceOne(row, out)));
    }
    return out;
  }

  /** Traces `rows` with one `getMany` read; false when the chaincode has no `getMany` (trace them singly). */
  private async traceMany(rows: readonly PendingRow[], out: Map<number, string>): Promise<boolean> {
    let entries: unknown;
    try {
      const bytes = await this.ledger.evaluate({
        contract: CONTRACTS.dataProvenance,
        fn: 'getMany',
        args: [JSON.stringify(rows.map((r) => [r.deviceId, String(r.seq)]))],
      });
      entries = JSON.parse(decoder.decode(bytes));
    } catch (err) {
      if (lacksFunction(err, 'getMany')) {
        this.noGetMany = true;
        this.log.warn(
          { err: errorMessage(err) },
          "the ledger's DataProvenance has no getMany (older chaincode): tracing already-recorded readings with one get each",
        );
        return false;
      }
      this.log.warn(
        { readings: rows.length, err: errorMessage(err) },
        'cannot read the records of readings the ledger already holds; they stay pending',
      );
      return true;
    }
    if (!Array.isArray(entries) || entries.length !== rows.length) {
      this.log.error(
        { readings: rows.length },
        `the ledger's getMany answered no array of ${rows.length} entries; the readings stay pending`,
      );
      return true;
    }
    rows.forEach((row, i) => {
      const entry = entries[i] as { answer?: unknown; error?: { message?: unknown } } | null;
      if (entry !== null && typeof entry === 'object' && 'answer' in entry) this.checkRecord(row, entry.answer, out);
      else
        this.log.warn(
          { deviceId: row.deviceId, seq: row.seq, err: String(entry?.error?.message ?? 'no answer') },
          'cannot read the record of a reading the ledger already holds; it stays pending',
        );
    });
    return true;
  }

  /** Traces one row with `get`. */
  private async traceOne(row: PendingRow, out: Map<number, string>): Promise<void> {
    try {
      const bytes = await this.ledger.evaluate({ contract: CONTRACTS.dataProvenance, fn: 'get', args: [row.deviceId, String(row.seq)] });
      this.checkRecord(row, JSON.parse(decoder.decode(bytes)), out);
    } catch (err) {
      this.log.warn(
        { deviceId: row.deviceId, seq: row.seq, err: errorMessage(err) },
        'cannot read the record of a reading the ledger already holds; it stays pending',
      );
    }
  }

  /** Settles `row` under the record's transaction when the record holds the row's data. */
  private checkRecord(row: PendingRow, record: unknown, out: Map<number, string>): void {
    const r = (record ?? {}) as { txId?: unknown; dataHash?: unknown };
    if (typeof r.txId === 'string' && r.dataHash === row.dataHash) out.set(row.id, r.txId);
    else
      this.log.error(
        { deviceId: row.deviceId, seq: row.seq },
        'the ledger called a reading a duplicate but holds other data under its key',
      );
  }

  /**
   * One pass over the waiting SIG bodies (issue 16), oldest first: an epoch body goes once every
   * reading of its segment the edge holds is settled (so the ledger can check the signed root
   * against what it recorded), with the dataHashes this edge holds for the segment's seqs (the
   * signed root authenticates them). A body goes when no batch of its device is in flight. The
   * ledger's 'recorded' / 'duplicate' settle it; 'refused' NO_SIGNING_KEY (the authority has not
   * registered the board's key yet) and a ledger that does not answer leave it waiting; any other
   * refusal is final and logged.
   */
  private async forwardSignatures(): Promise<void> {
    if (this.sigBusy) return;
    this.sigBusy = true;
    const zero = '0'.repeat(64);
    try {
      for (const s of this.outbox.pendingSignatures(64)) {
        const now = this.clock();
        if ((this.sigRetryAt.get(s.id) ?? 0) > now || this.busy.has(s.deviceId)) continue;
        let leaves = '';
        if (s.firstSeq !== undefined && s.lastSeq !== undefined) {
          if (this.outbox.hasPendingReadings(s.deviceId, s.firstSeq, s.lastSeq)) continue;
          const held = this.outbox.dataHashes(s.deviceId, s.firstSeq, s.lastSeq);
          const parts: string[] = [];
          for (let seq = s.firstSeq; seq <= s.lastSeq; seq++) parts.push(held.get(seq) ?? zero);
          leaves = held.size > 0 ? parts.join('') : '';
        }
        this.busy.add(s.deviceId);
        try {
          const commit = await this.ledger.submit({
            contract: CONTRACTS.dataProvenance,
            fn: 'recordSignature',
            args: [s.deviceId, s.body, leaves],
          });
          const r = JSON.parse(decoder.decode(commit.result)) as {
            status?: string;
            reason?: string;
            message?: string;
            segment?: unknown;
          };
          if (r.status === 'recorded' || r.status === 'duplicate') {
            this.outbox.settleSignature(s.id, 'recorded', null, commit.txId, this.clock());
            this.sigRetryAt.delete(s.id);
            this.sigRecorded += 1;
            this.log.info(
              { deviceId: s.deviceId, keySet: s.keySet, q: s.q, status: r.status, segment: r.segment },
              'epoch signature on the ledger',
            );
          } else if (r.reason === 'NO_SIGNING_KEY') {
            this.sigRetryAt.set(s.id, this.clock() + this.retryMaxMs);
            this.log.info(
              { deviceId: s.deviceId, keySet: s.keySet, q: s.q },
              'the ledger has no signing key for this SIG body yet; it waits',
            );
          } else {
            this.outbox.settleSignature(s.id, 'rejected', String(r.reason ?? 'REFUSED'), commit.txId, this.clock());
            this.sigRetryAt.delete(s.id);
            this.log.warn(
              { deviceId: s.deviceId, keySet: s.keySet, q: s.q, reason: r.reason, message: r.message },
              'the ledger refused a SIG body',
            );
          }
        } catch (err) {
          if (codeOf(err) === 'PROV_ERR_BAD_INPUT') {
            this.outbox.settleSignature(s.id, 'rejected', 'BAD_INPUT', null, this.clock());
            this.log.warn({ deviceId: s.deviceId, err: errorMessage(err) }, 'the ledger refused a SIG body as malformed');
          } else {
            this.sigRetryAt.set(s.id, this.clock() + this.retryMaxMs);
            this.log.warn({ deviceId: s.deviceId, err: errorMessage(err) }, 'SIG body not forwarded; it stays in the outbox');
          }
        } finally {
          this.busy.delete(s.deviceId);
        }
      }
    } finally {
      this.sigBusy = false;
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

/**
 * The longest prefix of `rows` one transaction can carry: at most MAX_BATCH_ROUTES distinct
 * (edgeId, path) routes (the packed frame names a reading's route in one byte) and at most
 * MAX_BATCH_PARTIALS partials (counted as distinct partial digests, an upper bound of those not
 * yet on the ledger). The rows left out stay pending for the next batch. Without it, an edge with
 * more than 255 boards could take a batch no frame carries, and submit it again after every
 * back-off (the evaluation's 400-board point logged "at most 255 distinct (edgeId, path) routes").
 */
export function fitOneBatch<
  R extends { readonly partialDigest: string; readonly submission: { readonly edgeId: string; readonly path: readonly string[] } },
>(rows: R[]): R[] {
  const routes = new Set<string>();
  const partials = new Set<string>();
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i] as R;
    routes.add(routeKey(r.submission));
    partials.add(r.partialDigest);
    if (routes.size > MAX_BATCH_ROUTES || partials.size > MAX_BATCH_PARTIALS) return rows.slice(0, i);
  }
  return rows;
}

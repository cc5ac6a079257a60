/**
 * The provenance follower: fills the provenance database from the ledger, the way a transparency
 * log's derived indexes are filled (STYLE.md: "derived data filled by followers of the log").
 *
 * It tails the ledger's `ReadingsRecorded` events from its cursor; for each, it fetches the
 * transaction's inclusion proof, checks it, reads the readings the transaction carried (their
 * canonical bytes and tags are in the committed transaction), and stores every one with the
 * contract's outcome — committed, or rejected with the reason — and the transaction and block,
 * moving its cursor in the same database transaction. Transactions are stored one at a time in
 * ledger order; the proofs of up to 16 following ones are fetched meanwhile. Applying a block twice changes nothing, so
 * after a crash it resumes at its cursor's block; a database lost or wiped is rebuilt from block 0.
 * Ledger outages are retried with backoff (500 ms doubling to 5 s); nothing is skipped.
 */
import type { InclusionProof, LedgerClient, LedgerEvent } from '../client.js';
import { ProvenantError } from '../../shared/errors.js';
import { EVENTS, parseBatchResult } from '../../shared/records.js';
import type { ProofChecker } from '../auditor/auditor.js';
import { ProofCache } from '../auditor/proof-cache.js';
import type { IngestCounts, ProvenanceDb } from './store.js';
import { callOf, readingsOf } from './tx-args.js';

/** A log sink (pino-compatible subset). */
interface FollowerLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

/** Follower settings. */
export interface FollowerOptions {
  readonly ledger: LedgerClient;
  readonly db: ProvenanceDb;
  /** Checks each transaction's inclusion proof before its bytes are stored. */
  readonly checkProof: ProofChecker;
  /** Cursor name (several followers may share one database). Default 'provenance'. */
  readonly name?: string;
  readonly log?: FollowerLog;
  /** First retry delay after a ledger or database error (doubling up to `retryMaxMs`). Default 500 ms. */
  readonly retryMs?: number;
  /**
   * Longest retry delay. Default 5 s: a follower must not sleep long past the ledger's return
   * (a peer restarted after a 20 s outage is followed again within 5 s, not 30).
   */
  readonly retryMaxMs?: number;
}

/** What the follower has done. */
export interface FollowerStatus {
  readonly running: boolean;
  /** Last block whose reading events were applied (null before the first). */
  readonly lastBlock: number | null;
  readonly transactions: number;
  readonly committed: number;
  readonly rejected: number;
  readonly lastError: string | null;
}

/** Transactions whose inclusion proofs are asked for ahead of the one being stored. */
const PREFETCH = 16;

const quiet: FollowerLog = { info: () => undefined, warn: () => undefined };

/** Tails the ledger into the provenance database. */
export class ProvenanceFollower {
  private readonly name: string;
  private readonly log: FollowerLog;
  private abort: AbortController | undefined;
  private loop: Promise<void> | undefined;
  private lastBlock: number | null = null;
  private transactions = 0;
  private committed = 0;
  private rejected = 0;
  private lastError: string | null = null;
  private readonly listeners = new Set<(tx: { txId: string; blockNumber: number; counts: IngestCounts }) => void>();

  constructor(private readonly options: FollowerOptions) {
    this.name = options.name ?? 'provenance';
    this.log = options.log ?? quiet;
  }

  /** Starts tailing in the background (from the cursor, or block 0). */
  start(): void {
    if (this.loop) return;
    this.abort = new AbortController();
    this.loop = this.run(this.abort.signal);
  }

  /** Stops tailing; resolves when the transaction in hand is stored. */
  async stop(): Promise<void> {
    this.abort?.abort();
    await this.loop;
    this.loop = undefined;
  }

  /** Called after each stored transaction. */
  onIngested(fn: (tx: { txId: string; blockNumber: number; counts: IngestCounts }) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  status(): FollowerStatus {
    return {
      running: this.loop !== undefined,
      lastBlock: this.lastBlock,
      transactions: this.transactions,
      committed: this.committed,
      rejected: this.rejected,
      lastError: this.lastError,
    };
  }

  /** Applies one ReadingsRecorded event (exposed for tests and for a one-shot catch-up). */
  async apply(event: LedgerEvent, prefetched?: Promise<InclusionProof>): Promise<IngestCounts | undefined> {
    if (event.name !== EVENTS.readingsRecorded) return undefined;
    const result = parseBatchResult(new TextDecoder().decode(event.payload));
    // Fetched and checked through the cache the Auditor on this client shares (proof-cache.ts):
    // a question about a reading right after it is stored costs no second fetch or check.
    const proofs = ProofCache.for(this.options.ledger);
    const proof = await (prefetched ?? proofs.get(event.txId));
    const check = proofs.check(proof, this.options.checkProof);
    if (check.ok === false)
      throw new ProvenantError('PROV_ERR_PROOF_INVALID', `transaction ${event.txId}: inclusion proof does not check: ${check.reason}`, {
        txId: event.txId,
      });
    const readings = readingsOf(await callOf(proof));
    const rejected = new Map(result.rejected.map((r) => [r.index, r]));
    const counts = await this.options.db.ingest(this.name, { txId: event.txId, blockNumber: event.blockNumber, readings, rejected });
    this.transactions++;
    this.committed += counts.committed;
    this.rejected += counts.rejected;
    this.lastBlock = event.blockNumber;
    for (const l of this.listeners) l({ txId: event.txId, blockNumber: event.blockNumber, counts });
    return counts;
  }

  private async run(signal: AbortSignal): Promise<void> {
    let delay = this.options.retryMs ?? 500;
    while (!signal.aborted) {
      try {
        const cursor = await this.options.db.cursor(this.name);
        if (cursor !== null) this.lastBlock = cursor;
        this.log.info({ follower: this.name, from: cursor ?? 0 }, 'provenance follower tailing the ledger');
        // Applied one at a time in ledger order, but each transaction's inclusion proof is asked
        // for as soon as its event arrives (up to PREFETCH ahead, kept with the event and put in the shared proof cache):
        // one round trip to a busy ledger per transaction, in series, made the follower fall
        // seconds behind the chain (docs/evaluation.md, Fig. 8).
        const proofs = ProofCache.for(this.options.ledger);
        let chain: Promise<void> = Promise.resolve();
        let queued = 0;
        let failed: { err: unknown } | undefined;
        for await (const event of this.options.ledger.events({ startBlock: cursor ?? 0, signal })) {
          if (signal.aborted) break;
          if (failed) throw failed.err;
          // Kept here, not only in the cache: a proof fetched ahead is used however long it waited.
          const prefetched = event.name === EVENTS.readingsRecorded ? proofs.get(event.txId) : undefined;
          prefetched?.catch(() => undefined);
          queued++;
          chain = chain
            .then(async () => {
              if (failed || signal.aborted) return;
              await this.apply(event, prefetched);
              this.lastError = null;
              delay = this.options.retryMs ?? 500;
            })
            .catch((err: unknown) => {
              failed ??= { err };
            })
            .finally(() => queued--);
          if (queued >= PREFETCH) await chain;
        }
        await chain;
        if (failed) throw failed.err;
        if (signal.aborted) return;
        throw new ProvenantError('PROV_ERR_LEDGER_UNAVAILABLE', 'the ledger ended its event stream');
      } catch (err) {
        if (signal.aborted) return;
        this.lastError = err instanceof Error ? err.message : String(err);
        this.log.warn({ follower: this.name, err: this.lastError, retryInMs: delay }, 'provenance follower: retrying');
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, delay);
          signal.addEventListener(
            'abort',
            () => {
              clearTimeout(t);
              resolve();
            },
            { once: true },
          );
        });
        delay = Math.min(delay * 2, this.options.retryMaxMs ?? 5_000);
      }
    }
  }
}

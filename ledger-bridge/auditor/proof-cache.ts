/**
 * One inclusion proof per transaction, shared by every question about a reading in it.
 *
 * Edges batch hundreds of readings into one `recordBatch` transaction, so the auditor is asked
 * about many readings of the same transaction at once. Without this, each answer fetched the
 * transaction's inclusion proof (on the embedded ledger it carries the whole batch envelope),
 * hashed the envelope again and decoded its write set again: O(batch) work per answer, which made
 * the auditor the bottleneck of the paper's response time (docs/evaluation.md, Fig. 8).
 *
 * The cache keeps, per transaction id, the proof fetched from the ledger (concurrent questions
 * wait for the same fetch), for at most `maxAgeMs` — so an answer's evidence is relative to a head
 * at most that old — and at most `size` transactions (least recently used out). What is derived
 * from a proof alone (its check, the batch root its transaction wrote) is computed once per proof
 * object (`derive`). A fetch that fails is not kept.
 *
 * `ProofCache.for(ledger)` is one cache per ledger client: the provenance follower (which fetches
 * each transaction's proof as it stores it) and every Auditor on that client share it, so a
 * question right after a commit costs no proof fetch at all.
 */
import type { ChainHead, InclusionProof, LedgerClient } from '../client.js';

/** Options of a proof cache. */
export interface ProofCacheOptions {
  /** Transactions kept (default 1024). */
  readonly size?: number;
  /** Longest a fetched proof is reused (ms, default 1000). 0: never reused, only concurrent fetches shared. */
  readonly maxAgeMs?: number;
  /** Clock (ms), for tests. */
  readonly clock?: () => number;
}

interface Entry {
  readonly at: number;
  readonly proof: Promise<InclusionProof>;
}

const perClient = new WeakMap<LedgerClient, ProofCache>();

/** A number per proof checker, so a check cached for one checker is never reused for another. */
const checkerIds = new WeakMap<object, number>();
let nextCheckerId = 0;
const checkerId = (c: object): number => {
  let id = checkerIds.get(c);
  if (id === undefined) {
    id = ++nextCheckerId;
    checkerIds.set(c, id);
  }
  return id;
};

/** Inclusion proofs by transaction id, fetched once and shared. */
export class ProofCache {
  private readonly entries = new Map<string, Entry>();
  private readonly derived = new WeakMap<InclusionProof, Map<string, unknown>>();
  private readonly size: number;
  private readonly maxAgeMs: number;
  private readonly clock: () => number;
  /** Proofs fetched from the ledger, and answers served from the cache (metrics, tests). */
  readonly stats = { fetched: 0, shared: 0 };

  constructor(
    private readonly ledger: LedgerClient,
    options: ProofCacheOptions = {},
  ) {
    this.size = options.size ?? 1024;
    this.maxAgeMs = options.maxAgeMs ?? 1000;
    this.clock = options.clock ?? Date.now;
    if (!Number.isInteger(this.size) || this.size < 1) throw new RangeError(`proof cache size must be an integer >= 1, got ${this.size}`);
    if (!(this.maxAgeMs >= 0)) throw new RangeError(`proof cache maxAgeMs must be >= 0, got ${this.maxAgeMs}`);
  }

  /** The cache every user of `ledger` shares (created on first use with the defaults). */
  static for(ledger: LedgerClient): ProofCache {
    let c = perClient.get(ledger);
    if (!c) {
      c = new ProofCache(ledger);
      perClient.set(ledger, c);
    }
    return c;
  }

  /** The inclusion proof of `txId`: a recent one from the cache, or fetched (once, however many ask). */
  get(txId: string): Promise<InclusionProof> {
    const t = this.clock();
    const hit = this.entries.get(txId);
    if (hit && t - hit.at <= this.maxAgeMs) {
      // Most recently used last.
      this.entries.delete(txId);
      this.entries.set(txId, hit);
      this.stats.shared++;
      return hit.proof;
    }
    this.stats.fetched++;
    const proof = this.ledger.inclusionProof(txId);
    const entry: Entry = { at: t, proof };
    this.entries.delete(txId);
    this.entries.set(txId, entry);
    proof.catch(() => {
      if (this.entries.get(txId) === entry) this.entries.delete(txId);
    });
    while (this.entries.size > this.size) this.entries.delete(this.entries.keys().next().value as string);
    return proof;
  }

  /**
   * `compute()` once per (proof, key): for what depends on the proof alone (a check of it against
   * a given trusted head, the batch root its transaction wrote). Kept as long as the proof is.
   */
  derive<T>(proof: InclusionProof, key: string, compute: () => T): T {
    let m = this.derived.get(proof);
    if (!m) {
      m = new Map();
      this.derived.set(proof, m);
    }
    if (m.has(key)) return m.get(key) as T;
    const v = compute();
    m.set(key, v);
    return v;
  }

  /** `checker(proof, trusted)`, once per (proof, checker, trusted head). */
  check<V>(proof: InclusionProof, checker: (proof: InclusionProof, trusted?: ChainHead) => V, trusted?: ChainHead): V {
    const t = trusted === undefined ? '-' : `${trusted.height}:${trusted.hash}`;
    return this.derive(proof, `check:${checkerId(checker)}:${t}`, () => checker(proof, trusted));
  }
}

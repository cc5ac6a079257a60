/**
 * The embedded ledger: Fabric's execute-order-validate flow on one machine.
 *
 *   submit → simulate the contract against committed state (read set with versions, write set,
 *   private writes, event) → queue at the orderer → cut a block by count, bytes or timeout →
 *   MVCC-validate every transaction in block order (a read whose version changed, also by an
 *   earlier transaction of the same block, invalidates it: MVCC_READ_CONFLICT; a range whose
 *   result changed: PHANTOM_READ_CONFLICT) → seal the block (Merkle root over tx hashes, hash
 *   chain, chain-tree root) → one SQLite transaction → resolve the submitters → emit events.
 *
 * Submit resolves only after the block holding the transaction is committed to disk. The SQLite
 * write runs on a commit worker (committer.ts) while the next transactions simulate against the
 * sealed block through the store's in-flight overlay; one block is written at a time, and what
 * queues meanwhile forms the next block (group commit). See docs/ledger.md.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { ChainHead, CommitResult, InclusionProof, LedgerEvent, Proposal } from '../client.js';
import { ProvenantError, toErrorCode } from '../../shared/errors.js';
import { toHex } from '../../shared/encoding/hex.js';
import {
  type BlockHeader,
  TX_PER_BLOCK_LIMIT,
  type TxEnvelopeMaps,
  ValidationCode,
  encodeEnvelopeMaps,
  encodeHeader,
  validationCodeName,
  versionOf,
} from './codec.js';
import { ContractHost, type ContractClass } from './host.js';
import { DEFAULT_IDENTITIES, type EmbeddedIdentity, findIdentity } from './identity.js';
import { inRange } from './keys.js';
import { EMPTY_ROOT, consistencyPath, inclusionPath, leafHash, merkleRoot, subtreeFromLeaves } from './merkle.js';
import type { ConsistencyProof, EmbeddedInclusionEvidence } from './proofs.js';
import { EmbeddedStub, type Simulation, type Versioned } from './stub.js';
import { Committer } from './committer.js';
import { CryptoPool } from './crypto-pool.js';
import { type EndorserOptions, Endorsers } from './endorsers.js';
import { type BlockWrite, LedgerStore, type StoredEvent, type SyncMode, openDatabase, protectLedgerFiles, sha256Native } from './store.js';
import { SCHEMA } from './writer.js';
import { DepositCipher, defaultDepositKeyFile, resolveDepositKey } from './deposit-key.js';

/** Options of an embedded ledger. */
export interface EmbeddedLedgerOptions {
  /** SQLite file (created if missing). */
  readonly path: string;
  /** The contract classes to run (ledger-bridge/contracts `contracts`). */
  readonly contracts: readonly ContractClass[];
  readonly identities?: readonly EmbeddedIdentity[];
  readonly channelId?: string;
  /** Block cut at this many transactions (default 500). */
  readonly blockMaxTx?: number;
  /** ...or at this many payload bytes (default 8 MiB)... */
  readonly blockMaxBytes?: number;
  /** ...or this long after the first pending transaction (default 2 ms). */
  readonly blockTimeoutMs?: number;
  /** 'full' (default): fsync every block; 'normal': fsync at WAL checkpoints (see docs/ledger.md). */
  readonly sync?: SyncMode;
  readonly cacheEntries?: number;
  /**
   * Commit blocks on a worker thread (default true): the SQLite write and its fsync overlap the
   * simulation of the next transactions instead of blocking the event loop.
   */
  readonly commitWorker?: boolean;
  /**
   * Simulate submitted transactions on endorser threads (default: none, on the ledger thread).
   * They load the contract classes from `module`'s export (the classes themselves cannot cross
   * threads) and read the chain on disk; MVCC validation on the ledger thread catches any read
   * that a block not yet on disk changed. evaluate() always runs on the ledger thread.
   */
  readonly endorsers?: EndorserOptions;
  /**
   * Run DataProvenance's per-reading tag checks and hashing on this many validation threads
   * (crypto-pool.ts) instead of the ledger thread (default 0: on the ledger thread).
   */
  readonly validationThreads?: number;
  /** Clock for tx and block timestamps (ms). */
  readonly clock?: () => number;
  /** Open a format-2 file too (migrate.ts only: it converts it and then marks it format 3). */
  readonly migrating?: boolean;
  /**
   * The key that seals private data (K_IoT deposits) at rest, 32 bytes; else env
   * PROVENANT_DEPOSIT_KEY, else `depositKeyFile` (default `<path>.deposit-key`, created for a new
   * ledger). See deposit-key.ts.
   */
  readonly depositKey?: Uint8Array;
  readonly depositKeyFile?: string;
}

interface Endorsed {
  readonly txId: string;
  readonly timestamp: number;
  readonly identity: EmbeddedIdentity;
  readonly proposal: EngineProposal;
  readonly simulation: Simulation;
  readonly payload: Uint8Array;
  readonly bytes: number;
  readonly resolve: (r: CommitResult) => void;
  readonly reject: (e: Error) => void;
}

type BlockListener = (blockNumber: number, events: readonly LedgerEvent[]) => void;

/** Counters the HTTP server exports as Prometheus metrics. */
export interface LedgerStats {
  blocks: number;
  txValid: number;
  txInvalid: number;
  endorsementFailures: number;
  lastBlockTxs: number;
  /** ms from cutting the last block to having it on disk. */
  lastCommitMs: number;
  /** Total ms the ledger thread spent validating and sealing blocks (with no worker: also writing them). */
  sealMsTotal: number;
}

/** A proposal to any hosted contract (Proposal restricts `contract` to Provenant's four). */
export type EngineProposal = Omit<Proposal, 'contract'> & { readonly contract: string };

function checkProposal(p: EngineProposal): void {
  if (!p || typeof p !== 'object') throw new TypeError('proposal must be an object');
  if (typeof p.contract !== 'string' || p.contract === '') throw new TypeError('proposal.contract must be a non-empty string');
  if (typeof p.fn !== 'string' || p.fn === '') throw new TypeError('proposal.fn must be a non-empty string');
  if (!Array.isArray(p.args) || !p.args.every((a) => typeof a === 'string' || a instanceof Uint8Array))
    throw new TypeError('proposal.args must be an array of strings or Uint8Arrays');
  if (p.transient !== undefined) {
    if (typeof p.transient !== 'object' || p.transient === null)
      throw new TypeError('proposal.transient must be an object of Uint8Array values');
    for (const [k, v] of Object.entries(p.transient))
      if (!(v instanceof Uint8Array)) throw new TypeError(`proposal.transient.${k} must be a Uint8Array`);
  }
}

/** Converts a stored event row to the LedgerClient shape. */
function toLedgerEvent(e: StoredEvent): LedgerEvent {
  return { blockNumber: e.block, txId: e.txId, contract: e.contract, name: e.name, payload: e.payload };
}

/** An open embedded ledger. */
export class EmbeddedLedger {
  readonly stats: LedgerStats = {
    blocks: 0,
    txValid: 0,
    txInvalid: 0,
    endorsementFailures: 0,
    lastBlockTxs: 0,
    lastCommitMs: 0,
    sealMsTotal: 0,
  };
  private pending: Endorsed[] = [];
  private pendingBytes = 0;
  private timer: NodeJS.Timeout | null = null;
  /** Next block number to seal, and the last sealed block's hash. */
  private height: number;
  private lastHash: Uint8Array;
  /** The chain on disk: what head(), proofs and event replay report. */
  private durableHeight: number;
  private durableHash: Uint8Array;
  /** Resolves when every block sealed so far is on disk (or failed). */
  private lastWrite: Promise<void> = Promise.resolve();
  /** Blocks handed to the commit worker and not yet on disk. */
  private writing = 0;
  /** Transactions being simulated: when none is, nothing can join the block, so it is cut at once. */
  private simulating = 0;
  private immediate: NodeJS.Immediate | null = null;
  private failure: ProvenantError | null = null;
  private closed = false;
  private readonly listeners = new Set<BlockListener>();
  private readonly channelId: string;
  private readonly blockMaxTx: number;
  private readonly blockMaxBytes: number;
  private readonly blockTimeoutMs: number;
  private readonly clock: () => number;

  private constructor(
    private readonly store: LedgerStore,
    private readonly host: ContractHost,
    readonly identities: readonly EmbeddedIdentity[],
    options: EmbeddedLedgerOptions,
    private committer: Committer | null = null,
    private endorsers: Endorsers | null = null,
    private cryptoPool: CryptoPool | null = null,
  ) {
    this.channelId = options.channelId ?? 'provenant';
    this.blockMaxTx = options.blockMaxTx ?? 500;
    this.blockMaxBytes = options.blockMaxBytes ?? 8 * 1024 * 1024;
    this.blockTimeoutMs = options.blockTimeoutMs ?? 2;
    this.clock = options.clock ?? Date.now;
    if (!Number.isInteger(this.blockMaxTx) || this.blockMaxTx < 1 || this.blockMaxTx > TX_PER_BLOCK_LIMIT) {
      throw new RangeError(`blockMaxTx must be 1..${TX_PER_BLOCK_LIMIT}, got ${this.blockMaxTx}`);
    }
    if (!(this.blockTimeoutMs >= 0)) throw new RangeError(`blockTimeoutMs must be ≥ 0, got ${this.blockTimeoutMs}`);
    const last = store.last();
    if (last === null) {
      const genesis = this.sealGenesis();
      this.height = 1;
      this.lastHash = genesis;
    } else {
      this.height = last.number + 1;
      this.lastHash = last.hash;
    }
    this.durableHeight = this.height;
    this.durableHash = this.lastHash;
  }

  /** Opens (or creates) the ledger at options.path; recovers from any crash by SQLite's WAL rollback. */
  static async open(options: EmbeddedLedgerOptions): Promise<EmbeddedLedger> {
    const host = new ContractHost(options.contracts);
    const db = await openDatabase(options.path);
    let ledger: EmbeddedLedger;
    let depositKey: Uint8Array;
    try {
      // A key file may be created only while the database has sealed nothing under another key.
      db.exec(SCHEMA);
      const sealed = db.prepare("SELECT v FROM meta WHERE k = 'depositKeyCheck'").pluck().get() !== undefined;
      depositKey = resolveDepositKey(options.path, options, !sealed);
      const store = new LedgerStore(db, {
        sync: options.sync ?? 'full',
        migrating: options.migrating === true,
        cipher: new DepositCipher(depositKey),
        name: options.path,
        ...(options.cacheEntries ? { cacheEntries: options.cacheEntries } : {}),
      });
      protectLedgerFiles(
        options.path,
        options.depositKey === undefined ? [options.depositKeyFile ?? defaultDepositKeyFile(options.path)] : [],
      );
      ledger = new EmbeddedLedger(store, host, options.identities ?? DEFAULT_IDENTITIES, options);
    } catch (err) {
      db.close();
      throw err;
    }
    try {
      if (options.commitWorker !== false) ledger.committer = await Committer.start(options.path, options.sync ?? 'full', depositKey);
      if (options.endorsers) ledger.endorsers = await Endorsers.start(options.path, ledger.channelId, options.endorsers, depositKey);
      if ((options.validationThreads ?? 0) > 0) ledger.cryptoPool = await CryptoPool.start(options.validationThreads as number);
    } catch (err) {
      await ledger.close();
      throw err;
    }
    return ledger;
  }

  private sealGenesis(): Uint8Array {
    const header: BlockHeader = {
      number: 0,
      timestamp: this.clock(),
      txCount: 0,
      previousHash: new Uint8Array(32),
      dataHash: EMPTY_ROOT,
      chainRoot: EMPTY_ROOT,
    };
    const headerBytes = encodeHeader(header);
    const hash = sha256Native(headerBytes);
    this.store.commitSync({
      header,
      headerBytes,
      hash,
      txs: [],
      state: new Map(),
      replaced: [],
      superseded: [],
      privateWrites: [],
      events: [],
      nodes: [{ level: 0, idx: 0, hash: leafHash(hash) }],
    });
    return hash;
  }

  /** The current head on disk: height (blocks incl. genesis) and the last header's hash. */
  head(): ChainHead {
    return { height: this.durableHeight, hash: toHex(this.durableHash) };
  }

  /** Transactions waiting for the next block. */
  pendingCount(): number {
    return this.pending.length;
  }

  private ensureOpen(): void {
    if (this.closed) throw new ProvenantError('PROV_ERR_LEDGER_CLOSED', 'the embedded ledger is closed');
    if (this.failure) throw this.failure;
  }

  private async simulate(identityName: string, submitted: EngineProposal, onEndorser = false) {
    this.ensureOpen();
    checkProposal(submitted);
    // Binary arguments are copied once: the contract reads them in place and the block stores
    // them after simulation, so a caller reusing its buffer cannot change what was endorsed.
    const proposal = submitted.args.some((a) => typeof a !== 'string')
      ? { ...submitted, args: submitted.args.map((a) => (typeof a === 'string' ? a : Buffer.from(a))) }
      : submitted;
    const identity = findIdentity(this.identities, identityName);
    const timestamp = this.clock();
    const txId = createHash('sha256').update(randomBytes(24)).update(identity.id).digest('hex');
    const transient = new Map(Object.entries(proposal.transient ?? {}));
    const stub = new EmbeddedStub(this.store.reader(), {
      txId,
      channelId: this.channelId,
      timestamp,
      identity,
      args: [`${proposal.contract}:${proposal.fn}`, ...proposal.args],
      transient,
    });
    if (this.cryptoPool !== null) stub.batchCrypto = this.cryptoPool;
    this.simulating++;
    let outcome;
    let simulation: Simulation = stub.simulation;
    try {
      if (onEndorser && this.endorsers) {
        const r = await this.endorsers.endorse({
          txId,
          timestamp,
          identity,
          contract: proposal.contract,
          fn: proposal.fn,
          args: proposal.args,
          transient: proposal.transient ?? {},
        });
        outcome = r.outcome;
        if (r.simulation) simulation = r.simulation;
      } else {
        outcome = await this.host.invoke(stub, identity, proposal.contract, proposal.fn, proposal.args);
      }
    } finally {
      this.simulating--;
    }
    if (!outcome.ok) {
      this.stats.endorsementFailures++;
      throw new ProvenantError('PROV_ERR_ENDORSEMENT', outcome.message, {
        txId,
        contract: proposal.contract,
        fn: proposal.fn,
        ...(outcome.contractCode ? { contractCode: outcome.contractCode } : {}),
      });
    }
    return { txId, timestamp, identity, simulation, payload: outcome.payload, proposal };
  }

  /** Runs a function against committed state without ordering it (Fabric's evaluate). */
  async evaluate(identityName: string, proposal: Omit<EngineProposal, 'transient'>): Promise<Uint8Array> {
    return (await this.simulate(identityName, proposal)).payload;
  }

  /** Endorses, orders and commits; resolves after the block holding the transaction is on disk. */
  async submit(identityName: string, submitted: EngineProposal): Promise<CommitResult> {
    const sim = await this.simulate(identityName, submitted, true);
    const proposal = sim.proposal;
    this.ensureOpen();
    let bytes = sim.payload.length;
    for (const a of proposal.args) bytes += a.length;
    for (const v of sim.simulation.writes.values()) bytes += v === null ? 0 : v.length;
    return new Promise<CommitResult>((resolve, reject) => {
      this.pending.push({ ...sim, proposal, bytes, resolve, reject });
      this.pendingBytes += bytes;
      if (this.writing > 0) return; // group commit: the next block is cut when the disk is free
      if (this.pending.length >= this.blockMaxTx || this.pendingBytes >= this.blockMaxBytes) this.cut();
      else if (this.simulating === 0) {
        // Nothing else is being endorsed, so nothing could join: cut after this tick instead of
        // waiting out the timeout (transactions submitted in the same tick still join).
        this.immediate ??= setImmediate(() => {
          this.immediate = null;
          if (this.writing === 0) this.cut();
        });
      } else if (this.timer === null) this.timer = setTimeout(() => this.cut(), this.blockTimeoutMs);
    });
  }

  /** Cuts and commits the pending transactions (also called by the timer). */
  private cut(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    while (this.pending.length > 0 && (this.writing === 0 || this.closed)) {
      let n = 0;
      let bytes = 0;
      while (
        n < this.pending.length &&
        n < this.blockMaxTx &&
        (n === 0 || bytes + (this.pending[n] as Endorsed).bytes <= this.blockMaxBytes)
      ) {
        bytes += (this.pending[n] as Endorsed).bytes;
        n++;
      }
      const batch = this.pending.splice(0, n);
      this.pendingBytes -= bytes;
      this.commitBlock(batch);
      // Keep a partial remainder for the next timeout so it can fill up.
      if (this.pending.length < this.blockMaxTx && this.pendingBytes < this.blockMaxBytes) break;
    }
    if (this.pending.length > 0 && this.timer === null && this.writing === 0)
      this.timer = setTimeout(() => this.cut(), this.blockTimeoutMs);
  }

  /** The key's version after the block's earlier valid transactions (`overlay`: their writes). */
  private currentVersion(key: string, overlay: ReadonlyMap<string, Versioned>): number {
    const v = overlay.get(key);
    return v !== undefined ? v.version : this.store.getState(key).version;
  }

  private validate(tx: Endorsed, seen: Set<string>, overlay: ReadonlyMap<string, Versioned>, privateOverlay: Map<string, number>): number {
    if (seen.has(tx.txId) || this.store.hasTx(tx.txId)) return ValidationCode.DUPLICATE_TXID;
    for (const [key, version] of tx.simulation.reads)
      if (this.currentVersion(key, overlay) !== version) return ValidationCode.MVCC_READ_CONFLICT;
    for (const [id, r] of tx.simulation.privateReads) {
      const cur = privateOverlay.get(id) ?? this.store.getPrivate(r.collection, r.key).version;
      if (cur !== r.version) return ValidationCode.MVCC_READ_CONFLICT;
    }
    for (const q of tx.simulation.ranges) {
      // Re-execute the range (Fabric's phantom check): same keys, same versions, no new writes in it.
      const now = this.store.rangeState(q.start, q.end);
      if (now.length !== q.results.length) return ValidationCode.PHANTOM_READ_CONFLICT;
      for (let i = 0; i < now.length; i++) {
        const a = now[i] as { key: string; version: number };
        const b = q.results[i] as { key: string; version: number };
        if (a.key !== b.key || a.version !== b.version) return ValidationCode.PHANTOM_READ_CONFLICT;
      }
      for (const key of overlay.keys()) if (inRange(key, q.start, q.end)) return ValidationCode.PHANTOM_READ_CONFLICT;
    }
    return ValidationCode.VALID;
  }

  private commitBlock(batch: Endorsed[]): void {
    const started = performance.now();
    const number = this.height;
    const privateOverlay = new Map<string, number>();
    const seen = new Set<string>();
    // The block's final state per key; also the overlay validation reads earlier writes from.
    const state = new Map<string, Versioned>();
    // History rows of writes a later transaction of this block superseded; every final state
    // entry is a history row too, which the writer adds (no object per key here).
    const superseded: { key: string; version: number; deleted: boolean }[] = [];
    const privateWrites: { collection: string; key: string; version: number; value: Uint8Array | null }[] = [];
    const events: StoredEvent[] = [];
    const txs: { block: number; index: number; txId: string; code: number; envelope: Uint8Array; hash: Uint8Array }[] = [];
    const written: { version: number; valueAt: Map<string, number> }[] = [];
    const codes: number[] = [];
    batch.forEach((tx, index) => {
      const code = this.validate(tx, seen, state, privateOverlay);
      seen.add(tx.txId);
      codes.push(code);
      const version = versionOf(number, index);
      const sim = tx.simulation;
      if (code === ValidationCode.VALID) {
        for (const [key, value] of sim.writes) {
          const before = state.get(key);
          if (before !== undefined) superseded.push({ key, version: before.version, deleted: before.value === null });
          state.set(key, { version, value });
        }
        for (const [id, w] of sim.privateWrites) {
          privateOverlay.set(id, version);
          privateWrites.push({ collection: w.collection, key: w.key, version, value: w.value });
        }
        if (sim.event)
          events.push({
            block: number,
            index,
            txId: tx.txId,
            contract: tx.proposal.contract,
            name: sim.event.name,
            payload: sim.event.payload,
          });
      }
      const envelope: TxEnvelopeMaps = {
        txId: tx.txId,
        timestamp: tx.timestamp,
        mspId: tx.identity.mspId,
        creator: tx.identity.id,
        contract: tx.proposal.contract,
        fn: tx.proposal.fn,
        args: tx.proposal.args,
        reads: sim.reads,
        ranges: sim.ranges,
        writes: sim.writes,
        privateReads: [...sim.privateReads.values()].map((r) => ({
          collection: r.collection,
          keyHash: sha256Native(r.key),
          version: r.version,
        })),
        privateWrites: [...sim.privateWrites.values()].map((w) => ({
          collection: w.collection,
          keyHash: sha256Native(w.key),
          valueHash: w.value === null ? null : sha256Native(w.value),
        })),
        event: sim.event,
        result: tx.payload,
        code,
      };
      // A valid transaction's large values are stored once, in its envelope (refs below).
      const valueAt = code === ValidationCode.VALID ? new Map<string, number>() : undefined;
      const bytes = encodeEnvelopeMaps(envelope, valueAt);
      if (valueAt !== undefined && valueAt.size > 0) written.push({ version, valueAt });
      txs.push({ block: number, index, txId: tx.txId, code, envelope: bytes, hash: sha256Native(bytes) });
    });
    // State rows of large final values refer to the envelope that holds them (the row's version
    // names that transaction) instead of holding a copy: a batch record is stored once.
    const refs = new Map<string, number>();
    for (const { version, valueAt } of written)
      for (const [key, ref] of valueAt) if ((state.get(key) as Versioned).version === version) refs.set(key, ref);
    // Keys that may have a version from an earlier block: the writer moves it into history.
    const replaced: string[] = [];
    for (const key of state.keys()) if (this.store.mightExist(key)) replaced.push(key);
    const header: BlockHeader = {
      number,
      timestamp: this.clock(),
      txCount: txs.length,
      previousHash: this.lastHash,
      dataHash: merkleRoot(txs.map((t) => leafHash(t.hash))),
      chainRoot: this.store.subtree()(0, number),
    };
    const headerBytes = encodeHeader(header);
    const hash = sha256Native(headerBytes);
    const block: BlockWrite = {
      header,
      headerBytes,
      hash,
      txs,
      state,
      refs,
      replaced,
      superseded,
      privateWrites,
      events,
      nodes: this.store.nodesForAppend(number, leafHash(hash)),
    };
    const committer = this.committer;
    if (committer === null) {
      try {
        this.store.commitSync(block);
        this.stats.sealMsTotal += performance.now() - started;
      } catch (err) {
        this.fail(
          new ProvenantError('PROV_ERR_STORAGE', `block ${number} could not be written: ${(err as Error).message}`, { cause: err }),
          batch,
        );
        return;
      }
      this.height = number + 1;
      this.lastHash = hash;
      this.durable(block, batch, codes, started);
      return;
    }
    // Visible to reads and validation now; acknowledged once the worker has it on disk.
    this.store.stage(block);
    this.stats.sealMsTotal += performance.now() - started;
    this.height = number + 1;
    this.lastHash = hash;
    this.writing++;
    this.lastWrite = committer.write(block).then(
      () => {
        this.writing--;
        this.store.settle(block);
        this.durable(block, batch, codes, started);
        // Group commit: what queued up while the disk was busy goes into the next block now.
        if (this.pending.length > 0 && !this.failure) this.cut();
      },
      (err: Error) => {
        this.writing--;
        this.fail(new ProvenantError('PROV_ERR_STORAGE', `block ${number} could not be written: ${err.message}`, { cause: err }), batch);
      },
    );
  }

  /**
   * Fail-stop after a storage error: sealed state may be ahead of the disk, so the ledger takes
   * no more work; reopening continues from the last block on disk.
   */
  private fail(error: ProvenantError, batch: readonly Endorsed[]): void {
    this.failure ??= error;
    for (const tx of batch) tx.reject(error);
    for (const tx of this.pending.splice(0)) tx.reject(error);
    this.pendingBytes = 0;
  }

  /** A block is on disk: advance the durable head, answer its submitters, emit its events. */
  private durable(block: BlockWrite, batch: readonly Endorsed[], codes: readonly number[], started: number): void {
    const number = block.header.number;
    this.durableHeight = number + 1;
    this.durableHash = block.hash;
    this.stats.blocks++;
    this.stats.lastBlockTxs = batch.length;
    this.stats.lastCommitMs = performance.now() - started;
    batch.forEach((tx, i) => {
      const code = codes[i] as number;
      if (code === ValidationCode.VALID) {
        this.stats.txValid++;
        tx.resolve({ txId: tx.txId, blockNumber: number, result: tx.payload });
      } else {
        this.stats.txInvalid++;
        const name = validationCodeName(code);
        tx.reject(
          new ProvenantError(
            toErrorCode(`PROV_ERR_${name}`) ?? 'PROV_ERR_COMMIT',
            `transaction ${tx.txId} invalidated in block ${number}: ${name}`,
            {
              txId: tx.txId,
              blockNumber: number,
              validationCode: code,
            },
          ),
        );
      }
    });
    const ledgerEvents = block.events.map(toLedgerEvent);
    for (const l of this.listeners) l(number, ledgerEvents);
  }

  /**
   * Chaincode events of valid transactions from `startBlock` on: replayed from disk, then live
   * (unless `follow` is false: then it ends once caught up with the head).
   */
  async *events(options: { startBlock?: number; signal?: AbortSignal; follow?: boolean } = {}): AsyncGenerator<LedgerEvent> {
    const { signal } = options;
    let next = options.startBlock ?? 0;
    if (!Number.isInteger(next) || next < 0) throw new RangeError(`startBlock must be a non-negative integer, got ${next}`);
    // Replay in chunks; height is re-read after every chunk, so blocks committed meanwhile are not missed.
    while (next < this.durableHeight) {
      if (signal?.aborted || this.closed) return;
      const to = Math.min(this.durableHeight, next + 256);
      const rows = this.store.eventsBetween(next, to);
      next = to;
      for (const e of rows) yield toLedgerEvent(e);
    }
    if (options.follow === false) return;
    // Caught up: from here on, blocks arrive through a listener registered in the same tick.
    const queue: LedgerEvent[] = [];
    let wake: (() => void) | null = null;
    const listener: BlockListener = (blockNumber, events) => {
      if (blockNumber < next) return;
      queue.push(...events);
      next = blockNumber + 1;
      wake?.();
    };
    const onAbort = (): void => wake?.();
    this.listeners.add(listener);
    signal?.addEventListener('abort', onAbort);
    try {
      for (;;) {
        while (queue.length > 0) yield queue.shift() as LedgerEvent;
        if (signal?.aborted || this.closed) return;
        await new Promise<void>((r) => {
          wake = r;
        });
        wake = null;
      }
    } finally {
      this.listeners.delete(listener);
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /** Evidence that `txId` is on the chain, relative to the current head (see proofs.ts). */
  inclusionProof(txId: string): InclusionProof {
    this.ensureOpen();
    const tx = this.store.tx(txId);
    if (!tx) throw new ProvenantError('PROV_ERR_TX_NOT_FOUND', `transaction ${txId} is not on the chain`, { txId });
    const headNumber = this.durableHeight - 1;
    const block = this.store.block(tx.block);
    const head = this.store.block(headNumber);
    if (!block || !head)
      throw new ProvenantError('PROV_ERR_LEDGER_CORRUPT', `block ${tx.block} or head ${headNumber} is missing`, { txId });
    const leaves = this.store.txHashesOf(tx.block).map(leafHash);
    const evidence: EmbeddedInclusionEvidence = {
      txIndex: tx.index,
      envelope: toHex(tx.envelope),
      txPath: inclusionPath(tx.index, leaves.length, subtreeFromLeaves(leaves)).map(toHex),
      blockHeader: toHex(block.headerBytes),
      blockPath: tx.block === headNumber ? [] : inclusionPath(tx.block, headNumber, this.store.subtree()).map(toHex),
      headHeader: toHex(head.headerBytes),
    };
    return { txId, blockNumber: tx.block, evidence, head: { height: this.durableHeight, hash: toHex(head.hash) } };
  }

  /** Evidence that the current chain (or the one of height `toHeight`) extends the one of height `fromHeight`. */
  consistencyProof(fromHeight: number, toHeight: number = this.durableHeight): ConsistencyProof {
    this.ensureOpen();
    if (
      !Number.isInteger(fromHeight) ||
      !Number.isInteger(toHeight) ||
      fromHeight < 1 ||
      toHeight < fromHeight ||
      toHeight > this.durableHeight
    ) {
      throw new RangeError(`consistency proof needs 1 ≤ from (${fromHeight}) ≤ to (${toHeight}) ≤ height (${this.durableHeight})`);
    }
    const first = this.store.block(fromHeight - 1);
    const second = this.store.block(toHeight - 1);
    if (!first || !second) throw new ProvenantError('PROV_ERR_LEDGER_CORRUPT', `block ${fromHeight - 1} or ${toHeight - 1} is missing`);
    const subtree = this.store.subtree();
    const same = fromHeight === toHeight;
    return {
      first: { height: fromHeight, hash: toHex(first.hash) },
      second: { height: toHeight, hash: toHex(second.hash) },
      firstHeader: toHex(first.headerBytes),
      secondHeader: toHex(second.headerBytes),
      path: same ? [] : consistencyPath(fromHeight - 1, toHeight - 1, subtree).map(toHex),
      firstBlockPath: same ? [] : inclusionPath(fromHeight - 1, toHeight - 1, subtree).map(toHex),
    };
  }

  /** A block's header (hex-encodable fields) and its transactions' ids, codes and hashes. */
  block(n: number): { header: BlockHeader; hash: string; txs: { txId: string; code: number; hash: string }[] } | null {
    const b = this.store.block(n);
    if (!b) return null;
    return {
      header: b.header,
      hash: toHex(b.hash),
      txs: this.store.txsOf(n).map((t) => ({ txId: t.txId, code: t.code, hash: toHex(t.hash) })),
    };
  }

  /** Commits what is pending, waits for the disk, then closes the database (checkpointing the WAL). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== null) clearTimeout(this.timer);
    if (this.immediate !== null) clearImmediate(this.immediate);
    // Drain: each write's completion cuts the next block from what is pending.
    while (this.pending.length > 0 && !this.failure) {
      if (this.writing === 0) this.cut();
      await this.lastWrite;
    }
    await this.lastWrite;
    await this.committer?.close();
    await this.endorsers?.close();
    await this.cryptoPool?.close();
    for (const l of this.listeners) l(this.durableHeight, []);
    this.store.close();
  }
}

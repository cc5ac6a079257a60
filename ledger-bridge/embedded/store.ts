/**
 * Durable storage of the embedded ledger: one SQLite file in WAL mode (better-sqlite3), one
 * SQLite transaction per block. Blocks, transactions (envelope, hash, validation code), world
 * state (value + version), key history, private data (values only here; blocks hold hashes),
 * events and the chain Merkle tree's complete nodes. A kill -9 leaves either the whole block or
 * none of it; reopening needs no repair beyond SQLite's own WAL recovery.
 *
 * State is a rowid table with a unique key index rather than WITHOUT ROWID: its values (reading
 * records, ~450 bytes) are large for a clustered b-tree, and the rowid layout inserts ~1.7× faster
 * here (measured). History rows are small, so they stay clustered by (key, version).
 *
 * Node-only (better-sqlite3, node:crypto). Reads go through a bounded cache of hot keys with
 * their versions; the ledger is the only writer, so the cache is updated on commit and never stale.
 */
import { createHash } from 'node:crypto';
import type BetterSqlite3 from 'better-sqlite3';
import { type BlockHeader, decodeEnvelope, decodeHeader, splitVersion } from './codec.js';
import { KeyFilter } from './keyfilter.js';
import { EMPTY_ROOT, nodeHash, splitPoint, type SubtreeHash } from './merkle.js';
import { type KeyModification, type StateReader, type Versioned, type VersionedKV, timestampOf } from './stub.js';

/** Durability of a commit: FULL fsyncs the WAL on every block, NORMAL only at checkpoints. */
export type SyncMode = 'full' | 'normal';

/** A transaction row as stored. */
export interface StoredTx {
  readonly block: number;
  readonly index: number;
  readonly txId: string;
  readonly code: number;
  readonly envelope: Uint8Array;
  readonly hash: Uint8Array;
}

/** Everything one block commit writes, prepared by the ledger before the SQLite transaction. */
export interface BlockWrite {
  readonly header: BlockHeader;
  readonly headerBytes: Uint8Array;
  readonly hash: Uint8Array;
  readonly txs: readonly StoredTx[];
  /** Final state per key after the block's valid transactions (null value: deleted). */
  readonly state: ReadonlyMap<string, Versioned>;
  /** One row per write of a valid transaction. */
  readonly history: readonly { key: string; version: number; deleted: boolean }[];
  readonly privateWrites: readonly { collection: string; key: string; version: number; value: Uint8Array | null }[];
  readonly events: readonly StoredEvent[];
}

/** A chaincode event of a valid transaction, as stored. */
export interface StoredEvent {
  readonly block: number;
  readonly index: number;
  readonly txId: string;
  readonly contract: string;
  readonly name: string;
  readonly payload: Uint8Array;
}

const ABSENT: Versioned = Object.freeze({ version: 0, value: null });

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS blocks (number INTEGER PRIMARY KEY, header BLOB NOT NULL, hash BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS txs (block INTEGER NOT NULL, idx INTEGER NOT NULL, tx_id TEXT NOT NULL UNIQUE, code INTEGER NOT NULL,
  envelope BLOB NOT NULL, hash BLOB NOT NULL, PRIMARY KEY (block, idx)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS state (key TEXT NOT NULL UNIQUE, version INTEGER NOT NULL, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS history (key TEXT NOT NULL, version INTEGER NOT NULL, deleted INTEGER NOT NULL, PRIMARY KEY (key, version)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS private (collection TEXT NOT NULL, key TEXT NOT NULL, version INTEGER NOT NULL, value BLOB NOT NULL,
  PRIMARY KEY (collection, key)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS events (block INTEGER NOT NULL, idx INTEGER NOT NULL, tx_id TEXT NOT NULL, contract TEXT NOT NULL, name TEXT NOT NULL, payload BLOB NOT NULL,
  PRIMARY KEY (block, idx)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS tree (level INTEGER NOT NULL, idx INTEGER NOT NULL, hash BLOB NOT NULL, PRIMARY KEY (level, idx)) WITHOUT ROWID;
`;

/** Store format, kept in meta so a future change can refuse old files clearly. */
export const STORE_FORMAT = '1';

/** Opens an SQLite database handle for the ledger (lazy import keeps the CLI light). */
export async function openDatabase(path: string, options: { mustExist?: boolean } = {}): Promise<BetterSqlite3.Database> {
  const { default: Database } = await import('better-sqlite3');
  // Never read-only: after a crash the WAL index needs recovery, which a read-only handle cannot do.
  return new Database(path, { fileMustExist: options.mustExist ?? false });
}

/** The ledger's tables over one database handle. */
export class LedgerStore {
  private readonly cache = new Map<string, Versioned>();
  private readonly privateCache = new Map<string, Versioned>();
  private readonly filter = new KeyFilter();
  private readonly s;

  constructor(
    readonly db: BetterSqlite3.Database,
    options: { sync: SyncMode; cacheEntries?: number },
  ) {
    this.cacheLimit = options.cacheEntries ?? 200_000;
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${options.sync === 'full' ? 'FULL' : 'NORMAL'}`);
    db.pragma('cache_size = -65536');
    db.pragma('temp_store = MEMORY');
    db.exec(SCHEMA);
    const format = db.prepare('SELECT v FROM meta WHERE k = ?').pluck().get('format') as string | undefined;
    if (format === undefined) db.prepare('INSERT INTO meta (k, v) VALUES (?, ?)').run('format', STORE_FORMAT);
    else if (format !== STORE_FORMAT) throw new RangeError(`ledger database has format ${format}; this build reads format ${STORE_FORMAT}`);
    this.s = {
      getState: db.prepare('SELECT version, value FROM state WHERE key = ?'),
      rangeState: db.prepare('SELECT key, version, value FROM state WHERE key >= ? AND key < ? ORDER BY key'),
      rangeStateOpen: db.prepare('SELECT key, version, value FROM state WHERE key >= ? ORDER BY key'),
      putState: db.prepare('INSERT OR REPLACE INTO state (key, version, value) VALUES (?, ?, ?)'),
      delState: db.prepare('DELETE FROM state WHERE key = ?'),
      putHistory: db.prepare('INSERT INTO history (key, version, deleted) VALUES (?, ?, ?)'),
      history: db.prepare('SELECT version, deleted FROM history WHERE key = ? ORDER BY version DESC'),
      getPrivate: db.prepare('SELECT version, value FROM private WHERE collection = ? AND key = ?'),
      rangePrivate: db.prepare('SELECT key, version, value FROM private WHERE collection = ? AND key >= ? AND key < ? ORDER BY key'),
      rangePrivateOpen: db.prepare('SELECT key, version, value FROM private WHERE collection = ? AND key >= ? ORDER BY key'),
      putPrivate: db.prepare('INSERT OR REPLACE INTO private (collection, key, version, value) VALUES (?, ?, ?, ?)'),
      delPrivate: db.prepare('DELETE FROM private WHERE collection = ? AND key = ?'),
      putBlock: db.prepare('INSERT INTO blocks (number, header, hash) VALUES (?, ?, ?)'),
      getBlock: db.prepare('SELECT header, hash FROM blocks WHERE number = ?'),
      lastBlock: db.prepare('SELECT number, header, hash FROM blocks ORDER BY number DESC LIMIT 1'),
      putTx: db.prepare('INSERT INTO txs (block, idx, tx_id, code, envelope, hash) VALUES (?, ?, ?, ?, ?, ?)'),
      txById: db.prepare('SELECT block, idx, tx_id AS txId, code, envelope, hash FROM txs WHERE tx_id = ?'),
      txAt: db.prepare('SELECT block, idx, tx_id AS txId, code, envelope, hash FROM txs WHERE block = ? AND idx = ?'),
      txsOf: db.prepare('SELECT block, idx, tx_id AS txId, code, envelope, hash FROM txs WHERE block = ? ORDER BY idx'),
      txHashesOf: db.prepare('SELECT hash FROM txs WHERE block = ? ORDER BY idx').pluck(),
      hasTx: db.prepare('SELECT 1 FROM txs WHERE tx_id = ?').pluck(),
      putEvent: db.prepare('INSERT INTO events (block, idx, tx_id, contract, name, payload) VALUES (?, ?, ?, ?, ?, ?)'),
      eventsFrom: db.prepare('SELECT block, idx AS "index", tx_id AS txId, contract, name, payload FROM events WHERE block >= ? AND block < ? ORDER BY block, idx'),
      putNode: db.prepare('INSERT INTO tree (level, idx, hash) VALUES (?, ?, ?)'),
      getNode: db.prepare('SELECT hash FROM tree WHERE level = ? AND idx = ?').pluck(),
    };
    for (const key of db.prepare('SELECT key FROM state').pluck().iterate() as IterableIterator<string>) this.filter.add(key);
    this.commitTx = db.transaction((b: BlockWrite, nodes: { level: number; idx: number; hash: Uint8Array }[]) => this.writeBlock(b, nodes));
  }

  private readonly cacheLimit: number;
  private readonly commitTx: (b: BlockWrite, nodes: { level: number; idx: number; hash: Uint8Array }[]) => void;

  /** Height (number of blocks) and the last block, or null for an empty database. */
  last(): { number: number; header: BlockHeader; hash: Uint8Array } | null {
    const row = this.s.lastBlock.get() as { number: number; header: Uint8Array; hash: Uint8Array } | undefined;
    return row ? { number: row.number, header: decodeHeader(row.header), hash: row.hash } : null;
  }

  /** A block's header and hash, or null. */
  block(n: number): { header: BlockHeader; headerBytes: Uint8Array; hash: Uint8Array } | null {
    const row = this.s.getBlock.get(n) as { header: Uint8Array; hash: Uint8Array } | undefined;
    return row ? { header: decodeHeader(row.header), headerBytes: row.header, hash: row.hash } : null;
  }

  /** The transactions of block n, in order. */
  txsOf(n: number): StoredTx[] {
    return (this.s.txsOf.all(n) as { block: number; idx: number; txId: string; code: number; envelope: Uint8Array; hash: Uint8Array }[]).map(toStoredTx);
  }

  /** Transaction hashes of block n, in order. */
  txHashesOf(n: number): Uint8Array[] {
    return this.s.txHashesOf.all(n) as Uint8Array[];
  }

  /** A transaction by id, or null. */
  tx(txId: string): StoredTx | null {
    const row = this.s.txById.get(txId) as Parameters<typeof toStoredTx>[0] | undefined;
    return row ? toStoredTx(row) : null;
  }

  /** True when a transaction with this id is already on the chain. */
  hasTx(txId: string): boolean {
    return this.s.hasTx.get(txId) !== undefined;
  }

  /** Committed state of a key, through the cache. */
  getState(key: string): Versioned {
    const hit = this.cache.get(key);
    if (hit) return hit;
    // Certainly absent: no SQLite lookup, and nothing cached (the key is about to be written).
    if (!this.filter.mightHave(key)) return ABSENT;
    const row = this.s.getState.get(key) as { version: number; value: Uint8Array } | undefined;
    const v = row ? { version: row.version, value: row.value } : ABSENT;
    this.remember(key, v);
    return v;
  }

  private remember(key: string, v: Versioned, cache = this.cache): void {
    if (cache.size >= this.cacheLimit) {
      // FIFO eviction of a slice: cheap, and correctness never depends on what is cached.
      let n = Math.max(1, this.cacheLimit >> 4);
      for (const k of cache.keys()) {
        cache.delete(k);
        if (--n === 0) break;
      }
    }
    cache.set(key, v);
  }

  /** Committed keys in [start, end) in byte order (end '' = unbounded). */
  rangeState(start: string, end: string): VersionedKV[] {
    const rows = (end === '' ? this.s.rangeStateOpen.all(start) : this.s.rangeState.all(start, end)) as VersionedKV[];
    return rows;
  }

  /** Committed private value. */
  getPrivate(collection: string, key: string): Versioned {
    const id = collection + '\u0000' + key;
    const hit = this.privateCache.get(id);
    if (hit) return hit;
    const row = this.s.getPrivate.get(collection, key) as { version: number; value: Uint8Array } | undefined;
    const v = row ? { version: row.version, value: row.value } : ABSENT;
    this.remember(id, v, this.privateCache);
    return v;
  }

  /** Committed private keys of a collection in [start, end). */
  rangePrivate(collection: string, start: string, end: string): VersionedKV[] {
    return (end === '' ? this.s.rangePrivateOpen.all(collection, start) : this.s.rangePrivate.all(collection, start, end)) as VersionedKV[];
  }

  /** A key's history, newest first (Fabric's order), values read back from the writing transactions. */
  history(key: string): KeyModification[] {
    const rows = this.s.history.all(key) as { version: number; deleted: number }[];
    return rows.map(({ version, deleted }) => {
      const { block, txIndex } = splitVersion(version);
      const row = this.s.txAt.get(block, txIndex) as { envelope: Uint8Array; txId: string } | undefined;
      if (!row) throw new RangeError(`history of ${JSON.stringify(key)}: no transaction at version ${version}`);
      const env = decodeEnvelope(row.envelope);
      const write = env.writes.find((w) => w.key === key);
      return { txId: row.txId, isDelete: deleted === 1, value: write?.value ?? new Uint8Array(0), timestamp: timestampOf(env.timestamp) };
    });
  }

  /** Events of valid transactions in blocks [from, to). */
  eventsBetween(from: number, to: number): StoredEvent[] {
    return this.s.eventsFrom.all(from, to) as StoredEvent[];
  }

  /** A StateReader for transaction simulation over committed state. */
  reader(): StateReader {
    return {
      get: (key) => this.getState(key),
      range: (start, end) => this.rangeState(start, end),
      privateGet: (c, k) => this.getPrivate(c, k),
      privateRange: (c, s, e) => this.rangePrivate(c, s, e),
      history: (key) => this.history(key),
    };
  }

  /** Hash of a complete chain-tree node (2^level leaves starting at idx·2^level). */
  node(level: number, idx: number): Uint8Array {
    const h = this.s.getNode.get(level, idx) as Uint8Array | undefined;
    if (!h) throw new RangeError(`chain tree node (${level}, ${idx}) is missing`);
    return h;
  }

  /** SubtreeHash over the chain tree's stored complete nodes (O(log n) lookups per call). */
  subtree(): SubtreeHash {
    const rec: SubtreeHash = (start, end) => {
      const n = end - start;
      if (n === 0) return EMPTY_ROOT;
      if ((n & (n - 1)) === 0 && start % n === 0) return this.node(Math.log2(n), start / n);
      const k = splitPoint(n);
      return nodeHash(rec(start, start + k), rec(start + k, end));
    };
    return rec;
  }

  /** Chain-tree nodes completed by appending leaf `leaf` at index `index`. */
  nodesForAppend(index: number, leaf: Uint8Array): { level: number; idx: number; hash: Uint8Array }[] {
    const out = [{ level: 0, idx: index, hash: leaf }];
    let level = 0;
    let idx = index;
    let h = leaf;
    while (idx % 2 === 1) {
      h = nodeHash(this.node(level, idx - 1), h);
      level++;
      idx = (idx - 1) / 2;
      out.push({ level, idx, hash: h });
    }
    return out;
  }

  /** Writes a block atomically (one SQLite transaction) and updates the cache after it commits. */
  commit(b: BlockWrite, nodes: { level: number; idx: number; hash: Uint8Array }[]): void {
    this.commitTx(b, nodes);
    for (const [key, v] of b.state) {
      if (v.value !== null) this.filter.add(key);
      if (this.cache.has(key)) this.cache.set(key, v.value === null ? ABSENT : v);
    }
    for (const p of b.privateWrites) {
      const id = p.collection + '\u0000' + p.key;
      if (this.privateCache.has(id)) this.privateCache.set(id, p.value === null ? ABSENT : { version: p.version, value: p.value });
    }
  }

  private writeBlock(b: BlockWrite, nodes: { level: number; idx: number; hash: Uint8Array }[]): void {
    const s = this.s;
    s.putBlock.run(b.header.number, b.headerBytes, b.hash);
    for (const t of b.txs) s.putTx.run(t.block, t.index, t.txId, t.code, t.envelope, t.hash);
    for (const [key, v] of b.state) {
      if (v.value === null) s.delState.run(key);
      else s.putState.run(key, v.version, v.value);
    }
    for (const h of b.history) s.putHistory.run(h.key, h.version, h.deleted ? 1 : 0);
    for (const p of b.privateWrites) {
      if (p.value === null) s.delPrivate.run(p.collection, p.key);
      else s.putPrivate.run(p.collection, p.key, p.version, p.value);
    }
    for (const e of b.events) s.putEvent.run(e.block, e.index, e.txId, e.contract, e.name, e.payload);
    for (const n of nodes) s.putNode.run(n.level, n.idx, n.hash);
  }

  /** Checkpoints the WAL into the main file and closes the handle. */
  close(): void {
    if (!this.db.open) return;
    try {
      this.db.pragma('wal_checkpoint(TRUNCATE)');
    } finally {
      this.db.close();
    }
  }
}

function toStoredTx(r: { block: number; idx: number; txId: string; code: number; envelope: Uint8Array; hash: Uint8Array }): StoredTx {
  return { block: r.block, index: r.idx, txId: r.txId, code: r.code, envelope: r.envelope, hash: r.hash };
}

/** SHA-256 with Node's native implementation (hot path: envelopes, private values). */
export function sha256Native(data: Uint8Array | string): Uint8Array {
  return createHash('sha256').update(data).digest();
}

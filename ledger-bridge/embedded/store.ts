/**
 * The embedded ledger's storage as the ledger thread sees it: one SQLite file in WAL mode
 * (better-sqlite3) read through a bounded cache of hot keys with their versions, a Bloom filter
 * of existing keys, and an overlay of sealed blocks whose commit is still in flight on the
 * commit worker. Blocks are written by writer.ts, one SQLite transaction per block, so a kill -9
 * leaves either a whole block or none of it.
 *
 * Reads check, in order: the in-flight overlay (validated, sealed, not yet on disk), the cache,
 * the Bloom filter (certainly absent → no SQLite lookup), SQLite. The ledger is the only writer,
 * so none of these can go stale: the overlay and cache change when a block is sealed, the
 * overlay entry is dropped only once SQLite holds the block.
 *
 * State is a rowid table with a unique key index rather than WITHOUT ROWID: its values (reading
 * records, ~450 bytes) are large for a clustered b-tree, and the rowid layout inserts ~1.7× faster
 * here (measured). History rows are small, so they stay clustered by (key, version).
 *
 * Node-only (better-sqlite3, node:crypto).
 */
import { createHash } from 'node:crypto';
import { chmodSync, closeSync, existsSync, openSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import { ProvenantError } from '../../shared/errors.js';
import { ensurePrivateDir } from '../../shared/secret-files.js';
import type { DepositCipher } from './deposit-key.js';
import { type BlockHeader, decodeEnvelope, decodeHeader, splitStateRef, splitVersion } from './codec.js';
import { KeyFilter } from './keyfilter.js';
import { compareKeys, inRange } from './keys.js';
import { EMPTY_ROOT, nodeHash, splitPoint, type SubtreeHash } from './merkle.js';
import { type KeyModification, type StateReader, type Versioned, type VersionedKV, timestampOf } from './stub.js';
import {
  type BlockWrite,
  PAGE_SIZE,
  SCHEMA,
  type StoredEvent,
  type StoredTx,
  type SyncMode,
  type TreeNode,
  blockWriter,
  configure,
} from './writer.js';

export type { BlockWrite, StoredEvent, StoredTx, SyncMode, TreeNode } from './writer.js';

const ABSENT: Versioned = Object.freeze({ version: 0, value: null });

/**
 * Store format, kept in meta so a change can refuse old files clearly. 3: the tables of format 2
 * holding the batch-native Data Provenance layout (docs/contracts.md "State layout"); a format-2
 * file holds readings one key each and is converted by `provenant ledger migrate` (migrate.ts).
 * 4: a state row may hold, instead of a large value's bytes, where they lie in the envelope of
 * the transaction that wrote them (codec.ts stateRef), so a batch record is stored once. Every
 * format-3 file is a valid format-4 file: this build marks it 4 when it opens it for writing
 * (after which a format-3 build refuses it by its format instead of misreading a reference).
 */
export const STORE_FORMAT = '4';
/** The format this build opens as it is, and marks STORE_FORMAT on opening it for writing. */
export const PREVIOUS_FORMAT = '3';
/** The format `provenant ledger migrate` converts from. */
export const MIGRATABLE_FORMAT = '2';

/** The error for a ledger file this build does not open. */
export function formatError(path: string, format: string): ProvenantError {
  if (format === MIGRATABLE_FORMAT)
    return new ProvenantError(
      'PROV_ERR_LEDGER_FORMAT',
      `ledger database has format ${format} (readings one state key each, before batch records); this build reads format ${STORE_FORMAT}: convert it with \`provenant ledger migrate --db ${path}\``,
      { format },
    );
  return new ProvenantError('PROV_ERR_LEDGER_FORMAT', `ledger database has format ${format}; this build reads format ${STORE_FORMAT}`, {
    format,
  });
}

/**
 * Checks (or sets up) the deposit key: a file whose private values were sealed carries the key's
 * check value (meta depositKeyCheck) and must be opened with that key (PROV_ERR_DEPOSIT_KEY
 * otherwise); a new file, or one written before deposits were sealed (private values in clear),
 * gets its private values sealed under the key and the check value, in one transaction.
 */
function prepareDeposits(db: BetterSqlite3.Database, cipher: DepositCipher, name: string, readOnly: boolean): void {
  const meta = (k: string): string | undefined => db.prepare('SELECT v FROM meta WHERE k = ?').pluck().get(k) as string | undefined;
  const check = meta('depositKeyCheck');
  if (check !== undefined) {
    cipher.assertCheck(check, name);
    return;
  }
  if (readOnly) throw new RangeError(`ledger database ${name} has no sealed deposits yet: open it with the ledger first`);
  db.transaction(() => {
    const rows = db.prepare('SELECT collection, key, version, value FROM private').all() as {
      collection: string;
      key: string;
      version: number;
      value: Uint8Array;
    }[];
    const update = db.prepare('UPDATE private SET value = ? WHERE collection = ? AND key = ?');
    for (const r of rows) update.run(cipher.seal(r.collection, r.key, r.version, r.value), r.collection, r.key);
    db.prepare('INSERT OR REPLACE INTO meta (k, v) VALUES (?, ?)').run('depositKeyCheck', cipher.check());
  })();
}

/** Mode of the ledger's files (database, -wal, -shm) and of the directory created for them. */
const LEDGER_FILE_MODE = 0o600;

/**
 * Opens an SQLite database handle for the ledger (lazy import keeps the CLI light). A new
 * database file is created mode 0600 (its directory 0700 if missing) before SQLite opens it, so
 * SQLite gives the -wal and -shm files the same mode.
 */
export async function openDatabase(path: string, options: { mustExist?: boolean } = {}): Promise<BetterSqlite3.Database> {
  const { default: Database } = await import('better-sqlite3');
  if (!(options.mustExist ?? false) && path !== ':memory:' && !existsSync(path)) {
    ensurePrivateDir(dirname(path));
    closeSync(openSync(path, 'wx', LEDGER_FILE_MODE));
  }
  // Never read-only: after a crash the WAL index needs recovery, which a read-only handle cannot do.
  const db = new Database(path, { fileMustExist: options.mustExist ?? false });
  // Before anything creates a table: a new file gets PAGE_SIZE pages, an existing one keeps its own.
  db.pragma(`page_size = ${PAGE_SIZE}`);
  return db;
}

/** Puts the ledger's files (db, -wal, -shm, the deposit key file) to mode 0600 (older files were 0644). */
export function protectLedgerFiles(path: string, extra: readonly string[] = []): void {
  for (const p of [path, `${path}-wal`, `${path}-shm`, ...extra]) {
    try {
      if ((statSync(p).mode & 0o777) !== LEDGER_FILE_MODE) chmodSync(p, LEDGER_FILE_MODE);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
}

/**
 * Merges committed rows of a range with in-flight writes (deletes remove, writes replace), in byte
 * order. `overlays` oldest first: a later block's write wins.
 */
function mergeRange(
  rows: VersionedKV[],
  overlays: readonly ReadonlyMap<string, Versioned>[],
  start: string,
  end: string,
  keyOf: (id: string) => string | null,
): VersionedKV[] {
  let merged: Map<string, VersionedKV> | undefined;
  for (const overlay of overlays) {
    for (const [id, v] of overlay) {
      const key = keyOf(id);
      if (key === null || !inRange(key, start, end)) continue;
      merged ??= new Map(rows.map((r) => [r.key, r]));
      if (v.value === null) merged.delete(key);
      else merged.set(key, { key, version: v.version, value: v.value });
    }
  }
  return merged === undefined ? rows : [...merged.values()].sort((a, b) => compareKeys(a.key, b.key));
}

/** The ledger's tables over one database handle. */
export class LedgerStore {
  private readonly cache = new Map<string, Versioned>();
  private readonly privateCache = new Map<string, Versioned>();
  private readonly filter = new KeyFilter();
  /** Sealed, validated blocks not yet on disk: state, private data, tree nodes, tx ids. */
  /**
   * Their state maps, oldest first, used as they are (no per-key copy into one overlay map:
   * staging and settling a block of 25,000 keys cost two big-map operations per key).
   */
  private readonly inflight: ReadonlyMap<string, Versioned>[] = [];
  private readonly inflightPrivate = new Map<string, Versioned>();
  private readonly inflightNodes = new Map<string, Uint8Array>();
  private readonly inflightTx = new Set<string>();
  private readonly cacheLimit: number;
  /**
   * A reader in another thread (an endorser): it is told nothing about commits, so it keeps no
   * cache and no Bloom filter (either would go stale) and reads SQLite, i.e. the chain on disk.
   */
  private readonly snapshotOnly: boolean;
  private readonly writeSync: (b: BlockWrite) => void;
  private readonly s;

  private readonly cipher: DepositCipher;

  constructor(
    readonly db: BetterSqlite3.Database,
    options: {
      sync: SyncMode;
      cipher: DepositCipher;
      cacheEntries?: number;
      snapshotOnly?: boolean;
      migrating?: boolean;
      name?: string;
    },
  ) {
    this.cacheLimit = options.cacheEntries ?? 200_000;
    this.snapshotOnly = options.snapshotOnly ?? false;
    this.cipher = options.cipher;
    configure(db, options.sync);
    db.exec(SCHEMA);
    const format = db.prepare('SELECT v FROM meta WHERE k = ?').pluck().get('format') as string | undefined;
    if (format === undefined) db.prepare('INSERT INTO meta (k, v) VALUES (?, ?)').run('format', STORE_FORMAT);
    else if (format === PREVIOUS_FORMAT) {
      if (!this.snapshotOnly) db.prepare('UPDATE meta SET v = ? WHERE k = ?').run(STORE_FORMAT, 'format');
    } else if (format !== STORE_FORMAT && !(options.migrating === true && format === MIGRATABLE_FORMAT)) throw formatError(db.name, format);
    prepareDeposits(db, options.cipher, options.name ?? db.name, this.snapshotOnly);
    this.s = {
      getState: db.prepare('SELECT version, value FROM state WHERE key = ?'),
      // A value stored once in its writing transaction's envelope (state row = its reference).
      valueAt: db.prepare('SELECT substr(envelope, ?, ?) FROM txs WHERE block = ? AND idx = ?').pluck(),
      rangeState: db.prepare('SELECT key, version, value FROM state WHERE key >= ? AND key < ? ORDER BY key'),
      rangeStateOpen: db.prepare('SELECT key, version, value FROM state WHERE key >= ? ORDER BY key'),
      // The current version lives in state only; history holds the earlier ones and deletes.
      history: db.prepare(
        'SELECT version, deleted FROM history WHERE key = ? UNION ALL SELECT version, 0 FROM state WHERE key = ? ORDER BY version DESC',
      ),
      getPrivate: db.prepare('SELECT version, value FROM private WHERE collection = ? AND key = ?'),
      rangePrivate: db.prepare('SELECT key, version, value FROM private WHERE collection = ? AND key >= ? AND key < ? ORDER BY key'),
      rangePrivateOpen: db.prepare('SELECT key, version, value FROM private WHERE collection = ? AND key >= ? ORDER BY key'),
      getBlock: db.prepare('SELECT header, hash FROM blocks WHERE number = ?'),
      lastBlock: db.prepare('SELECT number, header, hash FROM blocks ORDER BY number DESC LIMIT 1'),
      txById: db.prepare('SELECT block, idx, tx_id AS txId, code, envelope, hash FROM txs WHERE tx_id = ?'),
      txAt: db.prepare('SELECT block, idx, tx_id AS txId, code, envelope, hash FROM txs WHERE block = ? AND idx = ?'),
      txsOf: db.prepare('SELECT block, idx, tx_id AS txId, code, envelope, hash FROM txs WHERE block = ? ORDER BY idx'),
      txHashesOf: db.prepare('SELECT hash FROM txs WHERE block = ? ORDER BY idx').pluck(),
      hasTx: db.prepare('SELECT 1 FROM txs WHERE tx_id = ?').pluck(),
      eventsFrom: db.prepare(
        'SELECT block, idx AS "index", tx_id AS txId, contract, name, payload FROM events WHERE block >= ? AND block < ? ORDER BY block, idx',
      ),
      getNode: db.prepare('SELECT hash FROM tree WHERE level = ? AND idx = ?').pluck(),
    };
    if (!this.snapshotOnly)
      for (const key of db.prepare('SELECT key FROM state').pluck().iterate() as IterableIterator<string>) this.filter.add(key);
    this.writeSync = blockWriter(db, (c, k, v, value) => this.cipher.seal(c, k, v, value));
  }

  /** The last block on disk, or null for an empty database. */
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
    return (this.s.txsOf.all(n) as TxRow[]).map(toStoredTx);
  }

  /** Transaction hashes of block n, in order. */
  txHashesOf(n: number): Uint8Array[] {
    return this.s.txHashesOf.all(n) as Uint8Array[];
  }

  /** A committed transaction by id, or null. */
  tx(txId: string): StoredTx | null {
    const row = this.s.txById.get(txId) as TxRow | undefined;
    return row ? toStoredTx(row) : null;
  }

  /** True when a transaction with this id is on the chain or in a sealed block. */
  hasTx(txId: string): boolean {
    return this.inflightTx.has(txId) || this.s.hasTx.get(txId) !== undefined;
  }

  /** State of a key as of the last sealed block. */
  getState(key: string): Versioned {
    for (let i = this.inflight.length - 1; i >= 0; i--) {
      const pending = (this.inflight[i] as ReadonlyMap<string, Versioned>).get(key);
      if (pending) return pending;
    }
    const hit = this.cache.get(key);
    if (hit) return hit;
    // Certainly absent: no SQLite lookup, and nothing cached (the key is about to be written).
    if (!this.snapshotOnly && !this.filter.mightHave(key)) return ABSENT;
    const row = this.s.getState.get(key) as { version: number; value: Uint8Array | number } | undefined;
    const v = row ? { version: row.version, value: this.valueOf(key, row.version, row.value) } : ABSENT;
    if (!this.snapshotOnly) this.remember(this.cache, key, v);
    return v;
  }

  /**
   * False when the key certainly has no version in state (on disk or in flight); the block
   * writer then needs no lookup to move an earlier version into history.
   */
  mightExist(key: string): boolean {
    for (const m of this.inflight) if (m.has(key)) return true;
    const hit = this.cache.get(key);
    if (hit) return hit.value !== null;
    return this.filter.mightHave(key);
  }

  private remember(cache: Map<string, Versioned>, key: string, v: Versioned): void {
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

  /**
   * A state row's value: its bytes, or — a number — the reference to where they lie in the
   * envelope of the transaction that wrote them (the row's version; writer.ts, codec.ts stateRef).
   */
  private valueOf(key: string, version: number, value: Uint8Array | number): Uint8Array {
    if (typeof value !== 'number') return value;
    const { offset, length } = splitStateRef(value);
    const { block, txIndex } = splitVersion(version);
    const bytes = this.s.valueAt.get(offset + 1, length, block, txIndex) as Uint8Array | undefined;
    if (!(bytes instanceof Uint8Array) || bytes.length !== length)
      throw new RangeError(`state of ${JSON.stringify(key)}: its value is not in the envelope of transaction (${block}, ${txIndex})`);
    return bytes;
  }

  /** Keys in [start, end) in byte order (end '' = unbounded), as of the last sealed block. */
  rangeState(start: string, end: string): VersionedKV[] {
    const raw = (end === '' ? this.s.rangeStateOpen.all(start) : this.s.rangeState.all(start, end)) as {
      key: string;
      version: number;
      value: Uint8Array | number;
    }[];
    const rows: VersionedKV[] = raw.map((r) =>
      typeof r.value === 'number' ? { key: r.key, version: r.version, value: this.valueOf(r.key, r.version, r.value) } : (r as VersionedKV),
    );
    return this.inflight.length === 0 ? rows : mergeRange(rows, this.inflight, start, end, (k) => k);
  }

  /** Private value as of the last sealed block. */
  getPrivate(collection: string, key: string): Versioned {
    const id = collection + '\u0000' + key;
    const pending = this.inflightPrivate.get(id);
    if (pending) return pending;
    const hit = this.privateCache.get(id);
    if (hit) return hit;
    const row = this.s.getPrivate.get(collection, key) as { version: number; value: Uint8Array } | undefined;
    const v = row ? { version: row.version, value: this.cipher.open(collection, key, row.version, row.value) } : ABSENT;
    if (!this.snapshotOnly) this.remember(this.privateCache, id, v);
    return v;
  }

  /** Private keys of a collection in [start, end). */
  rangePrivate(collection: string, start: string, end: string): VersionedKV[] {
    const rows = (
      (end === '' ? this.s.rangePrivateOpen.all(collection, start) : this.s.rangePrivate.all(collection, start, end)) as VersionedKV[]
    ).map((r) => ({ key: r.key, version: r.version, value: this.cipher.open(collection, r.key, r.version, r.value as Uint8Array) }));
    const prefix = collection + '\u0000';
    return mergeRange(rows, [this.inflightPrivate], start, end, (id) => (id.startsWith(prefix) ? id.slice(prefix.length) : null));
  }

  /** A key's history on disk, newest first (Fabric's order), values read back from the writing transactions. */
  history(key: string): KeyModification[] {
    const rows = this.s.history.all(key, key) as { version: number; deleted: number }[];
    return rows.map(({ version, deleted }) => {
      const { block, txIndex } = splitVersion(version);
      const row = this.s.txAt.get(block, txIndex) as { envelope: Uint8Array; txId: string } | undefined;
      if (!row) throw new RangeError(`history of ${JSON.stringify(key)}: no transaction at version ${version}`);
      const env = decodeEnvelope(row.envelope);
      const write = env.writes.find((w) => w.key === key);
      return { txId: row.txId, isDelete: deleted === 1, value: write?.value ?? new Uint8Array(0), timestamp: timestampOf(env.timestamp) };
    });
  }

  /** Events of valid transactions in blocks [from, to) on disk. */
  eventsBetween(from: number, to: number): StoredEvent[] {
    return this.s.eventsFrom.all(from, to) as StoredEvent[];
  }

  /** A StateReader for transaction simulation. */
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
    const h = this.inflightNodes.get(`${level}:${idx}`) ?? (this.s.getNode.get(level, idx) as Uint8Array | undefined);
    if (!h) throw new RangeError(`chain tree node (${level}, ${idx}) is missing`);
    return h;
  }

  /** SubtreeHash over the chain tree's complete nodes (O(log n) lookups per call). */
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
  nodesForAppend(index: number, leaf: Uint8Array): TreeNode[] {
    const out: TreeNode[] = [{ level: 0, idx: index, hash: leaf }];
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

  /**
   * Makes a sealed block visible to reads and validation before it is on disk (its commit runs
   * on the worker). Call settle() once the worker has committed it.
   */
  stage(b: BlockWrite): void {
    // A deleted key reads as { version of the delete, value null }, which is its state entry.
    this.inflight.push(b.state);
    // A cached key gets the value it will have on disk once this block is (as commitSync does):
    // while the block is in flight its own entry shadows the cache, and afterwards the next read
    // needs no SQLite lookup — a device's replay window is read by every batch of the device and
    // written by it, and dropping it here cost two lookups per device per batch (~4 % of the
    // ledger thread). Keys not cached stay uncached (batch records are written, seldom read).
    for (const [key, v] of b.state) {
      if (v.value !== null) this.filter.add(key);
      if (this.cache.has(key)) this.cache.set(key, v.value === null ? ABSENT : v);
    }
    for (const p of b.privateWrites) {
      const id = p.collection + '\u0000' + p.key;
      this.inflightPrivate.set(id, { version: p.version, value: p.value });
      if (this.privateCache.has(id)) this.privateCache.set(id, p.value === null ? ABSENT : { version: p.version, value: p.value });
    }
    for (const n of b.nodes) this.inflightNodes.set(`${n.level}:${n.idx}`, n.hash);
    for (const t of b.txs) this.inflightTx.add(t.txId);
  }

  /** Drops a committed block from the overlay (entries a later sealed block replaced stay). */
  settle(b: BlockWrite): void {
    const version0 = b.header.number * 65_536;
    const mine = (v: Versioned | undefined): boolean => v !== undefined && v.version >= version0 && v.version < version0 + 65_536;
    // Blocks settle in the order they were staged (one SQLite writer, in order).
    const at = this.inflight.indexOf(b.state);
    if (at !== -1) this.inflight.splice(at, 1);
    for (const p of b.privateWrites) {
      const id = p.collection + '\u0000' + p.key;
      if (mine(this.inflightPrivate.get(id))) this.inflightPrivate.delete(id);
    }
    for (const n of b.nodes) this.inflightNodes.delete(`${n.level}:${n.idx}`);
    for (const t of b.txs) this.inflightTx.delete(t.txId);
  }

  /** Writes a block on this thread (genesis, and ledgers opened without a commit worker). */
  commitSync(b: BlockWrite): void {
    this.writeSync(b);
    for (const [key, v] of b.state) {
      if (v.value !== null) this.filter.add(key);
      if (this.cache.has(key)) this.cache.set(key, v.value === null ? ABSENT : v);
    }
    for (const p of b.privateWrites) {
      const id = p.collection + '\u0000' + p.key;
      if (this.privateCache.has(id)) this.privateCache.set(id, p.value === null ? ABSENT : { version: p.version, value: p.value });
    }
  }

  /** Marks the file as holding this build's format (the last step of a migration). */
  markCurrentFormat(): void {
    this.db.prepare('UPDATE meta SET v = ? WHERE k = ?').run(STORE_FORMAT, 'format');
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

type TxRow = { block: number; idx: number; txId: string; code: number; envelope: Uint8Array; hash: Uint8Array };

function toStoredTx(r: TxRow): StoredTx {
  return { block: r.block, index: r.idx, txId: r.txId, code: r.code, envelope: r.envelope, hash: r.hash };
}

/** SHA-256 with Node's native implementation (hot path: envelopes, private values). */
export function sha256Native(data: Uint8Array | string): Uint8Array {
  return createHash('sha256').update(data).digest();
}

/**
 * Writing a sealed block: the SQL of one block commit (one SQLite transaction), shared by the
 * in-process path and the commit worker (commit-worker.ts), which runs it on its own thread so
 * the fsync of `synchronous = FULL` and the insert work overlap contract simulation instead of
 * blocking the event loop.
 */
import type BetterSqlite3 from 'better-sqlite3';
import type { BlockHeader } from './codec.js';
import type { Versioned } from './stub.js';

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

/** A chaincode event of a valid transaction, as stored. */
export interface StoredEvent {
  readonly block: number;
  readonly index: number;
  readonly txId: string;
  readonly contract: string;
  readonly name: string;
  readonly payload: Uint8Array;
}

/** A complete node of the chain Merkle tree. */
export interface TreeNode {
  readonly level: number;
  readonly idx: number;
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
  /**
   * Keys of `state` whose value is stored once, in the envelope of the transaction that wrote it
   * (its version): the state row holds this reference (codec.ts stateRef) instead of the bytes.
   */
  readonly refs?: ReadonlyMap<string, number>;
  /**
   * Keys of `state` that may have a version from an earlier block (the others certainly have
   * none): that version moves from state into history before it is replaced or deleted.
   */
  readonly replaced: readonly string[];
  /**
   * History rows of writes that a later transaction of the same block overwrote or deleted.
   * History holds every valid write except the one each live key has in state (see SCHEMA).
   */
  readonly superseded: readonly { key: string; version: number; deleted: boolean }[];
  readonly privateWrites: readonly { collection: string; key: string; version: number; value: Uint8Array | null }[];
  readonly events: readonly StoredEvent[];
  /** Chain-tree nodes this block completes. */
  readonly nodes: readonly TreeNode[];
}

/**
 * A block's state map as columns for the trip to the commit worker: structured-cloning a Map of
 * 25,000 { version, value } objects cost more than the SQLite inserts; these are a few
 * transferable buffers (values concatenated, `ends[i]` the end offset of value i) and one
 * array of key strings.
 */
export interface StateColumns {
  readonly keys: readonly string[];
  readonly versions: Float64Array;
  /** 1 where the write deletes the key (its value is empty). */
  readonly deleted: Uint8Array;
  readonly ends: Uint32Array;
  readonly values: Uint8Array;
  /** Per key its state reference, or -1: the value is in `values` (not copied when it has one). */
  readonly refs: Float64Array;
}

/** A BlockWrite as posted to the commit worker. */
export type BlockMessage = Omit<BlockWrite, 'state'> & { readonly state: StateColumns };

/** The message for the commit worker and the buffers to transfer with it (envelopes included). */
export function toMessage(b: BlockWrite): { message: BlockMessage; transfer: ArrayBuffer[] } {
  const n = b.state.size;
  const keys: string[] = new Array<string>(n);
  const versions = new Float64Array(n);
  const deleted = new Uint8Array(n);
  const ends = new Uint32Array(n);
  const refs = new Float64Array(n).fill(-1);
  const refOf = b.refs ?? new Map<string, number>();
  let total = 0;
  for (const [key, v] of b.state) if (v.value !== null && !refOf.has(key)) total += v.value.length;
  const values = new Uint8Array(total);
  let i = 0;
  let at = 0;
  for (const [key, v] of b.state) {
    keys[i] = key;
    versions[i] = v.version;
    const ref = refOf.get(key);
    if (v.value === null) deleted[i] = 1;
    else if (ref !== undefined) refs[i] = ref;
    else {
      values.set(v.value, at);
      at += v.value.length;
    }
    ends[i++] = at;
  }
  const transfer: ArrayBuffer[] = [versions.buffer, deleted.buffer, ends.buffer, values.buffer, refs.buffer];
  // Envelopes own their buffers (ByteWriter output) and the ledger thread no longer reads them.
  for (const t of b.txs) {
    const e = t.envelope;
    if (
      !Buffer.isBuffer(e) &&
      e.byteOffset === 0 &&
      e.buffer instanceof ArrayBuffer &&
      e.byteLength === e.buffer.byteLength &&
      !transfer.includes(e.buffer)
    )
      transfer.push(e.buffer);
  }
  return { message: { ...b, state: { keys, versions, deleted, ends, values, refs } }, transfer };
}

/** A state entry to write: key, version, and the value's bytes, its state reference (a number), or null (deleted). */
type StateRow = readonly [string, number, Uint8Array | number | null];

/** The state entries of a block, from the map (this thread) or the columns (commit worker). */
function* stateEntries(b: BlockWrite | BlockMessage): Generator<StateRow> {
  if (b.state instanceof Map) {
    const refs = (b as BlockWrite).refs;
    for (const [key, v] of b.state as ReadonlyMap<string, Versioned>)
      yield [key, v.version, v.value === null ? null : (refs?.get(key) ?? v.value)];
    return;
  }
  const c = b.state as StateColumns;
  const values = Buffer.from(c.values.buffer, c.values.byteOffset, c.values.byteLength);
  let start = 0;
  for (let i = 0; i < c.keys.length; i++) {
    const end = c.ends[i] as number;
    const ref = c.refs[i] as number;
    yield [c.keys[i] as string, c.versions[i] as number, c.deleted[i] === 1 ? null : ref >= 0 ? ref : values.subarray(start, end)];
    start = end;
  }
}

/** The ledger's schema (idempotent). */
export const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS blocks (number INTEGER PRIMARY KEY, header BLOB NOT NULL, hash BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS txs (block INTEGER NOT NULL, idx INTEGER NOT NULL, tx_id TEXT NOT NULL UNIQUE, code INTEGER NOT NULL,
  envelope BLOB NOT NULL, hash BLOB NOT NULL, PRIMARY KEY (block, idx)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS state (key TEXT NOT NULL UNIQUE, version INTEGER NOT NULL, value BLOB NOT NULL);
-- history: every valid write except each live key's current one, which is its state row (a
-- written-once key, e.g. a reading record, costs one row, not two); deletes are history rows.
CREATE TABLE IF NOT EXISTS history (key TEXT NOT NULL, version INTEGER NOT NULL, deleted INTEGER NOT NULL, PRIMARY KEY (key, version)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS private (collection TEXT NOT NULL, key TEXT NOT NULL, version INTEGER NOT NULL, value BLOB NOT NULL,
  PRIMARY KEY (collection, key)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS events (block INTEGER NOT NULL, idx INTEGER NOT NULL, tx_id TEXT NOT NULL, contract TEXT NOT NULL, name TEXT NOT NULL, payload BLOB NOT NULL,
  PRIMARY KEY (block, idx)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS tree (level INTEGER NOT NULL, idx INTEGER NOT NULL, hash BLOB NOT NULL, PRIMARY KEY (level, idx)) WITHOUT ROWID;
`;

/**
 * Page size of a new ledger file. Most of what a block writes is a few large blobs (a batch of 250
 * readings: a ~70 kB envelope and a ~24 kB batch record), which SQLite keeps as chains of
 * overflow pages, one WAL frame (header and checksum) per page and again at each checkpoint: at
 * 16 KB instead of the default 4 KB, the same rows cost the commit thread 1.8 instead of
 * 3.0–5.1 µs of CPU per reading (bench ledger's SQLite ceiling rows, alternated, load ~14).
 */
export const PAGE_SIZE = 16_384;

/**
 * Pragmas of every ledger connection. The page size takes effect only on a file that holds
 * nothing yet (it must precede WAL mode); an existing ledger keeps the page size it has.
 */
export function configure(db: BetterSqlite3.Database, sync: SyncMode): void {
  db.pragma(`page_size = ${PAGE_SIZE}`);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${sync === 'full' ? 'FULL' : 'NORMAL'}`);
  db.pragma('cache_size = -65536');
  db.pragma('temp_store = MEMORY');
}

// Blobs may arrive as plain Uint8Array (structured clone); better-sqlite3 binds Buffers.
const buf = (b: Uint8Array): Buffer => (Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength));

/** Rows per multi-row INSERT: one statement call instead of CHUNK (SQLite's limit is 32,766 parameters). */
const CHUNK = 64;

/**
 * Runs `one` per row, or `many` (a CHUNK-row statement) for each full chunk: per-row statement
 * calls were most of the commit worker's time for 2 state + 2 history rows per reading.
 */
function insertRows<T>(
  rows: Iterable<T>,
  width: number,
  params: (row: T, out: unknown[]) => void,
  one: BetterSqlite3.Statement,
  many: BetterSqlite3.Statement,
): void {
  const bound: unknown[] = [];
  for (const row of rows) {
    params(row, bound);
    if (bound.length === CHUNK * width) {
      many.run(bound);
      bound.length = 0;
    }
  }
  for (let i = 0; i < bound.length; i += width) one.run(bound.slice(i, i + width));
}

const values = (width: number, n: number): string =>
  Array.from({ length: n }, () => `(${Array.from({ length: width }, () => '?').join(', ')})`).join(', ');

/** Seals a private value for the table (deposit-key.ts DepositCipher.seal). */
export type PrivateSealer = (collection: string, key: string, version: number, value: Uint8Array) => Uint8Array;

/**
 * A function that writes one block in one SQLite transaction (all or nothing). Private values go
 * to the table sealed by `seal` (encrypted under the deposit key): they never reach the disk in
 * clear.
 */
export function blockWriter(db: BetterSqlite3.Database, seal: PrivateSealer): (b: BlockWrite | BlockMessage) => void {
  const s = {
    putState: db.prepare('INSERT OR REPLACE INTO state (key, version, value) VALUES (?, ?, ?)'),
    putStates: db.prepare(`INSERT OR REPLACE INTO state (key, version, value) VALUES ${values(3, CHUNK)}`),
    delState: db.prepare('DELETE FROM state WHERE key = ?'),
    putHistory: db.prepare('INSERT INTO history (key, version, deleted) VALUES (?, ?, ?)'),
    putHistories: db.prepare(`INSERT INTO history (key, version, deleted) VALUES ${values(3, CHUNK)}`),
    retire: db.prepare('INSERT INTO history (key, version, deleted) SELECT key, version, 0 FROM state WHERE key = ?'),
    putPrivate: db.prepare('INSERT OR REPLACE INTO private (collection, key, version, value) VALUES (?, ?, ?, ?)'),
    delPrivate: db.prepare('DELETE FROM private WHERE collection = ? AND key = ?'),
    putBlock: db.prepare('INSERT INTO blocks (number, header, hash) VALUES (?, ?, ?)'),
    putTx: db.prepare('INSERT INTO txs (block, idx, tx_id, code, envelope, hash) VALUES (?, ?, ?, ?, ?, ?)'),
    putEvent: db.prepare('INSERT INTO events (block, idx, tx_id, contract, name, payload) VALUES (?, ?, ?, ?, ?, ?)'),
    putNode: db.prepare('INSERT INTO tree (level, idx, hash) VALUES (?, ?, ?)'),
  };
  return db.transaction((b: BlockWrite | BlockMessage) => {
    s.putBlock.run(b.header.number, buf(b.headerBytes), buf(b.hash));
    for (const t of b.txs) s.putTx.run(t.block, t.index, t.txId, t.code, buf(t.envelope), buf(t.hash));
    // An earlier block's version leaves state for history before it is replaced or deleted.
    for (const key of b.replaced) s.retire.run(key);
    // Deletes: no state row, a history row. A key is in the state map once, so order between keys does not matter.
    for (const [key, version, value] of stateEntries(b)) {
      if (value !== null) continue;
      s.delState.run(key);
      s.putHistory.run(key, version, 1);
    }
    // A value stored once in its envelope is written as its reference, an integer (stateRef).
    insertRows(
      stateEntries(b),
      3,
      ([key, version, value], out) => {
        if (value !== null) out.push(key, version, typeof value === 'number' ? BigInt(value) : buf(value));
      },
      s.putState,
      s.putStates,
    );
    insertRows(b.superseded, 3, (h, out) => out.push(h.key, h.version, h.deleted ? 1 : 0), s.putHistory, s.putHistories);
    for (const p of b.privateWrites) {
      if (p.value === null) s.delPrivate.run(p.collection, p.key);
      else s.putPrivate.run(p.collection, p.key, p.version, buf(seal(p.collection, p.key, p.version, p.value)));
    }
    for (const e of b.events) s.putEvent.run(e.block, e.index, e.txId, e.contract, e.name, buf(e.payload));
    for (const n of b.nodes) s.putNode.run(n.level, n.idx, buf(n.hash));
  });
}

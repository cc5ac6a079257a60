/**
 * The durable outbox: every reading the edge acknowledges is first committed here (SQLite, WAL),
 * and stays until the ledger has it. Store-and-forward: the ledger may be away for hours.
 *
 * Durability: `synchronous=FULL` by default, so a commit is on disk before the board gets its ACK,
 * even across a power cut (the board then frees its resend ring). `NORMAL` is allowed for SD cards
 * that wear out under fsyncs: in WAL mode it survives a crash of the process (kill -9) but may lose
 * the last commits on power loss — docs/edge.md says so.
 *
 * Bound: at most `maxPending` readings wait for the ledger. When full, `put` answers 'full' and the
 * session NACKs OUTBOX_FULL, a retryable reason, so the board keeps the reading in its ring and
 * resends it later: the outbox refuses, it never drops (docs/edge.md, "Outbox policy").
 *
 * Exactly-once: rows are keyed by (deviceId, seq). A second copy with the same content is a
 * duplicate (the board resent after a lost ACK) and is acknowledged again without a second row;
 * another content under a stored key is a replay. Rows stay `pending` while their batch is in
 * flight, so a crash re-submits them, and the ledger's (deviceId, seq) check turns that
 * at-least-once into exactly-once.
 */
import type Database from 'better-sqlite3';
import { ProvenantError } from '../../../shared/errors.js';
import type { ReadingSubmission } from '../../../shared/records.js';
import type { PartialSignatureJson } from '../../../shared/crypto/credential.js';

/**
 * What `put` did with a reading. ACK on 'stored' and 'duplicate'; NACK otherwise:
 * - 'conflict': another content is committed under (deviceId, seq): a replay (NACK REPLAY);
 * - 'busy': another content is waiting under that key, e.g. a forgery injected on the link;
 *   the ledger will reject one of them, so the board is told to resend later (retryable);
 * - 'stale': seq is at or below the device's pruned floor (NACK REPLAY);
 * - 'full': the outbox is at capacity (NACK OUTBOX_FULL, retryable).
 * A row the ledger rejected (a forgery squatting a seq) is replaced by a different content.
 */
export type PutStatus = 'stored' | 'duplicate' | 'conflict' | 'busy' | 'stale' | 'full';

/** A reading to store. */
export interface OutboxItem {
  readonly deviceId: string;
  readonly seq: number;
  /** Hex SHA-256 of the canonical bytes: tells a resend (same) from a replay (different). */
  readonly dataHash: string;
  /** Hex partialDigest the reading references (its partial must travel with its first batch). */
  readonly partialDigest: string;
  readonly submission: ReadingSubmission;
}

/** A stored reading waiting for the ledger. */
export interface PendingRow extends OutboxItem {
  readonly id: number;
}

/** Outbox settings. */
export interface OutboxOptions {
  /** SQLite file; created with its directory's permissions. */
  readonly path: string;
  /** Most readings waiting for the ledger before new ones are refused. Default 100000. */
  readonly maxPending?: number;
  /** 'FULL' (default) or 'NORMAL' (see the module comment). */
  readonly synchronous?: 'FULL' | 'NORMAL';
  /** Committed readings older than this are pruned (their keys then count as seen via the device floor). Default 24 h. */
  readonly retainCommittedMs?: number;
}

/** Counts by state, for metrics and the API. */
export interface OutboxCounts {
  readonly pending: number;
  readonly committed: number;
  readonly rejected: number;
}

/** One stored reading, as the API shows it. */
export interface StoredReading {
  readonly seq: number;
  readonly dataHash: string;
  /** Hex of the canonical reading bytes (decode them for the values). */
  readonly canonical: string;
  readonly receivedAt: number;
  readonly state: 'pending' | 'committed' | 'rejected';
  readonly reason: string | null;
  readonly txId: string | null;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS readings (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  device_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  data_hash TEXT NOT NULL,
  partial_digest TEXT NOT NULL,
  submission TEXT NOT NULL,
  received_at INTEGER NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('pending', 'committed', 'rejected')),
  reason TEXT,
  tx_id TEXT,
  done_at INTEGER,
  UNIQUE (device_id, seq)
);
CREATE INDEX IF NOT EXISTS readings_pending ON readings (id) WHERE state = 'pending';
CREATE TABLE IF NOT EXISTS device_floor (
  device_id TEXT PRIMARY KEY,
  pruned_through INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS partials (
  digest TEXT PRIMARY KEY,
  device_id TEXT NOT NULL,
  epoch INTEGER NOT NULL,
  json TEXT NOT NULL,
  on_ledger INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS signatures (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  device_id TEXT NOT NULL,
  kind INTEGER NOT NULL,
  key_set INTEGER NOT NULL,
  q INTEGER NOT NULL,
  first_seq INTEGER,
  last_seq INTEGER,
  body TEXT NOT NULL,
  body_hash TEXT NOT NULL,
  received_at INTEGER NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('pending', 'recorded', 'rejected')),
  reason TEXT,
  tx_id TEXT,
  done_at INTEGER,
  UNIQUE (device_id, body_hash)
);
CREATE INDEX IF NOT EXISTS signatures_pending ON signatures (id) WHERE state = 'pending';
CREATE TABLE IF NOT EXISTS device_names (
  device_id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  link TEXT NOT NULL,
  seen_at INTEGER NOT NULL
);
`;

/** A device's last known board name: the configured name (boards[].name) of the link its last session was on. */
export interface DeviceName {
  readonly deviceId: string;
  readonly name: string;
  readonly link: string;
  readonly seenAt: number;
}

/** What `putSignature` did: SIG_ACK on 'stored' and 'duplicate'; 'full': no SIG_ACK, the board sends it again later. */
export type SignaturePutStatus = 'stored' | 'duplicate' | 'full';

/** A SIG body to store (docs/wire-protocol.md SIG; shared/crypto/epoch.ts). */
export interface SignatureItem {
  readonly deviceId: string;
  /** 1 epoch, 2 key set. */
  readonly kind: number;
  readonly keySet: number;
  /** One-time key index of its LMS signature. */
  readonly q: number;
  /** An epoch body's seqs firstSeq..lastSeq (undefined for a key-set body). */
  readonly firstSeq?: number;
  readonly lastSeq?: number;
  /** Hex of the whole SIG body. */
  readonly body: string;
  /** Hex SHA-256 of the body: a resend is the same body. */
  readonly bodyHash: string;
}

/** A stored SIG body waiting for the ledger. */
export interface PendingSignature extends SignatureItem {
  readonly id: number;
  readonly receivedAt: number;
}

/** Most SIG bodies of one device waiting for the ledger; beyond, the board is not answered SIG_ACK. */
export const MAX_PENDING_SIGNATURES_PER_DEVICE = 64;

/**
 * The pending readings of one device, in memory: the forwarder asks, for every arriving reading,
 * how many readings and devices wait outside the devices it has in flight. Answering that with
 * SQL scanned every pending row (O(backlog) per arrival: ~3,000 rows at 150 boards,
 * docs/evaluation.md); these counts make it O(devices). `ids` holds the device's pending row
 * ids in insertion (= id) order from `head` on; ids settled since are skipped lazily.
 */
interface DevicePending {
  count: number;
  ids: number[];
  head: number;
}

/** The SQLite outbox. Synchronous API (better-sqlite3): when a call returns, its commit is done. */
export class Outbox {
  private readonly db: Database.Database;
  private readonly maxPending: number;
  private pending: number;
  private readonly stmts: ReturnType<Outbox['prepare']>;
  /**
   * Every pending row: id → its device and receive time; and each device with pending rows.
   * Kept in step with the table by putMany and settle (the only ways a row enters or leaves
   * 'pending'), rebuilt from the table when the outbox opens: a mirror, never the record.
   */
  private readonly pendingRows = new Map<number, { readonly deviceId: string; readonly at: number }>();
  private readonly byDevice = new Map<string, DevicePending>();
  /**
   * Per device seen since open: a seq at or above which no row exists, nor ever did (above
   * the highest stored seq and the pruned floor; looked up once per device, then raised by
   * putMany). A board numbers its readings upwards, so almost every new reading is above it and
   * needs no lookup: `has` answers without SQL and `putMany` only inserts (the three lookups per
   * reading were ~8 % of the edge's CPU at 150 boards, docs/evaluation.md). Rows are only deleted
   * below it (rejected rows replaced, pruning), which leaves it a true bound.
   */
  private readonly freshFrom = new Map<string, number>();

  private constructor(db: Database.Database, options: OutboxOptions) {
    this.db = db;
    this.maxPending = options.maxPending ?? 100_000;
    this.stmts = this.prepare();
    for (const r of this.stmts.allPending.iterate() as Iterable<{ id: number; device_id: string; received_at: number }>) {
      this.track(r.id, r.device_id, r.received_at);
    }
    this.pending = this.pendingRows.size;
  }

  private track(id: number, deviceId: string, at: number): void {
    this.pendingRows.set(id, { deviceId, at });
    let d = this.byDevice.get(deviceId);
    if (!d) {
      d = { count: 0, ids: [], head: 0 };
      this.byDevice.set(deviceId, d);
    }
    d.count += 1;
    d.ids.push(id);
  }

  private untrack(id: number): void {
    const row = this.pendingRows.get(id);
    if (!row) return;
    this.pendingRows.delete(id);
    const d = this.byDevice.get(row.deviceId) as DevicePending;
    d.count -= 1;
    if (d.count === 0) this.byDevice.delete(row.deviceId);
  }

  /** The device's bound: no row has seq >= it (see freshFrom). */
  private freshSeq(deviceId: string): number {
    let f = this.freshFrom.get(deviceId);
    if (f === undefined) {
      const max = (this.stmts.maxSeq.get(deviceId) as { m: number | null }).m;
      const floor = this.stmts.floor.get(deviceId) as { pruned_through: number } | undefined;
      f = Math.max(max ?? -1, floor?.pruned_through ?? -1) + 1;
      this.freshFrom.set(deviceId, f);
    }
    return f;
  }

  /** Receive time of the device's oldest pending row (the lowest id still pending). */
  private oldestOf(d: DevicePending): number {
    while (!this.pendingRows.has(d.ids[d.head] as number)) d.head += 1;
    if (d.head > 64 && d.head * 2 > d.ids.length) {
      d.ids = d.ids.slice(d.head);
      d.head = 0;
    }
    return (this.pendingRows.get(d.ids[d.head] as number) as { at: number }).at;
  }

  /** Opens (or creates) the outbox file. */
  static async open(options: OutboxOptions): Promise<Outbox> {
    if (options.maxPending !== undefined && (!Number.isInteger(options.maxPending) || options.maxPending < 1)) {
      throw new RangeError(`outbox.maxPending must be an integer >= 1, got ${String(options.maxPending)}`);
    }
    const { default: Sqlite } = await import('better-sqlite3');
    let db: Database.Database;
    try {
      db = new Sqlite(options.path);
    } catch (err) {
      throw new ProvenantError('PROV_ERR_STORAGE', `cannot open outbox ${options.path}: ${(err as Error).message}`, { cause: err });
    }
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${options.synchronous === 'NORMAL' ? 'NORMAL' : 'FULL'}`);
    db.pragma('busy_timeout = 5000');
    db.exec(SCHEMA);
    return new Outbox(db, options);
  }

  private prepare() {
    const db = this.db;
    return {
      countState: db.prepare<[string]>('SELECT COUNT(*) AS n FROM readings WHERE state = ?'),
      allPending: db.prepare(`SELECT id, device_id, received_at FROM readings WHERE state = 'pending' ORDER BY id`),
      maxSeq: db.prepare<[string]>('SELECT MAX(seq) AS m FROM readings WHERE device_id = ?'),
      find: db.prepare<[string, number]>('SELECT data_hash, state FROM readings WHERE device_id = ? AND seq = ?'),
      deleteKey: db.prepare<[string, number]>(`DELETE FROM readings WHERE device_id = ? AND seq = ? AND state = 'rejected'`),
      floor: db.prepare<[string]>('SELECT pruned_through FROM device_floor WHERE device_id = ?'),
      insert: db.prepare(
        `INSERT INTO readings (device_id, seq, data_hash, partial_digest, submission, received_at, state)
         VALUES (@deviceId, @seq, @dataHash, @partialDigest, @submission, @receivedAt, 'pending')`,
      ),
      takePending: db.prepare<[number]>(
        `SELECT id, device_id, seq, data_hash, partial_digest, submission FROM readings WHERE state = 'pending' ORDER BY id LIMIT ?`,
      ),
      takePendingExcept: db.prepare<[string, number]>(
        `SELECT id, device_id, seq, data_hash, partial_digest, submission FROM readings
          WHERE state = 'pending' AND device_id NOT IN (SELECT value FROM json_each(?)) ORDER BY id LIMIT ?`,
      ),
      markCommitted: db.prepare<[string, number, number]>(
        `UPDATE readings SET state = 'committed', tx_id = ?, done_at = ? WHERE id = ? AND state = 'pending'`,
      ),
      markRejected: db.prepare<[string, string, number, number]>(
        `UPDATE readings SET state = 'rejected', reason = ?, tx_id = ?, done_at = ? WHERE id = ? AND state = 'pending'`,
      ),
      putPartial: db.prepare(
        `INSERT OR IGNORE INTO partials (digest, device_id, epoch, json, created_at) VALUES (@digest, @deviceId, @epoch, @json, @createdAt)`,
      ),
      getPartial: db.prepare<[string]>('SELECT json, on_ledger FROM partials WHERE digest = ?'),
      partialOnLedger: db.prepare<[string]>('UPDATE partials SET on_ledger = 1 WHERE digest = ?'),
      lastReadings: db.prepare<[string, number]>(
        `SELECT seq, data_hash, json_extract(submission, '$.canonical') AS canonical, received_at, state, reason, tx_id
           FROM readings WHERE device_id = ? ORDER BY seq DESC LIMIT ?`,
      ),
      pruneFloor: db.prepare<[number]>(
        `INSERT INTO device_floor (device_id, pruned_through)
           SELECT device_id, MAX(seq) FROM readings WHERE state != 'pending' AND done_at < ? GROUP BY device_id
         ON CONFLICT (device_id) DO UPDATE SET pruned_through = MAX(pruned_through, excluded.pruned_through)`,
      ),
      pruneRows: db.prepare<[number]>(`DELETE FROM readings WHERE state != 'pending' AND done_at < ?`),
      pruneSignatures: db.prepare<[number]>(`DELETE FROM signatures WHERE state != 'pending' AND done_at < ?`),
      putDeviceName: db.prepare(
        `INSERT INTO device_names (device_id, name, link, seen_at) VALUES (@deviceId, @name, @link, @seenAt)
         ON CONFLICT (device_id) DO UPDATE SET name = excluded.name, link = excluded.link, seen_at = excluded.seen_at`,
      ),
      deviceNames: db.prepare(`SELECT device_id AS deviceId, name, link, seen_at AS seenAt FROM device_names ORDER BY device_id`),
      findSignature: db.prepare<[string, string]>('SELECT id FROM signatures WHERE device_id = ? AND body_hash = ?'),
      countSignaturesPending: db.prepare<[string]>(`SELECT COUNT(*) AS n FROM signatures WHERE device_id = ? AND state = 'pending'`),
      insertSignature: db.prepare(
        `INSERT INTO signatures (device_id, kind, key_set, q, first_seq, last_seq, body, body_hash, received_at, state)
         VALUES (@deviceId, @kind, @keySet, @q, @firstSeq, @lastSeq, @body, @bodyHash, @receivedAt, 'pending')`,
      ),
      pendingSignatures: db.prepare<[number]>(
        `SELECT id, device_id, kind, key_set, q, first_seq, last_seq, body, body_hash, received_at FROM signatures
          WHERE state = 'pending' ORDER BY id LIMIT ?`,
      ),
      settleSignature: db.prepare<[string, string | null, string | null, number, number]>(
        `UPDATE signatures SET state = ?, reason = ?, tx_id = ?, done_at = ? WHERE id = ? AND state = 'pending'`,
      ),
      signatureCounts: db.prepare(`SELECT state, COUNT(*) AS n FROM signatures GROUP BY state`),
      anySignaturePending: db.prepare(`SELECT 1 AS one FROM signatures WHERE state = 'pending' LIMIT 1`),
      pendingInRange: db.prepare<[string, number, number]>(
        `SELECT COUNT(*) AS n FROM readings WHERE device_id = ? AND state = 'pending' AND seq BETWEEN ? AND ?`,
      ),
      hashesInRange: db.prepare<[string, number, number]>(
        `SELECT seq, data_hash, state FROM readings WHERE device_id = ? AND seq BETWEEN ? AND ?`,
      ),
    };
  }

  /** Readings waiting for the ledger. */
  get depth(): number {
    return this.pending;
  }

  /** The bound on waiting readings. */
  get capacity(): number {
    return this.maxPending;
  }

  /**
   * Stores readings in ONE transaction (group commit: a burst from many boards costs one fsync)
   * and returns each one's status, in order. When this returns, every 'stored' row is durable.
   */
  putMany(items: readonly OutboxItem[], receivedAt: number): PutStatus[] {
    const inserted: { id: number; deviceId: string }[] = [];
    // Bounds raised by rows inserted in this transaction (applied once it commits).
    const raised = new Map<string, number>();
    const run = this.db.transaction((batch: readonly OutboxItem[]) => {
      const out: PutStatus[] = [];
      let added = 0;
      for (const item of batch) {
        // Above the device's bound: no row, no floor to check (a board's next reading).
        const fresh = item.seq >= (raised.get(item.deviceId) ?? this.freshSeq(item.deviceId));
        const existing = fresh
          ? undefined
          : (this.stmts.find.get(item.deviceId, item.seq) as { data_hash: string; state: string } | undefined);
        if (existing) {
          if (existing.data_hash === item.dataHash) {
            out.push('duplicate');
            continue;
          }
          if (existing.state === 'committed') {
            out.push('conflict');
            continue;
          }
          if (existing.state === 'pending') {
            out.push('busy');
            continue;
          }
        }
        const floor = fresh ? undefined : (this.stmts.floor.get(item.deviceId) as { pruned_through: number } | undefined);
        if (floor && item.seq <= floor.pruned_through) {
          out.push('stale');
          continue;
        }
        if (this.pending + added >= this.maxPending) {
          out.push('full');
          continue;
        }
        if (existing) this.stmts.deleteKey.run(item.deviceId, item.seq);
        const info = this.stmts.insert.run({
          deviceId: item.deviceId,
          seq: item.seq,
          dataHash: item.dataHash,
          partialDigest: item.partialDigest,
          submission: JSON.stringify(item.submission),
          receivedAt,
        });
        inserted.push({ id: Number(info.lastInsertRowid), deviceId: item.deviceId });
        if (item.seq >= (raised.get(item.deviceId) ?? this.freshSeq(item.deviceId))) raised.set(item.deviceId, item.seq + 1);
        added += 1;
        out.push('stored');
      }
      return { out, added };
    });
    // Mirrored only once the transaction committed (a throw rolls it back and mirrors nothing).
    const { out, added } = run(items);
    for (const r of inserted) this.track(r.id, r.deviceId, receivedAt);
    for (const [deviceId, f] of raised) this.freshFrom.set(deviceId, f);
    this.pending += added;
    return out;
  }

  /** Is exactly this reading (same key, same content) stored? */
  has(deviceId: string, seq: number, dataHash: string): boolean {
    if (seq >= this.freshSeq(deviceId)) return false;
    const row = this.stmts.find.get(deviceId, seq) as { data_hash: string } | undefined;
    return row !== undefined && row.data_hash === dataHash;
  }

  /** Stores a partial signature so pending readings can still be submitted after a restart. */
  putPartial(partial: PartialSignatureJson, createdAt: number): void {
    this.stmts.putPartial.run({
      digest: partial.partialDigest,
      deviceId: partial.deviceId,
      epoch: partial.epoch,
      json: JSON.stringify(partial),
      createdAt,
    });
  }

  /** A stored partial and whether the ledger already has it. */
  getPartial(digest: string): { partial: PartialSignatureJson; onLedger: boolean } | undefined {
    const row = this.stmts.getPartial.get(digest) as { json: string; on_ledger: number } | undefined;
    return row ? { partial: JSON.parse(row.json) as PartialSignatureJson, onLedger: row.on_ledger === 1 } : undefined;
  }

  /** Remembers that the ledger holds these partials (they need not travel again). */
  markPartialsOnLedger(digests: readonly string[]): void {
    this.db.transaction((ds: readonly string[]) => {
      for (const d of ds) this.stmts.partialOnLedger.run(d);
    })(digests);
  }

  /**
   * The oldest waiting readings, in arrival order (they stay pending until marked), of devices
   * not in `except` (those that have a batch in flight: device affinity).
   */
  takeBatch(max: number, except: ReadonlySet<string> = new Set(), maxDevices = Infinity): PendingRow[] {
    type Row = { id: number; device_id: string; seq: number; data_hash: string; partial_digest: string; submission: string };
    // Rows of at most maxDevices devices: scan the oldest pending rows (a bounded window) and keep
    // those of the first devices met, so that concurrent batches can take the other devices.
    const window = maxDevices === Infinity ? max : max * 16;
    const scanned = (
      except.size === 0 ? this.stmts.takePending.all(window) : this.stmts.takePendingExcept.all(JSON.stringify([...except]), window)
    ) as Row[];
    const chosen = new Set<string>();
    const rows: Row[] = [];
    for (const r of scanned) {
      if (!chosen.has(r.device_id)) {
        if (chosen.size >= maxDevices) continue;
        chosen.add(r.device_id);
      }
      rows.push(r);
      if (rows.length === max) break;
    }
    return rows.map((r) => ({
      id: r.id,
      deviceId: r.device_id,
      seq: r.seq,
      dataHash: r.data_hash,
      partialDigest: r.partial_digest,
      submission: JSON.parse(r.submission) as ReadingSubmission,
    }));
  }

  /** Devices with waiting readings, not counting those in `except` (O(|except|), from memory). */
  pendingDevices(except: ReadonlySet<string>): number {
    let n = this.byDevice.size;
    for (const d of except) if (this.byDevice.has(d)) n -= 1;
    return n;
  }

  /**
   * Waiting readings of devices not in `except`, and the receive time of the oldest of them (that
   * of each device's earliest stored pending reading). From memory: O(devices with waiting
   * readings), whatever the backlog.
   */
  pendingExcept(except: ReadonlySet<string>): { count: number; oldest: number | undefined } {
    let count = 0;
    let oldest: number | undefined;
    for (const [deviceId, d] of this.byDevice) {
      if (except.has(deviceId)) continue;
      count += d.count;
      const at = this.oldestOf(d);
      if (oldest === undefined || at < oldest) oldest = at;
    }
    return { count, oldest };
  }

  /** Receive time (edge ms) of the oldest waiting reading, if any. */
  oldestPendingAt(): number | undefined {
    return this.pendingExcept(new Set()).oldest;
  }

  /**
   * Records the ledger's verdicts for a submitted batch in one transaction. Committed rows point at
   * `txId`, except those in `recordedBy` (row id → the earlier transaction that recorded them).
   */
  settle(
    txId: string,
    committedIds: readonly number[],
    rejected: readonly { id: number; reason: string }[],
    at: number,
    recordedBy: ReadonlyMap<number, string> = new Map(),
  ): void {
    const done: number[] = [];
    const run = this.db.transaction(() => {
      for (const id of committedIds) if (this.stmts.markCommitted.run(recordedBy.get(id) ?? txId, at, id).changes > 0) done.push(id);
      for (const r of rejected) if (this.stmts.markRejected.run(r.reason, txId, at, r.id).changes > 0) done.push(r.id);
    });
    run();
    for (const id of done) this.untrack(id);
    this.pending -= done.length;
  }

  /** Counts by state (a full count query: for metrics scrapes and the API, not the hot path). */
  counts(): OutboxCounts {
    const n = (s: string): number => (this.stmts.countState.get(s) as { n: number }).n;
    return { pending: n('pending'), committed: n('committed'), rejected: n('rejected') };
  }

  /** The device's most recent stored readings, newest first. */
  lastReadings(deviceId: string, limit: number): StoredReading[] {
    const rows = this.stmts.lastReadings.all(deviceId, limit) as {
      seq: number;
      data_hash: string;
      canonical: string;
      received_at: number;
      state: StoredReading['state'];
      reason: string | null;
      tx_id: string | null;
    }[];
    return rows.map((r) => ({
      seq: r.seq,
      dataHash: r.data_hash,
      canonical: r.canonical,
      receivedAt: r.received_at,
      state: r.state,
      reason: r.reason,
      txId: r.tx_id,
    }));
  }

  /**
   * Deletes settled readings older than `olderThan` (edge ms). Each device's floor rises to the
   * highest pruned seq, so a later copy of a pruned reading is refused as a replay ('stale').
   */
  prune(olderThan: number): number {
    return this.db.transaction(() => {
      this.stmts.pruneFloor.run(olderThan);
      this.stmts.pruneSignatures.run(olderThan);
      return this.stmts.pruneRows.run(olderThan).changes;
    })();
  }

  /**
   * Stores a SIG body durably (one transaction, on disk when this returns, like a reading before
   * its ACK). The same body again is a duplicate; a device with MAX_PENDING_SIGNATURES_PER_DEVICE
   * bodies already waiting gets 'full'.
   */
  putSignature(item: SignatureItem, receivedAt: number): SignaturePutStatus {
    return this.db.transaction((): SignaturePutStatus => {
      if (this.stmts.findSignature.get(item.deviceId, item.bodyHash) !== undefined) return 'duplicate';
      const waiting = (this.stmts.countSignaturesPending.get(item.deviceId) as { n: number }).n;
      if (waiting >= MAX_PENDING_SIGNATURES_PER_DEVICE) return 'full';
      this.stmts.insertSignature.run({
        deviceId: item.deviceId,
        kind: item.kind,
        keySet: item.keySet,
        q: item.q,
        firstSeq: item.firstSeq ?? null,
        lastSeq: item.lastSeq ?? null,
        body: item.body,
        bodyHash: item.bodyHash,
        receivedAt,
      });
      return 'stored';
    })();
  }

  /** SIG bodies waiting for the ledger, in arrival order. */
  pendingSignatures(limit = 64): PendingSignature[] {
    type Row = {
      id: number;
      device_id: string;
      kind: number;
      key_set: number;
      q: number;
      first_seq: number | null;
      last_seq: number | null;
      body: string;
      body_hash: string;
      received_at: number;
    };
    return (this.stmts.pendingSignatures.all(limit) as Row[]).map((r) => ({
      id: r.id,
      deviceId: r.device_id,
      kind: r.kind,
      keySet: r.key_set,
      q: r.q,
      ...(r.first_seq !== null ? { firstSeq: r.first_seq } : {}),
      ...(r.last_seq !== null ? { lastSeq: r.last_seq } : {}),
      body: r.body,
      bodyHash: r.body_hash,
      receivedAt: r.received_at,
    }));
  }

  /** Is any SIG body waiting for the ledger? */
  hasPendingSignatures(): boolean {
    return this.stmts.anySignaturePending.get() !== undefined;
  }

  /** Records the ledger's verdict on a SIG body. */
  settleSignature(id: number, state: 'recorded' | 'rejected', reason: string | null, txId: string | null, at: number): void {
    this.stmts.settleSignature.run(state, reason, txId, at, id);
  }

  /** SIG bodies by state. */
  signatureCounts(): { pending: number; recorded: number; rejected: number } {
    const out = { pending: 0, recorded: 0, rejected: 0 };
    for (const r of this.stmts.signatureCounts.all() as { state: keyof typeof out; n: number }[]) out[r.state] = r.n;
    return out;
  }

  /** Are readings of the device with seq in [from, to] still waiting for the ledger? */
  hasPendingReadings(deviceId: string, from: number, to: number): boolean {
    return (this.stmts.pendingInRange.get(deviceId, from, to) as { n: number }).n > 0;
  }

  /**
   * The dataHashes this edge holds for the device's seqs in [from, to] (committed, rejected or
   * pending: whatever the board sent), seq → hex.
   */
  dataHashes(deviceId: string, from: number, to: number): Map<number, string> {
    const out = new Map<number, string>();
    for (const r of this.stmts.hashesInRange.all(deviceId, from, to) as { seq: number; data_hash: string }[]) out.set(r.seq, r.data_hash);
    return out;
  }

  /** Closes the database (checkpointing the WAL). */
  /** Keeps a device's board name (and the link it was on) across sessions and restarts. */
  putDeviceName(entry: DeviceName): void {
    this.stmts.putDeviceName.run(entry);
  }

  /** Every device's last known board name, by deviceId. */
  deviceNames(): DeviceName[] {
    return this.stmts.deviceNames.all() as DeviceName[];
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

/**
 * The provenance database (BRIEF §1, §8): raw readings, keyed by dataHash, with their status.
 * The ledger holds hashes, identities and verdicts; this holds the bytes they are hashes of.
 *
 * One table, SQLite in WAL mode (better-sqlite3, synchronous). Two readings that claim the same
 * (deviceId, seq) with different bytes are two rows: a tampered copy never overwrites the
 * original. Status moves: submitted → committed | rejected (the contract's verdict), and an
 * audit sets proven | not_proven | unrecorded | signature_mismatch with its evidence.
 */
import type { Database, Statement } from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { decodeReading } from '../../shared/encoding/reading.js';
import { ProvenantError } from '../../shared/errors.js';
import type { BatchResult, ReadingSubmission } from '../../shared/records.js';

/** Where a reading stands. */
export type ReadingStatus = 'submitted' | 'committed' | 'rejected' | 'proven' | 'not_proven' | 'unrecorded' | 'signature_mismatch';

/** One stored reading. */
export interface StoredReading {
  readonly dataHash: string;
  readonly deviceId: string;
  readonly seq: number;
  readonly t: number;
  readonly epoch: number;
  /** Canonical reading bytes. */
  readonly canonical: Uint8Array;
  /** Hex tag the device attached. */
  readonly tag: string;
  readonly edgeId: string;
  readonly receivedAt: number;
  readonly status: ReadingStatus;
  /** Rejection reason or audit message, '' if none. */
  readonly reason: string;
  readonly txId: string | null;
  readonly blockNumber: number | null;
  /** ms since 1970 of the last status change. */
  readonly updatedAt: number;
  /** JSON of the last audit's evidence, null before any audit. */
  readonly evidence: string | null;
}

interface Row {
  data_hash: string;
  device_id: string;
  seq: number;
  t: number;
  epoch: number;
  canonical: Buffer;
  tag: string;
  edge_id: string;
  received_at: number;
  status: ReadingStatus;
  reason: string;
  tx_id: string | null;
  block_number: number | null;
  updated_at: number;
  evidence: string | null;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS readings (
  data_hash    TEXT PRIMARY KEY,
  device_id    TEXT NOT NULL,
  seq          INTEGER NOT NULL,
  t            INTEGER NOT NULL,
  epoch        INTEGER NOT NULL,
  canonical    BLOB NOT NULL,
  tag          TEXT NOT NULL,
  edge_id      TEXT NOT NULL,
  received_at  INTEGER NOT NULL,
  status       TEXT NOT NULL,
  reason       TEXT NOT NULL DEFAULT '',
  tx_id        TEXT,
  block_number INTEGER,
  updated_at   INTEGER NOT NULL,
  evidence     TEXT
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS readings_device_seq ON readings(device_id, seq);
CREATE INDEX IF NOT EXISTS readings_device_t ON readings(device_id, t);
CREATE INDEX IF NOT EXISTS readings_status ON readings(status);
`;

function fromRow(r: Row): StoredReading {
  return {
    dataHash: r.data_hash,
    deviceId: r.device_id,
    seq: r.seq,
    t: r.t,
    epoch: r.epoch,
    canonical: new Uint8Array(r.canonical),
    tag: r.tag,
    edgeId: r.edge_id,
    receivedAt: r.received_at,
    status: r.status,
    reason: r.reason,
    txId: r.tx_id,
    blockNumber: r.block_number,
    updatedAt: r.updated_at,
    evidence: r.evidence,
  };
}

/** The provenance database. */
export class ProvenanceDb {
  private readonly insert: Statement;
  private readonly update: Statement;
  private readonly byHash: Statement;
  private readonly bySeq: Statement;
  private readonly byTime: Statement;

  private constructor(
    private readonly db: Database,
    private readonly clock: () => number,
  ) {
    db.exec(SCHEMA);
    this.insert = db.prepare(
      `INSERT OR IGNORE INTO readings (data_hash, device_id, seq, t, epoch, canonical, tag, edge_id, received_at, status, reason, updated_at)
       VALUES (@dataHash, @deviceId, @seq, @t, @epoch, @canonical, @tag, @edgeId, @receivedAt, 'submitted', '', @now)`,
    );
    this.update = db.prepare(
      `UPDATE readings SET status = @status, reason = @reason, tx_id = COALESCE(@txId, tx_id), block_number = COALESCE(@blockNumber, block_number),
       evidence = COALESCE(@evidence, evidence), updated_at = @now WHERE data_hash = @dataHash`,
    );
    this.byHash = db.prepare('SELECT * FROM readings WHERE data_hash = ?');
    this.bySeq = db.prepare('SELECT * FROM readings WHERE device_id = ? AND seq = ? ORDER BY received_at, data_hash');
    this.byTime = db.prepare('SELECT * FROM readings WHERE device_id = ? AND t = ? ORDER BY seq, received_at, data_hash');
  }

  /** Opens (or creates) the database at `path` in WAL mode. */
  static async open(path: string, options: { clock?: () => number } = {}): Promise<ProvenanceDb> {
    const { default: Sqlite } = await import('better-sqlite3');
    let db: Database | undefined;
    try {
      db = new Sqlite(path);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('busy_timeout = 5000');
      return new ProvenanceDb(db, options.clock ?? Date.now);
    } catch (err) {
      db?.close();
      throw new ProvenantError('PROV_ERR_STORAGE', `cannot open the provenance database ${path}: ${(err as Error).message}`, {
        field: path,
        cause: err,
      });
    }
  }

  /**
   * Stores raw readings (status submitted; a reading already present keeps its status).
   * Returns their dataHashes in order; throws PROV_ERR_MALFORMED for bytes that do not decode.
   */
  putSubmissions(subs: readonly ReadingSubmission[]): string[] {
    return this.insertAll(subs, true) as string[];
  }

  /** Inserts in one SQLite transaction; `strict` false: undecodable bytes give undefined, not an error. */
  private insertAll(subs: readonly ReadingSubmission[], strict: boolean): (string | undefined)[] {
    const now = this.clock();
    const hashes: (string | undefined)[] = [];
    this.db.transaction(() => {
      for (const s of subs) {
        const canonical = Buffer.from(s.canonical, 'hex');
        let r;
        try {
          r = decodeReading(canonical);
        } catch (err) {
          if (strict) throw err;
          hashes.push(undefined);
          continue;
        }
        const dataHash = createHash('sha256').update(canonical).digest('hex');
        this.insert.run({
          dataHash,
          deviceId: r.deviceId,
          seq: r.seq,
          t: r.t,
          epoch: r.epoch,
          canonical,
          tag: s.tag,
          edgeId: s.edgeId,
          receivedAt: s.receivedAt,
          now,
        });
        hashes.push(dataHash);
      }
    })();
    return hashes;
  }

  /**
   * Applies the Data Provenance contract's result to the submissions of that batch (same order):
   * committed, or rejected with the reason; a duplicate resend counts as committed. Bytes that do
   * not decode (the contract rejected them as MALFORMED) have no row to key and are skipped.
   */
  applyBatchResult(subs: readonly ReadingSubmission[], result: BatchResult, blockNumber?: number): void {
    const hashes = this.insertAll(subs, false);
    const rejected = new Map(result.rejected.map((r) => [r.index, r]));
    const now = this.clock();
    this.db.transaction(() => {
      hashes.forEach((dataHash, i) => {
        if (dataHash === undefined) return;
        const r = rejected.get(i);
        const committed = r === undefined || r.duplicate === true;
        this.update.run({
          dataHash,
          status: committed ? 'committed' : 'rejected',
          reason: r === undefined ? '' : `${r.reason}: ${r.message}`,
          txId: r === undefined ? result.txId : null,
          blockNumber: r === undefined ? (blockNumber ?? null) : null,
          evidence: null,
          now,
        });
      });
    })();
  }

  /** Sets an audit outcome. Returns false when no reading has that dataHash. */
  setStatus(
    dataHash: string,
    status: ReadingStatus,
    fields: { reason?: string; txId?: string; blockNumber?: number; evidence?: unknown } = {},
  ): boolean {
    const info = this.update.run({
      dataHash,
      status,
      reason: fields.reason ?? '',
      txId: fields.txId ?? null,
      blockNumber: fields.blockNumber ?? null,
      evidence: fields.evidence === undefined ? null : JSON.stringify(fields.evidence),
      now: this.clock(),
    });
    return info.changes > 0;
  }

  /** The reading with that dataHash. */
  get(dataHash: string): StoredReading | undefined {
    const r = this.byHash.get(dataHash) as Row | undefined;
    return r === undefined ? undefined : fromRow(r);
  }

  /** Every stored reading claiming (deviceId, seq). */
  findBySeq(deviceId: string, seq: number): StoredReading[] {
    return (this.bySeq.all(deviceId, seq) as Row[]).map(fromRow);
  }

  /** Every stored reading of deviceId stamped t. */
  findByTime(deviceId: string, t: number): StoredReading[] {
    return (this.byTime.all(deviceId, t) as Row[]).map(fromRow);
  }

  /** How many readings are in each status. */
  counts(): Partial<Record<ReadingStatus, number>> {
    const rows = this.db.prepare('SELECT status, COUNT(*) AS n FROM readings GROUP BY status ORDER BY status').all() as {
      status: ReadingStatus;
      n: number;
    }[];
    return Object.fromEntries(rows.map((r) => [r.status, r.n]));
  }

  close(): void {
    this.db.close();
  }
}

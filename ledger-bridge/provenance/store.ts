/**
 * The provenance database (BRIEF §1, §8): the raw readings the ledger holds hashes of — their
 * canonical bytes and decoded values — with the ledger record's coordinates (transaction, block),
 * a validation status, the history of verdicts the auditor gave, and re-validation jobs.
 *
 * It is derived data: the follower (follower.ts) fills it from the ledger's committed
 * transactions, so it can be rebuilt from the ledger at any time. SQLite (one file) by default,
 * PostgreSQL for plants that outgrow a file; the same SQL runs on both (sql.ts).
 *
 * Readings are keyed by dataHash: two readings that claim the same (deviceId, seq) with different
 * bytes (a tampered or forged copy the ledger refused) are two rows, and a copy never overwrites
 * another. Status: committed (recorded on the ledger, not audited since) | rejected (the contract
 * refused it; reason kept) | and, after an audit, proven | not_proven | unrecorded |
 * signature_mismatch.
 */
import { createHash } from 'node:crypto';
import { decodeReading } from '../../shared/encoding/reading.js';
import { ProvenantError } from '../../shared/errors.js';
import type { ReadingSubmission } from '../../shared/records.js';
import { openSql, redactUrl, type SqlEngine, type SqlRow, type SqlValue } from './sql.js';

/** Where a reading stands. */
export type ReadingStatus = 'committed' | 'rejected' | 'proven' | 'not_proven' | 'unrecorded' | 'signature_mismatch';

/** The reading's values as decoded from its canonical bytes (fields beyond v1 appear when present). */
export interface DecodedValues {
  readonly batteryMv: number;
  readonly channels: readonly { readonly id: number; readonly scale: number; readonly value: number }[];
  readonly [field: string]: unknown;
}

/** One stored reading. */
export interface StoredReading {
  readonly dataHash: string;
  readonly deviceId: string;
  readonly seq: number;
  readonly t: number;
  readonly epoch: number;
  /** Canonical reading bytes. */
  readonly canonical: Uint8Array;
  /** Decoded values (channels, battery, and any later-version fields). */
  readonly values: DecodedValues;
  /** Hex tag the device attached. */
  readonly tag: string;
  readonly edgeId: string;
  /** Edge receive time, ms since 1970. */
  readonly receivedAt: number;
  readonly path: readonly string[];
  readonly status: ReadingStatus;
  /** Rejection reason or the last audit's message, '' if none. */
  readonly reason: string;
  /** What the ledger's contract decided when it saw it (never changed by an audit), and why if refused. */
  readonly outcome: 'committed' | 'rejected';
  readonly outcomeReason: string;
  /** The transaction that recorded (or refused) it, and its block. */
  readonly txId: string | null;
  readonly blockNumber: number | null;
  /** ms since 1970: when this database learnt of it, and of its last status change. */
  readonly recordedAt: number;
  readonly updatedAt: number;
  /** The last audit's evidence (parsed JSON), null before any audit. */
  readonly evidence: unknown;
}

/** One verdict the auditor gave (the history of a reading). */
export interface VerdictEntry {
  readonly id: number;
  readonly dataHash: string;
  readonly deviceId: string;
  readonly locator: string;
  readonly verdict: string;
  readonly genuine: boolean;
  readonly message: string;
  readonly headHeight: number | null;
  readonly headHash: string | null;
  /** Who asked: 'api', 'edge:<edgeId>', 'console', 'cli', 'job:<id>'. */
  readonly askedBy: string;
  readonly at: number;
}

/** A re-validation job over a range of stored readings. */
export interface JobRow {
  readonly id: number;
  readonly deviceId: string | null;
  readonly fromT: number | null;
  readonly toT: number | null;
  readonly state: 'queued' | 'running' | 'done' | 'failed' | 'interrupted';
  readonly total: number;
  readonly done: number;
  /** Verdict → count so far. */
  readonly counts: Record<string, number>;
  readonly error: string | null;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** A range of stored readings. */
export interface ReadingRange {
  readonly deviceId?: string;
  /** Device time window, ms since 1970, inclusive. */
  readonly fromT?: number;
  readonly toT?: number;
  readonly status?: ReadingStatus;
}

/** One committed transaction's readings, as the follower hands them over. */
export interface IngestTx {
  readonly txId: string;
  readonly blockNumber: number;
  readonly readings: readonly ReadingSubmission[];
  /** Index in `readings` → the contract's refusal. */
  readonly rejected: ReadonlyMap<number, { reason: string; message: string; duplicate?: true }>;
}

/** What one ingest did. */
export interface IngestCounts {
  committed: number;
  rejected: number;
  /** Already present (a replayed block, a duplicate resend). */
  unchanged: number;
  /** Bytes that do not decode: nothing to key them by. */
  undecodable: number;
}

const SCHEMA_VERSION = '3';

function schema(dialect: SqlEngine['dialect']): string {
  const bytes = dialect === 'postgres' ? 'BYTEA' : 'BLOB';
  const serial = dialect === 'postgres' ? 'BIGSERIAL PRIMARY KEY' : 'INTEGER PRIMARY KEY AUTOINCREMENT';
  return `
CREATE TABLE IF NOT EXISTS provenance_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS readings (
  data_hash    TEXT PRIMARY KEY,
  device_id    TEXT NOT NULL,
  seq          BIGINT NOT NULL,
  t            BIGINT NOT NULL,
  epoch        BIGINT NOT NULL,
  canonical    ${bytes} NOT NULL,
  reading_json TEXT NOT NULL,
  tag          TEXT NOT NULL,
  edge_id      TEXT NOT NULL,
  received_at  BIGINT NOT NULL,
  path_json    TEXT NOT NULL,
  status       TEXT NOT NULL,
  reason       TEXT NOT NULL DEFAULT '',
  outcome      TEXT NOT NULL,
  outcome_reason TEXT NOT NULL DEFAULT '',
  tx_id        TEXT,
  block_number BIGINT,
  recorded_at  BIGINT NOT NULL,
  updated_at   BIGINT NOT NULL,
  evidence     TEXT
);
CREATE INDEX IF NOT EXISTS readings_device_seq ON readings (device_id, seq);
CREATE INDEX IF NOT EXISTS readings_device_t ON readings (device_id, t);
CREATE INDEX IF NOT EXISTS readings_status ON readings (status);
CREATE INDEX IF NOT EXISTS readings_received ON readings (received_at);
CREATE TABLE IF NOT EXISTS verdicts (
  id          ${serial},
  data_hash   TEXT NOT NULL,
  device_id   TEXT NOT NULL,
  locator     TEXT NOT NULL,
  verdict     TEXT NOT NULL,
  genuine     INTEGER NOT NULL,
  message     TEXT NOT NULL,
  head_height BIGINT,
  head_hash   TEXT,
  asked_by    TEXT NOT NULL,
  at          BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS verdicts_hash ON verdicts (data_hash, id);
CREATE INDEX IF NOT EXISTS verdicts_device ON verdicts (device_id, id);
CREATE TABLE IF NOT EXISTS follower_cursor (
  name       TEXT PRIMARY KEY,
  last_block BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS jobs (
  id          ${serial},
  device_id   TEXT,
  from_t      BIGINT,
  to_t        BIGINT,
  state       TEXT NOT NULL,
  total       BIGINT NOT NULL,
  done        BIGINT NOT NULL,
  counts      TEXT NOT NULL,
  error       TEXT,
  created_at  BIGINT NOT NULL,
  updated_at  BIGINT NOT NULL
);
`;
}

const num = (v: unknown): number => (typeof v === 'number' ? v : Number(v));
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : num(v));
const parse = (v: unknown): unknown => (typeof v === 'string' ? (JSON.parse(v) as unknown) : null);

function fromRow(r: SqlRow): StoredReading {
  return {
    dataHash: String(r['data_hash']),
    deviceId: String(r['device_id']),
    seq: num(r['seq']),
    t: num(r['t']),
    epoch: num(r['epoch']),
    canonical: new Uint8Array(r['canonical'] as Buffer),
    values: JSON.parse(String(r['reading_json'])) as DecodedValues,
    tag: String(r['tag']),
    edgeId: String(r['edge_id']),
    receivedAt: num(r['received_at']),
    path: JSON.parse(String(r['path_json'])) as string[],
    status: r['status'] as ReadingStatus,
    reason: String(r['reason']),
    outcome: r['outcome'] as 'committed' | 'rejected',
    outcomeReason: String(r['outcome_reason']),
    txId: (r['tx_id'] as string | null) ?? null,
    blockNumber: numOrNull(r['block_number']),
    recordedAt: num(r['recorded_at']),
    updatedAt: num(r['updated_at']),
    evidence: parse(r['evidence']),
  };
}

function verdictFromRow(r: SqlRow): VerdictEntry {
  return {
    id: num(r['id']),
    dataHash: String(r['data_hash']),
    deviceId: String(r['device_id']),
    locator: String(r['locator']),
    verdict: String(r['verdict']),
    genuine: num(r['genuine']) === 1,
    message: String(r['message']),
    headHeight: numOrNull(r['head_height']),
    headHash: (r['head_hash'] as string | null) ?? null,
    askedBy: String(r['asked_by']),
    at: num(r['at']),
  };
}

function jobFromRow(r: SqlRow): JobRow {
  return {
    id: num(r['id']),
    deviceId: (r['device_id'] as string | null) ?? null,
    fromT: numOrNull(r['from_t']),
    toT: numOrNull(r['to_t']),
    state: r['state'] as JobRow['state'],
    total: num(r['total']),
    done: num(r['done']),
    counts: JSON.parse(String(r['counts'])) as Record<string, number>,
    error: (r['error'] as string | null) ?? null,
    createdAt: num(r['created_at']),
    updatedAt: num(r['updated_at']),
  };
}

/** The decoded reading as stored JSON: every field but the ones kept in columns; bytes as hex. */
function valuesOf(reading: object): DecodedValues {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(reading)) {
    if (k === 'deviceId' || k === 'seq' || k === 't' || k === 'epoch') continue;
    out[k] = v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v;
  }
  return out as unknown as DecodedValues;
}

function rangeWhere(range: ReadingRange): { sql: string; params: SqlValue[] } {
  const parts: string[] = [];
  const params: SqlValue[] = [];
  if (range.deviceId !== undefined) {
    parts.push('device_id = ?');
    params.push(range.deviceId);
  }
  if (range.fromT !== undefined) {
    parts.push('t >= ?');
    params.push(range.fromT);
  }
  if (range.toT !== undefined) {
    parts.push('t <= ?');
    params.push(range.toT);
  }
  if (range.status !== undefined) {
    parts.push('status = ?');
    params.push(range.status);
  }
  return { sql: parts.length === 0 ? '' : `WHERE ${parts.join(' AND ')}`, params };
}

/** The provenance database over SQLite or PostgreSQL. */
export class ProvenanceDb {
  /** Audit outcomes waiting for the next group commit (recordAudit). */
  private readonly audits: {
    readonly dataHash: string;
    readonly status: ReadingStatus;
    readonly fields: { reason?: string; evidence?: unknown };
    readonly verdict: Omit<VerdictEntry, 'id' | 'at' | 'dataHash'>;
    readonly resolve: (written: boolean) => void;
    readonly reject: (err: unknown) => void;
  }[] = [];

  private constructor(
    private readonly sql: SqlEngine,
    /** Where it lives (a path, or a postgres:// URL with the password hidden). */
    readonly location: string,
    private readonly clock: () => number,
  ) {}

  /** 'sqlite' or 'postgres'. */
  get dialect(): SqlEngine['dialect'] {
    return this.sql.dialect;
  }

  /**
   * Opens (or creates) the database: a file path (SQLite, WAL) or a `postgres://` URL. A database
   * created by an older layout is refused with the way out (it is derived data: rebuild it).
   */
  static async open(location: string, options: { clock?: () => number } = {}): Promise<ProvenanceDb> {
    const sql = await openSql(location);
    const db = new ProvenanceDb(sql, redactUrl(location), options.clock ?? Date.now);
    try {
      await db.migrate();
    } catch (err) {
      await sql.close();
      if (err instanceof ProvenantError) throw err;
      throw new ProvenantError('PROV_ERR_STORAGE', `cannot set up the provenance database ${db.location}: ${(err as Error).message}`, {
        field: 'provenance.db',
      });
    }
    return db;
  }

  private async migrate(): Promise<void> {
    const old = await this.sql
      .all(
        this.sql.dialect === 'postgres'
          ? "SELECT column_name AS name FROM information_schema.columns WHERE table_name = 'readings' AND table_schema = current_schema()"
          : "SELECT name FROM pragma_table_info('readings')",
      )
      .then((rows) => rows.map((r) => String(r['name'])));
    if (old.length > 0 && !old.includes('outcome_reason')) {
      throw new ProvenantError(
        'PROV_ERR_STORAGE',
        `the provenance database ${this.location} has an older layout; it is derived from the ledger: move it away and the follower rebuilds it from block 0`,
        { field: 'provenance.db' },
      );
    }
    await this.sql.exec(schema(this.sql.dialect));
    await this.sql.run('INSERT INTO provenance_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING', [
      'schema_version',
      SCHEMA_VERSION,
    ]);
    // Jobs that were running when the process stopped do not run any more.
    await this.sql.run("UPDATE jobs SET state = 'interrupted', updated_at = ? WHERE state IN ('queued', 'running')", [this.clock()]);
  }

  // ------------------------------------------------------------------ the follower's side

  /** The block the named follower last applied (it resumes there: applying is idempotent), or null. */
  async cursor(name: string): Promise<number | null> {
    const rows = await this.sql.all('SELECT last_block FROM follower_cursor WHERE name = ?', [name]);
    return rows.length === 0 ? null : num(rows[0]?.['last_block']);
  }

  /**
   * Applies one committed transaction's readings and moves the follower's cursor, in one
   * database transaction. Accepted readings become `committed` (a row the contract had refused
   * earlier is upgraded; a row already committed or audited keeps its status); refused ones are
   * stored as `rejected` with the reason, unless the refusal is a duplicate of a recorded reading.
   */
  async ingest(follower: string, tx: IngestTx): Promise<IngestCounts> {
    const counts: IngestCounts = { committed: 0, rejected: 0, unchanged: 0, undecodable: 0 };
    const now = this.clock();
    await this.sql.transaction(async (q) => {
      for (let i = 0; i < tx.readings.length; i++) {
        const s = tx.readings[i] as ReadingSubmission;
        const refusal = tx.rejected.get(i);
        if (refusal?.duplicate === true) {
          counts.unchanged++;
          continue;
        }
        const canonical = Buffer.from(s.canonical, 'hex');
        let reading;
        try {
          reading = decodeReading(canonical);
        } catch {
          counts.undecodable++;
          continue;
        }
        const dataHash = createHash('sha256').update(canonical).digest('hex');
        const status: ReadingStatus = refusal === undefined ? 'committed' : 'rejected';
        const reason = refusal === undefined ? '' : `${refusal.reason}: ${refusal.message}`;
        const changed = await q.run(
          `INSERT INTO readings (data_hash, device_id, seq, t, epoch, canonical, reading_json, tag, edge_id, received_at, path_json,
             status, reason, outcome, outcome_reason, tx_id, block_number, recorded_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (data_hash) DO UPDATE SET status = excluded.status, reason = excluded.reason, outcome = excluded.outcome,
             outcome_reason = excluded.outcome_reason, tx_id = excluded.tx_id,
             block_number = excluded.block_number, updated_at = excluded.updated_at
           WHERE readings.status = 'rejected' AND excluded.status = 'committed'`,
          [
            dataHash,
            reading.deviceId,
            reading.seq,
            reading.t,
            reading.epoch,
            canonical,
            JSON.stringify(valuesOf(reading)),
            s.tag,
            s.edgeId,
            s.receivedAt,
            JSON.stringify(s.path),
            status,
            reason,
            status,
            reason,
            tx.txId,
            tx.blockNumber,
            now,
            now,
          ],
        );
        if (changed === 0) counts.unchanged++;
        else if (status === 'committed') counts.committed++;
        else counts.rejected++;
      }
      await q.run(
        `INSERT INTO follower_cursor (name, last_block, updated_at) VALUES (?, ?, ?)
         ON CONFLICT (name) DO UPDATE SET last_block = excluded.last_block, updated_at = excluded.updated_at`,
        [follower, tx.blockNumber, now],
      );
    });
    return counts;
  }

  /** Moves a follower's cursor without readings (a block with no reading transactions). */
  async setCursor(follower: string, block: number): Promise<void> {
    await this.sql.run(
      `INSERT INTO follower_cursor (name, last_block, updated_at) VALUES (?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET last_block = excluded.last_block, updated_at = excluded.updated_at`,
      [follower, block, this.clock()],
    );
  }

  // ------------------------------------------------------------------ the auditor's side

  /** Sets an audit outcome with its evidence. Returns false when no reading has that dataHash. */
  async setStatus(dataHash: string, status: ReadingStatus, fields: { reason?: string; evidence?: unknown } = {}): Promise<boolean> {
    const changed = await this.sql.run(
      'UPDATE readings SET status = ?, reason = ?, evidence = COALESCE(?, evidence), updated_at = ? WHERE data_hash = ?',
      [status, fields.reason ?? '', fields.evidence === undefined ? null : JSON.stringify(fields.evidence), this.clock(), dataHash],
    );
    return changed > 0;
  }

  /**
   * An audit outcome and its verdict entry (when a reading has that dataHash), written together:
   * the outcomes of questions answered at the same time go in one transaction (one commit for
   * many answers, not two per answer: an auditor answering hundreds of questions a second spent
   * a tenth of its CPU on commits). Resolves, once committed, to whether a reading was updated.
   */
  recordAudit(
    dataHash: string,
    status: ReadingStatus,
    fields: { reason?: string; evidence?: unknown },
    verdict: Omit<VerdictEntry, 'id' | 'at' | 'dataHash'>,
  ): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      this.audits.push({ dataHash, status, fields, verdict, resolve, reject });
      if (this.audits.length === 1) setImmediate(() => void this.flushAudits());
    });
  }

  private async flushAudits(): Promise<void> {
    const batch = this.audits.splice(0);
    try {
      const written = await this.sql.transaction(async (q) => {
        const out: boolean[] = [];
        for (const a of batch) {
          const at = this.clock();
          const changed = await q.run(
            'UPDATE readings SET status = ?, reason = ?, evidence = COALESCE(?, evidence), updated_at = ? WHERE data_hash = ?',
            [a.status, a.fields.reason ?? '', a.fields.evidence === undefined ? null : JSON.stringify(a.fields.evidence), at, a.dataHash],
          );
          if (changed > 0) {
            const v = a.verdict;
            await q.run(
              `INSERT INTO verdicts (data_hash, device_id, locator, verdict, genuine, message, head_height, head_hash, asked_by, at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
              [a.dataHash, v.deviceId, v.locator, v.verdict, v.genuine ? 1 : 0, v.message, v.headHeight, v.headHash, v.askedBy, at],
            );
          }
          out.push(changed > 0);
        }
        return out;
      });
      batch.forEach((a, i) => a.resolve(written[i] === true));
    } catch (err) {
      for (const a of batch) a.reject(err);
    }
  }

  /** Appends a verdict to the history. */
  async addVerdict(v: Omit<VerdictEntry, 'id' | 'at'>): Promise<VerdictEntry> {
    const at = this.clock();
    const rows = await this.sql.all(
      `INSERT INTO verdicts (data_hash, device_id, locator, verdict, genuine, message, head_height, head_hash, asked_by, at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
      [v.dataHash, v.deviceId, v.locator, v.verdict, v.genuine ? 1 : 0, v.message, v.headHeight, v.headHash, v.askedBy, at],
    );
    return { ...v, id: num(rows[0]?.['id']), at };
  }

  /** Verdict history, newest first: of one reading (dataHash), one device, or all. */
  async verdicts(filter: { dataHash?: string; deviceId?: string; limit?: number } = {}): Promise<VerdictEntry[]> {
    const limit = Math.min(Math.max(filter.limit ?? 50, 1), 1000);
    const where = filter.dataHash !== undefined ? 'WHERE data_hash = ?' : filter.deviceId !== undefined ? 'WHERE device_id = ?' : '';
    const params: SqlValue[] = filter.dataHash !== undefined ? [filter.dataHash] : filter.deviceId !== undefined ? [filter.deviceId] : [];
    const rows = await this.sql.all(`SELECT * FROM verdicts ${where} ORDER BY id DESC LIMIT ?`, [...params, limit]);
    return rows.map(verdictFromRow);
  }

  // ------------------------------------------------------------------ reading

  /** The reading with that dataHash. */
  async get(dataHash: string): Promise<StoredReading | undefined> {
    const rows = await this.sql.all('SELECT * FROM readings WHERE data_hash = ?', [dataHash]);
    return rows[0] === undefined ? undefined : fromRow(rows[0]);
  }

  /** Every stored reading claiming (deviceId, seq). */
  async findBySeq(deviceId: string, seq: number): Promise<StoredReading[]> {
    const rows = await this.sql.all('SELECT * FROM readings WHERE device_id = ? AND seq = ? ORDER BY recorded_at, data_hash', [
      deviceId,
      seq,
    ]);
    return rows.map(fromRow);
  }

  /** Every stored reading of deviceId stamped t. */
  async findByTime(deviceId: string, t: number): Promise<StoredReading[]> {
    const rows = await this.sql.all('SELECT * FROM readings WHERE device_id = ? AND t = ? ORDER BY seq, recorded_at, data_hash', [
      deviceId,
      t,
    ]);
    return rows.map(fromRow);
  }

  /**
   * Readings of a range in (deviceId, seq, dataHash) order, `limit` at a time: pass the last row's
   * key as `after` for the next page.
   */
  async list(
    range: ReadingRange,
    page: { limit?: number; after?: { deviceId: string; seq: number; dataHash: string } } = {},
  ): Promise<StoredReading[]> {
    const w = rangeWhere(range);
    const params = [...w.params];
    let sql = w.sql;
    if (page.after !== undefined) {
      sql += `${sql === '' ? 'WHERE' : ' AND'} (device_id > ? OR (device_id = ? AND (seq > ? OR (seq = ? AND data_hash > ?))))`;
      const a = page.after;
      params.push(a.deviceId, a.deviceId, a.seq, a.seq, a.dataHash);
    }
    const limit = Math.min(Math.max(page.limit ?? 100, 1), 10_000);
    const rows = await this.sql.all(`SELECT * FROM readings ${sql} ORDER BY device_id, seq, data_hash LIMIT ?`, [...params, limit]);
    return rows.map(fromRow);
  }

  /** The newest readings of a device (by seq), newest first. */
  async latest(deviceId: string, limit = 20): Promise<StoredReading[]> {
    const rows = await this.sql.all('SELECT * FROM readings WHERE device_id = ? ORDER BY seq DESC, recorded_at DESC LIMIT ?', [
      deviceId,
      Math.min(Math.max(limit, 1), 1000),
    ]);
    return rows.map(fromRow);
  }

  /** How many readings a range holds. */
  async count(range: ReadingRange = {}): Promise<number> {
    const w = rangeWhere(range);
    const rows = await this.sql.all(`SELECT COUNT(*) AS n FROM readings ${w.sql}`, w.params);
    return num(rows[0]?.['n']);
  }

  /** How many readings are in each status. */
  async counts(): Promise<Partial<Record<ReadingStatus, number>>> {
    const rows = await this.sql.all('SELECT status, COUNT(*) AS n FROM readings GROUP BY status ORDER BY status');
    return Object.fromEntries(rows.map((r) => [String(r['status']), num(r['n'])]));
  }

  /** Per device: how many readings, the newest seq and device time. */
  async devices(): Promise<{ deviceId: string; readings: number; lastSeq: number; lastT: number }[]> {
    const rows = await this.sql.all(
      'SELECT device_id, COUNT(*) AS n, MAX(seq) AS last_seq, MAX(t) AS last_t FROM readings GROUP BY device_id ORDER BY device_id',
    );
    return rows.map((r) => ({
      deviceId: String(r['device_id']),
      readings: num(r['n']),
      lastSeq: num(r['last_seq']),
      lastT: num(r['last_t']),
    }));
  }

  // ------------------------------------------------------------------ jobs

  /** Records a new re-validation job (queued). */
  async createJob(range: ReadingRange, total: number): Promise<JobRow> {
    const now = this.clock();
    const rows = await this.sql.all(
      `INSERT INTO jobs (device_id, from_t, to_t, state, total, done, counts, error, created_at, updated_at)
       VALUES (?, ?, ?, 'queued', ?, 0, '{}', NULL, ?, ?) RETURNING *`,
      [range.deviceId ?? null, range.fromT ?? null, range.toT ?? null, total, now, now],
    );
    return jobFromRow(rows[0] as SqlRow);
  }

  /** Updates a job's progress or state. */
  async updateJob(
    id: number,
    fields: { state?: JobRow['state']; done?: number; counts?: Record<string, number>; error?: string },
  ): Promise<void> {
    await this.sql.run(
      `UPDATE jobs SET state = COALESCE(?, state), done = COALESCE(?, done), counts = COALESCE(?, counts), error = COALESCE(?, error),
       updated_at = ? WHERE id = ?`,
      [
        fields.state ?? null,
        fields.done ?? null,
        fields.counts === undefined ? null : JSON.stringify(fields.counts),
        fields.error ?? null,
        this.clock(),
        id,
      ],
    );
  }

  /** One job. */
  async job(id: number): Promise<JobRow | undefined> {
    const rows = await this.sql.all('SELECT * FROM jobs WHERE id = ?', [id]);
    return rows[0] === undefined ? undefined : jobFromRow(rows[0]);
  }

  /** The newest jobs first. */
  async jobs(limit = 20): Promise<JobRow[]> {
    const rows = await this.sql.all('SELECT * FROM jobs ORDER BY id DESC LIMIT ?', [Math.min(Math.max(limit, 1), 500)]);
    return rows.map(jobFromRow);
  }

  // ------------------------------------------------------------------ retention

  /**
   * Retention: deletes readings the edge received before `before` (ms since 1970) and their
   * verdict history. The ledger keeps their hashes; export what an outside verifier will need
   * first (`provenant export`). Returns how many readings went.
   */
  async prune(before: number): Promise<number> {
    return this.sql.transaction(async (q) => {
      await q.run('DELETE FROM verdicts WHERE data_hash IN (SELECT data_hash FROM readings WHERE received_at < ?)', [before]);
      return q.run('DELETE FROM readings WHERE received_at < ?', [before]);
    });
  }

  async close(): Promise<void> {
    await this.sql.close();
  }
}

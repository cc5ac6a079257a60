/**
 * The smallest SQL seam the provenance database needs, with two engines behind it: SQLite
 * (better-sqlite3, one file, the default) and PostgreSQL (node-postgres, `postgres://…`).
 * Queries are written once with `?` placeholders; the PostgreSQL engine numbers them ($1, $2…).
 * Integers come back as JavaScript numbers on both (PostgreSQL BIGINT is parsed, and every value
 * we store — ms timestamps, block numbers, seqs — is a safe integer); bytes come back as Buffer.
 */
import type { Statement } from 'better-sqlite3';
import { ProvenantError } from '../../shared/errors.js';

/** A row as the engines return it. */
export type SqlRow = Record<string, unknown>;
/** Parameter values we bind. */
export type SqlValue = string | number | boolean | null | Uint8Array;

/** What the provenance database asks of an engine. */
export interface SqlEngine {
  readonly dialect: 'sqlite' | 'postgres';
  /** Rows of a SELECT (or of a statement with RETURNING). */
  all(sql: string, params?: readonly SqlValue[]): Promise<SqlRow[]>;
  /** Runs a statement; resolves to the number of rows it changed. */
  run(sql: string, params?: readonly SqlValue[]): Promise<number>;
  /** Runs `fn` in one transaction (all its statements commit together, or none). */
  transaction<T>(fn: (tx: SqlEngine) => Promise<T>): Promise<T>;
  /** Runs several statements separated by `;` (schema). */
  exec(sql: string): Promise<void>;
  close(): Promise<void>;
}

/** `?` → `$1, $2…` outside string literals (our SQL has no `?` inside literals, but be exact). */
export function numberPlaceholders(sql: string): string {
  let n = 0;
  let inString = false;
  let out = '';
  for (const ch of sql) {
    if (ch === "'") inString = !inString;
    out += ch === '?' && !inString ? `$${++n}` : ch;
  }
  return out;
}

/** Does this locator name a PostgreSQL database? */
export function isPostgresUrl(location: string): boolean {
  return /^postgres(ql)?:\/\//.test(location);
}

/** Hides the password of a postgres:// URL (for logs and errors). */
export function redactUrl(location: string): string {
  return isPostgresUrl(location) ? location.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@') : location;
}

/** SQLite through better-sqlite3 (synchronous underneath; one connection). */
async function openSqlite(path: string): Promise<SqlEngine> {
  const { default: Sqlite } = await import('better-sqlite3');
  const db = new Sqlite(path);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('busy_timeout = 5000');
  } catch (err) {
    db.close();
    throw err;
  }
  const bind = (params: readonly SqlValue[]): unknown[] =>
    params.map((p) => (typeof p === 'boolean' ? (p ? 1 : 0) : p instanceof Uint8Array && !Buffer.isBuffer(p) ? Buffer.from(p) : p));
  const cache = new Map<string, Statement<unknown[]>>();
  const prepare = (sql: string): Statement<unknown[]> => {
    let s = cache.get(sql);
    if (s === undefined) {
      s = db.prepare<unknown[]>(sql);
      cache.set(sql, s);
    }
    return s;
  };
  // One connection: while a transaction is open, other callers wait for it (else their statements
  // would join it, and vanish with it on a rollback).
  let lock: Promise<void> = Promise.resolve();
  const direct: SqlEngine = {
    dialect: 'sqlite',
    all: async (sql, params = []) => prepare(sql).all(...bind(params)) as SqlRow[],
    run: async (sql, params = []) => prepare(sql).run(...bind(params)).changes,
    exec: async (sql) => {
      db.exec(sql);
    },
    transaction: async (fn) => fn(direct),
    close: async () => {
      db.close();
    },
  };
  const engine: SqlEngine = {
    dialect: 'sqlite',
    all: async (sql, params) => {
      await lock;
      return direct.all(sql, params);
    },
    run: async (sql, params) => {
      await lock;
      return direct.run(sql, params);
    },
    exec: async (sql) => {
      await lock;
      return direct.exec(sql);
    },
    transaction: async (fn) => {
      let release: () => void = () => undefined;
      const previous = lock;
      lock = new Promise<void>((r) => {
        release = r;
      });
      await previous;
      db.exec('BEGIN IMMEDIATE');
      try {
        const r = await fn(direct);
        db.exec('COMMIT');
        return r;
      } catch (err) {
        if (db.inTransaction) db.exec('ROLLBACK');
        throw err;
      } finally {
        release();
      }
    },
    close: async () => {
      await lock;
      db.close();
    },
  };
  return engine;
}

/** PostgreSQL through a node-postgres pool. */
async function openPostgres(url: string): Promise<SqlEngine> {
  const pg = (await import('pg')).default;
  // BIGINT (20) and NUMERIC counts come back as strings by default; ours are safe integers.
  const types = {
    getTypeParser: (oid: number, format?: string) =>
      oid === 20 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text'),
  };
  const pool = new pg.Pool({ connectionString: url, max: 4, types });
  pool.on('error', () => undefined); // an idle client's connection dropped: the next query reconnects
  const bind = (params: readonly SqlValue[]): unknown[] =>
    params.map((p) => (p instanceof Uint8Array && !Buffer.isBuffer(p) ? Buffer.from(p) : p));
  const over = (q: { query: (text: string, values: unknown[]) => Promise<{ rows: SqlRow[]; rowCount: number | null }> }): SqlEngine => ({
    dialect: 'postgres',
    all: async (sql, params = []) => (await q.query(numberPlaceholders(sql), bind(params))).rows,
    run: async (sql, params = []) => (await q.query(numberPlaceholders(sql), bind(params))).rowCount ?? 0,
    exec: async (sql) => {
      await q.query(sql, []);
    },
    transaction: async (fn) => {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const inner = over(client as never);
        const r = await fn({ ...inner, transaction: (f) => f(inner) });
        await client.query('COMMIT');
        return r;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        client.release();
      }
    },
    close: async () => {
      await pool.end();
    },
  });
  const engine = over(pool as never);
  await engine.all('SELECT 1 AS ok'); // fail now, with the reason, not at the first reading
  return engine;
}

/** Opens SQLite (a path) or PostgreSQL (a postgres:// URL). Errors name the location (password hidden). */
export async function openSql(location: string): Promise<SqlEngine> {
  try {
    return isPostgresUrl(location) ? await openPostgres(location) : await openSqlite(location);
  } catch (err) {
    throw new ProvenantError(
      'PROV_ERR_STORAGE',
      `cannot open the provenance database ${redactUrl(location)}: ${(err as Error).message.replace(location, redactUrl(location))}`,
      { field: 'provenance.db' },
    );
  }
}

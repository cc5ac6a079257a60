import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyLedger } from '../../ledger-bridge/embedded/verify.js';
import { splitStateRef } from '../../ledger-bridge/embedded/codec.js';
import { openTestLedger, tempDir } from './helpers.js';

const MARKER = 'MARKER-7f3a9c-provenant';
const BIG = 'BIG-value-'.repeat(500);

describe('provenant ledger verify: walks the chain and finds any changed byte', () => {
  const dir = tempDir();
  const clean = join(dir.dir, 'ledger.db');
  let copies = 0;
  /** A fresh copy of the clean ledger file to tamper with. */
  const copy = (): string => {
    const p = join(dir.dir, `copy-${copies++}.db`);
    copyFileSync(clean, p);
    return p;
  };

  beforeAll(async () => {
    const ledger = await openTestLedger(dir.dir, { blockMaxTx: 4 });
    for (let round = 0; round < 8; round++) {
      await Promise.allSettled([
        ledger.submit('edge-1', { contract: 'Counter', fn: 'increment', args: ['c', '1'] }),
        ledger.submit('edge-1', { contract: 'Counter', fn: 'increment', args: ['c', '2'] }),
        ledger.submit('edge-1', { contract: 'Counter', fn: 'record', args: ['dev', String(round)] }),
      ]);
    }
    await ledger.submit('edge-1', { contract: 'Counter', fn: 'put', args: ['marker', MARKER] });
    // A large value (≥ STATE_REF_MIN_BYTES) is stored once: its state row refers to the envelope.
    await ledger.submit('edge-1', { contract: 'Counter', fn: 'put', args: ['big', BIG] });
    await ledger.submit('edge-1', { contract: 'Counter', fn: 'put', args: ['gone', 'x'] });
    await ledger.submit('edge-1', { contract: 'Counter', fn: 'remove', args: ['gone'] });
    await ledger.submit('aa', { contract: 'Counter', fn: 'deposit', args: ['dev'], transient: { secret: Buffer.from('s3cret') } });
    await ledger.close();
  });
  afterAll(() => dir.cleanup());
  /** The deposit key the ledger created beside its file (default key file). */
  const depositKey = (): Uint8Array => Buffer.from(readFileSync(`${clean}.deposit-key`, 'utf8').trim(), 'hex');

  it('passes a clean ledger, including MVCC-invalidated transactions and deletes', async () => {
    const report = await verifyLedger(clean, { depositKey: depositKey() });
    expect(report).toMatchObject({ ok: true, badBlock: null, reason: null, privateValuesChecked: true });
    expect(report.transactions).toBeGreaterThan(report.validTransactions);
    expect(report.height).toBeGreaterThan(10);
  });

  const tamper = async (sql: string, ...params: unknown[]) => {
    const p = copy();
    const db = new Database(p);
    const changed = db.prepare(sql).run(...params).changes;
    db.close();
    expect(changed, sql).toBeGreaterThan(0);
    return verifyLedger(p, { depositKey: depositKey() });
  };

  it('private values are sealed at rest: the plaintext is nowhere in the file; without the key they are not opened, with another key the walk fails', async () => {
    expect(readFileSync(clean).includes(Buffer.from('s3cret'))).toBe(false);
    expect(await verifyLedger(clean)).toMatchObject({ ok: true, privateValuesChecked: false });
    const wrong = await verifyLedger(clean, { depositKey: new Uint8Array(32).fill(1) });
    expect(wrong.ok).toBe(false);
    expect(wrong.reason).toMatch(/does not open the deposits/);
  });

  it('stores a large value once: its state row is a reference into the envelope, read back exactly, and checked by verify', async () => {
    const db = new Database(clean, { readonly: true });
    const row = db.prepare("SELECT version, value, typeof(value) AS type FROM state WHERE key = 'big'").get() as {
      version: number;
      value: number;
      type: string;
    };
    const envelope = db
      .prepare('SELECT envelope FROM txs WHERE block = ? AND idx = ?')
      .pluck()
      .get(Math.floor(row.version / 65536), row.version % 65536) as Buffer;
    db.close();
    expect(row.type).toBe('integer');
    const { offset, length } = splitStateRef(row.value);
    expect(envelope.subarray(offset, offset + length).toString()).toBe(BIG);
    const ledger = await openTestLedger(dir.dir);
    try {
      expect(Buffer.from(await ledger.evaluate('edge-1', { contract: 'Counter', fn: 'get', args: ['big'] })).toString()).toBe(BIG);
      expect(Buffer.from(await ledger.evaluate('edge-1', { contract: 'Counter', fn: 'range', args: ['big', 'bih'] })).toString()).toBe(
        JSON.stringify(['big']),
      );
    } finally {
      await ledger.close();
    }
    // A reference moved by one byte, or to another transaction, or replaced by other bytes, is found.
    for (const [sql, what] of [
      ["UPDATE state SET value = value + 16777216 WHERE key = 'big'", 'shifted reference'],
      ["UPDATE state SET value = value - 1 WHERE key = 'big'", 'shortened reference'],
      ["UPDATE state SET version = version - 1 WHERE key = 'big'", 'other transaction'],
      ["UPDATE state SET value = CAST('x' AS BLOB) WHERE key = 'big'", 'inline bytes'],
    ] as const) {
      const report = await tamper(sql);
      expect(report.ok, `${what}: ${report.reason}`).toBe(false);
    }
  });

  it('finds one changed byte in a stored transaction envelope (raw SQLite UPDATE) and names its block', async () => {
    const db = new Database(clean, { readonly: true });
    const row = db.prepare('SELECT block, idx, envelope FROM txs WHERE block = 5 AND idx = 0').get() as {
      block: number;
      idx: number;
      envelope: Buffer;
    };
    db.close();
    const env = Buffer.from(row.envelope);
    env[env.length - 3] = (env[env.length - 3] as number) ^ 0x01;
    const report = await tamper('UPDATE txs SET envelope = ? WHERE block = ? AND idx = ?', env, row.block, row.idx);
    expect(report.ok).toBe(false);
    expect(report.badBlock).toBe(5);
    expect(report.reason).toMatch(/envelope/);
  });

  it('finds a changed block header, block hash, validation code, state value, history row, event or tree node', async () => {
    const cases: [string, string][] = [
      ["UPDATE blocks SET header = substr(header, 1, 20) || X'FF' || substr(header, 22) WHERE number = 3", 'header'],
      ['UPDATE blocks SET hash = zeroblob(32) WHERE number = 2', 'hash'],
      ['UPDATE txs SET code = 11 WHERE block = 4 AND idx = 0', 'code'],
      ["UPDATE state SET value = CAST('999' AS BLOB) WHERE key = char(0) || 'counter' || char(0) || 'c' || char(0)", 'state'],
      // History holds the earlier versions of a key (its current one is the state row) and deletes.
      [
        "DELETE FROM history WHERE key = char(0) || 'counter' || char(0) || 'c' || char(0) AND version = (SELECT min(version) FROM history WHERE key = char(0) || 'counter' || char(0) || 'c' || char(0))",
        'history',
      ],
      ["DELETE FROM history WHERE key = 'gone' AND deleted = 1", 'history delete'],
      ["UPDATE history SET deleted = 1 WHERE key = 'gone' AND deleted = 0", 'history flag'],
      ["INSERT INTO history (key, version, deleted) VALUES ('marker', 65536, 0)", 'extra history'],
      ["DELETE FROM state WHERE key = 'marker'", 'missing state'],
      ["UPDATE events SET payload = CAST('{}' AS BLOB) WHERE block = 1", 'event'],
      ['UPDATE tree SET hash = zeroblob(32) WHERE level = 1 AND idx = 0', 'tree'],
      ["INSERT INTO state (key, version, value) VALUES ('forged', 65536, CAST('x' AS BLOB))", 'extra state'],
      ["UPDATE private SET value = CAST('other' AS BLOB)", 'private'],
      ['DELETE FROM blocks WHERE number = 6', 'missing block'],
    ];
    for (const [sql, what] of cases) {
      const report = await tamper(sql);
      expect(report.ok, `${what}: ${report.reason}`).toBe(false);
      expect(report.reason, what).toBeTruthy();
    }
  });

  it('finds a raw byte flip at every place the marker value sits in the database file', async () => {
    const bytes = readFileSync(clean);
    const positions: number[] = [];
    for (let at = bytes.indexOf(MARKER); at !== -1; at = bytes.indexOf(MARKER, at + 1)) positions.push(at);
    // The value lives in the transaction envelope and in world state at least.
    expect(positions.length).toBeGreaterThanOrEqual(2);
    for (const at of positions) {
      const p = copy();
      const b = readFileSync(p);
      b[at + 3] = (b[at + 3] as number) ^ 0x20;
      writeFileSync(p, b);
      const report = await verifyLedger(p);
      expect(report.ok, `flip at ${at}`).toBe(false);
    }
  });

  it('reports SQLite-level corruption (a flipped page header byte) as a failure', async () => {
    const p = copy();
    const b = readFileSync(p);
    const pageSize = b.readUInt16BE(16) === 1 ? 65536 : b.readUInt16BE(16);
    // Page 2's b-tree page type byte: a valid page becomes garbage for SQLite.
    b[pageSize] = 0x77;
    writeFileSync(p, b);
    const report = await verifyLedger(p);
    expect(report.ok).toBe(false);
    expect(report.reason).toMatch(/SQLite|malformed|corrupt|cannot be read/i);
  });

  it('reports a file that is not a ledger', async () => {
    const p = join(dir.dir, 'not-a-db.db');
    writeFileSync(p, 'hello, not sqlite at all'.repeat(100));
    expect((await verifyLedger(p)).ok).toBe(false);
    // A missing file is not a "BAD" ledger: there is none (and verifying creates none).
    await expect(verifyLedger(join(dir.dir, 'missing.db'))).rejects.toMatchObject({ code: 'PROV_ERR_NOT_FOUND', message: /no ledger at/ });
    expect(existsSync(join(dir.dir, 'missing.db'))).toBe(false);
  });
});

describe('verify while the ledger is serving', () => {
  it('reports OK for a chain that grows while it is being verified (one read snapshot per walk)', async () => {
    const dir = tempDir();
    try {
      // Blocks are written by the commit worker thread, concurrently with the walk on this thread.
      const ledger = await openTestLedger(dir.dir, { blockMaxTx: 2 });
      await Promise.all(
        Array.from({ length: 400 }, (_, i) => ledger.submit('edge-1', { contract: 'Counter', fn: 'record', args: ['live', String(i)] })),
      );
      let stop = false;
      const load = (async () => {
        for (let i = 1000; !stop; i++) await ledger.submit('edge-1', { contract: 'Counter', fn: 'record', args: ['live', String(i)] });
      })();
      const reports = [];
      for (let k = 0; k < 8; k++) reports.push(await verifyLedger(join(dir.dir, 'ledger.db')));
      stop = true;
      await load;
      await ledger.close();
      for (const r of reports) expect(r, r.reason ?? '').toMatchObject({ ok: true });
    } finally {
      dir.cleanup();
    }
  });
});

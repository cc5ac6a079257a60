/**
 * The provenance database on both engines it supports: SQLite (a file in a temp dir) and a real
 * PostgreSQL server (a throwaway cluster, test/support/postgres.ts). The same behaviour suite runs
 * on each: ingest with the contract's outcomes, idempotent replay, status and verdict history,
 * ranges and paging, jobs, retention.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Sqlite from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProvenanceDb, type IngestTx } from '../../ledger-bridge/provenance/index.js';
import { complete } from '../../shared/crypto/complete.js';
import { sha256 } from '../../shared/crypto/sha256.js';
import { toSubmission, type ReadingSubmission } from '../../shared/records.js';
import { startPostgres, type TestPostgres } from '../support/postgres.js';

const dir = mkdtempSync(join(tmpdir(), 'prov-db-'));
let pg: TestPostgres;
beforeAll(async () => {
  pg = await startPostgres();
}, 60_000);
afterAll(() => {
  pg?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const kIoT = new Uint8Array(32).fill(5);
function sub(deviceId: string, seq: number, value = 100, t = 1000 + seq): ReadingSubmission {
  const reading = {
    deviceId,
    seq,
    t,
    epoch: 1,
    partialDigest: new Uint8Array(32),
    batteryMv: 3000,
    channels: [{ id: 1, scale: -2, value }],
    bootCount: 1,
    uptimeMs: t % 1_000_000,
  };
  return toSubmission({ reading, tag: complete(sha256, kIoT, reading) }, 'e1', t + 1, [`device:${deviceId}`, 'edge:e1']);
}
const tx = (txId: string, blockNumber: number, readings: ReadingSubmission[], rejected: IngestTx['rejected'] = new Map()): IngestTx => ({
  txId,
  blockNumber,
  readings,
  rejected,
});
const hashOf = (s: ReadingSubmission) => Buffer.from(sha256(Buffer.from(s.canonical, 'hex'))).toString('hex');

let n = 0;
const engines: [string, () => string][] = [
  ['SQLite', () => join(dir, `db-${++n}.sqlite`)],
  ['PostgreSQL', () => pg.createDatabase(`prov_${++n}`)],
];

describe.each(engines)('ProvenanceDb on %s', (engine, location) => {
  let clock = 1_000;
  const open = (where: string) => ProvenanceDb.open(where, { clock: () => clock });

  it('ingests a transaction: committed, rejected with the reason, duplicates skipped; decoded values and the tx/block kept', async () => {
    const db = await open(location());
    expect(db.dialect).toBe(engine === 'SQLite' ? 'sqlite' : 'postgres');
    const subs = [sub('d1', 1), sub('d1', 2), sub('d1', 3)];
    const rejected = new Map([
      [1, { reason: 'BAD_TAG', message: 'tag does not verify' }],
      [2, { reason: 'REPLAY', message: 'resent', duplicate: true as const }],
    ]);
    const counts = await db.ingest('f', tx('tx1', 7, subs, rejected));
    expect(counts).toEqual({ committed: 1, rejected: 1, unchanged: 1, undecodable: 0 });
    expect(await db.counts()).toEqual({ committed: 1, rejected: 1 });
    const [one] = await db.findBySeq('d1', 1);
    expect(one).toMatchObject({ status: 'committed', txId: 'tx1', blockNumber: 7, edgeId: 'e1', t: 1001, receivedAt: 1002, reason: '' });
    expect(one?.values).toEqual({
      partialDigest: '00'.repeat(32),
      batteryMv: 3000,
      bootCount: 1,
      uptimeMs: 1001,
      channels: [{ id: 1, scale: -2, value: 100 }],
    });
    expect(one?.path).toEqual(['device:d1', 'edge:e1']);
    expect(Buffer.from(one?.canonical ?? []).toString('hex')).toBe(subs[0]?.canonical);
    expect((await db.findBySeq('d1', 2))[0]).toMatchObject({
      status: 'rejected',
      reason: 'BAD_TAG: tag does not verify',
      outcome: 'rejected',
      outcomeReason: 'BAD_TAG: tag does not verify',
    });
    expect(await db.findBySeq('d1', 3)).toEqual([]);
    expect(await db.cursor('f')).toBe(7);
    expect(await db.cursor('other')).toBeNull();
    await db.close();
  });

  it('applying a block twice changes nothing; a refused copy never overwrites a recorded one; an audited status survives replay', async () => {
    const db = await open(location());
    const a = sub('d1', 1);
    await db.ingest('f', tx('tx1', 3, [a]));
    expect(await db.setStatus(hashOf(a), 'proven', { reason: 'ok', evidence: { txId: 'tx1' } })).toBe(true);
    expect(await db.ingest('f', tx('tx1', 3, [a]))).toEqual({ committed: 0, rejected: 0, unchanged: 1, undecodable: 0 });
    // the same bytes refused later (a replay of a recorded reading) leave the row as it was
    await db.ingest('f', tx('tx9', 9, [a], new Map([[0, { reason: 'REPLAY', message: 'seen' }]])));
    expect(await db.get(hashOf(a))).toMatchObject({ status: 'proven', txId: 'tx1', blockNumber: 3, evidence: { txId: 'tx1' } });
    // a reading refused first (e.g. before its device was registered) and recorded later is upgraded
    const b = sub('d2', 1);
    await db.ingest('f', tx('tx2', 4, [b], new Map([[0, { reason: 'UNKNOWN_DEVICE', message: 'not registered' }]])));
    await db.ingest('f', tx('tx3', 5, [b]));
    expect(await db.get(hashOf(b))).toMatchObject({ status: 'committed', txId: 'tx3', blockNumber: 5, reason: '' });
    // undecodable bytes are counted, not stored
    expect((await db.ingest('f', tx('tx4', 6, [{ ...b, canonical: 'ff00' }]))).undecodable).toBe(1);
    await db.close();
  });

  it('a tampered copy with the same seq is its own row', async () => {
    const db = await open(location());
    const genuine = sub('d1', 5, 100);
    const tampered = sub('d1', 5, 9999);
    await db.ingest('f', tx('tx1', 2, [genuine]));
    await db.ingest('f', tx('tx2', 3, [tampered], new Map([[0, { reason: 'REPLAY', message: 'other bytes' }]])));
    const rows = await db.findBySeq('d1', 5);
    expect(rows.map((r) => r.status)).toEqual(['committed', 'rejected']);
    expect(await db.findByTime('d1', 1005)).toHaveLength(2);
    await db.close();
  });

  it('audit outcomes given at once are committed together, each with its verdict; one for no stored reading writes nothing', async () => {
    const db = await open(location());
    const readings = [1, 2, 3, 4, 5].map((q) => sub('d7', q));
    await db.ingest('f', tx('tx1', 2, readings));
    clock = 4_000;
    const v = (q: number) => ({
      deviceId: 'd7',
      locator: `seq:${q}`,
      verdict: 'TRUE',
      genuine: true,
      message: 'ok',
      headHeight: 2,
      headHash: null,
      askedBy: 'api',
    });
    const written = await Promise.all([
      ...readings.map((r, i) => db.recordAudit(hashOf(r), 'proven', { reason: 'ok', evidence: { i } }, v(i + 1))),
      db.recordAudit('ab'.repeat(32), 'proven', { reason: 'ok' }, { ...v(99), deviceId: 'd8' }),
    ]);
    expect(written).toEqual([true, true, true, true, true, false]);
    for (const [i, r] of readings.entries()) {
      expect(await db.get(hashOf(r))).toMatchObject({ status: 'proven', evidence: { i } });
      expect((await db.verdicts({ dataHash: hashOf(r) })).map((x) => [x.locator, x.verdict, x.at])).toEqual([
        [`seq:${i + 1}`, 'TRUE', 4000],
      ]);
    }
    expect(await db.verdicts({ deviceId: 'd8' })).toEqual([]);
    await db.close();
  });

  it('verdict history, newest first, by reading and by device', async () => {
    const db = await open(location());
    const a = sub('d1', 1);
    await db.ingest('f', tx('tx1', 2, [a]));
    const base = { dataHash: hashOf(a), deviceId: 'd1', locator: 'seq:1', message: 'm', headHeight: 3, headHash: 'aa'.repeat(32) };
    clock = 2_000;
    await db.addVerdict({ ...base, verdict: 'TRUE', genuine: true, askedBy: 'api' });
    clock = 3_000;
    const second = await db.addVerdict({ ...base, verdict: 'FALSE', genuine: false, askedBy: 'job:1', headHeight: null, headHash: null });
    expect(second.id).toBeGreaterThan(0);
    const h = await db.verdicts({ dataHash: hashOf(a) });
    expect(h.map((v) => [v.verdict, v.genuine, v.askedBy, v.at])).toEqual([
      ['FALSE', false, 'job:1', 3000],
      ['TRUE', true, 'api', 2000],
    ]);
    expect(await db.verdicts({ deviceId: 'nobody' })).toEqual([]);
    expect(await db.verdicts({ limit: 1 })).toHaveLength(1);
    await db.close();
  });

  it('ranges: by device and device time window, paged in (device, seq) order; latest; per-device summary', async () => {
    const db = await open(location());
    const subs = [...[1, 2, 3, 4, 5].map((s) => sub('d1', s)), ...[1, 2].map((s) => sub('d2', s))];
    await db.ingest('f', tx('tx1', 2, subs));
    expect(await db.count()).toBe(7);
    expect(await db.count({ deviceId: 'd1', fromT: 1002, toT: 1004 })).toBe(3);
    const first = await db.list({}, { limit: 4 });
    expect(first.map((r) => `${r.deviceId}/${r.seq}`)).toEqual(['d1/1', 'd1/2', 'd1/3', 'd1/4']);
    const last = first[3];
    const next = await db.list(
      {},
      { limit: 4, after: { deviceId: last?.deviceId ?? '', seq: last?.seq ?? 0, dataHash: last?.dataHash ?? '' } },
    );
    expect(next.map((r) => `${r.deviceId}/${r.seq}`)).toEqual(['d1/5', 'd2/1', 'd2/2']);
    expect((await db.latest('d1', 2)).map((r) => r.seq)).toEqual([5, 4]);
    expect(await db.devices()).toEqual([
      { deviceId: 'd1', readings: 5, lastSeq: 5, lastT: 1005 },
      { deviceId: 'd2', readings: 2, lastSeq: 2, lastT: 1002 },
    ]);
    expect(await db.count({ status: 'proven' })).toBe(0);
    await db.close();
  });

  it('jobs: progress kept; a job running when the process stopped is interrupted on reopen', async () => {
    const where = location();
    const db = await open(where);
    const job = await db.createJob({ deviceId: 'd1', fromT: 10, toT: 20 }, 5);
    expect(job).toMatchObject({ deviceId: 'd1', fromT: 10, toT: 20, state: 'queued', total: 5, done: 0, counts: {} });
    await db.updateJob(job.id, { state: 'running', done: 2, counts: { TRUE: 2 } });
    expect(await db.job(job.id)).toMatchObject({ state: 'running', done: 2, counts: { TRUE: 2 }, error: null });
    const other = await db.createJob({}, 0);
    await db.updateJob(other.id, { state: 'done' });
    await db.close();
    const again = await open(where);
    expect((await again.jobs()).map((j) => [j.id, j.state])).toEqual([
      [other.id, 'done'],
      [job.id, 'interrupted'],
    ]);
    expect(await again.job(9999)).toBeUndefined();
    await again.close();
  });

  it('retention: readings received before a time go, with their verdict history', async () => {
    const db = await open(location());
    const old = sub('d1', 1, 100, 1000);
    const fresh = sub('d1', 2, 100, 50_000);
    await db.ingest('f', tx('tx1', 2, [old, fresh]));
    await db.addVerdict({
      dataHash: hashOf(old),
      deviceId: 'd1',
      locator: 'seq:1',
      verdict: 'TRUE',
      genuine: true,
      message: '',
      headHeight: null,
      headHash: null,
      askedBy: 'api',
    });
    expect(await db.prune(10_000)).toBe(1);
    expect((await db.list({})).map((r) => r.seq)).toEqual([2]);
    expect(await db.verdicts({ dataHash: hashOf(old) })).toEqual([]);
    await db.close();
  });
});

describe('ProvenanceDb: opening', () => {
  it('refuses a file with the older layout and says how to rebuild it', async () => {
    const path = join(dir, 'old.sqlite');
    const s = new Sqlite(path);
    s.exec('CREATE TABLE readings (data_hash TEXT PRIMARY KEY, device_id TEXT, seq INTEGER)');
    s.close();
    await expect(ProvenanceDb.open(path)).rejects.toThrow(/older layout.*rebuilds it from block 0/);
  });

  it('names the server, never the password, when PostgreSQL is not there', async () => {
    const err = await ProvenanceDb.open('postgres://prov:s3cret-pw@127.0.0.1:1/prov').catch((e: Error) => e);
    expect(String(err)).toMatch(/cannot open the provenance database postgres:\/\/prov:\*\*\*@127\.0\.0\.1:1\/prov/);
    expect(String(err)).not.toMatch(/s3cret/);
  });
});

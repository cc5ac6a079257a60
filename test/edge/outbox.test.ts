/**
 * The SQLite outbox on a real file: statuses of put, the bound, durability across reopen, the
 * pruned floor, partial storage, and the WAL / synchronous settings.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Outbox, type OutboxItem } from '../../edge-runtime/src/outbox/outbox.js';
import { tempDir } from '../support/edge-fixture.js';

const tmp = tempDir('provenant-outbox-');
afterAll(() => tmp.cleanup());

function item(deviceId: string, seq: number, content = 'a'): OutboxItem {
  const dataHash = content.charCodeAt(0).toString(16).padStart(2, '0').repeat(32);
  return {
    deviceId,
    seq,
    dataHash,
    partialDigest: 'ab'.repeat(32),
    submission: { canonical: '01', tag: 'cd'.repeat(32), edgeId: 'e1', receivedAt: 1, path: ['device:' + deviceId, 'edge:e1'] },
  };
}

describe('Outbox', () => {
  it('stores, recognises duplicates, refuses other content under a committed key, and says busy while pending', async () => {
    const ob = await Outbox.open({ path: join(tmp.dir, 'a.db') });
    expect(ob.putMany([item('d', 1), item('d', 2)], 10)).toEqual(['stored', 'stored']);
    expect(ob.putMany([item('d', 1)], 11)).toEqual(['duplicate']);
    expect(ob.putMany([item('d', 1, 'b')], 11)).toEqual(['busy']);
    const [r1, r2] = ob.takeBatch(10);
    ob.settle('tx1', [r1!.id], [{ id: r2!.id, reason: 'BAD_TAG' }], 20);
    expect(ob.putMany([item('d', 1, 'b')], 21)).toEqual(['conflict']);
    // A rejected row (a forgery squatting seq 2) gives way to a different content.
    expect(ob.putMany([item('d', 2, 'c')], 21)).toEqual(['stored']);
    expect(ob.counts()).toEqual({ pending: 1, committed: 1, rejected: 0 });
    ob.close();
  });

  it('is bounded: refuses with "full" at capacity, and stores again once readings are settled', async () => {
    const ob = await Outbox.open({ path: join(tmp.dir, 'b.db'), maxPending: 2 });
    expect(ob.putMany([item('d', 1), item('d', 2), item('d', 3)], 1)).toEqual(['stored', 'stored', 'full']);
    expect(ob.depth).toBe(2);
    const rows = ob.takeBatch(10);
    ob.settle(
      'tx',
      rows.map((r) => r.id),
      [],
      2,
    );
    expect(ob.putMany([item('d', 3)], 3)).toEqual(['stored']);
    ob.close();
  });

  it('keeps pending readings and partials across a reopen (a restart)', async () => {
    const path = join(tmp.dir, 'c.db');
    let ob = await Outbox.open({ path });
    ob.putMany([item('d', 1), item('e', 7)], 5);
    ob.putPartial(
      {
        deviceId: 'd',
        epoch: 3,
        edgeId: 'e1',
        policyId: 'p',
        disclosedIndexes: [0],
        disclosed: { deviceId: 'd' },
        proof: '00',
        ph: '00',
        partialDigest: 'ab'.repeat(32),
      },
      5,
    );
    ob.close();
    ob = await Outbox.open({ path });
    expect(ob.depth).toBe(2);
    expect(ob.takeBatch(10).map((r) => `${r.deviceId}/${r.seq}`)).toEqual(['d/1', 'e/7']);
    expect(ob.getPartial('ab'.repeat(32))).toMatchObject({ onLedger: false, partial: { epoch: 3 } });
    ob.markPartialsOnLedger(['ab'.repeat(32)]);
    expect(ob.getPartial('ab'.repeat(32))?.onLedger).toBe(true);
    ob.close();
  });

  it('prunes settled readings and refuses later copies of them as stale (replays)', async () => {
    const ob = await Outbox.open({ path: join(tmp.dir, 'd.db') });
    ob.putMany([item('d', 1), item('d', 2)], 1);
    const rows = ob.takeBatch(10);
    ob.settle(
      'tx',
      rows.map((r) => r.id),
      [],
      100,
    );
    expect(ob.prune(50)).toBe(0);
    expect(ob.prune(101)).toBe(2);
    expect(ob.putMany([item('d', 2), item('d', 3)], 200)).toEqual(['stale', 'stored']);
    ob.close();
    // Reopened (nothing remembered in memory): the floor and the stored rows still answer.
    const again = await Outbox.open({ path: join(tmp.dir, 'd.db') });
    expect(again.putMany([item('d', 1), item('d', 2), item('d', 3), item('d', 3, 'b')], 300)).toEqual([
      'stale',
      'stale',
      'duplicate',
      'busy',
    ]);
    expect(again.has('d', 3, item('d', 3).dataHash)).toBe(true);
    expect(again.has('d', 3, item('d', 3, 'b').dataHash)).toBe(false);
    expect(again.has('d', 4, item('d', 4).dataHash)).toBe(false);
    again.close();
  });

  it('tells copies apart within one group commit, for a device never seen and one it knows', async () => {
    const ob = await Outbox.open({ path: join(tmp.dir, 'h.db') });
    expect(ob.putMany([item('x', 1), item('x', 1), item('x', 2), item('x', 2, 'b'), item('x', 0)], 1)).toEqual([
      'stored',
      'duplicate',
      'stored',
      'busy',
      'stored',
    ]);
    expect(ob.has('x', 0, item('x', 0).dataHash)).toBe(true);
    expect(ob.putMany([item('x', 3), item('x', 2), item('x', 3, 'b')], 2)).toEqual(['stored', 'duplicate', 'busy']);
    expect(ob.depth).toBe(4);
    ob.close();
  });

  it('runs in WAL mode with synchronous FULL by default, NORMAL when asked', async () => {
    const path = join(tmp.dir, 'e.db');
    const ob = await Outbox.open({ path });
    ob.close();
    const db = new Database(path);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
    const full = await Outbox.open({ path });
    expect((full as unknown as { db: Database.Database }).db.pragma('synchronous', { simple: true })).toBe(2);
    full.close();
    const normal = await Outbox.open({ path, synchronous: 'NORMAL' });
    expect((normal as unknown as { db: Database.Database }).db.pragma('synchronous', { simple: true })).toBe(1);
    normal.close();
  });

  it('counts the readings and devices waiting outside the busy ones from memory, as the table says, across settles and a reopen', async () => {
    const path = join(tmp.dir, 'g.db');
    let ob = await Outbox.open({ path });
    // What the table says (the SQL the in-memory counts replaced).
    const fromTable = (except: string[]): { count: number; oldest: number | undefined; devices: number } => {
      const db = new Database(path, { readonly: true });
      try {
        const r = db
          .prepare(
            `SELECT COUNT(*) AS n, MIN(received_at) AS oldest, COUNT(DISTINCT device_id) AS d FROM readings
              WHERE state = 'pending' AND device_id NOT IN (SELECT value FROM json_each(?))`,
          )
          .get(JSON.stringify(except)) as { n: number; oldest: number | null; d: number };
        return { count: r.n, oldest: r.oldest ?? undefined, devices: r.d };
      } finally {
        db.close();
      }
    };
    const check = (except: string[]): void => {
      const want = fromTable(except);
      expect(ob.pendingExcept(new Set(except))).toEqual({ count: want.count, oldest: want.oldest });
      expect(ob.pendingDevices(new Set(except))).toBe(want.devices);
    };
    const devices = ['a', 'b', 'c', 'd'];
    let t = 100;
    let seq = 0;
    // Arrivals, settles (committed and rejected, oldest first and out of order), duplicates and
    // refusals (which must not count), in a fixed pseudo-random order.
    let x = 7;
    const rnd = (n: number): number => {
      x = (x * 1103515245 + 12345) % 2 ** 31;
      return x % n;
    };
    for (let round = 0; round < 60; round++) {
      const batch = Array.from({ length: 1 + rnd(5) }, () => item(devices[rnd(4)] as string, ++seq));
      ob.putMany(batch, (t += 1 + rnd(3)));
      ob.putMany([batch[0] as OutboxItem], t); // a duplicate
      if (round % 3 === 2) {
        const except = new Set([devices[rnd(4)] as string]);
        const rows = ob.takeBatch(1 + rnd(6), except);
        const gone = rows.filter((_, i) => i % 2 === 0 || rnd(2) === 0);
        ob.settle(
          `tx${round}`,
          gone.filter((_, i) => i % 3 !== 1).map((r) => r.id),
          gone.filter((_, i) => i % 3 === 1).map((r) => ({ id: r.id, reason: 'BAD_TAG' })),
          t,
        );
        ob.settle(
          `again${round}`,
          gone.map((r) => r.id),
          [],
          t,
        ); // settling twice changes nothing
      }
      check([]);
      check([devices[round % 4] as string]);
      check(['a', 'c', 'zz']);
    }
    expect(ob.depth).toBe(fromTable([]).count);
    ob.close();
    ob = await Outbox.open({ path });
    check([]);
    check(['b']);
    expect(ob.depth).toBe(fromTable([]).count);
    // Drained: nothing waits, no device counted.
    for (;;) {
      const rows = ob.takeBatch(50);
      if (rows.length === 0) break;
      ob.settle(
        'drain',
        rows.map((r) => r.id),
        [],
        t,
      );
    }
    expect(ob.pendingExcept(new Set())).toEqual({ count: 0, oldest: undefined });
    expect(ob.pendingDevices(new Set())).toBe(0);
    ob.close();
  });

  it('rejects a bad bound', async () => {
    await expect(Outbox.open({ path: join(tmp.dir, 'f.db'), maxPending: 0 })).rejects.toThrow(RangeError);
  });
});

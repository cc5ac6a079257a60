/**
 * The forwarder's device affinity, on a real embedded ledger with the real contracts: several
 * batches in flight, never two with readings of the same device (so never two writing one replay
 * window), every reading committed once; a conflict that still happens is resubmitted and
 * counted.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LedgerClient, Proposal } from '../../ledger-bridge/client.js';
import { fitOneBatch, Forwarder, type SettledBatch } from '../../edge-runtime/src/outbox/forwarder.js';
import { Outbox, type OutboxItem } from '../../edge-runtime/src/outbox/outbox.js';
import { parseBatchArg } from '../../ledger-bridge/contracts/logic/batch-input.js';
import { readingColumns } from '../../ledger-bridge/contracts/logic/reading-fields.js';
import type { Enrollment } from '../../shared/crypto/outsourced.js';
import type { PartialSignatureJson } from '../../shared/crypto/credential.js';
import { ProvenantError } from '../../shared/errors.js';
import { partialFor, readingOf, signed, World } from '../contracts/fixture.js';

/** The deviceIds of a recordBatch proposal (packed argument). */
function devicesOf(p: Proposal): string[] {
  const input = parseBatchArg(p.args[0] as string);
  const cols = readingColumns(input.data, input.canonicalAt, input.canonicalLength, input.count, input.problem);
  return cols.devices;
}

/** A LedgerClient that watches which devices are in flight and can fail chosen submits with a conflict. */
function watching(inner: LedgerClient, conflictOn: Set<number>) {
  const inFlight = new Map<string, number>();
  const overlaps: string[] = [];
  let submits = 0;
  let maxConcurrent = 0;
  let concurrent = 0;
  const client: LedgerClient = {
    ...inner,
    evaluate: (p) => inner.evaluate(p),
    events: (o) => inner.events(o),
    head: () => inner.head(),
    inclusionProof: (t) => inner.inclusionProof(t),
    close: () => inner.close(),
    submit: async (p) => {
      const n = submits++;
      const devices = devicesOf(p);
      for (const d of devices) {
        if (inFlight.has(d)) overlaps.push(d);
        inFlight.set(d, n);
      }
      maxConcurrent = Math.max(maxConcurrent, ++concurrent);
      try {
        if (conflictOn.has(n)) throw new ProvenantError('PROV_ERR_MVCC_READ_CONFLICT', `transaction ${n} invalidated: MVCC_READ_CONFLICT`);
        return await inner.submit(p);
      } finally {
        concurrent--;
        for (const d of devices) inFlight.delete(d);
      }
    },
  };
  return { client, overlaps, stats: () => ({ submits, maxConcurrent }) };
}

describe('Forwarder: device-affine batches in flight', () => {
  let w: World;
  const devices: { id: string; e: Enrollment; p: PartialSignatureJson }[] = [];

  beforeAll(async () => {
    w = await World.open();
    for (let i = 0; i < 6; i++) {
      const id = `aff-${i}`;
      const { enrollment } = await w.enroll(id);
      devices.push({ id, e: enrollment, p: partialFor(enrollment.credential, 1) });
    }
  });
  afterAll(async () => {
    await w.close();
  });

  async function outboxWith(name: string, seqs: number[], only = devices): Promise<Outbox> {
    const ob = await Outbox.open({ path: join(w.dir, `${name}.db`) });
    for (const d of only) ob.putPartial(d.p, 1);
    const items: OutboxItem[] = [];
    // Interleaved arrival, as from boards sending at once.
    for (const seq of seqs)
      for (const d of only) {
        const submission = signed(d.e.device.kIoT, readingOf(d.id, seq, d.p));
        const dataHash = createHash('sha256').update(Buffer.from(submission.canonical, 'hex')).digest('hex');
        items.push({ deviceId: d.id, seq, dataHash, partialDigest: d.p.partialDigest, submission });
      }
    expect(ob.putMany(items, 1).every((s) => s === 'stored')).toBe(true);
    return ob;
  }

  async function until(check: () => boolean): Promise<void> {
    for (let i = 0; i < 600 && !check(); i++) await new Promise((r) => setTimeout(r, 25));
    expect(check()).toBe(true);
  }

  it('keeps several batches in flight, never two with readings of one device, and commits every reading once', async () => {
    const ob = await outboxWith(
      'a',
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
    const watch = watching(w.edge, new Set());
    const f = new Forwarder(ob, watch.client, { batchSize: 10, maxWaitMs: 1, maxInFlight: 4 });
    const settled: SettledBatch[] = [];
    f.onSettled((s) => settled.push(s));
    f.start();
    await until(() => ob.depth === 0 && f.status().inFlight === 0);
    await f.stop();
    expect(watch.overlaps).toEqual([]);
    expect(watch.stats().maxConcurrent).toBeGreaterThan(1);
    expect(ob.counts()).toEqual({ pending: 0, committed: 120, rejected: 0 });
    expect(settled.reduce((n, s) => n + s.committed.length, 0)).toBe(120);
    expect(settled.every((s) => s.result.rejected.length === 0 && s.conflicts === 0)).toBe(true);
    expect(f.status().conflicts).toBe(0);
    ob.close();
  });

  it('one device: one batch at a time, in order', async () => {
    const one = [devices[0] as (typeof devices)[number]];
    const ob = await outboxWith(
      'b',
      Array.from({ length: 30 }, (_, i) => 100 + i),
      one,
    );
    const watch = watching(w.edge, new Set());
    const f = new Forwarder(ob, watch.client, { batchSize: 7, maxWaitMs: 1, maxInFlight: 4 });
    f.start();
    await until(() => ob.depth === 0 && f.status().inFlight === 0);
    await f.stop();
    expect(watch.stats().maxConcurrent).toBe(1);
    expect(ob.counts()).toMatchObject({ pending: 0, committed: 30 });
    ob.close();
  });

  it('more routes than one packed batch carries (255): split into batches that fit, every reading committed', async () => {
    // 300 readings of one device, each on its own path: 300 distinct (edgeId, path) routes, as
    // an edge with 300 boards has. Before fitOneBatch the forwarder took all 300 in one batch,
    // which no packed frame carries, and submitted it again after every back-off.
    const d = devices[1] as (typeof devices)[number];
    const ob = await Outbox.open({ path: join(w.dir, 'routes.db') });
    ob.putPartial(d.p, 1);
    const items: OutboxItem[] = [];
    for (let i = 0; i < 300; i++) {
      const seq = 1000 + i;
      const base = signed(d.e.device.kIoT, readingOf(d.id, seq, d.p));
      const submission = { ...base, path: [...base.path, `port:${i}`] };
      const dataHash = createHash('sha256').update(Buffer.from(submission.canonical, 'hex')).digest('hex');
      items.push({ deviceId: d.id, seq, dataHash, partialDigest: d.p.partialDigest, submission });
    }
    expect(ob.putMany(items, 1).every((s) => s === 'stored')).toBe(true);
    const watch = watching(w.edge, new Set());
    const f = new Forwarder(ob, watch.client, { batchSize: 500, maxWaitMs: 1, maxInFlight: 2 });
    f.start();
    await until(() => (ob.depth === 0 && f.status().inFlight === 0) || f.status().lastError !== null);
    await f.stop();
    expect(f.status().lastError).toBeNull();
    expect(ob.counts()).toMatchObject({ pending: 0, committed: 300, rejected: 0 });
    expect(watch.stats().submits).toBe(2);
    ob.close();
  });

  it('fitOneBatch keeps the longest prefix within 255 routes and 1,000 partials', () => {
    const row = (route: string, partial: string) => ({ partialDigest: partial, submission: { edgeId: 'e', path: [route] } });
    const rows = Array.from({ length: 300 }, (_, i) => row(`r${i % 260}`, 'p'));
    expect(fitOneBatch(rows)).toHaveLength(255);
    const repeat = Array.from({ length: 600 }, (_, i) => row(`r${i % 100}`, 'p'));
    expect(fitOneBatch(repeat)).toHaveLength(600);
    const partials = Array.from({ length: 1200 }, (_, i) => row('r', `p${i}`));
    expect(fitOneBatch(partials)).toHaveLength(1000);
  });

  it('a batch invalidated by a conflict is resubmitted at once and counted; drain() waits for what is in flight', async () => {
    const ob = await outboxWith('c', [200, 201, 202]);
    const watch = watching(w.edge, new Set([0, 2]));
    const f = new Forwarder(ob, watch.client, { batchSize: 6, maxWaitMs: 1, maxInFlight: 2 });
    const settled: SettledBatch[] = [];
    f.onSettled((s) => settled.push(s));
    await f.drain();
    expect(ob.counts()).toMatchObject({ pending: 0, committed: 18, rejected: 0 });
    expect(f.status().conflicts).toBe(2);
    expect(settled.reduce((n, s) => n + s.conflicts, 0)).toBe(2);
    expect(f.status()).toMatchObject({ ledgerUp: true, lastError: null });
    ob.close();
  });

  it('gives up on a batch after conflictRetries conflicts: it stays in the outbox and the forwarder backs off', async () => {
    const ob = await outboxWith('d', [300]);
    const watch = watching(w.edge, new Set([0, 1, 2]));
    const f = new Forwarder(ob, watch.client, { batchSize: 6, maxWaitMs: 1, conflictRetries: 2 });
    await expect(f.drain()).rejects.toThrow(/MVCC_READ_CONFLICT/);
    expect(ob.depth).toBe(6);
    expect(f.status()).toMatchObject({ ledgerUp: false, conflicts: 2 });
    await f.drain();
    expect(ob.counts()).toMatchObject({ pending: 0, committed: 6 });
    ob.close();
  });
});

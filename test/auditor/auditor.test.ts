import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Auditor, ProvenanceDb } from '../../ledger-bridge/auditor/index.js';
import type { PartialSignatureJson } from '../../shared/crypto/credential.js';
import type { Enrollment } from '../../shared/crypto/outsourced.js';
import type { ProvenanceRecord, ReadingSubmission } from '../../shared/records.js';
import { recordLeafHash } from '../../ledger-bridge/contracts/logic/batch-layout.js';
import { fillFromLedger } from '../support/provenance.js';
import { partialFor, readingOf, recordBatch, signed, T0, World } from '../contracts/fixture.js';

const bytes = (s: ReadingSubmission) => Buffer.from(s.canonical, 'hex');

describe('Auditor + provenance DB over the embedded ledger', () => {
  let w: World;
  let db: ProvenanceDb;
  let auditor: Auditor;
  let dev: Enrollment;
  let p: PartialSignatureJson;
  let subs: ReadingSubmission[];

  beforeAll(async () => {
    w = await World.open();
    db = await ProvenanceDb.open(join(w.dir, 'provenance.db'));
    auditor = new Auditor({ ledger: w.auditor, db });
    dev = (await w.enroll('dev-a')).enrollment;
    p = partialFor(dev.credential, 1);
    subs = [1, 2, 3].map((s) => signed(dev.device.kIoT, readingOf('dev-a', s, p)));
    const forged = signed(new Uint8Array(32).fill(1), readingOf('dev-a', 4, p));
    const all = [...subs, forged];
    const r = await recordBatch(w, all, [p]);
    expect(r.rejected).toHaveLength(1);
    await fillFromLedger(w.ledger, w.auditor, db);
  });
  afterAll(async () => {
    await db.close();
    await w.close();
  });

  it('the DB holds the raw readings, decoded, with the contract verdicts, filled from the ledger', async () => {
    expect(await db.counts()).toEqual({ committed: 3, rejected: 1 });
    const [forged] = await db.findBySeq('dev-a', 4);
    expect(forged?.status).toBe('rejected');
    expect(forged?.reason).toMatch(/^BAD_TAG/);
    const [two] = await db.findBySeq('dev-a', 2);
    expect(two?.txId).toMatch(/^[0-9a-f]{64}$/);
    expect(two?.blockNumber).toBeGreaterThan(0);
    expect(Buffer.from(two?.canonical ?? []).toString('hex')).toBe(subs[1]?.canonical);
    expect(two?.values).toMatchObject({ batteryMv: expect.any(Number), channels: [expect.objectContaining({ id: expect.any(Number) })] });
  });

  it('TRUE: genuine data, with the ledger record, block, a checked inclusion proof and the head; DB → proven', async () => {
    const r = await auditor.check({
      deviceId: 'dev-a',
      at: { seq: 2 },
      data: bytes(subs[1] as ReadingSubmission),
      tag: Buffer.from((subs[1] as ReadingSubmission).tag, 'hex'),
    });
    expect(r.verdict).toBe('TRUE');
    expect(r.genuine).toBe(true);
    expect(r.evidence?.record.seq).toBe(2);
    expect(r.evidence?.proofCheck).toEqual({ ok: true });
    // The record is a leaf of its batch record: the path to the root the proven transaction wrote was checked.
    expect(r.evidence?.batch).toMatchObject({ leafIndex: 1, leaves: 3, check: { ok: true } });
    expect(r.message).toMatch(/batch path checked \(leaf 1 of 3\)/);
    expect(r.evidence?.blockNumber).toBeGreaterThan(0);
    expect(r.evidence?.head.height).toBeGreaterThan(r.evidence?.blockNumber ?? Infinity);
    expect(r.dbStatus).toBe('proven');
    expect((await db.get(r.dataHash))?.status).toBe('proven');
    expect((await db.get(r.dataHash))?.evidence).toMatchObject({ txId: r.evidence?.txId });
    const history = await db.verdicts({ dataHash: r.dataHash });
    expect(history[0]).toMatchObject({ verdict: 'TRUE', genuine: true, askedBy: 'api', headHeight: r.evidence?.head.height });
  });

  it('by timestamp too', async () => {
    const r = await auditor.check({ deviceId: 'dev-a', at: { t: T0 + 3000 }, data: bytes(subs[2] as ReadingSubmission) });
    expect(r).toMatchObject({ verdict: 'TRUE', locator: `t:${T0 + 3000}` });
  });

  it('FALSE: tampered data (a copy with one value changed, refused by the ledger as a replay); DB → not_proven for that copy only', async () => {
    const tampered = signed(dev.device.kIoT, readingOf('dev-a', 1, p, { channels: [{ id: 0, scale: -2, value: 9999 }] }));
    expect((await recordBatch(w, [tampered])).rejected[0]?.reason).toBe('REPLAY');
    await fillFromLedger(w.ledger, w.auditor, db);
    const r = await auditor.check({ deviceId: 'dev-a', at: { seq: 1 }, data: bytes(tampered) });
    expect(r.verdict).toBe('FALSE');
    expect(r.genuine).toBe(false);
    expect(r.evidence?.record.dataHash).not.toBe(r.dataHash);
    expect((await db.get(r.dataHash))?.status).toBe('not_proven');
    // checkStored audits every copy the DB holds for seq 1: the original and the tampered one
    const all = await auditor.checkStored('dev-a', { seq: 1 });
    expect(all.map((x) => x.verdict).sort()).toEqual(['SIGNATURE_MISMATCH', 'TRUE']);
  });

  it('NOT_FOUND: a rejected (forged) reading is not on the ledger; DB → unrecorded', async () => {
    const [forged] = await db.findBySeq('dev-a', 4);
    const r = await auditor.check({ deviceId: 'dev-a', at: { seq: 4 }, data: forged?.canonical ?? new Uint8Array() });
    expect(r).toMatchObject({ verdict: 'NOT_FOUND', genuine: false, dbStatus: 'unrecorded' });
    expect(r.message).toMatch(/could not locate the record/);
  });

  it('SIGNATURE_MISMATCH: the presented tag is not the recorded one', async () => {
    const r = await auditor.check({
      deviceId: 'dev-a',
      at: { seq: 3 },
      data: bytes(subs[2] as ReadingSubmission),
      tag: new Uint8Array(32),
    });
    expect(r).toMatchObject({ verdict: 'SIGNATURE_MISMATCH', genuine: false });
    expect(r.message).toMatch(/signature mismatch/);
  });

  it('a trusted head saved earlier: the current chain must extend it (consistency proof), then the proof is checked', async () => {
    const saved = await w.auditor.head();
    const more = [5, 6].map((s) => signed(dev.device.kIoT, readingOf('dev-a', s, p)));
    await recordBatch(w, more);
    expect((await w.auditor.head()).height).toBeGreaterThan(saved.height);
    const r = await new Auditor({ ledger: w.auditor, trustedHead: saved }).check({
      deviceId: 'dev-a',
      at: { seq: 2 },
      data: bytes(subs[1] as ReadingSubmission),
    });
    expect(r).toMatchObject({ verdict: 'TRUE', genuine: true, evidence: { consistency: { ok: true }, proofCheck: { ok: true } } });
    // a head from a rewritten history (same height, other hash) is not extended
    const forgedHead = { height: saved.height, hash: 'ab'.repeat(32) };
    const bad = await new Auditor({ ledger: w.auditor, trustedHead: forgedHead }).check({
      deviceId: 'dev-a',
      at: { seq: 2 },
      data: bytes(subs[1] as ReadingSubmission),
    });
    expect(bad).toMatchObject({
      verdict: 'UNPROVEN',
      genuine: false,
      message: expect.stringMatching(/^record NOT proven: .*inclusion proof FAILED/),
    });
    expect(bad.evidence?.consistency?.ok).toBe(false);
    // a trusted head ahead of the ledger
    const ahead = await new Auditor({ ledger: w.auditor, trustedHead: { height: 10_000, hash: saved.hash } }).check({
      deviceId: 'dev-a',
      at: { seq: 2 },
      data: bytes(subs[1] as ReadingSubmission),
    });
    expect(ahead.evidence?.proofCheck).toMatchObject({ ok: false, reason: expect.stringMatching(/ahead of the ledger/) });
  });

  it('a proof relative to another head than the trusted one is reported failed and the data not genuine', async () => {
    const strict = new Auditor({ ledger: w.auditor, trustedHead: { height: 1, hash: '00'.repeat(32) } });
    const r = await strict.check({ deviceId: 'dev-a', at: { seq: 2 }, data: bytes(subs[1] as ReadingSubmission) });
    expect(r.verdict).toBe('UNPROVEN');
    expect(r.evidence?.proofCheck.ok).toBe(false);
    expect(r.genuine).toBe(false);
  });

  it("a ledger that answers with an altered record, or with another batch's root and path, is caught: not genuine", async () => {
    const other = await recordBatch(w, [signed(dev.device.kIoT, readingOf('dev-a', 9, p))]);
    const otherAnswer = JSON.parse(
      Buffer.from(
        await w.auditor.evaluate({
          contract: 'DataProvenance',
          fn: 'verify',
          args: ['dev-a', 'seq:9', (subs[0] as ReadingSubmission).canonical, ''],
        }),
      ).toString(),
    ) as { batch: unknown };
    const lying = (alter: (answer: Record<string, unknown>) => void): Auditor =>
      new Auditor({
        ledger: {
          ...w.auditor,
          evaluate: async (proposal) => {
            // It lies in verify's answer; the partial and config it answers as they are.
            if (proposal.fn !== 'verify') return w.auditor.evaluate(proposal);
            const answer = JSON.parse(Buffer.from(await w.auditor.evaluate(proposal)).toString()) as Record<string, unknown>;
            alter(answer);
            return Buffer.from(JSON.stringify(answer));
          },
          inclusionProof: (txId) => w.auditor.inclusionProof(txId),
        },
      });
    const query = { deviceId: 'dev-a', at: { seq: 2 }, data: bytes(subs[1] as ReadingSubmission) };
    // The record's receivedAt changed (the edge's timing rewritten): its leaf is no longer on the path.
    const altered = await lying((a) => {
      (a['record'] as Record<string, unknown>)['receivedAt'] = 1;
    }).check(query);
    expect(altered).toMatchObject({ verdict: 'UNPROVEN', genuine: false, evidence: { batch: { check: { ok: false } } } });
    expect(altered.message).toMatch(/record NOT proven: .* but its batch path FAILED: the record is not leaf 1 of the batch/);
    // A root made up to fit the altered record: the path holds, but it is not the root the proven transaction wrote.
    const madeUp = await lying((a) => {
      const record = a['record'] as ProvenanceRecord;
      const forgedRecord = { ...record, receivedAt: 1 };
      a['record'] = forgedRecord;
      a['batch'] = { root: recordLeafHash(forgedRecord).toString('hex'), leafIndex: 0, leaves: 1, path: [] };
    }).check(query);
    expect(madeUp).toMatchObject({ verdict: 'UNPROVEN', genuine: false });
    expect(madeUp.evidence?.batch?.check).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/differs from the one transaction [0-9a-f]{64} wrote/),
    });
    // Another batch's (genuine) root and path for this record: the path does not hold.
    const swapped = await lying((a) => {
      a['batch'] = otherAnswer.batch;
    }).check(query);
    expect(swapped.genuine).toBe(false);
    expect(other.accepted).toBe(1);
  });

  it('checkStored refuses an empty locator', async () => {
    await expect(auditor.checkStored('dev-a', { seq: 99 })).rejects.toThrow(/holds no reading/);
  });

  it('checkStored records who asked in the verdict history', async () => {
    await auditor.checkStored('dev-a', { seq: 3 }, 'edge:edge-1');
    const [latest] = await db.verdicts({ deviceId: 'dev-a', limit: 1 });
    expect(latest).toMatchObject({ locator: 'seq:3', verdict: 'TRUE', askedBy: 'edge:edge-1' });
  });
});

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ProvenanceDb } from '../../ledger-bridge/auditor/index.js';
import { complete } from '../../shared/crypto/complete.js';
import { sha256 } from '../../shared/crypto/sha256.js';
import { toSubmission } from '../../shared/records.js';

const dir = mkdtempSync(join(tmpdir(), 'prov-db-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const kIoT = new Uint8Array(32).fill(5);
function sub(seq: number, value = 100, t = 1000 + seq) {
  const reading = {
    deviceId: 'd1',
    seq,
    t,
    epoch: 1,
    partialDigest: new Uint8Array(32),
    batteryMv: 3000,
    channels: [{ id: 1, scale: 0, value }],
  };
  return toSubmission({ reading, tag: complete(sha256, kIoT, reading) }, 'e1', t + 1, ['device:d1']);
}

describe('ProvenanceDb', () => {
  it('applies a batch result: committed, rejected with reason, and a duplicate resend counts as committed', async () => {
    const db = await ProvenanceDb.open(join(dir, 'a.db'), { clock: () => 42 });
    const subs = [sub(1), sub(2), sub(3)];
    db.applyBatchResult(
      subs,
      {
        txId: 'tx1',
        accepted: 1,
        rejected: [
          { index: 1, deviceId: 'd1', seq: 2, reason: 'BAD_TAG', message: 'tag does not verify' },
          { index: 2, deviceId: 'd1', seq: 3, reason: 'REPLAY', message: 'resent', duplicate: true },
        ],
      },
      7,
    );
    expect(db.counts()).toEqual({ committed: 2, rejected: 1 });
    const [one] = db.findBySeq('d1', 1);
    expect(one).toMatchObject({ status: 'committed', txId: 'tx1', blockNumber: 7, updatedAt: 42, seq: 1, t: 1001, edgeId: 'e1' });
    expect(db.findBySeq('d1', 2)[0]).toMatchObject({ status: 'rejected', reason: 'BAD_TAG: tag does not verify', txId: null });
    db.close();
  });

  it('keeps a tampered copy as its own row and survives reopening', async () => {
    const path = join(dir, 'b.db');
    let db = await ProvenanceDb.open(path);
    const [h1, h2] = db.putSubmissions([sub(5), sub(5, 999)]);
    expect(h1).not.toBe(h2);
    expect(db.putSubmissions([sub(5)])).toEqual([h1]); // idempotent
    expect(db.setStatus(h2 as string, 'not_proven', { reason: 'tampered', evidence: { txId: 'x' } })).toBe(true);
    expect(db.setStatus('00'.repeat(32), 'proven')).toBe(false);
    db.close();
    db = await ProvenanceDb.open(path);
    expect(
      db
        .findBySeq('d1', 5)
        .map((r) => r.status)
        .sort(),
    ).toEqual(['not_proven', 'submitted']);
    expect(db.findByTime('d1', 1005)).toHaveLength(2);
    expect(JSON.parse(db.get(h2 as string)?.evidence ?? 'null')).toEqual({ txId: 'x' });
    expect(Buffer.from(db.get(h1 as string)?.canonical ?? []).toString('hex')).toBe(sub(5).canonical);
    db.close();
  });

  it('skips undecodable submissions when applying a result (the contract called them MALFORMED)', async () => {
    const db = await ProvenanceDb.open(join(dir, 'c.db'));
    db.applyBatchResult([{ ...sub(1), canonical: 'ff00' }, sub(2)], {
      txId: 'tx',
      accepted: 1,
      rejected: [{ index: 0, deviceId: '', seq: -1, reason: 'MALFORMED', message: 'unknown version' }],
    });
    expect(db.counts()).toEqual({ committed: 1 });
    db.close();
  });

  it('names the file it cannot open', async () => {
    await expect(ProvenanceDb.open(join(dir, 'no', 'such', 'dir', 'x.db'))).rejects.toMatchObject({
      code: 'PROV_ERR_STORAGE',
      message: expect.stringContaining(join('no', 'such', 'dir', 'x.db')),
    });
  });
});

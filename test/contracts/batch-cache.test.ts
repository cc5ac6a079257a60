/**
 * The read path's batch-record cache (ledger-bridge/contracts/logic/batch-cache.ts): the same
 * bytes give the same decoded record and the same paths as batchProof; other bytes under the same
 * key are decoded afresh (a record whose readings do not hash to its root still fails), and
 * changing the caller's buffer afterwards does not change what the cache holds.
 */
import { randomBytes } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { inThreadCrypto } from '../../ledger-bridge/contracts/logic/batch-crypto.js';
import { cachedBatchProof, cachedBatchRecord, clearBatchCache } from '../../ledger-bridge/contracts/logic/batch-cache.js';
import { batchProof, decodeBatchRecord } from '../../ledger-bridge/contracts/logic/batch-layout.js';
import { batchRecordOf, cryptoJobOf, signedBatch } from '../support/batch.js';

/** A batch record of n readings of two devices, as recordBatch stores it. */
async function batchRecordBytes(n: number): Promise<Buffer> {
  const key = randomBytes(32);
  const input = signedBatch(
    Array.from({ length: n }, (_, i) => ({ device: i % 2 === 0 ? 'dev-a' : 'dev-b', seq: 10 + i, t: 1_700_000_000_000 + i, key })),
  );
  const result = await inThreadCrypto.run(cryptoJobOf(input, [key], () => 0));
  return batchRecordOf(
    input,
    result,
    Uint32Array.from({ length: n }, (_, i) => i),
  ).value;
}

describe('batch record cache (read path)', () => {
  beforeEach(() => clearBatchCache());

  it('decodes the same bytes once and gives the same paths as batchProof, for every leaf', async () => {
    const value = await batchRecordBytes(37);
    const first = cachedBatchRecord('batch/tx-1', value);
    // Asked again with equal bytes (another buffer, as getState returns): the cached record.
    expect(cachedBatchRecord('batch/tx-1', Buffer.from(value))).toBe(first);
    const plain = decodeBatchRecord(value);
    for (let i = 0; i < plain.leaves; i++) expect(cachedBatchProof(first, i)).toEqual(batchProof(plain, i));
  });

  it('decodes afresh when the bytes under the key differ, and still refuses a record whose readings do not hash to its root', async () => {
    const value = await batchRecordBytes(9);
    const good = cachedBatchRecord('batch/tx-2', value);
    expect(cachedBatchProof(good, 3).leaves).toBe(9);
    // The first reading's tag changed in the stored bytes (the root kept): a different record.
    const tag0 = Buffer.from(good.groups[0]?.readings[0]?.tag as Uint8Array);
    const at = value.indexOf(tag0);
    expect(at).toBeGreaterThan(0);
    const tampered = Buffer.from(value);
    tampered[at] = (tampered[at] as number) ^ 1;
    const changed = cachedBatchRecord('batch/tx-2', tampered);
    expect(changed).not.toBe(good);
    expect(() => cachedBatchProof(changed, 3)).toThrow(/do not hash to its stored root/);
    // And the caller changing its buffer after the cache took it changes nothing cached.
    clearBatchCache();
    const buf = Buffer.from(value);
    const kept = cachedBatchRecord('batch/tx-3', buf);
    buf.fill(0);
    expect(cachedBatchProof(kept, 0)).toEqual(batchProof(decodeBatchRecord(value), 0));
    expect(cachedBatchRecord('batch/tx-3', value)).toBe(kept);
  });
});

/**
 * The batch layout (ledger-bridge/contracts/logic/batch-layout.ts) and the batch cryptography
 * (batch-crypto.ts): the tree is RFC 9162's (same root and paths as the chain's Merkle code), the
 * record keeps every accepted reading and its root, each record's path leads to that root from
 * the leaf an auditor recomputes from the provenance record, index runs keep their spans, and the
 * cryptography gives the same bytes on the calling thread and on validation threads.
 */
import { createHash, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cryptoResult, inThreadCrypto, runCryptoRange } from '../../ledger-bridge/contracts/logic/batch-crypto.js';
import {
  batchProof,
  decodeBatchRecord,
  decodeIndexRun,
  encodeIndexRun,
  indexRuns,
  merkleLevels,
  merklePath,
  provenanceRecordOf,
  recordLeafHash,
  runHasSeq,
  SEQ_SPAN,
  T_SPAN,
} from '../../ledger-bridge/contracts/logic/batch-layout.js';
import { CryptoPool } from '../../ledger-bridge/embedded/crypto-pool.js';
import { leafHash, merkleRoot, verifyInclusionPath } from '../../ledger-bridge/embedded/merkle.js';
import { batchRecordOf, cryptoJobOf, signedBatch } from '../support/batch.js';

describe('batch Merkle tree', () => {
  it('has RFC 9162 roots and audit paths, for every size and leaf', () => {
    for (let n = 1; n <= 70; n++) {
      const data = Array.from({ length: n }, (_, i) => Buffer.from(`leaf ${i} of ${n}`));
      const leaves = data.map((d) => Buffer.from(leafHash(d)));
      const levels = merkleLevels(Buffer.concat(leaves), n);
      const root = levels[levels.length - 1] as Buffer;
      expect(root.equals(Buffer.from(merkleRoot(leaves))), `n=${n}`).toBe(true);
      for (let i = 0; i < n; i++)
        expect(verifyInclusionPath(leaves[i] as Buffer, i, n, merklePath(levels, i), root), `n=${n} i=${i}`).toBe(true);
      // Leaves at an offset that is not 4-byte aligned (the pairs are then copied bytewise): same tree.
      const odd = Buffer.alloc(32 * n + 1).subarray(1);
      Buffer.concat(leaves).copy(odd);
      expect((merkleLevels(odd, n).at(-1) as Buffer).equals(root), `n=${n} unaligned`).toBe(true);
    }
  });
});

describe('batch record', () => {
  const keys = [randomBytes(32), randomBytes(32)];
  const spec = Array.from({ length: 23 }, (_, i) => ({
    device: i % 3 === 0 ? 'dev-b' : 'dev-a',
    seq: 100 + i,
    t: 1_700_000_000_000 + i * 1000,
    key: (i % 3 === 0 ? keys[1] : keys[0]) as Buffer,
    forged: i === 5,
  }));

  it('keeps every accepted reading under its root; each path leads from the leaf an auditor recomputes', async () => {
    const input = signedBatch(spec);
    const job = cryptoJobOf(input, keys, (d) => (d === 'dev-a' ? 0 : 1));
    const result = await inThreadCrypto.run(job);
    expect([...result.tagOk]).toEqual(spec.map((s) => (s.forged ? 0 : 1)));
    const accepted = Uint32Array.from(spec.map((_, i) => i).filter((i) => result.tagOk[i] === 1));
    const { value, root } = batchRecordOf(input, result, accepted);
    const record = decodeBatchRecord(value);
    expect(Buffer.from(record.root).equals(root)).toBe(true);
    expect(record.leaves).toBe(accepted.length);
    // Grouped by device in order of first appearance (dev-b first: reading 0), batch order inside.
    expect(record.groups.map((g) => [g.deviceId, g.readings.map((r) => r.seq)])).toEqual([
      ['dev-b', spec.filter((s) => s.device === 'dev-b' && !s.forged).map((s) => s.seq)],
      ['dev-a', spec.filter((s) => s.device === 'dev-a' && !s.forged).map((s) => s.seq)],
    ]);
    for (const g of record.groups)
      g.readings.forEach((r, k) => {
        const rec = provenanceRecordOf(record, g, r, 'tx-1');
        const proof = batchProof(record, g.firstLeaf + k);
        expect(proof.root).toBe(root.toString('hex'));
        const path = proof.path.map((h) => Buffer.from(h, 'hex'));
        expect(rec).toMatchObject({ bootCount: 4, uptimeMs: 60_000 + r.seq });
        expect(verifyInclusionPath(recordLeafHash(rec), proof.leafIndex, proof.leaves, path, root)).toBe(true);
        // Any changed field moves the leaf off the path.
        expect(
          verifyInclusionPath(recordLeafHash({ ...rec, receivedAt: rec.receivedAt + 1 }), proof.leafIndex, proof.leaves, path, root),
        ).toBe(false);
        expect(
          verifyInclusionPath(
            recordLeafHash({ ...rec, uptimeMs: (rec.uptimeMs as number) + 1 }),
            proof.leafIndex,
            proof.leaves,
            path,
            root,
          ),
        ).toBe(false);
        expect(
          verifyInclusionPath(
            recordLeafHash({ ...rec, bootCount: (rec.bootCount as number) + 1 }),
            proof.leafIndex,
            proof.leaves,
            path,
            root,
          ),
        ).toBe(false);
        expect(verifyInclusionPath(recordLeafHash({ ...rec, path: [...rec.path, 'x'] }), proof.leafIndex, proof.leaves, path, root)).toBe(
          false,
        );
      });
    // A stored record whose readings no longer hash to its root is refused.
    const tampered = Buffer.from(value);
    tampered[tampered.length - 5] = (tampered[tampered.length - 5] as number) ^ 1;
    expect(() => batchProof(decodeBatchRecord(tampered), 0)).toThrow(/do not hash to its stored root/);
    expect(() => decodeBatchRecord(value.subarray(0, value.length - 1))).toThrow(/truncated/);
  });

  it('checks tags and hashes readings of every length, short and long mixed (copied 4 bytes a step, then the rest)', () => {
    const mixed = Array.from({ length: 12 }, (_, i) => ({
      ...(spec[i % spec.length] as (typeof spec)[number]),
      seq: 500 + i,
      forged: i === 7,
      channels: i % 3 === 1 ? 16 : 1,
    }));
    const input = signedBatch(mixed);
    expect(new Set([...input.canonicalLength].map((n) => n % 4)).size).toBeGreaterThan(1);
    expect(Math.max(...input.canonicalLength)).toBeGreaterThan(150);
    const job = cryptoJobOf(input, keys, (d) => (d === 'dev-a' ? 0 : 1));
    const out = cryptoResult(job.items.length);
    runCryptoRange(job, 0, job.items.length, out);
    expect([...out.tagOk]).toEqual(mixed.map((s) => (s.forged ? 0 : 1)));
    mixed.forEach((s, i) => {
      if (s.forged) return;
      const at = input.canonicalAt[i] as number;
      const canonical = input.data.subarray(at, at + (input.canonicalLength[i] as number));
      expect(out.dataHash.subarray(32 * i, 32 * i + 32).equals(createHash('sha256').update(canonical).digest()), `reading ${i}`).toBe(true);
    });
  });

  it('gives the same bytes on validation threads as on the calling thread', async () => {
    const big = Array.from({ length: 300 }, (_, i) => ({
      ...(spec[i % spec.length] as (typeof spec)[number]),
      seq: i,
      forged: i % 17 === 0,
    }));
    const input = signedBatch(big);
    const job = cryptoJobOf(input, keys, (d) => (d === 'dev-a' ? 0 : 1));
    const here = cryptoResult(job.items.length);
    runCryptoRange(job, 0, job.items.length, here);
    const pool = await CryptoPool.start(2);
    try {
      const there = await pool.run(job);
      expect(Buffer.from(there.tagOk).equals(Buffer.from(here.tagOk))).toBe(true);
      expect(there.dataHash.equals(here.dataHash)).toBe(true);
      expect(there.leaf.equals(here.leaf)).toBe(true);
      expect(here.tagOk.filter((x) => x === 0).length).toBe(18);
    } finally {
      await pool.close();
    }
  });
});

describe('index runs', () => {
  it('split where the seq span reaches SEQ_SPAN or the time span T_SPAN, and find exactly their seqs', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.nat({ max: 3 * SEQ_SPAN }), { minLength: 1, maxLength: 80 }),
        fc.array(fc.nat({ max: 2 * T_SPAN }), { minLength: 80, maxLength: 80 }),
        (seqs, times) => {
          const readings = seqs.map((seq, i) => ({ seq, t: 1_700_000_000_000 + (times[i] as number) }));
          const runs = indexRuns(readings);
          expect(runs.flat().map((r) => r.seq)).toEqual([...seqs].sort((a, b) => a - b));
          for (const run of runs) {
            const seqSpan = (run[run.length - 1]?.seq as number) - (run[0]?.seq as number);
            const ts = run.map((r) => r.t);
            expect(seqSpan).toBeLessThan(SEQ_SPAN);
            expect(Math.max(...ts) - Math.min(...ts)).toBeLessThan(T_SPAN);
            const { value, maxSeq, tMax } = encodeIndexRun('tx-9', run);
            const decoded = decodeIndexRun(value);
            expect(decoded).toMatchObject({ txId: 'tx-9', maxSeq, tMax, tMin: Math.min(...ts), count: run.length });
            for (let s = decoded.minSeq - 2; s <= decoded.maxSeq + 2; s++) expect(runHasSeq(decoded, s)).toBe(run.some((r) => r.seq === s));
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('batch layout refuses corrupt values', () => {
  it('names what is wrong', () => {
    const { value } = encodeIndexRun('tx', [{ seq: 5, t: 1 }]);
    expect(() => decodeIndexRun(Buffer.concat([value, Buffer.from([0])]))).toThrow(/trailing/);
    const v = Buffer.from(value);
    v[0] = 7;
    expect(() => decodeIndexRun(v)).toThrow(/unknown version 7/);
    expect(() => decodeBatchRecord(Buffer.from([2]))).toThrow(/unknown version 2/);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChainHead } from '../../ledger-bridge/client.js';
import {
  type EmbeddedLedger,
  type EmbeddedInclusionEvidence,
  verifyConsistency,
  verifyInclusion,
} from '../../ledger-bridge/embedded/index.js';
import { openTestLedger, tempDir } from './helpers.js';

describe('inclusion and consistency proofs on a real chain', () => {
  const dir = tempDir();
  let ledger: EmbeddedLedger;
  const txIds: string[] = [];
  const heads: ChainHead[] = [];

  beforeAll(async () => {
    ledger = await openTestLedger(dir.dir, { blockMaxTx: 3 });
    // 23 blocks of up to three transactions; save the head after each round like an auditor would.
    for (let round = 0; round < 23; round++) {
      const rs = await Promise.all(
        [0, 1, 2]
          .slice(0, 1 + (round % 3))
          .map((k) => ledger.submit('edge-1', { contract: 'Counter', fn: 'record', args: [`d${k}`, String(round)] })),
      );
      txIds.push(...rs.map((r) => r.txId));
      heads.push(ledger.head());
    }
  });
  afterAll(async () => {
    await ledger.close();
    dir.cleanup();
  });

  it('proves every transaction against the current head, offline', () => {
    for (const txId of txIds) {
      const proof = ledger.inclusionProof(txId);
      expect(verifyInclusion(proof)).toEqual({ ok: true });
      expect(verifyInclusion(proof, ledger.head())).toEqual({ ok: true });
    }
  });

  it('keeps proofs logarithmic', () => {
    const proof = ledger.inclusionProof(txIds[0] as string);
    const e = proof.evidence as EmbeddedInclusionEvidence;
    expect(e.blockPath.length).toBeLessThanOrEqual(Math.ceil(Math.log2(ledger.head().height)));
  });

  it('rejects a proof whose envelope, path, header or head was altered', () => {
    const proof = ledger.inclusionProof(txIds[5] as string);
    const e = proof.evidence as EmbeddedInclusionEvidence;
    const flip = (h: string, at: number): string => h.slice(0, at) + (h[at] === '0' ? '1' : '0') + h.slice(at + 1);
    expect(verifyInclusion({ ...proof, evidence: { ...e, envelope: flip(e.envelope, e.envelope.length - 10) } }).ok).toBe(false);
    expect(verifyInclusion({ ...proof, evidence: { ...e, txPath: e.txPath.map((p, i) => (i === 0 ? flip(p, 3) : p)) } }).ok).toBe(
      e.txPath.length === 0,
    );
    expect(verifyInclusion({ ...proof, evidence: { ...e, blockPath: e.blockPath.map((p, i) => (i === 0 ? flip(p, 3) : p)) } }).ok).toBe(
      false,
    );
    expect(verifyInclusion({ ...proof, evidence: { ...e, blockHeader: flip(e.blockHeader, 20) } }).ok).toBe(false);
    expect(verifyInclusion({ ...proof, head: { ...proof.head, hash: flip(proof.head.hash, 0) } }).ok).toBe(false);
    expect(verifyInclusion({ ...proof, txId: txIds[6] as string }).ok).toBe(false);
    expect(verifyInclusion(proof, heads[0]).ok).toBe(false);
    expect(verifyInclusion({ ...proof, evidence: null }).ok).toBe(false);
  });

  it('proves that every later head extends every earlier saved head', () => {
    const all = heads;
    for (let i = 0; i < all.length; i += 2) {
      for (let j = i; j < all.length; j += 3) {
        const a = all[i] as ChainHead;
        const b = all[j] as ChainHead;
        const proof = ledger.consistencyProof(a.height, b.height);
        expect(verifyConsistency(proof, a, b)).toEqual({ ok: true });
      }
    }
    const genesis = ledger.consistencyProof(1);
    expect(verifyConsistency(genesis).ok).toBe(true);
  });

  it('rejects a consistency proof for a head that is not on this chain', () => {
    const a = heads[4] as ChainHead;
    const proof = ledger.consistencyProof(a.height);
    const forged = { height: a.height, hash: 'ab'.repeat(32) };
    expect(verifyConsistency(proof, forged).ok).toBe(false);
    expect(verifyConsistency({ ...proof, first: forged }).ok).toBe(false);
    expect(verifyConsistency({ ...proof, path: proof.path.slice(1) }).ok).toBe(false);
    expect(() => ledger.consistencyProof(0)).toThrow(RangeError);
    expect(() => ledger.consistencyProof(3, 2)).toThrow(RangeError);
  });

  it('refuses an unknown transaction id', () => {
    expect(() => ledger.inclusionProof('00'.repeat(32))).toThrow(/not on the chain/);
  });
});

/**
 * The Fabric side of the saved-head check: the block hash chain through the saved head, with
 * headers hashed by Fabric's real header hash (ledger-bridge/fabric/block-hash.ts). No Fabric peer
 * runs here, so checkSavedHead meets a named stand-in LedgerClient that serves headers the way
 * FabricLedgerClient does (a `blockHeader(n)` fetcher and qscc-style head); nothing else of it is used.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { ChainHead, LedgerClient } from '../../ledger-bridge/client.js';
import { checkSavedHead, verifyHeaderChain, type ChainHeader } from '../../ledger-bridge/auditor/http/index.js';
import { blockHeaderHash, toHex } from '../../ledger-bridge/fabric/block-hash.js';

/** A chain of `n` headers, each naming its predecessor's hash, and the hash of each block. */
function chain(n: number): { headers: ChainHeader[]; hashes: string[] } {
  const headers: ChainHeader[] = [];
  const hashes: string[] = [];
  let prev: Uint8Array = new Uint8Array(0);
  for (let i = 0; i < n; i++) {
    const dataHash = new Uint8Array(randomBytes(32));
    headers.push({ number: i, previousHash: toHex(prev), dataHash: toHex(dataHash) });
    prev = blockHeaderHash({ number: i, previousHash: prev, dataHash });
    hashes.push(toHex(prev));
  }
  return { headers, hashes };
}

const headAt = (c: { hashes: string[] }, height: number): ChainHead => ({ height, hash: c.hashes[height - 1] as string });

/** Stand-in for a Fabric peer behind FabricLedgerClient: head() and block headers only. */
function fabricStandIn(headers: ChainHeader[], hashes: string[]): LedgerClient {
  const unused = (): never => {
    throw new Error('not used by the head check');
  };
  return {
    head: async () => ({ height: headers.length, hash: hashes[headers.length - 1] as string }),
    blockHeader: async (n: number) => {
      const h = headers[n];
      if (!h) throw new Error(`no block ${n}`);
      return h;
    },
    submit: unused,
    evaluate: unused,
    events: unused,
    inclusionProof: unused,
    close: async () => undefined,
  } as LedgerClient;
}

describe('saved-head check on a Fabric-style block hash chain', () => {
  it('verifyHeaderChain: a saved head extended by later blocks holds; the same head holds', () => {
    const c = chain(8);
    expect(verifyHeaderChain(headAt(c, 3), headAt(c, 8), c.headers.slice(2))).toEqual({ ok: true });
    expect(verifyHeaderChain(headAt(c, 8), headAt(c, 8), c.headers.slice(7))).toEqual({ ok: true });
  });

  it('verifyHeaderChain: a forged saved head, a rewritten block, a gap or a wrong current head fail with the reason', () => {
    const c = chain(8);
    expect(verifyHeaderChain({ height: 3, hash: 'ab'.repeat(32) }, headAt(c, 8), c.headers.slice(2))).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/rewritten/),
    });
    const rewritten = c.headers.slice(2).map((h) => (h.number === 5 ? { ...h, dataHash: 'ee'.repeat(32) } : h));
    expect(verifyHeaderChain(headAt(c, 3), headAt(c, 8), rewritten)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/block 6: previous hash/),
    });
    const gap = c.headers.slice(2).filter((h) => h.number !== 4);
    expect(verifyHeaderChain(headAt(c, 3), headAt(c, 8), gap).ok).toBe(false);
    expect(verifyHeaderChain(headAt(c, 3), { height: 8, hash: 'cd'.repeat(32) }, c.headers.slice(2))).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/not at the current head/),
    });
  });

  it('checkSavedHead walks the headers of a Fabric-style client: extends, forged, rewritten history, ahead', async () => {
    const c = chain(6);
    const ledger = fabricStandIn(c.headers, c.hashes);
    expect(await checkSavedHead(ledger, headAt(c, 2))).toMatchObject({ extends: true, method: 'block-hash-chain', current: headAt(c, 6) });
    expect(await checkSavedHead(ledger, { height: 2, hash: '00'.repeat(32) })).toMatchObject({
      extends: false,
      method: 'block-hash-chain',
    });
    expect(await checkSavedHead(ledger, { height: 9, hash: c.hashes[1] as string })).toMatchObject({
      extends: false,
      reason: expect.stringMatching(/ahead/),
    });
    // history rewritten after the auditor saved head 4: a new chain of the same length
    const other = chain(6);
    const rewritten = fabricStandIn(other.headers, other.hashes);
    expect((await checkSavedHead(rewritten, headAt(c, 4))).extends).toBe(false);
  });

  it('a client with neither consistency proofs nor headers cannot extend anything', async () => {
    const c = chain(2);
    const bare = { ...fabricStandIn(c.headers, c.hashes), blockHeader: undefined } as unknown as LedgerClient;
    expect(await checkSavedHead(bare, headAt(c, 1))).toMatchObject({ extends: false, method: 'none' });
  });
});

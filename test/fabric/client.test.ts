/**
 * FabricLedgerClient against a REAL Fabric 2.4.9 peer and orderer (the run's shared network),
 * with a small test contract (fixtures/test-contract.ts: a counter, a private deposit, a failing
 * function) served by `provenant chaincode serve --contracts-module`: commit and evaluate, transient
 * data kept out of blocks, chaincode errors, MVCC read conflicts re-endorsed (and not, without
 * retries), bounded in-flight, inclusion proofs over real qscc blocks — our header hash is the
 * peer's — and tampered evidence refused, events resumed from a checkpoint, TLS, and config and
 * connectivity errors. The CLI's `chaincode check/proof` and `auditor check` run against it too.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { common } from '@hyperledger/fabric-protos';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ContractName, LedgerEvent } from '../../ledger-bridge/client.js';
import { blockDataHash as blockDataHashOf, toHex } from '../../ledger-bridge/fabric/block-hash.js';
import {
  checkFabricInclusion,
  decodeBlock,
  verifyFabricInclusion,
  type FabricBlockEvidence,
} from '../../ledger-bridge/fabric/block-proof.js';
import { FabricLedgerClient } from '../../ledger-bridge/fabric/fabric-client.js';
import { runCli } from '../cli/run-in-process.js';
import { describeFabric, FABRIC_SETUP_TIMEOUT, FabricTestNetwork, REPO, type ChaincodeProcess } from '../support/fabric/index.js';
import { certPath, keyPath } from './helpers.js';

const Counter = 'Counter' as ContractName;
const text = (b: Uint8Array): string => Buffer.from(b).toString();
const tmp = mkdtempSync(join(tmpdir(), 'prov-fabric-client-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describeFabric('FabricLedgerClient ↔ a real Fabric peer', () => {
  let net: FabricTestNetwork;
  let cc: ChaincodeProcess;
  let client: FabricLedgerClient;
  let cfg: ReturnType<FabricTestNetwork['clientConfig']>;

  beforeAll(async () => {
    net = await FabricTestNetwork.shared();
    cc = await net.startChaincode({ name: 'client', contractsModule: join(REPO, 'test', 'fabric', 'fixtures', 'test-contract.ts') });
    cfg = net.clientConfig(cc.label, net.identity('client'));
    client = await FabricLedgerClient.connect(cfg, { retryBackoffMs: 50 });
  }, FABRIC_SETUP_TIMEOUT);
  afterAll(async () => {
    await client?.close();
    await net?.release();
  });

  /** The validation code the peer gave `txId` in block `n`. */
  async function validation(n: number, txId: string): Promise<number | undefined> {
    const b = decodeBlock(await client.block(n));
    return b.validation[b.txIds.indexOf(txId)];
  }

  it('submits, waits for commit (VALID in its block), and evaluates the committed state', async () => {
    const r = await client.submit({ contract: Counter, fn: 'add', args: ['apples', '5'] });
    expect(r.txId).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.parse(text(r.result))).toEqual({ name: 'apples', value: 5, mspId: 'Org1MSP' });
    expect(await validation(r.blockNumber, r.txId)).toBe(0);
    expect(text(await client.evaluate({ contract: Counter, fn: 'get', args: ['apples'] }))).toBe('5');
  });

  it('sends secrets as transient data: stored in the private collection, absent from the block', async () => {
    const secret = Buffer.from('5ecre7-k-iot-deposit-0123456789ab');
    const r = await client.submit({ contract: Counter, fn: 'deposit', args: ['dev-7'], transient: { secret } });
    expect(text(r.result)).toBe(String(secret.length));
    const block = Buffer.from(await client.block(r.blockNumber));
    expect(block.includes(secret)).toBe(false);
    expect(block.includes(Buffer.from(secret.toString('hex')))).toBe(false);
    expect(block.includes(Buffer.from('kIotDeposits'))).toBe(true); // the hashed private write set
  });

  it('maps a chaincode error to PROV_ERR_ENDORSEMENT with the peer message, and orders nothing', async () => {
    const before = client.stats.submitted;
    const err = await client.submit({ contract: Counter, fn: 'fail', args: ['no way'] }).then(
      () => undefined,
      (e: unknown) => e as Error & { code: string; details: Record<string, unknown> },
    );
    expect(err?.code).toBe('PROV_ERR_ENDORSEMENT');
    expect(err?.message).toMatch(/refused: no way/);
    expect(err?.details.stage).toBe('endorse');
    expect(client.stats.submitted).toBe(before);
  });

  it('re-endorses MVCC read conflicts until every concurrent update commits once', async () => {
    const before = client.stats.reendorsed;
    const n = 6;
    await Promise.all(Array.from({ length: n }, () => client.submit({ contract: Counter, fn: 'add', args: ['pears', '1'] })));
    expect(text(await client.evaluate({ contract: Counter, fn: 'get', args: ['pears'] }))).toBe(String(n));
    // six transactions reading and writing one key in the same blocks: the peer invalidated some
    expect(client.stats.reendorsed - before).toBeGreaterThan(0);
  });

  it('without retries, MVCC losers fail with PROV_ERR_MVCC_READ_CONFLICT, are not applied, and cannot be proven', async () => {
    const strict = await FabricLedgerClient.connect({ ...cfg, maxRetries: 0 });
    try {
      const settled = await Promise.allSettled(
        Array.from({ length: 5 }, () => strict.submit({ contract: Counter, fn: 'add', args: ['plums', '1'] })),
      );
      const ok = settled.filter((s) => s.status === 'fulfilled').length;
      const bad = settled.filter((s): s is PromiseRejectedResult => s.status === 'rejected');
      expect(bad.length).toBeGreaterThan(0);
      for (const b of bad) expect(b.reason).toMatchObject({ code: 'PROV_ERR_MVCC_READ_CONFLICT', details: { validationCode: 11 } });
      expect(text(await strict.evaluate({ contract: Counter, fn: 'get', args: ['plums'] }))).toBe(String(ok));
      const { txId, blockNumber } = (bad[0] as PromiseRejectedResult).reason.details as { txId: string; blockNumber: number };
      expect(await validation(blockNumber, txId)).toBe(11);
      await expect(strict.inclusionProof(txId)).rejects.toThrow(/not committed as VALID \(code 11\)/);
    } finally {
      await strict.close();
    }
  });

  it('keeps at most maxInFlight transactions between endorsement and commit', async () => {
    const bounded = await FabricLedgerClient.connect({ ...cfg, maxInFlight: 2 });
    let peak = 0;
    const watch = setInterval(() => (peak = Math.max(peak, bounded.stats.submitted - bounded.stats.committed)), 1);
    try {
      await Promise.all(Array.from({ length: 6 }, (_, i) => bounded.submit({ contract: Counter, fn: 'add', args: [`b${i}`, '1'] })));
    } finally {
      clearInterval(watch);
      await bounded.close();
    }
    expect(bounded.stats.committed).toBe(6);
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThanOrEqual(2);
  });

  it("hashes headers as Fabric does: every block's previous hash is our hash of the block before, the head is the peer's", async () => {
    const head = await client.head();
    let prev: string | undefined;
    for (let n = 0; n < head.height; n++) {
      const b = decodeBlock(await client.block(n));
      if (prev !== undefined) expect(toHex(b.previousHash), `block ${n}`).toBe(prev);
      prev = toHex(b.hash);
    }
    expect(prev).toBe(head.hash); // qscc GetChainInfo's currentBlockHash = our hash of the last block
  });

  it('proves inclusion with the real block and the header chain to the head, and rejects tampering', async () => {
    const r = await client.submit({ contract: Counter, fn: 'add', args: ['figs', '1'] });
    await client.submit({ contract: Counter, fn: 'add', args: ['figs', '1'] });
    const head = await client.head();
    const proof = await client.inclusionProof(r.txId);
    expect(proof.blockNumber).toBe(r.blockNumber);
    expect(proof.head.height).toBeGreaterThanOrEqual(head.height);
    const ev = proof.evidence as FabricBlockEvidence;
    expect(ev.headers.length).toBe(proof.head.height - 1 - r.blockNumber);
    expect(() => verifyFabricInclusion(proof)).not.toThrow();
    expect(checkFabricInclusion(proof)).toEqual({ ok: true });
    expect(checkFabricInclusion({ ...proof, evidence: { envelope: 'x' } })).toMatchObject({ ok: 'unchecked' });

    // one byte changed inside the transaction's envelope: the block's data hash no longer matches
    const block = common.Block.deserializeBinary(Buffer.from(ev.block, 'base64'));
    const data =
      block
        .getData()
        ?.getDataList_asU8()
        .map((d) => Uint8Array.from(d)) ?? [];
    const env = data[ev.txIndex] as Uint8Array;
    env[env.length - 10] = (env[env.length - 10] as number) ^ 1;
    block.getData()?.setDataList(data);
    const tampered = { ...proof, evidence: { ...ev, block: Buffer.from(block.serializeBinary()).toString('base64') } };
    expect(() => verifyFabricInclusion(tampered)).toThrow(/data hash does not match/);
    expect(checkFabricInclusion(tampered)).toMatchObject({ ok: false, reason: expect.stringMatching(/data hash/) });
    if (ev.headers.length > 0) {
      const badHeaders = ev.headers.map((h, i) => (i === 0 ? { ...h, dataHash: '00'.repeat(32) } : h));
      expect(() => verifyFabricInclusion({ ...proof, evidence: { ...ev, headers: badHeaders } })).toThrow(/previous hash|head/);
    }
    expect(() => verifyFabricInclusion(proof, { height: proof.head.height, hash: 'ff'.repeat(32) })).toThrow(/history was rewritten/);
    // a head saved between the transaction's block and now is on the proof's chain
    const savedBetween = { height: r.blockNumber + 1, hash: toHex(decodeBlock(await client.block(r.blockNumber)).hash) };
    expect(() => verifyFabricInclusion(proof, savedBetween)).not.toThrow();
    expect(() => verifyFabricInclusion(proof, { height: r.blockNumber, hash: 'aa'.repeat(32) })).toThrow(/older than block/);
    expect(() => verifyFabricInclusion(proof, { height: proof.head.height + 5, hash: 'aa'.repeat(32) })).toThrow(/newer than the proof/);
    expect(() => verifyFabricInclusion({ ...proof, txId: 'f'.repeat(64) })).toThrow(/not at index/);
    await expect(client.inclusionProof('0'.repeat(64))).rejects.toMatchObject({ code: 'PROV_ERR_TX_NOT_FOUND' });
  });

  it('one block fetch serves the proofs of every transaction in it; a block the peer tampers with is refused and not kept', async () => {
    const rs = await Promise.all(
      ['k1', 'k2', 'k3', 'k4', 'k5', 'k6'].map((n) => client.submit({ contract: Counter, fn: 'add', args: [n, '1'] })),
    );
    await client.submit({ contract: Counter, fn: 'add', args: ['k7', '1'] }); // a later block: a header to chain
    const blocks = new Set(rs.map((r) => r.blockNumber));
    expect(blocks.size).toBeLessThan(rs.length); // 6 concurrent submits share blocks (BatchTimeout 100 ms, 10 per block)

    // Without hints: the first proof of a block looks it up by transaction id, the others use it.
    const fresh = await FabricLedgerClient.connect(cfg, { retryBackoffMs: 50 });
    try {
      for (const r of rs) expect((await fresh.inclusionProof(r.txId)).blockNumber).toBe(r.blockNumber);
      expect(fresh.stats.txLookups).toBe(blocks.size);
      expect(fresh.stats.proofsFromKeptBlock).toBe(rs.length - blocks.size);
    } finally {
      await fresh.close();
    }

    // Following the events (as the provenance follower does): no lookup by transaction id, each
    // block fetched once however many proofs ask for it at once, every proof checked.
    const follower = await FabricLedgerClient.connect(cfg, { retryBackoffMs: 50 });
    try {
      const first = Math.min(...blocks);
      const ac = new AbortController();
      let n = 0;
      for await (const ev of follower.events({ startBlock: first, signal: ac.signal })) {
        if (rs.some((r) => r.txId === ev.txId) && ++n === rs.length) break;
      }
      const proofs = await Promise.all(rs.map((r) => follower.inclusionProof(r.txId)));
      for (const p of proofs) expect(checkFabricInclusion(p)).toEqual({ ok: true });
      expect(follower.stats.txLookups).toBe(0);
      const head = proofs[0]!.head;
      expect(follower.stats.blockFetches).toBeLessThanOrEqual(head.height - first); // each of first … head-1 once at most
      expect(follower.stats.headReads).toBeLessThan(rs.length);

      // The peer (or anyone between) changes a transaction in a block: its data hash no longer
      // matches, the proof fails and the block is not kept.
      const target = rs[0]!;
      const realQscc = (follower as unknown as { qscc: (fn: string, ...a: string[]) => Promise<Uint8Array> }).qscc.bind(follower);
      const forge = async (fixHeader: boolean): Promise<Uint8Array> => {
        const block = common.Block.deserializeBinary(await realQscc('GetBlockByNumber', String(target.blockNumber)));
        const data = block
          .getData()!
          .getDataList_asU8()
          .map((d) => Uint8Array.from(d));
        const env = data[0]!;
        env[env.length - 10] = env[env.length - 10]! ^ 1;
        block.getData()!.setDataList(data);
        // A consistent forgery: the header's data hash recomputed over the changed transactions.
        if (fixHeader) block.getHeader()!.setDataHash(blockDataHashOf(data));
        return block.serializeBinary();
      };
      for (const fixHeader of [false, true]) {
        const forged = await forge(fixHeader);
        (follower as unknown as { qscc: unknown }).qscc = async (fn: string, ...a: string[]) =>
          (fn === 'GetBlockByNumber' && a[0] === String(target.blockNumber)) || (fn === 'GetBlockByTxID' && a[0] === target.txId)
            ? forged
            : realQscc(fn, ...a);
        // Not kept: drop what the follower holds so the forged block is what it fetches.
        (follower as unknown as { forget: (n: number) => void }).forget(target.blockNumber);
        await expect(follower.inclusionProof(target.txId), `fixHeader ${fixHeader}`).rejects.toMatchObject({
          code: 'PROV_ERR_PROOF_INVALID',
          message: fixHeader ? expect.stringMatching(/previous hash|head/) : expect.stringMatching(/data hash/),
        });
        // The peer honest again: the next proof fetches the block again and checks.
        (follower as unknown as { qscc: unknown }).qscc = realQscc;
        const before = follower.stats.blockFetches;
        expect(checkFabricInclusion(await follower.inclusionProof(target.txId))).toEqual({ ok: true });
        expect(follower.stats.blockFetches).toBeGreaterThan(before);
      }
    } finally {
      await follower.close();
    }
  });

  it('follows chaincode events and resumes across a restart without losing any (at-least-once)', async () => {
    const file = join(tmp, 'resume.json');
    const first = await FabricLedgerClient.connect({ ...cfg, checkpointPath: file });
    const start = (await client.head()).height;
    for (const n of ['e1', 'e2', 'e3']) await client.submit({ contract: Counter, fn: 'add', args: [n, '1'] });
    const seen: LedgerEvent[] = [];
    const ac = new AbortController();
    for await (const ev of first.events({ startBlock: start, signal: ac.signal })) {
      seen.push(ev);
      if (seen.length === 2) break;
    }
    await first.close();
    expect(seen.map((e) => JSON.parse(text(e.payload)).name)).toEqual(['e1', 'e2']);
    expect(seen[0]).toMatchObject({ name: 'Counted', contract: cc.label });

    // A reader naming no start block resumes from the file.
    const second = await FabricLedgerClient.connect({ ...cfg, checkpointPath: file });
    const later: string[] = [];
    for await (const ev of second.events({ signal: ac.signal })) {
      later.push(JSON.parse(text(ev.payload)).name);
      if (later.length === 2) break;
    }
    await second.close();
    // e1 was checkpointed when e2 was requested; e2 was in hand when the consumer stopped, so it
    // is delivered again rather than risk losing it.
    expect(later).toEqual(['e2', 'e3']);

    // A reader naming its start block gets that block whatever the file says (a provenance
    // database rebuilt from block 0 must not resume at the file's position).
    const third = await FabricLedgerClient.connect({ ...cfg, checkpointPath: file });
    const again: string[] = [];
    for await (const ev of third.events({ startBlock: start, signal: ac.signal })) {
      again.push(JSON.parse(text(ev.payload)).name);
      if (again.length === 3) break;
    }
    await third.close();
    expect(again).toEqual(['e1', 'e2', 'e3']);
  });

  it('TLS: refuses a peer whose certificate does not carry the expected name, and a plaintext client', async () => {
    for (const bad of [
      { ...cfg, hostNameOverride: 'peer9.elsewhere.example.com', maxRetries: 0 },
      { ...cfg, tlsCaCertPath: undefined, hostNameOverride: undefined, maxRetries: 0 },
    ]) {
      const c = await FabricLedgerClient.connect(bad as typeof cfg, { retryBackoffMs: 5 });
      try {
        await expect(c.evaluate({ contract: Counter, fn: 'get', args: ['apples'] })).rejects.toMatchObject({
          code: 'PROV_ERR_LEDGER_UNAVAILABLE',
        });
      } finally {
        await c.close();
      }
    }
  });

  it('CLI: chaincode check, chaincode proof against a saved head, auditor check against a forged head', async () => {
    const file = join(tmp, 'auditor.json');
    writeFileSync(file, JSON.stringify({ ledger: { type: 'fabric', ...cfg } }));
    const check = await runCli('chaincode', 'check', '-c', file);
    expect(check.code).toBe(0);
    expect(check.out).toMatch(/contracts: Counter/);
    const r = await client.submit({ contract: Counter, fn: 'add', args: ['cli', '1'] });
    const saved = join(tmp, 'head.json');
    const p1 = await runCli('chaincode', 'proof', '-c', file, '--tx', r.txId, '--save-head', saved);
    expect(p1.code).toBe(0);
    expect(p1.out).toContain(`transaction ${r.txId} is VALID in block ${r.blockNumber}`);
    await client.submit({ contract: Counter, fn: 'add', args: ['cli', '1'] });
    expect((await runCli('chaincode', 'proof', '-c', file, '--tx', r.txId, '--head', saved)).code).toBe(0);
    expect((await runCli('auditor', 'check', '-c', file, '--saved', saved)).code).toBe(0);
    const forged = join(tmp, 'forged.json');
    writeFileSync(forged, JSON.stringify({ height: r.blockNumber + 1, hash: 'ab'.repeat(32) }));
    const f = await runCli('auditor', 'check', '-c', file, '--saved', forged);
    expect(f.code).toBe(1);
    expect(f.out).toMatch(/does NOT extend the saved head/);
    expect((await runCli('chaincode', 'proof', '-c', file, '--tx', r.txId, '--head', forged)).code).not.toBe(0);
  });
});

describe('FabricLedgerClient config and connectivity errors (no network needed)', () => {
  const base = { peerEndpoint: '127.0.0.1:1', mspId: 'Org1MSP', certPath, keyPath, channel: 'mychannel', chaincode: 'provenant' };

  it.each([
    [{ ...base, mspId: undefined }, 'mspId', /mspId is required/],
    [{ ...base, peerEndpoint: 'no-port' }, 'peerEndpoint', /peerEndpoint/],
    [{ ...base, channel: 'Bad Channel' }, 'channel', /channel/],
    [{ ...base, timeouts: { endorseMs: -1 } }, 'timeouts.endorseMs', /timeouts\.endorseMs/],
    [{ ...base, maxInFlight: 0 }, 'maxInFlight', /maxInFlight/],
    [{ ...base, tlsCaCert: 'x' }, 'tlsCaCert', /tlsCaCert is not a known field/],
  ])('rejects %# naming the field', async (c, field, message) => {
    const err = await FabricLedgerClient.connect(c as never).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'PROV_ERR_CONFIG', details: { field } });
    expect((err as Error).message).toMatch(message);
  });

  it('names an unreadable certificate or key file, without key material in the message', async () => {
    await expect(FabricLedgerClient.connect({ ...base, certPath: '/nonexistent/cert.pem' })).rejects.toMatchObject({
      code: 'PROV_ERR_CONFIG',
      details: { field: 'certPath' },
    });
    const badKey = join(tmp, 'key.pem');
    writeFileSync(badKey, '-----BEGIN PRIVATE KEY-----\nc2VjcmV0LWtleS1ieXRlcw==\n-----END PRIVATE KEY-----\n');
    const err = await FabricLedgerClient.connect({ ...base, keyPath: badKey }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'PROV_ERR_CONFIG', details: { field: 'keyPath' } });
    expect((err as Error).message).not.toContain('c2VjcmV0');
  });

  it('loads an edge YAML file with `ledger: { type: fabric }` and resolves paths against it', async () => {
    const file = join(tmp, 'edge.yaml');
    writeFileSync(
      file,
      `edgeId: e1\nledger:\n  type: fabric\n  peerEndpoint: 127.0.0.1:1\n  mspId: Org1MSP\n  certPath: ${certPath}\n  keyPath: ${keyPath}\n  channel: mychannel\n  chaincode: provenant\n  checkpointPath: events.json\n`,
    );
    const c = await FabricLedgerClient.connect(file);
    expect(c.config.checkpointPath).toBe(join(tmp, 'events.json'));
    expect(c.config.maxInFlight).toBe(64);
    await c.close();
  });

  it('reports an unreachable peer as PROV_ERR_LEDGER_UNAVAILABLE after its retries', async () => {
    const c = await FabricLedgerClient.connect({ ...base, maxRetries: 1 }, { retryBackoffMs: 5 });
    try {
      await expect(c.submit({ contract: Counter, fn: 'add', args: ['a', '1'] })).rejects.toMatchObject({
        code: 'PROV_ERR_LEDGER_UNAVAILABLE',
        details: { stage: 'endorse' },
      });
      await expect(c.evaluate({ contract: Counter, fn: 'get', args: ['a'] })).rejects.toMatchObject({
        code: 'PROV_ERR_LEDGER_UNAVAILABLE',
      });
      await expect(c.head()).rejects.toMatchObject({ code: 'PROV_ERR_LEDGER_UNAVAILABLE' });
    } finally {
      await c.close();
    }
  });
});

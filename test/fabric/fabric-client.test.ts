/**
 * FabricLedgerClient against the real @hyperledger/fabric-gateway API, with only the peer
 * replaced: a STAND-IN gateway peer (real gRPC server on 127.0.0.1 implementing gateway.Gateway)
 * that endorses by running the contract through fabric-shim's chaincode server. Each failure
 * mode the issue names has its own test: config errors, unreachable peer, endorsement errors,
 * MVCC conflicts; plus the orderer being briefly unavailable, bounded in-flight, transient data,
 * event checkpointing across a restart, and block inclusion proofs.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStandIn, type StandInNetwork } from '../support/fabric-stand-in/network.js';
import { FabricLedgerClient } from '../../ledger-bridge/fabric/fabric-client.js';
import {
  checkFabricInclusion,
  decodeBlock,
  verifyFabricInclusion,
  type FabricBlockEvidence,
} from '../../ledger-bridge/fabric/block-proof.js';
import { common } from '@hyperledger/fabric-protos';
import type { ContractName, LedgerEvent } from '../../ledger-bridge/client.js';
import { CounterContract } from './fixtures/test-contract.js';
import { certPath, fixtures, keyPath } from './helpers.js';

const Counter = 'Counter' as unknown as ContractName;
const text = (b: Uint8Array): string => Buffer.from(b).toString();
const tmp = mkdtempSync(join(tmpdir(), 'prov-fabric-'));

/** Waits until `cond` holds (polling; the test's timeout bounds it). */
async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 5));
}

describe('FabricLedgerClient ↔ stand-in peer', () => {
  let net: StandInNetwork;
  let client: FabricLedgerClient;

  beforeAll(async () => {
    net = await startStandIn([CounterContract]);
    client = await FabricLedgerClient.connect({ ...net.config, checkpointPath: join(tmp, 'events.json') }, { retryBackoffMs: 10 });
  });
  afterAll(async () => {
    await client?.close();
    await net?.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('submits, waits for commit, and evaluates the committed state', async () => {
    const r = await client.submit({ contract: Counter, fn: 'add', args: ['apples', '5'] });
    expect(r.txId).toMatch(/^[0-9a-f]{64}$/);
    expect(r.blockNumber).toBeGreaterThanOrEqual(1);
    expect(JSON.parse(text(r.result))).toEqual({ name: 'apples', value: 5, mspId: 'Org1MSP' });
    expect(net.peer.ledger.txStatus(r.txId)).toEqual({ block: r.blockNumber, code: 0 });
    expect(text(await client.evaluate({ contract: Counter, fn: 'get', args: ['apples'] }))).toBe('5');
  });

  it('sends K_IoT-like secrets as transient data: stored privately, absent from the block', async () => {
    const secret = Buffer.from('5ecre7-k-iot-deposit-0123456789ab');
    const r = await client.submit({ contract: Counter, fn: 'deposit', args: ['dev-7'], transient: { secret } });
    expect(text(r.result)).toBe(String(secret.length));
    expect(Buffer.from(net.peer.ledger.getPrivate('provenant', 'kIotDeposits', 'dev-7') as Uint8Array)).toEqual(secret);
    const proof = await client.inclusionProof(r.txId);
    const block = Buffer.from((proof.evidence as FabricBlockEvidence).block, 'base64');
    expect(block.includes(secret)).toBe(false);
    expect(block.includes(Buffer.from('dev-7'))).toBe(true);
  });

  it('maps a chaincode error to PROV_ERR_ENDORSEMENT with the peer message, and submits nothing', async () => {
    const before = net.peer.ledger.height;
    const submitted = client.stats.submitted;
    const err = await client.submit({ contract: Counter, fn: 'fail', args: ['PROV_ERR_BAD_INPUT: nope'] }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'PROV_ERR_ENDORSEMENT', details: { stage: 'endorse', contractCode: 'PROV_ERR_BAD_INPUT' } });
    expect((err as Error).message).toContain('chaincode response 500');
    expect((err as Error).message).toContain('refused: PROV_ERR_BAD_INPUT: nope');
    expect(client.stats.submitted).toBe(submitted);
    await new Promise((r) => setTimeout(r, 50));
    expect(net.peer.ledger.height).toBe(before);
    await expect(client.evaluate({ contract: Counter, fn: 'fail', args: ['x'] })).rejects.toMatchObject({ code: 'PROV_ERR_ENDORSEMENT' });
  });

  it('re-endorses MVCC read conflicts until every concurrent update commits once', async () => {
    const reendorsed = client.stats.reendorsed;
    // Line all four up in one block, so three of them must conflict whatever the machine's load.
    net.peer.ledger.hold();
    const pending = Array.from({ length: 4 }, () => client.submit({ contract: Counter, fn: 'add', args: ['hot', '1'] }));
    await until(() => net.peer.ledger.queued === 4);
    net.peer.ledger.release();
    const results = await Promise.all(pending);
    expect(new Set(results.map((r) => r.txId)).size).toBe(4);
    expect(text(await client.evaluate({ contract: Counter, fn: 'get', args: ['hot'] }))).toBe('4');
    expect(client.stats.reendorsed - reendorsed).toBeGreaterThan(0);
  });

  it('without retries, MVCC losers fail with PROV_ERR_MVCC_READ_CONFLICT and their update is not applied', async () => {
    const strict = await FabricLedgerClient.connect({ ...net.config, maxRetries: 0 });
    try {
      net.peer.ledger.hold();
      const pending = Array.from({ length: 3 }, () => strict.submit({ contract: Counter, fn: 'add', args: ['cold', '1'] }));
      await until(() => net.peer.ledger.queued === 3);
      net.peer.ledger.release();
      const settled = await Promise.allSettled(pending);
      const ok = settled.filter((s) => s.status === 'fulfilled');
      const bad = settled.filter((s): s is PromiseRejectedResult => s.status === 'rejected');
      expect(ok.length).toBe(1);
      expect(bad.length).toBe(2);
      for (const b of bad) {
        expect(b.reason).toMatchObject({ code: 'PROV_ERR_MVCC_READ_CONFLICT', details: { validationCode: 11 } });
        expect(net.peer.ledger.txStatus((b.reason as { details: { txId: string } }).details.txId)?.code).toBe(11);
      }
      expect(text(await strict.evaluate({ contract: Counter, fn: 'get', args: ['cold'] }))).toBe('1');
    } finally {
      await strict.close();
    }
  });

  it('resubmits the same signed transaction while the orderer is unavailable', async () => {
    net.peer.faults.submitUnavailable = 2;
    const resubmitted = client.stats.resubmitted;
    const r = await client.submit({ contract: Counter, fn: 'add', args: ['pears', '2'] });
    expect(client.stats.resubmitted - resubmitted).toBe(2);
    expect(net.peer.ledger.txStatus(r.txId)?.code).toBe(0);
    expect(text(await client.evaluate({ contract: Counter, fn: 'get', args: ['pears'] }))).toBe('2');
  });

  it('backs off while the peer is down and commits once it is back', async () => {
    net.peer.faults.down = true;
    const pending = client.submit({ contract: Counter, fn: 'add', args: ['plums', '3'] });
    await new Promise((r) => setTimeout(r, 60));
    net.peer.faults.down = false;
    const r = await pending;
    expect(net.peer.ledger.txStatus(r.txId)?.code).toBe(0);
  });

  it('keeps at most maxInFlight transactions between endorsement and commit', async () => {
    const bounded = await FabricLedgerClient.connect({ ...net.config, maxInFlight: 2 });
    try {
      net.peer.ledger.peakQueued = 0;
      await Promise.all(Array.from({ length: 8 }, (_, i) => bounded.submit({ contract: Counter, fn: 'add', args: [`k${i}`, '1'] })));
      expect(net.peer.ledger.peakQueued).toBeGreaterThan(0);
      expect(net.peer.ledger.peakQueued).toBeLessThanOrEqual(2);
    } finally {
      await bounded.close();
    }
  });

  it('proves inclusion with the block and the header chain to the head, and rejects tampering', async () => {
    const r = await client.submit({ contract: Counter, fn: 'add', args: ['figs', '1'] });
    await client.submit({ contract: Counter, fn: 'add', args: ['figs', '1'] });
    const head = await client.head();
    expect(head.height).toBe(net.peer.ledger.height);
    const proof = await client.inclusionProof(r.txId);
    expect(proof.blockNumber).toBe(r.blockNumber);
    expect(proof.head).toEqual(head);
    const ev = proof.evidence as FabricBlockEvidence;
    expect(ev.headers.length).toBe(head.height - 1 - r.blockNumber);
    expect(() => verifyFabricInclusion(proof, head)).not.toThrow();

    expect(checkFabricInclusion(proof, head)).toEqual({ ok: true });
    expect(checkFabricInclusion({ ...proof, evidence: { envelope: 'x' } })).toMatchObject({ ok: 'unchecked' });

    // Change one byte inside the transaction's envelope: the block's data hash no longer matches.
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
    expect(decodeBlock(block.serializeBinary()).number).toBe(proof.blockNumber);
    expect(() => verifyFabricInclusion(tampered)).toThrow(/data hash does not match/);
    expect(checkFabricInclusion(tampered)).toMatchObject({ ok: false, reason: expect.stringMatching(/data hash/) });
    const badHeaders = ev.headers.map((h, i) => (i === 0 ? { ...h, dataHash: '00'.repeat(32) } : h));
    expect(() => verifyFabricInclusion({ ...proof, evidence: { ...ev, headers: badHeaders } })).toThrow(/previous hash|head/);
    expect(() => verifyFabricInclusion(proof, { height: head.height, hash: 'ff'.repeat(32) })).toThrow(/history was rewritten/);
    // A head saved between the transaction's block and now is on the proof's chain.
    const savedBetween = {
      height: r.blockNumber + 1,
      hash: Buffer.from(net.peer.ledger.blockAt(r.blockNumber)?.hash ?? []).toString('hex'),
    };
    expect(() => verifyFabricInclusion(proof, savedBetween)).not.toThrow();
    expect(() => verifyFabricInclusion(proof, { height: r.blockNumber, hash: 'aa'.repeat(32) })).toThrow(/older than block/);
    expect(() => verifyFabricInclusion(proof, { height: head.height + 5, hash: 'aa'.repeat(32) })).toThrow(/newer than the proof/);
    expect(() => verifyFabricInclusion({ ...proof, txId: 'f'.repeat(64) })).toThrow(/not at index/);
    await expect(client.inclusionProof('0'.repeat(64))).rejects.toMatchObject({ code: 'PROV_ERR_TX_NOT_FOUND' });
  });

  it('does not prove a transaction that was invalidated (MVCC)', async () => {
    const strict = await FabricLedgerClient.connect({ ...net.config, maxRetries: 0 });
    try {
      net.peer.ledger.hold();
      const pending = [1, 2].map(() => strict.submit({ contract: Counter, fn: 'add', args: ['limes', '1'] }));
      await until(() => net.peer.ledger.queued === 2);
      net.peer.ledger.release();
      const settled = await Promise.allSettled(pending);
      const bad = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
      expect(bad).toBeDefined();
      const txId = (bad?.reason as { details: { txId: string } }).details.txId;
      await expect(strict.inclusionProof(txId)).rejects.toThrow(/not committed as VALID/);
    } finally {
      await strict.close();
    }
  });

  it('follows chaincode events and resumes across a restart without losing any (at-least-once)', async () => {
    const file = join(tmp, 'resume.json');
    const first = await FabricLedgerClient.connect({ ...net.config, checkpointPath: file });
    const start = net.peer.ledger.height;
    for (const n of ['e1', 'e2', 'e3']) await client.submit({ contract: Counter, fn: 'add', args: [n, '1'] });
    const seen: LedgerEvent[] = [];
    const ac = new AbortController();
    for await (const ev of first.events({ startBlock: start, signal: ac.signal })) {
      seen.push(ev);
      if (seen.length === 2) break;
    }
    await first.close();
    expect(seen.map((e) => JSON.parse(text(e.payload)).name)).toEqual(['e1', 'e2']);
    expect(seen[0]).toMatchObject({ name: 'Counted', contract: 'provenant' });

    const second = await FabricLedgerClient.connect({ ...net.config, checkpointPath: file });
    const later: string[] = [];
    for await (const ev of second.events({ startBlock: start, signal: ac.signal })) {
      later.push(JSON.parse(text(ev.payload)).name);
      if (later.length === 2) break;
    }
    await second.close();
    // e1 was checkpointed when e2 was requested; e2 was being processed when the consumer
    // stopped, so it is delivered again rather than risk losing it.
    expect(later).toEqual(['e2', 'e3']);
  });
});

describe('FabricLedgerClient config and connectivity errors', () => {
  const base = { peerEndpoint: '127.0.0.1:1', mspId: 'Org1MSP', certPath, keyPath, channel: 'mychannel', chaincode: 'provenant' };

  it.each([
    [{ ...base, mspId: undefined }, 'mspId', /mspId is required/],
    [{ ...base, peerEndpoint: 'no-port' }, 'peerEndpoint', /peerEndpoint/],
    [{ ...base, channel: 'Bad Channel' }, 'channel', /channel/],
    [{ ...base, timeouts: { endorseMs: -1 } }, 'timeouts.endorseMs', /timeouts\.endorseMs/],
    [{ ...base, maxInFlight: 0 }, 'maxInFlight', /maxInFlight/],
    [{ ...base, tlsCaCert: 'x' }, 'tlsCaCert', /tlsCaCert is not a known field/],
  ])('rejects %# naming the field', async (cfg, field, message) => {
    const err = await FabricLedgerClient.connect(cfg as never).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'PROV_ERR_CONFIG', details: { field } });
    expect((err as Error).message).toMatch(message);
  });

  it('names an unreadable certificate or key file, without key material in the message', async () => {
    await expect(FabricLedgerClient.connect({ ...base, certPath: '/nonexistent/cert.pem' })).rejects.toMatchObject({
      code: 'PROV_ERR_CONFIG',
      details: { field: 'certPath' },
    });
    const dir = mkdtempSync(join(tmpdir(), 'prov-fabric-key-'));
    try {
      const badKey = join(dir, 'key.pem');
      writeFileSync(badKey, '-----BEGIN PRIVATE KEY-----\nc2VjcmV0LWtleS1ieXRlcw==\n-----END PRIVATE KEY-----\n');
      const err = await FabricLedgerClient.connect({ ...base, keyPath: badKey }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'PROV_ERR_CONFIG', details: { field: 'keyPath' } });
      expect((err as Error).message).not.toContain('c2VjcmV0');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('loads an edge YAML file with `ledger: { type: fabric }` and resolves paths against it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'prov-fabric-cfg-'));
    try {
      const file = join(dir, 'edge.yaml');
      writeFileSync(
        file,
        `edgeId: e1\nledger:\n  type: fabric\n  peerEndpoint: 127.0.0.1:1\n  mspId: Org1MSP\n  certPath: ${certPath}\n  keyPath: ${keyPath}\n  channel: mychannel\n  chaincode: provenant\n  checkpointPath: events.json\n`,
      );
      const c = await FabricLedgerClient.connect(file);
      expect(c.config.checkpointPath).toBe(join(dir, 'events.json'));
      expect(c.config.maxInFlight).toBe(64);
      await c.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
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

describe('FabricLedgerClient over TLS to the stand-in peer', () => {
  const tlsFile = (f: string): string => join(fixtures, 'tls', f);
  let net: StandInNetwork;
  beforeAll(async () => {
    net = await startStandIn([CounterContract], {
      tls: { key: readFileSync(tlsFile('server-key.pem')), cert: readFileSync(tlsFile('server-cert.pem')) },
    });
  });
  afterAll(async () => net?.close());

  it('connects with the peer TLS CA and a host-name override matching the certificate', async () => {
    const c = await FabricLedgerClient.connect({ ...net.config, tlsCaCertPath: tlsFile('ca-cert.pem'), hostNameOverride: 'localhost' });
    try {
      const r = await c.submit({ contract: Counter, fn: 'add', args: ['tls', '1'] });
      expect(net.peer.ledger.txStatus(r.txId)?.code).toBe(0);
    } finally {
      await c.close();
    }
  });

  it('refuses a peer whose certificate does not match the expected name', async () => {
    const c = await FabricLedgerClient.connect({
      ...net.config,
      tlsCaCertPath: tlsFile('ca-cert.pem'),
      hostNameOverride: 'peer0.org1.example.com',
      maxRetries: 0,
    });
    try {
      await expect(c.evaluate({ contract: Counter, fn: 'get', args: ['tls'] })).rejects.toMatchObject({
        code: 'PROV_ERR_LEDGER_UNAVAILABLE',
      });
    } finally {
      await c.close();
    }
  });

  it('refuses a plaintext client', async () => {
    const c = await FabricLedgerClient.connect({ ...net.config, maxRetries: 0 });
    try {
      await expect(c.evaluate({ contract: Counter, fn: 'get', args: ['tls'] })).rejects.toMatchObject({
        code: 'PROV_ERR_LEDGER_UNAVAILABLE',
      });
    } finally {
      await c.close();
    }
  });
});

describe('chaincode events across a peer restart', () => {
  let net: StandInNetwork;
  beforeAll(async () => {
    net = await startStandIn([CounterContract]);
  });
  afterAll(async () => net?.close());

  it('reconnects after the stream breaks and continues after the last event, none lost or repeated', async () => {
    const c = await FabricLedgerClient.connect(net.config, { retryBackoffMs: 10 });
    try {
      const start = net.peer.ledger.height;
      const names: string[] = [];
      const ac = new AbortController();
      const it = c.events({ startBlock: start, signal: ac.signal })[Symbol.asyncIterator]();
      await c.submit({ contract: Counter, fn: 'add', args: ['r1', '1'] });
      names.push(JSON.parse(text((await it.next()).value.payload)).name);
      await c.submit({ contract: Counter, fn: 'add', args: ['r2', '1'] });
      names.push(JSON.parse(text((await it.next()).value.payload)).name);
      net.peer.dropEventStreams();
      await c.submit({ contract: Counter, fn: 'add', args: ['r3', '1'] });
      names.push(JSON.parse(text((await it.next()).value.payload)).name);
      ac.abort();
      await it.return?.();
      expect(names).toEqual(['r1', 'r2', 'r3']);
      expect(c.stats.eventReconnects).toBeGreaterThanOrEqual(1);
    } finally {
      await c.close();
    }
  });
});

/**
 * `provenant chaincode check` and `provenant chaincode proof` through the real CLI entry
 * (cli/index.ts main) against the stand-in peer serving the real four contracts.
 */
import { startStandIn, type StandInNetwork } from '../support/fabric-stand-in/network.js';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contracts } from '../../ledger-bridge/contracts/index.js';
import { FabricLedgerClient } from '../../ledger-bridge/fabric/fabric-client.js';
import { CONTRACTS } from '../../ledger-bridge/client.js';
import { runCli } from '../cli/run-in-process.js';
import { ready } from '../../shared/crypto/bbs.js';
import { setup } from '../../shared/crypto/outsourced.js';
import { POLICY } from '../contracts/fixture.js';

const tmp = mkdtempSync(join(tmpdir(), 'prov-fabric-cli-'));

const cli = runCli;

describe('provenant chaincode check / proof (stand-in peer)', () => {
  let net: StandInNetwork;
  let cfg: string;

  beforeAll(async () => {
    net = await startStandIn(contracts, { batchTimeoutMs: 5 });
    cfg = join(tmp, 'auditor.json');
    writeFileSync(cfg, JSON.stringify({ ledger: { type: 'fabric', ...net.config } }));
  });
  afterAll(async () => {
    await net?.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('check lists the four contracts and the head', async () => {
    const r = await cli('chaincode', 'check', '-c', cfg);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const last = JSON.parse(r.out.trim().split('\n').at(-1) as string) as { head: { height: number }; contracts: string[] };
    expect(last.contracts.sort()).toEqual(Object.values(CONTRACTS).sort());
    expect(last.head.height).toBe(net.peer.ledger.height);
  });

  it('proof verifies a committed transaction and checks it against a saved head', async () => {
    const client = await FabricLedgerClient.connect(net.config);
    await ready();
    const issuer = setup({ keyMaterial: new Uint8Array(32).fill(3) });
    const config = JSON.stringify({ issuerPk: Buffer.from(issuer.pk).toString('hex'), schema: issuer.schema, policies: [POLICY] });
    const { txId } = await client.submit({ contract: CONTRACTS.deviceRegistration, fn: 'configure', args: [config] });
    await client.close();
    const headFile = join(tmp, 'head.json');
    const r = await cli('chaincode', 'proof', '-c', cfg, '--tx', txId, '--save-head', headFile);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/is VALID in block \d+/);
    const saved = JSON.parse(readFileSync(headFile, 'utf8')) as { height: number; hash: string };
    expect(saved.height).toBe(net.peer.ledger.height);
    expect((await cli('chaincode', 'proof', '-c', cfg, '--tx', txId, '--head', headFile)).code).toBe(0);
    writeFileSync(headFile, JSON.stringify({ height: saved.height, hash: 'ab'.repeat(32) }));
    const bad = await cli('chaincode', 'proof', '-c', cfg, '--tx', txId, '--head', headFile);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/PROV_ERR_PROOF_INVALID/);
  });

  it('check fails clearly on a bad config', async () => {
    const bad = join(tmp, 'bad.json');
    writeFileSync(bad, JSON.stringify({ ledger: { type: 'fabric', ...net.config, channel: undefined } }));
    const r = await cli('chaincode', 'check', '-c', bad);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/channel is required \[PROV_ERR_CONFIG\]/);
  });
});

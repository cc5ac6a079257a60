/**
 * `provenant bench fabric` on a REAL Fabric network (the run's shared network): with --deploy it
 * deploys a fresh Provenant chaincode and the trivial put chaincode with the peer CLI (the
 * environment docs/fabric.md §1 sets up), serves both, and prints Provenant's readings/s and the
 * put chaincode's tx/s from the same run, ending with one JSON line. Without what it needs it says
 * so and exits 2. Figures are measured, never asserted (only that every reading was accepted).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CONTRACTS } from '../../ledger-bridge/client.js';
import { FabricLedgerClient } from '../../ledger-bridge/fabric/fabric-client.js';
import { ready } from '../../shared/crypto/bbs.js';
import { setup } from '../../shared/crypto/outsourced.js';
import { runCli } from '../cli/run-in-process.js';
import { POLICY } from '../contracts/fixture.js';
import { describeFabric, FABRIC_SETUP_TIMEOUT, FabricTestNetwork, REPO } from '../support/fabric/index.js';

const tmp = mkdtempSync(join(tmpdir(), 'prov-fabric-bench-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

it('bench fabric without --config (or without chaincodes) explains what it needs and exits 2', async () => {
  const r = await runCli('bench', 'fabric');
  expect(r.code).toBe(2);
  expect(r.err).toMatch(/--config FILE/);
  expect(r.err).toMatch(/--deploy/);
  expect(r.err).toMatch(/--raw-chaincode NAME/);
  expect(r.err).not.toMatch(/deploy\/fabric\/edge\.yaml/);
});

describeFabric('bench fabric on a real network', () => {
  let net: FabricTestNetwork;
  beforeAll(async () => {
    net = await FabricTestNetwork.shared();
  }, FABRIC_SETUP_TIMEOUT);
  afterAll(() => net?.release());

  it('--deploy: Provenant readings/s and the put chaincode tx/s from one run, every reading accepted', async () => {
    const config = join(tmp, 'bench.json');
    writeFileSync(config, JSON.stringify({ ledger: { type: 'fabric', ...net.clientConfig('unused', net.identity('bench')) } }));
    const args = ['bench', 'fabric', '--config', config, '--deploy', '--readings', '80', '--batch-size', '40', '--unbatched-readings', '4'];
    args.push('--raw-txs', '6', '--devices', '2', '--concurrency', '4', '--answers', '20', '--answer-batch', '10');
    const r = await new Promise<{ code: number | null; out: string; err: string }>((res) => {
      const child = spawn(process.execPath, [join(REPO, 'bin', 'provenant.js'), ...args], {
        cwd: REPO,
        env: { ...process.env, ...net.operatorEnv() },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      child.once('exit', (code) => res({ code, out, err }));
    });
    expect(r.err).toMatch(/deploying provbench-/);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(
      /Provenant: \d+ readings\/s batched \(40 per transaction, packed, device-affine\); trivial put chaincode: [\d.]+ tx\/s/,
    );
    const last = JSON.parse(r.out.trim().split('\n').at(-1) as string) as {
      readingsPerSecond: number;
      rawTxPerSecond: number;
      deployed: boolean;
      batched: { readings: number; accepted: number; txs: number; cpuMsPer: Record<string, number> };
      unbatched: { accepted: number; txs: number };
      raw: { before: { txs: number }; after: { txs: number } };
      answers: {
        answers: number;
        txs: number;
        verdicts: Record<string, number>;
        reads: Record<string, number | null>;
        cpuMsPerAnswer: object;
      };
    };
    expect(last.deployed).toBe(true);
    expect(last.batched).toMatchObject({ readings: 80, accepted: 80, txs: 2 });
    expect(last.unbatched).toMatchObject({ accepted: 4, txs: 4 });
    expect(last.raw.before.txs).toBe(6);
    // the answer path: every reading of 2 transactions answered TRUE, its proofs from the peer's blocks
    expect(last.answers).toMatchObject({ answers: 20, txs: 2, verdicts: { TRUE: 20 } });
    // at most one lookup by transaction id per transaction proven: the 2 records', the 2 partials' and the config's
    expect(last.answers.reads.txLookups).toBeLessThanOrEqual(2 + 2 + 1);
    expect(last.answers.reads.blockFetches).not.toBeNull();
    expect(last.readingsPerSecond).toBeGreaterThan(0);
    expect(last.rawTxPerSecond).toBeGreaterThan(0);
    // the kit's peer and orderer and the bench's chaincode server run here: their CPU is measured
    expect(Object.keys(last.batched.cpuMsPer).sort()).toEqual(['chaincode', 'client', 'orderer', 'peer']);
  }, 300_000);

  it('names the fix when the chaincode is already configured', async () => {
    const cc = await net.startChaincode({ name: 'benchcfg' });
    const config = join(tmp, 'configured.json');
    const cfg = net.clientConfig(cc.label, net.identity('bench2'));
    writeFileSync(config, JSON.stringify({ ledger: { type: 'fabric', ...cfg } }));
    await ready();
    const issuer = setup();
    const client = await FabricLedgerClient.connect(cfg);
    await client.submit({
      contract: CONTRACTS.deviceRegistration,
      fn: 'configure',
      args: [JSON.stringify({ issuerPk: Buffer.from(issuer.pk).toString('hex'), schema: issuer.schema, policies: [POLICY] })],
    });
    await client.close();
    const r = await runCli('bench', 'fabric', '--config', config, '--raw-chaincode', cc.label, '--readings', '1', '--devices', '1');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/already configured.*--deploy.*--chaincode NAME/);
  });
});

/**
 * `provenant bench fabric`: with --config against a network (here the stand-in peer, through the
 * config file as an operator would point it at theirs) it commits every reading in both modes
 * and ends with one JSON line; without --config it says what it needs and exits 2. Figures are
 * measured, never asserted.
 */
import { startStandIn, type StandInNetwork } from '../support/fabric-stand-in/network.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contracts } from '../../ledger-bridge/contracts/index.js';
import { runCli } from '../cli/run-in-process.js';

const tmp = mkdtempSync(join(tmpdir(), 'prov-fabric-bench-'));

const cli = runCli;

describe('bench fabric', () => {
  let net: StandInNetwork;
  beforeAll(async () => {
    net = await startStandIn(contracts, { batchTimeoutMs: 5 });
  });
  afterAll(async () => {
    await net?.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('without --config explains what it needs and exits 2', async () => {
    const r = await cli('bench', 'fabric');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/needs a Fabric network: pass --config FILE/);
  });

  it('with --config commits every reading batched and unbatched and ends with one JSON line', async () => {
    const file = join(tmp, 'bench.yaml');
    writeFileSync(file, JSON.stringify({ ledger: { type: 'fabric', ...net.config } }));
    const r = await cli(
      'bench',
      'fabric',
      '--config',
      file,
      '--readings',
      '40',
      '--batch-size',
      '20',
      '--unbatched-readings',
      '4',
      '--devices',
      '2',
      '--concurrency',
      '2',
    );
    expect(r.code).toBe(0);
    const last = JSON.parse(r.out.trim().split('\n').at(-1) as string) as {
      standIn: boolean;
      batched: { readings: number; accepted: number; txs: number; readingsPerSecond: number };
      unbatched: { readings: number; accepted: number; txs: number };
    };
    expect(last.standIn).toBe(false);
    expect(last.batched).toMatchObject({ readings: 40, accepted: 40, txs: 2 });
    expect(last.unbatched).toMatchObject({ readings: 4, accepted: 4, txs: 4 });
    expect(last.batched.readingsPerSecond).toBeGreaterThan(0);
  });

  it('names a chaincode that another authority already configured', async () => {
    const file = join(tmp, 'again.yaml');
    writeFileSync(file, JSON.stringify({ ledger: { type: 'fabric', ...net.config } }));
    const r = await cli('bench', 'fabric', '--config', file, '--readings', '2', '--unbatched-readings', '1', '--devices', '1');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/already configured.*provenant-bench/);
  });
});

/**
 * docs/fabric.md section 7 as a test, against the stand-in peer serving the real contracts, with
 * the real CLI: authority init → device configure -c → authority enroll → device register -c
 * (K_IoT as transient data) → a batch of signed readings through FabricLedgerClient (what the
 * edge does) → verify -c (Algorithm 3 TRUE, Fabric block proof checked) → chaincode proof.
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
import { credentialFromJson } from '../../shared/crypto/credential.js';
import { readingOf, partialFor, signed } from '../contracts/fixture.js';

const tmp = mkdtempSync(join(tmpdir(), 'prov-fabric-walk-'));

const cli = runCli;

describe('docs/fabric.md walkthrough on the stand-in peer', () => {
  let net: StandInNetwork;
  let authority: string;
  let auditor: string;

  beforeAll(async () => {
    net = await startStandIn(contracts, { batchTimeoutMs: 5 });
    authority = join(tmp, 'authority.json');
    writeFileSync(authority, JSON.stringify({ ledger: { type: 'fabric', ...net.config } }));
    auditor = join(tmp, 'auditor.json');
    writeFileSync(auditor, JSON.stringify({ ledger: { type: 'fabric', ...net.config } }));
  });
  afterAll(async () => {
    await net?.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('configures, registers, records and verifies a reading end to end', async () => {
    const aa = join(tmp, 'aa');
    expect((await cli('authority', 'init', '--dir', aa)).code).toBe(0);
    const policy = join(tmp, 'policy.json');
    writeFileSync(policy, JSON.stringify({ id: 'temp-plant-3', anyOf: [{ site: 'plant-3', type: 'temperature' }] }));
    const conf = await cli('device', 'configure', '-c', authority, '--authority', aa, '--policy', policy);
    expect(conf.err).toBe('');
    expect(conf.code).toBe(0);
    expect(
      (
        await cli(
          'authority',
          'enroll',
          '--dir',
          aa,
          '--device',
          'dev-1',
          '--attr',
          'site=plant-3',
          'line=L1',
          'type=temperature',
          'owner=acme',
          'fw=1.0.0',
        )
      ).code,
    ).toBe(0);
    const reg = await cli(
      'device',
      'register',
      '-c',
      authority,
      '--registration',
      join(aa, 'dev-1.registration.json'),
      '--device-file',
      join(aa, 'dev-1.device.json'),
      '--gateway',
      'edge-1',
    );
    expect(reg.err).toBe('');
    expect(reg.code).toBe(0);
    expect(reg.out).toMatch(/registered dev-1: txId [0-9a-f]{64}/);

    // K_IoT went to the private collection through transient data: not into any block.
    const kIoT = Buffer.from((JSON.parse(readFileSync(join(aa, 'dev-1.device.json'), 'utf8')) as { kIoT: string }).kIoT, 'hex');
    for (let n = 0; n < net.peer.ledger.height; n++)
      expect(Buffer.from(net.peer.ledger.blockAt(n)?.block.serializeBinary() ?? []).includes(kIoT)).toBe(false);

    // What the edge does: a batch with the epoch's partial, through the Fabric client.
    const credential = credentialFromJson(JSON.parse(readFileSync(join(aa, 'dev-1.credential.json'), 'utf8')));
    const partial = partialFor(credential, 1);
    const subs = [1, 2, 3].map((seq) => signed(kIoT, readingOf('dev-1', seq, partial)));
    const edge = await FabricLedgerClient.connect(net.config);
    const r = await edge.submit({
      contract: CONTRACTS.dataProvenance,
      fn: 'recordBatch',
      args: [JSON.stringify({ version: 1, readings: subs, partials: [partial] })],
    });
    await edge.close();
    expect((JSON.parse(Buffer.from(r.result).toString()) as { accepted: number }).accepted).toBe(3);

    const data = join(tmp, 'reading.json');
    writeFileSync(data, JSON.stringify(subs[1]));
    const v = await cli('verify', '-c', auditor, '--device', 'dev-1', '--seq', '2', '--data', data, '--json');
    expect(v.err).toBe('');
    expect(v.code).toBe(0);
    const verdict = JSON.parse(v.out) as { verdict: string; evidence?: { proofCheck?: { ok: unknown }; blockNumber?: number } };
    expect(verdict.verdict).toBe('TRUE');
    expect(verdict.evidence?.proofCheck?.ok).toBe(true);
    expect(verdict.evidence?.blockNumber).toBe(r.blockNumber);

    // Tampered data: FALSE, non-zero exit.
    const tampered = join(tmp, 'tampered.json');
    const bad = { ...subs[1], canonical: (subs[1]?.canonical ?? '').replace(/.$/, (c) => (c === '0' ? '1' : '0')) };
    writeFileSync(tampered, JSON.stringify(bad));
    expect((await cli('verify', '-c', auditor, '--device', 'dev-1', '--seq', '2', '--data', tampered, '--json')).code).not.toBe(0);

    // A head saved now still anchors the proof after the chain has grown.
    const probe = await FabricLedgerClient.connect(net.config);
    const saved = await probe.head();
    await probe.submit({
      contract: CONTRACTS.dataProvenance,
      fn: 'recordBatch',
      args: [JSON.stringify({ version: 1, readings: [signed(kIoT, readingOf('dev-1', 4, partial))], partials: [] })],
    });
    await probe.close();
    const anchored = await cli(
      'verify',
      '-c',
      auditor,
      '--device',
      'dev-1',
      '--seq',
      '2',
      '--data',
      data,
      '--trusted-head',
      `${saved.height}:${saved.hash}`,
      '--json',
    );
    expect(anchored.err).toBe('');
    expect(anchored.code).toBe(0);
    expect((JSON.parse(anchored.out) as { evidence?: { proofCheck?: { ok: unknown } } }).evidence?.proofCheck?.ok).toBe(true);
    const forged = await cli(
      'verify',
      '-c',
      auditor,
      '--device',
      'dev-1',
      '--seq',
      '2',
      '--data',
      data,
      '--trusted-head',
      `${saved.height}:${'ab'.repeat(32)}`,
      '--json',
    );
    expect(forged.code).not.toBe(0);

    const p = await cli('chaincode', 'proof', '-c', auditor, '--tx', r.txId);
    expect(p.code).toBe(0);
    expect(p.out).toContain(`is VALID in block ${r.blockNumber}`);
  });
});

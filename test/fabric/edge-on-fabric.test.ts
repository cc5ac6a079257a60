/**
 * The edge runtime on Fabric: simulated boards running the built firmware → SerialLink (the sim's
 * serialport binding) → EdgeRuntime → FabricLedgerClient → stand-in peer → the real contracts in
 * fabric-shim's chaincode server. Every acknowledged reading is on the ledger exactly once with
 * the same dataHash, and a peer outage only grows the outbox, which drains when the peer is back.
 */
import { startStandIn, type StandInNetwork } from '../support/fabric-stand-in/network.js';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTRACTS } from '../../ledger-bridge/client.js';
import { contracts } from '../../ledger-bridge/contracts/index.js';
import { FabricLedgerClient } from '../../ledger-bridge/fabric/fabric-client.js';
import { ensureFirmwareBuilt } from '../../firmware/build.js';
import { SimBinding, startSimBoard, type SimBoardHandle } from '../../hardware/sim/index.js';
import { SerialLink } from '../../edge-runtime/src/links/serial-link.js';
import { EdgeRuntime } from '../../edge-runtime/src/runtime.js';
import { CredentialStore } from '../../edge-runtime/src/session/credentials.js';
import { ready } from '../../shared/crypto/bbs.js';
import { enrollDevice, setup, type Enrollment, type Issuer } from '../../shared/crypto/outsourced.js';
import { tempDir, TEST_POLICY } from '../support/edge-fixture.js';

const tmp = tempDir('provenant-edge-fabric-');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('edge runtime → Fabric client → stand-in peer', () => {
  let net: StandInNetwork;
  let aa: FabricLedgerClient;
  let edge: FabricLedgerClient;
  let issuer: Issuer;
  const devices: Enrollment[] = [];

  beforeAll(async () => {
    await ensureFirmwareBuilt();
    await ready();
    net = await startStandIn(contracts, { batchTimeoutMs: 20 });
    aa = await FabricLedgerClient.connect(net.config);
    edge = await FabricLedgerClient.connect(net.config, { retryBackoffMs: 20 });
    issuer = setup();
    await aa.submit({
      contract: CONTRACTS.deviceRegistration,
      fn: 'configure',
      args: [JSON.stringify({ issuerPk: Buffer.from(issuer.pk).toString('hex'), schema: issuer.schema, policies: [TEST_POLICY] })],
    });
    for (let i = 0; i < 4; i++) {
      const e = enrollDevice(issuer, { deviceId: `fab-${i}`, site: 'plant-3', line: 'l1', type: 'temperature', owner: 'acme', fw: '1' });
      await aa.submit({
        contract: CONTRACTS.deviceRegistration,
        fn: 'register',
        args: [JSON.stringify(e.registration)],
        transient: { kIoT: e.device.kIoT },
      });
      devices.push(e);
    }
  });
  afterAll(async () => {
    await aa?.close();
    await edge?.close();
    await net?.close();
    tmp.cleanup();
  });

  async function startEdge(name: string): Promise<EdgeRuntime> {
    const creds = new CredentialStore(issuer.pk);
    for (const d of devices) creds.add(d.credential);
    return EdgeRuntime.start({
      edgeId: 'edge-1',
      outboxPath: join(tmp.dir, `${name}.outbox.db`),
      ledger: edge,
      credentials: creds,
      policy: TEST_POLICY,
      profile: { intervalMs: 200 },
      forwarder: { batchSize: 100, maxWaitMs: 50, retryInitialMs: 100, retryMaxMs: 400 },
      traffic: false,
    });
  }

  async function board(i: number): Promise<SimBoardHandle> {
    const d = devices[i] as Enrollment;
    return startSimBoard({
      provisioning: { deviceId: d.device.deviceId, key: Buffer.from(d.device.kIoT).toString('base64'), intervalMs: 200 },
      link: 'mock',
    });
  }

  async function checkExactlyOnce(rt: EdgeRuntime): Promise<number> {
    let n = 0;
    for (const v of rt.deviceViews()) {
      const rows = rt.outbox.lastReadings(v.deviceId, 100_000);
      for (const r of rows) {
        expect(r.state).toBe('committed');
        const rec = JSON.parse(
          Buffer.from(await edge.evaluate({ contract: CONTRACTS.dataProvenance, fn: 'get', args: [v.deviceId, String(r.seq)] })).toString(),
        ) as { dataHash: string };
        expect(rec.dataHash).toBe(r.dataHash);
        n++;
      }
    }
    return n;
  }

  it('commits every acknowledged reading once; a peer outage only grows the outbox', async () => {
    const rt = await startEdge('fabric');
    const boards = [await board(0), await board(1)];
    for (const b of boards) await rt.attach(new SerialLink({ path: b.path, baudRate: 115200, binding: SimBinding as never }));
    const until = Date.now() + 30_000;
    while (Date.now() < until && rt.outbox.counts().committed < 10) await sleep(200);
    expect(rt.outbox.counts().committed).toBeGreaterThanOrEqual(10);

    net.peer.faults.down = true;
    const outageUntil = Date.now() + 20_000;
    while (Date.now() < outageUntil && (rt.outbox.depth < 10 || rt.forwarder.status().ledgerUp)) await sleep(200);
    expect(rt.outbox.depth).toBeGreaterThanOrEqual(10);
    expect(rt.forwarder.status().ledgerUp).toBe(false);
    net.peer.faults.down = false;

    for (const b of boards) b.powerOff();
    await sleep(300);
    const drainUntil = Date.now() + 30_000;
    while (Date.now() < drainUntil && rt.outbox.depth > 0) await sleep(100);
    await rt.forwarder.drain();
    expect(rt.outbox.counts()).toMatchObject({ pending: 0, rejected: 0 });
    const n = await checkExactlyOnce(rt);
    expect(n).toBeGreaterThanOrEqual(20);
    await rt.stop();
    for (const b of boards) await b.stop();
  });
});

/**
 * Faults on a REAL Fabric network, under load: simulated boards running the built firmware →
 * SerialLink → EdgeRuntime (SQLite outbox, forwarder) → FabricLedgerClient → Fabric 2.4.9 peer →
 * Provenant's chaincode in `provenant chaincode serve` → orderer. While the boards send, the test
 * hangs the peer (SIGSTOP) while a batch awaits its commit status, kills the peer (SIGKILL) and
 * starts it again, kills the chaincode server (SIGKILL) and starts it again, and stops and
 * restarts the orderer. Afterwards:
 *  - no acknowledged reading is lost: every outbox row is committed, none pending or rejected;
 *  - none is recorded twice: the ReadingsRecorded events of all blocks accept exactly as many
 *    readings as the outbox holds;
 *  - every outbox row names the transaction whose record holds the reading (record.txId), even
 *    for batches re-sent after a lost commit status and answered as duplicates (issue #13, 1).
 * This file starts a network of its own: killing the shared network's peer would break the
 * other test files using it.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CONTRACTS, type LedgerEvent } from '../../ledger-bridge/client.js';
import { FabricLedgerClient } from '../../ledger-bridge/fabric/fabric-client.js';
import { ensureFirmwareBuilt } from '../../firmware/build.js';
import { SimBinding, startSimBoard, type SimBoardHandle } from '../../hardware/sim/index.js';
import { SerialLink } from '../../edge-runtime/src/links/serial-link.js';
import { EdgeRuntime } from '../../edge-runtime/src/runtime.js';
import { CredentialStore } from '../../edge-runtime/src/session/credentials.js';
import { ledgerKeys } from '../../shared/crypto/domains.js';
import { sha256 } from '../../shared/crypto/sha256.js';
import { ready } from '../../shared/crypto/bbs.js';
import { enrollDevice, setup, type Enrollment, type Issuer } from '../../shared/crypto/outsourced.js';
import { EVENTS } from '../../shared/records.js';
import { tempDir, TEST_POLICY } from '../support/edge-fixture.js';
import { describeFabric, FABRIC_SETUP_TIMEOUT, FabricTestNetwork, waitFor, type ChaincodeProcess } from '../support/fabric/index.js';

const tmp = tempDir('provenant-fabric-faults-');
const BOARDS = 4;

describeFabric('faults on a real Fabric network, under load', () => {
  let net: FabricTestNetwork;
  let cc: ChaincodeProcess;
  let aa: FabricLedgerClient;
  let edge: FabricLedgerClient;
  let issuer: Issuer;
  let rt: EdgeRuntime | undefined;
  const boards: SimBoardHandle[] = [];
  const devices: Enrollment[] = [];
  const traced: number[] = [];

  beforeAll(async () => {
    await Promise.all([ensureFirmwareBuilt(), ready()]);
    net = await FabricTestNetwork.start({ dir: join(tmp.dir, 'fabnet'), batchTimeout: '100ms' });
    cc = await net.startChaincode({ name: 'faults' });
    aa = await FabricLedgerClient.connect(net.clientConfig(cc.label, net.identity('aa')));
    // Few retries inside the client: a lost commit status reaches the forwarder, which re-sends the
    // batch later — the path where the contract answers "duplicate".
    edge = await FabricLedgerClient.connect(
      net.clientConfig(cc.label, net.identity('edge-1'), {
        maxRetries: 1,
        timeouts: { commitStatusMs: 2_500, submitMs: 3_000, endorseMs: 5_000 },
      }),
      { retryBackoffMs: 100 },
    );
    issuer = setup();
    await aa.submit({
      contract: CONTRACTS.deviceRegistration,
      fn: 'configure',
      args: [JSON.stringify({ issuerPk: Buffer.from(issuer.pk).toString('hex'), schema: issuer.schema, policies: [TEST_POLICY] })],
    });
    for (let i = 0; i < BOARDS; i++) {
      const e = enrollDevice(issuer, { deviceId: `fault-${i}`, site: 'plant-3', line: 'l1', type: 'temperature', owner: 'acme', fw: '1' });
      await aa.submit({
        contract: CONTRACTS.deviceRegistration,
        fn: 'register',
        args: [JSON.stringify(e.registration)],
        transient: { ...ledgerKeys(sha256, e.device.kIoT) },
      });
      devices.push(e);
    }
  }, FABRIC_SETUP_TIMEOUT);

  afterAll(async () => {
    for (const b of boards) await b.stop().catch(() => undefined);
    await rt?.stop().catch(() => undefined);
    await aa?.close();
    await edge?.close();
    await net?.stop({ removeDir: process.env.PROVENANT_FABRIC_KEEP !== '1' });
    tmp.cleanup();
  });

  const committed = (): number => rt?.outbox.counts().committed ?? 0;
  /** Waits until `more` readings beyond the current count are committed (the pipeline moves again). */
  const progress = async (what: string, more = 8): Promise<void> => {
    const target = committed() + more;
    await waitFor(`${more} more readings committed ${what}`, () => committed() >= target, 90_000, 100);
  };

  it('peer hung and SIGKILLed, chaincode server SIGKILLed, orderer restarted: nothing lost, nothing twice, every row at its transaction', async () => {
    const creds = new CredentialStore(issuer.pk);
    for (const d of devices) creds.add(d.credential);
    rt = await EdgeRuntime.start({
      edgeId: 'edge-1',
      outboxPath: join(tmp.dir, 'outbox.db'),
      ledger: edge,
      credentials: creds,
      policy: TEST_POLICY,
      profile: { intervalMs: 100 },
      forwarder: { batchSize: 50, maxWaitMs: 50, retryInitialMs: 100, retryMaxMs: 1_000 },
      traffic: false,
    });
    rt.forwarder.onSettled((s) => traced.push(s.recordedBy.size));
    for (const d of devices) {
      const b = await startSimBoard({
        provisioning: { deviceId: d.device.deviceId, key: Buffer.from(d.device.kIoT).toString('base64'), intervalMs: 100 },
        link: 'mock',
      });
      boards.push(b);
      await rt.attach(new SerialLink({ path: b.path, baudRate: 115200, binding: SimBinding as never }));
      b.reboot(); // its first HELLO went out before the edge listened
    }
    await progress('at start', 20);

    // 0. The peer hangs (SIGSTOP) while a batch waits for its commit status: the orderer still
    //    orders it, the edge gives up on the status and later re-sends the batch, and the contract
    //    answers "duplicate" for readings the first transaction recorded. Repeated until it happens.
    for (let i = 0; i < 6 && traced.reduce((a, b) => a + b, 0) === 0; i++) {
      // freeze just after a transaction was endorsed: it is then on its way to the orderer
      const endorsed = edge.stats.submitted;
      await waitFor('a transaction endorsed', () => edge.stats.submitted > endorsed, 30_000, 1);
      await new Promise((r) => setTimeout(r, 40 * (i + 1)));
      net.freezeNode('peer', true);
      await waitFor('the forwarder to give up on the hung peer', () => !(rt as EdgeRuntime).forwarder.status().ledgerUp, 60_000, 50);
      net.freezeNode('peer', false);
      await progress('after the peer thawed');
    }
    expect(
      traced.reduce((a, b) => a + b, 0),
      'readings answered as duplicates after a lost commit status',
    ).toBeGreaterThan(0);

    // 1. The peer dies mid-flight (SIGKILL: no goodbye), the outbox grows, the peer comes back.
    //    An auditor following chaincode events reconnects and goes on after the last event it had.
    const follower = await FabricLedgerClient.connect(net.clientConfig(cc.label, net.identity('follower'), { maxRetries: 30 }), {
      retryBackoffMs: 100,
    });
    const seen: LedgerEvent[] = [];
    const stopFollowing = new AbortController();
    const following = (async () => {
      for await (const ev of follower.events({ startBlock: (await follower.head()).height, signal: stopFollowing.signal })) seen.push(ev);
    })();
    await waitFor('an event before the outage', () => seen.length > 0, 60_000, 50);
    await net.stopNode('peer', 'SIGKILL');
    await waitFor('the forwarder to notice the outage', () => !(rt as EdgeRuntime).forwarder.status().ledgerUp, 60_000, 50);
    const depthDuringOutage = (rt as EdgeRuntime).outbox.depth;
    await net.startNode('peer');
    await progress('after the peer restart');
    expect(depthDuringOutage).toBeGreaterThan(0);
    const seenBefore = seen.length;
    await waitFor('events after the peer restart', () => seen.length > seenBefore, 60_000, 50);
    stopFollowing.abort();
    await following;
    await follower.close();
    expect(follower.stats.eventReconnects).toBeGreaterThanOrEqual(1);
    const blocks = seen.map((e) => e.blockNumber);
    expect(blocks).toEqual([...blocks].sort((a, b) => a - b)); // in order, resumed after the last one
    expect(new Set(seen.map((e) => e.txId)).size).toBe(seen.length); // none delivered twice here

    // 2. The chaincode server dies under load; the peer re-dials it once it is back.
    await cc.kill('SIGKILL');
    await waitFor('the forwarder to notice the chaincode outage', () => !(rt as EdgeRuntime).forwarder.status().ledgerUp, 60_000, 50);
    await cc.start();
    await progress('after the chaincode server restart');

    // 3. The orderer stops and starts again (Raft elects it leader anew).
    await net.stopNode('orderer', 'SIGTERM');
    await waitFor('the forwarder to notice the ordering outage', () => !(rt as EdgeRuntime).forwarder.status().ledgerUp, 60_000, 50);
    await net.startNode('orderer');
    await progress('after the orderer restart');

    // Stop the boards, drain.
    for (const b of boards) b.powerOff();
    await Promise.all((rt as EdgeRuntime).allSessions().map((s) => s.idle()));
    await waitFor('the outbox to drain', () => (rt as EdgeRuntime).outbox.depth === 0, 120_000, 100);
    const counts = (rt as EdgeRuntime).outbox.counts();
    expect(counts).toMatchObject({ pending: 0, rejected: 0 });

    // Every row: committed, and its txId is the transaction whose record holds exactly this data.
    let rows = 0;
    for (const v of (rt as EdgeRuntime).deviceViews()) {
      for (const r of (rt as EdgeRuntime).outbox.lastReadings(v.deviceId, 100_000)) {
        expect(r.state).toBe('committed');
        const rec = JSON.parse(
          Buffer.from(await edge.evaluate({ contract: CONTRACTS.dataProvenance, fn: 'get', args: [v.deviceId, String(r.seq)] })).toString(),
        ) as { dataHash: string; txId: string };
        expect(rec.dataHash, `${v.deviceId} seq ${r.seq}`).toBe(r.dataHash);
        expect(r.txId, `${v.deviceId} seq ${r.seq}: outbox row points at the recording transaction`).toBe(rec.txId);
        rows++;
      }
    }
    expect(rows).toBe(counts.committed);
    expect(rows).toBeGreaterThanOrEqual(80);

    // Nothing recorded twice: the ReadingsRecorded events of the whole chain accept exactly `rows`.
    const marker = enrollDevice(issuer, {
      deviceId: 'fault-end',
      site: 'plant-3',
      line: 'l1',
      type: 'temperature',
      owner: 'acme',
      fw: '1',
    });
    const end = await aa.submit({
      contract: CONTRACTS.deviceRegistration,
      fn: 'register',
      args: [JSON.stringify(marker.registration)],
      transient: { ...ledgerKeys(sha256, marker.device.kIoT) },
    });
    let accepted = 0;
    const ac = new AbortController();
    for await (const ev of edge.events({ startBlock: 0, signal: ac.signal }) as AsyncIterable<LedgerEvent>) {
      if (ev.name === EVENTS.readingsRecorded)
        accepted += (JSON.parse(Buffer.from(ev.payload).toString()) as { accepted: number }).accepted;
      if (ev.txId === end.txId) break;
    }
    expect(accepted).toBe(rows);
    process.stderr.write(
      `[fabric faults] ${rows} readings committed once each; outbox depth ${depthDuringOutage} during the peer outage; ${traced.reduce((a, b) => a + b, 0)} duplicate answers traced to their recording transaction\n`,
    );
  }, 600_000);
});

/**
 * Acceptance: simulated boards running the BUILT firmware (H3's sim, node:vm) → a real pty
 * (hardware/pty.ts) or the sim's serialport binding (MockBinding underneath) → SerialLink → edge runtime →
 * embedded ledger running the contracts. Every reading the edge acknowledged is on the ledger,
 * exactly once, with the same dataHash; and a ledger outage only grows the outbox, which drains
 * when the ledger is back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { CONTRACTS, type LedgerClient } from '../../ledger-bridge/client.js';
import { ensureFirmwareBuilt } from '../../firmware/build.js';
import { ptyUnavailableReason, SimBinding, startSimBoard, type SimBoardHandle } from '../../hardware/sim/index.js';
import { SerialLink } from '../../edge-runtime/src/links/serial-link.js';
import { EdgeRuntime } from '../../edge-runtime/src/runtime.js';
import { CredentialStore } from '../../edge-runtime/src/session/credentials.js';
import { ledgerFixture, tempDir, TEST_POLICY, type LedgerFixture } from '../support/edge-fixture.js';
import { waitFor, waitQuiet } from '../support/wait.js';

const tmp = tempDir('provenant-e2e-');
let fx: LedgerFixture;
beforeAll(async () => {
  await ensureFirmwareBuilt();
  fx = await ledgerFixture(join(tmp.dir, 'ledger.db'), 6);
});
afterAll(async () => {
  await fx.close();
  tmp.cleanup();
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function startEdge(name: string, ledger: LedgerClient): Promise<EdgeRuntime> {
  const creds = new CredentialStore(fx.issuer.pk);
  for (const d of fx.devices) creds.add(d.credential);
  return EdgeRuntime.start({
    edgeId: 'edge-1',
    outboxPath: join(tmp.dir, `${name}.outbox.db`),
    ledger,
    credentials: creds,
    policy: TEST_POLICY,
    profile: { intervalMs: 200 },
    forwarder: { batchSize: 100, maxWaitMs: 50, retryInitialMs: 100, retryMaxMs: 400 },
    traffic: false,
  });
}

async function boardFor(i: number, link: 'mock' | 'pty'): Promise<SimBoardHandle> {
  const d = fx.devices[i]!;
  return startSimBoard({ provisioning: { deviceId: d.deviceId, key: Buffer.from(d.kIoT).toString('base64'), intervalMs: 200 }, link });
}

/** Every outbox row is on the ledger with the same dataHash (one record per (deviceId, seq) key). */
async function checkExactlyOnce(rt: EdgeRuntime): Promise<number> {
  let n = 0;
  for (const v of rt.deviceViews()) {
    const rows = rt.outbox.lastReadings(v.deviceId, 100_000);
    expect(new Set(rows.map((r) => r.seq)).size).toBe(rows.length);
    for (const r of rows) {
      expect(r.state).toBe('committed');
      const rec = JSON.parse(
        new TextDecoder().decode(
          await fx.edgeClient.evaluate({ contract: CONTRACTS.dataProvenance, fn: 'get', args: [v.deviceId, String(r.seq)] }),
        ),
      ) as { dataHash: string; seq: number };
      expect(rec.dataHash).toBe(r.dataHash);
      n += 1;
    }
    // The device's seqs have no holes: nothing acknowledged was dropped on the way.
    const seqs = rows.map((r) => r.seq).sort((a, b) => a - b);
    if (seqs.length > 0) expect(seqs.at(-1)! - seqs[0]! + 1).toBe(seqs.length);
  }
  return n;
}

const noPty = ptyUnavailableReason();
if (noPty) console.log(`pty part skipped: ${noPty}; the MockBinding part runs`);

/** Powers the boards off, waits until the outbox stops growing, and lets the forwarder send what it holds. */
async function powerOffAndDrain(rt: EdgeRuntime, boards: readonly SimBoardHandle[]): Promise<void> {
  for (const b of boards) b.powerOff();
  // A frame already on the line at power-off is stored after that: wait until nothing arrives.
  await waitQuiet(
    'the outbox to stop growing after the boards powered off',
    () => rt.outbox.counts(),
    () => true,
  );
  await rt.forwarder.drain();
}

describe('boards → link → edge → ledger', () => {
  it('every acknowledged reading is on the ledger exactly once (pty and MockBinding links)', async () => {
    const rt = await startEdge('pipeline', fx.edgeClient);
    const boards: SimBoardHandle[] = [];
    const kinds: ('mock' | 'pty')[] = noPty === undefined ? ['pty', 'pty', 'mock', 'mock'] : ['mock', 'mock', 'mock', 'mock'];
    for (let i = 0; i < kinds.length; i++) {
      const b = await boardFor(i, kinds[i]!);
      boards.push(b);
      await rt.attach(new SerialLink({ path: b.path, baudRate: 115200, ...(b.link === 'mock' ? { binding: SimBinding as never } : {}) }));
    }
    await waitFor(
      'every board to have 10 readings acknowledged',
      () => rt.deviceViews().filter((v) => v.acked >= 10).length === kinds.length,
      {
        timeoutMs: 60_000,
        detail: () => `acked per board: ${JSON.stringify(rt.deviceViews().map((v) => [v.deviceId, v.acked]))}`,
      },
    );
    await powerOffAndDrain(rt, boards);
    const n = await checkExactlyOnce(rt);
    expect(n).toBeGreaterThanOrEqual(10 * kinds.length);
    expect(rt.outbox.counts()).toMatchObject({ pending: 0, rejected: 0 });
    await rt.stop();
    for (const b of boards) await b.stop();
  });

  it('ledger down for a while: the outbox grows, then drains when it is back; nothing lost', async () => {
    let down = true;
    const flaky: LedgerClient = {
      ...fx.edgeClient,
      submit: (p) => (down ? Promise.reject(new Error('ledger unreachable (outage simulated by the test)')) : fx.edgeClient.submit(p)),
      evaluate: (p) => fx.edgeClient.evaluate(p),
      events: (o) => fx.edgeClient.events(o),
      head: () => fx.edgeClient.head(),
      inclusionProof: (t) => fx.edgeClient.inclusionProof(t),
      close: async () => undefined,
    };
    const rt = await startEdge('outage', flaky);
    const boards = [await boardFor(4, 'mock'), await boardFor(5, 'mock')];
    for (const b of boards) await rt.attach(new SerialLink({ path: b.path, baudRate: 115200, binding: SimBinding as never }));
    const depths: number[] = [];
    const until = Date.now() + 20_000;
    while (Date.now() < until && rt.outbox.depth < 20) {
      await sleep(250);
      depths.push(rt.outbox.depth);
    }
    expect(rt.outbox.depth).toBeGreaterThanOrEqual(20);
    expect(rt.forwarder.status().ledgerUp).toBe(false);
    expect(rt.outbox.counts().committed).toBe(0);
    // The boards keep sampling, so the outbox is seldom empty: wait for the backlog to commit.
    const backlog = rt.outbox.counts().pending;
    down = false;
    await waitFor(
      `the ${backlog} readings stored during the outage to commit once the ledger is back`,
      () => rt.outbox.counts().committed >= backlog,
      {
        timeoutMs: 60_000,
        detail: () => `outbox ${JSON.stringify(rt.outbox.counts())}, forwarder ${JSON.stringify(rt.forwarder.status())}`,
      },
    );
    await powerOffAndDrain(rt, boards);
    expect(rt.forwarder.status().ledgerUp).toBe(true);
    const n = await checkExactlyOnce(rt);
    expect(n).toBeGreaterThanOrEqual(20);
    await rt.stop();
    for (const b of boards) await b.stop();
  });
});

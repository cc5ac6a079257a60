/**
 * Issue 11, attack 9 (the edge's part), through the real parts: the built LINUX firmware in the
 * simulated board (V8 stand-in for a board) on a serial link, the edge runtime, and the four
 * contracts on the embedded ledger (a real SQLite file). The rogue second link is a scripted
 * board (test/edge/helpers.ts): it only needs to say HELLO, which takes no key.
 *
 *   revoked   the edge tells a revoked board NACK REVOKED (it stops: STATUS STOPPED) and takes no
 *             more of its readings: learnt from the ledger refusing them, and from the registry
 *             at HELLO (also after an edge restart); other boards go on
 *   takeover  a keyless HELLO for a device that has a live session on another link is refused
 *             until that link drops; the device's entry (/devices/ID) stays with the live link
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { CONTRACTS } from '../../ledger-bridge/client.js';
import { ensureFirmwareBuilt } from '../../firmware/build.js';
import { SimBinding, startSimBoard, type SimBoardHandle } from '../../hardware/sim/index.js';
import { SerialLink } from '../../edge-runtime/src/links/serial-link.js';
import { EdgeRuntime } from '../../edge-runtime/src/runtime.js';
import { CredentialStore } from '../../edge-runtime/src/session/credentials.js';
import { NACK_REVOKED, NACK_UNKNOWN_DEVICE, STATUS_STOPPED } from '../../shared/wire/messages.js';
import { ledgerFixture, MemoryLink, ScriptedBoard, tempDir, TEST_POLICY, type LedgerFixture } from '../support/edge-fixture.js';

const tmp = tempDir('provenant-trust-edge-');
let fx: LedgerFixture;
beforeAll(async () => {
  await ensureFirmwareBuilt();
  fx = await ledgerFixture(join(tmp.dir, 'ledger.db'), 4);
}, 120_000);
afterAll(async () => {
  await fx.close();
  tmp.cleanup();
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** HELLOs the edge refused for `reason` (metric provenant's helloRefused). */
async function refusals(rt: EdgeRuntime, reason: string): Promise<number> {
  const m = await rt.metrics.helloRefused.get();
  return m.values.filter((v) => v.labels['reason'] === reason).reduce((a, v) => a + v.value, 0);
}

async function startEdge(name: string): Promise<EdgeRuntime> {
  const creds = new CredentialStore(fx.issuer.pk);
  for (const d of fx.devices) creds.add(d.credential);
  return EdgeRuntime.start({
    edgeId: 'edge-1',
    outboxPath: join(tmp.dir, `${name}.outbox.db`),
    ledger: fx.edgeClient,
    credentials: creds,
    policy: TEST_POLICY,
    profile: { intervalMs: 200 },
    forwarder: { batchSize: 100, maxWaitMs: 50, retryInitialMs: 100, retryMaxMs: 400 },
    traffic: false,
  });
}

async function boardFor(i: number): Promise<SimBoardHandle> {
  const d = fx.devices[i]!;
  return startSimBoard({
    provisioning: { deviceId: d.deviceId, key: Buffer.from(d.kIoT).toString('base64'), intervalMs: 200 },
    link: 'mock',
  });
}

function serialLinkOf(b: SimBoardHandle): SerialLink {
  return new SerialLink({ path: b.path, baudRate: 115200, binding: SimBinding as never });
}

describe('attack 9: the edge and a revoked board', () => {
  it('NACK REVOKED stops the board, its readings are no longer taken, after reboots and edge restarts too; other boards go on', async () => {
    const rt = await startEdge('revoked');
    const victim = await boardFor(1);
    const other = await boardFor(2);
    await rt.attach(serialLinkOf(victim));
    await rt.attach(serialLinkOf(other));
    await until(
      () => (rt.deviceView('dev-1')?.committed ?? 0) >= 2 && (rt.deviceView('dev-2')?.committed ?? 0) >= 2,
      'readings of both boards',
    );

    await fx.aaClient.submit({ contract: CONTRACTS.deviceRegistration, fn: 'revoke', args: ['dev-1', 'stolen (test)'] });
    // The ledger refuses its next readings REVOKED; the edge tells the board, which stops.
    await until(() => rt.deviceView('dev-1')?.lastStatus?.code === STATUS_STOPPED, 'STATUS STOPPED from the revoked board');
    await sleep(300);
    const stored = rt.outbox.lastReadings('dev-1', 10_000).length;
    const sentBefore = victim.stats.framesOut['READING'] ?? 0;
    await sleep(1500);
    expect(rt.outbox.lastReadings('dev-1', 10_000).length).toBe(stored);
    // Stopped: no new samples, only its unacknowledged ones resent (each answered REVOKED and dropped).
    expect((victim.stats.framesOut['READING'] ?? 0) - sentBefore).toBeLessThanOrEqual(8);

    // After a reboot the board says HELLO: answered NACK REVOKED, no PARTIAL, no readings.
    victim.reboot();
    await sleep(1500);
    expect(rt.outbox.lastReadings('dev-1', 10_000).length).toBe(stored);
    expect(rt.deviceView('dev-1')?.lastStatus?.code).toBe(STATUS_STOPPED);

    // Good readings of the other board are kept all along.
    const otherBefore = rt.deviceView('dev-2')!.committed;
    await until(() => rt.deviceView('dev-2')!.committed > otherBefore + 2, 'the other board still committing');
    await rt.stop();

    // A restarted edge knows nothing in memory: the registry, asked at HELLO, says revoked.
    // (A refused session records nothing under /devices/ID, so the board's STATUS is counted on its side.)
    const rt2 = await startEdge('revoked-2');
    await rt2.attach(serialLinkOf(victim));
    const statusBefore = victim.stats.framesOut['STATUS'] ?? 0;
    victim.reboot();
    await until(async () => (await refusals(rt2, 'REVOKED')) >= 1, 'the restarted edge to refuse the revoked HELLO');
    await until(() => (victim.stats.framesOut['STATUS'] ?? 0) > statusBefore, 'STATUS STOPPED after the edge restart');
    await sleep(1000);
    expect(rt2.outbox.lastReadings('dev-1', 10_000)).toEqual([]);
    await rt2.stop();
    await victim.stop();
    await other.stop();
  });

  it('a scripted board gets NACK REVOKED for its HELLO and for a reading', async () => {
    await fx.aaClient.submit({ contract: CONTRACTS.deviceRegistration, fn: 'revoke', args: ['dev-3', 'stolen (test)'] });
    const rt = await startEdge('revoked-scripted');
    const link = new MemoryLink('revoked-scripted');
    await rt.attach(link);
    const board = new ScriptedBoard(link, fx.devices[3]!);
    board.hello();
    await board.until(() => board.nacks.some((n) => n.reason === NACK_REVOKED));
    expect(board.partials).toBe(0);
    board.epoch = 1;
    board.digest = new Uint8Array(32);
    const seq = board.sample();
    await board.until(() => board.nacks.some((n) => n.seq === seq && n.reason === NACK_REVOKED));
    expect(rt.outbox.lastReadings('dev-3', 100)).toEqual([]);
    await rt.stop();
  });
});

describe('attack 9: a second HELLO cannot take a live session over', () => {
  it('refused while the first link is live, the entry stays with it; accepted once that link drops', async () => {
    const rt = await startEdge('takeover');
    const genuine = await boardFor(0);
    const linkA = serialLinkOf(genuine);
    await rt.attach(linkA);
    await until(() => (rt.deviceView('dev-0')?.acked ?? 0) >= 2, 'readings of the genuine board');
    expect(rt.deviceView('dev-0')?.link).toBe(linkA.id);

    // A keyless impostor on a second link says HELLO for dev-0.
    const rogueLink = new MemoryLink('rogue');
    await rt.attach(rogueLink);
    const rogue = new ScriptedBoard(rogueLink, { ...fx.devices[0]!, kIoT: new Uint8Array(randomBytes(32)) });
    rogue.hello();
    await rogue.until(() => rogue.nacks.some((n) => n.reason === NACK_UNKNOWN_DEVICE));
    expect(rogue.partials).toBe(0);
    expect(await refusals(rt, 'SESSION_ELSEWHERE')).toBeGreaterThanOrEqual(1);
    expect(rt.deviceView('dev-0')?.link).toBe(linkA.id);
    expect(rt.sessionOf('dev-0')?.link.id).toBe(linkA.id);
    // The genuine board goes on, undisturbed.
    const acked = rt.deviceView('dev-0')!.acked;
    await until(() => rt.deviceView('dev-0')!.acked > acked + 2, 'the genuine board still acknowledged');
    expect(rt.deviceView('dev-0')?.link).toBe(linkA.id);

    // The first link drops (its port goes away; a mock port has no cable to pull, so the edge's end
    // closes): now a HELLO on the other link is accepted.
    await linkA.close();
    await genuine.stop();
    expect(linkA.state).not.toBe('open');
    rogue.hello();
    await rogue.until(() => rogue.partials > 0);
    expect(rt.deviceView('dev-0')?.link).toBe(rogueLink.id);
    await rt.stop();
  });
});

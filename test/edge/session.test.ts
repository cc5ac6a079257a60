/**
 * Device sessions end to end through the real pieces: wire frames with real tags from a stand-in
 * board → DeviceSession → SQLite outbox → forwarder → real embedded ledger running the real
 * contracts. Each check of READING intake has a case here.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { CONTRACTS } from '../../ledger-bridge/client.js';
import {
  NACK_NO_PARTIAL,
  NACK_OUTBOX_FULL,
  NACK_RATE,
  NACK_REPLAY,
  NACK_UNKNOWN_DEVICE,
  STATUS_RING_FULL,
} from '../../shared/wire/messages.js';
import { CredentialStore } from '../../edge-runtime/src/session/credentials.js';
import type { EdgeRuntime } from '../../edge-runtime/src/runtime.js';
import { ledgerFixture, MemoryLink, ScriptedBoard, startFixtureEdge, tempDir, type LedgerFixture } from '../support/edge-fixture.js';

let fx: LedgerFixture;
const tmp = tempDir();

beforeAll(async () => {
  fx = await ledgerFixture(join(tmp.dir, 'ledger.db'), 6, { unregistered: 1 });
});
afterAll(async () => {
  await fx.close();
  tmp.cleanup();
});

function startEdge(name: string, extra: Partial<Parameters<typeof EdgeRuntime.start>[0]> = {}): Promise<EdgeRuntime> {
  return startFixtureEdge(fx, tmp.dir, name, extra);
}

async function onLedger(deviceId: string, seq: number): Promise<boolean> {
  try {
    await fx.edgeClient.evaluate({ contract: CONTRACTS.dataProvenance, fn: 'get', args: [deviceId, String(seq)] });
    return true;
  } catch {
    return false;
  }
}

async function connect(rt: EdgeRuntime, deviceIndex: number, name: string, startSeq = 1): Promise<ScriptedBoard> {
  const link = new MemoryLink(name);
  await rt.attach(link);
  const board = new ScriptedBoard(link, fx.devices[deviceIndex]!, startSeq);
  board.hello();
  await board.until(() => board.partials > 0);
  return board;
}

describe('device session', () => {
  it('HELLO gets a PARTIAL; readings are ACKed after the outbox commit and land on the ledger exactly once', async () => {
    const rt = await startEdge('happy');
    const board = await connect(rt, 0, 'happy');
    expect(board.epoch).toBe(Math.floor(Date.now() / 3_600_000));
    for (let i = 0; i < 10; i++) board.sample();
    await board.until(() => board.highestAck === 10);
    expect(board.ring.size).toBe(0);
    // Every acknowledged reading is in the outbox before the ACK left.
    expect(
      rt.outbox
        .lastReadings('dev-0', 100)
        .map((r) => r.seq)
        .sort((a, b) => a - b),
    ).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    await rt.forwarder.drain();
    for (let s = 1; s <= 10; s++) expect(await onLedger('dev-0', s)).toBe(true);
    expect(rt.outbox.counts()).toMatchObject({ pending: 0, committed: 10, rejected: 0 });
    // A resend of a committed reading (its ACK was lost) is acknowledged again, not stored twice.
    board.ring.clear();
    board.link.fromBoard(new Uint8Array(0));
    const dup = board.makeReading({ seq: 5 });
    board.send({ kind: 'READING', ...dup });
    await board.until(() => board.acked.length >= 2 && board.acked.at(-1) === 10);
    expect(rt.outbox.counts().committed).toBe(10);
    await rt.stop();
  });

  it('refuses an unknown device with NACK UNKNOWN_DEVICE and counts it', async () => {
    const rt = await startEdge('unknown');
    const link = new MemoryLink('unknown');
    await rt.attach(link);
    const stranger = new ScriptedBoard(link, { ...fx.devices[0]!, deviceId: 'stranger-9' });
    stranger.hello();
    await stranger.until(() => stranger.nacks.length > 0);
    expect(stranger.nacks[0]?.reason).toBe(NACK_UNKNOWN_DEVICE);
    expect(stranger.partials).toBe(0);
    expect(await rt.metrics.render()).toMatch(/provenant_edge_hello_refused_total\{reason="UNKNOWN_DEVICE"\} 1/);
    await rt.stop();
  });

  it('refuses a device whose credential does not verify (another issuer)', async () => {
    const creds = new CredentialStore(new Uint8Array(96).fill(7));
    expect(creds.add(fx.devices[1]!.credential)).toBe(false);
    expect(creds.lookup('dev-1')).toMatchObject({ ok: false, problem: 'BAD_CREDENTIAL' });
  });

  it('NACKs NO_PARTIAL before HELLO and for a digest the edge never issued', async () => {
    const rt = await startEdge('nopartial');
    const board = await connect(rt, 1, 'nopartial');
    const fake = board.makeReading({ partialDigest: new Uint8Array(32).fill(9) });
    board.send({ kind: 'READING', ...fake });
    await board.until(() => board.nacks.length > 0);
    expect(board.nacks[0]).toEqual({ seq: fake.reading.seq, reason: NACK_NO_PARTIAL });
    // A second link that never said HELLO.
    const link2 = new MemoryLink('nopartial-2');
    await rt.attach(link2);
    const silent = new ScriptedBoard(link2, fx.devices[1]!);
    silent.epoch = board.epoch;
    silent.digest = board.digest;
    silent.sample();
    await silent.until(() => silent.nacks.length > 0);
    expect(silent.nacks[0]?.reason).toBe(NACK_NO_PARTIAL);
    // A board with a full ring on a link with no session (the edge restarted) sends no READING,
    // only STATUS RING_FULL: it is asked for its HELLO (NACK NO_PARTIAL of no reading) rather
    // than left until its next resend round, up to 60 s away. Not once the session is up.
    const link3 = new MemoryLink('nopartial-3');
    await rt.attach(link3);
    const full = new ScriptedBoard(link3, fx.devices[2]!);
    full.send({ kind: 'STATUS', code: STATUS_RING_FULL, value: 7, text: '' });
    await full.until(() => full.nacks.length > 0);
    expect(full.nacks).toEqual([{ seq: 0, reason: NACK_NO_PARTIAL }]);
    full.hello();
    await full.until(() => full.partials > 0);
    full.send({ kind: 'STATUS', code: STATUS_RING_FULL, value: 8, text: '' });
    full.send({ kind: 'PING', nonce: 0x51 });
    await full.until(() => full.pongs.includes(0x51));
    expect(full.nacks).toHaveLength(1);
    await rt.stop();
  });

  it('NACKs REPLAY for another content under a committed (deviceId, seq)', async () => {
    const rt = await startEdge('replay');
    const board = await connect(rt, 2, 'replay');
    board.sample();
    await board.until(() => board.highestAck === 1);
    await rt.forwarder.drain();
    const altered = board.makeReading({ seq: 1, batteryMv: 1234 });
    board.send({ kind: 'READING', ...altered });
    await board.until(() => board.nacks.length > 0);
    expect(board.nacks[0]).toEqual({ seq: 1, reason: NACK_REPLAY });
    await rt.stop();
  });

  it('NACKs RATE beyond the profile and its burst, without storing', async () => {
    const rt = await startEdge('rate', { profile: { intervalMs: 60_000, burst: 3 } });
    const board = await connect(rt, 3, 'rate');
    for (let i = 0; i < 6; i++) board.sample();
    await board.until(() => board.nacks.length >= 3);
    expect(board.nacks.every((n) => n.reason === NACK_RATE)).toBe(true);
    expect(board.highestAck).toBe(3);
    expect(rt.outbox.depth + rt.outbox.counts().committed).toBe(3);
    await rt.stop();
  });

  it('holds the cumulative ACK below a reading lost on the line until the board resends it', async () => {
    const rt = await startEdge('gap');
    const board = await connect(rt, 4, 'gap');
    board.sample(); // 1
    await board.until(() => board.highestAck === 1);
    const lost = board.makeReading(); // 2, never reaches the edge
    board.ring.set(2, new Uint8Array(0));
    board.seq = 3;
    board.sample(); // 3
    board.sample(); // 4
    await new Promise((r) => setTimeout(r, 200));
    expect(board.highestAck).toBe(1); // 3 and 4 are stored, but ACK(4) would free 2
    board.send({ kind: 'READING', ...lost });
    await board.until(() => board.highestAck === 4);
    await rt.stop();
  });

  it('forwards a forged tag (the edge has no K_IoT) and the ledger rejects it BAD_TAG', async () => {
    const rt = await startEdge('forge');
    const board = await connect(rt, 5, 'forge');
    const forged = board.makeReading();
    board.seq += 1;
    board.send({ kind: 'READING', ...forged, tag: new Uint8Array(32).fill(1) });
    await board.until(() => board.highestAck === forged.reading.seq);
    await rt.forwarder.drain();
    expect(rt.outbox.lastReadings('dev-5', 1)[0]).toMatchObject({ state: 'rejected', reason: 'BAD_TAG' });
    expect(await rt.metrics.render()).toMatch(/provenant_edge_readings_rejected_total\{reason="BAD_TAG",stage="ledger"\} 1/);
    await rt.stop();
  });

  it('NACKs OUTBOX_FULL when the outbox is at capacity and takes the resend once it drained', async () => {
    let up = false;
    const flaky = {
      submit: (p: Parameters<typeof fx.edgeClient.submit>[0]) =>
        up ? fx.edgeClient.submit(p) : Promise.reject(new Error('ledger unreachable (test)')),
      evaluate: (p: Parameters<typeof fx.edgeClient.evaluate>[0]) => fx.edgeClient.evaluate(p),
    } as unknown as typeof fx.edgeClient;
    const rt = await startEdge('full', { outbox: { maxPending: 3 }, ledger: flaky });
    const board = await connect(rt, 0, 'full', 1000);
    for (let i = 0; i < 5; i++) board.sample();
    await board.until(() => board.nacks.length >= 2);
    expect(board.nacks.map((n) => n.reason)).toEqual([NACK_OUTBOX_FULL, NACK_OUTBOX_FULL]);
    expect(board.ring.size).toBe(2); // the board keeps what was refused: nothing is lost
    expect(rt.outbox.depth).toBe(3);
    up = true; // the ledger is back: the outbox drains, the board resends, everything lands
    await board.until(() => rt.outbox.depth === 0);
    board.resend();
    await board.until(() => board.highestAck === 1004);
    await rt.forwarder.drain();
    for (let s = 1000; s <= 1004; s++) expect(await onLedger('dev-0', s)).toBe(true);
    await rt.stop();
  });
});

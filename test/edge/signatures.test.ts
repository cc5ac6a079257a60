/**
 * Epoch signatures at the edge (issue 16): SIG frames from a stand-in board (bodies made by
 * test/support/lms-signer.ts in the shared formats) → DeviceSession → the SQLite outbox, SIG_ACK
 * only after the commit, a resend acknowledged again without a second row.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { sha256 } from '../../shared/crypto/sha256.js';
import { toHex } from '../../shared/encoding/hex.js';
import { encodeReading } from '../../shared/encoding/reading.js';
import { FrameDecoder } from '../../shared/wire/frame.js';
import { MSG_SIG_ACK } from '../../shared/wire/messages.js';
import { CONTRACTS } from '../../ledger-bridge/client.js';
import { checkEvidence, type SignatureEvidence } from '../../shared/crypto/evidence.js';
import type { EdgeRuntime } from '../../edge-runtime/src/runtime.js';
import { Outbox } from '../../edge-runtime/src/outbox/outbox.js';
import { ledgerFixture, MemoryLink, ScriptedBoard, startFixtureEdge, tempDir, type LedgerFixture } from '../support/edge-fixture.js';
import { epochBody, makeKeySet, segmentOf, sigMessages, type TestKeySet } from '../support/lms-signer.js';
import { waitFor } from '../support/wait.js';

let fx: LedgerFixture;
let keys: TestKeySet;
const tmp = tempDir();

beforeAll(async () => {
  fx = await ledgerFixture(join(tmp.dir, 'ledger.db'), 2);
  keys = makeKeySet(0);
});
afterAll(async () => {
  await fx.close();
  tmp.cleanup();
});

async function startEdge(name: string): Promise<EdgeRuntime> {
  return startFixtureEdge(fx, tmp.dir, name);
}

async function connect(rt: EdgeRuntime, deviceIndex: number, name: string): Promise<ScriptedBoard> {
  const link = new MemoryLink(name);
  await rt.attach(link);
  const board = new ScriptedBoard(link, fx.devices[deviceIndex]!, 1);
  board.hello();
  await board.until(() => board.partials > 0);
  return board;
}

/** Samples n readings and returns their canonical bytes. */
function sampleSegment(board: ScriptedBoard, n: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const { reading } = board.makeReading();
    board.sample(reading);
    out.push(encodeReading(reading));
  }
  return out;
}

describe('edge: SIG frames', () => {
  it('forwards a SIG body once its readings are settled, with the dataHashes it holds; the readings become independently verifiable', async () => {
    const rt = await startEdge('forward');
    const link = new MemoryLink('forward');
    await rt.attach(link);
    const board = new ScriptedBoard(link, fx.devices[0]!, 100);
    board.hello();
    await board.until(() => board.partials > 0);
    const canon = sampleSegment(board, 4);
    await board.until(() => board.highestAck === 103);
    for (const m of sigMessages(epochBody(keys, 'dev-0', 5, segmentOf(canon)))) board.send(m);
    await board.until(() => board.sigAcks.length === 1);
    // The ledger has no signing key for dev-0 yet: the body waits in the outbox.
    await rt.forwarder.drain();
    expect(rt.outbox.signatureCounts()).toMatchObject({ recorded: 0 });
    await fx.aaClient.submit({ contract: CONTRACTS.deviceRegistration, fn: 'registerSigningKey', args: ['dev-0', toHex(keys.publicKey)] });
    // The forwarder tries the body again retryMaxMs after NO_SIGNING_KEY (from whenever its last
    // try answered, which under load can be after the key was registered): drain until it is in.
    await waitFor(
      'the SIG body to be recorded once the signing key is registered',
      async () => {
        await rt.forwarder.drain();
        return rt.outbox.signatureCounts().pending === 0;
      },
      { everyMs: 100, detail: () => `signatures ${JSON.stringify(rt.outbox.signatureCounts())}` },
    );
    expect(rt.forwarder.status().signaturesRecorded).toBeGreaterThanOrEqual(1);
    const level = JSON.parse(
      new TextDecoder().decode(
        await fx.edgeClient.evaluate({ contract: CONTRACTS.dataProvenance, fn: 'signatureLevel', args: ['dev-0', '102'] }),
      ),
    ) as { level: string; evidence: SignatureEvidence };
    expect(level.level).toBe('independently-verifiable');
    expect(checkEvidence(sha256, level.evidence, canon[2]!, keys.publicKey).ok).toBe(true);
    await rt.stop();
  });

  it('stores a SIG body durably before SIG_ACK; a resend is acknowledged again without a second row', async () => {
    const rt = await startEdge('store');
    const board = await connect(rt, 1, 'store'); // dev-1: no signing key on the ledger, so its body stays pending
    const canon = sampleSegment(board, 5);
    await board.until(() => board.highestAck === 5);
    const body = epochBody(keys, 'dev-1', 0, segmentOf(canon));
    // What the outbox holds at the moment each SIG_ACK leaves the edge.
    const storedAtAck: number[] = [];
    const watch = new FrameDecoder();
    board.link.onToBoard((bytes) => {
      for (const f of watch.push(bytes)) if (f.type === MSG_SIG_ACK) storedAtAck.push(rt.outbox.pendingSignatures().length);
    });
    for (const m of sigMessages(body)) board.send(m);
    await board.until(() => board.sigAcks.length === 1);
    expect(board.sigAcks[0]).toEqual({ keySet: 0, q: 0 });
    expect(storedAtAck).toEqual([1]);
    const rows = rt.outbox.pendingSignatures().filter((s) => s.deviceId === 'dev-1');
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ kind: 1, keySet: 0, q: 0, firstSeq: 1, lastSeq: 5, body: toHex(body), bodyHash: toHex(sha256(body)) });
    // The board did not see the SIG_ACK (lost): it sends the body again.
    for (const m of sigMessages(body)) board.send(m);
    await board.until(() => board.sigAcks.length === 2);
    expect(rt.outbox.pendingSignatures().filter((s) => s.deviceId === 'dev-1')).toHaveLength(1);
    await rt.stop();
    // On disk: a new process finds it.
    const reopened = await Outbox.open({ path: join(tmp.dir, 'store.outbox.db') });
    try {
      expect(reopened.pendingSignatures().map((s) => s.body)).toContain(toHex(body));
    } finally {
      reopened.close();
    }
  });

  it('answers no SIG_ACK for a body whose fragments arrive out of order, or that does not decode, or before HELLO', async () => {
    const rt = await startEdge('bad');
    const link = new MemoryLink('bad');
    await rt.attach(link);
    const board = new ScriptedBoard(link, fx.devices[1]!, 1);
    const canon = [encodeReading({ ...dummyReading(), seq: 1 })];
    const body = epochBody(keys, 'dev-1', 1, segmentOf(canon));
    // Before HELLO: ignored (the board sends it again after its session is up).
    for (const m of sigMessages(body)) board.send(m);
    board.hello();
    await board.until(() => board.partials > 0);
    // Out of order: fragment 1 before fragment 0.
    const frames = sigMessages(body);
    for (const m of [frames[1]!, frames[0]!, ...frames.slice(2)]) board.send(m);
    // Whole but not a SIG body (its signature truncated).
    const truncated = body.subarray(0, body.length - 10);
    for (const m of sigMessages(truncated)) board.send(m);
    await new Promise((r) => setTimeout(r, 300));
    expect(board.sigAcks).toEqual([]);
    expect(rt.outbox.pendingSignatures().filter((s) => s.deviceId === 'dev-1')).toEqual([]);
    // The whole body in order is taken.
    for (const m of sigMessages(body)) board.send(m);
    await board.until(() => board.sigAcks.length === 1);
    expect(board.sigAcks[0]).toEqual({ keySet: 0, q: 1 });
    await rt.stop();
  });
});

function dummyReading() {
  return {
    deviceId: 'dev-1',
    seq: 1,
    t: Date.now(),
    epoch: 1,
    partialDigest: new Uint8Array(32).fill(1),
    batteryMv: 3000,
    channels: [{ id: 0, scale: -2, value: 2000 }],
    bootCount: 1,
    uptimeMs: 1000,
  };
}

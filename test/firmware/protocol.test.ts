/**
 * The firmware's protocol suite: one suite, two boards. The BUILT LINUX bundle runs in the
 * simulated board (V8, over a SimBinding port and over a real pty) and on Espruino's own
 * interpreter (the Linux build behind ptys, its data link on Serial1). The simulation is fast;
 * the interpreter decides what is true. The interpreter part is skipped, saying why, only
 * where the interpreter is absent (CI has it).
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureFirmwareBuilt, DIST_FIRMWARE } from '../../firmware/build.js';
import { ptyUnavailableReason, startSimBoard } from '../../hardware/sim/index.js';
import { cobsEncode } from '../../shared/wire/cobs.js';
import { encodeFrame } from '../../shared/wire/frame.js';
import { MSG_PARTIAL, NACK_BAD_TAG, NACK_OUTBOX_FULL, STATUS_RX_ERRORS } from '../../shared/wire/messages.js';
import { EdgeDouble } from '../support/edge-double.js';
import { ESPRUINO_SKIP, noteSkip } from '../support/espruino-board.js';
import { PARTIAL, targetRig, type Target, type TargetRig } from './rig.js';

const noPty = ptyUnavailableReason();
if (noPty) console.log(`pty protocol suite skipped: ${noPty}`);
noteSkip('protocol suite');

beforeAll(async () => {
  await ensureFirmwareBuilt();
});

const sleep = (ms: number): Promise<void> => new Promise((res) => setTimeout(res, ms));

/**
 * PING with `nonce`, then waits for its PONG: the board handles frames in order and writes its
 * output in order, so everything received after the PONG was said after the frames sent before
 * the PING were handled. Returns the index in `received` just after the PONG.
 */
async function barrier(r: TargetRig, nonce: number): Promise<number> {
  r.edge.send({ kind: 'PING', nonce });
  const pong = (): number => r.edge.received.findIndex((m) => m.kind === 'PONG' && m.nonce === nonce);
  await r.edge.waitFor(() => pong() >= 0, 30_000, `PONG ${nonce} (the board took the frames sent before it)`);
  return pong() + 1;
}

describe.each([
  { target: 'sim-mock' as Target, skip: false },
  { target: 'sim-pty' as Target, skip: noPty !== undefined },
  { target: 'espruino' as Target, skip: ESPRUINO_SKIP !== undefined },
])('firmware protocol on $target', ({ target, skip }) => {
  // The interpreter runs in real time (100 ms sample interval, 2 s first resend, 5 s HELLO
  // repeat) and shares two cores with the rest of the suite.
  const wait = target === 'espruino' ? 30_000 : 10_000;
  let r: TargetRig | undefined;
  afterEach(async () => {
    if (r) expect(r.board.uncaught()).toEqual([]);
    await r?.close();
    r = undefined;
  });

  it.skipIf(skip)('HELLO at boot, nothing sampled before PARTIAL, HELLO repeated while waiting', async () => {
    r = await targetRig(target, { edge: { partial: undefined } });
    await r.edge.waitFor(() => r!.edge.of('HELLO').length >= 2, wait, 'two HELLOs');
    const h = r.edge.of('HELLO')[0]!;
    const manifest = JSON.parse(readFileSync(join(DIST_FIRMWARE, 'manifest.json'), 'utf8')) as {
      bundles: { board: string; fwHash: string }[];
    };
    expect(h.deviceId).toBe('sim-board-1');
    expect(h.board).toBe('LINUX');
    expect(Buffer.from(h.fwHash).toString('hex')).toBe(manifest.bundles.find((m) => m.board === 'LINUX')!.fwHash);
    expect(h.bootCount).toBe(1);
    expect(h.flags & 1).toBe(0); // not a production provisioning
    expect(r.edge.of('READING')).toHaveLength(0);
  });

  it.skipIf(skip)('READING per sample: increasing seq, valid tag, PARTIAL epoch/digest/clock', async () => {
    const before = Date.now();
    r = await targetRig(target);
    await r.edge.waitFor(() => r!.edge.of('READING').length >= 5, wait, '5 readings');
    // First sending of each seq: on a loaded machine an ACK may come after the resend time, and
    // the resent copy (same bytes) would interleave with new readings.
    const seen = new Set<number>();
    const rs = r.edge.of('READING').filter((m) => !seen.has(m.reading.seq) && !!seen.add(m.reading.seq));
    for (let i = 0; i < rs.length; i++) {
      const m = rs[i]!;
      expect(m.tagValid).toBe(true);
      expect(m.reading.deviceId).toBe('sim-board-1');
      expect(m.reading.epoch).toBe(PARTIAL.epoch);
      expect([...m.reading.partialDigest]).toEqual([...PARTIAL.partialDigest]);
      expect(m.reading.t).toBeGreaterThanOrEqual(before);
      expect(m.reading.channels.map((c) => [c.id, c.scale])).toEqual([
        [0, -2],
        [1, -4],
      ]);
      if (i > 0) expect(m.reading.seq).toBe(rs[i - 1]!.reading.seq + 1);
    }
  });

  it.skipIf(skip)('garbage, truncated, oversize, bad-CRC and bad-payload frames are counted and dropped; sampling goes on', async () => {
    r = await targetRig(target);
    await r.edge.waitFor(() => r!.edge.of('READING').length >= 2, wait, 'first readings');
    const good = encodeFrame(MSG_PARTIAL, new Uint8Array(3)); // well framed, payload fails its decoder
    const badCrc = encodeFrame(0x04, new Uint8Array([0, 0, 0, 1]));
    badCrc[2] = badCrc[2]! ^ 0x01 || 1;
    const junk = new Uint8Array(300).map((_, i) => ((i * 37 + 11) % 255) + 1); // no 0x00 inside: one oversize block
    const truncated = cobsEncode(new Uint8Array([1, 4, 4, 0, 0]));
    r.edge.sendRaw(new Uint8Array([0, ...junk, 0, ...truncated, 0, ...badCrc, ...good]));
    const seen = r.edge.of('READING').length;
    await r.edge.waitFor(() => r!.edge.of('STATUS').some((s) => s.code === STATUS_RX_ERRORS && s.value >= 4), wait, 'RX_ERRORS status');
    await r.edge.waitFor(() => r!.edge.of('READING').length >= seen + 3, wait, 'readings after the garbage');
  });

  it.skipIf(skip)('a reboot mid-stream resumes with a larger seq and resends what was not acknowledged', async () => {
    r = await targetRig(target, { storageDir: mkdtempSync(join(tmpdir(), 'provenant-fw-')), edge: { autoAck: false } });
    await r.edge.waitFor(() => r!.edge.of('READING').length >= 4, wait, '4 readings');
    const first = r.edge.of('READING').slice(0, 4);
    r.edge.send({ kind: 'ACK', seq: first[1]!.reading.seq }); // the first two are stored
    // The board takes frames in order: its PONG says the ACK was taken (its ring files erased)
    // before the power goes, however late a loaded machine delivers the ACK.
    await barrier(r, 0xac4);
    await sleep(r.realMs(2000, 100));
    const sentBefore = r.edge.of('READING').map((m) => m.reading.seq);
    const maxBefore = Math.max(...sentBefore);
    const m0 = r.edge.received.length;
    await r.board.reboot();
    // What the rebooted board says starts with its HELLO (the sim's HELLO can arrive before
    // reboot() returns; a frame sent before the power went can arrive after it, before the HELLO).
    const helloAt = (): number => {
      const i = r!.edge.received.slice(m0).findIndex((m) => m.kind === 'HELLO');
      return i < 0 ? -1 : m0 + i;
    };
    const readingsAfterHello = (): number[] =>
      helloAt() < 0 ? [] : r!.edge.received.slice(helloAt()).flatMap((m) => (m.kind === 'READING' ? [m.reading.seq] : []));
    const explain = (e: Error): never => {
      const before = r!.edge.received.slice(0, m0).map((m) => (m.kind === 'READING' ? String(m.reading.seq) : m.kind));
      throw new Error(
        `${e.message.split(';')[0]}; before the reboot ${before.join(',')}; after its HELLO ${readingsAfterHello().slice(0, 60).join(',')}`,
      );
    };
    // No ACK until every unacknowledged reading came again: an ACK is cumulative, so acknowledging
    // the first resend (or a new reading) would free the rest of the ring before its turn (the
    // real edge holds its ACK below a gap; this double does not).
    const unacked = sentBefore.filter((s) => s > first[1]!.reading.seq);
    await r.edge
      .waitFor(
        () => unacked.every((s) => readingsAfterHello().includes(s)),
        wait,
        `the HELLO and the resends of ${unacked.join(',')} after reboot`,
      )
      .catch(explain);
    r.edge.autoAck = true;
    r.edge.send({ kind: 'ACK', seq: maxBefore });
    await r.edge
      .waitFor(() => readingsAfterHello().filter((s) => s > maxBefore).length >= 2, wait, 'new readings after reboot')
      .catch(explain);
    const n0 = helloAt();
    const after = r.edge.received.slice(n0).filter((m) => m.kind === 'READING') as ReturnType<typeof r.edge.of<'READING'>>;
    const hello = r.edge.received.slice(n0).find((m) => m.kind === 'HELLO') as ReturnType<typeof r.edge.of<'HELLO'>>[number];
    expect(hello.bootCount).toBe(2);
    expect(hello.seq).toBeGreaterThan(maxBefore);
    const resent = new Set(after.filter((m) => m.reading.seq <= maxBefore).map((m) => m.reading.seq));
    // Everything sent before the reboot and not acknowledged comes again (ring: oldest 8 kept).
    for (const s of sentBefore.filter((s) => s > first[1]!.reading.seq)) expect(resent.has(s)).toBe(true);
    for (const s of [first[0]!.reading.seq, first[1]!.reading.seq]) expect(resent.has(s)).toBe(false);
    // Resent bytes are the original bytes.
    const orig = new Map(
      r.edge.received
        .slice(0, n0)
        .filter((m) => m.kind === 'READING')
        .map((m) => [
          (m as { reading: { seq: number } }).reading.seq,
          Buffer.from((m as { canonical: Uint8Array }).canonical).toString('hex'),
        ]),
    );
    for (const m of after.filter((m) => m.reading.seq <= maxBefore))
      expect(Buffer.from(m.canonical).toString('hex')).toBe(orig.get(m.reading.seq));
    const fresh = after.filter((m) => m.reading.seq > maxBefore);
    expect(fresh.every((m) => m.tagValid)).toBe(true);
  });

  it.skipIf(skip)('power cut and a restart on the same flash: seq never reused, unacknowledged readings resent', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'provenant-fw-'));
    r = await targetRig(target, { storageDir: dir, edge: { autoAck: false } });
    await r.edge.waitFor(() => r!.edge.of('READING').length >= 3, wait, 'readings');
    const used = Math.max(...r.edge.of('READING').map((m) => m.reading.seq));
    const sent = new Map(r.edge.of('READING').map((m) => [m.reading.seq, Buffer.from(m.canonical).toString('hex')]));
    if (r.board.sim) {
      // A new board object on the same flash directory: nothing of the old one survives.
      const old = r;
      await old.close();
      const b2 = await startSimBoard({ board: 'LINUX', storageDir: dir, link: target === 'sim-pty' ? 'pty' : 'mock', clockSpeedup: 20 });
      const edge2 = new EdgeDouble({ path: b2.path, link: target === 'sim-pty' ? 'pty' : 'mock', key: old.key, partial: PARTIAL });
      await edge2.open();
      r = {
        ...old,
        edge: edge2,
        board: { ...old.board, path: b2.path, sim: b2, uncaught: () => b2.stats.uncaught, close: () => b2.stop() },
        close: async () => {
          await edge2.close();
          await b2.stop();
        },
      };
      b2.reboot();
    } else {
      // kill -9 of the interpreter and a new process on the same espruino.flash.
      await r.board.reboot();
      r.edge.autoAck = true;
    }
    const edge = r.edge;
    await edge.waitFor(() => edge.of('READING').some((m) => m.reading.seq > used), wait, 'reading after power cycle');
    // A seq at or below the last one used can only be a resend of the very same bytes, and every
    // one of them (none was acknowledged) comes again.
    const old = edge.of('READING').filter((m) => sent.has(m.reading.seq));
    for (const m of old) expect(Buffer.from(m.canonical).toString('hex')).toBe(sent.get(m.reading.seq));
    expect(new Set(old.map((m) => m.reading.seq))).toEqual(new Set(sent.keys()));
    expect(edge.of('HELLO').at(-1)!.seq).toBeGreaterThan(used);
  });

  it.skipIf(skip)('NACK: final reasons drop the reading, retryable ones keep it for a later resend', async () => {
    r = await targetRig(target, { edge: { autoAck: false } });
    await r.edge.waitFor(() => r!.edge.of('READING').length >= 2, wait, 'readings');
    const [a, b] = r.edge.of('READING');
    r.edge.send({ kind: 'NACK', seq: a!.reading.seq, reason: NACK_BAD_TAG });
    r.edge.send({ kind: 'NACK', seq: b!.reading.seq, reason: NACK_OUTBOX_FULL });
    // Until the board has taken the NACKs it may still resend both (its first resend is due 2 s
    // board time after sending: 100 ms real on the sped-up sim); what it says after its PONG, it
    // says after the NACKs.
    const n0 = await barrier(r, 0x7ac);
    // Resend delay starts at 2 s board time and doubles after the NACK.
    await r.edge.waitFor(
      () => r!.edge.received.slice(n0).some((m) => m.kind === 'READING' && m.reading.seq === b!.reading.seq),
      wait,
      'resend of the OUTBOX_FULL reading',
    );
    await sleep(r.realMs(2000, 400));
    expect(r.edge.received.slice(n0).some((m) => m.kind === 'READING' && m.reading.seq === a!.reading.seq)).toBe(false);
  });

  it.skipIf(skip)('PING is answered with PONG carrying the nonce, and readings stay valid after it', async () => {
    r = await targetRig(target);
    await r.edge.waitFor(() => r!.edge.of('READING').length >= 1, wait, 'a reading');
    r.edge.send({ kind: 'PING', nonce: 0xdeadbeef });
    await r.edge.waitFor(() => r!.edge.of('PONG').some((p) => p.nonce === 0xdeadbeef), wait, 'PONG');
    // On the interpreter the PONG builder once overwrote the crypto module (docs/firmware.md, "Espruino does not hoist").
    const n = r.edge.of('READING').length;
    await r.edge.waitFor(() => r!.edge.of('READING').length >= n + 2, wait, 'readings after the PONG');
    expect(r.edge.of('READING').every((m) => m.tagValid)).toBe(true);
  });
});

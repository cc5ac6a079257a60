/**
 * The firmware's protocol suite, run against the BUILT bundle in a simulated board, once over
 * a SimBinding (serialport MockBinding) port and once over a real pty pair (socat).
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureFirmwareBuilt, DIST_FIRMWARE } from '../../firmware/build.js';
import { hasSocat, startSimBoard } from '../../hardware/sim/index.js';
import { cobsEncode } from '../../shared/wire/cobs.js';
import { encodeFrame } from '../../shared/wire/frame.js';
import { MSG_PARTIAL, NACK_BAD_TAG, NACK_OUTBOX_FULL, STATUS_RX_ERRORS } from '../../shared/wire/messages.js';
import { readFileSync } from 'node:fs';
import { EdgeDouble } from '../support/edge-double.js';
import { PARTIAL, rig, type Rig } from './rig.js';

const socat = hasSocat();
if (!socat) console.log('pty protocol suite skipped: socat is not installed (apt-get install -y socat)');

beforeAll(async () => {
  await ensureFirmwareBuilt();
});

describe.each([
  { link: 'mock' as const, skip: false },
  { link: 'pty' as const, skip: !socat },
])('firmware protocol over $link', ({ link, skip }) => {
  let r: Rig | undefined;
  afterEach(async () => {
    await r?.close();
    r = undefined;
  });

  it.skipIf(skip)('HELLO at boot, nothing sampled before PARTIAL, HELLO repeated while waiting', async () => {
    r = await rig(link, { edge: { partial: undefined } });
    await r.edge.waitFor(() => r!.edge.of('HELLO').length >= 2, 10_000, 'two HELLOs');
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
    expect(r.b.stats.uncaught).toEqual([]);
  });

  it.skipIf(skip)('READING per sample: increasing seq, valid tag, PARTIAL epoch/digest/clock', async () => {
    const before = Date.now();
    r = await rig(link);
    await r.edge.waitFor(() => r!.edge.of('READING').length >= 5, 10_000, '5 readings');
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
    expect(r.b.stats.uncaught).toEqual([]);
  });

  it.skipIf(skip)('garbage, truncated, oversize, bad-CRC and bad-payload frames are counted and dropped; sampling goes on', async () => {
    r = await rig(link);
    await r.edge.waitFor(() => r!.edge.of('READING').length >= 2, 10_000, 'first readings');
    const good = encodeFrame(MSG_PARTIAL, new Uint8Array(3)); // well framed, payload fails its decoder
    const badCrc = encodeFrame(0x04, new Uint8Array([0, 0, 0, 1]));
    badCrc[2] = badCrc[2]! ^ 0x01 || 1;
    const junk = new Uint8Array(300).map((_, i) => ((i * 37 + 11) % 255) + 1); // no 0x00 inside: one oversize block
    const truncated = cobsEncode(new Uint8Array([1, 4, 4, 0, 0]));
    r.edge.sendRaw(new Uint8Array([0, ...junk, 0, ...truncated, 0, ...badCrc, ...good]));
    const seen = r.edge.of('READING').length;
    await r.edge.waitFor(() => r!.edge.of('STATUS').some((s) => s.code === STATUS_RX_ERRORS && s.value >= 4), 10_000, 'RX_ERRORS status');
    await r.edge.waitFor(() => r!.edge.of('READING').length >= seen + 3, 10_000, 'readings after the garbage');
    expect(r.b.stats.uncaught).toEqual([]);
  });

  it.skipIf(skip)('a reboot mid-stream resumes with a larger seq and resends what was not acknowledged', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'provenant-fw-'));
    r = await rig(link, { storageDir: dir, edge: { autoAck: false } });
    await r.edge.waitFor(() => r!.edge.of('READING').length >= 4, 10_000, '4 readings');
    const first = r.edge.of('READING').slice(0, 4);
    r.edge.send({ kind: 'ACK', seq: first[1]!.reading.seq }); // the first two are stored
    await new Promise((res) => setTimeout(res, 100));
    const sentBefore = r.edge.of('READING').map((m) => m.reading.seq);
    const maxBefore = Math.max(...sentBefore);
    r.b.reboot();
    r.edge.autoAck = true;
    const n0 = r.edge.received.length;
    await r.edge.waitFor(
      () => r!.edge.received.slice(n0).filter((m) => m.kind === 'READING' && m.reading.seq > maxBefore).length >= 2,
      10_000,
      'new readings after reboot',
    );
    const after = r.edge.received.slice(n0).filter((m) => m.kind === 'READING') as ReturnType<typeof r.edge.of<'READING'>>;
    const hello = r.edge.received.slice(n0).find((m) => m.kind === 'HELLO') as ReturnType<typeof r.edge.of<'HELLO'>>[number];
    expect(hello.bootCount).toBe(2);
    expect(hello.seq).toBeGreaterThan(maxBefore);
    const resent = new Set(after.filter((m) => m.reading.seq <= maxBefore).map((m) => m.reading.seq));
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
    expect(r.b.stats.uncaught).toEqual([]);
  });

  it.skipIf(skip)('power cut and a new board object on the same flash: seq never reused', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'provenant-fw-'));
    r = await rig(link, { storageDir: dir });
    await r.edge.waitFor(() => r!.edge.of('READING').length >= 3, 10_000, 'readings');
    const used = Math.max(...r.edge.of('READING').map((m) => m.reading.seq));
    const sent = new Map(r.edge.of('READING').map((m) => [m.reading.seq, Buffer.from(m.canonical).toString('hex')]));
    await r.close();
    const b2 = await startSimBoard({ board: 'LINUX', storageDir: dir, link, clockSpeedup: 20 });
    const edge2 = new EdgeDouble({ path: b2.path, link, key: r.key, partial: PARTIAL });
    r = {
      b: b2,
      edge: edge2,
      key: r.key,
      close: async () => {
        await edge2.close();
        await b2.stop();
      },
    };
    await edge2.open();
    b2.reboot();
    await edge2.waitFor(() => edge2.of('READING').some((m) => m.reading.seq > used), 10_000, 'reading after power cycle');
    // A seq at or below the last one used can only be a resend of the very same bytes.
    for (const m of edge2.of('READING').filter((m) => m.reading.seq <= used))
      expect(Buffer.from(m.canonical).toString('hex')).toBe(sent.get(m.reading.seq));
  });

  it.skipIf(skip)('NACK: final reasons drop the reading, retryable ones keep it for a later resend', async () => {
    r = await rig(link, { edge: { autoAck: false } });
    await r.edge.waitFor(() => r!.edge.of('READING').length >= 2, 10_000, 'readings');
    const [a, b] = r.edge.of('READING');
    r.edge.send({ kind: 'NACK', seq: a!.reading.seq, reason: NACK_BAD_TAG });
    r.edge.send({ kind: 'NACK', seq: b!.reading.seq, reason: NACK_OUTBOX_FULL });
    const n0 = r.edge.received.length;
    // Resend delay starts at 2 s board time (100 ms real at 20×) and doubles after the NACK.
    await r.edge.waitFor(
      () => r!.edge.received.slice(n0).some((m) => m.kind === 'READING' && m.reading.seq === b!.reading.seq),
      10_000,
      'resend of the OUTBOX_FULL reading',
    );
    await new Promise((res) => setTimeout(res, 400));
    expect(r.edge.received.slice(n0).some((m) => m.kind === 'READING' && m.reading.seq === a!.reading.seq)).toBe(false);
  });

  it.skipIf(skip)('PING is answered with PONG carrying the nonce', async () => {
    r = await rig(link);
    await r.edge.waitFor(() => r!.edge.of('HELLO').length >= 1);
    r.edge.send({ kind: 'PING', nonce: 0xdeadbeef });
    await r.edge.waitFor(() => r!.edge.of('PONG').some((p) => p.nonce === 0xdeadbeef), 5000, 'PONG');
  });
});

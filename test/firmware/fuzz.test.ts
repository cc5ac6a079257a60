/**
 * The board never crashes on input: random bytes, random well-framed frames of every type with
 * random payloads, and truncated real frames, fed to the BUILT bundle in a simulated board.
 * Afterwards it still samples, answers PING, and nothing escaped its handlers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ensureFirmwareBuilt } from '../../firmware/build.js';
import { encodeFrame } from '../../shared/wire/frame.js';
import { encodeMessage } from '../../shared/wire/union.js';
import { rig, PARTIAL, type Rig } from './rig.js';

let r: Rig;
beforeAll(async () => {
  await ensureFirmwareBuilt();
  r = await rig('mock');
  await r.edge.waitFor(() => r.edge.of('READING').length >= 1, 10_000, 'first reading');
});
afterAll(async () => {
  await r.close();
});

const chunk = fc.oneof(
  fc.uint8Array({ maxLength: 600 }),
  fc
    .record({ type: fc.integer({ min: 0, max: 255 }), payload: fc.uint8Array({ maxLength: 255 }) })
    .map((f) => encodeFrame(f.type, f.payload)),
  fc.record({ type: fc.integer({ min: 1, max: 9 }), payload: fc.uint8Array({ maxLength: 60 }) }).map((f) => encodeFrame(f.type, f.payload)),
  fc.nat().map((n) => {
    const whole = encodeMessage({ kind: 'PARTIAL', ...PARTIAL, edgeTimeMs: Date.now() });
    return whole.subarray(0, n % whole.length);
  }),
);

describe('fuzzing the board', () => {
  it('random input never escapes a handler; the board keeps sampling and answering', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(chunk, { minLength: 1, maxLength: 8 }), async (chunks) => {
        for (const c of chunks) r.edge.sendRaw(c);
        await new Promise((res) => setTimeout(res, 5));
        expect(r.b.stats.uncaught).toEqual([]);
      }),
      { numRuns: 60 },
    );
    // Back to a sane profile (a random PARTIAL may have slowed the board down), then check it lives.
    r.edge.sendRaw(new Uint8Array([0]));
    r.edge.send({ kind: 'PARTIAL', ...PARTIAL, edgeTimeMs: Math.floor(r.b.board.nowMs()) });
    const n = r.edge.of('READING').length;
    await r.edge.waitFor(() => r.edge.of('READING').length >= n + 3, 10_000, 'readings after fuzzing');
    r.edge.send({ kind: 'PING', nonce: 77 });
    await r.edge.waitFor(() => r.edge.of('PONG').some((p) => p.nonce === 77), 5000, 'PONG after fuzzing');
    expect(r.b.stats.uncaught).toEqual([]);
    expect(r.edge.of('READING').every((m) => m.tagValid)).toBe(true);
  });
});

describe('hostile PARTIALs', () => {
  it('a PARTIAL at the end of time does not move a running board: it samples on with its own time', async () => {
    r.edge.send({ kind: 'PARTIAL', ...PARTIAL, edgeTimeMs: Number.MAX_SAFE_INTEGER - 5 });
    const n = r.edge.of('READING').length;
    await r.edge.waitFor(() => r.edge.of('READING').length >= n + 3, 10_000, 'readings after the PARTIAL');
    for (const m of r.edge.of('READING').slice(n)) expect(m.reading.t).toBeLessThan(r.b.board.nowMs() + 60_000);
    expect(r.edge.of('STATUS').some((s) => s.code === 4 && s.value === 255)).toBe(false);
    expect(r.b.stats.uncaught).toEqual([]);
  });

  it('a board without RTC whose first PARTIAL is beyond what a reading can carry faults the sample, not the board', async () => {
    // startTimeMs 1: an unset clock takes its first PARTIAL's time (docs/firmware.md, "Clock").
    const q = await rig('mock', { startTimeMs: 1, edge: { partial: { ...PARTIAL, edgeTimeMs: Number.MAX_SAFE_INTEGER - 5 } } });
    try {
      await q.edge.waitFor(() => q.edge.of('STATUS').some((s) => s.code === 4 && s.value === 255), 10_000, 'sample failed status');
      q.edge.send({ kind: 'PING', nonce: 9 });
      await q.edge.waitFor(() => q.edge.of('PONG').some((p) => p.nonce === 9), 5000, 'PONG');
      expect(q.b.stats.uncaught).toEqual([]);
    } finally {
      await q.close();
    }
  });
});

describe('a very slow profile', () => {
  it('PARTIAL with the largest interval parks the sampler without spinning; a normal one resumes', async () => {
    const before = r.b.stats.busyMs;
    r.edge.send({ kind: 'PARTIAL', ...PARTIAL, intervalMs: 0xffffffff, edgeTimeMs: Math.floor(r.b.board.nowMs()) });
    await new Promise((res) => setTimeout(res, 300));
    const n = r.edge.of('READING').filter((m) => m.at > Date.now() - 200).length;
    expect(n).toBe(0);
    expect(r.b.stats.busyMs - before).toBeLessThan(250); // no busy loop of immediate timers
    r.edge.send({ kind: 'PARTIAL', ...PARTIAL, edgeTimeMs: Math.floor(r.b.board.nowMs()) });
    const m = r.edge.of('READING').length;
    await r.edge.waitFor(() => r.edge.of('READING').length >= m + 2, 10_000, 'readings after the slow profile');
  });
});

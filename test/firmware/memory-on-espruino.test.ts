/**
 * Memory measured on Espruino's own interpreter, not estimated (docs/firmware.md, "Memory").
 *
 * - `process.memory()` (after a garbage collection) on a running LINUX board: after boot, while
 *   sampling, with the resend ring full, and after an epoch change that resends the whole ring.
 *   The estimate of firmware/variables.ts stays as a cross-check: the measured counts must not
 *   exceed its peak.
 * - Every profile's bundle under `espruino --test-mem-n FILE 2000`: the interpreter limited to
 *   2,000 variables (the brief's target; the smallest board, Puck.js/MDBT42Q, has 2,500), driven
 *   through boot, readings, a full ring and an epoch change. The Linux build's blocks hold more
 *   characters than a board's (27 bytes vs 12–16), so the LINUX bundle also runs at 1,000: what
 *   fits in 1,000 here fits in 2,000 on any board, however its strings split.
 *   `npm test` runs the strictest case (LINUX at 1,000); `npm run test:full` runs every profile
 *   (each is an interpreter in real time, ~1 minute for all on a quiet machine).
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DIST_FIRMWARE, ensureFirmwareBuilt } from '../../firmware/build.js';
import { listBoards, loadBoard } from '../../firmware/boards.js';
import { estimateVariables } from '../../firmware/variables.js';
import { STATUS_RING_FULL } from '../../shared/wire/messages.js';
import { EdgeDouble } from '../support/edge-double.js';
import { FULL } from '../support/full.js';
import { ESPRUINO_SKIP, noteSkip, runUnderVariableLimit, startEspruinoBoard, type LimitedRun } from '../support/espruino-board.js';
import type { LinuxBoard } from '../../hardware/linux-board.js';
import { PARTIAL } from './rig.js';

noteSkip('memory measurements');

beforeAll(async () => {
  await ensureFirmwareBuilt();
});

/**
 * Drives a board through readings, a full ring (no ACKs) and an epoch change; returns what it saw.
 * Each step waits while the board makes progress (at load ~25 an interpreter made 5 readings in
 * 60 s; at ~40 one had sent 68 frames when a fixed 120 s ran out before its ring was full): it
 * fails after 60 s without a frame (a board that samples says something every second: a
 * READING, a resend, a STATUS), or 240 s in all.
 */
async function fillRingThenChangeEpoch(edge: EdgeDouble, at?: (point: string) => Promise<void>): Promise<void> {
  const step = (what: string) => ({ quietMs: 60_000, maxMs: 240_000, what });
  await edge.waitForProgress(() => edge.of('READING').length >= 3, step('readings'));
  await at?.('sampling');
  await edge.waitForProgress(() => edge.of('STATUS').some((s) => s.code === STATUS_RING_FULL), step('a full ring'));
  await at?.('ring full');
  const n = edge.of('READING').length;
  edge.send({ kind: 'PARTIAL', ...PARTIAL, epoch: PARTIAL.epoch + 1, partialDigest: new Uint8Array(32).fill(3), edgeTimeMs: Date.now() });
  await edge.waitForProgress(() => edge.of('READING').length >= n + 8, step('the whole ring resent after the epoch change'));
  await at?.('epoch change');
  edge.autoAck = true;
  edge.send({ kind: 'ACK', seq: Math.max(...edge.of('READING').map((m) => m.reading.seq)) });
  await edge.waitForProgress(
    () => edge.of('READING').some((m) => m.reading.epoch === PARTIAL.epoch + 1),
    step('a reading in the new epoch'),
  );
}

describe.skipIf(ESPRUINO_SKIP !== undefined)('firmware memory on the real interpreter', () => {
  let real: LinuxBoard | undefined;
  afterEach(async () => {
    await real?.close();
    real = undefined;
  });

  it(
    'process.memory(): after boot, sampling, ring full, epoch change — within 2,000 and under the estimate',
    { timeout: 600_000 },
    async () => {
      const key = new Uint8Array(32).fill(21);
      const empty = await startEspruinoBoard({ sensors: false });
      const base = (await empty.memory()).usage; // the interpreter itself, an unprovisioned firmware loaded
      await empty.close();
      real = await startEspruinoBoard({
        provisioning: { deviceId: 'x'.repeat(64), key: Buffer.from(key).toString('base64'), intervalMs: 100 },
      });
      const used: Record<string, number> = { 'after boot': (await real.memory()).usage };
      const edge = new EdgeDouble({ path: real.serial1, link: 'pty', key, partial: PARTIAL, autoAck: false });
      await edge.open();
      try {
        await fillRingThenChangeEpoch(edge, async (point) => {
          used[point] = (await real!.memory()).usage;
        });
      } finally {
        await edge.close();
      }
      const est = estimateVariables(readFileSync(join(DIST_FIRMWARE, 'LINUX.js'), 'latin1'), loadBoard('LINUX'));
      console.log(
        `LINUX on the interpreter (27-byte blocks), JsVars in use: ${JSON.stringify(used)}; unprovisioned firmware ${base}; estimate at rest ${est.atRest}, peak ${est.peak}`,
      );
      for (const [point, n] of Object.entries(used)) {
        expect(n, point).toBeLessThanOrEqual(2000);
        expect(n, `${point}: measured above the estimate's peak`).toBeLessThanOrEqual(est.peak);
      }
      // The ring is what grows: 8 entries of a 64-character deviceId reading.
      expect(used['ring full']!).toBeGreaterThan(used['sampling']!);
      expect(real.uncaught()).toEqual([]);
    },
  );

  const runs = [...(FULL ? listBoards().map((board) => ({ board, vars: 2000 })) : []), { board: 'LINUX', vars: 1000 }];
  it(`every profile runs under --test-mem-n with ${runs.map((r) => `${r.board} ${r.vars}`).join(', ')} variables`, async () => {
    // One at a time: each is an interpreter in real time, its Storage a file read on every access.
    const results: { board: string; vars: number; run: LimitedRun; edge: EdgeDouble }[] = [];
    for (let i = 0; i < runs.length; i += 1) {
      results.push(
        ...(await Promise.all(
          runs.slice(i, i + 1).map(async ({ board, vars }) => {
            const key = new Uint8Array(32).fill(vars % 251);
            let edge: EdgeDouble | undefined;
            const run = await runUnderVariableLimit({
              board,
              vars,
              provisioning: { deviceId: `limit-${board.toLowerCase()}-${vars}`, key: Buffer.from(key).toString('base64'), intervalMs: 100 },
              maxMs: 500_000,
              drive: async (path) => {
                edge = new EdgeDouble({ path, link: 'pty', key, partial: PARTIAL, autoAck: false });
                await edge.open();
                try {
                  await fillRingThenChangeEpoch(edge);
                } catch (e) {
                  const seen = edge.received.map((m) =>
                    m.kind === 'READING' ? `R${m.reading.seq}` : m.kind === 'STATUS' ? `S${m.code}/${m.value}` : m.kind,
                  );
                  throw new Error(`${board} under ${vars} variables: ${(e as Error).message.split(';')[0]}; saw ${seen.join(' ')}`);
                } finally {
                  await edge.close();
                }
              },
            });
            return { board, vars, run, edge: edge as unknown as EdgeDouble };
          }),
        )),
      );
    }
    for (const { board, vars, run, edge } of results) {
      const what = `${board} under ${vars} variables`;
      expect(run.flags, `${what}: ${run.output.slice(-500)}`).toEqual([]);
      expect(run.passed, `${what}: ${run.output.slice(-500)}`).toBe(true);
      expect(run.output, what).not.toMatch(/Out of memory|Uncaught/);
      expect(edge.of('READING').every((m) => m.tagValid)).toBe(true);
      console.log(`${what}: ran (boot, readings, full ring, epoch change); process.memory().usage at the end ${run.memory?.usage}`);
    }
  }, 900_000);
});

/**
 * Acceptance: kill -9 of the edge process mid-stream, twice, then restart: no acknowledged
 * reading is lost, none is duplicated, and the boards resend what was never acknowledged.
 *
 * The edge runs as a real child process (`provenant edge --config FILE`, embedded ledger
 * in-process). The boards (the built firmware in node:vm) live in this test process and reach
 * the edge over real pty pairs (hardware/pty.ts: python3 or socat, whichever the machine has; the
 * pty survives the edge dying, like a USB adapter stays plugged in while the edge box reboots).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { CONTRACTS } from '../../ledger-bridge/client.js';
import { contracts } from '../../ledger-bridge/contracts/index.js';
import { EmbeddedLedgerClient } from '../../ledger-bridge/embedded/index.js';
import { ensureFirmwareBuilt } from '../../firmware/build.js';
import { ptyUnavailableReason } from '../../hardware/sim/index.js';
import { ledgerFixture, tempDir } from '../support/edge-fixture.js';
import { writeCredentials, writeEdgeConfig } from '../support/edge-config.js';
import { readOutbox, simBoardsBehindPtys } from '../support/edge-process.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const ROOT = join(import.meta.dirname, '..', '..');

const noPty = ptyUnavailableReason();
if (noPty) console.log(`kill -9 test skipped: ${noPty}; the edge and the boards must be in different processes, joined by ptys`);

describe.skipIf(noPty !== undefined)('kill -9 of the edge process', () => {
  const tmp = tempDir('provenant-kill9-');
  const cleanups: (() => void | Promise<void>)[] = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
    tmp.cleanup();
  });

  it("loses nothing acknowledged, duplicates nothing, and takes the boards' resends", async () => {
    await ensureFirmwareBuilt();
    const N = 3;
    const ledgerPath = join(tmp.dir, 'ledger.db');
    const fx = await ledgerFixture(ledgerPath, N);
    await fx.close();

    const credDir = writeCredentials(join(tmp.dir, 'credentials'), fx.devices);

    // Boards in this process, each behind a pty pair.
    const { hostPaths, sims } = await simBoardsBehindPtys({ dir: tmp.dir, devices: fx.devices, intervalMs: 200, cleanups });

    const { configPath, dataDir } = writeEdgeConfig(
      tmp.dir,
      { credDir, issuerPk: fx.issuer.pk, intervalMs: 200 },
      {
        boards: hostPaths.map((path) => ({ serial: { path, baudRate: 115200 } })),
        ledger: { type: 'embedded', path: ledgerPath },
        api: { enabled: false },
        log: { level: 'warn' },
      },
    );
    const outboxPath = join(dataDir, 'outbox.db');
    let edge: ChildProcess | undefined;
    const logs: string[] = [];
    const startEdge = (): void => {
      edge = spawn(process.execPath, [join(ROOT, 'bin', 'provenant.js'), 'edge', '--config', configPath], {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      edge.stdout?.on('data', (b: Buffer) => logs.push(b.toString()));
      edge.stderr?.on('data', (b: Buffer) => logs.push(b.toString()));
    };
    cleanups.push(() => void edge?.kill('SIGKILL'));
    // An outbox not there yet (or busy) counts as unknown, never as "nothing pending".
    const rows = (): { total: number; pending: number } => {
      const r = readOutbox(outboxPath);
      return r ? { total: r.length, pending: r.filter((x) => x.state === 'pending').length } : { total: 0, pending: Infinity };
    };
    // Fewest stored readings of any one board: under load a board's HELLO backoff can keep it out of
    // a short phase, so the phases wait for every board, not only for a total.
    const fewestPerBoard = (): number => {
      const r = readOutbox(outboxPath) ?? [];
      return Math.min(...fx.devices.map((d) => r.filter((x) => x.deviceId === d.deviceId).length));
    };
    const waitRows = async (atLeast: number, perBoard = 0): Promise<void> => {
      const until = Date.now() + 45_000;
      while (rows().total < atLeast || fewestPerBoard() < perBoard) {
        if (Date.now() > until)
          throw new Error(
            `edge stored ${rows().total} readings (fewest on one board ${fewestPerBoard()}), expected ${atLeast} (${perBoard} per board); edge log:\n${logs.join('').slice(-3000)}`,
          );
        await sleep(200);
      }
    };
    const kill9 = async (): Promise<void> => {
      const p = edge as ChildProcess;
      await new Promise<void>((r) => {
        p.once('exit', () => r());
        p.kill('SIGKILL');
      });
    };

    startEdge();
    await waitRows(15, 3);
    await kill9();
    const afterFirst = rows().total;
    await sleep(1500); // the boards keep sampling into their rings meanwhile
    startEdge();
    await waitRows(afterFirst + 15);
    await kill9();
    const afterSecond = rows().total;
    await sleep(1000);
    startEdge();
    await waitRows(afterSecond + 15, 6);

    // Stop the boards, let the edge forward everything, stop it gracefully.
    // A frame already on its way when the boards power off can still be stored after the outbox
    // first drains, so wait until nothing is pending AND the total has not moved for a second.
    for (const s of sims) s.powerOff();
    const until = Date.now() + 30_000;
    let last = { total: -1, at: Date.now() };
    for (;;) {
      const now = rows();
      if (now.total !== last.total) last = { total: now.total, at: Date.now() };
      if ((now.pending === 0 && Date.now() - last.at >= 1000) || Date.now() > until) break;
      await sleep(200);
    }
    expect(rows().pending, `edge log:\n${logs.join('').slice(-3000)}`).toBe(0);
    await new Promise<void>((r) => {
      (edge as ChildProcess).once('exit', () => r());
      (edge as ChildProcess).kill('SIGTERM');
    });

    // Every reading the edge stored (and so every one it acknowledged) is on the ledger once.
    const stored = readOutbox(outboxPath) ?? [];
    expect(stored.length).toBeGreaterThan(0);
    const client = await EmbeddedLedgerClient.open({ path: ledgerPath, contracts, identity: 'auditor' });
    try {
      for (const r of stored) {
        expect(r.state).toBe('committed');
        const rec = JSON.parse(
          new TextDecoder().decode(
            await client.evaluate({ contract: CONTRACTS.dataProvenance, fn: 'get', args: [r.deviceId, String(r.seq)] }),
          ),
        ) as { dataHash: string };
        expect(rec.dataHash).toBe(r.dataHash);
      }
    } finally {
      await client.close();
    }
    // Per board, the stored seqs are contiguous: what the dead edge never acknowledged was resent.
    for (const d of fx.devices) {
      const seqs = stored.filter((r) => r.deviceId === d.deviceId).map((r) => r.seq);
      expect(seqs.length).toBeGreaterThan(5);
      expect(seqs.at(-1)! - seqs[0]! + 1).toBe(seqs.length);
    }
  }, 180_000);
});

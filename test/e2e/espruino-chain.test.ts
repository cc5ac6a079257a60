/**
 * Acceptance (issue 12): the whole chain with a board on Espruino's own interpreter (2v29, Linux
 * build) — no simulation anywhere on the board's side.
 *
 * `provenant flash` uploads the built LINUX firmware and its provisioning to an empty interpreter
 * over its console pty (paced, verified) → the firmware boots from Storage and takes its data
 * link, Serial1 on a pty pair → `provenant edge` (a separate process) reads that pty with its
 * serial link, hands the board its PARTIAL, checks and acknowledges its READINGs and records them
 * on an embedded ledger (the authority registered the device there) → a power cut (SIGKILL of
 * the interpreter, restart on the same flash): the board comes back, the edge takes it again,
 * seq moves on → `provenant verify` on the ledger file says TRUE for a reading the board tagged,
 * and refuses the same reading with one byte changed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureFirmwareBuilt } from '../../firmware/build.js';
import { LinuxBoard } from '../../hardware/linux-board.js';
import { toHex } from '../../shared/encoding/hex.js';
import { ledgerFixture, tempDir } from '../support/edge-fixture.js';
import { writeCredentials, writeEdgeConfig } from '../support/edge-config.js';
import { readOutbox, runNode, type NodeRun, type OutboxRow } from '../support/edge-process.js';
import { ESPRUINO_SKIP, noteSkip } from '../support/espruino-board.js';
import { until } from '../support/provenance.js';

const ROOT = join(import.meta.dirname, '..', '..');
const CLI = join(ROOT, 'bin', 'provenant.js');

noteSkip('the end-to-end chain with a real-interpreter board');

describe.skipIf(ESPRUINO_SKIP !== undefined)('flash → Espruino interpreter → edge (serial) → embedded ledger → verify', () => {
  const tmp = tempDir('provenant-espruino-chain-');
  const cleanups: (() => void | Promise<void>)[] = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
    tmp.cleanup();
  });

  it('the board the flasher wrote is recorded, survives a power cut, and verify says TRUE', { timeout: 600_000 }, async () => {
    await ensureFirmwareBuilt();
    // The authority's side: an embedded ledger configured, the device registered (its K_IoT deposited).
    const ledgerPath = join(tmp.dir, 'ledger.db');
    const fx = await ledgerFixture(ledgerPath, 1);
    await fx.close();
    const dev = fx.devices[0]!;
    const credDir = writeCredentials(join(tmp.dir, 'credentials'), [dev]);
    const deviceFile = join(tmp.dir, `${dev.deviceId}.device.json`);
    writeFileSync(deviceFile, JSON.stringify({ version: 1, deviceId: dev.deviceId, kIoT: toHex(dev.kIoT), board: 'LINUX' }), {
      mode: 0o600,
    });

    // An empty interpreter: a bare REPL on its console pty.
    const board = await LinuxBoard.start();
    cleanups.push(() => board.close());
    await board.releaseConsole();
    // Flashed by the CLI in a process of its own, awaited without blocking this event loop.
    const flash = await runNode(
      [
        CLI,
        'flash',
        '--board',
        'LINUX',
        '--port',
        board.usbPath,
        '--device',
        deviceFile,
        '--serial-path',
        board.serial1Board,
        '--interval',
        '300',
      ],
      { cwd: ROOT, timeoutMs: 180_000 },
    );
    expect(flash.status, flash.stderr + flash.stdout).toBe(0);
    expect(flash.stdout).toMatch(/SHA-256 of .bootcde and provenant.json verified on the board/);
    expect(flash.stdout).toContain(`data link Serial1 at ${board.serial1Board}`);

    // The edge, a process of its own, on the host end of the Serial1 pty.
    const { configPath, dataDir } = writeEdgeConfig(
      tmp.dir,
      { credDir, issuerPk: fx.issuer.pk, intervalMs: 300 },
      {
        boards: [{ name: 'espruino-linux', serial: { path: board.serial1, baudRate: 115200 } }],
        ledger: { type: 'embedded', path: ledgerPath, identity: 'edge-1' },
        api: { port: 0, token: 'edge-api-token-0123456789abcdef01' },
        log: { level: 'info' },
      },
    );
    const logs: string[] = [];
    const edge: ChildProcess = spawn(process.execPath, [CLI, 'edge', '--config', configPath], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<void>((r) => edge.once('exit', () => r()));
    cleanups.push(() => void edge.kill('SIGKILL'));
    edge.stdout?.on('data', (b: Buffer) => logs.push(b.toString()));
    edge.stderr?.on('data', (b: Buffer) => logs.push(b.toString()));

    const outboxPath = join(dataDir, 'outbox.db');
    const outbox = (): OutboxRow[] => (readOutbox(outboxPath) ?? []).sort((x, y) => x.seq - y.seq);
    const committed = (): OutboxRow[] => outbox().filter((r) => r.state === 'committed');
    const why = (): string => `\nedge log:\n${logs.join('').slice(-3000)}\nboard console:\n${board.output.slice(-1500)}`;
    await until(() => committed().length >= 3, 180_000, 'the edge to commit 3 readings of the Espruino board').catch((e: Error) => {
      throw new Error(e.message + why());
    });
    const before = Math.max(...committed().map((r) => r.seq));

    // Power cut: the interpreter killed (SIGKILL), started again on the same flash.
    await board.powerCut();
    await board.powerOn();
    await until(() => committed().some((r) => r.seq > before + 2), 180_000, 'readings after the power cut').catch((e: Error) => {
      throw new Error(e.message + why());
    });
    edge.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
    edge.kill('SIGKILL');
    await board.powerCut();

    const rows = outbox();
    expect(rows.every((r) => r.deviceId === dev.deviceId)).toBe(true);
    expect(
      rows.filter((r) => r.state === 'rejected'),
      why(),
    ).toEqual([]);
    // seq moved forward across the power cut: the counter resumed, nothing reused.
    const seqs = rows.map((r) => r.seq);
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(Math.max(...seqs)).toBeGreaterThan(before + 2);

    // verify: the ledger file, opened by the auditor's identity, says TRUE for what the board tagged…
    const pick = committed().find((r) => r.seq > before)!;
    const sub = JSON.parse(pick.submission) as { canonical: string; tag: string };
    const dataFile = join(tmp.dir, 'reading.json');
    writeFileSync(dataFile, JSON.stringify({ canonical: sub.canonical, tag: sub.tag }));
    const verify = (file: string): Promise<NodeRun> =>
      runNode([CLI, 'verify', '--db', ledgerPath, '--device', dev.deviceId, '--seq', String(pick.seq), '--data', file], {
        cwd: ROOT,
        timeoutMs: 120_000,
      });
    const v = await verify(dataFile);
    expect(v.status, v.stderr + v.stdout).toBe(0);
    expect(v.stdout).toMatch(/verdict: TRUE \(genuine\)/);
    // …and not for the same reading with one byte of its values changed (the last byte before the end).
    const forged = sub.canonical.slice(0, -2) + ((parseInt(sub.canonical.slice(-2), 16) ^ 1) + 256).toString(16).slice(1);
    const forgedFile = join(tmp.dir, 'forged.json');
    writeFileSync(forgedFile, JSON.stringify({ canonical: forged, tag: sub.tag }));
    const f = await verify(forgedFile);
    expect(f.status).toBe(1);
    expect(f.stdout).not.toMatch(/verdict: TRUE/);
  });
});

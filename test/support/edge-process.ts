/**
 * What the end-to-end tests with a separate `provenant edge` process share: simulated boards
 * (the built firmware in node:vm) in the test process, each behind a real pty pair the edge
 * opens (the pty outlives the edge, as a USB adapter stays plugged in while the edge box
 * reboots), the edge's outbox read from outside, as an operator would with sqlite3, and the CLI
 * run as a child process without blocking the event loop (runNode).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SerialPort } from 'serialport';
import { SerialPortStream } from '@serialport/stream';
import { openPtyPair, SimBinding, startSimBoard, type SimBoardHandle } from '../../hardware/sim/index.js';

/** One row of the edge's outbox (edge-runtime/src/outbox). */
export interface OutboxRow {
  readonly deviceId: string;
  readonly seq: number;
  readonly dataHash: string;
  readonly state: string;
  readonly reason: string | null;
  readonly submission: string;
}

/**
 * The outbox's readings by device and seq, read on a connection of its own (read-only, waiting
 * up to 2 s for the edge's writer). Undefined while the file does not exist yet or cannot be
 * read: unknown, never "nothing there".
 */
export function readOutbox(path: string): OutboxRow[] | undefined {
  if (!existsSync(path)) return undefined;
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    db.pragma('busy_timeout = 2000');
    return db
      .prepare('SELECT device_id AS deviceId, seq, data_hash AS dataHash, state, reason, submission FROM readings ORDER BY device_id, seq')
      .all() as OutboxRow[];
  } catch {
    return undefined;
  } finally {
    db.close();
  }
}

/** A device the boards are provisioned as (edge-fixture's TestDevice has these). */
export interface BoardDevice {
  readonly deviceId: string;
  readonly kIoT: Uint8Array;
}

/**
 * Starts one simulated board per device, each behind a pty pair in `dir` (`board-<i>` its end,
 * `edge-<i>` the edge's), and returns the edge's ends. `cleanups` gets what stops them.
 */
export async function simBoardsBehindPtys(opts: {
  readonly dir: string;
  readonly devices: readonly BoardDevice[];
  readonly intervalMs: number;
  readonly cleanups: (() => void | Promise<void>)[];
}): Promise<{ hostPaths: string[]; sims: SimBoardHandle[] }> {
  const hostPaths: string[] = [];
  const sims: SimBoardHandle[] = [];
  for (const [i, d] of opts.devices.entries()) {
    const sim = await startSimBoard({
      provisioning: { deviceId: d.deviceId, key: Buffer.from(d.kIoT).toString('base64'), intervalMs: opts.intervalMs },
      link: 'mock',
    });
    sims.push(sim);
    const boardSide = join(opts.dir, `board-${i}`);
    const hostSide = join(opts.dir, `edge-${i}`);
    const pair = await openPtyPair({ a: boardSide, b: hostSide });
    opts.cleanups.push(() => pair.close());
    while (!existsSync(boardSide) || !existsSync(hostSide)) await new Promise((r) => setTimeout(r, 20));
    const pty = new SerialPort({ path: boardSide, baudRate: 115200 });
    const mock = new SerialPortStream({ binding: SimBinding, path: sim.path, baudRate: 115200 });
    await Promise.all([new Promise((r) => pty.once('open', r)), new Promise((r) => mock.once('open', r))]);
    pty.on('data', (b: Buffer) => mock.write(b));
    mock.on('data', (b: Buffer) => pty.write(b));
    pty.on('error', () => undefined);
    opts.cleanups.push(async () => {
      await new Promise<void>((r) => pty.close(() => r()));
      await sim.stop();
    });
    hostPaths.push(hostSide);
  }
  return { hostPaths, sims };
}

/** What a finished child process gave. */
export interface NodeRun {
  /** Exit code; null when it was killed (signal says by what). */
  readonly status: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `node ...args` as a child process and resolves when it exits, killing it (SIGKILL) after
 * `timeoutMs`. Unlike spawnSync it leaves this process's event loop running meanwhile: the pty
 * relays, simulated boards, servers and child-process pipes a test keeps in this process go on.
 */
export function runNode(args: readonly string[], opts: { cwd?: string; timeoutMs: number }): Promise<NodeRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...args], { cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      stderr += `\n(runNode: killed after ${opts.timeoutMs} ms)`;
      child.kill('SIGKILL');
    }, opts.timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stdout, stderr });
    });
  });
}

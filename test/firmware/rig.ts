/**
 * Starts a board running the built bundle — the simulated board (V8), or Espruino's own
 * interpreter (targetRig 'espruino') — and an EdgeDouble on its data link, for the firmware tests.
 */
import { randomBytes } from 'node:crypto';
import { startSimBoard, type SimBoardHandle, type StartSimBoardOptions } from '../../hardware/sim/index.js';
import type { LinuxBoard } from '../../hardware/linux-board.js';
import { EdgeDouble, type EdgeDoubleOptions } from '../support/edge-double.js';
import { startEspruinoBoard } from '../support/espruino-board.js';

export interface Rig {
  b: SimBoardHandle;
  edge: EdgeDouble;
  key: Uint8Array;
  close(): Promise<void>;
}

/** The PARTIAL the double answers HELLO with by default: 100 ms interval, no per-minute cap. */
export const PARTIAL = { epoch: 7, partialDigest: new Uint8Array(32).fill(9), intervalMs: 100, maxPerMinute: 0 };

export async function rig(
  link: 'mock' | 'pty',
  opts: Partial<StartSimBoardOptions> & {
    provisioning?: Record<string, unknown>;
    edge?: Partial<EdgeDoubleOptions>;
    key?: Uint8Array;
  } = {},
): Promise<Rig> {
  const key = opts.key ?? new Uint8Array(randomBytes(32));
  const provisioning =
    opts.provisioning === undefined
      ? { deviceId: 'sim-board-1', key: Buffer.from(key).toString('base64'), intervalMs: 100 }
      : opts.provisioning;
  const b = await startSimBoard({ board: 'LINUX', clockSpeedup: 20, ...opts, provisioning, link });
  const edge = new EdgeDouble({ path: b.path, link, key, partial: PARTIAL, clock: () => b.board.nowMs(), ...opts.edge });
  await edge.open();
  return {
    b,
    edge,
    key,
    async close() {
      await edge.close();
      await b.stop();
    },
  };
}

/** Where a protocol test runs: the simulated board over a mock port or a pty, or Espruino's own interpreter. */
export type Target = 'sim-mock' | 'sim-pty' | 'espruino';

/** A board under test, whichever it is. */
export interface TestBoard {
  readonly target: Target;
  /** What the edge opens: the host end of the board's data link. */
  readonly path: string;
  /** Board milliseconds per real millisecond (the simulation runs faster). */
  readonly speed: number;
  /** The simulated board, when it is one. */
  readonly sim?: SimBoardHandle;
  /** The interpreter, when it is one. */
  readonly real?: LinuxBoard;
  /** Board clock in ms (the interpreter's clock is the host's once a PARTIAL set it). */
  nowMs(): number;
  /** A power cycle: RAM lost, flash kept, the firmware boots again. */
  reboot(): Promise<void>;
  /** Errors thrown out of the firmware (a board prints them as "Uncaught ..."). */
  uncaught(): string[];
  /** A Storage file. */
  readFile(name: string): Promise<Buffer | undefined>;
  close(): Promise<void>;
}

export interface TargetRig {
  board: TestBoard;
  edge: EdgeDouble;
  key: Uint8Array;
  /** Real milliseconds for `boardMs` of board time, at least `floor`. */
  realMs(boardMs: number, floor?: number): number;
  close(): Promise<void>;
}

/** Starts a board on `target` running the LINUX bundle, with an EdgeDouble on its link. */
export async function targetRig(
  target: Target,
  opts: { provisioning?: Record<string, unknown>; edge?: Partial<EdgeDoubleOptions>; key?: Uint8Array; storageDir?: string } = {},
): Promise<TargetRig> {
  const key = opts.key ?? new Uint8Array(randomBytes(32));
  const provisioning = opts.provisioning ?? { deviceId: 'sim-board-1', key: Buffer.from(key).toString('base64'), intervalMs: 100 };
  let board: TestBoard;
  if (target === 'espruino') {
    const real = await startEspruinoBoard({ provisioning });
    board = {
      target,
      path: real.serial1,
      speed: 1,
      real,
      nowMs: () => Date.now(),
      reboot: () => real.reboot().then(() => real.console().then(() => undefined)),
      uncaught: () => real.uncaught(),
      readFile: (name) => real.readFile(name),
      close: () => real.close(),
    };
  } else {
    const sim = await startSimBoard({
      board: 'LINUX',
      clockSpeedup: 20,
      provisioning,
      link: target === 'sim-pty' ? 'pty' : 'mock',
      ...(opts.storageDir ? { storageDir: opts.storageDir } : {}),
    });
    board = {
      target,
      path: sim.path,
      speed: 20,
      sim,
      nowMs: () => sim.board.nowMs(),
      reboot: async () => sim.reboot(),
      uncaught: () => sim.stats.uncaught,
      readFile: async (name) => sim.storage.get(name),
      close: () => sim.stop(),
    };
  }
  const edge = new EdgeDouble({
    path: board.path,
    link: target === 'sim-mock' ? 'mock' : 'pty',
    key,
    partial: PARTIAL,
    clock: () => board.nowMs(),
    ...opts.edge,
  });
  try {
    await edge.open();
  } catch (e) {
    await board.close();
    throw e;
  }
  return {
    board,
    edge,
    key,
    realMs: (boardMs, floor = 0) => Math.max(floor, boardMs / board.speed),
    async close() {
      await edge.close();
      await board.close();
    },
  };
}

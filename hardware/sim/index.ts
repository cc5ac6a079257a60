/**
 * Simulated boards for tests, the demo and benchmarks (docs/firmware.md, "Simulated board").
 *
 *   const b = await startSimBoard({ board: 'LINUX', provisioning: { deviceId, key }, link: 'mock' });
 *   const port = new SerialPort({ binding: SimBinding, path: b.path, baudRate: 115200 });
 *   ...
 *   await b.stop();
 *
 * Each board is one vm context and a few timers — no process (a pty link adds one relay) — so
 * a demo can run dozens. The bundle is the BUILT one from dist/firmware (build it first with
 * `npm run build:firmware`, or call ensureFirmwareBuilt()).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DIST_FIRMWARE } from '../../firmware/build.js';
import { loadBoard } from '../../firmware/boards.js';
import { SimBoard, type SimSensors, type SimStats } from './board.js';
import { attachMock, attachPty, detachMock, type PtyLink } from './endpoints.js';
import { SimStorage } from './storage.js';

export { SimBoard, type SimSensors, type SimStats } from './board.js';
export { SimBinding } from './endpoints.js';
export { openPtyPair, ptyBackend, ptyUnavailableReason, type PtyPair } from '../pty.js';
export { SimStorage } from './storage.js';

/** provenant.json contents (firmware/src/provision.ts); `key` is base64 of K_IoT. */
export interface SimProvisioning {
  readonly deviceId: string;
  readonly key: string;
  readonly [field: string]: unknown;
}

/** Options of startSimBoard. */
export interface StartSimBoardOptions {
  /** Board profile (default LINUX). */
  readonly board?: string;
  /** Bundle to flash (default dist/firmware/<board>.js); `null` leaves the board empty (a REPL only). */
  readonly bundlePath?: string | null;
  /** Written to Storage as provenant.json before boot (omit to keep what Storage has). */
  readonly provisioning?: SimProvisioning | Record<string, unknown>;
  /** Mirror flash to this directory (a new board on the same directory = a power cycle). */
  readonly storageDir?: string;
  /** Share flash with another board object (e.g. to "replace" a board in-process). */
  readonly storage?: SimStorage;
  /** 'mock' (default): a SimBinding port; 'pty': a pty pair (hardware/pty.ts). */
  readonly link?: 'mock' | 'pty';
  /** Mock port path (default /dev/provenant-sim-N); for 'pty', where the host end appears (default: a temp path). */
  readonly path?: string;
  readonly clockSpeedup?: number;
  readonly startTimeMs?: number;
  readonly sensors?: Partial<SimSensors>;
  /** Hold the button at boot (maintenance boot). */
  readonly buttonHeld?: boolean;
}

/** A running simulated board. */
export interface SimBoardHandle {
  /** What the host opens: a SimBinding path (mock) or a pty path. */
  readonly path: string;
  readonly link: 'mock' | 'pty';
  readonly board: SimBoard;
  readonly stats: SimStats;
  readonly storage: SimStorage;
  /** Power-cycles the board: RAM lost, flash kept, firmware boots again. */
  reboot(): void;
  /** Cuts power (no reboot) — `start()` brings it back. */
  powerOff(): void;
  start(): void;
  /** Stops the board and closes its link. */
  stop(): Promise<void>;
}

let counter = 0;

/** Starts a simulated board running the built firmware. */
export async function startSimBoard(opts: StartSimBoardOptions = {}): Promise<SimBoardHandle> {
  const boardName = opts.board ?? 'LINUX';
  const profile = loadBoard(boardName);
  const storage = opts.storage ?? new SimStorage(opts.storageDir);
  if (opts.bundlePath !== null) {
    const bundlePath = opts.bundlePath ?? join(DIST_FIRMWARE, `${boardName}.js`);
    if (!existsSync(bundlePath)) throw new Error(`no firmware bundle at ${bundlePath}: run \`npm run build:firmware\` first`);
    storage.set('.bootcde', readFileSync(bundlePath));
  }
  if (opts.provisioning) storage.set('provenant.json', Buffer.from(JSON.stringify(opts.provisioning), 'latin1'));
  let hostLink: string = profile.link.default;
  const stored = storage.get('provenant.json');
  if (stored) {
    try {
      const link = (JSON.parse(stored.toString('latin1')) as { link?: unknown }).link;
      if (typeof link === 'string' && (profile.link.available as readonly string[]).includes(link)) hostLink = link;
    } catch {
      // Bad provisioning stays the firmware's problem to report.
    }
  }
  const board = new SimBoard({
    storage,
    board: boardName,
    hostLink,
    clockSpeedup: opts.clockSpeedup,
    startTimeMs: opts.startTimeMs,
    sensors: opts.sensors,
  });
  board.buttonHeld = opts.buttonHeld ?? false;
  const link = opts.link ?? 'mock';
  let path: string;
  let pty: PtyLink | undefined;
  if (link === 'pty') {
    pty = await attachPty(board, opts.path);
    path = pty.hostPath;
  } else {
    path = opts.path ?? `/dev/provenant-sim-${++counter}`;
    attachMock(path, board);
  }
  board.boot();
  return {
    path,
    link,
    board,
    stats: board.stats,
    storage,
    reboot: () => {
      board.stop();
      board.boot();
    },
    powerOff: () => board.stop(),
    start: () => board.boot(),
    async stop() {
      board.stop();
      if (pty) await pty.close();
      else detachMock(path);
    },
  };
}

/** Starts a simulated board (built bundle) and an EdgeDouble on its link, for the firmware tests. */
import { randomBytes } from 'node:crypto';
import { startSimBoard, type SimBoardHandle, type StartSimBoardOptions } from '../../hardware/sim/index.js';
import { EdgeDouble, type EdgeDoubleOptions } from '../support/edge-double.js';

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

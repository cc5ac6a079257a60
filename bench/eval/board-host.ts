/**
 * Worker role `boards`: the load generator. Simulated boards (hardware/sim: the BUILT firmware
 * bundle in node:vm, a stand-in for the hardware) whose serial lines go to the edge over the
 * board bus. Each board keeps its flash across experiments (its sequence counter goes on, as a
 * board's does), and samples at the interval the orchestrator gives it; above the firmware's
 * floor of 10 readings/s its timers run faster (timerSpeedup) while its clock keeps real time.
 *
 * It timestamps, per reading, when the board wrote the READING frame and when the edge's ACK for
 * it reached the board (the edge ACKs only after the reading is durably in its outbox).
 */
import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { SimBoardHandle } from '../../hardware/sim/index.js';
import type { SimStorage } from '../../hardware/sim/storage.js';
import { FrameDecoder } from '../../shared/wire/frame.js';
import { MSG_ACK, MSG_READING } from '../../shared/wire/messages.js';
import { decodeMessage } from '../../shared/wire/union.js';
import { BusDecoder, busFrame } from './bus.js';
import { cpuMsNow, serveWorker } from './ipc.js';

/** A device this host may run: its identity, key and bus port. */
export interface HostedDevice {
  readonly deviceId: string;
  /** base64 of K_IoT. */
  readonly key: string;
  readonly port: number;
}

/** One board to run in an experiment point. */
export interface BoardRun {
  readonly port: number;
  /** Sampling interval (≥ 100 ms, the firmware's floor). */
  readonly intervalMs: number;
}

/** What the host measured since the last collect. */
export interface BoardCollect {
  /** [deviceId:seq, ms] when the READING left the board. */
  readonly sent: [string, number][];
  /** [deviceId:seq, ms] when its ACK reached the board. */
  readonly acked: [string, number][];
  readonly nacks: number;
  readonly uncaught: string[];
  readonly cpuMs: number;
}

const now = (): number => performance.timeOrigin + performance.now();

export async function runBoardHost(): Promise<void> {
  const { startSimBoard, SimStorage: Storage } = await import('../../hardware/sim/index.js');
  const { ensureFirmwareBuilt } = await import('../../firmware/build.js');
  await ensureFirmwareBuilt();
  const devices = new Map<number, HostedDevice>();
  const storages = new Map<number, SimStorage>();
  const running = new Map<number, SimBoardHandle>();
  const fromEdge = new Map<number, FrameDecoder>();
  let socket: Socket | undefined;
  let sent: [string, number][] = [];
  let acked: [string, number][] = [];
  let nacks = 0;
  let uncaught: string[] = [];
  let cpu = process.cpuUsage();
  /** Ports whose board has had a reading ACKed since it started (its session is up). */
  const live = new Set<number>();

  const onEdgeBytes = (port: number, bytes: Buffer): void => {
    const b = running.get(port);
    if (!b) return;
    b.board.hostWrite(bytes);
    const dec = fromEdge.get(port) as FrameDecoder;
    const id = (devices.get(port) as HostedDevice).deviceId;
    for (const f of dec.push(bytes)) {
      if (f.type === MSG_ACK) {
        const m = decodeMessage(f);
        if (m.kind === 'ACK') {
          acked.push([`${id}:${m.seq}`, now()]);
          live.add(port);
        }
      } else if (f.type !== MSG_READING) {
        const m = decodeMessage(f);
        if (m.kind === 'NACK') nacks++;
      }
    }
  };

  await serveWorker(
    {
      init: async (a: { socketPath: string; devices: HostedDevice[] }) => {
        for (const d of a.devices) devices.set(d.port, d);
        // A new edge (each point has its own): the previous one's socket is gone with it.
        socket?.destroy();
        const s = connect(a.socketPath);
        await new Promise<void>((resolve, reject) => {
          s.once('connect', resolve);
          s.once('error', reject);
        });
        s.setNoDelay(true);
        const dec = new BusDecoder();
        s.on('data', (chunk: Buffer) => dec.push(chunk, onEdgeBytes));
        s.on('error', () => undefined);
        for (const d of a.devices) s.write(busFrame(d.port, new Uint8Array(0)));
        socket = s;
        return { devices: devices.size };
      },
      start: async (a: { boards: BoardRun[] }) => {
        for (const r of a.boards) {
          const d = devices.get(r.port);
          if (!d) throw new Error(`no device on port ${r.port}`);
          if (running.has(r.port)) continue;
          let storage = storages.get(r.port);
          if (!storage) {
            storage = new Storage();
            storages.set(r.port, storage);
          }
          // Each point starts with an empty resend ring: a ring a collapsed point left full would be
          // resent at this boot, and the board would not sample until it drained — one collapsed
          // point spilled into every later one (docs/evaluation.md, "150 boards per edge").
          for (const name of storage.list()) if (/^pv\.r\d+$/.test(name)) storage.erase(name);
          const h = await startSimBoard({
            storage,
            provisioning: { deviceId: d.deviceId, key: d.key, intervalMs: r.intervalMs },
            link: 'mock',
            path: `/dev/provenant-eval-board-${r.port}`,
          });
          const out = new FrameDecoder();
          fromEdge.set(r.port, new FrameDecoder());
          h.board.onOutput((b) => {
            socket?.write(busFrame(r.port, b));
            for (const f of out.push(b)) {
              if (f.type !== MSG_READING) continue;
              const m = decodeMessage(f);
              if (m.kind === 'READING') sent.push([`${d.deviceId}:${m.reading.seq}`, now()]);
            }
          });
          running.set(r.port, h);
          live.delete(r.port);
          // It booted before anyone listened: power-cycle it now that its line is wired (as the demo does).
          h.reboot();
        }
        return { running: running.size };
      },
      /** This process's CPU time so far (ms). */
      cpu: () => cpuMsNow(),
      /** Boards running whose session is up (a reading ACKed). */
      live: () => [...running.keys()].filter((p) => live.has(p)).length,
      stop: async () => {
        for (const [port, h] of running) {
          uncaught.push(...h.stats.uncaught);
          await h.stop();
          running.delete(port);
        }
        return { running: 0 };
      },
      collect: () => {
        const c = process.cpuUsage(cpu);
        cpu = process.cpuUsage();
        const out: BoardCollect = { sent, acked, nacks, uncaught, cpuMs: (c.user + c.system) / 1000 };
        sent = [];
        acked = [];
        nacks = 0;
        uncaught = [];
        return out;
      },
    },
    async () => {
      for (const h of running.values()) await h.stop();
      socket?.destroy();
    },
  );
}

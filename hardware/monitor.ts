/**
 * The serial monitor behind `provenant monitor`: decodes frames from a port and renders each as
 * a line (human or JSON). With the device file it recomputes every READING's tag under K_IoT.
 */
import { completeBytes } from '../shared/crypto/complete.js';
import { sha256 } from '../shared/crypto/sha256.js';
import { equalBytes } from '../shared/encoding/bytes.js';
import { ProvenantError } from '../shared/errors.js';
import { FrameDecoder, type FrameStats } from '../shared/wire/frame.js';
import { decodeMessage, type WireMessage } from '../shared/wire/union.js';
import type { DeviceFile } from './device-file.js';

/** Options of monitor(). */
export interface MonitorOptions {
  readonly path: string;
  readonly baud?: number;
  readonly count?: number;
  readonly idleMs?: number;
  readonly device?: DeviceFile;
  readonly json?: boolean;
  readonly print: (line: string) => void;
}

/** What a monitor run saw. */
export interface MonitorResult {
  frames: number;
  invalidTags: number;
  dropped: FrameStats;
}

const plain = (_k: string, v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v);

/** One line for a message (`tag` = valid/invalid/undefined). */
export function renderMessage(m: WireMessage, tag: 'valid' | 'invalid' | undefined, json: boolean): string {
  if (json) {
    const o: Record<string, unknown> = { ...m };
    if (m.kind === 'READING') {
      o['reading'] = m.reading;
      delete o['canonical'];
    }
    if (tag) o['tagCheck'] = tag;
    return JSON.stringify(o, plain);
  }
  switch (m.kind) {
    case 'READING': {
      const r = m.reading;
      const ch = r.channels.map((c) => `ch${c.id}=${c.value}e${c.scale}`).join(' ');
      return `READING ${r.deviceId} seq=${r.seq} t=${new Date(r.t).toISOString()} epoch=${r.epoch} battery=${r.batteryMv}mV ${ch} tag=${Buffer.from(m.tag).toString('hex').slice(0, 16)}…${tag ? ` ${tag}` : ''}`;
    }
    case 'HELLO':
      return `HELLO ${m.deviceId} board=${m.board} fw=${m.fwVersion} ${Buffer.from(m.fwHash).toString('hex').slice(0, 16)}… seq=${m.seq} boot=${m.bootCount} flags=${m.flags} pending=${m.pending}`;
    default:
      return `${m.kind} ${JSON.stringify({ ...m, kind: undefined }, plain)}`;
  }
}

/** Reads frames from `path` until `count` frames or `idleMs` of silence. */
export async function monitor(opts: MonitorOptions): Promise<MonitorResult> {
  const { SerialPort } = await import('serialport');
  const port = new SerialPort({ path: opts.path, baudRate: opts.baud ?? 115200, autoOpen: false });
  await new Promise<void>((resolve, reject) =>
    port.open((err) =>
      err
        ? reject(new ProvenantError('PROV_ERR_PORT', `cannot open serial port ${opts.path}: ${err.message}`, { field: 'port' }))
        : resolve(),
    ),
  );
  const dec = new FrameDecoder();
  const result: MonitorResult = { frames: 0, invalidTags: 0, dropped: dec.stats };
  const count = opts.count ?? Infinity;
  await new Promise<void>((resolve) => {
    let idle: NodeJS.Timeout | undefined;
    const arm = () => {
      if (idle) clearTimeout(idle);
      if (Number.isFinite(opts.idleMs ?? Infinity)) idle = setTimeout(finish, opts.idleMs);
    };
    const finish = () => {
      if (idle) clearTimeout(idle);
      port.removeAllListeners('data');
      resolve();
    };
    arm();
    port.on('data', (chunk: Buffer) => {
      for (const f of dec.push(chunk)) {
        if (result.frames >= count) break;
        result.frames++;
        let m: WireMessage;
        try {
          m = decodeMessage(f);
        } catch (e) {
          opts.print(
            opts.json
              ? JSON.stringify({ kind: 'MALFORMED', type: f.type, error: (e as Error).message })
              : `MALFORMED type=0x${f.type.toString(16)} ${(e as Error).message}`,
          );
          continue;
        }
        let tag: 'valid' | 'invalid' | undefined;
        if (m.kind === 'READING' && opts.device) {
          const ok = m.reading.deviceId === opts.device.deviceId && equalBytes(completeBytes(sha256, opts.device.kIoT, m.canonical), m.tag);
          tag = ok ? 'valid' : 'invalid';
          if (!ok) result.invalidTags++;
        }
        opts.print(renderMessage(m, tag, opts.json === true));
      }
      arm();
      if (result.frames >= count) finish();
    });
    port.on('close', finish);
  });
  if (port.isOpen) await new Promise<void>((r) => port.close(() => r()));
  return result;
}

/**
 * The flasher: uploads a board's firmware bundle to Storage `.bootcde` and its provisioning to
 * `provenant.json`, through the espruino package's own upload pipeline (its processors wrap the
 * code into chunked `require("Storage").write(...)` calls, its code writer formats the lines
 * for the REPL), then sends that text over our own serialport connection — espruino's serial
 * layer only opens ports that serialport's list() reports, and a pty or a BLE serial device
 * never is. `--dry-run` writes exactly the bytes that would be sent. Node-only.
 */
import { createRequire } from 'node:module';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DIST_FIRMWARE, ensureFirmwareBuilt } from '../firmware/build.js';
import { ProvenantError } from '../shared/errors.js';
import { hmacSha256 } from '../shared/crypto/hmac.js';
import { sha256 } from '../shared/crypto/sha256.js';
import { FrameDecoder } from '../shared/wire/frame.js';
import { MAINT_UNLOCK, MSG_HELLO, MSG_STATUS, STATUS_UNLOCKED, decodeHello, decodeStatus, maintMessage } from '../shared/wire/messages.js';
import { encodeMessage } from '../shared/wire/union.js';
import { loadBoard, type BoardProfile } from '../firmware/boards.js';
import type { DeviceFile } from './device-file.js';

/** What to flash. */
export interface FlashPlanOptions {
  readonly board: string;
  readonly device: DeviceFile;
  readonly production?: boolean;
  /** Data link (default: the board's). */
  readonly link?: string;
  readonly baud?: number;
  /** Device file the board's Linux build opens for Serial1/2 (e.g. a pty). */
  readonly serialPath?: string;
  readonly intervalMs?: number;
  /** Lowest seq the board may use (e.g. the ledger's last seq + 1 after a flash wipe). */
  readonly seqFloor?: number;
  /** Prepend a MAINT unlock frame (for a board running production firmware). */
  readonly unlock?: boolean;
  /** MAINT counter (default: Unix seconds, which only grows). */
  readonly maintCounter?: number;
  /** Bundle to flash (default dist/firmware/<board>.js, built if missing or stale). */
  readonly bundlePath?: string;
}

/** One step of the upload: text to send and, optionally, what the board must print back. */
export interface FlashStep {
  readonly name: string;
  readonly bytes: Buffer;
  readonly expect?: string;
}

/** The upload, ready to send. */
export interface FlashPlan {
  readonly board: BoardProfile;
  readonly steps: FlashStep[];
  readonly bundleBytes: number;
  readonly provisioning: Record<string, unknown>;
}

const READY = 'PV_READY';

interface EspruinoGlobal {
  Config: Record<string, unknown>;
  Core: {
    Env: { getData(): Record<string, unknown> };
    CodeWriter: { reformatCode(code: string): string | undefined };
    Utils: { toJSONishString(s: string): string };
  };
  callProcessor(name: string, data: string, cb: (out: string) => void): void;
}

let espruinoReady: Promise<EspruinoGlobal> | undefined;

/** Loads the espruino tools once (they print a line per file they load: silenced). */
function espruino(): Promise<EspruinoGlobal> {
  espruinoReady ??= new Promise((resolve) => {
    const log = console.log;
    console.log = () => undefined;
    const lib = createRequire(import.meta.url)('espruino') as { init(cb: () => void): void };
    lib.init(() => {
      console.log = log;
      resolve((globalThis as unknown as { Espruino: EspruinoGlobal }).Espruino);
    });
  });
  return espruinoReady;
}

/** The provenant.json the board will read (firmware/src/provision.ts). */
export function provisioningFor(opts: FlashPlanOptions, board: BoardProfile): Record<string, unknown> {
  const link = opts.link ?? board.link.default;
  if (!(board.link.available as readonly string[]).includes(link)) {
    throw new ProvenantError('PROV_ERR_BAD_INPUT', `link ${link} is not available on ${board.name} (${board.link.available.join(', ')})`, {
      field: 'link',
    });
  }
  return {
    deviceId: opts.device.deviceId,
    key: Buffer.from(opts.device.kIoT).toString('base64'),
    link,
    baud: opts.baud ?? board.link.baud,
    ...(opts.serialPath ? { path: opts.serialPath } : {}),
    ...(opts.intervalMs !== undefined ? { intervalMs: opts.intervalMs } : {}),
    ...(opts.seqFloor !== undefined ? { seqFloor: opts.seqFloor } : {}),
    production: opts.production === true,
  };
}

/** Builds the upload through the espruino pipeline. */
export async function planFlash(opts: FlashPlanOptions): Promise<FlashPlan> {
  const board = loadBoard(opts.board);
  if (opts.device.board !== undefined && opts.device.board !== board.name) {
    throw new ProvenantError('PROV_ERR_BAD_INPUT', `device file is for board ${opts.device.board}, not ${board.name}`, {
      field: 'board',
      deviceId: opts.device.deviceId,
    });
  }
  if (!opts.bundlePath) await ensureFirmwareBuilt();
  const bundle = readFileSync(opts.bundlePath ?? join(DIST_FIRMWARE, `${board.name}.js`), 'latin1');
  const provisioning = provisioningFor(opts, board);
  const E = await espruino();
  // What the board would report on connect; the flasher never asks (it may not be listed).
  Object.assign(E.Core.Env.getData(), {
    VERSION: '2v25',
    VERSION_MAJOR: 2,
    VERSION_MINOR: 25,
    BOARD: board.name,
    MODULES: board.espruinoModules.join(','),
  });
  Object.assign(E.Config, {
    SAVE_ON_SEND: 1,
    LOAD_STORAGE_FILE: 0,
    SET_TIME_ON_WRITE: false,
    MINIFICATION_LEVEL: '',
    PRETOKENISE: 0,
    RESET_BEFORE_SEND: false,
  });
  const log = console.log;
  console.log = () => undefined; // the pipeline narrates ("Minifying", "Uploading N bytes")
  const wrapped = await new Promise<string>((resolve) => E.callProcessor('transformForEspruino', bundle, resolve)).finally(() => {
    console.log = log;
  });
  if (!wrapped.includes('require("Storage").write(".bootcde"')) {
    throw new ProvenantError('PROV_ERR_FLASH', 'the espruino pipeline did not produce a Storage upload of .bootcde');
  }
  const js = E.Core.Utils.toJSONishString;
  const provLine = `require("Storage").write("provenant.json",${js(JSON.stringify(provisioning))});`;
  const format = (code: string, what: string): string => {
    const out = E.Core.CodeWriter.reformatCode(code);
    if (out === undefined) throw new ProvenantError('PROV_ERR_FLASH', `espruino could not format ${what}`);
    return out.endsWith('\n') ? out : `${out}\n`;
  };
  const steps: FlashStep[] = [];
  if (opts.unlock) {
    const counter = opts.maintCounter ?? Math.floor(Date.now() / 1000);
    const tag = hmacSha256(sha256, opts.device.kIoT, maintMessage(opts.device.deviceId, MAINT_UNLOCK, counter));
    // A leading 0x00 flushes whatever half frame the board's decoder holds (e.g. REPL text).
    steps.push({
      name: 'unlock',
      bytes: Buffer.concat([Buffer.from([0]), Buffer.from(encodeMessage({ kind: 'MAINT', command: MAINT_UNLOCK, counter, tag }))]),
      expect: 'UNLOCKED',
    });
  }
  steps.push({ name: 'probe', bytes: Buffer.from(`\x03\x10print("PV_"+"READY")\n`, 'latin1'), expect: READY });
  steps.push({ name: 'reset', bytes: Buffer.from('\x10reset();\n\x10print()\n', 'latin1') });
  steps.push({ name: 'bundle', bytes: Buffer.from(format(wrapped, 'the bundle'), 'latin1') });
  steps.push({ name: 'provisioning', bytes: Buffer.from(format(provLine, 'the provisioning'), 'latin1') });
  const check = `PV_OK:${Buffer.byteLength(bundle, 'latin1')}:${Buffer.byteLength(JSON.stringify(provisioning), 'latin1')}`;
  steps.push({
    name: 'verify',
    bytes: Buffer.from(
      `\x10print("PV_OK:"+require("Storage").read(".bootcde").length+":"+require("Storage").read("provenant.json").length)\n`,
      'latin1',
    ),
    expect: check,
  });
  steps.push({ name: 'load', bytes: Buffer.from('\x10load()\n', 'latin1') });
  return { board, steps, bundleBytes: Buffer.byteLength(bundle, 'latin1'), provisioning };
}

/** Exactly the bytes flash() would send, in order. */
export function planBytes(plan: FlashPlan): Buffer {
  return Buffer.concat(plan.steps.map((s) => s.bytes));
}

/** Writes the dry run file. */
export function writeDryRun(plan: FlashPlan, file: string): void {
  writeFileSync(file, planBytes(plan));
}

/** Result of a flash. */
export interface FlashResult {
  readonly bytesSent: number;
  /** The firmware's HELLO after boot (absent if it did not arrive in time). */
  readonly hello?: ReturnType<typeof decodeHello>;
}

/**
 * Sends a plan over the serial port at `path`. Missing port → PROV_ERR_PORT; no answer to the
 * probe → PROV_ERR_PORT_UNRESPONSIVE; a failed Storage check → PROV_ERR_FLASH.
 */
export async function flash(
  plan: FlashPlan,
  path: string,
  opts: { baud?: number; timeoutMs?: number; progress?: (sent: number, total: number, step: string) => void } = {},
): Promise<FlashResult> {
  const { SerialPort } = await import('serialport');
  const port = new SerialPort({ path, baudRate: opts.baud ?? plan.board.link.baud, autoOpen: false });
  await new Promise<void>((resolve, reject) =>
    port.open((err) =>
      err ? reject(new ProvenantError('PROV_ERR_PORT', `cannot open serial port ${path}: ${err.message}`, { field: 'port' })) : resolve(),
    ),
  );
  const timeoutMs = opts.timeoutMs ?? 4000;
  let text = '';
  let hello: ReturnType<typeof decodeHello> | undefined;
  let unlocked = false;
  const frames = new FrameDecoder();
  port.on('data', (b: Buffer) => {
    text += b.toString('latin1');
    for (const f of frames.push(b)) {
      try {
        if (f.type === MSG_HELLO) hello = decodeHello(f.payload);
        if (f.type === MSG_STATUS && decodeStatus(f.payload).code === STATUS_UNLOCKED) unlocked = true;
      } catch {
        // Not ours to judge here; the monitor shows bad frames.
      }
    }
  });
  const waitFor = async (ok: () => boolean, ms: number): Promise<boolean> => {
    const end = Date.now() + ms;
    while (!ok()) {
      if (Date.now() > end) return false;
      await new Promise((r) => setTimeout(r, 20));
    }
    return true;
  };
  const write = (b: Buffer) =>
    new Promise<void>((resolve, reject) => port.write(b, (err) => (err ? reject(err) : port.drain(() => resolve()))));
  const total = plan.steps.reduce((n, s) => n + s.bytes.length, 0);
  let sent = 0;
  try {
    for (const step of plan.steps) {
      const mark = text.length;
      for (let off = 0; off < step.bytes.length; off += 256) {
        const chunk = step.bytes.subarray(off, off + 256);
        await write(chunk);
        sent += chunk.length;
        opts.progress?.(sent, total, step.name);
      }
      if (step.name === 'unlock') {
        if (!(await waitFor(() => unlocked, timeoutMs))) {
          throw new ProvenantError(
            'PROV_ERR_PORT_UNRESPONSIVE',
            `no STATUS UNLOCKED from the board on ${path} within ${timeoutMs} ms (wrong device file, or the board is not running Provenant firmware)`,
          );
        }
      } else if (step.expect) {
        const expected = step.expect;
        if (
          !(await waitFor(
            () => text.slice(mark).includes(expected) || (step.name === 'verify' && /PV_OK:\d+:\d+/.test(text.slice(mark))),
            timeoutMs,
          ))
        ) {
          throw new ProvenantError(
            'PROV_ERR_PORT_UNRESPONSIVE',
            step.name === 'probe'
              ? `no Espruino REPL answered on ${path} within ${timeoutMs} ms (is it the right port? a production board needs --unlock)`
              : `the board did not confirm step ${step.name} within ${timeoutMs} ms`,
          );
        }
        if (step.name === 'verify' && !text.slice(mark).includes(expected)) {
          const got = /PV_OK:\d+:\d+/.exec(text.slice(mark))?.[0];
          throw new ProvenantError('PROV_ERR_FLASH', `Storage check failed: expected ${expected}, board says ${got ?? 'nothing'}`);
        }
      }
    }
    await waitFor(() => hello !== undefined, timeoutMs);
    return { bytesSent: sent, ...(hello ? { hello } : {}) };
  } finally {
    if (port.isOpen) await new Promise<void>((r) => port.close(() => r()));
  }
}

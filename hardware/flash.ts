/**
 * The flasher: uploads a board's firmware bundle to Storage `.bootcde` and its provisioning to
 * `provenant.json`, through the espruino package's own upload pipeline (its processors wrap the
 * code into chunked `require("Storage").write(...)` calls, its code writer formats the lines
 * for the REPL), then sends that text over our own serialport connection — espruino's serial
 * layer only opens ports that serialport's list() reports, and a pty or a BLE serial device
 * never is. `--dry-run` writes exactly the bytes that would be sent. Node-only.
 */
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { writeSecretFile } from '../shared/secret-files.js';
import { join } from 'node:path';
import { DIST_FIRMWARE, ensureFirmwareBuilt } from '../firmware/build.js';
import { ProvenantError } from '../shared/errors.js';
import { sha256 } from '../shared/crypto/sha256.js';
import { FrameDecoder } from '../shared/wire/frame.js';
import { MAINT_UNLOCK, MSG_HELLO, MSG_STATUS, STATUS_UNLOCKED, decodeHello, decodeStatus } from '../shared/wire/messages.js';
import { maintTag, subkey, SUBKEY_MAINT } from '../shared/crypto/domains.js';
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
  /** Earliest t the board may stamp, ms since the Unix epoch (default: now, the flash time; firmware/src/clock.ts). */
  readonly notBefore?: number;
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
/** READY printed by the REPL (the debugger's print shows it quoted: ="PV_READY"). */
const REPL_READY = /[^"]PV_READY\r/;
/** Espruino's debugger prompt (docs/firmware.md, "Flashing"). */
const DEBUG_PROMPT = 'debug>';

/**
 * reset() and load() restart the interpreter: it drops its input line, so the start of a line
 * that arrived while it restarted is lost and the rest is run on its own (seen under load: a
 * `+"ACK1")` without its start). Both are sent after `global.PV_PRE=1`, and then this probe,
 * again and again, until the board prints SETTLED: only a restarted board (PV_PRE gone) prints
 * it. The probe holds no quote, so any tail of it is a finished line (a syntax error at worst),
 * never an open string that would swallow the lines after it; the answer is computed, so no
 * echo of a cut probe can match it.
 */
export const SETTLE_PROBE = '\x10print(global.PV_PRE?0:7919*7907)\n';
const SETTLED = '62615533';

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
  const pins = link === 'Serial1' ? board.pins.serial1 : link === 'Serial2' ? board.pins.serial2 : undefined;
  if (link.startsWith('Serial') && !pins && !opts.serialPath) {
    // The Linux build's serial ports are device files (firmware/boards/LINUX.json).
    throw new ProvenantError(
      'PROV_ERR_BAD_INPUT',
      `${link} on ${board.name} is a device file: give --serial-path (e.g. the board's end of a pty pair)`,
      { field: 'serialPath' },
    );
  }
  return {
    deviceId: opts.device.deviceId,
    key: Buffer.from(opts.device.kIoT).toString('base64'),
    link,
    baud: opts.baud ?? board.link.baud,
    ...(opts.serialPath ? { path: opts.serialPath } : {}),
    ...(opts.intervalMs !== undefined ? { intervalMs: opts.intervalMs } : {}),
    ...(opts.seqFloor !== undefined ? { seqFloor: opts.seqFloor } : {}),
    // The board's clock floor: no edge can make it date a reading before it was flashed.
    notBefore: opts.notBefore ?? Date.now(),
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
  // A re-flash starts the clock floor anew (pv.t, firmware/src/clock.ts): from notBefore, the
  // flash time. It is how an owner recovers a board whose clock an edge pushed into the future.
  const provLine = `require("Storage").erase("pv.t");require("Storage").write("provenant.json",${js(JSON.stringify(provisioning))});`;
  const format = (code: string, what: string): string => {
    const out = E.Core.CodeWriter.reformatCode(code);
    if (out === undefined) throw new ProvenantError('PROV_ERR_FLASH', `espruino could not format ${what}`);
    return out.endsWith('\n') ? out : `${out}\n`;
  };
  // Paced like the espruino tools (one Storage write, reset() or load() at a time), but by
  // acknowledgement instead of a fixed delay: after each statement line the board prints a
  // numbered PV_ACK, and the next line goes only when it has (docs/firmware.md, "Flashing").
  let acks = 0;
  const paced = (code: string): string => {
    // Statement lines end at a newline not preceded by ESC (ESC LF continues a statement).
    const lines: string[] = [];
    for (const part of code.split('\n')) {
      const prev = lines.length > 0 ? (lines[lines.length - 1] as string) : undefined;
      if (prev !== undefined && prev.endsWith('\x1b')) lines[lines.length - 1] = `${prev}\n${part}`;
      else lines.push(part);
    }
    return lines
      .filter((l) => l.trim() !== '')
      .map((l) => `${l}\n\x10print("PV_"+"ACK${++acks}")\n`)
      .join('');
  };
  const steps: FlashStep[] = [];
  if (opts.unlock) {
    const counter = opts.maintCounter ?? Math.floor(Date.now() / 1000);
    // K_maint: only the owner's device file (K_IoT) yields it; the ledger holds K_tag and K_chal only.
    const tag = maintTag(sha256, subkey(sha256, opts.device.kIoT, SUBKEY_MAINT), opts.device.deviceId, MAINT_UNLOCK, counter);
    // A leading 0x00 flushes whatever half frame the board's decoder holds (e.g. REPL text).
    steps.push({
      name: 'unlock',
      bytes: Buffer.concat([Buffer.from([0]), Buffer.from(encodeMessage({ kind: 'MAINT', command: MAINT_UNLOCK, counter, tag }))]),
      expect: 'UNLOCKED',
    });
  }
  steps.push({ name: 'probe', bytes: Buffer.from(`\x03\x10print("PV_"+"READY")\n`, 'latin1'), expect: READY });
  steps.push({ name: 'reset', bytes: Buffer.from(`\x10global.PV_PRE=1;reset();\n${SETTLE_PROBE}`, 'latin1'), expect: SETTLED });
  steps.push({ name: 'bundle', bytes: Buffer.from(paced(format(wrapped, 'the bundle')), 'latin1') });
  steps.push({ name: 'provisioning', bytes: Buffer.from(paced(format(provLine, 'the provisioning')), 'latin1') });
  // Verify: SHA-256 of both files as stored, computed on the board, and its boot count so far.
  const digest = (b: Buffer): string => Buffer.from(sha256(new Uint8Array(b))).toString('base64');
  const provText = Buffer.from(JSON.stringify(provisioning), 'latin1');
  steps.push({
    name: 'verify',
    bytes: Buffer.from(
      `\x10(function(S,h){print("PV_"+"OK:"+h(".bootcde")+":"+h("provenant.json")+":"+(S.read("pv.boot")||0))})(require("Storage"),function(n){var s=require("Storage").read(n);return s===undefined?"none":btoa(E.toString(require("crypto").SHA256(s)))})\n`,
      'latin1',
    ),
    expect: `PV_OK:${digest(Buffer.from(bundle, 'latin1'))}:${digest(provText)}:`,
  });
  steps.push({ name: 'load', bytes: Buffer.from('\x10global.PV_PRE=1;load()\n', 'latin1') });
  return { board, steps, bundleBytes: Buffer.byteLength(bundle, 'latin1'), provisioning };
}

/** Exactly the bytes flash() would send, in order. */
export function planBytes(plan: FlashPlan): Buffer {
  return Buffer.concat(plan.steps.map((s) => s.bytes));
}

/** Writes the dry run file: mode 0600, atomically (it holds K_IoT in the provisioning step). */
export function writeDryRun(plan: FlashPlan, file: string): void {
  writeSecretFile(file, planBytes(plan), { overwrite: true });
}

/** Result of a flash. */
export interface FlashResult {
  readonly bytesSent: number;
  /** Upload attempts (a failed Storage check re-sends the files once). */
  readonly attempts: number;
  /** The firmware's HELLO after boot, when its data link is the port flashed through. */
  readonly hello?: ReturnType<typeof decodeHello>;
  /** The boot count the board reported through its console after load(), when the data link is elsewhere. */
  readonly bootCount?: number;
}

const ACK_LINE = /print\("PV_"\+"ACK(\d+)"\)\n$/;
const XOFF = 0x13;
const XON = 0x11;
const OK_RE = /PV_OK:([^:\r\n]*):([^:\r\n]*):(\d+)/;

/**
 * Sends a plan over the serial port at `path`. Each statement line waits for the board's
 * PV_ACK before the next goes (and XOFF from the board pauses sending until XON), so the
 * interpreter's input never overflows; the files are then checked by their SHA-256 computed on
 * the board, and re-sent once if they differ. Missing port → PROV_ERR_PORT; no answer →
 * PROV_ERR_PORT_UNRESPONSIVE; a Storage check that fails twice → PROV_ERR_FLASH.
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
  let repl = false; // true once the REPL answered: from then on XON/XOFF bytes are flow control
  let paused = false;
  const frames = new FrameDecoder();
  port.on('data', (b: Buffer) => {
    text += b.toString('latin1');
    if (repl) {
      for (const c of b) {
        if (c === XOFF) paused = true;
        else if (c === XON) paused = false;
      }
    }
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
      await new Promise((r) => setTimeout(r, 5));
    }
    return true;
  };
  const write = async (b: Buffer): Promise<void> => {
    for (let off = 0; off < b.length; off += 128) {
      if (paused && !(await waitFor(() => !paused, timeoutMs))) {
        throw new ProvenantError('PROV_ERR_PORT_UNRESPONSIVE', `the board on ${path} sent XOFF and no XON within ${timeoutMs} ms`);
      }
      await new Promise<void>((resolve, reject) =>
        port.write(b.subarray(off, off + 128), (err) => (err ? reject(err) : port.drain(() => resolve()))),
      );
    }
  };
  const total = plan.steps.reduce((n, s) => n + s.bytes.length, 0);
  let sent = 0;
  let attempts = 1;
  /** Sends SETTLE_PROBE until the board answers SETTLED after `from` (a restart is over), for up to `ms`. */
  const settle = async (from: number, ms: number): Promise<boolean> => {
    const end = Date.now() + ms;
    do {
      await write(Buffer.from(SETTLE_PROBE, 'latin1'));
      if (await waitFor(() => text.includes(SETTLED, from), Math.min(1000, Math.max(0, end - Date.now())))) return true;
    } while (Date.now() < end);
    return false;
  };
  const send = async (step: FlashStep): Promise<void> => {
    // Line by line; after an ack line, wait for the board to print that ack.
    const lines = step.bytes.toString('latin1').split(/(?<=\n)/);
    const from = text.length;
    for (const line of lines) {
      const mark = text.length;
      sent += line.length;
      if (line === SETTLE_PROBE) {
        if (!(await settle(from, timeoutMs))) {
          throw new ProvenantError('PROV_ERR_PORT_UNRESPONSIVE', `the board did not come back from ${step.name} within ${timeoutMs} ms`);
        }
        opts.progress?.(Math.min(sent, total), total, step.name);
        continue;
      }
      await write(Buffer.from(line, 'latin1'));
      opts.progress?.(Math.min(sent, total), total, step.name);
      const ack = ACK_LINE.exec(line)?.[1];
      if (ack !== undefined && !(await waitFor(() => text.includes(`PV_ACK${ack}\r`, mark), timeoutMs))) {
        const said = text
          .slice(mark)
          .replace(/[^\x20-\x7e\r\n]/g, '')
          .trim()
          .slice(-200);
        throw new ProvenantError(
          'PROV_ERR_PORT_UNRESPONSIVE',
          `the board did not confirm line ${ack} of the upload (step ${step.name}) within ${timeoutMs} ms${said ? `; it said: ${said}` : ''}`,
        );
      }
    }
  };
  try {
    const verifyStep = plan.steps.find((s) => s.name === 'verify');
    let bootsBefore = 0;
    let loadMark = 0;
    for (let i = 0; i < plan.steps.length; i++) {
      const step = plan.steps[i] as FlashStep;
      const mark = text.length;
      if (step.name === 'load') loadMark = mark;
      await send(step);
      if (step.name === 'unlock') {
        if (!(await waitFor(() => unlocked, timeoutMs))) {
          throw new ProvenantError(
            'PROV_ERR_PORT_UNRESPONSIVE',
            `no STATUS UNLOCKED from the board on ${path} within ${timeoutMs} ms (wrong device file, or the board is not running Provenant firmware)`,
          );
        }
      } else if (step.name === 'probe') {
        if (!(await waitFor(() => text.includes(READY, mark), timeoutMs))) {
          throw new ProvenantError(
            'PROV_ERR_PORT_UNRESPONSIVE',
            `no Espruino REPL answered on ${path} within ${timeoutMs} ms (is it the right port? a production board needs --unlock)`,
          );
        }
        // A Ctrl-C that lands while the running firmware executes (a timer callback) drops
        // Espruino into its debugger ("debug>"), which reads every line as a debugger command: its
        // `print` answers the probe as ="PV_READY", and each later line fails ("In debug mode:
        // Expected a simple ID"; seen on the interpreter under load, and reproduced by Ctrl-C
        // against a sampling board). `quit` leaves the debugger, stopping the interrupted code.
        for (let tries = 0; text.includes(DEBUG_PROMPT, mark); tries++) {
          const again = text.length;
          await write(Buffer.from(`quit\n\x10print("PV_"+"READY")\n`, 'latin1'));
          const back = (): boolean => REPL_READY.test(text.slice(again)) && !text.includes(DEBUG_PROMPT, again);
          if (await waitFor(back, timeoutMs)) break;
          if (tries >= 2) {
            throw new ProvenantError('PROV_ERR_PORT_UNRESPONSIVE', `the board on ${path} stays in Espruino's debugger after \`quit\``);
          }
        }
        repl = true;
      } else if (step === verifyStep) {
        if (!(await waitFor(() => OK_RE.test(text.slice(mark)), timeoutMs))) {
          throw new ProvenantError('PROV_ERR_PORT_UNRESPONSIVE', `the board did not confirm step verify within ${timeoutMs} ms`);
        }
        const got = OK_RE.exec(text.slice(mark)) as RegExpExecArray;
        bootsBefore = Number(got[3]);
        if (!got[0].startsWith(step.expect as string)) {
          if (attempts >= 2) {
            throw new ProvenantError(
              'PROV_ERR_FLASH',
              `Storage check failed twice: expected SHA-256 ${step.expect}, the board has ${got[0]} (.bootcde:provenant.json:boots)`,
            );
          }
          // Send the files again, from the reset on.
          attempts++;
          i = plan.steps.findIndex((s) => s.name === 'reset') - 1;
        }
      }
    }
    // The firmware boots. On the port's own link it says HELLO; otherwise its console stays
    // here and the boot counter it keeps in Storage shows that it ran.
    const link = String(plan.provisioning['link']);
    if (!link.startsWith('Serial') || (await waitFor(() => hello !== undefined, Math.min(1000, timeoutMs)))) {
      await waitFor(() => hello !== undefined, timeoutMs);
      return { bytesSent: sent, attempts, ...(hello ? { hello } : {}) };
    }
    let bootCount: number | undefined;
    // load() restarted the interpreter: ask for the boot count once it is back (SETTLE_PROBE).
    const settled = await settle(loadMark, timeoutMs);
    const end = Date.now() + timeoutMs;
    while (settled && bootCount === undefined && hello === undefined && Date.now() < end) {
      const mark = text.length;
      await write(Buffer.from(`\x10print("PV_"+"BOOT:"+(require("Storage").read("pv.boot")||0))\n`, 'latin1'));
      if (await waitFor(() => /PV_BOOT:(\d+)/.test(text.slice(mark)), 500)) {
        const n = Number((/PV_BOOT:(\d+)/.exec(text.slice(mark)) as RegExpExecArray)[1]);
        if (n > bootsBefore) bootCount = n;
      }
    }
    return { bytesSent: sent, attempts, ...(hello ? { hello } : {}), ...(bootCount !== undefined ? { bootCount } : {}) };
  } finally {
    if (port.isOpen) await new Promise<void>((r) => port.close(() => r()));
  }
}

/**
 * A board on Espruino's own interpreter: the Linux build (2v29) run as a process behind ptys —
 * real Espruino, no simulation. Node-only. docs/firmware.md, "Running a board on the Linux
 * interpreter".
 *
 * - Its console (`USB`: the process's stdin/stdout) is a pty made by socat (`usbPath`): the
 *   REPL, what `provenant flash` talks to. A 0x04 byte on stdin ends the interpreter, so frames
 *   must never travel there.
 * - Its data link is `Serial1` on a second pty pair: the firmware opens `serial1Board` (the
 *   provisioning `path`), the host opens `serial1` (what the edge or the monitor opens). The
 *   pair outlives the interpreter, as a cable outlives a board's reboot.
 * - Its flash is `espruino.flash` in its working directory (one directory per board). A power
 *   cut is SIGKILL (it ignores SIGTERM); `powerOn()` restarts it on the same flash, and it boots
 *   `.bootcde` (after `.boot0`..`.boot3`) as a board does.
 *
 * The interpreter is found at `$PROVENANT_ESPRUINO`, else `<repo>/../shared/tools/espruino/espruino`.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SerialPort } from 'serialport';
import { ProvenantError } from '../shared/errors.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The file the Linux build keeps its Storage in, in its working directory. */
export const FLASH_FILE = 'espruino.flash';

/** Environment variable naming the interpreter binary. */
export const ESPRUINO_ENV = 'PROVENANT_ESPRUINO';

/** Where the Linux interpreter is expected: `$PROVENANT_ESPRUINO`, else `<repo>/../shared/tools/espruino/espruino`. */
export function espruinoPath(): string {
  return process.env[ESPRUINO_ENV] || join(ROOT, '..', 'shared', 'tools', 'espruino', 'espruino');
}

/** Why the real interpreter cannot run here, or undefined when it can (binary and socat present). */
export function espruinoUnavailable(): string | undefined {
  const bin = espruinoPath();
  if (!existsSync(bin)) return `the Espruino interpreter is not at ${bin} (set ${ESPRUINO_ENV})`;
  if (spawnSync('socat', ['-V'], { stdio: 'ignore' }).status !== 0) return 'socat is not installed (apt-get install -y socat)';
  return undefined;
}

async function until(ok: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new ProvenantError('PROV_ERR_PORT_UNRESPONSIVE', `timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A pty pair: bytes written on one end come out of the other. */
export interface PtyPair {
  /** The end the host opens. */
  readonly host: string;
  /** The end the board opens. */
  readonly board: string;
  close(): void;
}

/** Opens a pty pair with socat; `host` and `board` are symlinks in `dir`. */
export async function ptyPair(dir: string, name: string): Promise<PtyPair> {
  const host = join(dir, name);
  const board = join(dir, `${name}-board`);
  // ignoreeof: the pair survives either end closing (an interpreter killed, a monitor that exits).
  const p = spawn('socat', [`PTY,link=${board},raw,echo=0,ignoreeof`, `PTY,link=${host},raw,echo=0,ignoreeof`], { stdio: 'ignore' });
  track(p);
  await until(() => (existsSync(host) && existsSync(board)) || p.exitCode !== null, 5000, 'socat to make a pty pair');
  if (p.exitCode !== null) throw new ProvenantError('PROV_ERR_PORT', 'socat could not make a pty pair');
  return {
    host,
    board,
    close: () => {
      if (p.exitCode === null) p.kill('SIGKILL');
    },
  };
}

/** Options of LinuxBoard.start. */
export interface LinuxBoardOptions {
  /** Working directory = its flash (default: a new temp directory, removed by close()). */
  readonly dir?: string;
  /** Interpreter binary (default espruinoPath()). */
  readonly espruino?: string;
  /** A flash image to start from (a copy of another board's `espruino.flash`). */
  readonly image?: string;
  /** Files to put in Storage before the first boot (e.g. `.bootcde`, `provenant.json`, `.boot0`). */
  readonly files?: Record<string, string | Uint8Array>;
}

let evalCounter = 0;

/** Processes this module started (interpreters, socat): killed if Node exits without close(). */
const live = new Set<ChildProcess>();
/** Interpreter pids (children of socat, which a dying socat would not take along). */
const interpreters = new Set<number>();
let exitHook = false;

/**
 * Kills `pid` once this Node process is gone, however it went (a SIGKILLed test runner runs no
 * exit hook): a detached shell polling both every second. Ends by itself when `pid` ends first.
 */
export function watchdog(pid: number): void {
  spawn(
    'sh',
    ['-c', `while kill -0 ${process.pid} 2>/dev/null && kill -0 ${pid} 2>/dev/null; do sleep 1; done; kill -9 ${pid} 2>/dev/null`],
    {
      detached: true,
      stdio: 'ignore',
    },
  ).unref();
}

function track(p: ChildProcess): void {
  if (p.pid !== undefined) watchdog(p.pid);
  live.add(p);
  p.once('exit', () => live.delete(p));
  if (!exitHook) {
    exitHook = true;
    process.once('exit', () => {
      for (const pid of interpreters) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
      for (const c of live) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    });
  }
}

/** One interpreter process with its console pty, a Serial1 pty pair and its own flash. */
export class LinuxBoard {
  /** Everything the console printed, across power cycles. */
  output = '';
  /** Process id of the running interpreter (undefined while powered off). */
  pid: number | undefined;
  private socat: ChildProcess | undefined;
  private port: SerialPort | undefined;
  private stderr = '';
  /** Why an install of `files` was started over (LinuxBoard.start), if it was. */
  readonly installRetries: string[] = [];
  /** Whether the REPL has answered since this power-on (type() waits for it before the first line). */
  private answered = false;

  private constructor(
    readonly dir: string,
    private readonly ownDir: boolean,
    private readonly bin: string,
    private readonly link: PtyPair,
  ) {}

  /** The console (REPL) pty: what `provenant flash --port` opens. Valid while powered on. */
  get usbPath(): string {
    return join(this.dir, 'usb');
  }

  /** Host end of the Serial1 pty pair: what the edge or `provenant monitor` opens. */
  get serial1(): string {
    return this.link.host;
  }

  /** Board end of the Serial1 pty pair: the provisioning `path`. */
  get serial1Board(): string {
    return this.link.board;
  }

  /** Starts a board (powered on). */
  static async start(opts: LinuxBoardOptions = {}): Promise<LinuxBoard> {
    const bin = opts.espruino ?? espruinoPath();
    if (!existsSync(bin)) throw new ProvenantError('PROV_ERR_BAD_INPUT', `no Espruino interpreter at ${bin} (set ${ESPRUINO_ENV})`);
    const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'provenant-espruino-'));
    if (opts.image) copyFileSync(opts.image, join(dir, FLASH_FILE));
    const board = new LinuxBoard(dir, opts.dir === undefined, bin, await ptyPair(dir, 'serial1'));
    try {
      if (opts.files && Object.keys(opts.files).length > 0) {
        // Install with the firmware absent: an empty flash boots to a bare REPL. Once in ~70
        // installs at load ~24-28 (and once in CI) a Storage write line went unanswered for 30 s,
        // the interpreter alive and runnable (diagnose() in the error): the install starts over
        // once, on a fresh flash, and a second failure names both.
        for (let attempt = 1; ; attempt++) {
          try {
            await board.powerOn();
            for (const [name, data] of Object.entries(opts.files)) await board.writeFile(name, data);
            await board.powerCut();
            break;
          } catch (e) {
            await board.powerCut();
            if (attempt >= 2) {
              throw new ProvenantError(
                'PROV_ERR_PORT_UNRESPONSIVE',
                `installing ${Object.keys(opts.files).join(', ')} failed twice: ${(e as Error).message}; the first time: ${board.installRetries[0]}`,
              );
            }
            board.installRetries.push((e as Error).message);
            rmSync(join(dir, FLASH_FILE), { force: true });
            if (opts.image) copyFileSync(opts.image, join(dir, FLASH_FILE));
          }
        }
      }
      await board.powerOn();
    } catch (e) {
      await board.close();
      throw e;
    }
    return board;
  }

  /** Starts the interpreter on this board's flash; it boots what Storage holds. */
  async powerOn(): Promise<void> {
    if (this.pid !== undefined) return;
    const usb = this.usbPath;
    rmSync(usb, { force: true });
    // -d -d: socat logs the interpreter's pid when it forks it and how it ended (exit status or
    // signal) when it dies: the diagnosis when a console goes quiet (diagnose()).
    const socat = spawn('socat', ['-d', '-d', `PTY,link=${usb},raw,echo=0`, `EXEC:${this.bin},pty,raw,echo=0`], {
      cwd: this.dir,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    socat.stderr?.on('data', (b: Buffer) => {
      this.stderr = (this.stderr + b.toString('latin1')).slice(-4000);
    });
    track(socat);
    this.socat = socat;
    const childOf = (): number | undefined => {
      try {
        const ids = readFileSync(`/proc/${socat.pid}/task/${socat.pid}/children`, 'utf8').trim();
        return ids ? Number(ids.split(/\s+/)[0]) : undefined;
      } catch {
        return undefined;
      }
    };
    await until(() => (existsSync(usb) && childOf() !== undefined) || socat.exitCode !== null, 30_000, 'the interpreter to start');
    if (socat.exitCode !== null) throw new ProvenantError('PROV_ERR_PORT', `the interpreter did not start: ${this.stderr.trim()}`);
    this.pid = childOf();
    this.answered = false;
    if (this.pid !== undefined) {
      interpreters.add(this.pid);
      watchdog(this.pid);
    }
  }

  /**
   * What the processes behind this board are doing, for an error when its console goes quiet:
   * the interpreter (alive or not, its scheduler state and CPU time from /proc), socat (running,
   * or its exit code / signal), what socat logged (the interpreter's exit status or signal when
   * it died) and the console's last bytes, control characters escaped.
   */
  async diagnose(): Promise<string> {
    const parts: string[] = [];
    const pid = this.pid;
    /** [scheduler state, CPU ticks so far], or undefined once the process is gone. */
    const stat = (): [string, number] | undefined => {
      try {
        const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
        // "pid (comm) state ppid ...": utime and stime are fields 14 and 15 (clock ticks).
        const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
        return [f[0] as string, Number(f[11]) + Number(f[12])];
      } catch {
        return undefined;
      }
    };
    if (pid === undefined) parts.push('interpreter: powered off');
    else {
      // Two looks a second apart: busy (CPU ticks rising: working, or starved by a loaded machine)
      // or idle (waiting for input that never came, e.g. a REPL holding an unfinished line).
      const a = stat();
      await new Promise((r) => setTimeout(r, 1000));
      const b = stat();
      const names: Record<string, string> = { R: 'running', S: 'sleeping', D: 'in disk wait', T: 'stopped', Z: 'exited, not reaped' };
      let wchan = '';
      try {
        wchan = readFileSync(`/proc/${pid}/wchan`, 'utf8').trim();
      } catch {
        // not readable here
      }
      parts.push(
        a && b
          ? `interpreter pid ${pid}: alive, state ${b[0]} (${names[b[0]] ?? '?'})${wchan && wchan !== '0' ? ` in ${wchan}` : ''}, ${b[1]} CPU ticks, ${b[1] - a[1]} of them in the last second`
          : `interpreter pid ${pid}: gone (no /proc entry)`,
      );
    }
    const socat = this.socat;
    if (!socat) parts.push('socat: not started');
    else if (socat.exitCode === null && socat.signalCode === null) parts.push(`socat pid ${socat.pid}: running`);
    else parts.push(`socat pid ${socat.pid}: exited (code ${socat.exitCode}, signal ${socat.signalCode})`);
    const log = this.stderr.trim().split('\n').slice(-6).join(' | ');
    if (log) parts.push(`socat's log ends: ${log}`);
    parts.push(`console's last bytes: ${JSON.stringify(this.output.slice(-200))}`);
    return parts.join('; ');
  }

  /** Power cut: SIGKILL (the interpreter ignores SIGTERM). RAM is lost, the flash file stays. */
  async powerCut(): Promise<void> {
    await this.releaseConsole();
    const socat = this.socat;
    if (this.pid !== undefined) {
      interpreters.delete(this.pid);
      try {
        process.kill(this.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    this.pid = undefined;
    if (socat && socat.exitCode === null && socat.signalCode === null) {
      await until(() => socat.exitCode !== null || socat.signalCode !== null, 1000, 'socat to exit').catch(() => socat.kill('SIGKILL'));
    }
    this.socat = undefined;
  }

  /** A power cycle: cut, then on again on the same flash. */
  async reboot(): Promise<void> {
    await this.powerCut();
    await this.powerOn();
  }

  /** Opens the console for eval/run (the board's REPL must be on USB: not a production board). */
  async console(): Promise<SerialPort> {
    if (this.port?.isOpen) return this.port;
    if (this.pid === undefined) throw new ProvenantError('PROV_ERR_PORT', 'the board is powered off');
    const { SerialPort } = await import('serialport');
    const port = new SerialPort({ path: this.usbPath, baudRate: 115200, autoOpen: false });
    await new Promise<void>((res, rej) => port.open((err) => (err ? rej(err) : res())));
    port.on('data', (b: Buffer) => {
      this.output += b.toString('latin1');
    });
    port.on('error', () => undefined);
    this.port = port;
    return port;
  }

  /** Closes the console so another program (the flasher) can open it. */
  async releaseConsole(): Promise<void> {
    const port = this.port;
    this.port = undefined;
    if (port?.isOpen) await new Promise<void>((r) => port.close(() => r()));
  }

  /**
   * Waits until the REPL answers after a power-on: a probe line, sent again every second until
   * the board prints its (computed) answer. Lines typed while the interpreter is still starting
   * are not all read as typed (the same console-path loss as a line typed into a reset(),
   * hardware/flash.ts SETTLE_PROBE); the probe holds no quote, so a cut one ends as a finished
   * line, never an open string that would swallow the lines after it.
   */
  private async replReady(port: SerialPort, timeoutMs = 30_000): Promise<void> {
    const from = this.output.length;
    const end = Date.now() + timeoutMs;
    while (!this.output.includes('62615533', from)) {
      if (Date.now() > end) {
        throw new ProvenantError(
          'PROV_ERR_PORT_UNRESPONSIVE',
          `the interpreter's console did not answer within ${timeoutMs} ms of power-on; it said: ${this.output.slice(from).slice(-300)}; ${await this.diagnose()}`,
        );
      }
      await new Promise<void>((res, rej) => port.write('\x10print(7919*7907)\n', (err) => (err ? rej(err) : port.drain(() => res()))));
      await until(() => this.output.includes('62615533', from), 1000, 'the REPL').catch(() => undefined);
    }
    this.answered = true;
  }

  /** Sends raw bytes to the console, in blocks (once its REPL has answered since power-on). */
  async type(text: string | Uint8Array): Promise<void> {
    const port = await this.console();
    if (!this.answered) await this.replReady(port);
    const bytes = typeof text === 'string' ? Buffer.from(text, 'latin1') : Buffer.from(text);
    for (let off = 0; off < bytes.length; off += 256) {
      await new Promise<void>((res, rej) =>
        port.write(bytes.subarray(off, off + 256), (err) => (err ? rej(err) : port.drain(() => res()))),
      );
    }
  }

  /**
   * Evaluates an expression on the board's REPL and returns its JSON value. 30 s by default: an
   * interpreter sharing a loaded machine took over 10 s for one Storage write.
   */
  async eval<T = unknown>(expr: string, timeoutMs = 30_000): Promise<T> {
    const tag = `PVE${++evalCounter}=`;
    const mark = this.output.length;
    // The tag is built on the board, so an echo of the line can never match it.
    await this.type(`\x10print("PVE"+"${tag.slice(3)}"+JSON.stringify(${expr}))\n`);
    const re = new RegExp(`${tag}(.*)\\r\\n`);
    await until(() => re.test(this.output.slice(mark)), timeoutMs, `the board to evaluate ${expr.slice(0, 60)}`).catch(async (e: Error) => {
      throw new ProvenantError(
        'PROV_ERR_PORT_UNRESPONSIVE',
        `${e.message}; console said: ${this.output.slice(mark).slice(-300)}; ${await this.diagnose()}`,
      );
    });
    const m = re.exec(this.output.slice(mark)) as RegExpExecArray;
    return (m[1] === 'undefined' || m[1] === '' ? undefined : JSON.parse(m[1] as string)) as T;
  }

  /**
   * Runs statements on the REPL and waits until the board has done them; throws what they threw
   * (not whatever else the board prints meanwhile, e.g. a running firmware's own errors).
   */
  async run(code: string, timeoutMs = 30_000): Promise<void> {
    const n = ++evalCounter;
    const mark = this.output.length;
    await this.type(`\x10try{${code}}catch(e){print("PVX"+"${n}="+e)};print("PVA"+"${n}")\n`);
    const done = new RegExp(`PVA${n}\\r\\n`);
    await until(() => done.test(this.output.slice(mark)), timeoutMs, `the board to run ${code.slice(0, 60)}`).catch(async (e: Error) => {
      throw new ProvenantError(
        'PROV_ERR_PORT_UNRESPONSIVE',
        `${e.message}; console said: ${this.output.slice(mark).slice(-300)}; ${await this.diagnose()}`,
      );
    });
    const err = new RegExp(`PVX${n}=([^\\r\\n]*)`).exec(this.output.slice(mark));
    if (err) throw new ProvenantError('PROV_ERR_FLASH', `the board refused ${code.slice(0, 80)}: ${err[1]}`);
  }

  /** Writes a Storage file through the REPL, 768 bytes per line. */
  async writeFile(name: string, data: string | Uint8Array): Promise<void> {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'latin1') : Buffer.from(data);
    const n = JSON.stringify(name);
    if (bytes.length === 0) throw new ProvenantError('PROV_ERR_BAD_INPUT', `Storage file ${name} would be empty`);
    for (let off = 0; off < bytes.length; off += 768) {
      const chunk = bytes.subarray(off, off + 768).toString('base64');
      await this.run(`require("Storage").write(${n},atob("${chunk}"),${off},${bytes.length})`);
    }
  }

  /** Reads a Storage file (undefined when absent). */
  async readFile(name: string): Promise<Buffer | undefined> {
    const b64 = await this.eval<string | null>(
      `(function(s){return s===undefined?null:btoa(s)})(require("Storage").read(${JSON.stringify(name)}))`,
    );
    return b64 === null ? undefined : Buffer.from(b64, 'base64');
  }

  /** `process.memory()` now (after a garbage collection, which it runs; a sampling board on a loaded machine can take seconds to get to it). */
  memory(timeoutMs = 30_000): Promise<{ free: number; usage: number; total: number; blocksize: number }> {
    return this.eval('process.memory()', timeoutMs);
  }

  /** This board's flash file (copy it while powered off to make an image). */
  get flashFile(): string {
    return join(this.dir, FLASH_FILE);
  }

  /** Console lines that report an uncaught exception (a board would print them too). */
  uncaught(): string[] {
    return this.output.split(/\r?\n/).filter((l) => /Uncaught /.test(l));
  }

  /** Powers off, closes the ptys and (for a temp directory) removes the flash. Never leaves a process behind. */
  async close(): Promise<void> {
    await this.powerCut();
    this.link.close();
    if (this.ownDir) rmSync(this.dir, { recursive: true, force: true });
  }
}

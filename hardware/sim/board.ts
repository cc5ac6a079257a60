/**
 * A simulated Espruino board: the BUILT firmware bundle running in a Node `vm` context with the
 * shim of shim.ts, its flash in a SimStorage, and one host-facing link (the port an edge box or
 * flasher would open). While the console (REPL) sits on that link, host bytes go to a small
 * REPL that understands the espruino tools' upload (Ctrl-C, \x10 echo-off lines, ESC-LF
 * continuation, reset(), load(), require("Storage").write(...)); once the firmware moves the
 * console away, host bytes become 'data' events on the link object, as on a real board.
 * A stand-in for hardware, named as such: V8 instead of Espruino's interpreter.
 */
import { performance } from 'node:perf_hooks';
import vm from 'node:vm';
import { FrameDecoder } from '../../shared/wire/frame.js';
import { MESSAGE_NAMES } from '../../shared/wire/union.js';
import { createContext, type ShimSerial } from './shim.js';
import type { SimStorage } from './storage.js';

/** Sensor sources of a simulated board (defaults: plausible, slowly varying signals). */
export interface SimSensors {
  temperature(): number;
  analog(pin: string): number;
  vref(): number;
  battery(): number;
  pin(pin: string): number;
}

/** Counters a simulated board keeps. */
export interface SimStats {
  boots: number;
  /** Errors thrown out of firmware timers or event handlers (a real board would print them). */
  uncaught: string[];
  /** Lines the REPL failed to evaluate. */
  replErrors: string[];
  replLines: number;
  /** Wall time spent in firmware timer callbacks and 'data' handlers (ms). */
  busyMs: number;
  sha256Calls: number;
  sha256Bytes: number;
  bytesIn: number;
  bytesOut: number;
  /** Frames the board sent, by message name. */
  framesOut: Record<string, number>;
  /**
   * Board clock (ms) when the board wrote each of the first SENT_AT_KEPT frames of each kind: the
   * send time itself, which a receiver's stamp is not once the host delays delivery.
   */
  sentAtMs: Record<string, number[]>;
}

/** How many send times SimStats.sentAtMs keeps per message kind (the first ones). */
export const SENT_AT_KEPT = 64;

/** Options of a SimBoard. */
export interface SimBoardOptions {
  readonly storage: SimStorage;
  /** Board profile name (for the default link). */
  readonly board: string;
  /** The link the host is attached to (USB, Serial1, Serial2, Bluetooth). */
  readonly hostLink: string;
  /** Board time runs this many times faster than real time (timers too). Default 1; 0 freezes the clock. */
  readonly clockSpeedup?: number;
  /** Board clock at start, ms since the Unix epoch. Default: now. */
  readonly startTimeMs?: number;
  readonly sensors?: Partial<SimSensors>;
}

/** One simulated board. */
export class SimBoard {
  readonly stats: SimStats = {
    boots: 0,
    uncaught: [],
    replErrors: [],
    replLines: 0,
    busyMs: 0,
    sha256Calls: 0,
    sha256Bytes: 0,
    bytesIn: 0,
    bytesOut: 0,
    framesOut: {},
    sentAtMs: {},
  };
  readonly storage: SimStorage;
  readonly hostLink: string;
  private readonly speed: number;
  private base: number;
  private t0 = performance.now();
  private ctx: vm.Context | null = null;
  private serials = new Map<string, ShimSerial>();
  private timers = new Set<NodeJS.Timeout>();
  private consoleDev: string | null;
  private line = '';
  private esc = false;
  private stopped = false;
  private readonly outListeners: ((b: Buffer) => void)[] = [];
  private readonly outFrames = new FrameDecoder();
  /** Serial setup calls seen (name, baud, options), newest last. */
  readonly setups: { name: string; baud: number; options: unknown }[] = [];
  readonly sensors: SimSensors;
  /** Button state read by digitalRead(BTN). */
  buttonHeld = false;

  constructor(opts: SimBoardOptions) {
    this.storage = opts.storage;
    this.hostLink = opts.hostLink;
    this.speed = opts.clockSpeedup ?? 1;
    this.base = opts.startTimeMs ?? Date.now();
    this.consoleDev = opts.hostLink;
    const t = () => this.nowMs() / 1000;
    this.sensors = {
      temperature: () => 21.5 + 2 * Math.sin(t() / 600),
      analog: () => 0.5 + 0.25 * Math.sin(t() / 60),
      vref: () => 3.3,
      battery: () => 3.0 - ((t() % 86400) / 86400) * 0.1,
      pin: (pin) => (this.buttonHeld && /^BTN/.test(pin) ? 1 : 0),
      ...opts.sensors,
    };
  }

  /** Board clock, ms since the Unix epoch. */
  nowMs(): number {
    // Speed-up 0 freezes the board clock (timers still run in real time): exact timestamps.
    return this.base + (performance.now() - this.t0) * this.speed;
  }

  /** Registers a listener for bytes the board sends on the host link; returns its remover. */
  onOutput(cb: (b: Buffer) => void): () => void {
    this.outListeners.push(cb);
    return () => {
      const i = this.outListeners.indexOf(cb);
      if (i >= 0) this.outListeners.splice(i, 1);
    };
  }

  /** Where the console is: a link name or null. */
  get console(): string | null {
    return this.consoleDev;
  }

  /** Starts (or restarts) the board: fresh RAM, console back on the host link, run .bootcde. */
  boot(runBootCode = true): void {
    this.clearTimers();
    this.stopped = false;
    this.consoleDev = this.hostLink;
    this.line = '';
    this.esc = false;
    const made = createContext({
      storage: this.storage,
      nowMs: () => this.nowMs(),
      setNowMs: (ms) => {
        this.base = ms;
        this.t0 = performance.now();
      },
      // Node fires timers over 2^31-1 ms at once; Espruino's 64-bit timers do not: cap.
      realDelay: (ms) => Math.min(2147483647, Math.max(0, this.speed > 0 ? ms / this.speed : ms)),
      write: (name, bytes) => this.boardWrite(name, bytes),
      setupSerial: (name, baud, options) => this.setups.push({ name, baud, options }),
      setConsole: (name) => {
        this.consoleDev = name;
      },
      getConsole: () => this.consoleDev,
      print: (text) => {
        if (this.consoleDev !== null) this.boardWrite(this.consoleDev, Buffer.from(text, 'latin1'));
      },
      uncaught: (err) => this.stats.uncaught.push(err instanceof Error ? (err.stack ?? err.message) : String(err)),
      reset: () => this.softReset(),
      load: () => {
        // load() restarts the interpreter; do it after the current REPL line finishes.
        setImmediate(() => this.boot());
      },
      sensors: this.sensors,
      busy: (ms) => {
        this.stats.busyMs += ms;
      },
      hashed: (n) => {
        this.stats.sha256Calls++;
        this.stats.sha256Bytes += n;
      },
    });
    this.ctx = made.ctx;
    this.serials = made.serials;
    this.timers = made.timers;
    this.stats.boots++;
    const code = runBootCode ? this.storage.get('.bootcde') : undefined;
    if (code) this.run(code.toString('latin1'), '.bootcde', this.stats.uncaught);
  }

  /** Power cut: timers stop, RAM is lost; flash (storage) stays. */
  stop(): void {
    this.stopped = true;
    this.clearTimers();
    this.ctx = null;
  }

  /** Bytes arriving from the host on the host link. */
  hostWrite(bytes: Uint8Array): void {
    if (this.stopped || !this.ctx) return;
    this.stats.bytesIn += bytes.length;
    if (this.consoleDev === this.hostLink) {
      this.repl(Buffer.from(bytes));
      return;
    }
    const s = this.serials.get(this.hostLink);
    if (!s) return;
    const data = Buffer.from(bytes).toString('latin1');
    const t0 = performance.now();
    for (const cb of [...s.listeners]) {
      try {
        cb(data);
      } catch (err) {
        this.stats.uncaught.push(err instanceof Error ? (err.stack ?? err.message) : String(err));
      }
    }
    this.stats.busyMs += performance.now() - t0;
  }

  /** Evaluates JavaScript in the board context (tests and the REPL). */
  eval(code: string): unknown {
    if (!this.ctx) throw new Error('board is stopped');
    return vm.runInContext(code, this.ctx, { filename: 'repl' });
  }

  private run(code: string, filename: string, errors: string[]): void {
    try {
      vm.runInContext(code, this.ctx as vm.Context, { filename });
    } catch (err) {
      errors.push(err instanceof Error ? (err.stack ?? err.message) : String(err));
    }
  }

  private softReset(): void {
    // reset(): RAM cleared, no code run; the console stays where it is (the uploader's link).
    const dev = this.consoleDev;
    this.boot(false);
    this.consoleDev = dev;
  }

  private repl(bytes: Buffer): void {
    for (const b of bytes) {
      if (this.esc) {
        this.esc = false;
        if (b === 0x0a) {
          this.line += '\n'; // ESC LF: newline without executing
          continue;
        }
      }
      if (b === 0x1b) this.esc = true;
      else if (b === 0x03)
        this.line = ''; // Ctrl-C
      else if (b === 0x10 || b === 0x0d)
        continue; // echo off for this line; CR
      else if (b === 0x0a) {
        const code = this.line;
        this.line = '';
        if (code.trim() === '') continue;
        this.stats.replLines++;
        if (!this.ctx) return;
        this.run(code, 'repl', this.stats.replErrors);
        if (this.stopped) return;
      } else this.line += String.fromCharCode(b);
    }
  }

  private boardWrite(name: string, bytes: Buffer): void {
    if (this.stopped || name !== this.hostLink || bytes.length === 0) return;
    this.stats.bytesOut += bytes.length;
    for (const f of this.outFrames.push(bytes)) {
      const kind = MESSAGE_NAMES[f.type] ?? `0x${f.type.toString(16)}`;
      this.stats.framesOut[kind] = (this.stats.framesOut[kind] ?? 0) + 1;
      const sent = (this.stats.sentAtMs[kind] ??= []);
      if (sent.length < SENT_AT_KEPT) sent.push(this.nowMs());
    }
    for (const cb of this.outListeners) cb(Buffer.from(bytes));
  }

  private clearTimers(): void {
    for (const t of this.timers) {
      clearTimeout(t);
      clearInterval(t);
    }
    this.timers.clear();
  }
}

/**
 * Hardware-in-the-loop rig: a reference board driven through johnny-five sets the voltage on the
 * board-under-test's analog input (PWM through an RC filter) and power-cycles it (relay or reset
 * line). johnny-five always gets an IO object: its bundled serialport@8 is not built here, so we
 * open the port ourselves with serialport 13 and hand the stream to Firmata.
 */
import { ProvenantError } from '../../shared/errors.js';

/** The part of a johnny-five IO plugin the rig relies on (Firmata, or a stand-in in tests). */
export interface HilIo {
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  once(event: string, listener: (...args: unknown[]) => void): unknown;
  emit(event: string, ...args: unknown[]): boolean;
  pinMode(pin: number, mode: number): unknown;
  analogWrite(pin: number, value: number): unknown;
  digitalWrite(pin: number, value: number): unknown;
}

/** Options of HilRig: an IO plugin, or the reference board's serial port to open Firmata on. */
export interface HilRigOptions {
  readonly io?: HilIo;
  readonly path?: string;
  readonly baudRate?: number;
  /** How long johnny-five waits for the board's 'ready' (default 10 s). */
  readonly timeoutMs?: number;
}

/** What the rig uses of a johnny-five Board (the library ships no types). */
interface J5Board {
  MODES: { OUTPUT: number; PWM: number };
  RESOLUTION: { PWM: number };
  pinMode(pin: number, mode: number): void;
  analogWrite(pin: number, value: number): void;
  digitalWrite(pin: number, value: number): void;
  once(event: string, listener: (arg?: unknown) => void): void;
}
type J5 = { Board: new (opts: Record<string, unknown>) => J5Board };

/** Lazily imported CommonJS modules without type declarations (a variable specifier keeps tsc from looking). */
async function load<T>(name: string): Promise<T> {
  const mod = (await import(name)) as { default?: T };
  return (mod.default ?? mod) as T;
}

function checkPin(pin: number): void {
  if (!Number.isInteger(pin) || pin < 0) throw new RangeError(`pin must be a non-negative integer, got ${pin}`);
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Drives a reference board through johnny-five; opens nothing until first used. */
export class HilRig {
  private board?: Promise<J5Board>;
  private port?: { isOpen: boolean; close(cb: () => void): void };

  constructor(private readonly opts: HilRigOptions) {
    if (!opts.io && !opts.path) throw new TypeError('HilRig needs an IO plugin (io) or the reference board port (path)');
  }

  /** Resolves once johnny-five reports the reference board ready. */
  ready(): Promise<void> {
    return this.open().then(() => undefined);
  }

  /** Sets the stimulus pin's PWM duty to `value` (0..1 of full scale). */
  async stimulus(pin: number, value: number): Promise<void> {
    checkPin(pin);
    if (!Number.isFinite(value) || value < 0 || value > 1) throw new RangeError(`stimulus value must be in 0..1, got ${value}`);
    const b = await this.open();
    b.pinMode(pin, b.MODES.PWM);
    b.analogWrite(pin, Math.round(value * b.RESOLUTION.PWM));
  }

  /** Pulls the power/reset line low for `offMs`, then high again. */
  async powerCycle(pin: number, offMs: number): Promise<void> {
    checkPin(pin);
    if (!Number.isFinite(offMs) || offMs < 0) throw new RangeError(`offMs must be a non-negative number, got ${offMs}`);
    const b = await this.open();
    b.pinMode(pin, b.MODES.OUTPUT);
    b.digitalWrite(pin, 0);
    await sleep(offMs);
    b.digitalWrite(pin, 1);
  }

  /** Closes the serial port the rig opened (an IO plugin given by the caller is left alone). */
  async close(): Promise<void> {
    const port = this.port;
    this.port = undefined;
    this.board = undefined;
    if (port?.isOpen) await new Promise<void>((r) => port.close(() => r()));
  }

  private open(): Promise<J5Board> {
    this.board ??= this.connect();
    return this.board;
  }

  private async connect(): Promise<J5Board> {
    const io = this.opts.io ?? (await this.firmata());
    const five = await load<J5>('johnny-five');
    const board = new five.Board({ io, repl: false, debug: false });
    const timeoutMs = this.opts.timeoutMs ?? 10_000;
    let timer: NodeJS.Timeout | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        const fail = (e: unknown) =>
          reject(new ProvenantError('PROV_ERR_HIL', `reference board not ready: ${(e as Error).message}`, { field: 'io' }));
        board.once('ready', () => resolve());
        board.once('error', fail);
        // Before 'ready' johnny-five does not listen for IO errors; an unheard 'error' event would throw.
        io.once('error', fail);
        // johnny-five's own timeout starts on the IO's 'connect', which a port opened before Firmata never sends.
        timer = setTimeout(() => fail(new Error(`no Firmata answer within ${timeoutMs} ms`)), timeoutMs);
      });
    } catch (e) {
      await this.close();
      throw e;
    } finally {
      clearTimeout(timer);
    }
    return board;
  }

  /** Opens the reference board's port (serialport 13) first, so a missing port is an error, not a crash. */
  private async firmata(): Promise<HilIo> {
    const { SerialPort } = await import('serialport');
    const path = this.opts.path as string;
    const port = new SerialPort({ path, baudRate: this.opts.baudRate ?? 57600, autoOpen: false });
    await new Promise<void>((resolve, reject) =>
      port.open((err) =>
        err
          ? reject(new ProvenantError('PROV_ERR_PORT', `cannot open reference board port ${path}: ${err.message}`, { field: 'path' }))
          : resolve(),
      ),
    );
    this.port = port;
    const bind = await load<{ Firmata: new (transport: unknown) => HilIo }>('firmata-io');
    return new bind.Firmata(port);
  }
}

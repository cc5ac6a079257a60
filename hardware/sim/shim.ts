/**
 * A thin Espruino shim for Node's `vm`: the built-ins the firmware touches (require("crypto")
 * .SHA256, require("Storage"), E.*, getTime/setTime, timers, pins, NRF, the serial objects)
 * and the REPL helpers the flasher's upload uses (reset, load, print). It is a stand-in for a
 * board, not an Espruino: it runs the same ES5 bundle, but with V8 and Node's SHA-256.
 */
import { createHash, randomInt } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import vm from 'node:vm';
import { toBytes, type SimStorage } from './storage.js';

/** What the shim asks of the board that hosts it. */
export interface ShimHost {
  readonly storage: SimStorage;
  /** Board clock in ms (honours setTime and the clock speed-up). */
  nowMs(): number;
  setNowMs(ms: number): void;
  /** Real-time delay for `ms` of board time. */
  realDelay(ms: number): number;
  /** Bytes the board writes to serial object `name`. */
  write(name: string, bytes: Buffer): void;
  setupSerial(name: string, baud: number, options: unknown): void;
  setConsole(name: string | null): void;
  getConsole(): string | null;
  /** print()/console.log() output: goes wherever the console is. */
  print(text: string): void;
  /** Called when code in the context throws from a timer or event. */
  uncaught(err: unknown): void;
  reset(): void;
  load(): void;
  sensors: { temperature(): number; analog(pin: string): number; vref(): number; battery(): number; pin(pin: string): number };
  /** Wall time (ms) a timer callback of the firmware took: the benchmark's per-reading cost. */
  busy(ms: number): void;
  /** SHA-256 accounting for the benchmark. */
  hashed(bytes: number): void;
}

/** A serial object inside the context, with its registered 'data' listeners. */
export interface ShimSerial {
  readonly name: string;
  listeners: ((data: string) => void)[];
}

/** A fresh context with the Espruino globals, and its serial objects by name. */
export function createContext(host: ShimHost): { ctx: vm.Context; serials: Map<string, ShimSerial>; timers: Set<NodeJS.Timeout> } {
  const timers = new Set<NodeJS.Timeout>();
  const serials = new Map<string, ShimSerial>();
  const sandbox: Record<string, unknown> = {};
  const ctx = vm.createContext(sandbox, { name: 'espruino-sim' });
  const U8 = vm.runInContext('Uint8Array', ctx) as Uint8ArrayConstructor;
  const vmBytes = (b: Buffer): Uint8Array => {
    const out = new U8(b.length);
    out.set(b);
    return out;
  };
  const guard = (fn: () => void) => () => {
    const t0 = performance.now();
    try {
      fn();
    } catch (err) {
      host.uncaught(err);
    }
    host.busy(performance.now() - t0);
  };
  const timerId = (t: NodeJS.Timeout) => {
    timers.add(t);
    return t;
  };
  // As on Espruino: no id clears every timer; an id that is not live (cleared, or a timeout
  // that already fired) throws — firmware that double-clears must fail here, not on a board.
  const clear = (t: unknown) => {
    if (t === undefined) {
      for (const x of timers) clearTimeout(x);
      timers.clear();
      return;
    }
    if (!timers.has(t as NodeJS.Timeout)) throw new Error('Unknown Timeout');
    clearTimeout(t as NodeJS.Timeout);
    clearInterval(t as NodeJS.Timeout);
    timers.delete(t as NodeJS.Timeout);
  };
  const storage = host.storage;
  const storageLib = {
    read: (name: string) => storage.get(name)?.toString('latin1'),
    readJSON: (name: string, noExceptions?: boolean) => {
      const b = storage.get(name);
      if (!b) return undefined;
      try {
        return vm.runInContext(`(${b.toString('latin1')})`, ctx);
      } catch (e) {
        if (noExceptions) return undefined;
        throw e;
      }
    },
    readArrayBuffer: (name: string) => {
      const b = storage.get(name);
      return b ? vmBytes(b).buffer : undefined;
    },
    write: (name: string, data: unknown, offset?: number, size?: number) => {
      const bytes = toBytes(data);
      if (bytes.length === 0) return false;
      if (offset === undefined || offset === 0) {
        if (size !== undefined && size > bytes.length) {
          const f = Buffer.alloc(size, 0xff);
          bytes.copy(f, 0);
          storage.set(name, f);
        } else storage.set(name, bytes);
      } else {
        const f = storage.get(name);
        if (!f || offset + bytes.length > f.length) throw new Error(`Storage.write: ${name} too small for offset ${offset}`);
        const copy = Buffer.from(f);
        bytes.copy(copy, offset);
        storage.set(name, copy);
      }
      return true;
    },
    writeJSON: (name: string, data: unknown) => storageLib.write(name, JSON.stringify(data)),
    erase: (name: string) => storage.erase(name),
    list: () => vm.runInContext('(function(a){return a})', ctx)(storage.list()),
    getFree: () => 1 << 20,
    compact: () => undefined,
  };
  const crypto = {
    SHA256: (data: unknown) => {
      const bytes = toBytes(data);
      host.hashed(bytes.length);
      return vmBytes(createHash('sha256').update(bytes).digest()).buffer;
    },
  };
  const makeSerial = (name: string) => {
    const s: ShimSerial = { name, listeners: [] };
    serials.set(name, s);
    return {
      on: (ev: string, cb: (data: string) => void) => {
        if (ev === 'data') s.listeners.push(cb);
      },
      removeAllListeners: () => {
        s.listeners = [];
      },
      write: (...items: unknown[]) => {
        for (const it of items) host.write(name, toBytes(it));
      },
      print: (str: unknown) => host.write(name, toBytes(String(str))),
      println: (str: unknown) => host.write(name, toBytes(`${String(str)}\r\n`)),
      setup: (baud: number, options: unknown) => host.setupSerial(name, baud, options),
      setConsole: () => host.setConsole(name),
    };
  };
  Object.assign(sandbox, {
    global: sandbox,
    require: (name: string) => {
      if (name === 'crypto') return crypto;
      if (name === 'Storage') return storageLib;
      throw new Error(`Module ${name} not found`);
    },
    getTime: () => host.nowMs() / 1000,
    setTime: (s: number) => host.setNowMs(s * 1000),
    setTimeout: (fn: () => void, ms?: number) => {
      const t = setTimeout(
        () => {
          timers.delete(t);
          guard(fn)();
        },
        host.realDelay(ms ?? 0),
      );
      return timerId(t);
    },
    setInterval: (fn: () => void, ms?: number) => timerId(setInterval(guard(fn), host.realDelay(Math.max(1, ms ?? 0)))),
    clearTimeout: clear,
    clearInterval: clear,
    analogRead: (pin: string) => host.sensors.analog(String(pin)),
    digitalRead: (pin: string) => host.sensors.pin(String(pin)),
    atob: (s: string) => Buffer.from(s, 'base64').toString('latin1'),
    btoa: (s: string) => Buffer.from(s, 'latin1').toString('base64'),
    print: (...args: unknown[]) => host.print(`${args.map(String).join(' ')}\r\n`),
    console: { log: (...args: unknown[]) => host.print(`${args.map(String).join(' ')}\r\n`) },
    reset: () => host.reset(),
    load: () => host.load(),
    E: {
      getTemperature: () => host.sensors.temperature(),
      getAnalogVRef: () => host.sensors.vref(),
      toUint8Array: (...items: unknown[]) => vmBytes(Buffer.concat(items.map(toBytes))),
      // E.toString(data...): the bytes as a binary string (the flasher's Storage check uses it).
      toString: (...items: unknown[]) => Buffer.concat(items.map(toBytes)).toString('latin1'),
      setConsole: (dev: string | null) => host.setConsole(dev === null || dev === undefined ? null : String(dev)),
      getConsole: () => host.getConsole(),
      setFlags: () => undefined,
      hwRand: () => randomInt(0, 2 ** 32),
      on: () => undefined,
    },
    NRF: { getBattery: () => host.sensors.battery() },
    Puck: { getBatteryPercentage: () => Math.round(((host.sensors.battery() - 2.0) / 1.0) * 100) },
    USB: makeSerial('USB'),
    Serial1: makeSerial('Serial1'),
    Serial2: makeSerial('Serial2'),
    Bluetooth: makeSerial('Bluetooth'),
    LoopbackA: makeSerial('LoopbackA'),
    LoopbackB: makeSerial('LoopbackB'),
    process: { env: { VERSION: '2v25', BOARD: 'SIM' } },
  });
  return { ctx, serials, timers };
}

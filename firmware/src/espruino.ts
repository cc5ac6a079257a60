/**
 * The one seam between the firmware and Espruino's built-ins: every global the board offers
 * (E, getTime, Storage, crypto, the serial and BLE objects, pins) is touched here and nowhere
 * else. The declarations are module-local so they never leak into the Node typecheck, and the
 * simulated board (hardware/sim) provides exactly these names.
 */
import type { Sha256 } from '../../shared/types.js';

/** The Storage library's subset the firmware uses. */
export interface StorageLib {
  read(name: string): string | undefined;
  readArrayBuffer(name: string): ArrayBuffer | undefined;
  write(name: string, data: string | Uint8Array, offset?: number, size?: number): boolean;
  erase(name: string): void;
}

/** A serial-like object: USB, Serial1/2, Bluetooth (Nordic UART), LoopbackA. */
export interface EspSerial {
  on(event: 'data', cb: (data: string) => void): void;
  write(data: Uint8Array): void;
  setup?(baud: number, options: object): void;
  setConsole?(force?: boolean): void;
}

declare function require(name: 'crypto'): { SHA256(data: Uint8Array): ArrayBuffer };
declare function require(name: 'Storage'): StorageLib;
declare function getTime(): number;
declare function atob(b64: string): string;
declare function setTimeout(fn: () => void, ms: number): number;
declare function setInterval(fn: () => void, ms: number): number;
declare function clearTimeout(id: number): void;
declare function analogRead(pin: unknown): number;
declare function digitalRead(pin: unknown): number;
declare const global: { [name: string]: unknown };
declare const E: {
  getTemperature(): number;
  getAnalogVRef(): number;
  toUint8Array(data: string): Uint8Array;
  setConsole(device: string | null, options?: { force?: boolean }): void;
  getConsole(): string | null;
  hwRand(): number;
};
declare const NRF: { getBattery(): number };

const crypto = require('crypto');

/** Native SHA-256, wrapped: Espruino returns an ArrayBuffer, shared/ wants a Uint8Array. */
export const sha256: Sha256 = function (data) {
  return new Uint8Array(crypto.SHA256(data));
};

/** The board's flash file system. */
export const storage: StorageLib = require('Storage');

/** Runs `fn` once after `ms`; returns a timer id. */
export function after(ms: number, fn: () => void): number {
  return setTimeout(fn, ms);
}

/** Runs `fn` every `ms`; returns a timer id (an alias of setInterval, not a wrapper: fewer bytes). */
export const every: (fn: () => void, ms: number) => number = setInterval;

/** Cancels a timer from after() or every() (Espruino's clearTimeout and clearInterval are one); an alias, not a wrapper: fewer bytes. */
export const cancel: (id: number) => void = clearTimeout;

/**
 * Espruino's clock (getTime) in whole ms. The firmware never calls setTime, so this only runs
 * forward: clock.ts measures uptime on it and keeps the wall-clock offset itself.
 */
export function nowMs(): number {
  return Math.floor(getTime() * 1000);
}

/** Internal temperature in centi-degrees C. */
export function temperatureCenti(): number {
  return Math.round(E.getTemperature() * 100);
}

/**
 * The global a profile names: a Pin ("A5", "BTN": Espruino's pins and their aliases are
 * globals) or a serial object ("Serial1"); the name itself when there is no such global.
 */
function pinOf(name: string): unknown {
  const p = global[name];
  return p === undefined ? name : p;
}

/** Analog pin reading 0..1 as an integer 0..10000 (scale -4). */
export function analogTenThousandths(pin: string): number {
  return Math.round(analogRead(pinOf(pin)) * 10000);
}

/** Battery (or supply) voltage in mV by the board's method; 0 when it has none. */
export function batteryMv(method: string): number {
  const v = method === 'nrf' ? NRF.getBattery() : method === 'vref' ? E.getAnalogVRef() : 0;
  const mv = Math.round(v * 1000);
  return mv > 0 && mv < 65536 ? mv : 0;
}

/** True when `pin` reads high (a button held at boot). */
export function pinHigh(pin: string): boolean {
  return digitalRead(pinOf(pin)) === 1;
}

/** 32 bits of hardware noise (Espruino's E.hwRand: the voltage reference read several times, mixed). */
export function hwRandom(): number {
  return E.hwRand();
}

/** Bytes of a base64 string (the board's built-in atob); throws on bad base64. */
export function base64Bytes(b64: string): Uint8Array {
  return E.toUint8Array(atob(b64));
}

/** Bytes of a 'data' event (Espruino delivers binary strings); E.toUint8Array itself, which needs no `this`. */
export const dataBytes: (data: string) => Uint8Array = E.toUint8Array;

/** The serial object for a link name (USB, Serial1, Serial2, Bluetooth are Espruino globals). */
export const linkObject = pinOf as (name: string) => EspSerial;

/**
 * Moves the console (REPL) off the data link. Development: onto nothing only while the link is
 * the console device, not forced (plugging USB in brings it back). Production: onto nothing,
 * forced — no byte on any link reaches the interpreter until a MAINT unlock or a reboot with
 * the button held.
 */
export function consoleOff(link: string, production: boolean): void {
  if (production) E.setConsole(null, { force: true });
  else if (E.getConsole() === link) E.setConsole(null);
}

/** Puts the console back on the data link (MAINT unlock), forced so it stays there. */
export function consoleOn(link: string): void {
  E.setConsole(link, { force: true });
}

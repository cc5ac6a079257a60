/**
 * Canonical bytes of a reading (BRIEF §4). The device HMACs these bytes and the ledger stores
 * SHA-256 of them as dataHash, so they must be byte-identical on Espruino and on Node: one
 * representation per reading, big-endian, no floats, length-prefixed variable fields.
 *
 * Layout, version 1 (offsets in bytes, L = deviceId length, n = channel count):
 *
 *   0        u8   version (1)
 *   1        u8   L, 1..64
 *   2        L    deviceId, printable ASCII 0x21..0x7e
 *   2+L      u32  seq
 *   6+L      u32  t, high 32 bits (ms since the Unix epoch; t < 2^53)
 *   10+L     u32  t, low 32 bits
 *   14+L     u32  epoch
 *   18+L     u8   partialDigest length (32)
 *   19+L     32   partialDigest
 *   51+L     u16  battery mV
 *   53+L     u8   n, 0..16
 *   54+L     6n   channels, ids strictly increasing: u8 id, i8 scale, i32 value
 *
 * Total 54 + L + 6n bytes, at most 214, so a READING frame (bytes + 32-byte tag) fits the
 * wire protocol's 255-byte payload.
 *
 * ES5-safe: Uint8Array and plain arithmetic only (no BigInt, DataView, TextEncoder, Buffer).
 */
import { ProvenantError } from '../errors.js';
import type { ChannelValue, Reading } from '../types.js';
import { asciiBytes, asciiString } from './bytes.js';

/** Version byte of the current layout. */
export const READING_VERSION = 1;
/** Longest deviceId in bytes. */
export const MAX_DEVICE_ID_BYTES = 64;
/** Most channels a reading may carry. */
export const MAX_CHANNELS = 16;
/** Length of partialDigest (SHA-256). */
export const PARTIAL_DIGEST_BYTES = 32;
/** Largest canonical reading in bytes. */
export const MAX_READING_BYTES = 54 + MAX_DEVICE_ID_BYTES + 6 * MAX_CHANNELS;
/** Error code for canonical bytes that do not decode. */
export const ERR_MALFORMED_READING = 'PROV_ERR_MALFORMED_READING';

const TWO_32 = 4294967296;
const MAX_T = 9007199254740991; // 2^53 - 1

function checkUint(value: number, max: number, field: string): void {
  if (typeof value !== 'number' || value !== Math.floor(value) || value < 0 || value > max) {
    throw new RangeError(`reading.${field}: expected an integer 0..${max}, got ${String(value)}`);
  }
}

function checkInt(value: number, min: number, max: number, field: string): void {
  if (typeof value !== 'number' || value !== Math.floor(value) || value < min || value > max) {
    throw new RangeError(`reading.${field}: expected an integer ${min}..${max}, got ${String(value)}`);
  }
}

function checkDeviceId(id: string): Uint8Array {
  if (typeof id !== 'string') throw new TypeError('reading.deviceId: expected a string');
  if (id.length < 1 || id.length > MAX_DEVICE_ID_BYTES) {
    throw new RangeError(`reading.deviceId: length must be 1..${MAX_DEVICE_ID_BYTES}, got ${id.length}`);
  }
  const bytes = asciiBytes(id, 'reading.deviceId');
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] === 0x20) throw new RangeError(`reading.deviceId: space at ${i}`);
  }
  return bytes;
}

function putU32(out: Uint8Array, off: number, v: number): void {
  out[off] = (v >>> 24) & 255;
  out[off + 1] = (v >>> 16) & 255;
  out[off + 2] = (v >>> 8) & 255;
  out[off + 3] = v & 255;
}

function getU32(b: Uint8Array, off: number): number {
  return (((b[off] as number) << 24) >>> 0) + ((b[off + 1] as number) << 16) + ((b[off + 2] as number) << 8) + (b[off + 3] as number);
}

/**
 * Canonical bytes of `r`. Throws RangeError/TypeError naming the offending field, so a bad
 * reading never gets signed.
 */
export function encodeReading(r: Reading): Uint8Array {
  const id = checkDeviceId(r.deviceId);
  checkUint(r.seq, 0xffffffff, 'seq');
  checkUint(r.t, MAX_T, 't');
  checkUint(r.epoch, 0xffffffff, 'epoch');
  checkUint(r.batteryMv, 0xffff, 'batteryMv');
  if (!(r.partialDigest instanceof Uint8Array)) throw new TypeError('reading.partialDigest: expected Uint8Array');
  if (r.partialDigest.length !== PARTIAL_DIGEST_BYTES) {
    throw new RangeError(`reading.partialDigest: expected ${PARTIAL_DIGEST_BYTES} bytes, got ${r.partialDigest.length}`);
  }
  const ch = r.channels;
  if (!ch || typeof ch.length !== 'number') throw new TypeError('reading.channels: expected an array');
  if (ch.length > MAX_CHANNELS) throw new RangeError(`reading.channels: at most ${MAX_CHANNELS}, got ${ch.length}`);

  const L = id.length;
  const out = new Uint8Array(54 + L + 6 * ch.length);
  out[0] = READING_VERSION;
  out[1] = L;
  out.set(id, 2);
  let o = 2 + L;
  putU32(out, o, r.seq);
  putU32(out, o + 4, Math.floor(r.t / TWO_32));
  putU32(out, o + 8, r.t % TWO_32);
  putU32(out, o + 12, r.epoch);
  out[o + 16] = PARTIAL_DIGEST_BYTES;
  out.set(r.partialDigest, o + 17);
  o += 49;
  out[o] = (r.batteryMv >>> 8) & 255;
  out[o + 1] = r.batteryMv & 255;
  out[o + 2] = ch.length;
  o += 3;
  let prevId = -1;
  for (let i = 0; i < ch.length; i++) {
    const c = ch[i] as ChannelValue;
    checkUint(c.id, 255, `channels[${i}].id`);
    if (c.id <= prevId) throw new RangeError(`reading.channels[${i}].id: ids must be strictly increasing`);
    prevId = c.id;
    checkInt(c.scale, -128, 127, `channels[${i}].scale`);
    checkInt(c.value, -2147483648, 2147483647, `channels[${i}].value`);
    out[o] = c.id;
    out[o + 1] = c.scale & 255;
    putU32(out, o + 2, c.value >>> 0);
    o += 6;
  }
  return out;
}

function malformed(message: string, field: string): ProvenantError {
  return new ProvenantError(ERR_MALFORMED_READING, `malformed reading: ${message}`, { field });
}

/**
 * Strict decoder: the inverse of encodeReading for exactly the bytes it produces. Truncated,
 * oversized, unknown-version and out-of-range input raise a ProvenantError
 * (PROV_ERR_MALFORMED_READING) whose message and `details.field` name the problem.
 */
export function decodeReading(b: Uint8Array): Reading {
  if (!(b instanceof Uint8Array)) throw new TypeError('decodeReading: expected Uint8Array');
  if (b.length > MAX_READING_BYTES) throw malformed(`${b.length} bytes exceeds the maximum ${MAX_READING_BYTES}`, 'length');
  if (b.length < 1) throw malformed('empty input', 'version');
  if (b[0] !== READING_VERSION) throw malformed(`unknown version ${String(b[0])}`, 'version');
  if (b.length < 2) throw malformed('truncated before deviceId length', 'deviceId');
  const L = b[1] as number;
  if (L < 1 || L > MAX_DEVICE_ID_BYTES) throw malformed(`deviceId length ${L} out of range 1..${MAX_DEVICE_ID_BYTES}`, 'deviceId');
  if (b.length < 54 + L) throw malformed(`truncated: ${b.length} bytes, header needs ${54 + L}`, 'length');
  for (let i = 0; i < L; i++) {
    const c = b[2 + i] as number;
    if (c < 0x21 || c > 0x7e) throw malformed(`deviceId byte ${i} is not printable ASCII`, 'deviceId');
  }
  const deviceId = asciiString(b.subarray(2, 2 + L));
  let o = 2 + L;
  const seq = getU32(b, o);
  const tHi = getU32(b, o + 4);
  if (tHi > 0x1fffff) throw malformed('t exceeds 2^53 - 1', 't');
  const t = tHi * TWO_32 + getU32(b, o + 8);
  const epoch = getU32(b, o + 12);
  if (b[o + 16] !== PARTIAL_DIGEST_BYTES) throw malformed(`partialDigest length ${String(b[o + 16])}, expected 32`, 'partialDigest');
  const partialDigest = b.slice(o + 17, o + 49);
  o += 49;
  const batteryMv = ((b[o] as number) << 8) | (b[o + 1] as number);
  const n = b[o + 2] as number;
  if (n > MAX_CHANNELS) throw malformed(`${n} channels exceeds ${MAX_CHANNELS}`, 'channels');
  o += 3;
  const expected = o + 6 * n;
  if (b.length < expected) throw malformed(`truncated: ${b.length} bytes, ${n} channels need ${expected}`, 'length');
  if (b.length > expected) throw malformed(`${b.length - expected} trailing bytes`, 'length');
  const channels: ChannelValue[] = [];
  let prevId = -1;
  for (let i = 0; i < n; i++) {
    const id = b[o] as number;
    if (id <= prevId) throw malformed(`channel ids not strictly increasing at ${i}`, 'channels');
    prevId = id;
    const s = b[o + 1] as number;
    const scale = s > 127 ? s - 256 : s;
    const value = getU32(b, o + 2) | 0;
    channels.push({ id, scale, value });
    o += 6;
  }
  return { deviceId, seq, t, epoch, partialDigest, batteryMv, channels };
}

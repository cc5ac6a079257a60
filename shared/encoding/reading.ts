/**
 * Canonical bytes of a reading (BRIEF §4). The device MACs these bytes and the ledger stores
 * SHA-256 of them as dataHash, so they must be byte-identical on Espruino and on Node: one
 * representation per reading, big-endian, no floats, length-prefixed variable fields.
 *
 * Layout, version 2 (the board's; offsets in bytes, L = deviceId length, n = channel count):
 *
 *   0        u8   version (2)
 *   1        u8   L, 1..64
 *   2        L    deviceId, printable ASCII 0x21..0x7e
 *   2+L      u32  seq
 *   6+L      u32  t, high 32 bits (ms since the Unix epoch; t < 2^53)
 *   10+L     u32  t, low 32 bits
 *   14+L     u32  epoch
 *   18+L     u8   partialDigest length (32)
 *   19+L     32   partialDigest
 *   51+L     u16  battery mV
 *   53+L     u32  bootCount: the board's boot counter (Storage pv.boot)
 *   57+L     u40  uptimeMs: ms since this boot, from the board's own clock (never set by the edge),
 *                 at most 10^12 (31.7 years)
 *   62+L     u8   n, 0..16
 *   63+L     6n   channels, ids strictly increasing: u8 id, i8 scale, i32 value
 *
 * Total 63 + L + 6n bytes, at most 223, so a READING frame (bytes + 32-byte tag) fits the wire
 * protocol's 255-byte payload exactly (the reason uptime is 40 bits).
 * Version 1 (before boot count and uptime) is the same without the two fields at 53+L: 54 + L +
 * 6n bytes. Readings with `bootCount` and `uptimeMs` encode as version 2, readings without both
 * as version 1 (kept so old records and vectors still decode and hash); decodeReading reads
 * both. The tag of a version 2 reading is HMAC-SHA256(K_tag, "pv2:r" ‖ bytes)
 * (shared/crypto/domains.ts); version 1 tags were HMAC-SHA256(K_IoT, bytes).
 *
 * ES5-safe: Uint8Array and plain arithmetic only (no BigInt, DataView, TextEncoder, Buffer).
 */
import { ProvenantError } from '../errors.js';
import type { ChannelValue, Reading } from '../types.js';
import { asciiString } from './bytes.js';

/** Version byte of the current layout (what the board sends). */
export const READING_VERSION = 2;
/** Version byte of the first layout (no boot count or uptime): decodes, no longer produced by boards. */
export const READING_VERSION_1 = 1;
/** Longest deviceId in bytes. */
export const MAX_DEVICE_ID_BYTES = 64;
/** Most channels a reading may carry. */
export const MAX_CHANNELS = 16;
/** Length of partialDigest (SHA-256). */
export const PARTIAL_DIGEST_BYTES = 32;
/** Largest canonical reading in bytes (version 2). */
export const MAX_READING_BYTES = 63 + MAX_DEVICE_ID_BYTES + 6 * MAX_CHANNELS;
/** Largest uptimeMs: 10^12 ms (31.7 years), within u40 and a short literal on the board. */
export const MAX_UPTIME_MS = 1e12;
/** Error code for canonical bytes that do not decode. */
export const ERR_MALFORMED_READING = 'PROV_ERR_MALFORMED';

const TWO_32 = 4294967296;
const MAX_T = 9007199254740991; // 2^53 - 1

/**
 * The one range check of the encoder: `v` must be an integer min..max. `ch` is the channel
 * index for channel fields; the message is only built when it throws (the board's bundle drops
 * it altogether, firmware/build.ts).
 */
function int(v: number, min: number, max: number, field: string, ch?: number): number {
  // v !== Math.floor(v) is true for NaN and for anything that is not a number.
  if (v !== Math.floor(v) || v < min || v > max) {
    const name = ch === undefined ? field : 'channels[' + ch + '].' + field;
    throw new RangeError('reading.' + name + ': expected an integer ' + min + '..' + max + ', got ' + String(v));
  }
  return v;
}

/**
 * Appends `v` (an integer 0..2^53-1) big-endian in `n` bytes (exact: dividing by 256^j is exact
 * in binary floating point). Exported for the board's wire codec, which writes the same way.
 */
export function put(out: number[], v: number, n: number): void {
  for (let j = n - 1; j >= 0; j--) out.push(Math.floor(v / Math.pow(256, j)) % 256);
}

/** Appends a u8 length and the character codes of `s` (callers pass ASCII they validated). */
export function putStr(out: number[], s: string): void {
  out.push(s.length);
  for (let i = 0; i < s.length; i++) out.push(s.charCodeAt(i));
}

function getU32(b: Uint8Array, off: number): number {
  return (((b[off] as number) << 24) >>> 0) + ((b[off + 1] as number) << 16) + ((b[off + 2] as number) << 8) + (b[off + 3] as number);
}

/**
 * Canonical bytes of `r`: version 2 when it has bootCount or uptimeMs, else version 1. Throws
 * RangeError/TypeError naming the offending field, so a bad reading never gets signed.
 */
export function encodeReading(r: Reading): Uint8Array {
  const id = r.deviceId;
  if (typeof id !== 'string') throw new TypeError('reading.deviceId: expected a string');
  if (id.length < 1 || id.length > MAX_DEVICE_ID_BYTES) {
    throw new RangeError('reading.deviceId: length must be 1..' + MAX_DEVICE_ID_BYTES + ', got ' + id.length);
  }
  for (let i = 0; i < id.length; i++) {
    const c = id.charCodeAt(i);
    if (c < 0x21 || c > 0x7e) {
      throw new RangeError('reading.deviceId: ' + (c === 0x20 ? 'space' : 'non-printable or non-ASCII character') + ' at ' + i);
    }
  }
  const d = r.partialDigest;
  if (!(d instanceof Uint8Array)) throw new TypeError('reading.partialDigest: expected Uint8Array');
  if (d.length !== PARTIAL_DIGEST_BYTES)
    throw new RangeError('reading.partialDigest: expected ' + PARTIAL_DIGEST_BYTES + ' bytes, got ' + d.length);
  const ch = r.channels;
  if (!ch || typeof ch.length !== 'number') throw new TypeError('reading.channels: expected an array');
  if (ch.length > MAX_CHANNELS) throw new RangeError('reading.channels: at most ' + MAX_CHANNELS + ', got ' + ch.length);
  let prevId = -1;
  for (let i = 0; i < ch.length; i++) {
    const c = ch[i] as ChannelValue;
    if (int(c.id, 0, 255, 'id', i) <= prevId) throw new RangeError('reading.channels[' + i + '].id: ids must be strictly increasing');
    prevId = c.id;
  }
  return encodeReadingAs(r, r.bootCount !== undefined || r.uptimeMs !== undefined);
}

/**
 * Canonical bytes of `r` as version 2 (`v2` true: bootCount and uptimeMs required) or 1, checking
 * every number's range (t past 2^53, a NaN sensor value...) but not the shape that
 * encodeReading checks first: deviceId characters and length, a 32-byte partialDigest, at most
 * 16 channels with increasing ids. The board calls it directly (always `v2` true, so the minifier
 * drops the version 1 branches): its deviceId was validated at provisioning, its digest comes
 * from a decoded PARTIAL and its channel ids are constants, and the 8 KB budget has no room to
 * check them again per sample. Written as one pass appending to a plain array, about half the
 * size of per-field writers.
 */
export function encodeReadingAs(r: Reading, v2: boolean): Uint8Array {
  const id = r.deviceId;
  const out = [v2 ? READING_VERSION : READING_VERSION_1];
  putStr(out, id);
  put(out, int(r.seq, 0, 0xffffffff, 'seq'), 4);
  put(out, int(r.t, 0, MAX_T, 't'), 8);
  put(out, int(r.epoch, 0, 0xffffffff, 'epoch'), 4);
  out.push(PARTIAL_DIGEST_BYTES);
  for (let i = 0; i < PARTIAL_DIGEST_BYTES; i++) out.push(r.partialDigest[i] as number);
  put(out, int(r.batteryMv, 0, 0xffff, 'batteryMv'), 2);
  if (v2) {
    put(out, int(r.bootCount as number, 0, 0xffffffff, 'bootCount'), 4);
    put(out, int(r.uptimeMs as number, 0, MAX_UPTIME_MS, 'uptimeMs'), 5);
  }
  const ch = r.channels;
  out.push(ch.length);
  for (let i = 0; i < ch.length; i++) {
    const c = ch[i] as ChannelValue;
    out.push(int(c.id, 0, 255, 'id', i), int(c.scale, -128, 127, 'scale', i) & 255);
    put(out, int(c.value, -2147483648, 2147483647, 'value', i) >>> 0, 4);
  }
  return new Uint8Array(out);
}

function malformed(message: string, field: string): ProvenantError {
  return new ProvenantError(ERR_MALFORMED_READING, `malformed reading: ${message}`, { field });
}

/**
 * Strict decoder: the inverse of encodeReading for exactly the bytes it produces (version 2, or
 * version 1 for old records; a v1 reading comes back without bootCount and uptimeMs). Truncated,
 * oversized, unknown-version and out-of-range input raise a ProvenantError
 * (PROV_ERR_MALFORMED) whose message and `details.field` name the problem.
 */
export function decodeReading(b: Uint8Array): Reading {
  if (!(b instanceof Uint8Array)) throw new TypeError('decodeReading: expected Uint8Array');
  if (b.length > MAX_READING_BYTES) throw malformed(`${b.length} bytes exceeds the maximum ${MAX_READING_BYTES}`, 'length');
  if (b.length < 1) throw malformed('empty input', 'version');
  if (b[0] !== READING_VERSION && b[0] !== READING_VERSION_1) throw malformed(`unknown version ${String(b[0])}`, 'version');
  const v2 = b[0] === READING_VERSION;
  const header = v2 ? 63 : 54;
  if (b.length < 2) throw malformed('truncated before deviceId length', 'deviceId');
  const L = b[1] as number;
  if (L < 1 || L > MAX_DEVICE_ID_BYTES) throw malformed(`deviceId length ${L} out of range 1..${MAX_DEVICE_ID_BYTES}`, 'deviceId');
  if (b.length < header + L) throw malformed(`truncated: ${b.length} bytes, header needs ${header + L}`, 'length');
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
  o += 2;
  let bootCount = 0;
  let uptimeMs = 0;
  if (v2) {
    bootCount = getU32(b, o);
    uptimeMs = (b[o + 4] as number) * TWO_32 + getU32(b, o + 5);
    if (uptimeMs > MAX_UPTIME_MS) throw malformed(`uptimeMs ${uptimeMs} exceeds ${MAX_UPTIME_MS}`, 'uptimeMs');
    o += 9;
  }
  const n = b[o] as number;
  if (n > MAX_CHANNELS) throw malformed(`${n} channels exceeds ${MAX_CHANNELS}`, 'channels');
  o += 1;
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
  const reading: Reading = { deviceId, seq, t, epoch, partialDigest, batteryMv, channels };
  return v2 ? { ...reading, bootCount, uptimeMs } : reading;
}

/**
 * The fields the ledger needs from a reading's canonical bytes (version, deviceId, seq, t, epoch,
 * partialDigest, bootCount, uptimeMs), read in place on the hot path. shared/encoding/reading.ts
 * decodeReading is the one definition of well-formed bytes: the fast path here accepts only what
 * it accepts (layout version 2, every check it makes) and hands anything else to it, so a
 * malformed reading gets exactly its error and a reading of another version its fields
 * (test/contracts/reading-fields.test.ts compares the two on valid, mutated and random bytes).
 */
import { decodeReading } from '../../../shared/encoding/reading.js';
import { copyBytes, sameBytes } from './bytes.js';

/** What the contract reads from a reading. */
export interface ReadingFields {
  /** Layout version (the contract accepts only 2; 1 decodes, for its refusal to name it). */
  readonly version: number;
  readonly deviceId: string;
  readonly seq: number;
  readonly t: number;
  readonly epoch: number;
  /** The 32 bytes of partialDigest. */
  readonly partialDigest: Uint8Array;
  /** 0 for version 1. */
  readonly bootCount: number;
  /** 0 for version 1. */
  readonly uptimeMs: number;
}

// Layout version 2 of shared/encoding/reading.ts, spelled out here so that a new version there
// can never be read by this fast path (it falls through to decodeReading instead).
const V2 = 2;
const MAX_DEVICE_ID = 64;
const MAX_CHANNELS = 16;
const DIGEST = 32;
const HEADER = 63;
const MAX_V2_BYTES = HEADER + MAX_DEVICE_ID + 6 * MAX_CHANNELS;
const MAX_UPTIME_MS = 1e12;

/**
 * For well-formed version-2 bytes at b[at, at + len): the offset of seq (right after the
 * deviceId); -1 for anything else. Layout from there: u32 seq · u32 t high · u32 t low · u32
 * epoch · u8 32 · partialDigest[32] · u16 battery · u32 bootCount · u40 uptimeMs · u8 n · …
 */
export function v2FieldsAt(b: Uint8Array, at: number, len: number): number {
  if (len > MAX_V2_BYTES || len < 2 || b[at] !== V2) return -1;
  const L = b[at + 1] as number;
  if (L < 1 || L > MAX_DEVICE_ID || len < HEADER + L) return -1;
  for (let i = at + 2; i < at + 2 + L; i++) {
    const c = b[i] as number;
    if (c < 0x21 || c > 0x7e) return -1;
  }
  const o = at + 2 + L;
  if ((b[o + 4] as number) > 0 || (b[o + 5] as number) > 0x1f || b[o + 16] !== DIGEST) return -1;
  if (uptimeAt(b, o + 55) > MAX_UPTIME_MS) return -1;
  const n = b[o + 60] as number;
  if (n > MAX_CHANNELS || len !== HEADER + L + 6 * n) return -1;
  let prev = -1;
  for (let i = 0, c = o + 61; i < n; i++, c += 6) {
    const id = b[c] as number;
    if (id <= prev) return -1;
    prev = id;
  }
  return o;
}

const u32 = (b: Uint8Array, o: number): number =>
  (((b[o] as number) << 24) >>> 0) + ((b[o + 1] as number) << 16) + ((b[o + 2] as number) << 8) + (b[o + 3] as number);
/** The u40 at b[o, o + 5). */
const uptimeAt = (b: Uint8Array, o: number): number => (b[o] as number) * 0x1_0000_0000 + u32(b, o + 1);

/**
 * The fields of the canonical reading at bytes[at, at + len). Throws decodeReading's
 * PROV_ERR_MALFORMED error (naming the field) for bytes it refuses.
 */
export function readingFields(bytes: Buffer, at: number, len: number): ReadingFields {
  const o = v2FieldsAt(bytes, at, len);
  if (o >= 0) {
    return {
      version: V2,
      deviceId: bytes.toString('latin1', at + 2, o),
      seq: u32(bytes, o),
      t: u32(bytes, o + 4) * 0x1_0000_0000 + u32(bytes, o + 8),
      epoch: u32(bytes, o + 12),
      partialDigest: bytes.subarray(o + 17, o + 49),
      bootCount: u32(bytes, o + 51),
      uptimeMs: uptimeAt(bytes, o + 55),
    };
  }
  const r = decodeReading(bytes.subarray(at, at + len));
  return {
    version: bytes[at] as number,
    deviceId: r.deviceId,
    seq: r.seq,
    t: r.t,
    epoch: r.epoch,
    partialDigest: r.partialDigest,
    bootCount: r.bootCount ?? 0,
    uptimeMs: r.uptimeMs ?? 0,
  };
}

/** A batch's readings decoded into columns (no object per reading). */
export interface ReadingColumns {
  /** The distinct deviceIds, in order of first appearance. */
  readonly devices: string[];
  /** Per reading: index into devices, or -1 when its bytes do not decode (problem[i] says why). */
  readonly dev: Int32Array;
  readonly seq: Uint32Array;
  readonly t: Float64Array;
  readonly epoch: Uint32Array;
  /** partialDigest of reading i at [32·i, 32·i + 32). */
  readonly digest: Buffer;
  /** Layout version, boot count and uptime (0 for version 1). */
  readonly version: Uint8Array;
  readonly bootCount: Uint32Array;
  readonly uptimeMs: Float64Array;
  readonly problem: (string | undefined)[];
}

/**
 * Decodes readings [0, count) at data[canonicalAt[i], + canonicalLength[i]) into columns;
 * `skip[i]` set means "already known malformed" (left at dev -1).
 */
export function readingColumns(
  data: Buffer,
  canonicalAt: Uint32Array,
  canonicalLength: Uint16Array,
  count: number,
  skip: readonly (string | undefined)[],
): ReadingColumns {
  const devices: string[] = [];
  const index = new Map<string, number>();
  const dev = new Int32Array(count).fill(-1);
  const seq = new Uint32Array(count);
  const t = new Float64Array(count);
  const epoch = new Uint32Array(count);
  const digest = Buffer.alloc(32 * count);
  const version = new Uint8Array(count);
  const bootCount = new Uint32Array(count);
  const uptimeMs = new Float64Array(count);
  const problem: (string | undefined)[] = new Array(count);
  // The previous reading's deviceId bytes, to skip building the string for runs of one device.
  let lastAt = -1;
  let lastLen = 0;
  let lastDev = -1;
  // And the one before it (batches often alternate between two devices).
  let prevAt = -1;
  let prevLen = 0;
  let prevDev = -1;
  for (let i = 0; i < count; i++) {
    if (skip[i] !== undefined) {
      problem[i] = skip[i];
      continue;
    }
    const at = canonicalAt[i] as number;
    const len = canonicalLength[i] as number;
    const o = v2FieldsAt(data, at, len);
    if (o >= 0) {
      const L = o - at - 2;
      let d = -1;
      if (lastDev >= 0 && L === lastLen && sameBytes(data, lastAt, data, at + 2, L)) d = lastDev;
      else if (prevDev >= 0 && L === prevLen && sameBytes(data, prevAt, data, at + 2, L)) d = prevDev;
      else {
        const id = data.toString('latin1', at + 2, o);
        d = index.get(id) ?? -1;
        if (d < 0) {
          d = devices.length;
          devices.push(id);
          index.set(id, d);
        }
      }
      if (d !== lastDev) {
        prevAt = lastAt;
        prevLen = lastLen;
        prevDev = lastDev;
      }
      lastAt = at + 2;
      lastLen = L;
      lastDev = d;
      dev[i] = d;
      seq[i] = u32(data, o);
      t[i] = u32(data, o + 4) * 0x1_0000_0000 + u32(data, o + 8);
      epoch[i] = u32(data, o + 12);
      copyBytes(data, o + 17, digest, 32 * i, 32);
      version[i] = V2;
      bootCount[i] = u32(data, o + 51);
      uptimeMs[i] = uptimeAt(data, o + 55);
      continue;
    }
    let f: ReadingFields;
    try {
      f = readingFields(data, at, len);
    } catch (err) {
      problem[i] = (err as Error).message;
      continue;
    }
    let d = index.get(f.deviceId);
    if (d === undefined) {
      d = devices.length;
      devices.push(f.deviceId);
      index.set(f.deviceId, d);
    }
    lastDev = -1;
    prevDev = -1;
    dev[i] = d;
    seq[i] = f.seq;
    t[i] = f.t;
    epoch[i] = f.epoch;
    digest.set(f.partialDigest, 32 * i);
    version[i] = f.version;
    bootCount[i] = f.bootCount;
    uptimeMs[i] = f.uptimeMs;
  }
  return { devices, dev, seq, t, epoch, digest, version, bootCount, uptimeMs, problem };
}

/**
 * The packed batch: the binary encoding of a ReadingBatch (shared/records.ts) that the edge
 * submits to DataProvenance.recordBatch (as one base64 argument). The readings' canonical bytes
 * and tags travel as they are, length-prefixed — no JSON, no hex — and the (edgeId, path) pairs,
 * which are the same for most readings of a batch, once in a route table. Partials (at most one
 * per device per epoch, so off the hot path) stay JSON, length-prefixed.
 *
 * Layout (integers big-endian; "str8" = u8 length + printable ASCII bytes):
 *
 *   u8      format (2; format 1 is the JSON ReadingBatch)
 *   u8      R, routes (1..255)
 *   R ×     route: str8 edgeId (1..64), u8 hops (1..8), hops × str8 hop (1..128)
 *   u32     N, readings (1..10,000)
 *   N ×     reading: u8 route index, u64 receivedAt (ms, < 2^53), u16 L (1..1024), L canonical
 *                    reading bytes, 32 tag
 *   u16     P, partials (0..1,000)
 *   P ×     partial: u32 length, PartialSignatureJson as UTF-8 JSON
 *
 * The decoder is strict about the frame (counts, lengths, no trailing bytes): a frame it cannot
 * walk is refused as a whole (PROV_ERR_BAD_INPUT naming the field). What concerns one
 * reading only — a route index that names no route, a route whose edgeId or hops are not
 * printable — is reported per reading (`problem`), so the contract rejects that reading as
 * MALFORMED and keeps the others, as it does for the JSON form. It does not copy: readings are
 * offsets into the frame.
 */
import { ProvenantError } from '../errors.js';
import {
  MAX_BATCH_PARTIALS,
  MAX_BATCH_READINGS,
  MAX_HOP_LENGTH,
  MAX_PATH_HOPS,
  parseReadingBatch,
  parseReadingSubmission,
  type ReadingBatch,
} from '../records.js';
import { MAX_PARTIAL_JSON_BYTES, type PartialSignatureJson } from '../crypto/credential.js';
import { MAX_IDENTIFIER_LENGTH } from '../crypto/presentation.js';
import { MAX_READING_BYTES } from './reading.js';

/** Format byte of the packed batch. */
export const PACKED_BATCH_FORMAT = 2;
/** Longest canonical reading the frame carries (the reading decoder has its own, lower, limits). */
export const MAX_PACKED_READING_BYTES = 1024;
/** Tag length (HMAC-SHA256). */
export const TAG_BYTES = 32;
/** Most routes in a frame (u8 count). */
export const MAX_ROUTES = 255;

/**
 * The largest packed batch a valid batch needs: every part at its maximum — MAX_ROUTES routes of
 * the longest edgeId and MAX_PATH_HOPS longest hops, MAX_BATCH_READINGS readings of
 * MAX_READING_BYTES (a longer canonical reading is never valid), MAX_BATCH_PARTIALS partials of
 * MAX_PARTIAL_JSON_BYTES. This is the one figure request body limits derive from (the ledger's
 * HTTP server: ledger-bridge/embedded/http/server.ts); a new part of the batch adds its maximum here.
 */
export const MAX_PACKED_BATCH_BYTES =
  1 + // format
  1 + // route count
  MAX_ROUTES * (1 + MAX_IDENTIFIER_LENGTH + 1 + MAX_PATH_HOPS * (1 + MAX_HOP_LENGTH)) +
  4 + // reading count
  MAX_BATCH_READINGS * (1 + 8 + 2 + MAX_READING_BYTES + TAG_BYTES) +
  2 + // partial count
  MAX_BATCH_PARTIALS * (4 + MAX_PARTIAL_JSON_BYTES);

/** Characters of the recordBatch argument for the largest packed batch (its base64). */
export const MAX_BATCH_ARGUMENT_CHARS = 4 * Math.ceil(MAX_PACKED_BATCH_BYTES / 3);
const MAX_T = Number.MAX_SAFE_INTEGER;
const ERR = 'PROV_ERR_BAD_INPUT';

/** One reading as the edge packs it. */
export interface PackableReading {
  readonly canonical: Uint8Array;
  readonly tag: Uint8Array;
  readonly edgeId: string;
  readonly receivedAt: number;
  readonly path: readonly string[];
}

/** A route of the table: the submitting edge and the reading's path. */
export interface Route {
  readonly edgeId: string;
  readonly path: readonly string[];
  /** Why readings of this route are malformed (its edgeId or a hop is not well formed), if so. */
  readonly problem?: string;
}

/** A decoded frame; readings are offsets into `bytes`. */
export interface PackedBatch {
  readonly bytes: Buffer;
  readonly routes: readonly Route[];
  readonly count: number;
  /** Route index of reading i (may be ≥ routes.length: then `problem(i)` says so). */
  readonly route: Uint8Array;
  readonly receivedAt: Float64Array;
  readonly canonicalAt: Uint32Array;
  readonly canonicalLength: Uint16Array;
  /** The tag of reading i is bytes[tagAt[i], tagAt[i] + 32): right after its canonical bytes. */
  readonly partials: readonly unknown[];
}

function bad(message: string, field: string): ProvenantError {
  return new ProvenantError(ERR, `packed batch: ${message}`, { field });
}

function printable(bytes: Uint8Array, min: number, max: number): boolean {
  if (bytes.length < min || bytes.length > max) return false;
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i] as number;
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

function asciiOf(s: string, what: string, max: number): Buffer {
  const b = Buffer.from(s, 'latin1');
  if (b.length !== s.length || !printable(b, 1, max)) throw new RangeError(`${what} must be 1..${max} printable ASCII characters`);
  return b;
}

/** Distinct (edgeId, path) routes one packed batch can carry: a reading names its route in one byte. */
export const MAX_BATCH_ROUTES = 255;

/** The key a packed batch tells routes apart by. */
export function routeKey(r: { readonly edgeId: string; readonly path: readonly string[] }): string {
  return r.edgeId + '\u0000' + r.path.join('\u0000');
}

/**
 * Packs readings and partials. Throws RangeError naming the field for anything the frame cannot
 * carry (the edge builds batches from readings it checked; this is not where verdicts come from).
 */
export function encodePackedBatch(readings: readonly PackableReading[], partials: readonly PartialSignatureJson[] = []): Uint8Array {
  if (readings.length === 0 || readings.length > MAX_BATCH_READINGS)
    throw new RangeError(`packed batch: 1..${MAX_BATCH_READINGS} readings, got ${readings.length}`);
  if (partials.length > MAX_BATCH_PARTIALS) throw new RangeError(`packed batch: at most ${MAX_BATCH_PARTIALS} partials`);
  const routeIds = new Map<string, number>();
  const routeBytes: Buffer[] = [];
  const routeOf = new Uint8Array(readings.length);
  let size = 2 + 4 + 2;
  for (let i = 0; i < readings.length; i++) {
    const r = readings[i] as PackableReading;
    const id = routeKey(r);
    let n = routeIds.get(id);
    if (n === undefined) {
      if (routeIds.size === MAX_BATCH_ROUTES)
        throw new RangeError(`packed batch: at most ${MAX_BATCH_ROUTES} distinct (edgeId, path) routes`);
      if (r.path.length < 1 || r.path.length > MAX_PATH_HOPS) throw new RangeError(`readings[${i}].path: 1..${MAX_PATH_HOPS} hops`);
      const parts = [asciiOf(r.edgeId, `readings[${i}].edgeId`, 64)];
      for (const hop of r.path) parts.push(asciiOf(hop, `readings[${i}].path`, 128));
      const out = Buffer.alloc(2 + parts.reduce((a, p) => a + 1 + p.length, 0));
      let o = 0;
      out[o++] = (parts[0] as Buffer).length;
      o += (parts[0] as Buffer).copy(out, o);
      out[o++] = r.path.length;
      for (let h = 1; h < parts.length; h++) {
        out[o++] = (parts[h] as Buffer).length;
        o += (parts[h] as Buffer).copy(out, o);
      }
      n = routeBytes.length;
      routeIds.set(id, n);
      routeBytes.push(out.subarray(0, o));
      size += o;
    }
    routeOf[i] = n;
    if (!(r.canonical instanceof Uint8Array) || r.canonical.length < 1 || r.canonical.length > MAX_PACKED_READING_BYTES)
      throw new RangeError(`readings[${i}].canonical: 1..${MAX_PACKED_READING_BYTES} bytes`);
    if (!(r.tag instanceof Uint8Array) || r.tag.length !== TAG_BYTES) throw new RangeError(`readings[${i}].tag: ${TAG_BYTES} bytes`);
    if (!Number.isSafeInteger(r.receivedAt) || r.receivedAt < 0) throw new RangeError(`readings[${i}].receivedAt: an integer ≥ 0 (ms)`);
    size += 1 + 8 + 2 + r.canonical.length + TAG_BYTES;
  }
  const partialBytes = partials.map((p) => Buffer.from(JSON.stringify(p), 'utf8'));
  for (const p of partialBytes) size += 4 + p.length;
  const out = Buffer.allocUnsafe(size);
  let o = 0;
  out[o++] = PACKED_BATCH_FORMAT;
  out[o++] = routeBytes.length;
  for (const r of routeBytes) o += r.copy(out, o);
  out.writeUInt32BE(readings.length, o);
  o += 4;
  for (let i = 0; i < readings.length; i++) {
    const r = readings[i] as PackableReading;
    out[o++] = routeOf[i] as number;
    out.writeUInt32BE(Math.floor(r.receivedAt / 0x1_0000_0000), o);
    out.writeUInt32BE(r.receivedAt >>> 0, o + 4);
    out.writeUInt16BE(r.canonical.length, o + 8);
    o += 10;
    out.set(r.canonical, o);
    o += r.canonical.length;
    out.set(r.tag, o);
    o += TAG_BYTES;
  }
  out.writeUInt16BE(partialBytes.length, o);
  o += 2;
  for (const p of partialBytes) {
    out.writeUInt32BE(p.length, o);
    o += 4;
    o += p.copy(out, o);
  }
  return out;
}

/** Packs a ReadingBatch (its hex fields decoded once). */
export function packReadingBatch(batch: Pick<ReadingBatch, 'readings' | 'partials'>): Uint8Array {
  return encodePackedBatch(
    batch.readings.map((r) => ({
      canonical: Buffer.from(r.canonical, 'hex'),
      tag: Buffer.from(r.tag, 'hex'),
      edgeId: r.edgeId,
      receivedAt: r.receivedAt,
      path: r.path,
    })),
    batch.partials,
  );
}

/** The recordBatch argument for a packed batch: its base64 text. */
export function packedBatchArg(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/**
 * The bytes of a recordBatch argument in base64, undefined when it is not base64: its length
 * must be a multiple of 4 and decode to exactly the bytes that length implies (Node's decoder
 * skips characters outside the alphabet and stops at an inner '=', so anything else comes out
 * short). One native pass, no regular expression over the whole argument.
 */
export function packedBatchBytes(arg: string): Buffer | undefined {
  if (arg.length === 0 || arg.length % 4 !== 0) return undefined;
  const bytes = Buffer.from(arg, 'base64');
  const padding = arg.endsWith('==') ? 2 : arg.endsWith('=') ? 1 : 0;
  return bytes.length === (arg.length / 4) * 3 - padding ? bytes : undefined;
}

/** Decodes a packed batch frame (see the layout above). */
export function decodePackedBatch(input: Uint8Array): PackedBatch {
  const bytes = Buffer.isBuffer(input) ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  const end = bytes.length;
  let o = 0;
  const need = (n: number, field: string): void => {
    if (o + n > end) throw bad(`truncated at byte ${o} (${field})`, field);
  };
  need(2, 'format');
  if (bytes[0] !== PACKED_BATCH_FORMAT) throw bad(`unknown format ${String(bytes[0])}, expected ${PACKED_BATCH_FORMAT}`, 'format');
  const routeCount = bytes[1] as number;
  o = 2;
  if (routeCount === 0) throw bad('no routes', 'routes');
  const routes: Route[] = [];
  for (let r = 0; r < routeCount; r++) {
    need(1, 'routes');
    const idLen = bytes[o++] as number;
    need(idLen + 1, 'routes');
    const idBytes = bytes.subarray(o, o + idLen);
    o += idLen;
    const hops = bytes[o++] as number;
    const path: string[] = [];
    let problem: string | undefined;
    if (!printable(idBytes, 1, 64)) problem = 'edgeId must be 1..64 printable ASCII characters';
    if (hops < 1 || hops > MAX_PATH_HOPS) problem ??= `path must be a list of 1..${MAX_PATH_HOPS} hops`;
    for (let h = 0; h < hops; h++) {
      need(1, 'routes');
      const len = bytes[o++] as number;
      need(len, 'routes');
      const hop = bytes.subarray(o, o + len);
      o += len;
      if (!printable(hop, 1, 128)) problem ??= `path[${h}] must be 1..128 printable characters`;
      path.push(hop.toString('latin1'));
    }
    const edgeId = idBytes.toString('latin1');
    routes.push(problem === undefined ? { edgeId, path } : { edgeId, path, problem });
  }
  need(4, 'readings');
  const count = bytes.readUInt32BE(o);
  o += 4;
  if (count === 0 || count > MAX_BATCH_READINGS) throw bad(`${count} readings; 1..${MAX_BATCH_READINGS} per batch`, 'readings');
  const route = new Uint8Array(count);
  const receivedAt = new Float64Array(count);
  const canonicalAt = new Uint32Array(count);
  const canonicalLength = new Uint16Array(count);
  for (let i = 0; i < count; i++) {
    if (o + 11 > end) throw bad(`truncated in readings[${i}]`, 'readings');
    route[i] = bytes[o] as number;
    const hi = bytes.readUInt32BE(o + 1);
    if (hi > 0x1fffff) throw bad(`readings[${i}].receivedAt exceeds 2^53 - 1`, 'receivedAt');
    const at = hi * 0x1_0000_0000 + bytes.readUInt32BE(o + 5);
    if (at > MAX_T) throw bad(`readings[${i}].receivedAt exceeds 2^53 - 1`, 'receivedAt');
    receivedAt[i] = at;
    const len = bytes.readUInt16BE(o + 9);
    if (len < 1 || len > MAX_PACKED_READING_BYTES)
      throw bad(`readings[${i}]: canonical length ${len}, 1..${MAX_PACKED_READING_BYTES}`, 'canonical');
    o += 11;
    if (o + len + TAG_BYTES > end) throw bad(`truncated in readings[${i}]`, 'readings');
    canonicalAt[i] = o;
    canonicalLength[i] = len;
    o += len + TAG_BYTES;
  }
  need(2, 'partials');
  const partialCount = bytes.readUInt16BE(o);
  o += 2;
  if (partialCount > MAX_BATCH_PARTIALS) throw bad(`${partialCount} partials; at most ${MAX_BATCH_PARTIALS}`, 'partials');
  const partials: unknown[] = [];
  for (let p = 0; p < partialCount; p++) {
    need(4, 'partials');
    const len = bytes.readUInt32BE(o);
    o += 4;
    if (len > MAX_PARTIAL_JSON_BYTES)
      throw bad(`partials[${p}] is ${len} bytes, longer than any valid partial (${MAX_PARTIAL_JSON_BYTES})`, 'partials');
    need(len, 'partials');
    const text = bytes.toString('utf8', o, o + len);
    o += len;
    try {
      partials.push(JSON.parse(text) as unknown);
    } catch (err) {
      throw bad(`partials[${p}] is not JSON (${(err as Error).message})`, 'partials');
    }
  }
  if (o !== end) throw bad(`${end - o} trailing bytes`, 'length');
  return { bytes, routes, count, route, receivedAt, canonicalAt, canonicalLength, partials };
}

/** Why reading i cannot be judged beyond MALFORMED (route index or route), or undefined. */
export function packedReadingProblem(batch: PackedBatch, i: number): string | undefined {
  const r = batch.routes[batch.route[i] as number];
  if (r === undefined) return `readings[${i}]: route ${String(batch.route[i])} is not in the batch's route table`;
  return r.problem === undefined ? undefined : `readings[${i}].${r.problem}`;
}

/**
 * A recordBatch argument in any of its encodings — ReadingBatch JSON, a packed batch in base64,
 * or the packed batch's bytes (a binary argument on the embedded ledger) —
 * as a checked ReadingBatch (what reads a committed transaction back, e.g. the provenance
 * follower, needs). Throws PROV_ERR_BAD_INPUT naming the field, as parseReadingBatch does.
 */
export function parseBatchArgument(arg: unknown): ReadingBatch {
  let bytes: Buffer | undefined;
  if (arg instanceof Uint8Array) bytes = Buffer.from(arg.buffer, arg.byteOffset, arg.byteLength);
  else {
    if (typeof arg !== 'string' || /^\s*[{[]/.test(arg.slice(0, 64)) || arg.trim() === '') return parseReadingBatch(arg);
    bytes = packedBatchBytes(arg);
  }
  if (bytes === undefined) throw bad('neither ReadingBatch JSON nor base64 of a packed batch', 'batch');
  const b = decodePackedBatch(bytes);
  const readings = [];
  for (let i = 0; i < b.count; i++) {
    const at = b.canonicalAt[i] as number;
    const len = b.canonicalLength[i] as number;
    const route = b.routes[b.route[i] as number];
    readings.push(
      parseReadingSubmission(
        {
          canonical: b.bytes.toString('hex', at, at + len),
          tag: b.bytes.toString('hex', at + len, at + len + TAG_BYTES),
          edgeId: route?.edgeId,
          receivedAt: b.receivedAt[i],
          path: route?.path,
        },
        `readings[${i}]`,
      ),
    );
  }
  return parseReadingBatch({ version: 1, readings, partials: b.partials });
}

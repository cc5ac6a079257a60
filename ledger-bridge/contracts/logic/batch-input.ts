/**
 * recordBatch's argument, in either of its two encodings, as one shape the validator works on:
 *
 *   - the packed batch (shared/encoding/batch.ts), as bytes (a binary argument, embedded ledger)
 *     or in base64 (Fabric, HTTP) — what the edge sends: readings are offsets into the frame,
 *     nothing is copied or parsed per reading but its offsets;
 *   - the ReadingBatch JSON of shared/records.ts (version 1), still accepted: each submission is
 *     parsed by logic/submission.ts and its bytes are copied into one buffer.
 *
 * Envelope errors (not JSON / not base64, wrong version, no readings, too many) fail the whole
 * transaction (PROV_ERR_BAD_INPUT); a reading that does not parse is marked with its message and
 * rejected as MALFORMED on its own.
 */
import { decodePackedBatch, MAX_PACKED_BATCH_BYTES, packedBatchBytes, packedReadingProblem } from '../../../shared/encoding/batch.js';
import { MAX_BATCH_PARTIALS, MAX_BATCH_READINGS } from '../../../shared/records.js';
import { CONTRACT_ERRORS, contractError } from '../errors.js';
import { isPlainObject, MAX_ARG_CHARS, parseJsonArg } from './args.js';
import { encodeRoute, type RecordRoute } from './batch-layout.js';
import { decodeSubmission } from './submission.js';

/** A batch ready for validation. */
export interface BatchInput {
  readonly count: number;
  /** Holds every reading's canonical bytes and tag. */
  readonly data: Buffer;
  readonly canonicalAt: Uint32Array;
  readonly canonicalLength: Uint16Array;
  readonly tagAt: Uint32Array;
  readonly receivedAt: Float64Array;
  /** Per reading, index into routes. */
  readonly route: Uint16Array;
  readonly routes: readonly RecordRoute[];
  /** encodeRoute bytes of each route. */
  readonly routeBytes: readonly Buffer[];
  /** Per reading, why it does not parse (MALFORMED), if it does not. */
  readonly problem: readonly (string | undefined)[];
  readonly partials: readonly unknown[];
}

function bad(message: string, field: string): Error {
  return contractError(CONTRACT_ERRORS.BAD_INPUT, message, { field });
}

/**
 * The batch argument of recordBatch: JSON (starts with '{', after blanks), base64 of a packed
 * batch, or the packed batch's bytes (a binary argument: the embedded ledger passes them as they
 * are, read in place — no base64 to decode, and the block stores them once, as bytes).
 */
export function parseBatchArg(arg: string | Uint8Array): BatchInput {
  if (arg instanceof Uint8Array) {
    if (arg.length > MAX_PACKED_BATCH_BYTES) throw bad(`batch exceeds ${MAX_PACKED_BATCH_BYTES} bytes`, 'batch');
    return fromPacked(Buffer.from(arg.buffer, arg.byteOffset, arg.byteLength));
  }
  if (typeof arg !== 'string') throw bad('batch must be a string or bytes', 'batch');
  if (arg.length > MAX_ARG_CHARS) throw bad(`batch exceeds ${MAX_ARG_CHARS} characters`, 'batch');
  const first = /\S/.exec(arg.slice(0, 64))?.[0];
  if (first === '{' || first === '[' || first === undefined) return fromJson(arg);
  const bytes = packedBatchBytes(arg);
  if (bytes === undefined) throw bad('batch is neither ReadingBatch JSON nor base64 of a packed batch', 'batch');
  return fromPacked(bytes);
}

function fromPacked(bytes: Buffer): BatchInput {
  let packed;
  try {
    packed = decodePackedBatch(bytes);
  } catch (err) {
    throw bad((err as Error).message, 'batch');
  }
  const n = packed.count;
  const tagAt = new Uint32Array(n);
  const problem: (string | undefined)[] = new Array(n);
  const route = new Uint16Array(n);
  for (let i = 0; i < n; i++) {
    tagAt[i] = (packed.canonicalAt[i] as number) + (packed.canonicalLength[i] as number);
    route[i] = packed.route[i] as number;
    problem[i] = packedReadingProblem(packed, i);
  }
  return {
    count: n,
    data: packed.bytes,
    canonicalAt: packed.canonicalAt,
    canonicalLength: packed.canonicalLength,
    tagAt,
    receivedAt: packed.receivedAt,
    route,
    routes: packed.routes,
    // A route with a problem is never stored (its readings are MALFORMED); its bytes are not needed.
    routeBytes: packed.routes.map((r) => (r.problem === undefined ? encodeRoute(r) : Buffer.alloc(0))),
    problem,
    partials: packed.partials,
  };
}

function fromJson(arg: string): BatchInput {
  const json = parseJsonArg(arg, 'batch');
  if (!isPlainObject(json)) throw bad('batch must be an object { version, readings, partials }', 'batch');
  if (json['version'] !== 1) throw bad('batch.version must be 1', 'version');
  const readings = json['readings'];
  if (!Array.isArray(readings) || readings.length === 0) throw bad('batch.readings must be a non-empty list', 'readings');
  if (readings.length > MAX_BATCH_READINGS) throw bad(`batch.readings: at most ${MAX_BATCH_READINGS}`, 'readings');
  const partials = json['partials'] ?? [];
  if (!Array.isArray(partials) || partials.length > MAX_BATCH_PARTIALS)
    throw bad(`batch.partials must be a list of at most ${MAX_BATCH_PARTIALS}`, 'partials');
  const n = readings.length;
  const canonicalAt = new Uint32Array(n);
  const canonicalLength = new Uint16Array(n);
  const tagAt = new Uint32Array(n);
  const receivedAt = new Float64Array(n);
  const route = new Uint16Array(n);
  const problem: (string | undefined)[] = new Array(n);
  const routes: RecordRoute[] = [];
  const routeIds = new Map<string, number>();
  const chunks: Buffer[] = [];
  let size = 0;
  for (let i = 0; i < n; i++) {
    let decoded;
    try {
      decoded = decodeSubmission(readings[i], i);
      if (decoded.bytes.length > 0xffff) throw new RangeError(`readings[${i}].canonical: at most 65535 bytes`);
    } catch (err) {
      problem[i] = (err as Error).message;
      continue;
    }
    const { sub, bytes } = decoded;
    const id = sub.edgeId + '\u0000' + sub.path.join('\u0000');
    let r = routeIds.get(id);
    if (r === undefined) {
      r = routes.length;
      routeIds.set(id, r);
      routes.push({ edgeId: sub.edgeId, path: sub.path });
    }
    route[i] = r;
    receivedAt[i] = sub.receivedAt;
    canonicalAt[i] = size;
    canonicalLength[i] = bytes.length;
    tagAt[i] = size + bytes.length;
    chunks.push(bytes, Buffer.from(sub.tag, 'hex'));
    size += bytes.length + 32;
  }
  return {
    count: n,
    data: Buffer.concat(chunks, size),
    canonicalAt,
    canonicalLength,
    tagAt,
    receivedAt,
    route,
    routes,
    routeBytes: routes.map(encodeRoute),
    problem,
    partials,
  };
}

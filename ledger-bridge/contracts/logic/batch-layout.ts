/**
 * The batch-native state layout of Data Provenance records (docs/contracts.md "State layout"):
 *
 *   batch     [txId]                                  the batch record: every reading the
 *                                                     transaction accepted, with the Merkle root
 *                                                     over their records (one key per batch)
 *   seqIndex  [deviceId, maxSeq (10 digits)]          an index run: which batch holds which seqs
 *   timeIndex [deviceId, tMax (16), maxSeq (10)]      the same run, found by device time
 *
 * An index run is a device's readings of one batch whose seqs span fewer than SEQ_SPAN and whose
 * times span less than T_SPAN (a batch writes one run per device unless its readings spread
 * wider), so a lookup of seq s scans the runs with maxSeq in [s, s + SEQ_SPAN) and one of t the
 * runs with tMax in [t, t + T_SPAN) — bounded, and usually the first run it meets.
 *
 * Record leaf (what the Merkle tree commits to, and what an auditor recomputes from the
 * provenance record it was given): SHA-256(0x00 ‖ leafBytes) with leafBytes =
 *   u8 2 (record layout) · str8 deviceId · u32 seq · u64 t · u32 epoch · partialDigest[32] ·
 *   u32 bootCount · u40 uptimeMs · dataHash[32] · tag[32] · u64 receivedAt · route
 * (bootCount and uptimeMs of a version 2 reading, as its canonical bytes hold them)
 * and route = str8 edgeId · u8 hops · hops × str8 hop. Inner nodes are RFC 9162's
 * SHA-256(0x01 ‖ left ‖ right) over the leaves in stored order, so ledger-bridge/embedded/
 * merkle.ts verifyInclusionPath checks a path.
 *
 * Batch record value: u8 1 · root[32] · u32 leaves · u16 routes · routes × route · u16 groups ·
 * groups × (str8 deviceId · u32 epoch · partialDigest[32] · u32 n · n × (u32 seq · u64 t ·
 * u32 bootCount · u40 uptimeMs · dataHash[32] · tag[32] · u64 receivedAt · u16 route)). Leaves
 * are the records in this order.
 *
 * Index run value: u8 1 · str8 txId · u32 minSeq · u32 maxSeq · u64 tMin · u64 tMax · u16 n ·
 * bitmap of seqs minSeq..maxSeq (bit i of byte i>>3, LSB first).
 *
 * Integers big-endian. Deterministic: the same accepted readings give the same bytes.
 */
import { hash } from 'node:crypto';
import { copy32, putDigest, sameBytes, viewOf } from './bytes.js';
import type { ProvenanceRecord } from '../../../shared/records.js';

/** Seqs one index run may span (maxSeq - minSeq < SEQ_SPAN). */
export const SEQ_SPAN = 256;
/** Device-time span of one index run in ms (tMax - tMin < T_SPAN): 2^20 ms ≈ 17.5 min. */
export const T_SPAN = 2 ** 20;
const RECORD_LAYOUT = 2;
/** Bytes of one reading in a batch record: seq, t, bootCount, uptimeMs, dataHash, tag, receivedAt, route. */
const READING_BYTES = 4 + 8 + 4 + 5 + 32 + 32 + 8 + 2;
const VALUE_VERSION = 1;
const HI = 0x1_0000_0000;

/** A reading's route: the edge that submitted it and its path. */
export interface RecordRoute {
  readonly edgeId: string;
  readonly path: readonly string[];
}

/** One accepted reading as the batch record keeps it. */
export interface StoredReading {
  readonly seq: number;
  readonly t: number;
  readonly bootCount: number;
  readonly uptimeMs: number;
  readonly dataHash: Uint8Array;
  readonly tag: Uint8Array;
  readonly receivedAt: number;
  /** Index into the record's routes. */
  readonly route: number;
}

/** The readings of one (device, epoch, partial) in a batch record. */
export interface StoredGroup {
  readonly deviceId: string;
  readonly epoch: number;
  readonly partialDigest: Uint8Array;
  /** Leaf index of the group's first reading. */
  readonly firstLeaf: number;
  readonly readings: readonly StoredReading[];
}

/** A decoded batch record. */
export interface BatchRecord {
  readonly root: Uint8Array;
  readonly leaves: number;
  readonly routes: readonly RecordRoute[];
  readonly groups: readonly StoredGroup[];
}

/** A decoded index run. */
export interface IndexRun {
  readonly txId: string;
  readonly minSeq: number;
  readonly maxSeq: number;
  readonly tMin: number;
  readonly tMax: number;
  readonly count: number;
  readonly bitmap: Uint8Array;
}

/** The path from a record's leaf to its batch root (hex), as verify returns it. */
export interface BatchProof {
  readonly root: string;
  readonly leafIndex: number;
  readonly leaves: number;
  readonly path: readonly string[];
}

// ------------------------------------------------------------------ byte helpers

class Writer {
  buf: Buffer;
  o = 0;
  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size);
  }
  /** Makes room for n more bytes (then written straight into buf from o). */
  room(n: number): void {
    if (this.o + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.o + n));
    this.buf.copy(next, 0, 0, this.o);
    this.buf = next;
  }
  u8(v: number): void {
    this.room(1);
    this.buf[this.o++] = v;
  }
  u16(v: number): void {
    this.room(2);
    this.buf.writeUInt16BE(v, this.o);
    this.o += 2;
  }
  u32(v: number): void {
    this.room(4);
    this.buf.writeUInt32BE(v, this.o);
    this.o += 4;
  }
  u40(v: number): void {
    this.room(5);
    this.buf[this.o] = Math.floor(v / HI);
    this.buf.writeUInt32BE(v >>> 0, this.o + 1);
    this.o += 5;
  }
  u64(v: number): void {
    this.room(8);
    this.buf.writeUInt32BE(Math.floor(v / HI), this.o);
    this.buf.writeUInt32BE(v >>> 0, this.o + 4);
    this.o += 8;
  }
  bytes(b: Uint8Array): void {
    this.room(b.length);
    this.buf.set(b, this.o);
    this.o += b.length;
  }
  str8(s: string): void {
    const n = Buffer.byteLength(s, 'latin1');
    if (n > 255 || n !== s.length) throw new RangeError(`batch layout: ${JSON.stringify(s.slice(0, 20))} is not a short ASCII string`);
    this.u8(n);
    this.room(n);
    this.o += this.buf.write(s, this.o, 'latin1');
  }
  done(): Buffer {
    return this.buf.subarray(0, this.o);
  }
}

class Reader {
  o = 0;
  constructor(
    readonly b: Buffer,
    private readonly what: string,
  ) {}
  need(n: number): void {
    if (this.o + n > this.b.length) throw new RangeError(`${this.what}: truncated at byte ${this.o}`);
  }
  u8(): number {
    this.need(1);
    return this.b[this.o++] as number;
  }
  u16(): number {
    this.need(2);
    const v = this.b.readUInt16BE(this.o);
    this.o += 2;
    return v;
  }
  u32(): number {
    this.need(4);
    const v = this.b.readUInt32BE(this.o);
    this.o += 4;
    return v;
  }
  u40(): number {
    this.need(5);
    const v = (this.b[this.o] as number) * HI + this.b.readUInt32BE(this.o + 1);
    this.o += 5;
    return v;
  }
  u64(): number {
    this.need(8);
    const hi = this.b.readUInt32BE(this.o);
    if (hi > 0x1fffff) throw new RangeError(`${this.what}: integer at byte ${this.o} exceeds 2^53 - 1`);
    const v = hi * HI + this.b.readUInt32BE(this.o + 4);
    this.o += 8;
    return v;
  }
  bytes(n: number): Buffer {
    this.need(n);
    const v = this.b.subarray(this.o, this.o + n);
    this.o += n;
    return v;
  }
  str8(): string {
    const n = this.u8();
    return this.bytes(n).toString('latin1');
  }
  end(): void {
    if (this.o !== this.b.length) throw new RangeError(`${this.what}: ${this.b.length - this.o} trailing bytes`);
  }
}

const asBuffer = (b: Uint8Array): Buffer => (Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength));

// ------------------------------------------------------------------ routes and leaves

/** The route's bytes (str8 edgeId · u8 hops · hops × str8 hop). */
export function encodeRoute(route: RecordRoute): Buffer {
  const w = new Writer(64);
  w.str8(route.edgeId);
  w.u8(route.path.length);
  for (const hop of route.path) w.str8(hop);
  return Buffer.from(w.done());
}

/** The bytes before a leaf's deviceId length: RFC 9162's leaf prefix 0x00, then the record layout. */
export const LEAF_PREFIX = Buffer.from([0x00, RECORD_LAYOUT]);

/**
 * Fixed part of leafBytes after deviceId: seq, t, epoch, partialDigest, bootCount, uptimeMs,
 * dataHash, tag, receivedAt.
 */
const FIXED = 4 + 8 + 4 + 32 + 4 + 5 + 32 + 32 + 8;

/**
 * Hashes record leaves with one scratch buffer per batch (no allocation per leaf but the digest).
 * Reused across a batch's readings, so it is not shared between concurrent callers.
 */
export class LeafHasher {
  private scratch = Buffer.alloc(1024);

  /** SHA-256(0x00 ‖ leafBytes) of one record; `route` is encodeRoute's bytes. */
  leaf(
    deviceId: string,
    seq: number,
    t: number,
    epoch: number,
    partialDigest: Uint8Array,
    bootCount: number,
    uptimeMs: number,
    dataHash: Uint8Array,
    tag: Uint8Array,
    receivedAt: number,
    route: Uint8Array,
  ): Buffer {
    const L = deviceId.length;
    const size = 3 + L + FIXED + route.length;
    if (size > this.scratch.length) this.scratch = Buffer.alloc(size);
    const b = this.scratch;
    b[0] = 0x00;
    b[1] = RECORD_LAYOUT;
    b[2] = L;
    b.write(deviceId, 3, 'latin1');
    let o = 3 + L;
    b.writeUInt32BE(seq, o);
    b.writeUInt32BE(Math.floor(t / HI), o + 4);
    b.writeUInt32BE(t >>> 0, o + 8);
    b.writeUInt32BE(epoch, o + 12);
    o += 16;
    b.set(partialDigest, o);
    o += 32;
    b.writeUInt32BE(bootCount, o);
    b[o + 4] = Math.floor(uptimeMs / HI);
    b.writeUInt32BE(uptimeMs >>> 0, o + 5);
    o += 9;
    b.set(dataHash, o);
    b.set(tag, o + 32);
    o += 64;
    b.writeUInt32BE(Math.floor(receivedAt / HI), o);
    b.writeUInt32BE(receivedAt >>> 0, o + 4);
    o += 8;
    b.set(route, o);
    return hash('sha256', b.subarray(0, o + route.length), 'buffer');
  }
}

/**
 * The leaf hash of a provenance record (what an auditor recomputes from verify's answer). Batch
 * records hold version 2 readings only, so a record without bootCount and uptimeMs has no leaf.
 */
export function recordLeafHash(r: Omit<ProvenanceRecord, 'status' | 'txId'>): Buffer {
  if (r.bootCount === undefined || r.uptimeMs === undefined)
    throw new RangeError(`record of ${r.deviceId} seq ${r.seq} has no bootCount/uptimeMs: it is not a batch record's reading`);
  return new LeafHasher().leaf(
    r.deviceId,
    r.seq,
    r.t,
    r.epoch,
    Buffer.from(r.partialDigest, 'hex'),
    r.bootCount,
    r.uptimeMs,
    Buffer.from(r.dataHash, 'hex'),
    Buffer.from(r.tag, 'hex'),
    r.receivedAt,
    encodeRoute({ edgeId: r.edgeId, path: r.path }),
  );
}

// ------------------------------------------------------------------ Merkle tree (RFC 9162 shape)

/**
 * A node's hash input 0x01 ‖ left ‖ right, laid out at byte 3 of NODE so that left ‖ right start
 * 4-byte aligned: a pair is copied as 16 Int32 words (no Uint8Array view per copy, which
 * Buffer#copy of a range allocates: ~95 bytes of garbage per reading, and slower for 64 bytes).
 */
const NODE = Buffer.alloc(68);
NODE[3] = 1;
const NODE_INPUT = NODE.subarray(3);
const NODE_WORDS = new Int32Array(NODE.buffer, NODE.byteOffset + 4, 16);

/** Int32 words of a level whose bytes start 4-byte aligned (all of ours do), else undefined. */
function wordsOf(level: Buffer): Int32Array | undefined {
  return level.byteOffset % 4 === 0 ? new Int32Array(level.buffer, level.byteOffset, level.length >> 2) : undefined;
}

/**
 * Every level of the tree over n leaf hashes held back to back in `leaves` (level 0): adjacent
 * pairs are hashed and an odd last node moves up unchanged, which gives RFC 9162's tree (split
 * at the largest power of two below n) — checked against ledger-bridge/embedded/merkle.ts in the
 * tests. Level l holds ⌈n / 2^l⌉ hashes back to back; the last level is the root.
 */
export function merkleLevels(leaves: Buffer, n: number): Buffer[] {
  if (n < 1 || leaves.length < 32 * n) throw new RangeError('merkle: a batch record has at least one leaf');
  const levels: Buffer[] = [leaves.subarray(0, 32 * n)];
  let level = levels[0] as Buffer;
  let size = n;
  while (size > 1) {
    const upSize = (size + 1) >> 1;
    const up = Buffer.allocUnsafe(32 * upSize);
    const words = wordsOf(level);
    for (let k = 0; 2 * k + 1 < size; k++) {
      if (words === undefined) level.copy(NODE, 4, 64 * k, 64 * k + 64);
      else for (let m = 0; m < 16; m++) NODE_WORDS[m] = words[16 * k + m] as number;
      putDigest(hash('sha256', NODE_INPUT, 'binary'), up, 32 * k);
    }
    if (size % 2 === 1) level.copy(up, 32 * (upSize - 1), 32 * (size - 1), 32 * size);
    levels.push(up);
    level = up;
    size = upSize;
  }
  return levels;
}

/** The audit path of leaf `index` (bottom-up siblings; RFC 9162 PATH). */
export function merklePath(levels: readonly Buffer[], index: number): Buffer[] {
  const size = (levels[0] as Buffer).length / 32;
  if (!Number.isInteger(index) || index < 0 || index >= size) throw new RangeError(`merkle: leaf ${index} is outside a tree of ${size}`);
  const path: Buffer[] = [];
  let i = index;
  for (let l = 0; l < levels.length - 1; l++) {
    const level = levels[l] as Buffer;
    const sibling = i % 2 === 1 ? i - 1 : i + 1;
    if (32 * sibling < level.length) path.push(Buffer.from(level.subarray(32 * sibling, 32 * sibling + 32)));
    i = Math.floor(i / 2);
  }
  return path;
}

// ------------------------------------------------------------------ batch record

/** What a batch accepted, in columns (logic/readings.ts judgeBatch). */
export interface AcceptedColumns {
  readonly devices: readonly string[];
  /** Per reading index: device index, seq, t, epoch, partialDigest (32·i). */
  readonly dev: Int32Array;
  readonly seq: Uint32Array;
  readonly t: Float64Array;
  readonly epoch: Uint32Array;
  readonly digest: Buffer;
  readonly bootCount: Uint32Array;
  readonly uptimeMs: Float64Array;
  /** Per reading index: receivedAt, route, and where its tag is in `data`. */
  readonly receivedAt: Float64Array;
  readonly route: Uint16Array;
  readonly data: Buffer;
  readonly tagAt: Uint32Array;
  /** The accepted readings (reading indexes) in batch order, and each one's dataHash and leaf (32 bytes each, in that order). */
  readonly accepted: Uint32Array;
  readonly dataHash: Buffer;
  readonly leaf: Buffer;
}

/**
 * The batch record of the accepted readings: groups by (device, epoch, partialDigest) in order
 * of first appearance, readings in batch order inside a group; leaves in that order. Only the
 * routes used are stored. Returns the value, its root and each accepted reading's leaf index.
 */
export function encodeBatchRecord(c: AcceptedColumns, routeBytes: readonly Buffer[]): { value: Buffer; root: Buffer } {
  const n = c.accepted.length;
  // Group of each accepted reading: a device usually has one (epoch, digest) per batch.
  const groupOf = new Uint32Array(n);
  const groupsOfDevice = new Map<number, number[]>();
  const groupFirst: number[] = [];
  const groupCount: number[] = [];
  for (let a = 0; a < n; a++) {
    const i = c.accepted[a] as number;
    const d = c.dev[i] as number;
    let list = groupsOfDevice.get(d);
    if (list === undefined) groupsOfDevice.set(d, (list = []));
    let g = -1;
    for (const cand of list) {
      const f = c.accepted[groupFirst[cand] as number] as number;
      if (c.epoch[f] === c.epoch[i] && sameBytes(c.digest, 32 * f, c.digest, 32 * i, 32)) {
        g = cand;
        break;
      }
    }
    if (g < 0) {
      g = groupFirst.length;
      groupFirst.push(a);
      groupCount.push(0);
      list.push(g);
    }
    groupOf[a] = g;
    groupCount[g] = (groupCount[g] as number) + 1;
  }
  // Leaf order: by group, then batch order (a counting sort).
  const start = new Uint32Array(groupFirst.length);
  for (let g = 1; g < groupFirst.length; g++) start[g] = (start[g - 1] as number) + (groupCount[g - 1] as number);
  const order = new Uint32Array(n);
  const fill = start.slice();
  for (let a = 0; a < n; a++) {
    const g = groupOf[a] as number;
    order[fill[g] as number] = a;
    fill[g] = (fill[g] as number) + 1;
  }
  const leaves = Buffer.allocUnsafe(32 * n);
  const leafIn = viewOf(c.leaf);
  const leafOut = viewOf(leaves);
  for (let k = 0; k < n; k++) copy32(leafIn, 32 * (order[k] as number), leafOut, 32 * k);
  const levels = merkleLevels(leaves, n);
  const root = levels[levels.length - 1] as Buffer;

  const routeMap = new Int32Array(routeBytes.length).fill(-1);
  const used: Buffer[] = [];
  for (let a = 0; a < n; a++) {
    const r = c.route[c.accepted[a] as number] as number;
    if (routeMap[r] === -1) {
      routeMap[r] = used.length;
      used.push(routeBytes[r] as Buffer);
    }
  }
  const w = new Writer(64 + used.reduce((x, r) => x + r.length, 0) + groupFirst.length * 110 + n * 100);
  w.u8(VALUE_VERSION);
  w.bytes(root);
  w.u32(n);
  w.u16(used.length);
  for (const r of used) w.bytes(r);
  w.u16(groupFirst.length);
  const hashes = viewOf(c.dataHash);
  const data = viewOf(c.data);
  for (let g = 0; g < groupFirst.length; g++) {
    const f = c.accepted[groupFirst[g] as number] as number;
    w.str8(c.devices[c.dev[f] as number] as string);
    w.u32(c.epoch[f] as number);
    w.bytes(c.digest.subarray(32 * f, 32 * f + 32));
    const count = groupCount[g] as number;
    w.u32(count);
    // The group's readings, READING_BYTES each, written straight into the buffer (every value
    // is in range: u32 columns, t and receivedAt safe integers ≥ 0, uptimeMs ≤ 10^12).
    w.room(count * READING_BYTES);
    const out = viewOf(w.buf);
    let o = w.o;
    for (let k = start[g] as number; k < (start[g] as number) + count; k++) {
      const a = order[k] as number;
      const i = c.accepted[a] as number;
      const t = c.t[i] as number;
      const up = c.uptimeMs[i] as number;
      const at = c.receivedAt[i] as number;
      out.setUint32(o, c.seq[i] as number);
      out.setUint32(o + 4, Math.floor(t / HI));
      out.setUint32(o + 8, t >>> 0);
      out.setUint32(o + 12, c.bootCount[i] as number);
      out.setUint8(o + 16, Math.floor(up / HI));
      out.setUint32(o + 17, up >>> 0);
      copy32(hashes, 32 * a, out, o + 21);
      copy32(data, c.tagAt[i] as number, out, o + 53);
      out.setUint32(o + 85, Math.floor(at / HI));
      out.setUint32(o + 89, at >>> 0);
      out.setUint16(o + 93, routeMap[c.route[i] as number] as number);
      o += READING_BYTES;
    }
    w.o = o;
  }
  return { value: w.done(), root: Buffer.from(root) };
}

/** Decodes a batch record value; throws RangeError naming what is wrong. */
export function decodeBatchRecord(bytes: Uint8Array): BatchRecord {
  const r = new Reader(asBuffer(bytes), 'batch record');
  const version = r.u8();
  if (version !== VALUE_VERSION) throw new RangeError(`batch record: unknown version ${version}`);
  const root = r.bytes(32);
  const leaves = r.u32();
  const routeCount = r.u16();
  const routes: RecordRoute[] = [];
  for (let i = 0; i < routeCount; i++) {
    const edgeId = r.str8();
    const hops = r.u8();
    const path: string[] = [];
    for (let h = 0; h < hops; h++) path.push(r.str8());
    routes.push({ edgeId, path });
  }
  const groupCount = r.u16();
  const groups: StoredGroup[] = [];
  let leaf = 0;
  for (let g = 0; g < groupCount; g++) {
    const deviceId = r.str8();
    const epoch = r.u32();
    const partialDigest = r.bytes(32);
    const n = r.u32();
    const readings: StoredReading[] = [];
    for (let i = 0; i < n; i++) {
      const seq = r.u32();
      const t = r.u64();
      const bootCount = r.u32();
      const uptimeMs = r.u40();
      const dataHash = r.bytes(32);
      const tag = r.bytes(32);
      const receivedAt = r.u64();
      const route = r.u16();
      if (route >= routes.length) throw new RangeError(`batch record: route ${route} of ${deviceId} seq ${seq} is not in its table`);
      readings.push({ seq, t, bootCount, uptimeMs, dataHash, tag, receivedAt, route });
    }
    groups.push({ deviceId, epoch, partialDigest, firstLeaf: leaf, readings });
    leaf += n;
  }
  r.end();
  if (leaf !== leaves) throw new RangeError(`batch record: ${leaf} readings, header says ${leaves}`);
  return { root, leaves, routes, groups };
}

/** A stored reading as the provenance record verify and get return. */
export function provenanceRecordOf(batch: BatchRecord, group: StoredGroup, r: StoredReading, txId: string): ProvenanceRecord {
  const route = batch.routes[r.route] as RecordRoute;
  // Keys in sorted order: JSON.stringify of this object is its canonical JSON.
  return {
    bootCount: r.bootCount,
    dataHash: Buffer.from(r.dataHash).toString('hex'),
    deviceId: group.deviceId,
    edgeId: route.edgeId,
    epoch: group.epoch,
    partialDigest: Buffer.from(group.partialDigest).toString('hex'),
    path: route.path,
    receivedAt: r.receivedAt,
    seq: r.seq,
    status: 'valid',
    t: r.t,
    tag: Buffer.from(r.tag).toString('hex'),
    txId,
    uptimeMs: r.uptimeMs,
  };
}

/** Every leaf hash of a decoded batch record, back to back in stored order. */
export function batchLeaves(batch: BatchRecord): Buffer {
  const hasher = new LeafHasher();
  const routes = batch.routes.map(encodeRoute);
  const out = Buffer.allocUnsafe(32 * batch.leaves);
  let k = 0;
  for (const g of batch.groups)
    for (const r of g.readings)
      hasher
        .leaf(
          g.deviceId,
          r.seq,
          r.t,
          g.epoch,
          g.partialDigest,
          r.bootCount,
          r.uptimeMs,
          r.dataHash,
          r.tag,
          r.receivedAt,
          routes[r.route] as Buffer,
        )
        .copy(out, 32 * k++);
  return out;
}

/** The path from leaf `leafIndex` to the batch root, checked against the stored root. */
export function batchProof(batch: BatchRecord, leafIndex: number): BatchProof {
  const levels = merkleLevels(batchLeaves(batch), batch.leaves);
  const root = levels[levels.length - 1] as Buffer;
  if (!root.equals(batch.root)) throw new RangeError('batch record: its readings do not hash to its stored root');
  return {
    root: root.toString('hex'),
    leafIndex,
    leaves: batch.leaves,
    path: merklePath(levels, leafIndex).map((h) => h.toString('hex')),
  };
}

// ------------------------------------------------------------------ index runs

/** One accepted reading of a device, as the index needs it. */
export interface IndexedReading {
  readonly seq: number;
  readonly t: number;
}

/**
 * Splits a device's readings of one batch into index runs: sorted by seq, a new run starts
 * where the seq span would reach SEQ_SPAN or the time span T_SPAN.
 */
export function indexRuns(readings: readonly IndexedReading[]): IndexedReading[][] {
  const seq = readings.map((r) => r.seq);
  const t = readings.map((r) => r.t);
  return indexRunsOf(
    readings.map((_, i) => i),
    seq,
    t,
  ).map((run) => run.map((i) => readings[i] as IndexedReading));
}

/**
 * indexRuns over columns, with no object per reading (the batch hot path): `idx` are a device's
 * readings as indexes into `seq` and `t`; sorted in place by seq (left alone when already in
 * order, as an edge sends them), then cut into runs of indexes.
 */
export function indexRunsOf(idx: number[], seq: ArrayLike<number>, t: ArrayLike<number>): number[][] {
  let ordered = true;
  for (let k = 1; k < idx.length && ordered; k++) ordered = (seq[idx[k - 1] as number] as number) <= (seq[idx[k] as number] as number);
  if (!ordered) idx.sort((a, b) => (seq[a] as number) - (seq[b] as number));
  const runs: number[][] = [];
  let start = 0;
  let tMin = 0;
  let tMax = 0;
  for (let k = 0; k < idx.length; k++) {
    const i = idx[k] as number;
    const ti = t[i] as number;
    if (
      k > start &&
      ((seq[i] as number) - (seq[idx[start] as number] as number) >= SEQ_SPAN || Math.max(tMax, ti) - Math.min(tMin, ti) >= T_SPAN)
    ) {
      runs.push(idx.slice(start, k));
      start = k;
    }
    if (k === start) {
      tMin = ti;
      tMax = ti;
    } else {
      tMin = Math.min(tMin, ti);
      tMax = Math.max(tMax, ti);
    }
  }
  if (idx.length > start) runs.push(start === 0 ? idx : idx.slice(start));
  return runs;
}

/** The value of an index run (readings sorted by seq, as indexRuns gives them). */
export function encodeIndexRun(txId: string, run: readonly IndexedReading[]): { value: Buffer; maxSeq: number; tMax: number } {
  return encodeIndexRunOf(
    txId,
    run.map((_, i) => i),
    run.map((r) => r.seq),
    run.map((r) => r.t),
  );
}

/** encodeIndexRun over columns: `run` are indexes into `seq` and `t`, sorted by seq (indexRunsOf). */
export function encodeIndexRunOf(
  txId: string,
  run: readonly number[],
  seq: ArrayLike<number>,
  t: ArrayLike<number>,
): { value: Buffer; maxSeq: number; tMax: number } {
  const minSeq = seq[run[0] as number] as number;
  const maxSeq = seq[run[run.length - 1] as number] as number;
  let tMin = Number.MAX_SAFE_INTEGER;
  let tMax = 0;
  const bitmap = Buffer.alloc((maxSeq - minSeq + 8) >> 3);
  for (const i of run) {
    const ti = t[i] as number;
    tMin = Math.min(tMin, ti);
    tMax = Math.max(tMax, ti);
    const bit = (seq[i] as number) - minSeq;
    bitmap[bit >> 3] = (bitmap[bit >> 3] as number) | (1 << (bit & 7));
  }
  const w = new Writer(40 + txId.length + bitmap.length);
  w.u8(VALUE_VERSION);
  w.str8(txId);
  w.u32(minSeq);
  w.u32(maxSeq);
  w.u64(tMin);
  w.u64(tMax);
  w.u16(run.length);
  w.bytes(bitmap);
  return { value: w.done(), maxSeq, tMax };
}

/** Decodes an index run value. */
export function decodeIndexRun(bytes: Uint8Array): IndexRun {
  const r = new Reader(asBuffer(bytes), 'index run');
  const version = r.u8();
  if (version !== VALUE_VERSION) throw new RangeError(`index run: unknown version ${version}`);
  const txId = r.str8();
  const minSeq = r.u32();
  const maxSeq = r.u32();
  const tMin = r.u64();
  const tMax = r.u64();
  const count = r.u16();
  if (maxSeq < minSeq || maxSeq - minSeq >= SEQ_SPAN) throw new RangeError(`index run: seqs ${minSeq}..${maxSeq} are not a run`);
  const bitmap = r.bytes((maxSeq - minSeq + 8) >> 3);
  r.end();
  return { txId, minSeq, maxSeq, tMin, tMax, count, bitmap };
}

/** Does the run hold `seq`? */
export function runHasSeq(run: IndexRun, seq: number): boolean {
  if (seq < run.minSeq || seq > run.maxSeq) return false;
  const bit = seq - run.minSeq;
  return (((run.bitmap[bit >> 3] as number) >> (bit & 7)) & 1) === 1;
}

/**
 * The embedded ledger's binary formats: block headers and transaction envelopes, both
 * versioned, length-prefixed and big-endian (see docs/ledger.md). Hashes are SHA-256 over
 * these exact bytes, so any stored byte that changes changes a hash up the chain.
 *
 * Pure (no Node APIs): an auditor decodes and re-hashes blocks without the database.
 */
import { ByteReader, ByteWriter } from './bytes.js';

/** Format version byte of headers, and of envelopes whose arguments are all text. */
export const FORMAT_VERSION = 1;

/**
 * Format version of an envelope with a binary argument (recordBatch's packed batch, stored as
 * its bytes instead of base64 text): each argument is a kind byte (0 text, 1 bytes) and its
 * length-prefixed bytes. Envelopes whose arguments are all text keep version 1 byte for byte, so
 * every earlier chain still decodes and verifies unchanged.
 */
export const ENVELOPE_BINARY_ARGS_VERSION = 2;

/** Fabric's transaction validation codes, the subset this ledger produces. */
export const ValidationCode = {
  VALID: 0,
  DUPLICATE_TXID: 2,
  MVCC_READ_CONFLICT: 11,
  PHANTOM_READ_CONFLICT: 12,
} as const;
export type ValidationCodeValue = (typeof ValidationCode)[keyof typeof ValidationCode];

/** Name of a validation code, e.g. 'MVCC_READ_CONFLICT'. */
export function validationCodeName(code: number): string {
  for (const [name, value] of Object.entries(ValidationCode)) if (value === code) return name;
  return `UNKNOWN_${code}`;
}

/**
 * A block header. `dataHash` is the RFC 9162 root over the block's transaction hashes;
 * `chainRoot` is the root over the header hashes of every earlier block (0..number-1), which
 * makes inclusion and consistency proofs logarithmic.
 */
export interface BlockHeader {
  readonly number: number;
  readonly timestamp: number;
  readonly txCount: number;
  readonly previousHash: Uint8Array;
  readonly dataHash: Uint8Array;
  readonly chainRoot: Uint8Array;
}

/** Header bytes: version u8, number u64, timestamp u64, txCount u32, previousHash, dataHash, chainRoot (32 each). */
export function encodeHeader(h: BlockHeader): Uint8Array {
  for (const [name, v] of [
    ['previousHash', h.previousHash],
    ['dataHash', h.dataHash],
    ['chainRoot', h.chainRoot],
  ] as const) {
    if (!(v instanceof Uint8Array) || v.length !== 32) throw new RangeError(`block header ${h.number}: ${name} must be 32 bytes`);
  }
  return new ByteWriter(128)
    .u8(FORMAT_VERSION)
    .u64(h.number)
    .u64(h.timestamp)
    .u32(h.txCount)
    .raw(h.previousHash)
    .raw(h.dataHash)
    .raw(h.chainRoot)
    .finish();
}

/** Decodes header bytes; RangeError on a wrong version or length. */
export function decodeHeader(b: Uint8Array): BlockHeader {
  const r = new ByteReader(b);
  const version = r.u8();
  if (version !== FORMAT_VERSION) throw new RangeError(`block header: unknown format version ${version}`);
  const header: BlockHeader = {
    number: r.u64(),
    timestamp: r.u64(),
    txCount: r.u32(),
    previousHash: r.raw(32),
    dataHash: r.raw(32),
    chainRoot: r.raw(32),
  };
  r.end();
  return header;
}

/** A read-set entry: the key and the version (block·2^16 + tx index; 0 = absent) it had when read. */
export interface KeyVersion {
  readonly key: string;
  readonly version: number;
}

/** A range query recorded for phantom-read validation, with the keys and versions it returned. */
export interface RangeRead {
  readonly start: string;
  readonly end: string;
  readonly results: readonly KeyVersion[];
}

/** A public write; `value` null deletes the key. */
export interface Write {
  readonly key: string;
  readonly value: Uint8Array | null;
}

/** A private write as the block records it: hashes only, the value stays in the private store. */
export interface PrivateWriteHash {
  readonly collection: string;
  readonly keyHash: Uint8Array;
  /** SHA-256 of the value; null for a delete. */
  readonly valueHash: Uint8Array | null;
}

/** A private read as the block records it (hashed key, version). */
export interface PrivateReadHash {
  readonly collection: string;
  readonly keyHash: Uint8Array;
  readonly version: number;
}

/** A chaincode event (Fabric keeps at most one per transaction). */
export interface TxEvent {
  readonly name: string;
  readonly payload: Uint8Array;
}

/** Everything a block records about one transaction. */
export interface TxEnvelope {
  readonly txId: string;
  readonly timestamp: number;
  readonly mspId: string;
  readonly creator: string;
  readonly contract: string;
  readonly fn: string;
  /** Text, or bytes (a binary argument: envelope version 2). */
  readonly args: readonly (string | Uint8Array)[];
  readonly reads: readonly KeyVersion[];
  readonly ranges: readonly RangeRead[];
  readonly writes: readonly Write[];
  readonly privateReads: readonly PrivateReadHash[];
  readonly privateWrites: readonly PrivateWriteHash[];
  readonly event: TxEvent | null;
  /** The contract function's response payload. */
  readonly result: Uint8Array;
  /** Validation code, decided by MVCC validation before the block is sealed. */
  readonly code: number;
}

/**
 * An envelope whose read and write sets are still the simulation's maps (key → version, key →
 * value): the ledger encodes those directly, without building a KeyVersion/Write object per key.
 */
export interface TxEnvelopeMaps extends Omit<TxEnvelope, 'reads' | 'writes'> {
  readonly reads: ReadonlyMap<string, number>;
  readonly writes: ReadonlyMap<string, Uint8Array | null>;
}

/** Envelope bytes (the transaction hash is SHA-256 of these). */
export function encodeEnvelope(t: TxEnvelope): Uint8Array {
  return encodeParts(
    t,
    t.reads.length,
    t.reads.map((r): [string, number] => [r.key, r.version]),
    t.writes.length,
    t.writes.map((x): [string, Uint8Array | null] => [x.key, x.value]),
  );
}

/**
 * The same bytes as encodeEnvelope, from the simulation's maps (the commit path). With
 * `valueAt`, records for every written value of at least STATE_REF_MIN_BYTES where it lies in
 * the envelope (key → stateRef), so the state row can refer to it instead of holding a copy.
 */
export function encodeEnvelopeMaps(t: TxEnvelopeMaps, valueAt?: Map<string, number>): Uint8Array {
  return encodeParts(t, t.reads.size, t.reads, t.writes.size, t.writes, valueAt);
}

/**
 * A written value stored once: large values (a batch record of more than ~40 readings) are not
 * copied into their state row (smaller ones, read often — a stored partial — stay there: a
 * reference is resolved by reading its transaction's envelope), which holds instead where the value lies in the envelope of the transaction that wrote
 * it (the row's version names the transaction): `stateRef` = offset · 2^24 + length, an integer
 * in place of the blob (docs/ledger.md §3).
 */
export const STATE_REF_MIN_BYTES = 4096;
const REF_LENGTH = 0x100_0000;

/** The integer a state row holds for a value at [offset, offset + length) of its envelope. */
export function stateRef(offset: number, length: number): number {
  if (length >= REF_LENGTH || offset < 0 || offset * REF_LENGTH + length > Number.MAX_SAFE_INTEGER)
    throw new RangeError(`state reference: value of ${length} bytes at ${offset} does not fit`);
  return offset * REF_LENGTH + length;
}

/** Offset and length of a state reference. */
export function splitStateRef(ref: number): { offset: number; length: number } {
  if (!Number.isSafeInteger(ref) || ref < 0) throw new RangeError(`state reference ${ref} is not a non-negative integer`);
  return { offset: Math.floor(ref / REF_LENGTH), length: ref % REF_LENGTH };
}

/**
 * The envelope's encoded size, from the string lengths: exact for ASCII (the common case: keys,
 * base64 and JSON arguments), so ByteWriter.finish() hands its buffer out without copying it (a
 * ~95 kB copy per 250-reading batch when the estimate was a few bytes over) and the commit
 * worker gets it transferred; non-ASCII text makes it short, and the writer grows.
 */
export function envelopeSize(
  t: Omit<TxEnvelope, 'reads' | 'writes'>,
  reads: Iterable<readonly [string, number]>,
  writes: Iterable<readonly [string, Uint8Array | null]>,
): number {
  // Fixed part: version 1, txId/mspId/creator/contract/fn lengths 5 × 4, timestamp 8, the six
  // list counts 6 × 4, event flag 1, result length 4, validation code 1.
  let size = 59 + t.txId.length + t.mspId.length + t.creator.length + t.contract.length + t.fn.length + t.result.length;
  const binary = hasBinaryArg(t.args);
  for (const a of t.args) size += (binary ? 5 : 4) + a.length;
  for (const [key] of reads) size += 12 + key.length;
  for (const [key, value] of writes) size += 5 + key.length + (value === null ? 0 : 4 + value.length);
  for (const q of t.ranges) {
    size += 12 + q.start.length + q.end.length;
    for (const r of q.results) size += 12 + r.key.length;
  }
  for (const p of t.privateReads) size += 4 + p.collection.length + p.keyHash.length + 8;
  for (const p of t.privateWrites) size += 4 + p.collection.length + p.keyHash.length + 1 + (p.valueHash === null ? 0 : p.valueHash.length);
  if (t.event !== null) size += 8 + t.event.name.length + t.event.payload.length;
  return size;
}

function encodeParts(
  t: Omit<TxEnvelope, 'reads' | 'writes'>,
  readCount: number,
  reads: Iterable<readonly [string, number]>,
  writeCount: number,
  writes: Iterable<readonly [string, Uint8Array | null]>,
  valueAt?: Map<string, number>,
): Uint8Array {
  const w = new ByteWriter(envelopeSize(t, reads, writes));
  const binary = hasBinaryArg(t.args);
  w.u8(binary ? ENVELOPE_BINARY_ARGS_VERSION : FORMAT_VERSION);
  w.str(t.txId).u64(t.timestamp).str(t.mspId).str(t.creator).str(t.contract).str(t.fn);
  w.u32(t.args.length);
  for (const a of t.args) {
    if (!binary) w.str(a as string);
    else if (typeof a === 'string') w.u8(0).str(a);
    else w.u8(1).bytes(a);
  }
  w.u32(readCount);
  for (const [key, version] of reads) w.str(key).u64(version);
  w.u32(t.ranges.length);
  for (const q of t.ranges) {
    w.str(q.start).str(q.end).u32(q.results.length);
    for (const r of q.results) w.str(r.key).u64(r.version);
  }
  w.u32(writeCount);
  for (const [key, value] of writes) {
    w.str(key);
    if (value === null) w.u8(0);
    else {
      w.u8(1);
      if (valueAt !== undefined && value.length >= STATE_REF_MIN_BYTES) valueAt.set(key, stateRef(w.length + 4, value.length));
      w.bytes(value);
    }
  }
  w.u32(t.privateReads.length);
  for (const p of t.privateReads) w.str(p.collection).raw(p.keyHash).u64(p.version);
  w.u32(t.privateWrites.length);
  for (const p of t.privateWrites) {
    w.str(p.collection).raw(p.keyHash);
    if (p.valueHash === null) w.u8(0);
    else w.u8(1).raw(p.valueHash);
  }
  if (t.event === null) w.u8(0);
  else w.u8(1).str(t.event.name).bytes(t.event.payload);
  w.bytes(t.result).u8(t.code);
  return w.finish();
}

/** Decodes envelope bytes; RangeError on truncation, trailing bytes or a wrong version. */
export function decodeEnvelope(b: Uint8Array): TxEnvelope {
  const r = new ByteReader(b);
  const version = r.u8();
  if (version !== FORMAT_VERSION && version !== ENVELOPE_BINARY_ARGS_VERSION)
    throw new RangeError(`tx envelope: unknown format version ${version}`);
  const txId = r.str();
  const timestamp = r.u64();
  const mspId = r.str();
  const creator = r.str();
  const contract = r.str();
  const fn = r.str();
  const args: (string | Uint8Array)[] =
    version === FORMAT_VERSION
      ? times(r.u32(), () => r.str())
      : times(r.u32(), () => {
          const kind = r.u8();
          if (kind === 0) return r.str();
          if (kind === 1) return r.bytes();
          throw new RangeError(`tx envelope: unknown argument kind ${kind}`);
        });
  // Version 2 exists only for a binary argument: the same envelope with text only is version 1.
  if (version === ENVELOPE_BINARY_ARGS_VERSION && !hasBinaryArg(args))
    throw new RangeError('tx envelope: version 2 without a binary argument (it must be encoded as version 1)');
  const reads = times(r.u32(), () => ({ key: r.str(), version: r.u64() }));
  const ranges = times(r.u32(), () => ({
    start: r.str(),
    end: r.str(),
    results: times(r.u32(), () => ({ key: r.str(), version: r.u64() })),
  }));
  const writes = times(r.u32(), () => {
    const key = r.str();
    return { key, value: r.u8() === 0 ? null : r.bytes() };
  });
  const privateReads = times(r.u32(), () => ({ collection: r.str(), keyHash: r.raw(32), version: r.u64() }));
  const privateWrites = times(r.u32(), () => {
    const collection = r.str();
    const keyHash = r.raw(32);
    return { collection, keyHash, valueHash: r.u8() === 0 ? null : r.raw(32) };
  });
  const event = r.u8() === 0 ? null : { name: r.str(), payload: r.bytes() };
  const result = r.bytes();
  const code = r.u8();
  r.end();
  return { txId, timestamp, mspId, creator, contract, fn, args, reads, ranges, writes, privateReads, privateWrites, event, result, code };
}

function hasBinaryArg(args: readonly (string | Uint8Array)[]): boolean {
  for (const a of args) if (typeof a !== 'string') return true;
  return false;
}

function times<T>(n: number, f: () => T): T[] {
  const out: T[] = [];
  for (let i = 0; i < n; i++) out.push(f());
  return out;
}

/** Versions pack (block, tx index) so they order like Fabric's height. */
export const TX_PER_BLOCK_LIMIT = 65_535;

/** The version a write in tx `txIndex` of block `block` gets. */
export function versionOf(block: number, txIndex: number): number {
  return block * 65_536 + txIndex;
}

/** (block, tx index) of a version. */
export function splitVersion(version: number): { block: number; txIndex: number } {
  return { block: Math.floor(version / 65_536), txIndex: version % 65_536 };
}

/**
 * Decoded batch records and their Merkle trees, kept for the read-only lookups (verify, get,
 * signatureLevel): an auditor asking about every reading of a batch of n made each `verify`
 * decode the batch record and rebuild its tree — O(n) per question, O(n²) per batch (11 % of the
 * ledger's CPU at 5 nodes × 100 packets/s in the paper's Fig. 8, docs/evaluation.md).
 *
 * A cached entry is used only for the very same bytes the world state returned now (compared in
 * full, a memcmp: far cheaper than decoding and n leaf hashes + n − 1 node hashes), so a batch
 * record changed under its key (it never is: a batch key is written once) is decoded afresh. The
 * cache is a small LRU per process; a decoded record is never modified by its users.
 */
import { Lru } from '../../../shared/lru.js';
import { batchLeaves, decodeBatchRecord, merkleLevels, merklePath, type BatchProof, type BatchRecord } from './batch-layout.js';

/** Batch records kept (recent batches are the ones asked about). */
const CAPACITY = 64;

interface Entry {
  readonly bytes: Buffer;
  readonly record: BatchRecord;
  /** The tree's levels (leaf hashes first), built on the first proof asked of this record. */
  levels?: Buffer[];
}

const entries = new Lru<string, Entry>(CAPACITY);
const byRecord = new WeakMap<BatchRecord, Entry>();

const asBuffer = (b: Uint8Array): Buffer => (Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength));

/** The decoded batch record stored under `key` with value `bytes`: from the cache when the bytes are the same. */
export function cachedBatchRecord(key: string, bytes: Uint8Array): BatchRecord {
  const had = entries.get(key);
  const value = asBuffer(bytes);
  if (had !== undefined && had.bytes.equals(value)) return had.record;
  // Decoded from a copy: the caller's buffer may be reused or changed after this returns, and the
  // record's fields may view the bytes they were decoded from.
  const copy = Buffer.from(value);
  const record = decodeBatchRecord(copy);
  const entry: Entry = { bytes: copy, record };
  entries.set(key, entry);
  byRecord.set(record, entry);
  return record;
}

/**
 * The path from leaf `leafIndex` to the batch root, checked against the stored root — as
 * batchProof (batch-layout.ts), with the tree built once per cached record.
 */
export function cachedBatchProof(batch: BatchRecord, leafIndex: number): BatchProof {
  const entry = byRecord.get(batch);
  let levels = entry?.levels;
  if (levels === undefined) {
    levels = merkleLevels(batchLeaves(batch), batch.leaves);
    const root = levels[levels.length - 1] as Buffer;
    if (!root.equals(batch.root)) throw new RangeError('batch record: its readings do not hash to its stored root');
    if (entry !== undefined) entry.levels = levels;
  }
  return {
    root: (levels[levels.length - 1] as Buffer).toString('hex'),
    leafIndex,
    leaves: batch.leaves,
    path: merklePath(levels, leafIndex).map((h) => h.toString('hex')),
  };
}

/** Forgets every cached record (tests). */
export function clearBatchCache(): void {
  entries.clear();
}

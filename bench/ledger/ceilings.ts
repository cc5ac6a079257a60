/**
 * The two ceilings the ledger benchmark prints beside its figure, measured in the same run:
 *
 *   validation floor  HMAC-SHA256 (the tag check, under K_tag over "pv2:r" ‖ the reading v2
 *                     bytes) + SHA-256 (dataHash) per reading on one core,
 *                     exactly as the contract computes them (logic/mac.ts), nothing else: no
 *                     ledger can validate faster on one thread;
 *   SQLite ceiling    the ledger's own block writer (embedded/writer.ts, same schema, pragmas and
 *                     sync mode) committing blocks made of exactly the rows the batch layout
 *                     writes per transaction — the transaction's envelope (its packed batch and
 *                     its writes, the batch record among them), the batch record's state row (a
 *                     reference into the envelope: stored once), per device its replay window
 *                     (replacing the previous version) and two index runs, the event — with no
 *                     validation.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { PreparedMac, sha256Into } from '../../ledger-bridge/contracts/logic/mac.js';
import { blockWriter, configure, SCHEMA, type BlockWrite } from '../../ledger-bridge/embedded/writer.js';
import { stateRef } from '../../ledger-bridge/embedded/codec.js';
import { encodeReading } from '../../shared/encoding/reading.js';
import { DOMAIN_READING } from '../../shared/crypto/domains.js';
import type { SyncMode } from '../../ledger-bridge/embedded/store.js';
import type { Versioned } from '../../ledger-bridge/embedded/stub.js';

/** µs of HMAC-SHA256 + SHA-256 per reading on this thread (best of `rounds`), and the rate it allows. */
export function validationFloor(readings = 50_000, rounds = 3): { usPerReading: number; readingsPerSecond: number } {
  const key = randomBytes(32);
  const msgs: Buffer[] = [];
  const tags: Buffer[] = [];
  for (let i = 0; i < 1000; i++) {
    const canonical = Buffer.from(
      encodeReading({
        deviceId: `bench-${String(i % 50).padStart(3, '0')}`,
        seq: i,
        t: 1_700_000_000_000 + i * 1000,
        epoch: 1,
        partialDigest: new Uint8Array(32).fill(7),
        batteryMv: 3300,
        channels: [{ id: 0, scale: -2, value: 2000 + i }],
        bootCount: 1,
        uptimeMs: i * 1000,
      }),
    );
    msgs.push(canonical);
    tags.push(createHmac('sha256', key).update(DOMAIN_READING, 'latin1').update(canonical).digest());
  }
  const mac = new PreparedMac(key, DOMAIN_READING);
  const out = Buffer.alloc(32);
  let best = Infinity;
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    for (let i = 0; i < readings; i++) {
      const m = msgs[i % 1000] as Buffer;
      if (!mac.verify(m, tags[i % 1000] as Buffer)) throw new Error('validation floor: tag mismatch');
      sha256Into(m, out);
    }
    best = Math.min(best, ((performance.now() - t0) * 1000) / readings);
  }
  return { usPerReading: best, readingsPerSecond: 1e6 / best };
}

/** Sizes of what one batch writes, measured from a real batch of the run. */
export interface BatchShape {
  readonly readings: number;
  readonly devicesPerBatch: number;
  /** Bytes of the transaction envelope (args + writes + result + event), per batch. */
  readonly envelopeBytes: number;
  /** Bytes of the batch record value. */
  readonly recordBytes: number;
}

/**
 * Raw SQLite rate for the batch layout's rows: blocks of `blockMaxTx` transactions through the
 * ledger's block writer. Returns readings/s and rows/s.
 */
export async function sqliteCeiling(
  path: string,
  shape: BatchShape,
  opts: { sync: SyncMode; blockMaxTx: number; readings: number; devices: number },
): Promise<{ readingsPerSecond: number; rowsPerSecond: number; rowsPerBatch: number }> {
  const { default: Database } = await import('better-sqlite3');
  const db = new Database(path);
  configure(db, opts.sync);
  db.exec(SCHEMA);
  // The bench writes no private data: the sealer is never called.
  const write = blockWriter(db, (_c, _k, _v, value) => Buffer.from(value));
  const envelope = randomBytes(shape.envelopeBytes);
  const record = randomBytes(shape.recordBytes);
  const window = randomBytes(51);
  const run = randomBytes(80);
  const event = randomBytes(120);
  const total = Math.min(opts.readings, 400_000);
  const batches = Math.ceil(total / shape.readings);
  const seen = new Set<string>();
  let tx = 0;
  let rows = 0;
  const t0 = performance.now();
  for (let block = 1; tx < batches; block++) {
    const state = new Map<string, Versioned>();
    // The batch record is stored once, in the envelope: its state row is a reference (stateRef).
    const refs = new Map<string, number>();
    const replaced: string[] = [];
    const txs: BlockWrite['txs'][number][] = [];
    const events: BlockWrite['events'][number][] = [];
    for (let i = 0; i < opts.blockMaxTx && tx < batches; i++, tx++) {
      const version = block * 65_536 + i;
      const txId = tx.toString(16).padStart(64, '0');
      txs.push({ block, index: i, txId, code: 0, envelope, hash: envelope.subarray(0, 32) });
      events.push({ block, index: i, txId, contract: 'DataProvenance', name: 'ReadingsRecorded', payload: event });
      const batchKey = `\u0000batch\u0000${txId}\u0000`;
      state.set(batchKey, { version, value: record });
      refs.set(batchKey, stateRef(shape.envelopeBytes - shape.recordBytes - 200, shape.recordBytes));
      for (let d = 0; d < shape.devicesPerBatch; d++) {
        const dev = `bench-${String((tx * shape.devicesPerBatch + d) % opts.devices).padStart(3, '0')}`;
        const wk = `\u0000window\u0000${dev}\u0000`;
        if (seen.has(wk)) replaced.push(wk);
        seen.add(wk);
        state.set(wk, { version, value: window });
        const seq = String(tx).padStart(10, '0');
        state.set(`seqIndex\u0001${dev}\u0001${seq}`, { version, value: run });
        state.set(`timeIndex\u0001${dev}\u0001${String(1_700_000_000_000 + tx).padStart(16, '0')}\u0001${seq}`, { version, value: run });
      }
    }
    const retired = [...new Set(replaced)];
    // blocks, txs, events, state rows, and a history row per replaced window.
    rows += 1 + txs.length + events.length + state.size + retired.length;
    write({
      header: { number: block, timestamp: 0, txCount: txs.length, previousHash: envelope, dataHash: envelope, chainRoot: envelope },
      headerBytes: envelope.subarray(0, 117),
      hash: envelope.subarray(0, 32),
      txs,
      state,
      refs,
      replaced: retired,
      superseded: [],
      privateWrites: [],
      events,
      nodes: [{ level: 0, idx: block, hash: envelope.subarray(0, 32) }],
    });
  }
  const seconds = (performance.now() - t0) / 1000;
  db.close();
  return { readingsPerSecond: (batches * shape.readings) / seconds, rowsPerSecond: rows / seconds, rowsPerBatch: rows / batches };
}

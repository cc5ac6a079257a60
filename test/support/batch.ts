/**
 * Batches of signed readings for the batch-path tests (test/contracts/batch-*.test.ts): packed
 * and parsed as the contract gets them (parseBatchArg), the crypto job recordBatch runs on them
 * (built by the contract's own cryptoJobFor, as logic/readings.ts's pass B builds it), and the batch
 * record it stores.
 */
import { createHmac } from 'node:crypto';
import { cryptoJobFor, type CryptoJob, type CryptoResult } from '../../ledger-bridge/contracts/logic/batch-crypto.js';
import { parseBatchArg } from '../../ledger-bridge/contracts/logic/batch-input.js';
import { encodeBatchRecord } from '../../ledger-bridge/contracts/logic/batch-layout.js';
import { readingColumns } from '../../ledger-bridge/contracts/logic/reading-fields.js';
import { DOMAIN_READING } from '../../shared/crypto/domains.js';
import { encodePackedBatch, packedBatchArg } from '../../shared/encoding/batch.js';
import { encodeReading } from '../../shared/encoding/reading.js';

/** One reading of a test batch: its device, seq, time and the device's K_tag (a forged one is tagged under zeros). */
export interface BatchReadingSpec {
  readonly device: string;
  readonly seq: number;
  readonly t: number;
  readonly key: Uint8Array;
  readonly forged?: boolean;
  /** That many channels of large values (canonical bytes of other lengths); default one channel of value = its index. */
  readonly channels?: number;
}

/** The parsed batch argument (what recordBatch works on). */
export type ParsedBatch = ReturnType<typeof parseBatchArg>;

/** A batch of signed readings, packed as the edge sends it and parsed as the contract does. */
export function signedBatch(spec: readonly BatchReadingSpec[]): ParsedBatch {
  const digest = new Uint8Array(32).fill(5);
  const readings = spec.map((s, i) => {
    const canonical = encodeReading({
      deviceId: s.device,
      seq: s.seq,
      t: s.t,
      epoch: 3,
      partialDigest: digest,
      batteryMv: 3000,
      channels: Array.from({ length: s.channels ?? 1 }, (_, c) => ({
        id: c + 1,
        scale: 0,
        value: s.channels === undefined ? i : 2_000_000_000 + c,
      })),
      bootCount: 4,
      uptimeMs: 60_000 + s.seq,
    });
    const tag = createHmac('sha256', s.forged ? Buffer.alloc(32) : s.key)
      .update(DOMAIN_READING, 'latin1')
      .update(canonical)
      .digest();
    return { canonical, tag, edgeId: 'edge-1', receivedAt: s.t + 7, path: [`device:${s.device}`, 'edge:edge-1'] };
  });
  return parseBatchArg(packedBatchArg(encodePackedBatch(readings)));
}

/** The crypto job of every reading of the batch, each under keys[keyOfDevice(its device)]. */
export function cryptoJobOf(input: ParsedBatch, keys: readonly Uint8Array[], keyOfDevice: (deviceId: string) => number): CryptoJob {
  const cols = readingColumns(input.data, input.canonicalAt, input.canonicalLength, input.count, input.problem);
  return cryptoJobFor(
    input,
    Uint32Array.from({ length: input.count }, (_, i) => i),
    Uint16Array.from({ length: input.count }, (_, i) => keyOfDevice(cols.devices[cols.dev[i] as number] as string)),
    keys,
  );
}

/** The batch record recordBatch stores for the `accepted` readings (indexes in batch order), with its root. */
export function batchRecordOf(input: ParsedBatch, result: CryptoResult, accepted: Uint32Array): ReturnType<typeof encodeBatchRecord> {
  const cols = readingColumns(input.data, input.canonicalAt, input.canonicalLength, input.count, input.problem);
  const pick = (all: Buffer): Buffer => Buffer.concat([...accepted].map((i) => all.subarray(32 * i, 32 * i + 32)));
  return encodeBatchRecord(
    {
      ...cols,
      receivedAt: input.receivedAt,
      route: input.route,
      data: input.data,
      tagAt: input.tagAt,
      accepted,
      dataHash: pick(result.dataHash),
      leaf: pick(result.leaf),
    },
    input.routeBytes,
  );
}

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../ledger-bridge/contracts/logic/canonical.js';
import { provenanceRecordJson } from '../../ledger-bridge/contracts/logic/record-json.js';
import type { ProvenanceRecord } from '../../shared/records.js';

const hex = (n: number) => fc.uint8Array({ minLength: n, maxLength: n }).map((b) => Buffer.from(b).toString('hex'));
// Free-form fields with quotes, backslashes, control characters and non-ASCII, which need escaping.
const text = fc.string({
  unit: fc.oneof(
    fc.constantFrom('"', '\\', '\n', '\u0001', '\u2028', 'é', '😀'),
    fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }),
  ),
  minLength: 1,
  maxLength: 20,
});
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const ms = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });

const record: fc.Arbitrary<ProvenanceRecord> = fc.record({
  dataHash: hex(32),
  deviceId: text,
  edgeId: text,
  epoch: u32,
  partialDigest: hex(32),
  path: fc.array(text, { minLength: 1, maxLength: 8 }),
  receivedAt: ms,
  seq: u32,
  status: fc.constant('valid' as const),
  t: ms,
  tag: hex(32),
  txId: text,
});

describe('provenanceRecordJson', () => {
  it('is byte-identical to canonicalJson and to JSON.stringify of the sorted record', () => {
    fc.assert(
      fc.property(record, (r) => {
        const out = provenanceRecordJson(r);
        expect(Buffer.from(out)).toEqual(Buffer.from(canonicalJson(r)));
        expect(out).toBe(JSON.stringify(r));
        expect(JSON.parse(out)).toEqual(r);
      }),
      { numRuns: 2000 },
    );
  });

  it('writes every field of a record (none dropped)', () => {
    const r: ProvenanceRecord = {
      dataHash: 'aa'.repeat(32),
      deviceId: 'dev-1',
      edgeId: 'edge-1',
      epoch: 0,
      partialDigest: 'bb'.repeat(32),
      path: ['dev-1', 'edge-1'],
      receivedAt: 1,
      seq: 4294967295,
      status: 'valid',
      t: 0,
      tag: 'cc'.repeat(32),
      txId: 'tx',
    };
    expect(Object.keys(JSON.parse(provenanceRecordJson(r)) as object)).toEqual(Object.keys(r));
    expect(provenanceRecordJson(r)).toBe(canonicalJson(r));
  });
});

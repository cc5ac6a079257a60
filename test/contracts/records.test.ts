import { describe, expect, it } from 'vitest';
import { ProvenantError } from '../../shared/errors.js';
import { encodeReadingBatch, parseBatchResult, parseProvenanceRecord, parseReadingBatch, toSubmission } from '../../shared/records.js';
import { decodeReading } from '../../shared/encoding/reading.js';
import { fromHex } from '../../shared/encoding/hex.js';

const reading = {
  deviceId: 'dev-1',
  seq: 7,
  t: 1_700_000_000_000,
  epoch: 3,
  partialDigest: new Uint8Array(32).fill(9),
  batteryMv: 3300,
  channels: [{ id: 0, scale: -2, value: 2315 }],
};
const submission = toSubmission({ reading, tag: new Uint8Array(32).fill(1) }, 'edge-1', 1_700_000_000_050, ['device:dev-1', 'edge:edge-1']);

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return err instanceof ProvenantError ? `${err.code}:${String(err.details.field)}` : String(err);
  }
  return 'no error';
}

describe('shared/records', () => {
  it('builds a submission whose canonical hex decodes back to the reading', () => {
    const back = decodeReading(fromHex(submission.canonical));
    expect(back.deviceId).toBe('dev-1');
    expect(back.seq).toBe(7);
    expect(submission.tag).toBe('01'.repeat(32));
  });

  it('round-trips a batch through its JSON text', () => {
    const batch = { version: 1 as const, readings: [submission], partials: [] };
    expect(parseReadingBatch(encodeReadingBatch(batch))).toEqual(batch);
  });

  it('rejects malformed batches naming the field', () => {
    const ok = { version: 1, readings: [submission] };
    expect(codeOf(() => parseReadingBatch('{nope'))).toBe('PROV_ERR_BAD_INPUT:batch');
    expect(codeOf(() => parseReadingBatch({ ...ok, version: 2 }))).toBe('PROV_ERR_BAD_INPUT:version');
    expect(codeOf(() => parseReadingBatch({ ...ok, readings: [] }))).toBe('PROV_ERR_BAD_INPUT:readings');
    expect(codeOf(() => parseReadingBatch({ ...ok, readings: [{ ...submission, tag: 'ab' }] }))).toBe('PROV_ERR_BAD_INPUT:readings[0].tag');
    expect(codeOf(() => parseReadingBatch({ ...ok, readings: [{ ...submission, canonical: 'xyz' }] }))).toBe(
      'PROV_ERR_BAD_INPUT:readings[0].canonical',
    );
    expect(codeOf(() => parseReadingBatch({ ...ok, readings: [{ ...submission, receivedAt: -1 }] }))).toBe(
      'PROV_ERR_BAD_INPUT:readings[0].receivedAt',
    );
    expect(codeOf(() => parseReadingBatch({ ...ok, readings: [{ ...submission, path: [] }] }))).toBe('PROV_ERR_BAD_INPUT:readings[0].path');
    expect(codeOf(() => parseReadingBatch({ ...ok, partials: {} }))).toBe('PROV_ERR_BAD_INPUT:partials');
  });

  it('lower-cases hex so equal bytes compare equal', () => {
    const upper = { ...submission, tag: submission.tag.toUpperCase() };
    expect(parseReadingBatch({ version: 1, readings: [upper] }).readings[0]?.tag).toBe(submission.tag);
  });

  it('parses results and records, refusing wrong shapes', () => {
    expect(parseBatchResult('{"txId":"t1","accepted":2,"rejected":[]}')).toEqual({ txId: 't1', accepted: 2, rejected: [] });
    expect(codeOf(() => parseBatchResult({ txId: 't1', accepted: -1, rejected: [] }))).toBe('PROV_ERR_BAD_INPUT:accepted');
    const record = {
      dataHash: 'aa'.repeat(32),
      deviceId: 'dev-1',
      edgeId: 'edge-1',
      epoch: 3,
      partialDigest: '09'.repeat(32),
      path: ['device:dev-1'],
      receivedAt: 5,
      seq: 7,
      status: 'valid',
      t: 4,
      tag: '01'.repeat(32),
      txId: 'tx',
    };
    expect(parseProvenanceRecord(JSON.stringify(record))).toEqual(record);
    expect(codeOf(() => parseProvenanceRecord({ ...record, status: 'rejected' }))).toBe('PROV_ERR_BAD_INPUT:status');
    expect(codeOf(() => parseProvenanceRecord({ ...record, dataHash: 'aa' }))).toBe('PROV_ERR_BAD_INPUT:record.dataHash');
  });
});

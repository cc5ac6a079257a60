/**
 * The canonical JSON of a provenance record, written out field by field. recordBatch stores one
 * per accepted reading; a fixed template in sorted key order gives the same bytes as
 * canonicalJson (test/contracts/record-json.test.ts checks byte identity) for less than
 * JSON.stringify's cost, which counts at 100,000 readings/s.
 *
 * Only free-form strings go through JSON.stringify. The hex fields (dataHash, partialDigest, tag)
 * are lower-case hex by construction in judgeReading and need no escaping; the numbers are safe
 * integers, whose decimal text is what JSON.stringify writes.
 */
import type { ProvenanceRecord } from '../../../shared/records.js';

const q = JSON.stringify;

/** canonicalJson(record) for a record as judgeReading makes it (hex fields, safe integers). */
export function provenanceRecordJson(r: ProvenanceRecord): string {
  return (
    (r.bootCount === undefined ? '{' : `{"bootCount":${r.bootCount},`) +
    `"dataHash":"${r.dataHash}","deviceId":${q(r.deviceId)},"edgeId":${q(r.edgeId)},"epoch":${r.epoch},` +
    `"partialDigest":"${r.partialDigest}","path":${q(r.path)},"receivedAt":${r.receivedAt},"seq":${r.seq},` +
    `"status":"valid","t":${r.t},"tag":"${r.tag}","txId":${q(r.txId)}` +
    (r.uptimeMs === undefined ? '}' : `,"uptimeMs":${r.uptimeMs}}`)
  );
}

/**
 * Data Provenance validation of one reading (talk, Algorithm 3, write side; BRIEF §3
 * "Validate"), deterministic given what the ledger holds. Checks, in this order, the first
 * failure deciding the reason:
 *
 *   1. MALFORMED        submission or canonical bytes do not parse; a version 1 reading (its tag
 *                       is under K_IoT, which the ledger no longer holds)
 *   2. UNKNOWN_DEVICE / REVOKED   registry (and no key deposit counts as unknown)
 *   3. UNKNOWN_PARTIAL  no validated partial under the reading's partialDigest
 *      (or the partial's own reason when the batch carried an invalid one)
 *   4. PROOF_BINDING    partial of another device or another edge than the submitter's
 *      WRONG_EPOCH      reading epoch ≠ partial epoch
 *      POLICY_UNSATISFIED  the partial's policy is no longer among the ledger's policies
 *   5. BAD_TAG          tag ≠ HMAC-SHA256(K_tag, "pv2:r" ‖ canonical bytes)
 *   6. CLOCK_AHEAD      t more than the configured skew ahead of the commit time (logic/clock.ts)
 *   7. REPLAY           (deviceId, seq) already on the ledger or earlier in the same batch;
 *                       `duplicate` when it is exactly the recorded reading (an edge resend)
 *
 * Per reading: one getState (the reading key), one HMAC, one SHA-256; device, key deposit and
 * partial lookups are cached per batch by the caller's view. An accepted record carries the
 * reading's boot count and uptime.
 */
import { decodeReading, READING_VERSION } from '../../../shared/encoding/reading.js';
import { checkDevice, REASONS, type ReasonCode } from '../../../shared/crypto/verdict.js';
import type { ProvenanceRecord, ReadingSubmission, RejectedReading } from '../../../shared/records.js';
import { decodeSubmission } from './submission.js';
import type { DeviceRecord } from './registration.js';
import type { PartialOutcome } from './partials.js';
import { sha256Hex, type PreparedMac } from './mac.js';
import { checkNotAhead } from './clock.js';

/** What the validator needs to know from the ledger (the contract caches it per batch). */
export interface ReadingLedgerView {
  device(deviceId: string): Promise<DeviceRecord | undefined>;
  /** The device's K_tag prepared for reading tags (label included), undefined without a deposit. */
  mac(deviceId: string): Promise<PreparedMac | undefined>;
  /** The commit time (transaction timestamp, ms) and the configured clock skew (ms). */
  clock(): Promise<{ readonly commitMs: number; readonly skewMs: number }>;
  /** The partial stored (or judged in this batch) under a digest; undefined if unknown. */
  partial(partialDigest: string): Promise<PartialOutcome | undefined>;
  /** Does the ledger still accept partials under this policyId (setPolicies may have dropped it)? */
  policyAccepted(policyId: string): Promise<boolean>;
  /** dataHash of the record under (deviceId, seq), undefined if none. */
  recordedHash(deviceId: string, seq: number): Promise<string | undefined>;
}

/** One reading's outcome. */
export type ReadingOutcome =
  { readonly ok: true; readonly record: ProvenanceRecord } | { readonly ok: false; readonly rejected: RejectedReading };

function reject(index: number, deviceId: string, seq: number, reason: ReasonCode, message: string, duplicate = false): ReadingOutcome {
  return {
    ok: false,
    rejected: duplicate ? { index, deviceId, seq, reason, message, duplicate: true } : { index, deviceId, seq, reason, message },
  };
}

/**
 * Judges the submission at `index`. `inBatch` maps "deviceId\u0000seq" → dataHash of readings
 * accepted earlier in the same transaction (Fabric reads do not see the transaction's own writes).
 */
export async function judgeReading(
  view: ReadingLedgerView,
  input: unknown,
  index: number,
  txId: string,
  inBatch: Map<string, string>,
): Promise<ReadingOutcome> {
  let sub: ReadingSubmission;
  let bytes: Buffer;
  let reading;
  try {
    ({ sub, bytes } = decodeSubmission(input, index));
    reading = decodeReading(bytes);
  } catch (err) {
    return reject(index, '', -1, REASONS.MALFORMED, (err as Error).message);
  }
  const { deviceId, seq, epoch } = reading;
  const who = `device ${deviceId} seq ${seq}`;
  if (bytes[0] !== READING_VERSION) {
    return reject(
      index,
      deviceId,
      seq,
      REASONS.MALFORMED,
      `${who}: reading version ${String(bytes[0])} is no longer accepted (its tag is under K_IoT, which the ledger does not hold)`,
    );
  }

  const device = await view.device(deviceId);
  const status = checkDevice(deviceId, device?.status);
  if (!status.ok) return reject(index, deviceId, seq, status.reason, status.message);
  const mac = await view.mac(deviceId);
  if (mac === undefined) return reject(index, deviceId, seq, REASONS.UNKNOWN_DEVICE, `${who}: no K_IoT deposit for the device`);

  const digest = Buffer.from(reading.partialDigest).toString('hex');
  const partial = await view.partial(digest);
  if (partial === undefined)
    return reject(index, deviceId, seq, REASONS.UNKNOWN_PARTIAL, `${who}: no validated partial signature ${digest.slice(0, 16)}…`);
  if (!partial.ok) return reject(index, deviceId, seq, partial.reason, `${who}: ${partial.message}`);
  const p = partial.partial;
  if (p.deviceId !== deviceId)
    return reject(index, deviceId, seq, REASONS.PROOF_BINDING, `${who}: partial belongs to device ${p.deviceId}`);
  if (p.epoch !== epoch)
    return reject(index, deviceId, seq, REASONS.WRONG_EPOCH, `${who}: reading epoch ${epoch}, partial epoch ${p.epoch}`);
  if (p.edgeId !== sub.edgeId)
    return reject(
      index,
      deviceId,
      seq,
      REASONS.PROOF_BINDING,
      `${who}: partial was issued by edge ${p.edgeId}, submitted by ${sub.edgeId}`,
    );
  if (!(await view.policyAccepted(p.policyId))) {
    return reject(
      index,
      deviceId,
      seq,
      REASONS.POLICY_UNSATISFIED,
      `${who}: policy ${p.policyId} of its partial is no longer accepted by the ledger`,
    );
  }

  if (!mac.verify(bytes, Buffer.from(sub.tag, 'hex')))
    return reject(index, deviceId, seq, REASONS.BAD_TAG, `${who}: tag does not verify under the device key`);

  const { commitMs, skewMs } = await view.clock();
  const time = checkNotAhead(deviceId, seq, reading.t, commitMs, skewMs);
  if (!time.ok) return reject(index, deviceId, seq, time.reason, time.message);

  const dataHash = sha256Hex(bytes);
  const batchKey = `${deviceId}\u0000${seq}`;
  const earlier = inBatch.get(batchKey) ?? (await view.recordedHash(deviceId, seq));
  if (earlier !== undefined) {
    const same = earlier === dataHash;
    return reject(
      index,
      deviceId,
      seq,
      REASONS.REPLAY,
      same ? `${who} is already recorded (resent)` : `${who} was already recorded with other data`,
      same,
    );
  }
  inBatch.set(batchKey, dataHash);
  // Keys in sorted order: JSON.stringify of this object is its canonical JSON.
  const record: ProvenanceRecord = {
    bootCount: reading.bootCount as number,
    dataHash,
    deviceId,
    edgeId: sub.edgeId,
    epoch,
    partialDigest: digest,
    path: sub.path,
    receivedAt: sub.receivedAt,
    seq,
    status: 'valid',
    t: reading.t,
    tag: sub.tag,
    txId,
    uptimeMs: reading.uptimeMs as number,
  };
  return { ok: true, record };
}

/**
 * Verdicts of the Validate phase, and the pure checks the ledger contract makes with its own state
 * (registry and seen sequence numbers).
 *
 * Validation never answers a bare `false`: every rejection carries a stable reason code, so an
 * edge, a contract and an auditor that reject the same reading report the same reason, and a
 * message that names the device, epoch or seq concerned (never a key).
 */

/** Every reason a partial signature, a reading or a device can be rejected for. */
export const REASONS = {
  /** The BBS proof σp does not verify under the issuer key, header and expected presentation header. */
  BAD_PROOF: 'BAD_PROOF',
  /** The partial is bound to another epoch, device, edge or policy than the one it is used for. */
  PROOF_BINDING: 'PROOF_BINDING',
  /** No clause of the policy is satisfied by the attributes the proof discloses. */
  POLICY_UNSATISFIED: 'POLICY_UNSATISFIED',
  /** The partial claims an attribute value that its proof does not disclose. */
  UNDISCLOSED_ATTRIBUTE: 'UNDISCLOSED_ATTRIBUTE',
  /** The reading's tag is not HMAC-SHA256(K_tag, "pv2:r" ‖ canonical(reading)) under the device's key. */
  BAD_TAG: 'BAD_TAG',
  /** The reading references a partial signature the validator does not know (or of another digest). */
  UNKNOWN_PARTIAL: 'UNKNOWN_PARTIAL',
  /** The reading is completed under another epoch than its partial signature's. */
  WRONG_EPOCH: 'WRONG_EPOCH',
  /** The device is registered but revoked. */
  REVOKED: 'REVOKED',
  /** The device is not registered. */
  UNKNOWN_DEVICE: 'UNKNOWN_DEVICE',
  /** (deviceId, seq) was seen before, or seq does not advance. */
  REPLAY: 'REPLAY',
  /** The reading's t is ahead of the ledger's commit time by more than the configured skew. */
  CLOCK_AHEAD: 'CLOCK_AHEAD',
  /** The reading's t is earlier than the t of a lower seq of the same device (or later than a higher seq's). */
  CLOCK_BACKWARDS: 'CLOCK_BACKWARDS',
  /** The input is not well-formed (types, lengths, ranges, inconsistent fields). */
  MALFORMED: 'MALFORMED',
} as const;

/** A stable reason code, one of {@link REASONS}. */
export type ReasonCode = (typeof REASONS)[keyof typeof REASONS];

/** The outcome of a validation step: accepted, or rejected with a reason and a readable message. */
export type Verdict = { readonly ok: true } | { readonly ok: false; readonly reason: ReasonCode; readonly message: string };

/** The accepting verdict (one shared frozen object: verdicts are values). */
export const OK: Verdict = Object.freeze({ ok: true as const });

/** Builds a rejecting verdict. */
export function reject(reason: ReasonCode, message: string): Verdict {
  return { ok: false, reason, message };
}

/** Registry status of a device, as the Device Registration contract stores it. */
export type DeviceStatus = 'active' | 'revoked';

/**
 * Is this device allowed to submit readings? `status` is what the registry holds for `deviceId`
 * (`undefined` when the device was never registered). Pure: the contract looks the status up and
 * calls this, so the embedded ledger and Fabric decide alike.
 */
export function checkDevice(deviceId: string, status: DeviceStatus | undefined): Verdict {
  if (status === undefined) return reject(REASONS.UNKNOWN_DEVICE, `device ${deviceId} is not registered`);
  if (status === 'revoked') return reject(REASONS.REVOKED, `device ${deviceId} is revoked`);
  if (status === 'active') return OK;
  return reject(REASONS.MALFORMED, `device ${deviceId} has an unknown registry status`);
}

const U32_MAX = 0xffffffff;

function isU32(n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= U32_MAX;
}

/**
 * Replay check against a per-device high-water mark: `seq` must be a u32 strictly greater than
 * `lastSeen` (`undefined` when no reading of the device was recorded yet). Use this where readings
 * of a device are recorded in order (one batch after another).
 */
export function checkSeq(deviceId: string, lastSeen: number | undefined, seq: number): Verdict {
  if (!isU32(seq)) return reject(REASONS.MALFORMED, `device ${deviceId}: seq ${String(seq)} is not a u32`);
  if (lastSeen !== undefined && seq <= lastSeen) {
    return reject(REASONS.REPLAY, `device ${deviceId}: seq ${seq} replayed (last recorded seq ${lastSeen})`);
  }
  return OK;
}

/**
 * Replay check against a set of seen (deviceId, seq) keys: `seen` says whether the ledger already
 * holds a record under (deviceId, seq). Use this where batches may commit out of order (one
 * composite key per reading keeps concurrent transactions off each other's keys).
 */
export function checkUnseen(deviceId: string, seen: boolean, seq: number): Verdict {
  if (!isU32(seq)) return reject(REASONS.MALFORMED, `device ${deviceId}: seq ${String(seq)} is not a u32`);
  if (seen) return reject(REASONS.REPLAY, `device ${deviceId}: seq ${seq} was already recorded`);
  return OK;
}

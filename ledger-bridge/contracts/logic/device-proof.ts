/**
 * Device Provenance (talk, Algorithm 2) as a pure decision, in the algorithm's branch order:
 *
 *   no device under deviceId            → throw PROV_ERR_DEVICE_NOT_FOUND "could not find the device"
 *   response ≠ HMAC(K_IoT, 'provenant/challenge/v1' ‖ challenge)
 *                                        → throw PROV_ERR_DEVICE_SIGNATURE_MISMATCH "device signature mismatch"
 *   registered metadata = presented      → TRUE  (device identity proven)
 *   otherwise                            → FALSE (with the differing fields)
 *
 * A revoked device answers FALSE (reason REVOKED): its key may be right, its identity no longer
 * stands. The response format is H2's deviceChallengeResponse (shared/crypto/outsourced.ts).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { CONTRACT_ERRORS, contractError } from '../errors.js';
import { metadataDifferences, metadataOf, type DeviceMetadata, type DeviceRecord } from './registration.js';

/** Domain prefix of challenge responses (must equal shared/crypto/outsourced.ts). */
export const CHALLENGE_DOMAIN = 'provenant/challenge/v1';
/** Challenge length bounds in bytes: long enough to be unguessable, short enough for a frame. */
export const MIN_CHALLENGE_BYTES = 16;
export const MAX_CHALLENGE_BYTES = 64;

/** Alg. 2's answer. */
export interface ProveResult {
  readonly verdict: 'TRUE' | 'FALSE';
  readonly deviceId: string;
  readonly bcId: string;
  /** '' for TRUE; 'REVOKED' or 'METADATA_MISMATCH' for FALSE. */
  readonly reason: '' | 'REVOKED' | 'METADATA_MISMATCH';
  /** Metadata fields that differ (FALSE by metadata). */
  readonly differences: readonly string[];
  readonly version: number;
}

/** HMAC-SHA256(K_IoT, domain ‖ challenge): what the device must answer. */
export function expectedResponse(kIoT: Uint8Array, challenge: Uint8Array): Buffer {
  return createHmac('sha256', kIoT).update(CHALLENGE_DOMAIN).update(challenge).digest();
}

/** Decides Alg. 2. `kIoT` undefined means the deposit is not readable here (not in the collection). */
export function decideProve(
  deviceId: string,
  record: DeviceRecord | undefined,
  kIoT: Uint8Array | undefined,
  presented: DeviceMetadata,
  challenge: Uint8Array,
  response: Uint8Array,
): ProveResult {
  if (record === undefined) throw contractError(CONTRACT_ERRORS.DEVICE_NOT_FOUND, `could not find the device ${deviceId}`, { deviceId });
  if (kIoT === undefined)
    throw contractError(CONTRACT_ERRORS.KIOT_MISSING, `no K_IoT deposit of device ${deviceId} is readable on this peer`, { deviceId });
  const expected = expectedResponse(kIoT, challenge);
  if (response.length !== expected.length || !timingSafeEqual(Buffer.from(response), expected)) {
    throw contractError(CONTRACT_ERRORS.DEVICE_SIGNATURE_MISMATCH, `device signature mismatch (device ${deviceId})`, { deviceId });
  }
  const base = { bcId: record.bcId, deviceId, version: record.version };
  if (record.status === 'revoked') return { ...base, differences: [], reason: 'REVOKED', verdict: 'FALSE' };
  const differences = metadataDifferences(metadataOf(record), presented);
  if (differences.length > 0) return { ...base, differences, reason: 'METADATA_MISMATCH', verdict: 'FALSE' };
  return { ...base, differences: [], reason: '', verdict: 'TRUE' };
}

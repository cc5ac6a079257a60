/**
 * Device Provenance (talk, Algorithm 2) as a pure decision, in the algorithm's branch order:
 *
 *   no device under deviceId            → throw PROV_ERR_DEVICE_NOT_FOUND "could not find the device"
 *   response ≠ HMAC(K_chal, 'pv2:c' ‖ challenge)
 *                                        → throw PROV_ERR_DEVICE_SIGNATURE_MISMATCH "device signature mismatch"
 *   registered metadata = presented      → TRUE  (device identity proven)
 *   otherwise                            → FALSE (with the differing fields)
 *
 * A revoked device answers FALSE (reason REVOKED): its key may be right, its identity no longer
 * stands. The response format is shared/crypto/domains.ts challengeResponse (K_chal is the device's
 * challenge subkey; the ledger holds it, not K_IoT), what the board's firmware answers.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { DOMAIN_CHALLENGE } from '../../../shared/crypto/domains.js';
import { CONTRACT_ERRORS, contractError } from '../errors.js';
import { metadataDifferences, metadataOf, type DeviceMetadata, type DeviceRecord } from './registration.js';

/** Domain label of challenge responses (shared/crypto/domains.ts). */
export const CHALLENGE_DOMAIN = DOMAIN_CHALLENGE;
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

/** HMAC-SHA256(K_chal, label ‖ challenge): what the device must answer. */
export function expectedResponse(kChal: Uint8Array, challenge: Uint8Array): Buffer {
  return createHmac('sha256', kChal).update(CHALLENGE_DOMAIN, 'latin1').update(challenge).digest();
}

/** Decides Alg. 2. `kChal` undefined means the deposit is not readable here (not in the collection). */
export function decideProve(
  deviceId: string,
  record: DeviceRecord | undefined,
  kChal: Uint8Array | undefined,
  presented: DeviceMetadata,
  challenge: Uint8Array,
  response: Uint8Array,
): ProveResult {
  if (record === undefined) throw contractError(CONTRACT_ERRORS.DEVICE_NOT_FOUND, `could not find the device ${deviceId}`, { deviceId });
  if (kChal === undefined)
    throw contractError(CONTRACT_ERRORS.KIOT_MISSING, `no key deposit (K_chal) of device ${deviceId} is readable on this peer`, {
      deviceId,
    });
  const expected = expectedResponse(kChal, challenge);
  if (response.length !== expected.length || !timingSafeEqual(Buffer.from(response), expected)) {
    throw contractError(CONTRACT_ERRORS.DEVICE_SIGNATURE_MISMATCH, `device signature mismatch (device ${deviceId})`, { deviceId });
  }
  const base = { bcId: record.bcId, deviceId, version: record.version };
  if (record.status === 'revoked') return { ...base, differences: [], reason: 'REVOKED', verdict: 'FALSE' };
  const differences = metadataDifferences(metadataOf(record), presented);
  if (differences.length > 0) return { ...base, differences, reason: 'METADATA_MISMATCH', verdict: 'FALSE' };
  return { ...base, differences: [], reason: '', verdict: 'TRUE' };
}

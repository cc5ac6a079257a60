/**
 * State layout: every key the contracts write, as Fabric composite keys
 * (ctx.stub.createCompositeKey). One key per reading and per profile, no shared counters, so
 * concurrent batches touch disjoint keys and MVCC conflicts only arise between transactions that
 * really race for the same (deviceId, seq).
 *
 *   config      ['authority']                       LedgerConfig (one-time)
 *   device      [deviceId]                          DeviceRecord (versions in key history)
 *   devkeys     [deviceId]  in collection kIotDeposits  K_tag ‖ K_chal, 64 raw bytes (private data;
 *                                                   never K_IoT or K_maint, shared/crypto/domains.ts)
 *   partial     [partialDigest hex]                 StoredPartial
 *   reading     [deviceId, seq padded to 10]        ProvenanceRecord
 *   readingAt   [deviceId, t padded to 16, seq pad 10]  seq (decimal), the by-timestamp index
 *   profile     [deviceId, window padded to 16]     StoredProfile
 *   profileModel [deviceId]                         ProfileModelState (last accepted profiles)
 *
 * Numbers are zero-padded so that keys sort numerically in range scans.
 */

/**
 * The private data collection holding the devices' key deposits (see deploy/fabric collections
 * config; the name is older than the subkeys: it holds K_tag ‖ K_chal, not K_IoT).
 */
export const KIOT_COLLECTION = 'kIotDeposits';
/** The transient data fields that carry a deposit into register/update: K_tag and K_chal, 32 bytes each. */
export const DEPOSIT_TRANSIENT_KEYS = { kTag: 'kTag', kChal: 'kChal' } as const;
/** The transient field that carried K_IoT itself before subkeys: refused with a clear error. */
export const KIOT_TRANSIENT_KEY = 'kIoT';

/** Object types of the composite keys. */
export const KEY_TYPES = {
  config: 'config',
  device: 'device',
  deviceKeys: 'devkeys',
  partial: 'partial',
  reading: 'reading',
  readingAt: 'readingAt',
  profile: 'profile',
  profileModel: 'profileModel',
} as const;

/** Zero-pads a non-negative safe integer to `width` digits. */
export function pad(n: number, width: number): string {
  const s = String(n);
  return s.length >= width ? s : '0'.repeat(width - s.length) + s;
}

/** Attributes of a reading key. */
export function readingAttrs(deviceId: string, seq: number): string[] {
  return [deviceId, pad(seq, 10)];
}

/** Attributes of a by-timestamp index key. */
export function readingAtAttrs(deviceId: string, t: number, seq: number): string[] {
  return [deviceId, pad(t, 16), pad(seq, 10)];
}

/** Attributes of a profile key. */
export function profileAttrs(deviceId: string, window: number): string[] {
  return [deviceId, pad(window, 16)];
}

/**
 * State layout: every key the contracts write, as Fabric composite keys
 * (ctx.stub.createCompositeKey). One key per reading and per profile, no shared counters, so
 * concurrent batches touch disjoint keys and MVCC conflicts only arise between transactions that
 * really race for the same (deviceId, seq).
 *
 *   config      ['authority']                       LedgerConfig (one-time)
 *   device      [deviceId]                          DeviceRecord (versions in key history)
 *   kiot        [deviceId]  in collection kIotDeposits  K_IoT, 32 raw bytes (private data)
 *   partial     [partialDigest hex]                 StoredPartial
 *   reading     [deviceId, seq padded to 10]        ProvenanceRecord
 *   readingAt   [deviceId, t padded to 16, seq pad 10]  seq (decimal), the by-timestamp index
 *   profile     [deviceId, window padded to 16]     StoredProfile
 *   profileModel [deviceId]                         ProfileModelState (last accepted profiles)
 *
 * Numbers are zero-padded so that keys sort numerically in range scans.
 */

/** The private data collection holding K_IoT deposits (see deploy/fabric collections config). */
export const KIOT_COLLECTION = 'kIotDeposits';
/** The transient data field that carries a K_IoT deposit into register/update. */
export const KIOT_TRANSIENT_KEY = 'kIoT';

/** Object types of the composite keys. */
export const KEY_TYPES = {
  config: 'config',
  device: 'device',
  kIoT: 'kiot',
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

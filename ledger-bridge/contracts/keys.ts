/**
 * State layout: every key the contracts write (docs/contracts.md "State layout"). Composite keys
 * (ctx.stub.createCompositeKey) unless said otherwise:
 *
 *   config      ['authority']                       LedgerConfig (one-time)
 *   device      [deviceId]                          DeviceRecord (versions in key history)
 *   devkeys     [deviceId]  in collection kIotDeposits  K_tag ‖ K_chal, 64 raw bytes (private data;
 *                                                   never K_IoT or K_maint, shared/crypto/domains.ts)
 *   partial     [partialDigest hex]                 StoredPartial
 *   window      [deviceId]                          the device's replay window (logic/replay-window.ts)
 *   batch       [txId]                              the batch record: a batch's accepted readings
 *                                                   and their Merkle root (logic/batch-layout.ts)
 *   seqIndex    simple key, see seqIndexKey         an index run of a batch: its seqs of a device
 *   timeIndex   simple key, see timeIndexKey        the same run, by device time
 *   reading     [deviceId, seq padded to 10]        ProvenanceRecord — layout v1 (before batch
 *   readingAt   [deviceId, t padded to 16, seq pad 10]  records); read, never written now
 *   profile     [deviceId, window padded to 16]     StoredProfile
 *   profileModel [deviceId]                         ProfileModelState (last accepted profiles)
 *   edge        [edgeId]                            EdgeRecord (the edge registry, kept by the authority)
 *   edgeIdentity [mspId, client id]                 edgeId (JSON string): which edge an identity acts as
 *   challenge   [deviceId, challenge hex]           IssuedChallenge (Device Provenance; deleted when answered)
 *   traffic     ['device' | 'class', name]          TrafficEntry: thresholds pinned by the authority
 *   trafficMember [class, deviceId]                 deviceId: the devices of a class (the site's peers)
 *   trafficMark [class, mark as 8 hex digits]       MarkOrigin: the first device and window that sent a mark
 *   sigKeySet   [deviceId, keySet padded to 10]     StoredKeySet: a board's key set >= 1 and the body vouching for it
 *   sigLeaf     [deviceId, keySet pad 10, q pad 10] hex SHA-256 of the SIG body signed with that one-time key
 *   epochSig    simple key, see epochSigKey         StoredEpochSignature: a signed epoch segment
 *
 * The index keys are simple keys because Fabric allows range queries (getStateByRange) over
 * simple keys only, and a lookup of seq s must scan the runs with maxSeq in [s, s + SEQ_SPAN).
 * Their parts are separated by U+0001, which no deviceId contains (printable ASCII). Numbers are
 * zero-padded so that keys sort numerically.
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
  window: 'window',
  batch: 'batch',
  profile: 'profile',
  profileModel: 'profileModel',
  edge: 'edge',
  edgeIdentity: 'edgeIdentity',
  challenge: 'challenge',
  traffic: 'traffic',
  trafficMember: 'trafficMember',
  trafficMark: 'trafficMark',
  sigKeySet: 'sigKeySet',
  sigLeaf: 'sigLeaf',
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

const SEP = '\u0001';

/** Key of an index run by seq: seqIndex · deviceId · maxSeq (10 digits). */
export function seqIndexKey(deviceId: string, maxSeq: number): string {
  return `seqIndex${SEP}${deviceId}${SEP}${pad(maxSeq, 10)}`;
}

/** Key of an index run by device time: timeIndex · deviceId · tMax (16 digits) · maxSeq (10 digits). */
export function timeIndexKey(deviceId: string, tMax: number, maxSeq: number): string {
  return `timeIndex${SEP}${deviceId}${SEP}${pad(tMax, 16)}${SEP}${pad(maxSeq, 10)}`;
}

/** [start, end) of the seqIndex keys of `deviceId` with maxSeq in [from, to). */
export function seqIndexRange(deviceId: string, from: number, to: number): [string, string] {
  return [seqIndexKey(deviceId, from), seqIndexKey(deviceId, to)];
}

/** [start, end) of the timeIndex keys of `deviceId` with tMax in [from, to). */
export function timeIndexRange(deviceId: string, from: number, to: number): [string, string] {
  const prefix = `timeIndex${SEP}${deviceId}${SEP}`;
  return [prefix + pad(from, 16), prefix + pad(to, 16)];
}

/** Key of a signed epoch segment: epochSig · deviceId · lastSeq (10 digits), so a lookup of seq s scans from s up. */
export function epochSigKey(deviceId: string, lastSeq: number): string {
  return `epochSig${SEP}${deviceId}${SEP}${pad(lastSeq, 10)}`;
}

/** [start, end) of the epochSig keys of `deviceId` with lastSeq in [from, to). */
export function epochSigRange(deviceId: string, from: number, to: number): [string, string] {
  return [epochSigKey(deviceId, from), epochSigKey(deviceId, to)];
}

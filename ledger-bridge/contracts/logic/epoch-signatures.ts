/**
 * Epoch signatures on the ledger (issue 16; docs/contracts.md "Epoch signatures"), as pure
 * functions the Data Provenance contract calls: which key signs a SIG body, which leaves a signed
 * segment has, what each of its seqs is (verified, missing, contradicted), a reading's level and
 * the public evidence for it.
 *
 * The two levels of a recorded reading (docs/crypto.md "Two levels of trust"):
 *   ledger-attested           its HMAC tag checked by the endorsers, who hold K_tag — so does
 *                             anyone who could forge it
 *   independently-verifiable  the board's LMS signature of its epoch segment is on the ledger and
 *                             the segment's signed Merkle root has the reading's dataHash at its
 *                             seq: anyone can check it with public data only (shared/crypto/evidence.ts)
 *
 * The leaves of a segment: the signed root authenticates them (a Merkle tree is collision
 * resistant), so they may come from anyone — the edge sends the dataHashes it holds, the ledger
 * has those it recorded — and are kept only if they lead to the root the board signed.
 */
import type { Sha256 } from '../../../shared/types.js';
import { inclusionPath, merkleRoot } from '../../../shared/crypto/accumulator.js';
import type { EpochSignatureBody } from '../../../shared/crypto/epoch.js';
import type { SignatureEvidence } from '../../../shared/crypto/evidence.js';
import { fromHex, toHex } from '../../../shared/encoding/hex.js';
import { CONTRACT_ERRORS, contractError } from '../errors.js';

/** A reading's level. */
export type SignatureLevel = 'ledger-attested' | 'independently-verifiable';

/** Most readings in one signed segment the ledger takes (32 bytes of leaves each). */
export const MAX_SEGMENT_READINGS = 65_536;

/** What recordSignature stores for a key set ≥ 1 (key: sigKeySet [deviceId, keySet]). */
export interface StoredKeySet {
  readonly deviceId: string;
  readonly keySet: number;
  /** Hex LMS public key of the key set. */
  readonly publicKey: string;
  /** Hex kind-2 SIG body by which key set keySet - 1 vouches for it. */
  readonly body: string;
  readonly txId: string;
}

/** What recordSignature stores for an epoch segment (key: epochSigIndexKey(deviceId, lastSeq)). */
export interface StoredEpochSignature {
  readonly deviceId: string;
  readonly keySet: number;
  /** One-time key index. */
  readonly q: number;
  readonly epoch: number;
  readonly partialDigest: string;
  readonly firstSeq: number;
  readonly count: number;
  /** Hex of the signed Merkle root. */
  readonly root: string;
  /** Hex kind-1 SIG body. */
  readonly body: string;
  /**
   * Hex of the count leaves (32 bytes each, seq order) when known: they lead to the signed root.
   * '' while some leaf is known to nobody (status 'unresolved').
   */
  readonly leaves: string;
  /** 'complete': leaves known; 'unresolved': not (the readings' data is not on the ledger or at the submitter). */
  readonly status: 'complete' | 'unresolved';
  /** Seqs signed by the board with no reading on the ledger when the signature was recorded. */
  readonly missing: readonly number[];
  /** Seqs whose reading on the ledger is not what the board signed. */
  readonly contradicted: readonly number[];
  readonly txId: string;
}

/** recordSignature's answer. */
export interface RecordSignatureResult {
  /** 'recorded'; 'duplicate' (the same body was recorded before); 'refused' (nothing written). */
  readonly status: 'recorded' | 'duplicate' | 'refused';
  /**
   * Why refused: NO_SIGNING_KEY (the device has no registered key for that key set yet — the
   * submitter may try again later), BAD_SIGNATURE, KEY_REUSED (another body under the same
   * one-time key: the device's key is compromised or its firmware broken).
   */
  readonly reason?: 'NO_SIGNING_KEY' | 'BAD_SIGNATURE' | 'KEY_REUSED';
  readonly message?: string;
  readonly deviceId: string;
  readonly kind: 'epoch' | 'keyset';
  readonly keySet: number;
  readonly q: number;
  readonly txId: string;
  /** Epoch bodies: the segment's status and what its seqs are. */
  readonly segment?: {
    readonly epoch: number;
    readonly firstSeq: number;
    readonly count: number;
    readonly status: StoredEpochSignature['status'];
    readonly verified: number;
    readonly missing: readonly number[];
    readonly contradicted: readonly number[];
  };
}

/** Parses recordSignature's leaves argument: '' or count × 32 bytes of hex, all-zero for "unknown". */
export function parseLeavesArg(hex: string, count: number): (string | undefined)[] {
  const out: (string | undefined)[] = new Array<string | undefined>(count).fill(undefined);
  if (hex === '') return out;
  if (typeof hex !== 'string' || hex.length !== count * 64 || !/^[0-9a-fA-F]*$/.test(hex))
    throw contractError(CONTRACT_ERRORS.BAD_INPUT, `leaves must be '' or ${count} x 32 bytes of hex (the segment's count)`, {
      field: 'leaves',
    });
  const zero = '0'.repeat(64);
  for (let i = 0; i < count; i++) {
    const h = hex.slice(i * 64, (i + 1) * 64).toLowerCase();
    if (h !== zero) out[i] = h;
  }
  return out;
}

/**
 * The segment's leaves: the submitted ones first, else the ledger's, or the ledger's first, else
 * the submitted — whichever leads to the signed root. undefined when neither does (a leaf known to
 * nobody, or data that is not what the board signed).
 */
export function resolveLeaves(
  sha256: Sha256,
  root: Uint8Array,
  submitted: readonly (string | undefined)[],
  recorded: ReadonlyMap<number, string>,
  firstSeq: number,
): string[] | undefined {
  const tryOrder = (first: (i: number) => string | undefined, second: (i: number) => string | undefined): string[] | undefined => {
    const leaves: string[] = [];
    for (let i = 0; i < submitted.length; i++) {
      const h = first(i) ?? second(i);
      if (h === undefined) return undefined;
      leaves.push(h);
    }
    const r = merkleRoot(
      sha256,
      leaves.map((h) => fromHex(h)),
    );
    return r !== undefined && toHex(r) === toHex(root) ? leaves : undefined;
  };
  const sub = (i: number): string | undefined => submitted[i];
  const rec = (i: number): string | undefined => recorded.get(firstSeq + i);
  return tryOrder(sub, rec) ?? tryOrder(rec, sub);
}

/** What each seq of a segment is, given its leaves (or none) and the ledger's recorded dataHashes. */
export function classifySegment(
  leaves: readonly string[] | undefined,
  recorded: ReadonlyMap<number, string>,
  firstSeq: number,
  count: number,
): { verified: number; missing: number[]; contradicted: number[] } {
  let verified = 0;
  const missing: number[] = [];
  const contradicted: number[] = [];
  for (let i = 0; i < count; i++) {
    const seq = firstSeq + i;
    const have = recorded.get(seq);
    if (have === undefined) missing.push(seq);
    else if (leaves === undefined) continue;
    else if (have === leaves[i]) verified++;
    else contradicted.push(seq);
  }
  return { verified, missing, contradicted };
}

/** The stored record of a newly verified epoch body. */
export function epochRecord(
  deviceId: string,
  body: EpochSignatureBody,
  bodyHex: string,
  q: number,
  leaves: readonly string[] | undefined,
  recorded: ReadonlyMap<number, string>,
  txId: string,
): StoredEpochSignature {
  const s = body.segment;
  const c = classifySegment(leaves, recorded, s.firstSeq, s.count);
  return {
    deviceId,
    keySet: body.keySet,
    q,
    epoch: s.epoch,
    partialDigest: toHex(s.partialDigest),
    firstSeq: s.firstSeq,
    count: s.count,
    root: toHex(s.root),
    body: bodyHex,
    leaves: leaves === undefined ? '' : leaves.join(''),
    status: leaves === undefined ? 'unresolved' : 'complete',
    missing: c.missing,
    contradicted: c.contradicted,
    txId,
  };
}

/** A reading's level and, when independently verifiable, the evidence for it. */
export interface LevelAnswer {
  readonly deviceId: string;
  readonly seq: number;
  readonly level: SignatureLevel;
  /** Hex dataHash of the reading the ledger holds. */
  readonly dataHash: string;
  /** Why it is not (yet) independently verifiable. */
  readonly reason?: string;
  /** The segment covering the seq, if one is signed. */
  readonly segment?: {
    readonly epoch: number;
    readonly firstSeq: number;
    readonly count: number;
    readonly keySet: number;
    readonly q: number;
    readonly status: StoredEpochSignature['status'];
    readonly txId: string;
  };
  /** Public data that proves it, for shared/crypto/evidence.ts checkEvidence (provenant verify --offline). */
  readonly evidence?: SignatureEvidence;
}

/**
 * Decides a recorded reading's level. `signed` is the segment covering its seq (if any),
 * `keySetBodies` the kind-2 bodies of key sets 1..signed.keySet in order, `registeredKey` the
 * device's key set 0.
 */
export function levelOf(
  sha256: Sha256,
  reading: { readonly deviceId: string; readonly seq: number; readonly dataHash: string; readonly epoch: number },
  signed: StoredEpochSignature | undefined,
  registeredKey: string | undefined,
  keySetBodies: readonly string[],
): LevelAnswer {
  const base = { deviceId: reading.deviceId, seq: reading.seq, dataHash: reading.dataHash };
  if (signed === undefined)
    return {
      ...base,
      level: 'ledger-attested',
      reason: `no epoch signature of the board covers seq ${reading.seq} (epoch ${reading.epoch}) on the ledger`,
    };
  const segment = {
    epoch: signed.epoch,
    firstSeq: signed.firstSeq,
    count: signed.count,
    keySet: signed.keySet,
    q: signed.q,
    status: signed.status,
    txId: signed.txId,
  };
  if (signed.status !== 'complete')
    return {
      ...base,
      level: 'ledger-attested',
      segment,
      reason: `the signed segment ${signed.firstSeq}..${signed.firstSeq + signed.count - 1} has readings known to nobody: its leaves are not resolved`,
    };
  const i = reading.seq - signed.firstSeq;
  const leaf = signed.leaves.slice(i * 64, (i + 1) * 64);
  if (leaf !== reading.dataHash || reading.epoch !== signed.epoch)
    return {
      ...base,
      level: 'ledger-attested',
      segment,
      reason: `the board signed other data for seq ${reading.seq}: the reading on the ledger is not the board's`,
    };
  if (registeredKey === undefined)
    return { ...base, level: 'ledger-attested', segment, reason: 'the device has no registered signing key' };
  const leaves: Uint8Array[] = [];
  for (let j = 0; j < signed.count; j++) leaves.push(fromHex(signed.leaves.slice(j * 64, (j + 1) * 64)));
  return {
    ...base,
    level: 'independently-verifiable',
    segment,
    evidence: {
      version: 1,
      deviceId: reading.deviceId,
      registeredKey,
      keySets: [...keySetBodies],
      epochSignature: signed.body,
      leafIndex: i,
      path: inclusionPath(sha256, leaves, i).map((p) => toHex(p)),
    },
  };
}

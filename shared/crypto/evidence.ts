/**
 * The offline check of a reading (docs/crypto.md, "Two levels of trust"): given only public data —
 * the device's registered LMS public key, the key-set chain after it, the signature of the epoch
 * segment holding the reading, the reading's Merkle path and the reading's canonical bytes — decide
 * whether the board itself vouched for exactly these bytes. No K_IoT, no K_tag, no ledger: the
 * evidence can come from anyone (the auditor's API, a file), because every piece is checked.
 *
 * Steps, the first failure deciding (`step` in the result):
 *   data       the bytes decode as a canonical reading of this device
 *   key        the registered key is the one the verifier trusts (when it gives one)
 *   chain      key sets 1..k each signed by the previous one (kind-2 bodies), k = the epoch's key set
 *   signature  the epoch body's LMS signature of its M (epoch.ts signedMessage) verifies under key set k
 *   segment    the reading is of the segment's epoch and partialDigest, seq inside it, at its index
 *   path       SHA-256(data) and the path lead to the signed root
 */
import type { Sha256 } from '../types.js';
import { decodeReading } from '../encoding/reading.js';
import { fromHex, toHex } from '../encoding/hex.js';
import { rootFromPath } from './accumulator.js';
import { decodeSignatureBody, signatureLeaf, verifyEpochBody, verifyKeySetBody, type EpochSignatureBody } from './epoch.js';
import { parseLmsPublicKey } from './lms.js';

/** Everything public a reading's independent check needs, hex-encoded (JSON-friendly). */
export interface SignatureEvidence {
  readonly version: 1;
  readonly deviceId: string;
  /** LMS public key of key set 0, as the attribute authority registered it. */
  readonly registeredKey: string;
  /** SIG bodies of kind 2 for key sets 1..k, in order (empty while the device is on key set 0). */
  readonly keySets: readonly string[];
  /** SIG body of kind 1: the segment and its LMS signature. */
  readonly epochSignature: string;
  /** The reading's leaf index in the segment (seq - firstSeq) and its inclusion path, leaf upward. */
  readonly leafIndex: number;
  readonly path: readonly string[];
}

/** Which check failed. */
export type EvidenceStep = 'evidence' | 'data' | 'key' | 'chain' | 'signature' | 'segment' | 'path';

/** The outcome of checkEvidence. */
export type EvidenceResult =
  | {
      readonly ok: true;
      readonly deviceId: string;
      readonly seq: number;
      readonly epoch: number;
      readonly keySet: number;
      /** One-time key index that signed the segment. */
      readonly leaf: number;
      readonly segment: { readonly firstSeq: number; readonly count: number; readonly root: string };
      readonly dataHash: string;
    }
  | { readonly ok: false; readonly step: EvidenceStep; readonly reason: string };

function fail(step: EvidenceStep, reason: string): EvidenceResult {
  return { ok: false, step, reason };
}

function same(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Checks `data` (canonical reading bytes) against `evidence`. `trustedKey`, when given, is the
 * registered key as the verifier obtained it itself (e.g. from the authority's enrollment record):
 * the evidence's registeredKey must equal it. Never throws on bad evidence: it says which step
 * failed and why.
 */
export function checkEvidence(sha256: Sha256, evidence: SignatureEvidence, data: Uint8Array, trustedKey?: Uint8Array): EvidenceResult {
  let registered: Uint8Array;
  let body: EpochSignatureBody;
  const chain: Uint8Array[] = [];
  let path: Uint8Array[];
  try {
    if (evidence.version !== 1) return fail('evidence', `unknown evidence version ${String(evidence.version)}`);
    registered = fromHex(evidence.registeredKey);
    const decoded = decodeSignatureBody(fromHex(evidence.epochSignature));
    if (decoded.kind !== 'epoch') return fail('evidence', 'epochSignature is a key-set body, not an epoch body');
    body = decoded;
    for (const k of evidence.keySets) chain.push(fromHex(k));
    path = evidence.path.map((p) => fromHex(p));
  } catch (e) {
    return fail('evidence', `evidence does not parse: ${e instanceof Error ? e.message : String(e)}`);
  }
  let reading;
  try {
    reading = decodeReading(data);
  } catch (e) {
    return fail('data', `not a canonical reading: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (reading.deviceId !== evidence.deviceId)
    return fail('data', `the reading is of ${reading.deviceId}, the evidence of ${evidence.deviceId}`);
  if (trustedKey && !same(trustedKey, registered)) return fail('key', 'the evidence names another registered key than the one trusted');
  if (!parseLmsPublicKey(registered)) return fail('key', 'the registered key is not an LMS public key this verifier implements');

  let key = registered;
  if (chain.length !== body.keySet) {
    return fail(
      'chain',
      `the segment is signed by key set ${body.keySet}; the evidence chains ${chain.length} key set(s) after the registered one`,
    );
  }
  for (let i = 0; i < chain.length; i++) {
    let k;
    try {
      k = decodeSignatureBody(chain[i] as Uint8Array);
    } catch (e) {
      return fail('chain', `key set ${i + 1} does not parse: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (k.kind !== 'keyset' || k.keySet !== i + 1) return fail('chain', `entry ${i} is not key set ${i + 1}`);
    if (!verifyKeySetBody(sha256, key, evidence.deviceId, k)) return fail('chain', `key set ${i + 1} is not signed by key set ${i}`);
    key = k.publicKey;
  }
  if (!verifyEpochBody(sha256, key, evidence.deviceId, body)) {
    return fail('signature', `the epoch signature does not verify under key set ${body.keySet}`);
  }
  const s = body.segment;
  if (reading.epoch !== s.epoch) return fail('segment', `the reading is of epoch ${reading.epoch}, the segment of ${s.epoch}`);
  if (!same(reading.partialDigest, s.partialDigest))
    return fail('segment', 'the reading and the segment name different partial signatures');
  if (reading.seq < s.firstSeq || reading.seq >= s.firstSeq + s.count) {
    return fail('segment', `seq ${reading.seq} is outside the segment ${s.firstSeq}..${s.firstSeq + s.count - 1}`);
  }
  if (evidence.leafIndex !== reading.seq - s.firstSeq) return fail('segment', `leaf index ${evidence.leafIndex} is not seq - firstSeq`);
  const dataHash = sha256(data);
  const root = rootFromPath(sha256, dataHash, evidence.leafIndex, s.count, path);
  if (!root || !same(root, s.root)) return fail('path', 'SHA-256(data) and the path do not lead to the signed root');
  return {
    ok: true,
    deviceId: evidence.deviceId,
    seq: reading.seq,
    epoch: s.epoch,
    keySet: body.keySet,
    leaf: signatureLeaf(body.signature),
    segment: { firstSeq: s.firstSeq, count: s.count, root: toHex(s.root) },
    dataHash: toHex(dataHash),
  };
}

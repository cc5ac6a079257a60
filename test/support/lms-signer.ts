/**
 * A board's epoch signatures made in Node (a stand-in for firmware/src/epochs.ts where a test
 * needs SIG bodies without running the firmware): key sets of the boards' parameters
 * (LMS_SHA256_M24_H5 / LMOTS_SHA256_N24_W4), epoch bodies over a segment of canonical readings,
 * key-set bodies, and the SIG frames that carry a body. The formats are the shared ones
 * (shared/crypto/epoch.ts); the firmware's own bodies are checked against them in
 * test/firmware/epochs*.test.ts.
 */
import { randomBytes } from 'node:crypto';
import { merkleRoot } from '../../shared/crypto/accumulator.js';
import { epochHeader, keySetHeader, signedMessage, type EpochSegment } from '../../shared/crypto/epoch.js';
import { lmotsParams, lmsAuthPath, lmsParams, lmsPublicKey, lmsSign, lmsTree } from '../../shared/crypto/lms.js';
import { sha256 } from '../../shared/crypto/sha256.js';
import { KEY_FILE_BYTES, LMS as FILE_LMS, OTS as FILE_OTS, TREE_AT } from '../../firmware/src/keyfile.js';
import { putU32 } from '../../shared/crypto/lms.js';
import { decodeReading } from '../../shared/encoding/reading.js';
import { decodeSigFragment, sigFragments } from '../../shared/wire/messages.js';
import type { WireMessage } from '../../shared/wire/union.js';

export const LMS = lmsParams(10); // LMS_SHA256_M24_H5
export const OTS = lmotsParams(7); // LMOTS_SHA256_N24_W4

/** One key set: I, SEED, its tree and public key. */
export interface TestKeySet {
  readonly number: number;
  readonly I: Uint8Array;
  readonly seed: Uint8Array;
  readonly tree: Uint8Array;
  readonly publicKey: Uint8Array;
}

/** Makes key set `number` from fresh randomness. */
export function makeKeySet(number = 0): TestKeySet {
  const I = new Uint8Array(randomBytes(16));
  const seed = new Uint8Array(randomBytes(24));
  const tree = lmsTree(sha256, LMS, OTS, I, seed);
  return { number, I, seed, tree, publicKey: lmsPublicKey(LMS, OTS, I, tree.subarray(0, LMS.m)) };
}

/** header ‖ LMS signature of M(deviceId, header) with leaf q of `k`. */
export function signBody(k: TestKeySet, deviceId: string, q: number, header: Uint8Array): Uint8Array {
  const sig = lmsSign(sha256, LMS, OTS, k.I, k.seed, q, signedMessage(sha256, deviceId, header), lmsAuthPath(k.tree, LMS, q));
  const out = new Uint8Array(header.length + sig.length);
  out.set(header);
  out.set(sig, header.length);
  return out;
}

/** The segment of consecutive canonical readings (one epoch, one partialDigest), as a board closes it. */
export function segmentOf(canonicals: readonly Uint8Array[]): EpochSegment {
  const first = decodeReading(canonicals[0] as Uint8Array);
  return {
    epoch: first.epoch,
    partialDigest: first.partialDigest,
    firstSeq: first.seq,
    count: canonicals.length,
    root: merkleRoot(
      sha256,
      canonicals.map((c) => sha256(c)),
    ) as Uint8Array,
  };
}

/** An epoch body (kind 1) signed by key set `k` with leaf q. */
export function epochBody(k: TestKeySet, deviceId: string, q: number, segment: EpochSegment): Uint8Array {
  return signBody(k, deviceId, q, epochHeader(k.number, segment));
}

/** A key-set body (kind 2): `previous` vouches for `next` with leaf q. */
export function keySetBody(previous: TestKeySet, next: TestKeySet, deviceId: string, q: number): Uint8Array {
  return signBody(previous, deviceId, q, keySetHeader(next.number, next.publicKey));
}

/** The SIG frames of a body, as the board sends them. */
export function sigMessages(body: Uint8Array): WireMessage[] {
  return sigFragments(body).map((p) => ({ kind: 'SIG' as const, ...decodeSigFragment(p) }));
}

/**
 * A complete key-set file `k` as the board writes it (firmware/src/keyfile.ts: k, I, seed and the
 * LMS tree under the firmware's parameters), made in Node: a board given it skips the minutes of
 * building the tree on the interpreter.
 */
export function keySetFile(k: number): Uint8Array {
  const I = new Uint8Array(randomBytes(16));
  const seed = new Uint8Array(randomBytes(24));
  const f = new Uint8Array(KEY_FILE_BYTES);
  putU32(f, 0, k);
  f.set(I, 4);
  f.set(seed, 20);
  f.set(lmsTree(sha256, FILE_LMS, FILE_OTS, I, seed), TREE_AT);
  return f;
}

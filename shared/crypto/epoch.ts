/**
 * Epoch signatures (docs/crypto.md, "Epoch signatures"): what a board signs with its LMS key at
 * the close of an epoch segment, and what it signs when it moves to its next key set, and the
 * SIG body that carries either (docs/wire-protocol.md, SIG). ES5-safe: the board builds its
 * messages with signedMessage.
 *
 * A segment is a run of consecutive seqs of one epoch and one partialDigest: readings firstSeq ..
 * firstSeq + count - 1, whose dataHashes are the leaves of `root` (accumulator.ts) in seq order.
 *
 * SIG body, big-endian: a header, then the LMS signature of M = SHA-256("pv2:s" ‖ u8 len ‖
 * deviceId ‖ header). The header's first byte, its kind, keeps the two kinds apart:
 *   kind 1 (epoch):   1 | keySet u32 | epoch u32 | partialDigest 32 | firstSeq u32 | count u32 |
 *                     root 32                                   — signed by key set keySet
 *   kind 2 (key set): 2 | keySet u32 (the new one, ≥ 1) | LMS public key of it
 *                                                               — signed by key set keySet - 1
 * So an epoch's M binds exactly what the issue asks for (device, epoch, partialDigest, firstSeq,
 * count, root) plus the key set that signs it.
 */
import type { Sha256 } from '../types.js';
import { put } from '../encoding/reading.js';
import { getU32, lmotsParams, lmsParams, lmsSignatureLength, lmsVerify, parseLmsPublicKey } from './lms.js';

/** Label of every message a board signs with LMS. */
export const SIGNED_LABEL = 'pv2:s';
/** SIG body kinds. */
export const SIG_KIND_EPOCH = 1;
export const SIG_KIND_KEYSET = 2;
/** Bytes of a kind-1 body before its LMS signature. */
export const EPOCH_HEADER_BYTES = 81;

/** An epoch segment as the board signs it. */
export interface EpochSegment {
  readonly epoch: number;
  readonly partialDigest: Uint8Array;
  readonly firstSeq: number;
  readonly count: number;
  readonly root: Uint8Array;
}

/** A decoded SIG body of kind 1. */
export interface EpochSignatureBody {
  readonly kind: 'epoch';
  readonly keySet: number;
  readonly segment: EpochSegment;
  /** The LMS signature (its first 4 bytes are the one-time key index q). */
  readonly signature: Uint8Array;
}

/** A decoded SIG body of kind 2. */
export interface KeySetBody {
  readonly kind: 'keyset';
  /** The new key set's number (≥ 1); the signature is by key set keySet - 1. */
  readonly keySet: number;
  readonly publicKey: Uint8Array;
  readonly signature: Uint8Array;
}

/** Either SIG body. */
export type SignatureBody = EpochSignatureBody | KeySetBody;

function pushBytes(a: number[], b: ArrayLike<number>): void {
  for (let i = 0; i < b.length; i++) a.push(b[i] as number);
}

/** M = SHA-256("pv2:s" ‖ u8 len ‖ deviceId ‖ header): what the LMS signature of a SIG body signs. */
export function signedMessage(sha256: Sha256, deviceId: string, header: Uint8Array): Uint8Array {
  const n = SIGNED_LABEL.length;
  const b = new Uint8Array(n + 1 + deviceId.length + header.length);
  for (let i = 0; i < n; i++) b[i] = SIGNED_LABEL.charCodeAt(i);
  b[n] = deviceId.length;
  for (let i = 0; i < deviceId.length; i++) b[n + 1 + i] = deviceId.charCodeAt(i);
  b.set(header, n + 1 + deviceId.length);
  return sha256(b);
}

/** The header of a kind-1 body (everything before the LMS signature). */
export function epochHeader(keySet: number, s: EpochSegment): Uint8Array {
  const a = [SIG_KIND_EPOCH];
  put(a, keySet, 4);
  put(a, s.epoch, 4);
  pushBytes(a, s.partialDigest);
  put(a, s.firstSeq, 4);
  put(a, s.count, 4);
  pushBytes(a, s.root);
  return new Uint8Array(a);
}

/** The header of a kind-2 body (everything before the LMS signature). */
export function keySetHeader(keySet: number, publicKey: Uint8Array): Uint8Array {
  const a = [SIG_KIND_KEYSET];
  put(a, keySet, 4);
  pushBytes(a, publicKey);
  return new Uint8Array(a);
}

/** A SIG body's bytes. */
export function encodeSignatureBody(b: SignatureBody): Uint8Array {
  const head = b.kind === 'epoch' ? epochHeader(b.keySet, b.segment) : keySetHeader(b.keySet, b.publicKey);
  const out = new Uint8Array(head.length + b.signature.length);
  out.set(head, 0);
  out.set(b.signature, head.length);
  return out;
}

/** Length of the LMS signature starting at `sig[0]` (from its own type codes), or -1. */
function lmsSignatureLengthAt(sig: Uint8Array): number {
  if (sig.length < 8) return -1;
  try {
    const ots = lmotsParams(getU32(sig, 4));
    const at = 8 + ots.n * (ots.p + 1);
    if (sig.length < at + 4) return -1;
    return lmsSignatureLength(lmsParams(getU32(sig, at)), ots);
  } catch {
    return -1;
  }
}

/**
 * Decodes a SIG body strictly: RangeError naming the field for an unknown kind, a truncated or
 * overlong body, a public key or signature of a type this code does not implement.
 */
export function decodeSignatureBody(b: Uint8Array): SignatureBody {
  if (b.length < 1) throw new RangeError('SIG.kind: empty body');
  const kind = b[0];
  let at: number;
  let body: SignatureBody;
  if (kind === SIG_KIND_EPOCH) {
    if (b.length < EPOCH_HEADER_BYTES) throw new RangeError('SIG.header: truncated (' + b.length + ' bytes)');
    at = EPOCH_HEADER_BYTES;
    body = {
      kind: 'epoch',
      keySet: getU32(b, 1),
      segment: {
        epoch: getU32(b, 5),
        partialDigest: b.slice(9, 41),
        firstSeq: getU32(b, 41),
        count: getU32(b, 45),
        root: b.slice(49, 81),
      },
      signature: new Uint8Array(0),
    };
    if (body.segment.count < 1) throw new RangeError('SIG.count: must be at least 1');
  } else if (kind === SIG_KIND_KEYSET) {
    if (b.length < 13) throw new RangeError('SIG.publicKey: truncated');
    let m: number;
    try {
      m = lmsParams(getU32(b, 5)).m;
    } catch {
      throw new RangeError('SIG.publicKey: unsupported LMS type ' + getU32(b, 5));
    }
    const pk = b.slice(5, 5 + 24 + m);
    if (pk.length !== 24 + m || !parseLmsPublicKey(pk)) throw new RangeError('SIG.publicKey: truncated or unsupported');
    at = 5 + pk.length;
    body = { kind: 'keyset', keySet: getU32(b, 1), publicKey: pk, signature: new Uint8Array(0) };
    if (body.keySet < 1) throw new RangeError('SIG.keySet: a new key set is at least 1');
  } else {
    throw new RangeError('SIG.kind: unknown kind ' + String(kind));
  }
  const sig = b.subarray(at);
  const len = lmsSignatureLengthAt(sig);
  if (len < 0) throw new RangeError('SIG.signature: truncated or of an unsupported type');
  if (len !== sig.length) throw new RangeError('SIG.signature: ' + (sig.length - len) + ' bytes after the signature');
  return { ...body, signature: sig.slice() };
}

/** The one-time key index q an LMS signature was made with. */
export function signatureLeaf(signature: Uint8Array): number {
  return getU32(signature, 0);
}

/** M of a body: signedMessage over its header. */
export function bodyMessage(sha256: Sha256, deviceId: string, b: SignatureBody): Uint8Array {
  return signedMessage(sha256, deviceId, b.kind === 'epoch' ? epochHeader(b.keySet, b.segment) : keySetHeader(b.keySet, b.publicKey));
}

/** True when an epoch body's signature verifies under its key set's public key. */
export function verifyEpochBody(sha256: Sha256, publicKey: Uint8Array, deviceId: string, b: EpochSignatureBody): boolean {
  return lmsVerify(sha256, publicKey, bodyMessage(sha256, deviceId, b), b.signature);
}

/** True when a key-set body is signed by the previous key set's public key. */
export function verifyKeySetBody(sha256: Sha256, previousKey: Uint8Array, deviceId: string, b: KeySetBody): boolean {
  return lmsVerify(sha256, previousKey, bodyMessage(sha256, deviceId, b), b.signature);
}

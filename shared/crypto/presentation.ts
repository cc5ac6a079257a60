/**
 * The presentation header ph of a partial signature, and its digest.
 *
 * ph binds the BBS proof σp to one epoch, one edge, one device and one policy: the validator does
 * not take ph from the partial but rebuilds it from what it expects, so a proof replayed for
 * another epoch, device, edge or policy fails ProofVerify. The encoding is deterministic and
 * length-prefixed (no separator can be smuggled into a field):
 *
 *   "PVPH" | version u8 = 1 | epoch u32 BE | for edgeId, deviceId, policyId: length u16 BE, UTF-8 bytes
 *
 * partialDigest = SHA-256(σp ‖ ph) is what the device receives and puts in every reading.
 */
import type { Sha256 } from '../types.js';
import { concatBytes } from '../encoding/bytes.js';

/** The fields ph binds, in encoding order after the epoch. */
export interface PresentationFields {
  /** u32. */
  readonly epoch: number;
  /** Printable ASCII, 1..64 characters. */
  readonly edgeId: string;
  /** Printable ASCII, 1..64 characters. */
  readonly deviceId: string;
  /** As returned by policyId(), 1..200 characters. */
  readonly policyId: string;
}

const MAGIC = [0x50, 0x56, 0x50, 0x48]; // "PVPH"
const VERSION = 1;
/** Longest identifier (deviceId, edgeId): printable ASCII characters. */
export const MAX_IDENTIFIER_LENGTH = 64;
const PRINTABLE_ID = new RegExp(`^[\\x21-\\x7e]{1,${MAX_IDENTIFIER_LENGTH}}$`);

/** Checks an identifier (deviceId, edgeId): printable ASCII without spaces, 1..64 characters. */
export function assertIdentifier(value: unknown, field: string): asserts value is string {
  if (typeof value !== 'string') throw new TypeError(`${field} must be a string`);
  if (!PRINTABLE_ID.test(value))
    throw new RangeError(`${field} must be 1..${MAX_IDENTIFIER_LENGTH} printable ASCII characters without spaces`);
}

/** Checks an epoch: an integer 0..2^32-1. */
export function assertEpoch(value: unknown): asserts value is number {
  if (typeof value !== 'number') throw new TypeError('epoch must be a number');
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) throw new RangeError(`epoch ${value} is not a u32`);
}

/** Encodes ph for the given fields; throws TypeError/RangeError on bad fields. */
export function encodePresentationHeader(fields: PresentationFields): Uint8Array {
  assertEpoch(fields.epoch);
  assertIdentifier(fields.edgeId, 'edgeId');
  assertIdentifier(fields.deviceId, 'deviceId');
  if (typeof fields.policyId !== 'string') throw new TypeError('policyId must be a string');
  if (fields.policyId.length === 0 || fields.policyId.length > 200) throw new RangeError('policyId must be 1..200 characters');
  const enc = new TextEncoder();
  const parts = [fields.edgeId, fields.deviceId, fields.policyId].map((s) => enc.encode(s));
  const out = new Uint8Array(4 + 1 + 4 + parts.reduce((n, p) => n + 2 + p.length, 0));
  out.set(MAGIC, 0);
  out[4] = VERSION;
  new DataView(out.buffer).setUint32(5, fields.epoch, false);
  let at = 9;
  for (const p of parts) {
    out[at] = p.length >>> 8;
    out[at + 1] = p.length & 0xff;
    out.set(p, at + 2);
    at += 2 + p.length;
  }
  return out;
}

/** Decodes ph strictly (magic, version, lengths, no trailing bytes); throws RangeError otherwise. */
export function decodePresentationHeader(ph: Uint8Array): PresentationFields {
  if (!(ph instanceof Uint8Array)) throw new TypeError('ph must be a Uint8Array');
  if (ph.length < 9 || MAGIC.some((b, i) => ph[i] !== b)) throw new RangeError('ph: bad magic or truncated');
  if (ph[4] !== VERSION) throw new RangeError(`ph: unknown version ${String(ph[4])}`);
  const view = new DataView(ph.buffer, ph.byteOffset, ph.byteLength);
  const epoch = view.getUint32(5, false);
  const dec = new TextDecoder('utf-8', { fatal: true });
  const strings: string[] = [];
  let at = 9;
  for (let i = 0; i < 3; i++) {
    if (at + 2 > ph.length) throw new RangeError('ph: truncated length prefix');
    const len = view.getUint16(at, false);
    if (at + 2 + len > ph.length) throw new RangeError('ph: truncated field');
    strings.push(dec.decode(ph.subarray(at + 2, at + 2 + len)));
    at += 2 + len;
  }
  if (at !== ph.length) throw new RangeError(`ph: ${ph.length - at} trailing bytes`);
  const [edgeId, deviceId, policyId] = strings as [string, string, string];
  const fields = { epoch, edgeId, deviceId, policyId };
  // Re-encoding must give the same bytes: rejects identifiers the encoder would refuse.
  encodePresentationHeader(fields);
  return fields;
}

/** partialDigest = SHA-256(σp ‖ ph): the 32 bytes a device puts into every reading of the epoch. */
export function partialDigest(sha256: Sha256, proof: Uint8Array, ph: Uint8Array): Uint8Array {
  return sha256(concatBytes(proof, ph));
}

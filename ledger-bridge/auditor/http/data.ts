/**
 * The `data` of POST /verify in the forms a caller has at hand: the canonical reading bytes as
 * hex, a submission as the edge forwards it ({canonical, tag, ...}), or the reading itself as JSON
 * ({deviceId, seq, t, epoch, partialDigest, batteryMv, channels}), which is encoded canonically
 * here. Errors are 400s naming the field.
 */
import { encodeReading } from '../../../shared/encoding/reading.js';
import { ProvenantError } from '../../../shared/errors.js';
import type { Reading } from '../../../shared/types.js';

const HEX = /^([0-9a-fA-F]{2})+$/;

function bad(message: string, field: string): ProvenantError {
  return new ProvenantError('PROV_ERR_BAD_INPUT', message, { field });
}

/** The bytes to check, and the tag a submission carried (used when the request gives none). */
export interface ParsedData {
  readonly bytes: Uint8Array;
  readonly tag?: Uint8Array;
}

/** Parses the request's `data`. */
export function parseData(data: unknown): ParsedData {
  if (typeof data === 'string') {
    if (!HEX.test(data)) throw bad('data must be hex of the canonical reading bytes (an even number of hex digits)', 'data');
    return { bytes: Buffer.from(data, 'hex') };
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data))
    throw bad('data must be canonical hex, a submission {canonical, tag} or a reading object', 'data');
  const o = data as Record<string, unknown>;
  if ('canonical' in o) {
    if (typeof o['canonical'] !== 'string' || !HEX.test(o['canonical']))
      throw bad('data.canonical must be hex of the canonical reading bytes', 'data.canonical');
    const tag = o['tag'];
    if (tag !== undefined && (typeof tag !== 'string' || !/^[0-9a-fA-F]{64}$/.test(tag)))
      throw bad('data.tag must be 64 hex digits', 'data.tag');
    return { bytes: Buffer.from(o['canonical'], 'hex'), ...(typeof tag === 'string' ? { tag: Buffer.from(tag, 'hex') } : {}) };
  }
  const digest = o['partialDigest'];
  if (typeof digest !== 'string' || !/^[0-9a-fA-F]{64}$/.test(digest))
    throw bad('data.partialDigest must be 64 hex digits', 'data.partialDigest');
  if (!Array.isArray(o['channels'])) throw bad('data.channels must be an array of {id, scale, value}', 'data.channels');
  const reading = { ...o, partialDigest: new Uint8Array(Buffer.from(digest, 'hex')) } as unknown as Reading;
  try {
    return { bytes: encodeReading(reading) };
  } catch (err) {
    // encodeReading names the field as "reading.<field>"; the request calls it data.<field>.
    throw bad((err as Error).message.replace(/^reading\./, 'data.'), 'data');
  }
}

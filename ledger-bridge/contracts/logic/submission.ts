/**
 * Parsing a reading submission on the contract's hot path. shared/records.ts parseReadingSubmission
 * is the one definition of a valid submission; this file only adds a fast path that accepts a
 * subset of what it accepts, with the same result, and hands everything else to it (so bad input
 * gets exactly its errors). The saving: hex is checked by decoding it once with Buffer (needed
 * anyway) instead of by a regular expression and then decoding.
 */
import { MAX_PATH_HOPS, parseReadingSubmission, type ReadingSubmission } from '../../../shared/records.js';

const HOP = /^[\x21-\x7e]{1,128}$/;
const IDENT = /^[\x21-\x7e]{1,64}$/;

/**
 * Bytes of `hex` when it is non-empty, even-length, ASCII and all hex digits; undefined otherwise.
 * Node's hex decoder stops at the first pair that is not two hex digits, so a full-length result
 * means every pair was valid. It looks at the low byte of UTF-16 units only, hence the ASCII check
 * (a one-byte UTF-8 length per unit) before trusting it.
 */
export function decodeHexStrict(hex: string): Buffer | undefined {
  const n = hex.length;
  if (n === 0 || (n & 1) !== 0 || Buffer.byteLength(hex, 'utf8') !== n) return undefined;
  const bytes = Buffer.from(hex, 'hex');
  return bytes.length === n >> 1 ? bytes : undefined;
}

/** A parsed submission and its canonical reading bytes. */
export interface DecodedSubmission {
  readonly sub: ReadingSubmission;
  readonly bytes: Buffer;
}

function fast(input: unknown): DecodedSubmission | undefined {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return undefined;
  const o = input as Record<string, unknown>;
  const path = o['path'];
  if (!Array.isArray(path) || path.length === 0 || path.length > MAX_PATH_HOPS) return undefined;
  for (const hop of path) if (typeof hop !== 'string' || !HOP.test(hop)) return undefined;
  const edgeId = o['edgeId'];
  if (typeof edgeId !== 'string' || !IDENT.test(edgeId)) return undefined;
  const canonical = o['canonical'];
  const tag = o['tag'];
  const receivedAt = o['receivedAt'];
  if (typeof canonical !== 'string' || typeof tag !== 'string' || tag.length !== 64) return undefined;
  if (typeof receivedAt !== 'number' || !Number.isSafeInteger(receivedAt) || receivedAt < 0) return undefined;
  const bytes = decodeHexStrict(canonical);
  if (bytes === undefined || decodeHexStrict(tag) === undefined) return undefined;
  return {
    sub: { canonical: canonical.toLowerCase(), tag: tag.toLowerCase(), edgeId, receivedAt, path: path as string[] },
    bytes,
  };
}

/**
 * parseReadingSubmission(input, `readings[index]`) plus the decoded canonical bytes; throws what
 * parseReadingSubmission throws.
 */
export function decodeSubmission(input: unknown, index: number): DecodedSubmission {
  const quick = fast(input);
  if (quick !== undefined) return quick;
  const sub = parseReadingSubmission(input, `readings[${index}]`);
  return { sub, bytes: Buffer.from(sub.canonical, 'hex') };
}

/**
 * The device's whole share of the outsourced signature (BRIEF §3, "Complete / Sign"):
 * tag = HMAC-SHA256(K_tag, "pv2:r" ‖ canonical(reading)) with K_tag derived from
 * K_IoT (shared/crypto/domains.ts). The canonical reading already binds the epoch and the
 * partialDigest of the edge's partial signature. Version 1 readings (no boot count) were tagged
 * HMAC-SHA256(K_IoT, canonical); `completeBytes` still computes those for old records. ES5-safe.
 */
import { encodeReading, READING_VERSION_1 } from '../encoding/reading.js';
import type { Reading, Sha256 } from '../types.js';
import { readingTag, subkey, SUBKEY_TAG } from './domains.js';
import { hmacSha256 } from './hmac.js';

/** Length of K_IoT in bytes. */
export const K_IOT_BYTES = 32;

/** tag over the canonical bytes of `reading`, computed from K_IoT (derives K_tag: the board keeps K_tag instead). */
export function complete(sha256: Sha256, kIoT: Uint8Array, reading: Reading): Uint8Array {
  return completeBytes(sha256, kIoT, encodeReading(reading));
}

/** tag over already-encoded canonical bytes under K_IoT: v2 under K_tag with its label, v1 as HMAC(K_IoT, bytes). */
export function completeBytes(sha256: Sha256, kIoT: Uint8Array, canonical: Uint8Array): Uint8Array {
  if (!(kIoT instanceof Uint8Array) || kIoT.length !== K_IOT_BYTES)
    throw new RangeError(`completeBytes: K_IoT must be ${K_IOT_BYTES} bytes`);
  if (canonical[0] === READING_VERSION_1) return hmacSha256(sha256, kIoT, canonical);
  return readingTag(sha256, subkey(sha256, kIoT, SUBKEY_TAG), canonical);
}

/** dataHash = SHA-256(canonical(reading)), the key of the raw values in the provenance database. */
export function readingDataHash(sha256: Sha256, reading: Reading): Uint8Array {
  return sha256(encodeReading(reading));
}

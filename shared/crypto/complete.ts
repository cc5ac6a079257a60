/**
 * The device's whole share of the outsourced signature (BRIEF §3, "Complete / Sign"):
 * tag = HMAC-SHA256(K_IoT, canonical(reading)). The canonical reading already binds the epoch
 * and the partialDigest of the edge's partial signature. ES5-safe: the firmware bundles this.
 */
import { encodeReading } from '../encoding/reading.js';
import type { Reading, Sha256 } from '../types.js';
import { hmacSha256 } from './hmac.js';

/** Length of K_IoT in bytes. */
export const K_IOT_BYTES = 32;

/** tag over the canonical bytes of `reading` under the device key. */
export function complete(sha256: Sha256, kIoT: Uint8Array, reading: Reading): Uint8Array {
  if (!(kIoT instanceof Uint8Array) || kIoT.length !== K_IOT_BYTES) throw new RangeError(`complete: K_IoT must be ${K_IOT_BYTES} bytes`);
  return hmacSha256(sha256, kIoT, encodeReading(reading));
}

/** tag over already-encoded canonical bytes (the ledger's path: it holds the bytes, not the object). */
export function completeBytes(sha256: Sha256, kIoT: Uint8Array, canonical: Uint8Array): Uint8Array {
  if (!(kIoT instanceof Uint8Array) || kIoT.length !== K_IOT_BYTES)
    throw new RangeError(`completeBytes: K_IoT must be ${K_IOT_BYTES} bytes`);
  return hmacSha256(sha256, kIoT, canonical);
}

/** dataHash = SHA-256(canonical(reading)), the key of the raw values in the provenance database. */
export function readingDataHash(sha256: Sha256, reading: Reading): Uint8Array {
  return sha256(encodeReading(reading));
}

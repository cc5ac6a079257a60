/**
 * HMAC-SHA256 (RFC 2104) over a pluggable one-function SHA-256, so the board runs it on
 * Espruino's native `require("crypto").SHA256` and Node on @noble/hashes. Exactly two SHA-256
 * runs per message for keys of at most 64 bytes (K_IoT is 32). ES5-safe.
 */
import type { Sha256 } from '../types.js';

const BLOCK = 64;

/** HMAC-SHA256(key, msg). */
export function hmacSha256(sha256: Sha256, key: Uint8Array, msg: Uint8Array): Uint8Array {
  if (!(key instanceof Uint8Array) || !(msg instanceof Uint8Array)) throw new TypeError('hmacSha256: expected Uint8Array key and message');
  const k = key.length > BLOCK ? sha256(key) : key;
  const inner = new Uint8Array(BLOCK + msg.length);
  const outer = new Uint8Array(BLOCK + 32);
  for (let i = 0; i < BLOCK; i++) {
    const kb = i < k.length ? (k[i] as number) : 0;
    inner[i] = kb ^ 0x36;
    outer[i] = kb ^ 0x5c;
  }
  inner.set(msg, BLOCK);
  outer.set(sha256(inner), BLOCK);
  return sha256(outer);
}

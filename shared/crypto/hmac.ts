/**
 * HMAC-SHA256 (RFC 2104) over a pluggable one-function SHA-256, so the board runs it on
 * Espruino's native `require("crypto").SHA256` and Node on @noble/hashes. Exactly two SHA-256
 * runs per message for keys of at most 64 bytes (K_IoT and its subkeys are 32). ES5-safe.
 */
import type { Sha256 } from '../types.js';

const BLOCK = 64;

/**
 * HMAC-SHA256(key, ascii(label) ‖ msg) for keys of at most 64 bytes (every device key is 32;
 * hmacSha256 hashes longer ones first, as RFC 2104 says): the domain label is written straight into the inner
 * block, so labelling a MAC costs no extra buffer (the board builds every MAC this way). `label`
 * must be ASCII (the labels are constants, shared/crypto/domains.ts).
 */
export function hmacLabeled(sha256: Sha256, key: Uint8Array, label: string, msg: ArrayLike<number>): Uint8Array {
  if (!(key instanceof Uint8Array) || key.length > BLOCK) throw new TypeError('hmacLabeled: expected a Uint8Array key of at most 64 bytes');
  const n = BLOCK + label.length;
  const inner = new Uint8Array(n + msg.length);
  const outer = new Uint8Array(BLOCK + 32);
  for (let i = 0; i < BLOCK; i++) {
    const kb = i < key.length ? (key[i] as number) : 0;
    inner[i] = kb ^ 0x36;
    outer[i] = kb ^ 0x5c;
  }
  for (let i = BLOCK; i < n; i++) inner[i] = label.charCodeAt(i - BLOCK);
  inner.set(msg, n);
  outer.set(sha256(inner), BLOCK);
  return sha256(outer);
}

/** HMAC-SHA256(key, msg). */
export function hmacSha256(sha256: Sha256, key: Uint8Array, msg: Uint8Array): Uint8Array {
  if (!(key instanceof Uint8Array) || !(msg instanceof Uint8Array)) throw new TypeError('hmacSha256: expected Uint8Array key and message');
  return hmacLabeled(sha256, key.length > BLOCK ? sha256(key) : key, '', msg);
}

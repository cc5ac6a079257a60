/**
 * Every MAC Provenant computes under a device's key, in one place (docs/crypto.md, "Device keys
 * and MAC domains"). ES5-safe: the firmware bundles it.
 *
 * Subkeys. The board and the attribute authority derive three keys from K_IoT, each under its own
 * label: K_x = HKDF-Expand(PRK = K_IoT, info = label, L = 32) = HMAC-SHA256(K_IoT, label ‖ 0x01)
 * (RFC 5869 §2.3, one output block). K_IoT is 32 uniformly random bytes, so HKDF-Extract is
 * skipped, as RFC 5869 §3.3 allows; on the board each derivation is two runs of the native SHA256.
 *
 *   K_tag    reading tags             board, and the ledger (it checks tags)
 *   K_chal   challenge responses      board, and the ledger (Device Provenance)
 *   K_maint  MAINT commands           board, and the owner's device file only
 *
 * The ledger's deposit is K_tag ‖ K_chal: a ledger peer can check readings and challenges but
 * cannot derive K_maint (or K_IoT) from them, so it cannot unlock a board.
 *
 * Domain labels. The input of every MAC starts with its own ASCII label, so a MAC of one kind is
 * never a valid MAC of another, whatever the keys: readings, challenge responses and MAINT tags
 * are told apart by the label, not only by their first byte or by key separation. No label is a
 * prefix of another, and the labels are short because the board carries them (8 KB budget).
 */
import type { Sha256 } from '../types.js';
import { hmacLabeled } from './hmac.js';
import { put, putStr } from '../encoding/reading.js';

/** HKDF info of K_tag. */
export const SUBKEY_TAG = 'pv2:kt';
/** HKDF info of K_chal. */
export const SUBKEY_CHALLENGE = 'pv2:kc';
/** HKDF info of K_maint. */
export const SUBKEY_MAINT = 'pv2:km';

/** Label of a reading tag: HMAC(K_tag, label ‖ canonical reading v2). */
export const DOMAIN_READING = 'pv2:r';
/** Label of a challenge response: HMAC(K_chal, label ‖ challenge). */
export const DOMAIN_CHALLENGE = 'pv2:c';
/** Label of a MAINT tag: HMAC(K_maint, label ‖ maintBody). */
export const DOMAIN_MAINT = 'pv2:m';

/** Length of every key here. */
export const DEVICE_KEY_BYTES = 32;

/** One subkey of K_IoT: HKDF-Expand(K_IoT, info, 32). */
export function subkey(sha256: Sha256, kIoT: Uint8Array, info: string): Uint8Array {
  return hmacLabeled(sha256, kIoT, info, [1]);
}

/** The three subkeys of a device. */
export interface DeviceSubkeys {
  readonly kTag: Uint8Array;
  readonly kChal: Uint8Array;
  readonly kMaint: Uint8Array;
}

/** K_tag, K_chal and K_maint of K_IoT (board and authority). */
export function deriveSubkeys(sha256: Sha256, kIoT: Uint8Array): DeviceSubkeys {
  return {
    kTag: subkey(sha256, kIoT, SUBKEY_TAG),
    kChal: subkey(sha256, kIoT, SUBKEY_CHALLENGE),
    kMaint: subkey(sha256, kIoT, SUBKEY_MAINT),
  };
}

/** What the ledger holds for a device: K_tag and K_chal, never K_maint or K_IoT. */
export interface LedgerKeys {
  readonly kTag: Uint8Array;
  readonly kChal: Uint8Array;
}

/** The ledger's share of K_IoT (what `provenant device register` deposits). */
export function ledgerKeys(sha256: Sha256, kIoT: Uint8Array): LedgerKeys {
  return { kTag: subkey(sha256, kIoT, SUBKEY_TAG), kChal: subkey(sha256, kIoT, SUBKEY_CHALLENGE) };
}

/** Tag of a version 2 reading: HMAC-SHA256(K_tag, "pv2:r" ‖ canonical). */
export function readingTag(sha256: Sha256, kTag: Uint8Array, canonical: ArrayLike<number>): Uint8Array {
  return hmacLabeled(sha256, kTag, DOMAIN_READING, canonical);
}

/** Answer to a Device Provenance challenge: HMAC-SHA256(K_chal, "pv2:c" ‖ challenge). */
export function challengeResponse(sha256: Sha256, kChal: Uint8Array, challenge: ArrayLike<number>): Uint8Array {
  return hmacLabeled(sha256, kChal, DOMAIN_CHALLENGE, challenge);
}

/**
 * The bytes after the label in a MAINT tag: deviceId (u8 length, ASCII), command u8, counter
 * u32 big-endian. Binding the deviceId stops a frame for one board unlocking another.
 */
export function maintBody(deviceId: string, command: number, counter: number): number[] {
  const a: number[] = [];
  putStr(a, deviceId);
  a.push(command);
  put(a, counter, 4);
  return a;
}

/** MAINT tag: HMAC-SHA256(K_maint, "pv2:m" ‖ maintBody(deviceId, command, counter)). */
export function maintTag(sha256: Sha256, kMaint: Uint8Array, deviceId: string, command: number, counter: number): Uint8Array {
  return hmacLabeled(sha256, kMaint, DOMAIN_MAINT, maintBody(deviceId, command, counter));
}

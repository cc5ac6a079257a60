/**
 * The board's LMS key-set files and their layout (docs/firmware.md, "Epoch signatures"). No
 * Espruino globals here, so Node (the flasher, the demo, tests) reads a board's Storage with the
 * same code the board writes it with.
 *
 * `pv.k0` / `pv.k1` hold key sets of even / odd number, each:
 *
 *   keySet u32 | I 16 | SEED 24 | T[1] .. T[63], 24 bytes each   (1,556 bytes)
 *
 * T[r] is the LMS tree (shared/crypto/lms.ts): the root T[1], leaves T[32 + q]. A freshly created
 * file holds 0xff everywhere after SEED (erased flash); key generation writes each leaf once and
 * then the 31 interior nodes, root last, so a key set is complete exactly when T[1] is written.
 */
import { lmsPublicKey, getU32, type LmotsParams, type LmsParams } from '../../shared/crypto/lms.js';

/**
 * The boards' LMS parameters (docs/crypto.md): LMS_SHA256_M24_H5 with LMOTS_SHA256_N24_W4, as
 * literals so the minifier folds them into the code (test/firmware/epochs.test.ts holds them to
 * lmsParams / lmotsParams).
 */
export const LMS: LmsParams = { type: 10, m: 24, h: 5 };
export const OTS: LmotsParams = { type: 7, n: 24, w: 4, p: 51, ls: 4 };
/** One-time keys per key set. */
export const LEAVES = 32;
/** Bytes of a node (m = n = 24). */
export const NODE = 24;
/** Offset of T[1] in a key-set file. */
export const TREE_AT = 44;
/** Bytes of a key-set file. */
export const KEY_FILE_BYTES = TREE_AT + (2 * LEAVES - 1) * NODE;
/**
 * Leaves 0..LEAVES-3 sign epoch segments; the last two are kept for the signature that vouches
 * for the next key set (a power cut while making it burns one; the other still can).
 */
export const EPOCH_LEAVES = LEAVES - 2;

/** Name of the file of key set k. */
export function keyFileName(k: number): string {
  return 'pv.k' + (k % 2);
}

/** Offset of node r in a key-set file. */
export function nodeAt(r: number): number {
  return TREE_AT + (r - 1) * NODE;
}

/** True when `f[at..at+NODE)` is still erased (0xff): the node is not written yet. */
export function blank(f: Uint8Array, at: number): boolean {
  for (let i = 0; i < NODE; i++) if (f[at + i] !== 255) return false;
  return true;
}

/**
 * The LMS public key of a complete key-set file (u32 type ‖ u32 otstype ‖ I ‖ T[1]), or undefined
 * while the set is still being generated or the file is not one.
 */
export function keyFilePublicKey(f: Uint8Array): Uint8Array | undefined {
  if (f.length !== KEY_FILE_BYTES || blank(f, TREE_AT)) return undefined;
  return lmsPublicKey(LMS, OTS, f.subarray(4, 20), f.subarray(TREE_AT, TREE_AT + NODE));
}

/** The key-set number a key-set file says it holds. */
export function keyFileSet(f: Uint8Array): number {
  return getU32(f, 0);
}

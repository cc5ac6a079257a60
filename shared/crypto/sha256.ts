/**
 * SHA-256 for Node-side code, from @noble/hashes (audited, no native build). The board plugs in
 * its native SHA256 instead through the same `Sha256` type.
 */
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import type { Sha256 } from '../types.js';

/** SHA-256 of `data`. */
export const sha256: Sha256 = (data) => nobleSha256(data);

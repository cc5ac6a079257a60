/**
 * Leighton-Micali hash-based signatures: LM-OTS and LMS of RFC 8554, with the SHA-256 parameter
 * sets of RFC 8554 §4.1/§5.1 and the SHA-256/192 ones of NIST SP 800-208 §4 (also RFC 9858).
 * Everything is SHA-256, truncated to n = m = 24 bytes for the /192 sets, over a pluggable
 * one-function `Sha256`, so the board runs it on Espruino's native `crypto.SHA256` and Node on
 * @noble/hashes. ES5-safe: the firmware bundles the parts it uses (key generation and signing).
 *
 * Checked against RFC 8554 Appendix F and RFC 9858 §A (test vectors in shared/crypto/vectors/lms,
 * test/crypto/lms.test.ts; through the firmware pipeline on Espruino's interpreter in
 * test/firmware/lms-vectors.test.ts).
 *
 * Names follow the RFC: I (16-byte key identifier), q (leaf), SEED (private seed), C (per-signature
 * randomizer), T[r] (tree node r: 1 is the root, 2^h + q the leaf of q). A private key is I and
 * SEED: every x_q[i] is derived as in RFC 8554 Appendix A,
 * x_q[i] = H(I ‖ u32str(q) ‖ u16str(i) ‖ u8str(0xff) ‖ SEED).
 *
 * Statefulness: a one-time key q must sign ONE message. Callers persist the next unused q before
 * they release a signature (firmware/src/epochs.ts); nothing here remembers anything.
 */
import type { Sha256 } from '../types.js';

/** Domain separators of RFC 8554 §7.1 (u16). */
export const D_PBLC = 0x8080;
export const D_MESG = 0x8181;
export const D_LEAF = 0x8282;
export const D_INTR = 0x8383;

/** LM-OTS parameters (RFC 8554 §4.1, SP 800-208 §4.1). */
export interface LmotsParams {
  readonly type: number;
  /** Bytes of each hash value. */
  readonly n: number;
  /** Winternitz parameter (bits per digit). */
  readonly w: number;
  /** Number of n-byte strings in a signature. */
  readonly p: number;
  /** Left shift of the checksum. */
  readonly ls: number;
}

/** LMS parameters (RFC 8554 §5.1, SP 800-208 §4.2). */
export interface LmsParams {
  readonly type: number;
  /** Bytes of each tree node. */
  readonly m: number;
  /** Tree height: 2^h one-time keys. */
  readonly h: number;
}

/** LMOTS_SHA256_N32_W1..W8 are 1..4; LMOTS_SHA256_N24_W1..W8 are 5..8. */
export const LMOTS_SHA256_N24_W4 = 7;
/** LMS_SHA256_M32_H5..H25 are 5..9; LMS_SHA256_M24_H5..H25 are 10..14. */
export const LMS_SHA256_M24_H5 = 10;

/** LM-OTS parameters of a typecode; RangeError for a type this code does not implement. */
export function lmotsParams(type: number): LmotsParams {
  if (!(type >= 1 && type <= 8 && type === Math.floor(type))) throw new RangeError('LM-OTS: unsupported type ' + type);
  const n = type <= 4 ? 32 : 24;
  const w = 1 << ((type - 1) % 4);
  // RFC 8554 Appendix B: u = ceil(8n/w), v = ceil((floor(lg((2^w - 1) u)) + 1) / w).
  const u = (8 * n) / w;
  const x = ((1 << w) - 1) * u;
  let lg = 0;
  while (x >> (lg + 1) > 0) lg++;
  const v = Math.ceil((lg + 1) / w);
  return { type: type, n: n, w: w, p: u + v, ls: 16 - v * w };
}

/** LMS parameters of a typecode; RangeError for a type this code does not implement. */
export function lmsParams(type: number): LmsParams {
  if (!(type >= 5 && type <= 14 && type === Math.floor(type))) throw new RangeError('LMS: unsupported type ' + type);
  return { type: type, m: type <= 9 ? 32 : 24, h: 5 * (((type - 5) % 5) + 1) };
}

/** Writes u32str(v) at b[o..o+4). */
export function putU32(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 24) & 255;
  b[o + 1] = (v >>> 16) & 255;
  b[o + 2] = (v >>> 8) & 255;
  b[o + 3] = v & 255;
}

/** u32 at b[o..o+4). */
export function getU32(b: Uint8Array, o: number): number {
  return (b[o] as number) * 16777216 + (((b[o + 1] as number) << 16) | ((b[o + 2] as number) << 8) | (b[o + 3] as number));
}

/** H truncated to `n` bytes (a view of the digest). */
function hn(sha256: Sha256, data: Uint8Array, n: number): Uint8Array {
  const d = sha256(data);
  return d.length === n ? d : d.subarray(0, n);
}

/**
 * The buffer every x-derivation and chain step hashes: I ‖ u32str(q) ‖ u16str(i) ‖ u8str(j) ‖ tmp,
 * 23 + n bytes. The tail (offset 23) holds the chain's running value.
 */
function chainBuffer(I: Uint8Array, q: number, n: number): Uint8Array {
  const b = new Uint8Array(23 + n);
  b.set(I, 0);
  putU32(b, 16, q);
  return b;
}

/** Puts x_q[i] = H(I ‖ q ‖ u16str(i) ‖ 0xff ‖ SEED) (Appendix A) in the tail of `b`. */
function deriveX(sha256: Sha256, b: Uint8Array, i: number, seed: Uint8Array, n: number): void {
  b[20] = i >> 8;
  b[21] = i & 255;
  b[22] = 0xff;
  b.set(seed, 23);
  b.set(hn(sha256, b, n), 23);
}

/** Runs the chain on the tail of `b` from step `from` to step `to` (RFC 8554 Algorithm 1, 3, 4b). */
function chain(sha256: Sha256, b: Uint8Array, from: number, to: number, n: number): void {
  for (let j = from; j < to; j++) {
    b[22] = j;
    b.set(hn(sha256, b, n), 23);
  }
}

/** Coefficient i of S, w bits wide (RFC 8554 §3.1.3). */
function coef(S: ArrayLike<number>, i: number, w: number): number {
  return ((S[(i * w) >> 3] as number) >> (8 - (w * (i % (8 / w)) + w))) & ((1 << w) - 1);
}

/** The p digits a_i = coef(Q ‖ Cksm(Q), i, w) (RFC 8554 §4.4). */
function digits(ots: LmotsParams, Q: Uint8Array): number[] {
  const w = ots.w;
  const u = (8 * ots.n) / w;
  const top = (1 << w) - 1;
  const a: number[] = [];
  let sum = 0;
  for (let i = 0; i < u; i++) {
    const c = coef(Q, i, w);
    sum += top - c;
    a.push(c);
  }
  sum = sum << ots.ls;
  const ck = [(sum >> 8) & 255, sum & 255];
  for (let i = u; i < ots.p; i++) a.push(coef(ck, i - u, w));
  return a;
}

/** Q = H(I ‖ u32str(q) ‖ u16str(D_MESG) ‖ C ‖ message). */
function messageHash(sha256: Sha256, I: Uint8Array, q: number, C: Uint8Array, message: Uint8Array, n: number): Uint8Array {
  const b = new Uint8Array(22 + n + message.length);
  b.set(I, 0);
  putU32(b, 16, q);
  b[20] = D_MESG >> 8;
  b[21] = D_MESG & 255;
  b.set(C, 22);
  b.set(message, 22 + n);
  return hn(sha256, b, n);
}

/** The first 22 bytes of a K or node input: I ‖ u32str(r) ‖ u16str(d), followed by `len` more. */
function nodeInput(I: Uint8Array, r: number, d: number, len: number): Uint8Array {
  const b = new Uint8Array(22 + len);
  b.set(I, 0);
  putU32(b, 16, r);
  b[20] = d >> 8;
  b[21] = d & 255;
  return b;
}

/**
 * The LM-OTS public key hash K of leaf q (RFC 8554 Algorithm 1): every chain run to its end,
 * then K = H(I ‖ u32str(q) ‖ u16str(D_PBLC) ‖ y[0] ‖ ... ‖ y[p-1]). p(2^w - 1) + p + 1 hashes.
 * `from`/`to` and `into` let a caller spread the work (the board does a few chains per tick):
 * chains from..to-1 are written into `into` (a buffer from lmotsKeyBuffer), and K is returned
 * once `to` reaches p.
 */
export function lmotsPublicKey(
  sha256: Sha256,
  ots: LmotsParams,
  I: Uint8Array,
  q: number,
  seed: Uint8Array,
  into?: Uint8Array,
  from?: number,
  to?: number,
): Uint8Array | undefined {
  const n = ots.n;
  const k = into || lmotsKeyBuffer(ots, I, q);
  const b = chainBuffer(I, q, n);
  const end = to === undefined ? ots.p : to;
  for (let i = from || 0; i < end; i++) {
    deriveX(sha256, b, i, seed, n);
    chain(sha256, b, 0, (1 << ots.w) - 1, n);
    k.set(b.subarray(23), 22 + i * n);
  }
  return end < ots.p ? undefined : hn(sha256, k, n);
}

/** The buffer K is hashed from: I ‖ u32str(q) ‖ u16str(D_PBLC) ‖ room for p chain ends. */
export function lmotsKeyBuffer(ots: LmotsParams, I: Uint8Array, q: number): Uint8Array {
  return nodeInput(I, q, D_PBLC, ots.p * ots.n);
}

/**
 * An LM-OTS signature (RFC 8554 Algorithm 3): u32str(type) ‖ C ‖ y[0] ‖ ... ‖ y[p-1], written into
 * `out` at `at` (the board signs straight into the buffer it stores, header first).
 */
export function lmotsSign(
  sha256: Sha256,
  ots: LmotsParams,
  I: Uint8Array,
  q: number,
  seed: Uint8Array,
  C: Uint8Array,
  message: Uint8Array,
  out: Uint8Array,
  at: number,
): void {
  const n = ots.n;
  putU32(out, at, ots.type);
  out.set(C, at + 4);
  const a = digits(ots, messageHash(sha256, I, q, C, message, n));
  const b = chainBuffer(I, q, n);
  for (let i = 0; i < ots.p; i++) {
    deriveX(sha256, b, i, seed, n);
    chain(sha256, b, 0, a[i] as number, n);
    out.set(b.subarray(23), at + 4 + n + i * n);
  }
}

/**
 * The randomizer C of the signature by leaf q: derived like an x value with i = 0xfffd (it needs
 * to be unpredictable, not secret: RFC 8554 §4.5, and §9 on deriving it). Only the signer can
 * compute it, and a board needs no random source at signing time.
 */
export function lmotsRandomizer(sha256: Sha256, I: Uint8Array, q: number, seed: Uint8Array, n: number): Uint8Array {
  const b = chainBuffer(I, q, n);
  deriveX(sha256, b, 0xfffd, seed, n);
  return b.subarray(23);
}

/** Candidate public key Kc from an LM-OTS signature (RFC 8554 Algorithm 4b); undefined if malformed. */
export function lmotsCandidate(
  sha256: Sha256,
  ots: LmotsParams,
  I: Uint8Array,
  q: number,
  sig: Uint8Array,
  message: Uint8Array,
): Uint8Array | undefined {
  const n = ots.n;
  if (sig.length !== 4 + n + ots.p * n || getU32(sig, 0) !== ots.type) return undefined;
  const a = digits(ots, messageHash(sha256, I, q, sig.subarray(4, 4 + n), message, n));
  const k = lmotsKeyBuffer(ots, I, q);
  const b = chainBuffer(I, q, n);
  for (let i = 0; i < ots.p; i++) {
    b[20] = i >> 8;
    b[21] = i & 255;
    b.set(sig.subarray(4 + n + i * n, 4 + 2 * n + i * n), 23);
    chain(sha256, b, a[i] as number, (1 << ots.w) - 1, n);
    k.set(b.subarray(23), 22 + i * n);
  }
  return hn(sha256, k, n);
}

/** Leaf T[2^h + q] = H(I ‖ u32str(2^h + q) ‖ u16str(D_LEAF) ‖ K) of the leaf's OTS key hash K. */
export function lmsLeafFromKey(sha256: Sha256, lms: LmsParams, I: Uint8Array, q: number, K: Uint8Array): Uint8Array {
  const b = nodeInput(I, (1 << lms.h) + q, D_LEAF, K.length);
  b.set(K, 22);
  return hn(sha256, b, lms.m);
}

/** Interior node T[r] = H(I ‖ u32str(r) ‖ u16str(D_INTR) ‖ T[2r] ‖ T[2r+1]). */
export function lmsInterior(sha256: Sha256, lms: LmsParams, I: Uint8Array, r: number, left: Uint8Array, right: Uint8Array): Uint8Array {
  const m = lms.m;
  const b = nodeInput(I, r, D_INTR, 2 * m);
  b.set(left, 22);
  b.set(right, 22 + m);
  return hn(sha256, b, m);
}

/**
 * The whole tree (RFC 8554 §5.3): node r (1..2^(h+1) - 1) at bytes [(r - 1) m, r m). 2^h OTS key
 * generations and 2^h - 1 interior hashes; for h = 5 with LMOTS_SHA256_N24_W4: 26,207 SHA-256 runs.
 */
export function lmsTree(sha256: Sha256, lms: LmsParams, ots: LmotsParams, I: Uint8Array, seed: Uint8Array): Uint8Array {
  const m = lms.m;
  const leaves = 1 << lms.h;
  const t = new Uint8Array((2 * leaves - 1) * m);
  for (let q = 0; q < leaves; q++) {
    const K = lmotsPublicKey(sha256, ots, I, q, seed) as Uint8Array;
    t.set(lmsLeafFromKey(sha256, lms, I, q, K), (leaves + q - 1) * m);
  }
  for (let r = leaves - 1; r >= 1; r--) {
    t.set(lmsInterior(sha256, lms, I, r, t.subarray((2 * r - 1) * m, 2 * r * m), t.subarray(2 * r * m, (2 * r + 1) * m)), (r - 1) * m);
  }
  return t;
}

/** The LMS public key u32str(type) ‖ u32str(otstype) ‖ I ‖ T[1] (RFC 8554 §5.3). */
export function lmsPublicKey(lms: LmsParams, ots: LmotsParams, I: Uint8Array, root: Uint8Array): Uint8Array {
  const k = new Uint8Array(24 + lms.m);
  putU32(k, 0, lms.type);
  putU32(k, 4, ots.type);
  k.set(I, 8);
  k.set(root, 24);
  return k;
}

/** The authentication path of leaf q from a tree laid out as lmsTree's: h nodes, leaf upward. */
export function lmsAuthPath(tree: Uint8Array, lms: LmsParams, q: number): Uint8Array {
  const m = lms.m;
  const path = new Uint8Array(lms.h * m);
  let r = (1 << lms.h) + q;
  for (let i = 0; i < lms.h; i++) {
    const s = r ^ 1;
    path.set(tree.subarray((s - 1) * m, s * m), i * m);
    r = r >> 1;
  }
  return path;
}

/** Bytes of an LMS signature: u32 q ‖ LM-OTS signature ‖ u32 type ‖ h nodes (RFC 8554 §5.4). */
export function lmsSignatureLength(lms: LmsParams, ots: LmotsParams): number {
  return 12 + ots.n * (ots.p + 1) + lms.h * lms.m;
}

/**
 * An LMS signature by leaf q (RFC 8554 Algorithm 5) over `message`, with the leaf's
 * authentication path (lmsAuthPath). Returned, or written into `out` at `at` when given (the
 * board signs into the buffer that already holds its SIG header). `C` overrides the derived
 * randomizer (lmotsRandomizer): the RFC test vectors were signed with a random one.
 */
export function lmsSign(
  sha256: Sha256,
  lms: LmsParams,
  ots: LmotsParams,
  I: Uint8Array,
  seed: Uint8Array,
  q: number,
  message: Uint8Array,
  path: Uint8Array,
  C?: Uint8Array,
  out?: Uint8Array,
  at?: number,
): Uint8Array {
  if (!(q >= 0 && q < 1 << lms.h)) throw new RangeError('LMS: leaf ' + q + ' outside the tree');
  const o = out || new Uint8Array(lmsSignatureLength(lms, ots));
  const a = at || 0;
  putU32(o, a, q);
  lmotsSign(sha256, ots, I, q, seed, C || lmotsRandomizer(sha256, I, q, seed, ots.n), message, o, a + 4);
  const t = a + 8 + ots.n * (ots.p + 1);
  putU32(o, t, lms.type);
  o.set(path, t + 4);
  return o;
}

/** A decoded LMS public key, or undefined when its bytes are not one this code implements. */
export function parseLmsPublicKey(pub: Uint8Array): { lms: LmsParams; ots: LmotsParams; I: Uint8Array; root: Uint8Array } | undefined {
  if (pub.length < 8) return undefined;
  let lms: LmsParams;
  let ots: LmotsParams;
  try {
    lms = lmsParams(getU32(pub, 0));
    ots = lmotsParams(getU32(pub, 4));
  } catch {
    return undefined;
  }
  if (pub.length !== 24 + lms.m) return undefined;
  return { lms: lms, ots: ots, I: pub.subarray(8, 24), root: pub.subarray(24) };
}

/**
 * RFC 8554 Algorithm 6 (6a, 4b): true when `signature` is a valid LMS signature of `message`
 * under `publicKey`. Never throws on malformed input: wrong lengths, unknown or mismatched
 * types and out-of-range leaves are simply invalid.
 */
export function lmsVerify(sha256: Sha256, publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  const pk = parseLmsPublicKey(publicKey);
  if (!pk || signature.length < 8) return false;
  const { lms, ots } = pk;
  const n = ots.n;
  const m = lms.m;
  if (signature.length !== lmsSignatureLength(lms, ots)) return false;
  const q = getU32(signature, 0);
  const at = 8 + n * (ots.p + 1);
  if (getU32(signature, 4) !== ots.type || getU32(signature, at) !== lms.type || q >= 1 << lms.h) return false;
  const Kc = lmotsCandidate(sha256, ots, pk.I, q, signature.subarray(4, at), message);
  if (!Kc) return false;
  let r = (1 << lms.h) + q;
  let tmp = lmsLeafFromKey(sha256, lms, pk.I, q, Kc);
  for (let i = 0; i < lms.h; i++) {
    const node = signature.subarray(at + 4 + i * m, at + 4 + (i + 1) * m);
    tmp = r & 1 ? lmsInterior(sha256, lms, pk.I, r >> 1, node, tmp) : lmsInterior(sha256, lms, pk.I, r >> 1, tmp, node);
    r = r >> 1;
  }
  let diff = 0;
  for (let i = 0; i < m; i++) diff |= (tmp[i] as number) ^ (pk.root[i] as number);
  return diff === 0;
}

/**
 * HSS verification (RFC 8554 §6.3, Algorithm 8): publicKey = u32str(L) ‖ LMS public key of the
 * top tree; signature = u32str(Nspk) ‖ (LMS signature ‖ next public key) × Nspk ‖ last signature.
 * Provenant's boards chain single LMS trees instead (docs/crypto.md); this is here so the RFC's
 * own test cases, which are HSS, can be checked whole.
 */
export function hssVerify(sha256: Sha256, publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (publicKey.length < 4 || signature.length < 4) return false;
  const L = getU32(publicKey, 0);
  const nspk = getU32(signature, 0);
  if (L < 1 || L > 8 || nspk + 1 !== L) return false;
  let key = publicKey.subarray(4);
  let at = 4;
  for (let i = 0; i <= nspk; i++) {
    const pk = parseLmsPublicKey(key);
    if (!pk) return false;
    const sigLen = lmsSignatureLength(pk.lms, pk.ots);
    if (signature.length < at + sigLen) return false;
    const sig = signature.subarray(at, at + sigLen);
    at += sigLen;
    if (i === nspk) return at === signature.length && lmsVerify(sha256, key, message, sig);
    if (signature.length < at + 4) return false;
    let m: number;
    try {
      m = lmsParams(getU32(signature, at)).m;
    } catch {
      return false;
    }
    const nextKey = signature.subarray(at, at + 24 + m);
    at += nextKey.length;
    if (!lmsVerify(sha256, key, nextKey, sig)) return false;
    key = nextKey;
  }
  return false;
}

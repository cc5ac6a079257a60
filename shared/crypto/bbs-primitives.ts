/**
 * The arithmetic under BBS (shared/crypto/bbs.ts), ciphersuite BLS12-381-SHA-256 of
 * draft-irtf-cfrg-bbs-signatures (api_id "BBS_BLS12381G1_XMD:SHA-256_SSWU_RO_H2G_HM2S_"):
 * loading mcl-wasm, expand_message_xmd and hash_to_scalar, the cached generators, point and
 * scalar codecs that reject anything non-canonical, and the two-pairing product check.
 *
 * mcl-wasm is loaded lazily by `initMcl()` so that importing this module costs nothing; every
 * other function here throws if called before it resolved. mcl is a process-wide singleton
 * whose serialization and map-to modes are global: only this module initialises it.
 * Node-only is fine here (see notes on bbs.ts), but nothing below needs `node:` modules.
 */
import type * as McL from 'mcl-wasm';
import { sha256 } from '@noble/hashes/sha2.js';

type Mcl = typeof McL;
/** The raw wasm functions we call directly (not wrapped by mcl-wasm's classes). */
interface RawModule {
  stackSave(): number;
  stackAlloc(n: number): number;
  stackRestore(p: number): void;
  sallocBytes(b: Uint8Array): number;
  copyFromHeap32(a: Uint32Array, pos: number): void;
  _mclBnG1_hashAndMapToWithDst(out: number, msg: number, msgLen: number, dst: number, dstLen: number): number;
}
/** mcl-wasm value objects keep their limbs in `a_`; we need it for the raw calls above. */
interface WithLimbs {
  a_: Uint32Array;
}

/** Bytes of a compressed G1 point (octet_point_length). */
export const G1_BYTES = 48;
/** Bytes of a compressed G2 point (a public key). */
export const G2_BYTES = 96;
/** Bytes of a scalar (octet_scalar_length). */
export const SCALAR_BYTES = 32;
/** expand_len of the ciphersuite: bytes hashed per scalar (ceil((ceil(log2 r) + 128) / 8)). */
export const EXPAND_LEN = 48;

const te = new TextEncoder();
/** ciphersuite_id || "H2G_HM2S_" (the api_id of the draft's core operations). */
export const API_ID = te.encode('BBS_BLS12381G1_XMD:SHA-256_SSWU_RO_H2G_HM2S_');
/** Tag for hash_to_scalar in domain, e and the challenge: api_id || "H2S_". */
export const H2S_DST = concat(API_ID, te.encode('H2S_'));
/** Tag of MapMessageToScalarAsHash. */
export const MAP_DST = concat(API_ID, te.encode('MAP_MSG_TO_SCALAR_AS_HASH_'));
/** Default KeyGen tag: api_id || "KEYGEN_DST_". */
export const KEYGEN_DST = concat(API_ID, te.encode('KEYGEN_DST_'));
/** Tag of the draft's mocked_calculate_random_scalars (test vectors only). */
export const MOCK_RANDOM_DST = concat(API_ID, te.encode('MOCK_RANDOM_SCALARS_DST_'));
const SEED_DST = concat(API_ID, te.encode('SIG_GENERATOR_SEED_'));
const GENERATOR_DST = concat(API_ID, te.encode('SIG_GENERATOR_DST_'));
const GENERATOR_SEED = concat(API_ID, te.encode('MESSAGE_GENERATOR_SEED'));

/** P1 of the ciphersuite (create_generators with the "BP_" api_id; a constant of the draft). */
export const P1_HEX = 'a8ce256102840821a3e94ea9025e4662b205762f9776b3a766c872b948f1fd225e7c59698588e70d11406d161b4e28c9';
/** The standard BLS12-381 G2 generator, compressed. */
const P2_HEX =
  '93e02b6052719f607dacd3a088274f65596bd0d09920b61ab5da61bbdc7f5049334cf11213945d57e5ac7d055d042b7e' +
  '024aa2b2f08f0a91260805272dc51051c6e47ad4fa403b02b4510b647ae3d1770bac0326a805bbefd48056c8c121bdb8';

/** Everything that exists once mcl is up. */
export interface Suite {
  readonly mcl: Mcl;
  readonly raw: RawModule;
  readonly P1: McL.G1;
  readonly P2: McL.G2;
  /** P2 with its Miller-loop lines precomputed: every pairing check pairs with it. */
  readonly P2pre: McL.PrecomputedG2;
}

let suite: Suite | undefined;
let loading: Promise<void> | undefined;

/** Load and configure mcl-wasm once (idempotent, concurrent calls share one promise). */
export function initMcl(): Promise<void> {
  loading ??= (async () => {
    const imported = (await import('mcl-wasm')) as Mcl & { default?: Mcl };
    const mcl = imported.default ?? imported;
    await mcl.init(mcl.BLS12_381);
    // ETH mode: big-endian scalars and ZCash-style compressed points, as the draft specifies.
    mcl.setETHserialization(true);
    mcl.setMapToMode(mcl.IRTF);
    // Deserialising a point also checks it lies in the prime-order subgroup.
    mcl.verifyOrderG1(true);
    mcl.verifyOrderG2(true);
    const raw = (mcl as unknown as { mod: RawModule }).mod;
    const P1 = new mcl.G1();
    P1.deserialize(hexToBytes(P1_HEX));
    const P2 = new mcl.G2();
    P2.deserialize(hexToBytes(P2_HEX));
    suite = { mcl, raw, P1, P2, P2pre: new mcl.PrecomputedG2(P2) };
  })().catch((e: unknown) => {
    loading = undefined; // let a later ready() try again
    throw e;
  });
  return loading;
}

/** The loaded suite; throws if `ready()` has not resolved yet. */
export function S(): Suite {
  if (suite === undefined) throw new Error('bbs: call and await ready() before using BBS');
  return suite;
}

// ---------------------------------------------------------------- bytes

/** a || b || ... */
export function concat(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** I2OSP(value, length) for non-negative safe integers. */
export function i2osp(value: number, length: number): Uint8Array {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`i2osp: ${value} is not a non-negative integer`);
  const out = new Uint8Array(length);
  let v = value;
  for (let i = length - 1; i >= 0; i--) {
    out[i] = v % 256;
    v = Math.floor(v / 256);
  }
  if (v !== 0) throw new RangeError(`i2osp: ${value} does not fit in ${length} bytes`);
  return out;
}

/** Lower-case hex of bytes. */
export function bytesToHex(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += (x < 16 ? '0' : '') + x.toString(16);
  return s;
}

/** Bytes of an even-length hex string. */
export function hexToBytes(h: string): Uint8Array {
  if (h.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(h)) throw new RangeError('hexToBytes: not an even-length hex string');
  const out = new Uint8Array(h.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(h.slice(2 * i, 2 * i + 2), 16);
  return out;
}

// ---------------------------------------------------------------- hashing

const OVERSIZE = te.encode('H2C-OVERSIZE-DST-');

/** expand_message_xmd with SHA-256 (RFC 9380 §5.3.1). */
export function expandMessageXmd(msg: Uint8Array, dst: Uint8Array, lenInBytes: number): Uint8Array {
  const d = dst.length > 255 ? sha256(concat(OVERSIZE, dst)) : dst;
  const ell = Math.ceil(lenInBytes / 32);
  if (ell > 255 || lenInBytes > 65535) throw new RangeError('expand_message_xmd: requested output too long');
  const dstPrime = concat(d, i2osp(d.length, 1));
  const b0 = sha256
    .create()
    .update(new Uint8Array(64))
    .update(msg)
    .update(i2osp(lenInBytes, 2))
    .update(new Uint8Array(1))
    .update(dstPrime)
    .digest();
  const out = new Uint8Array(ell * 32);
  let bi = sha256
    .create()
    .update(b0)
    .update(new Uint8Array([1]))
    .update(dstPrime)
    .digest();
  out.set(bi, 0);
  for (let i = 2; i <= ell; i++) {
    const x = new Uint8Array(32);
    for (let k = 0; k < 32; k++) x[k] = (b0[k] as number) ^ (bi[k] as number);
    bi = sha256
      .create()
      .update(x)
      .update(new Uint8Array([i]))
      .update(dstPrime)
      .digest();
    out.set(bi, (i - 1) * 32);
  }
  return out.subarray(0, lenInBytes);
}

/** OS2IP(bytes) mod r as an mcl scalar. */
export function frFromBytesMod(bytes: Uint8Array): McL.Fr {
  const f = new (S().mcl.Fr)();
  f.setBigEndianMod(bytes);
  return f;
}

/** hash_to_scalar(msg, dst) = OS2IP(expand_message(msg, dst, 48)) mod r. */
export function hashToFr(msg: Uint8Array, dst: Uint8Array): McL.Fr {
  return frFromBytesMod(expandMessageXmd(msg, dst, EXPAND_LEN));
}

// ---------------------------------------------------------------- generators

/** Generators computed so far (Q_1, H_1, H_2, ...), their bytes, and the expand state v. */
const gens: McL.G1[] = [];
const gensBytes: Uint8Array[] = [];
let genState: Uint8Array | undefined;

/** hash_to_curve_g1(msg, dst) through mcl's IRTF map with an explicit DST. */
function hashToG1(msg: Uint8Array, dst: Uint8Array): McL.G1 {
  const { mcl, raw } = S();
  const g = new mcl.G1();
  const limbs = (g as unknown as WithLimbs).a_;
  const top = raw.stackSave();
  try {
    const out = raw.stackAlloc(limbs.length * 4);
    const m = raw.sallocBytes(msg);
    const d = raw.sallocBytes(dst);
    if (raw._mclBnG1_hashAndMapToWithDst(out, m, msg.length, d, dst.length) !== 0) throw new Error('bbs: hash_to_curve_g1 failed');
    raw.copyFromHeap32(limbs, out);
  } finally {
    raw.stackRestore(top);
  }
  return g;
}

/**
 * create_generators(count): (Q_1, H_1, ..., H_(count-1)). Each call only computes what the
 * cache lacks, since generator i depends only on generator i-1's seed state.
 */
export function generators(count: number): { points: McL.G1[]; bytes: Uint8Array[] } {
  if (!Number.isSafeInteger(count) || count < 1) throw new RangeError(`create_generators: count ${count} must be an integer >= 1`);
  genState ??= expandMessageXmd(GENERATOR_SEED, SEED_DST, EXPAND_LEN);
  while (gens.length < count) {
    genState = expandMessageXmd(concat(genState, i2osp(gens.length + 1, 8)), SEED_DST, EXPAND_LEN);
    const g = hashToG1(genState, GENERATOR_DST);
    gens.push(g);
    gensBytes.push(g.serialize());
  }
  return { points: gens.slice(0, count), bytes: gensBytes.slice(0, count) };
}

const domainPrefix = new Map<number, Uint8Array>();

/**
 * calculate_domain: hash_to_scalar(PK || I2OSP(L, 8) || Q_1 || H_1..H_L || api_id ||
 * I2OSP(length(header), 8) || header). The middle part depends only on L and is cached.
 */
export function calculateDomainFr(pk: Uint8Array, L: number, header: Uint8Array): McL.Fr {
  let mid = domainPrefix.get(L);
  if (mid === undefined) {
    mid = concat(i2osp(L, 8), ...generators(L + 1).bytes, API_ID);
    if (domainPrefix.size < 256) domainPrefix.set(L, mid);
  }
  return hashToFr(concat(pk, mid, i2osp(header.length, 8), header), H2S_DST);
}

// ---------------------------------------------------------------- codecs

/**
 * A G1 point from 48 canonical compressed bytes: on the curve, in the prime-order subgroup
 * (mcl checks both while deserialising, as verifyOrderG1 is on) and not the identity; null
 * otherwise. Re-serialising must give the same bytes, which rules out non-canonical encodings.
 */
export function g1FromBytes(b: Uint8Array): McL.G1 | null {
  if (b.length !== G1_BYTES) return null;
  const p = new (S().mcl.G1)();
  try {
    p.deserialize(b);
  } catch {
    return null;
  }
  return p.isZero() || !sameBytes(p.serialize(), b) ? null : p;
}

/** A G2 point (public key W) from 96 bytes; null if invalid, off-subgroup or the identity. */
export function g2FromBytes(b: Uint8Array): McL.G2 | null {
  if (b.length !== G2_BYTES) return null;
  const p = new (S().mcl.G2)();
  try {
    p.deserialize(b);
  } catch {
    return null;
  }
  return p.isZero() || !sameBytes(p.serialize(), b) ? null : p;
}

/** A scalar from 32 big-endian bytes with 0 < s < r (or 0 <= s < r); null otherwise. */
export function frFromBytes(b: Uint8Array, allowZero = false): McL.Fr | null {
  if (b.length !== SCALAR_BYTES) return null;
  const f = new (S().mcl.Fr)();
  try {
    f.deserialize(b);
  } catch {
    return null;
  }
  if (f.isZero() && !allowZero) return null;
  return f;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= (a[i] as number) ^ (b[i] as number);
  return d === 0;
}

// ---------------------------------------------------------------- public keys and pairings

interface PublicKey {
  readonly W: McL.G2;
  readonly pre: McL.PrecomputedG2;
}
const pkCache = new Map<string, PublicKey>();
const PK_CACHE_SIZE = 16;

/**
 * octets_to_pubkey with a small cache: verifiers see the same issuer key again and again, and
 * the subgroup check plus the Miller-loop precomputation are then paid once.
 */
export function publicKey(pk: Uint8Array): PublicKey | null {
  if (pk.length !== G2_BYTES) return null;
  const key = bytesToHex(pk);
  const hit = pkCache.get(key);
  if (hit !== undefined) return hit;
  const W = g2FromBytes(pk);
  if (W === null) return null;
  const entry: PublicKey = { W, pre: new (S().mcl.PrecomputedG2)(W) };
  if (pkCache.size >= PK_CACHE_SIZE) {
    const oldest = pkCache.keys().next().value as string;
    pkCache.get(oldest)?.pre.destroy();
    pkCache.delete(oldest);
  }
  pkCache.set(key, entry);
  return entry;
}

/** e(X, W) * e(Y, P2) == Identity_GT, with one shared final exponentiation. */
export function pairingProductIsOne(X: McL.G1, pk: PublicKey, Y: McL.G1): boolean {
  const { mcl, P2pre } = S();
  return mcl.finalExp(mcl.precomputedMillerLoop2(X, pk.pre, Y, P2pre)).isOne();
}

/** x * k for a secret scalar k, with mcl's constant-time ladder (sk, 1/(sk+e)). */
export function g1MulSecret(x: McL.G1, k: McL.Fr): McL.G1 {
  return mulCT(x, k, 'G1');
}

/** x * k in G2 for a secret scalar k (SkToPk). */
export function g2MulSecret(x: McL.G2, k: McL.Fr): McL.G2 {
  return mulCT(x, k, 'G2');
}

function mulCT<T extends McL.G1 | McL.G2>(x: T, k: McL.Fr, group: 'G1' | 'G2'): T {
  const { mcl, raw } = S();
  const z = (group === 'G1' ? new mcl.G1() : new mcl.G2()) as T;
  const fn = (raw as unknown as Record<string, (z: number, x: number, y: number) => void>)[`_mclBn${group}_mulCT`];
  if (fn === undefined) throw new Error(`bbs: mcl lacks mclBn${group}_mulCT`);
  const zl = (z as unknown as WithLimbs).a_;
  const top = raw.stackSave();
  try {
    const zp = raw.stackAlloc(zl.length * 4);
    const xp = raw.sallocBytes(limbBytes(x));
    const kp = raw.sallocBytes(limbBytes(k));
    fn(zp, xp, kp);
    raw.copyFromHeap32(zl, zp);
  } finally {
    raw.stackRestore(top);
  }
  return z;
}

function limbBytes(v: unknown): Uint8Array {
  const a = (v as WithLimbs).a_;
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** Terms per mcl mulVec call: mcl copies its inputs onto a bounded wasm stack. */
const MSM_CHUNK = 1024;

/** sum points[i] * scalars[i] (multi-scalar multiplication), chunked for very long inputs. */
export function msm(points: McL.G1[], scalars: McL.Fr[]): McL.G1 {
  const { mcl } = S();
  if (points.length !== scalars.length) throw new Error(`bbs: msm over ${points.length} points and ${scalars.length} scalars`);
  if (points.length === 0) return new mcl.G1();
  let acc = mcl.mulVec(points.slice(0, MSM_CHUNK), scalars.slice(0, MSM_CHUNK));
  for (let at = MSM_CHUNK; at < points.length; at += MSM_CHUNK) {
    acc = mcl.add(acc, mcl.mulVec(points.slice(at, at + MSM_CHUNK), scalars.slice(at, at + MSM_CHUNK)));
  }
  return acc;
}

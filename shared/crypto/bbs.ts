/**
 * BBS signatures and selective-disclosure proofs, ciphersuite BLS12-381-SHA-256 of
 * draft-irtf-cfrg-bbs-signatures (the revision with api_id "..._H2G_HM2S_", 80-byte signatures
 * (A, e) and proofs (Abar, Bbar, D, e^, r1^, r3^, m^_j..., c)), on mcl-wasm.
 *
 * Byte arrays in, byte arrays out, parameters in the draft's order. Messages are octet strings,
 * mapped to scalars with MapMessageToScalarAsHash. Disclosed indexes are 0-based and ascending.
 * `await ready()` once; everything else is synchronous.
 *
 * Errors: TypeError for wrong argument types; RangeError for malformed keys, signatures,
 * lengths and indexes given to keyGen/skToPk/sign/proofGen. verify and proofVerify never
 * throw for well-typed input: anything malformed simply does not verify (false).
 *
 * Node-only (mcl-wasm); never bundled into firmware. See docs/bbs-implementation.md.
 */
import type * as McL from 'mcl-wasm';
import { randomBytes } from '@noble/hashes/utils.js';
import {
  API_ID,
  EXPAND_LEN,
  G1_BYTES,
  H2S_DST,
  KEYGEN_DST,
  MAP_DST,
  MOCK_RANDOM_DST,
  P1_HEX,
  SCALAR_BYTES,
  S,
  bytesToHex,
  calculateDomainFr,
  concat,
  expandMessageXmd,
  frFromBytes,
  frFromBytesMod,
  g1FromBytes,
  g1MulSecret,
  g2MulSecret,
  generators,
  hashToFr,
  i2osp,
  initMcl,
  msm,
  pairingProductIsOne,
  publicKey,
} from './bbs-primitives.js';

/** The ciphersuite's api_id, default KeyGen tag, mocked-RNG tag and P1 (hex), for tests and tools. */
export { API_ID, KEYGEN_DST, MOCK_RANDOM_DST, P1_HEX };

/** Bytes of a secret key (a scalar). */
export const SECRET_KEY_LENGTH = 32;
/** Bytes of a public key (a compressed G2 point). */
export const PUBLIC_KEY_LENGTH = 96;
/** Bytes of a signature (A, e): a compressed G1 point and a scalar. */
export const SIGNATURE_LENGTH = 80;
/** A proof is PROOF_BASE_LENGTH + 32 bytes per undisclosed message. */
export const PROOF_BASE_LENGTH = 3 * G1_BYTES + 4 * SCALAR_BYTES;

/**
 * A source of `count` scalars (32 big-endian bytes each, < r), standing in for the draft's
 * calculate_random_scalars. Production uses a CSPRNG; tests plug in the draft's mocked one.
 */
export type RandomScalarSource = (count: number) => Uint8Array[];

/** Load mcl-wasm (BLS12-381, ETH serialization, IRTF hash-to-curve). Idempotent. */
export function ready(): Promise<void> {
  return initMcl();
}

// ---------------------------------------------------------------- argument checks

function bytesArg(fn: string, name: string, v: unknown): Uint8Array {
  if (!(v instanceof Uint8Array)) throw new TypeError(`bbs.${fn}: ${name} must be a Uint8Array`);
  return v;
}

function messagesArg(fn: string, name: string, v: unknown): Uint8Array[] {
  if (!Array.isArray(v)) throw new TypeError(`bbs.${fn}: ${name} must be an array of Uint8Array`);
  // An index loop, not forEach: holes in a sparse array must fail too.
  for (let i = 0; i < v.length; i++) {
    if (!((v[i] as unknown) instanceof Uint8Array)) throw new TypeError(`bbs.${fn}: ${name}[${i}] must be a Uint8Array`);
  }
  return v as Uint8Array[];
}

function indexesArg(fn: string, v: unknown): number[] {
  if (!Array.isArray(v)) throw new TypeError(`bbs.${fn}: disclosedIndexes must be an array of numbers`);
  for (let i = 0; i < v.length; i++) {
    if (typeof v[i] !== 'number') throw new TypeError(`bbs.${fn}: disclosedIndexes[${i}] must be a number`);
  }
  return v as number[];
}

/** Why the indexes are unusable for L messages (0-based, strictly ascending), or null. */
function indexesProblem(indexes: number[], L: number): string | null {
  let prev = -1;
  for (const [k, i] of indexes.entries()) {
    if (!Number.isInteger(i) || i < 0 || i >= L) return `disclosedIndexes[${k}] = ${i} is not an integer in [0, ${L - 1}]`;
    if (i <= prev) return `disclosedIndexes must be strictly ascending without duplicates (index ${i} after ${prev})`;
    prev = i;
  }
  return null;
}

function secretKeyArg(fn: string, sk: Uint8Array): McL.Fr {
  if (sk.length !== SECRET_KEY_LENGTH) throw new RangeError(`bbs.${fn}: sk must be ${SECRET_KEY_LENGTH} bytes (got ${sk.length})`);
  const x = frFromBytes(sk);
  if (x === null) throw new RangeError(`bbs.${fn}: sk is not a scalar with 0 < sk < r`);
  return x;
}

function publicKeyArg(fn: string, pk: Uint8Array): void {
  if (pk.length !== PUBLIC_KEY_LENGTH) throw new RangeError(`bbs.${fn}: pk must be ${PUBLIC_KEY_LENGTH} bytes (got ${pk.length})`);
  if (publicKey(pk) === null)
    throw new RangeError(`bbs.${fn}: pk is not a valid G2 point of the prime-order subgroup (or is the identity)`);
}

/** octets_to_signature: (A, e) or null. */
function parseSignature(sig: Uint8Array): { A: McL.G1; e: McL.Fr } | null {
  if (sig.length !== SIGNATURE_LENGTH) return null;
  const A = g1FromBytes(sig.subarray(0, G1_BYTES));
  const e = frFromBytes(sig.subarray(G1_BYTES));
  return A === null || e === null ? null : { A, e };
}

// ---------------------------------------------------------------- shared steps

function one(): McL.Fr {
  const f = new (S().mcl.Fr)();
  f.setInt(1);
  return f;
}

/** MapMessageToScalarAsHash over a list of messages. */
function messageFrs(messages: Uint8Array[]): McL.Fr[] {
  return messages.map((m) => hashToFr(m, MAP_DST));
}

/** B = P1 + Q_1 * domain + H_1 * msg_1 + ... + H_L * msg_L, as one multi-scalar multiplication. */
function computeB(domain: McL.Fr, msgs: McL.Fr[]): McL.G1 {
  const { P1 } = S();
  const gens = generators(msgs.length + 1).points;
  return msm([P1, ...gens], [one(), domain, ...msgs]);
}

/** e = hash_to_scalar(serialize((SK, msg_1, ..., msg_L, domain)), api_id || "H2S_"). */
function signatureE(sk: McL.Fr, msgs: McL.Fr[], domain: McL.Fr): McL.Fr {
  return hashToFr(concat(sk.serialize(), ...msgs.map((m) => m.serialize()), domain.serialize()), H2S_DST);
}

/** ProofChallengeCalculate: c_arr = (R, i1, msg_i1, ..., Abar, Bbar, D, T1, T2, domain) || len(ph) || ph. */
function challenge(points: McL.G1[], domain: McL.Fr, indexes: number[], disclosed: McL.Fr[], ph: Uint8Array): McL.Fr {
  const parts: Uint8Array[] = [i2osp(indexes.length, 8)];
  indexes.forEach((i, k) => parts.push(i2osp(i, 8), (disclosed[k] as McL.Fr).serialize()));
  for (const p of points) parts.push(p.serialize());
  parts.push(domain.serialize(), i2osp(ph.length, 8), ph);
  return hashToFr(concat(...parts), H2S_DST);
}

// ---------------------------------------------------------------- keys

/**
 * KeyGen(key_material, key_info, key_dst): SK = hash_to_scalar(key_material ||
 * I2OSP(length(key_info), 2) || key_info, key_dst). key_material must have >= 32 bytes of entropy.
 */
export function keyGen(keyMaterial: Uint8Array, keyInfo: Uint8Array = new Uint8Array(0), keyDst: Uint8Array = KEYGEN_DST): Uint8Array {
  bytesArg('keyGen', 'keyMaterial', keyMaterial);
  bytesArg('keyGen', 'keyInfo', keyInfo);
  bytesArg('keyGen', 'keyDst', keyDst);
  if (keyMaterial.length < 32) throw new RangeError(`bbs.keyGen: keyMaterial must be at least 32 bytes (got ${keyMaterial.length})`);
  if (keyInfo.length > 65535) throw new RangeError(`bbs.keyGen: keyInfo must be at most 65535 bytes (got ${keyInfo.length})`);
  const sk = hashToFr(concat(keyMaterial, i2osp(keyInfo.length, 2), keyInfo), keyDst);
  if (sk.isZero()) throw new RangeError('bbs.keyGen: derived a zero key; use other key material');
  return sk.serialize();
}

/** SkToPk(SK) = point_to_octets_g2(SK * P2), 96 bytes. */
export function skToPk(sk: Uint8Array): Uint8Array {
  bytesArg('skToPk', 'sk', sk);
  return g2MulSecret(S().P2, secretKeyArg('skToPk', sk)).serialize();
}

// ---------------------------------------------------------------- signatures

/** Sign(SK, PK, header, messages) → 80-byte signature (A, e). Deterministic. */
export function sign(sk: Uint8Array, pk: Uint8Array, header: Uint8Array, messages: Uint8Array[]): Uint8Array {
  bytesArg('sign', 'sk', sk);
  bytesArg('sign', 'pk', pk);
  bytesArg('sign', 'header', header);
  messagesArg('sign', 'messages', messages);
  const x = secretKeyArg('sign', sk);
  publicKeyArg('sign', pk);
  const { mcl } = S();
  const msgs = messageFrs(messages);
  const domain = calculateDomainFr(pk, msgs.length, header);
  const e = signatureE(x, msgs, domain);
  const xe = mcl.add(x, e);
  // (SK + e) = 0 would make A the identity: an invalid signature (probability ~2^-255).
  if (xe.isZero()) throw new RangeError('bbs.sign: SK + e = 0; cannot sign these messages with this key');
  const A = g1MulSecret(computeB(domain, msgs), mcl.inv(xe));
  return concat(A.serialize(), e.serialize());
}

/**
 * Verify(PK, signature, header, messages). Checks e(A, W + e*P2) * e(B, -P2) == 1, computed as
 * e(A, W) * e(e*A - B, P2) with one shared final exponentiation.
 */
export function verify(pk: Uint8Array, signature: Uint8Array, header: Uint8Array, messages: Uint8Array[]): boolean {
  bytesArg('verify', 'pk', pk);
  bytesArg('verify', 'signature', signature);
  bytesArg('verify', 'header', header);
  messagesArg('verify', 'messages', messages);
  const sig = parseSignature(signature);
  const W = publicKey(pk);
  if (sig === null || W === null) return false;
  const { mcl } = S();
  const msgs = messageFrs(messages);
  const B = computeB(calculateDomainFr(pk, msgs.length, header), msgs);
  return pairingProductIsOne(sig.A, W, mcl.sub(mcl.mul(sig.A, sig.e), B));
}

// ---------------------------------------------------------------- proofs

/** calculate_random_scalars(count) from a CSPRNG: OS2IP(48 random bytes) mod r each. */
function csprngScalars(count: number): McL.Fr[] {
  const out: McL.Fr[] = [];
  // getRandomValues gives at most 64 KiB per call, so draw in batches.
  const perBatch = Math.floor(65536 / EXPAND_LEN);
  for (let done = 0; done < count; done += perBatch) {
    const n = Math.min(perBatch, count - done);
    const bytes = randomBytes(EXPAND_LEN * n);
    for (let i = 0; i < n; i++) out.push(frFromBytesMod(bytes.subarray(i * EXPAND_LEN, (i + 1) * EXPAND_LEN)));
  }
  return out;
}

/** ProofGen(PK, signature, header, ph, messages, disclosed_indexes) with CSPRNG randomness. */
export function proofGen(
  pk: Uint8Array,
  signature: Uint8Array,
  header: Uint8Array,
  ph: Uint8Array,
  messages: Uint8Array[],
  disclosedIndexes: number[],
): Uint8Array {
  return coreProofGen('proofGen', pk, signature, header, ph, messages, disclosedIndexes, csprngScalars);
}

/**
 * ProofGen with the random scalars taken from `randomScalars` (called once with count 5 + U).
 * For reproducing the draft's test vectors; never use a predictable source in production.
 */
export function proofGenWithRandomScalars(
  pk: Uint8Array,
  signature: Uint8Array,
  header: Uint8Array,
  ph: Uint8Array,
  messages: Uint8Array[],
  disclosedIndexes: number[],
  randomScalars: RandomScalarSource,
): Uint8Array {
  if (typeof randomScalars !== 'function') throw new TypeError('bbs.proofGenWithRandomScalars: randomScalars must be a function');
  return coreProofGen('proofGenWithRandomScalars', pk, signature, header, ph, messages, disclosedIndexes, (count) => {
    const given = randomScalars(count);
    if (!Array.isArray(given) || given.length !== count)
      throw new RangeError(`bbs.proofGenWithRandomScalars: randomScalars(${count}) must return ${count} scalars`);
    return given.map((b, i) => {
      const f = b instanceof Uint8Array ? frFromBytes(b, true) : null;
      if (f === null) throw new RangeError(`bbs.proofGenWithRandomScalars: random scalar ${i} is not 32 bytes below r`);
      return f;
    });
  });
}

function coreProofGen(
  fn: string,
  pk: Uint8Array,
  signature: Uint8Array,
  header: Uint8Array,
  ph: Uint8Array,
  messages: Uint8Array[],
  disclosedIndexes: number[],
  random: (count: number) => McL.Fr[],
): Uint8Array {
  bytesArg(fn, 'pk', pk);
  bytesArg(fn, 'signature', signature);
  bytesArg(fn, 'header', header);
  bytesArg(fn, 'ph', ph);
  messagesArg(fn, 'messages', messages);
  const indexes = indexesArg(fn, disclosedIndexes);
  publicKeyArg(fn, pk);
  if (signature.length !== SIGNATURE_LENGTH)
    throw new RangeError(`bbs.${fn}: signature must be ${SIGNATURE_LENGTH} bytes (got ${signature.length})`);
  const sig = parseSignature(signature);
  if (sig === null) throw new RangeError(`bbs.${fn}: signature is malformed (A not a non-identity G1 subgroup point, or e not in (0, r))`);
  const L = messages.length;
  const problem = indexesProblem(indexes, L);
  if (problem !== null) throw new RangeError(`bbs.${fn}: ${problem}`);

  const { mcl } = S();
  const msgs = messageFrs(messages);
  const disclosedSet = new Set(indexes);
  const undisclosed: number[] = [];
  for (let i = 0; i < L; i++) if (!disclosedSet.has(i)) undisclosed.push(i);
  const U = undisclosed.length;
  const H = generators(L + 1).points.slice(1);
  const domain = calculateDomainFr(pk, L, header);
  const B = computeB(domain, msgs);

  const rs = random(5 + U);
  const [r1, r2, eT, r1T, r3T] = rs as [McL.Fr, McL.Fr, McL.Fr, McL.Fr, McL.Fr];
  const mT = rs.slice(5);
  // ProofInit
  const D = mcl.mul(B, r2);
  const Abar = mcl.mul(sig.A, mcl.mul(r1, r2));
  const Bbar = msm([D, Abar], [r1, mcl.neg(sig.e)]);
  const T1 = msm([Abar, D], [eT, r1T]);
  const T2 = msm([D, ...undisclosed.map((j) => H[j] as McL.G1)], [r3T, ...mT]);
  const c = challenge(
    [Abar, Bbar, D, T1, T2],
    domain,
    indexes,
    indexes.map((i) => msgs[i] as McL.Fr),
    ph,
  );
  // ProofFinalize
  const r3 = mcl.inv(r2);
  const eHat = mcl.add(eT, mcl.mul(sig.e, c));
  const r1Hat = mcl.sub(r1T, mcl.mul(r1, c));
  const r3Hat = mcl.sub(r3T, mcl.mul(r3, c));
  const mHat = undisclosed.map((j, k) => mcl.add(mT[k] as McL.Fr, mcl.mul(msgs[j] as McL.Fr, c)));
  return concat(
    Abar.serialize(),
    Bbar.serialize(),
    D.serialize(),
    eHat.serialize(),
    r1Hat.serialize(),
    r3Hat.serialize(),
    ...mHat.map((m) => m.serialize()),
    c.serialize(),
  );
}

/**
 * ProofVerify(PK, proof, header, ph, disclosed_messages, disclosed_indexes). The number of
 * signed messages is R + U, U read from the proof length. Returns false for anything malformed.
 */
export function proofVerify(
  pk: Uint8Array,
  proof: Uint8Array,
  header: Uint8Array,
  ph: Uint8Array,
  disclosedMessages: Uint8Array[],
  disclosedIndexes: number[],
): boolean {
  bytesArg('proofVerify', 'pk', pk);
  bytesArg('proofVerify', 'proof', proof);
  bytesArg('proofVerify', 'header', header);
  bytesArg('proofVerify', 'ph', ph);
  messagesArg('proofVerify', 'disclosedMessages', disclosedMessages);
  const indexes = indexesArg('proofVerify', disclosedIndexes);
  if (proof.length < PROOF_BASE_LENGTH || (proof.length - PROOF_BASE_LENGTH) % SCALAR_BYTES !== 0) return false;
  const U = (proof.length - PROOF_BASE_LENGTH) / SCALAR_BYTES;
  const R = indexes.length;
  const L = R + U;
  if (disclosedMessages.length !== R || indexesProblem(indexes, L) !== null) return false;
  const W = publicKey(pk);
  if (W === null) return false;
  // octets_to_proof: three non-identity subgroup points, then 4 + U scalars in (0, r).
  const pts: McL.G1[] = [];
  for (let k = 0; k < 3; k++) {
    const p = g1FromBytes(proof.subarray(k * G1_BYTES, (k + 1) * G1_BYTES));
    if (p === null) return false;
    pts.push(p);
  }
  const scalars: McL.Fr[] = [];
  for (let at = 3 * G1_BYTES; at < proof.length; at += SCALAR_BYTES) {
    const s = frFromBytes(proof.subarray(at, at + SCALAR_BYTES));
    if (s === null) return false;
    scalars.push(s);
  }
  const [Abar, Bbar, D] = pts as [McL.G1, McL.G1, McL.G1];
  const [eHat, r1Hat, r3Hat] = scalars as [McL.Fr, McL.Fr, McL.Fr];
  const mHat = scalars.slice(3, 3 + U);
  const c = scalars[3 + U] as McL.Fr;

  const { mcl, P1 } = S();
  const msgs = messageFrs(disclosedMessages);
  const [Q1, ...H] = generators(L + 1).points as [McL.G1, ...McL.G1[]];
  const disclosedSet = new Set(indexes);
  const undisclosed: number[] = [];
  for (let i = 0; i < L; i++) if (!disclosedSet.has(i)) undisclosed.push(i);
  const domain = calculateDomainFr(pk, L, header);
  // ProofVerifyInit. T2 = Bv*c + D*r3^ + sum H_j*m^_j with Bv = P1 + Q1*domain + sum H_i*msg_i,
  // expanded into one multi-scalar multiplication over all generators.
  const T1 = msm([Bbar, Abar, D], [c, eHat, r1Hat]);
  const T2 = msm(
    [P1, Q1, ...indexes.map((i) => H[i] as McL.G1), D, ...undisclosed.map((j) => H[j] as McL.G1)],
    [c, mcl.mul(domain, c), ...msgs.map((m) => mcl.mul(m, c)), r3Hat, ...mHat],
  );
  if (!challenge([Abar, Bbar, D, T1, T2], domain, indexes, msgs, ph).isEqual(c)) return false;
  // e(Abar, W) * e(Bbar, -P2) == 1
  return pairingProductIsOne(Abar, W, mcl.neg(Bbar));
}

// ---------------------------------------------------------------- internals for tests and vectors

/** create_generators(count) = (Q_1, H_1, ..., H_(count-1)), each 48 compressed bytes. */
export function createGenerators(count: number): Uint8Array[] {
  return generators(count).bytes.map((b) => b.slice());
}

/** hash_to_scalar(msg, dst) → 32 bytes. */
export function hashToScalar(msg: Uint8Array, dst: Uint8Array): Uint8Array {
  bytesArg('hashToScalar', 'msg', msg);
  bytesArg('hashToScalar', 'dst', dst);
  return hashToFr(msg, dst).serialize();
}

/** messages_to_scalars with MapMessageToScalarAsHash → 32 bytes each. */
export function messagesToScalars(messages: Uint8Array[]): Uint8Array[] {
  return messageFrs(messagesArg('messagesToScalars', 'messages', messages)).map((m) => m.serialize());
}

/** calculate_domain(PK, generators for L messages, header) → 32 bytes. */
export function calculateDomain(pk: Uint8Array, header: Uint8Array, messageCount: number): Uint8Array {
  return calculateDomainFr(bytesArg('calculateDomain', 'pk', pk), messageCount, bytesArg('calculateDomain', 'header', header)).serialize();
}

/** The draft's mocked_calculate_random_scalars(count) for a seed and dst (test vectors only). */
export function mockedCalculateRandomScalars(seed: Uint8Array, dst: Uint8Array, count: number): Uint8Array[] {
  const v = expandMessageXmd(seed, dst, EXPAND_LEN * count);
  const out: Uint8Array[] = [];
  for (let i = 0; i < count; i++) out.push(frFromBytesMod(v.subarray(i * EXPAND_LEN, (i + 1) * EXPAND_LEN)).serialize());
  return out;
}

/** Hex helper for tests and tools that print keys and proofs. */
export { bytesToHex };

/**
 * The outsourced signature (BRIEF §3), the seed paper's five phases on BBS (IRTF draft,
 * BLS12-381-SHA-256) and HMAC-SHA256:
 *
 *   Setup        (authority) setup()            issuer BBS key pair + attribute schema
 *   KeyGen       (authority) enrollDevice()     K_IoT, credential K_Fog, registration record
 *   SignPartial  (edge)      signPartial()      σp = BBS proof, once per device per epoch
 *   Complete     (device)    complete()         tag = HMAC(K_tag, label ‖ canonical reading) — see complete.ts
 *   Validate     (ledger)    validatePartial()  once per partialDigest (pairings: callers cache)
 *                            validateReading()  per reading (two SHA-256 runs)
 *
 * Call `await ready()` (re-exported from bbs.ts by index.ts) before the BBS-backed functions.
 * Everything here is deterministic given its inputs except setup/enroll randomness (injectable)
 * and BBS proof blinding.
 */
import * as bbs from './bbs.js';
import { equalBytes } from '../encoding/bytes.js';
import { toHex } from '../encoding/hex.js';
import { ProvenantError } from '../errors.js';
import type { Sha256, SignedReading } from '../types.js';
import { K_IOT_BYTES } from './complete.js';
import { challengeResponse, DEVICE_KEY_BYTES, readingTag, subkey, SUBKEY_CHALLENGE } from './domains.js';
import { encodeReading, READING_VERSION } from '../encoding/reading.js';
import {
  assertAttributes,
  assertSchema,
  attributeMessages,
  DEFAULT_SCHEMA,
  schemaHeader,
  type Attributes,
  type Credential,
  type PartialSignature,
  type Registration,
  type Schema,
} from './credential.js';
import { assertPolicyFitsSchema, checkDisclosure, parsePolicy, policyId, satisfiedClause, type Policy } from './policy.js';
import { assertEpoch, assertIdentifier, encodePresentationHeader, partialDigest } from './presentation.js';
import { sha256 } from './sha256.js';
import { OK, REASONS, reject, type Verdict } from './verdict.js';

/** The attribute authority's state: BBS issuer key pair and the attribute schema. `sk` is secret. */
export interface Issuer {
  readonly sk: Uint8Array;
  readonly pk: Uint8Array;
  readonly schema: Schema;
}

/** A source of random bytes (injectable so tests can be reproducible). */
export type RandomBytes = (n: number) => Uint8Array;

const defaultRandom: RandomBytes = (n) => globalThis.crypto.getRandomValues(new Uint8Array(n));

/**
 * Setup: a fresh issuer key pair (from `keyMaterial`, at least 32 bytes, or 32 random bytes) and a
 * validated schema.
 */
export function setup(options: { schema?: readonly string[]; keyMaterial?: Uint8Array; random?: RandomBytes } = {}): Issuer {
  const schema = options.schema ?? DEFAULT_SCHEMA;
  assertSchema(schema);
  const keyMaterial = options.keyMaterial ?? (options.random ?? defaultRandom)(32);
  if (!(keyMaterial instanceof Uint8Array)) throw new TypeError('setup: keyMaterial must be a Uint8Array');
  if (keyMaterial.length < 32) throw new RangeError('setup: keyMaterial must be at least 32 bytes');
  const sk = bbs.keyGen(keyMaterial, new TextEncoder().encode('provenant/issuer/v1'));
  return { sk, pk: bbs.skToPk(sk), schema: Object.freeze([...schema]) };
}

/** What enrolling one device yields: one thing for each party, and only what that party needs. */
export interface Enrollment {
  /** For flashing the board: deviceId and K_IoT (secret). */
  readonly device: { readonly deviceId: string; readonly kIoT: Uint8Array };
  /** For the edge: K_Fog, no K_IoT. */
  readonly credential: Credential;
  /** For the Device Registration contract: public data only. */
  readonly registration: Registration;
}

/**
 * KeyGen: enrolls a device with `attributes` (exactly the schema's names). K_IoT is 32 fresh
 * random bytes; the credential is a BBS signature over the attribute values in schema order.
 * Throws PROV_ERR_BAD_INPUT naming a missing or unknown attribute.
 */
export function enrollDevice(
  issuer: Issuer,
  attributes: Readonly<Record<string, string>>,
  options: { random?: RandomBytes } = {},
): Enrollment {
  assertSchema(issuer.schema);
  assertAttributes(issuer.schema, attributes);
  const schema = issuer.schema;
  const attrs: Attributes = Object.freeze(Object.fromEntries(schema.map((n) => [n, attributes[n] as string])));
  const deviceId = attrs['deviceId'] as string;
  const kIoT = (options.random ?? defaultRandom)(K_IOT_BYTES);
  if (!(kIoT instanceof Uint8Array) || kIoT.length !== K_IOT_BYTES)
    throw new RangeError(`enrollDevice: random source must give ${K_IOT_BYTES} bytes`);
  const header = schemaHeader(schema);
  const signature = bbs.sign(issuer.sk, issuer.pk, header, attributeMessages(schema, attrs));
  return {
    device: { deviceId, kIoT },
    credential: { deviceId, schema, attributes: attrs, issuerPk: issuer.pk, header, signature },
    registration: { deviceId, attributes: attrs, schema: [...schema], issuerPk: toHex(issuer.pk), header: toHex(header) },
  };
}

/** The paper's name for enrollDevice. */
export const keyGen = enrollDevice;

/**
 * Is this credential the issuer's signature over its attributes? The edge checks credentials it
 * loads (and refuses devices whose credential fails) before it signs partials with them.
 */
export function checkCredential(credential: Credential, issuerPk?: Uint8Array): Verdict {
  try {
    assertSchema(credential.schema);
    assertAttributes(credential.schema, credential.attributes);
    if (credential.attributes['deviceId'] !== credential.deviceId) throw new RangeError('deviceId differs from its deviceId attribute');
  } catch (err) {
    return reject(REASONS.MALFORMED, `credential of ${String(credential.deviceId)}: ${(err as Error).message}`);
  }
  if (issuerPk !== undefined && !equalBytes(issuerPk, credential.issuerPk)) {
    return reject(REASONS.BAD_PROOF, `credential of ${credential.deviceId} is from another issuer`);
  }
  let ok = false;
  try {
    ok =
      equalBytes(credential.header, schemaHeader(credential.schema)) &&
      bbs.verify(credential.issuerPk, credential.signature, credential.header, attributeMessages(credential.schema, credential.attributes));
  } catch {
    ok = false;
  }
  return ok ? OK : reject(REASONS.BAD_PROOF, `credential of ${credential.deviceId} does not verify under the issuer key`);
}

/** Parameters of SignPartial: the epoch, the signing edge's id, and the policy to prove. */
export interface PartialRequest {
  readonly epoch: number;
  readonly edgeId: string;
  readonly policy: Policy;
}

/**
 * SignPartial (edge): σp = BBS ProofGen over the credential, disclosing deviceId and exactly the
 * attributes of one satisfied clause, with ph = encode(epoch, edgeId, deviceId, policyId).
 * Throws PROV_ERR_POLICY_UNSATISFIED if the device's attributes satisfy no clause.
 */
export function signPartial(credential: Credential, request: PartialRequest): PartialSignature {
  const policy = parsePolicy(request.policy);
  assertEpoch(request.epoch);
  assertIdentifier(request.edgeId, 'edgeId');
  const { schema, attributes, deviceId } = credential;
  const clause = satisfiedClause(policy, attributes);
  if (clause === undefined) {
    throw new ProvenantError('PROV_ERR_POLICY_UNSATISFIED', `device ${deviceId} does not satisfy policy ${policy.id}`, { deviceId });
  }
  assertPolicyFitsSchema({ id: policy.id, anyOf: [clause] }, schema);
  const names = new Set(['deviceId', ...Object.keys(clause)]);
  const disclosedIndexes = schema.flatMap((name, i) => (names.has(name) ? [i] : []));
  const disclosed = Object.freeze(
    Object.fromEntries(disclosedIndexes.map((i) => [schema[i] as string, attributes[schema[i] as string] as string])),
  );
  const pid = policyId(policy);
  const ph = encodePresentationHeader({ epoch: request.epoch, edgeId: request.edgeId, deviceId, policyId: pid });
  const proof = bbs.proofGen(
    credential.issuerPk,
    credential.signature,
    credential.header,
    ph,
    attributeMessages(schema, attributes),
    disclosedIndexes,
  );
  return {
    deviceId,
    epoch: request.epoch,
    edgeId: request.edgeId,
    policyId: pid,
    disclosedIndexes: Object.freeze(disclosedIndexes),
    disclosed,
    proof,
    ph,
    partialDigest: partialDigest(sha256, proof, ph),
  };
}

/** What the validator expects a partial to be bound to (from the reading and the submitter). */
export interface PartialExpectation {
  readonly deviceId: string;
  readonly epoch: number;
  readonly edgeId: string;
}

/**
 * Validate, heavy half: is `partial` a valid proof, by a credential of `issuerPk` over `schema`,
 * bound to the expected device, epoch, edge and `policy`, disclosing attributes that satisfy the
 * policy? ph is rebuilt from `expected`, never taken on trust. Costs pairings: callers cache the
 * verdict by partialDigest.
 */
export function validatePartial(
  issuerPk: Uint8Array,
  schema: Schema,
  partial: PartialSignature,
  policy: Policy,
  expected: PartialExpectation,
): Verdict {
  let ph: Uint8Array;
  let pid: string;
  try {
    assertSchema(schema);
    pid = policyId(parsePolicy(policy));
    ph = encodePresentationHeader({ ...expected, policyId: pid });
    if (!(partial.proof instanceof Uint8Array) || !(partial.ph instanceof Uint8Array) || !(partial.partialDigest instanceof Uint8Array)) {
      throw new TypeError('proof, ph and partialDigest must be byte arrays');
    }
  } catch (err) {
    return reject(REASONS.MALFORMED, `partial of ${String(expected.deviceId)}: ${(err as Error).message}`);
  }
  const fields = ['deviceId', 'epoch', 'edgeId'] as const;
  for (const f of fields) {
    if (partial[f] !== expected[f]) {
      return reject(
        REASONS.PROOF_BINDING,
        `partial is for ${f} ${String(partial[f])}, used for ${f} ${String(expected[f])} (device ${expected.deviceId})`,
      );
    }
  }
  if (partial.policyId !== pid)
    return reject(REASONS.PROOF_BINDING, `partial of ${expected.deviceId} is bound to policy ${partial.policyId}, expected ${pid}`);
  if (!equalBytes(partial.ph, ph))
    return reject(
      REASONS.PROOF_BINDING,
      `partial of ${expected.deviceId}: presentation header does not match epoch ${expected.epoch}, edge ${expected.edgeId}`,
    );
  if (!equalBytes(partial.partialDigest, partialDigest(sha256, partial.proof, ph))) {
    return reject(REASONS.PROOF_BINDING, `partial of ${expected.deviceId}: partialDigest is not SHA-256(proof ‖ ph)`);
  }
  const disclosure = checkDisclosed(schema, partial, expected.deviceId);
  if (!disclosure.ok) return disclosure;
  const policyVerdict = checkDisclosure(policy, partial.disclosed);
  if (!policyVerdict.ok) return policyVerdict;
  const enc = new TextEncoder();
  const messages = partial.disclosedIndexes.map((i) => enc.encode(partial.disclosed[schema[i] as string] as string));
  let ok = false;
  try {
    ok = bbs.proofVerify(issuerPk, partial.proof, schemaHeader(schema), ph, messages, [...partial.disclosedIndexes]);
  } catch {
    ok = false;
  }
  return ok ? OK : reject(REASONS.BAD_PROOF, `partial of ${expected.deviceId} for epoch ${expected.epoch}: BBS proof does not verify`);
}

/** The disclosed map must name exactly the disclosed indexes, and deviceId must be among them. */
function checkDisclosed(schema: Schema, partial: PartialSignature, deviceId: string): Verdict {
  const idx = partial.disclosedIndexes;
  if (
    !Array.isArray(idx) ||
    idx.some((i, k) => !Number.isInteger(i) || i < 0 || i >= schema.length || (k > 0 && i <= (idx[k - 1] as number)))
  ) {
    return reject(REASONS.MALFORMED, `partial of ${deviceId}: disclosedIndexes must be increasing indexes into the schema`);
  }
  const disclosed = partial.disclosed;
  if (typeof disclosed !== 'object' || disclosed === null)
    return reject(REASONS.MALFORMED, `partial of ${deviceId}: disclosed must be an object`);
  for (const name of Object.keys(disclosed)) {
    const i = schema.indexOf(name);
    if (i < 0) return reject(REASONS.MALFORMED, `partial of ${deviceId}: disclosed attribute "${name}" is not in the schema`);
    if (!idx.includes(i))
      return reject(
        REASONS.UNDISCLOSED_ATTRIBUTE,
        `partial of ${deviceId} claims ${name}=${String(disclosed[name])} but its proof does not disclose ${name}`,
      );
    if (typeof disclosed[name] !== 'string') return reject(REASONS.MALFORMED, `partial of ${deviceId}: disclosed ${name} must be a string`);
  }
  for (const i of idx) {
    if (!Object.prototype.hasOwnProperty.call(disclosed, schema[i] as string)) {
      return reject(REASONS.MALFORMED, `partial of ${deviceId}: index ${i} (${String(schema[i])}) is disclosed without a value`);
    }
  }
  if (!idx.includes(0))
    return reject(REASONS.UNDISCLOSED_ATTRIBUTE, `partial claims device ${deviceId} but its proof does not disclose deviceId`);
  if (disclosed['deviceId'] !== deviceId)
    return reject(REASONS.PROOF_BINDING, `partial discloses deviceId ${String(disclosed['deviceId'])}, used for ${deviceId}`);
  return OK;
}

/** The part of a validated partial a reading is checked against (what callers cache by digest). */
export interface KnownPartial {
  readonly deviceId: string;
  readonly epoch: number;
  readonly partialDigest: Uint8Array;
}

/**
 * Validate, cheap half (per reading): the reading names a known, validated partial of the same
 * device and epoch, and its tag is HMAC-SHA256(K_tag, "pv2:r" ‖ canonical(reading))
 * under the device's K_tag (what the ledger holds; shared/crypto/domains.ts). `knownPartial` is
 * the validated partial found under the reading's partialDigest (`undefined` if none). A version 1
 * reading is MALFORMED here: its tag is under K_IoT, which validators no longer hold. Revocation,
 * replay and time are the ledger's state: see checkDevice, checkSeq / checkUnseen, checkTime.
 */
export function validateReading(
  sha256Fn: Sha256,
  kTag: Uint8Array,
  signed: SignedReading,
  knownPartial: KnownPartial | undefined,
): Verdict {
  const r = signed.reading;
  const who = `device ${String(r.deviceId)} seq ${String(r.seq)}`;
  if (knownPartial === undefined) return reject(REASONS.UNKNOWN_PARTIAL, `${who}: no validated partial signature under its partialDigest`);
  if (r.deviceId !== knownPartial.deviceId)
    return reject(REASONS.PROOF_BINDING, `${who}: partial belongs to device ${knownPartial.deviceId}`);
  if (r.epoch !== knownPartial.epoch)
    return reject(REASONS.WRONG_EPOCH, `${who}: reading epoch ${String(r.epoch)}, partial epoch ${knownPartial.epoch}`);
  if (!(r.partialDigest instanceof Uint8Array) || !equalBytes(r.partialDigest, knownPartial.partialDigest)) {
    return reject(REASONS.UNKNOWN_PARTIAL, `${who}: partialDigest does not match the partial of epoch ${knownPartial.epoch}`);
  }
  if (!(signed.tag instanceof Uint8Array) || signed.tag.length !== 32) return reject(REASONS.MALFORMED, `${who}: tag must be 32 bytes`);
  if (!(kTag instanceof Uint8Array) || kTag.length !== DEVICE_KEY_BYTES) return reject(REASONS.MALFORMED, `${who}: K_tag must be 32 bytes`);
  let expectedTag: Uint8Array;
  try {
    const bytes = encodeReading(r);
    if (bytes[0] !== READING_VERSION)
      return reject(
        REASONS.MALFORMED,
        `${who}: version ${String(bytes[0])} reading (its tag needs K_IoT; only version ${READING_VERSION} is accepted)`,
      );
    expectedTag = readingTag(sha256Fn, kTag, bytes);
  } catch (err) {
    return reject(REASONS.MALFORMED, `${who}: ${(err as Error).message}`);
  }
  return equalBytes(expectedTag, signed.tag) ? OK : reject(REASONS.BAD_TAG, `${who}: tag does not verify under the device key`);
}

/**
 * The device's answer to a Device Provenance challenge (Algorithm 2), computed from K_IoT:
 * HMAC-SHA256(K_chal, "pv2:c" ‖ challenge) with K_chal derived from K_IoT
 * (shared/crypto/domains.ts; the ledger holds K_chal and uses `challengeResponse` directly). The
 * label keeps a response from ever equalling a reading tag or a MAINT tag.
 */
export function deviceChallengeResponse(sha256Fn: Sha256, kIoT: Uint8Array, challenge: Uint8Array): Uint8Array {
  if (!(kIoT instanceof Uint8Array) || kIoT.length !== K_IOT_BYTES) throw new RangeError(`K_IoT must be ${K_IOT_BYTES} bytes`);
  if (!(challenge instanceof Uint8Array)) throw new TypeError('challenge must be a Uint8Array');
  return challengeResponse(sha256Fn, subkey(sha256Fn, kIoT, SUBKEY_CHALLENGE), challenge);
}

/** Checks a challenge response against the device's K_chal (constant-time): BAD_TAG on mismatch. */
export function checkChallengeResponse(
  sha256Fn: Sha256,
  kChal: Uint8Array,
  deviceId: string,
  challenge: Uint8Array,
  response: Uint8Array,
): Verdict {
  const expected = challengeResponse(sha256Fn, kChal, challenge);
  if (response instanceof Uint8Array && equalBytes(expected, response)) return OK;
  return reject(REASONS.BAD_TAG, `device ${deviceId}: challenge response does not verify under the device key`);
}

/**
 * Device Registration (talk, Algorithm 1) as pure functions: the authority's one-time
 * configuration, the device record, and its transitions register (new) → update* → revoke.
 * The contract class looks state up, calls these, and writes what they return.
 */
import { metadataDifferences as sharedDifferences } from '../../../shared/device-metadata.js';
import { createHash } from 'node:crypto';
import { fromHex, toHex } from '../../../shared/encoding/hex.js';
import { assertAttributes, assertSchema, schemaHeader, type Attributes, type Schema } from '../../../shared/crypto/credential.js';
import { assertPolicyFitsSchema, parsePolicy, policyId, type Policy } from '../../../shared/crypto/policy.js';
import { assertIdentifier } from '../../../shared/crypto/presentation.js';
import { parseLmsPublicKey } from '../../../shared/crypto/lms.js';
import { CONTRACT_ERRORS, contractError } from '../errors.js';
import { parseJsonArg, isPlainObject } from './args.js';
import { DEFAULT_CLOCK_SKEW_MS, MAX_CLOCK_SKEW_MS } from './clock.js';

/** An identity as Fabric's client identity gives it: MSP id and the X.509 subject/issuer id. */
export interface Identity {
  readonly mspId: string;
  readonly id: string;
}

/** A policy the ledger accepts partial signatures for, under its policyId. */
export interface ConfiguredPolicy {
  readonly policyId: string;
  readonly policy: Policy;
}

/** What DeviceRegistration.configure stores (key: config). */
export interface LedgerConfig {
  /** The attribute authority: the only identity that may register, update or revoke devices. */
  readonly authority: Identity;
  /** Hex of the BBS issuer public key (96 bytes). */
  readonly issuerPk: string;
  readonly schema: Schema;
  /** Hex of the BBS header that binds the schema. */
  readonly header: string;
  readonly policies: readonly ConfiguredPolicy[];
  /**
   * How far a reading's t may be ahead of its commit time (ms; logic/clock.ts). Absent in configs
   * written before it existed: DEFAULT_CLOCK_SKEW_MS then.
   */
  readonly clockSkewMs?: number;
  readonly txId: string;
}

/** Registry status (shared/crypto/verdict.ts DeviceStatus). */
export type DeviceStatus = 'active' | 'revoked';

/** The device record (key: device~deviceId). Every write makes a new version in the key history. */
export interface DeviceRecord {
  readonly attributes: Attributes;
  /** The identity the ledger assigned at registration: SHA-256(mspId, deviceId, txId), hex. */
  readonly bcId: string;
  readonly deviceId: string;
  /** Hex SHA-256 of the firmware image, '' if not given. */
  readonly firmwareHash: string;
  /** The edge (gateway) the device talks through, '' if not given. */
  readonly gatewayId: string;
  readonly registeredTxId: string;
  /** Why it was revoked ('' while active). */
  readonly revokedReason: string;
  readonly status: DeviceStatus;
  /** The transaction that wrote this version. */
  readonly txId: string;
  /** 1 at registration, +1 per update or revocation. */
  readonly version: number;
  /**
   * Hex LMS public key of the board's key set 0 (issue 16, docs/crypto.md "Hash-based
   * signatures"), once the authority registered it (registerSigningKey); later key sets chain from it.
   */
  readonly signingKey?: string;
}

/** The metadata Algorithm 2 compares: what the registry says the device is. */
export interface DeviceMetadata {
  readonly attributes: Attributes;
  readonly firmwareHash: string;
  readonly gatewayId: string;
}

/** What register/update take (H2's registration record plus optional gateway and firmware). */
export interface RegistrationInput extends DeviceMetadata {
  readonly deviceId: string;
}

/** The stable input of configure. */
export interface ConfigureInput {
  readonly issuerPk: string;
  readonly schema: Schema;
  readonly policies: readonly Policy[];
  readonly clockSkewMs: number;
}

function bad(message: string, field: string): Error {
  return contractError(CONTRACT_ERRORS.BAD_INPUT, message, { field });
}

function hexOf(value: unknown, field: string, bytes: number): string {
  if (typeof value !== 'string' || value.length !== bytes * 2) throw bad(`${field} must be ${bytes} bytes of hex`, field);
  try {
    return toHex(fromHex(value));
  } catch {
    throw bad(`${field} must be hex`, field);
  }
}

function domainError(err: unknown, field: string): Error {
  return bad(err instanceof Error ? err.message : String(err), field);
}

/** Parses configure's JSON: { issuerPk, schema, policies, clockSkewMs? }. */
export function parseConfigureInput(json: string): ConfigureInput {
  const input = parseJsonArg(json, 'config');
  if (!isPlainObject(input)) throw bad('config must be an object { issuerPk, schema, policies }', 'config');
  const issuerPk = hexOf(input['issuerPk'], 'issuerPk', 96);
  const schema = input['schema'];
  try {
    assertSchema(schema);
  } catch (err) {
    throw domainError(err, 'schema');
  }
  const skew = input['clockSkewMs'] ?? DEFAULT_CLOCK_SKEW_MS;
  if (typeof skew !== 'number' || !Number.isInteger(skew) || skew < 0 || skew > MAX_CLOCK_SKEW_MS)
    throw bad(`clockSkewMs must be an integer 0..${MAX_CLOCK_SKEW_MS} (ms)`, 'clockSkewMs');
  return { issuerPk, schema: [...schema], policies: parsePolicies(input['policies'] ?? [], schema), clockSkewMs: skew };
}

/** Parses a list of policies (shared/crypto/policy.ts), each naming only schema attributes. */
export function parsePolicies(raw: unknown, schema: Schema): Policy[] {
  if (!Array.isArray(raw)) throw bad('policies must be a list', 'policies');
  return raw.map((p, i) => {
    try {
      const policy = parsePolicy(p);
      assertPolicyFitsSchema(policy, schema);
      return policy;
    } catch (err) {
      throw domainError(err, `policies[${i}]`);
    }
  });
}

/** The config record for a first configure by `caller`. */
export function newConfig(input: ConfigureInput, caller: Identity, txId: string): LedgerConfig {
  return {
    authority: { id: caller.id, mspId: caller.mspId },
    clockSkewMs: input.clockSkewMs,
    header: toHex(schemaHeader(input.schema)),
    issuerPk: input.issuerPk,
    policies: configuredPolicies(input.policies),
    schema: input.schema,
    txId,
  };
}

/** Policies with their ids, sorted by id (deterministic order, duplicates dropped). */
export function configuredPolicies(policies: readonly Policy[]): ConfiguredPolicy[] {
  const byId = new Map<string, ConfiguredPolicy>();
  for (const policy of policies) byId.set(policyId(policy), { policy, policyId: policyId(policy) });
  return [...byId.keys()].sort().map((id) => byId.get(id) as ConfiguredPolicy);
}

/** Is `caller` the configured attribute authority? */
export function isAuthority(config: LedgerConfig, caller: Identity): boolean {
  return config.authority.mspId === caller.mspId && config.authority.id === caller.id;
}

/**
 * An identity as a person reads it: MSP id and the subject's common name (Fabric ids are
 * `x509::<subject>::<issuer>`), or the whole id when it has no CN.
 */
export function identityName(who: Identity): string {
  const subject = who.id.startsWith('x509::') ? (who.id.slice(6).split('::')[0] ?? '') : who.id;
  const cn = /(?:^|[/,]\s*)CN=([^/,]+)/.exec(subject)?.[1];
  return `${who.mspId} ${cn ?? who.id}`;
}

/** Throws PROV_ERR_FORBIDDEN unless `caller` is the authority; the message names both identities. */
export function assertAuthority(config: LedgerConfig, caller: Identity, action: string): void {
  if (!isAuthority(config, caller)) {
    throw contractError(
      CONTRACT_ERRORS.FORBIDDEN,
      `only the attribute authority (${identityName(config.authority)}) may ${action}; caller is ${identityName(caller)}`,
      {
        field: 'identity',
      },
    );
  }
}

/**
 * Parses register/update's JSON against the configured schema and issuer: H2's registration
 * record { deviceId, attributes, schema?, issuerPk?, header? } plus optional gatewayId and
 * firmwareHash. A record made under another schema or issuer key is refused.
 */
export function parseRegistration(json: string, config: LedgerConfig): RegistrationInput {
  const input = parseJsonArg(json, 'registration');
  if (!isPlainObject(input)) throw bad('registration must be an object { deviceId, attributes, ... }', 'registration');
  const deviceId = input['deviceId'];
  try {
    assertIdentifier(deviceId, 'deviceId');
  } catch (err) {
    throw domainError(err, 'deviceId');
  }
  if (input['schema'] !== undefined && JSON.stringify(input['schema']) !== JSON.stringify(config.schema)) {
    throw bad(`registration of ${deviceId} uses another schema than the ledger's (${config.schema.join(',')})`, 'schema');
  }
  if (input['issuerPk'] !== undefined && String(input['issuerPk']).toLowerCase() !== config.issuerPk) {
    throw bad(`registration of ${deviceId} was issued under another issuer key`, 'issuerPk');
  }
  const attributes = input['attributes'];
  try {
    assertAttributes(config.schema, attributes);
  } catch (err) {
    throw domainError(err, 'attributes');
  }
  if (attributes['deviceId'] !== deviceId)
    throw bad(`attribute deviceId ${attributes['deviceId']} differs from deviceId ${deviceId}`, 'attributes');
  return { deviceId, ...parseMetadataFields(input, config.schema, attributes) };
}

function parseMetadataFields(input: Record<string, unknown>, schema: Schema, attributes: Attributes): DeviceMetadata {
  const gatewayId = input['gatewayId'] ?? '';
  if (gatewayId !== '') {
    try {
      assertIdentifier(gatewayId, 'gatewayId');
    } catch (err) {
      throw domainError(err, 'gatewayId');
    }
  }
  const fw = input['firmwareHash'];
  const firmwareHash = fw === undefined || fw === '' ? '' : hexOf(fw, 'firmwareHash', 32);
  // Attributes in schema order: the same device always serialises the same way.
  const ordered: Record<string, string> = {};
  for (const name of schema) ordered[name] = attributes[name] as string;
  return { attributes: ordered, firmwareHash, gatewayId: gatewayId as string };
}

/** Parses Algorithm 2's presented metadata { attributes, gatewayId?, firmwareHash? }. */
export function parseMetadata(json: string, schema: Schema): DeviceMetadata {
  const input = parseJsonArg(json, 'metadata');
  if (!isPlainObject(input)) throw bad('metadata must be an object { attributes, gatewayId?, firmwareHash? }', 'metadata');
  const attributes = input['attributes'];
  if (!isPlainObject(attributes) || !Object.values(attributes).every((v) => typeof v === 'string')) {
    throw bad('metadata.attributes must be an object of strings', 'attributes');
  }
  // Presented metadata may be wrong (that is Algorithm 2's FALSE), but not malformed.
  const ordered: Record<string, string> = {};
  for (const name of [
    ...schema,
    ...Object.keys(attributes)
      .filter((n) => !schema.includes(n))
      .sort(),
  ]) {
    if (attributes[name] !== undefined) ordered[name] = attributes[name] as string;
  }
  const gatewayId = input['gatewayId'] ?? '';
  if (typeof gatewayId !== 'string') throw bad('metadata.gatewayId must be a string', 'gatewayId');
  const fw = input['firmwareHash'] ?? '';
  if (typeof fw !== 'string') throw bad('metadata.firmwareHash must be a string', 'firmwareHash');
  return { attributes: ordered, firmwareHash: fw.toLowerCase(), gatewayId };
}

/** The registry's metadata of a device. */
export function metadataOf(record: DeviceRecord): DeviceMetadata {
  return { attributes: record.attributes, firmwareHash: record.firmwareHash, gatewayId: record.gatewayId };
}

/**
 * Names of the metadata fields that differ, sorted (Algorithm 2's comparison, defined once in
 * shared/device-metadata.ts: attributes always, gatewayId and firmwareHash where registered).
 */
export function metadataDifferences(registered: DeviceMetadata, presented: DeviceMetadata): string[] {
  return sharedDifferences(registered, presented);
}

/**
 * bcId: the identity the ledger assigns a new device (Alg. 1 line 2), SHA-256 over the
 * registering MSP, the deviceId and the registering transaction id. Every endorser computes the
 * same value; no two registrations share one.
 */
export function bcIdFor(mspId: string, deviceId: string, txId: string): string {
  return createHash('sha256').update(`provenant/bcid/v1\u0000${mspId}\u0000${deviceId}\u0000${txId}`).digest('hex');
}

/** Alg. 1 "new": the first version of a device record. */
export function registerDevice(existing: DeviceRecord | undefined, input: RegistrationInput, mspId: string, txId: string): DeviceRecord {
  if (existing !== undefined) {
    throw contractError(CONTRACT_ERRORS.DEVICE_EXISTS, `device ${input.deviceId} is already registered (use update)`, {
      deviceId: input.deviceId,
    });
  }
  return {
    attributes: input.attributes,
    bcId: bcIdFor(mspId, input.deviceId, txId),
    deviceId: input.deviceId,
    firmwareHash: input.firmwareHash,
    gatewayId: input.gatewayId,
    registeredTxId: txId,
    revokedReason: '',
    status: 'active',
    txId,
    version: 1,
  };
}

function assertActive(existing: DeviceRecord | undefined, deviceId: string): DeviceRecord {
  if (existing === undefined) throw contractError(CONTRACT_ERRORS.DEVICE_NOT_FOUND, `could not find the device ${deviceId}`, { deviceId });
  if (existing.status === 'revoked') throw contractError(CONTRACT_ERRORS.DEVICE_REVOKED, `device ${deviceId} is revoked`, { deviceId });
  return existing;
}

/** Alg. 1 "update": the next version; bcId and registration stay, the old version stays in history. */
export function updateDevice(existing: DeviceRecord | undefined, input: RegistrationInput, txId: string): DeviceRecord {
  const prev = assertActive(existing, input.deviceId);
  return {
    ...prev,
    attributes: input.attributes,
    firmwareHash: input.firmwareHash,
    gatewayId: input.gatewayId,
    txId,
    version: prev.version + 1,
  };
}

/**
 * The board's LMS public key of key set 0, read by the authority from the board's Storage: the
 * next version of the record. Set once: later key sets are vouched for by the board itself
 * (DataProvenance recordSignature, kind 2), so replacing it would let the authority disown them.
 */
export function setSigningKey(existing: DeviceRecord | undefined, deviceId: string, keyHex: string, txId: string): DeviceRecord {
  const prev = assertActive(existing, deviceId);
  if (prev.signingKey !== undefined)
    throw bad(
      `device ${deviceId} already has a signing key; a board's later key sets chain from it (re-enroll under another id to start over)`,
      'signingKey',
    );
  let key: Uint8Array;
  try {
    key = fromHex(keyHex);
  } catch {
    throw bad('signingKey must be hex', 'signingKey');
  }
  if (!parseLmsPublicKey(key)) throw bad('signingKey is not an LMS public key of a parameter set this ledger implements', 'signingKey');
  return { ...prev, signingKey: toHex(key), txId, version: prev.version + 1 };
}

/** Revocation: the device's readings are refused from this version on. */
export function revokeDevice(existing: DeviceRecord | undefined, deviceId: string, reason: string, txId: string): DeviceRecord {
  const prev = assertActive(existing, deviceId);
  if (reason.length > 256) throw bad('reason must be at most 256 characters', 'reason');
  return { ...prev, revokedReason: reason === '' ? 'revoked' : reason, status: 'revoked', txId, version: prev.version + 1 };
}

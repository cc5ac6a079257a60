/**
 * What the outsourced signature's phases hand each other: the attribute schema, the device
 * credential K_Fog (held by the edge), the registration record (for the ledger) and the partial
 * signature (edge → ledger), with strict JSON codecs for the files and messages that carry them.
 *
 * Attribute values become BBS messages as their UTF-8 bytes, in schema order; the BBS header
 * binds the schema, so a credential cannot be re-read under another attribute order.
 */
import { ProvenantError, type ErrorCode } from '../errors.js';
import { fromHex, toHex } from '../encoding/hex.js';
import { G1_BYTES, SCALAR_BYTES } from './bbs-primitives.js';
import { ATTRIBUTE_NAME, MAX_ATTRIBUTE_NAME_LENGTH, MAX_POLICY_ID_REF_LENGTH } from './policy.js';
import { assertEpoch, assertIdentifier, MAX_IDENTIFIER_LENGTH } from './presentation.js';

/** Ordered attribute names; the first is always 'deviceId'. */
export type Schema = readonly string[];

/** The default schema of `provenant authority init`. */
export const DEFAULT_SCHEMA: Schema = Object.freeze(['deviceId', 'site', 'line', 'type', 'owner', 'fw']);

/** Attribute name → value, exactly the schema's names. */
export type Attributes = Readonly<Record<string, string>>;

/** K_Fog: the issuer's BBS signature over a device's attribute values. The edge holds it; no K_IoT. */
export interface Credential {
  readonly deviceId: string;
  readonly schema: Schema;
  readonly attributes: Attributes;
  /** Issuer public key, 96 bytes (compressed G2). */
  readonly issuerPk: Uint8Array;
  /** BBS header: {@link schemaHeader}(schema). */
  readonly header: Uint8Array;
  /** BBS signature, 80 bytes. */
  readonly signature: Uint8Array;
}

/** The registration record for the Device Registration contract: public data only, JSON-ready. */
export interface Registration {
  readonly deviceId: string;
  readonly attributes: Attributes;
  readonly schema: Schema;
  /** Hex of the issuer public key. */
  readonly issuerPk: string;
  /** Hex of the BBS header. */
  readonly header: string;
}

/** A partial signature σp for one device, epoch, edge and policy (BRIEF §3, SignPartial). */
export interface PartialSignature {
  readonly deviceId: string;
  readonly epoch: number;
  readonly edgeId: string;
  readonly policyId: string;
  /** Schema indexes the proof discloses, strictly increasing; always includes 0 (deviceId). */
  readonly disclosedIndexes: readonly number[];
  /** The disclosed attributes, name → value. */
  readonly disclosed: Attributes;
  /** The BBS proof σp. */
  readonly proof: Uint8Array;
  /** The presentation header the proof was made with. */
  readonly ph: Uint8Array;
  /** SHA-256(σp ‖ ph), 32 bytes. */
  readonly partialDigest: Uint8Array;
}

/** Most attributes a schema names. */
export const MAX_ATTRIBUTES = 32;
/** Longest attribute value (characters, as JavaScript counts them). */
export const MAX_VALUE_LENGTH = 256;
/**
 * All of a device's attribute values together, in UTF-8 bytes. With values free of control
 * characters and lone surrogates (JSON then escapes only '"' and '\\', 2 bytes each), this bounds
 * the JSON of a partial signature (MAX_PARTIAL_JSON_BYTES), and so a batch
 * (shared/encoding/batch.ts MAX_PACKED_BATCH_BYTES) and the ledger's request body limit.
 */
export const MAX_ATTRIBUTE_BYTES = 1024;
/** Control characters, or a UTF-16 surrogate without its pair: not allowed in attribute values. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNSAFE_TEXT = /[\u0000-\u001f\u007f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * Longest UTF-8 JSON text of a valid partial signature as `partialToJson` + JSON.stringify write
 * it, every field at its maximum: identifiers and disclosed values escaped at 2 bytes per byte
 * (the worst case), the disclosed attributes all of the credential's, and a proof with all but
 * deviceId undisclosed (both maxima at once: an upper bound). Decoders refuse a longer partial.
 */
export const MAX_PARTIAL_JSON_BYTES = (() => {
  const skeleton = JSON.stringify({
    deviceId: '',
    epoch: 0,
    edgeId: '',
    policyId: '',
    disclosedIndexes: [],
    disclosed: {},
    proof: '',
    ph: '',
    partialDigest: '',
  }).length;
  const ids = 2 * (2 * MAX_IDENTIFIER_LENGTH); // deviceId, edgeId
  const epoch = String(0xffffffff).length - 1; // the skeleton has '0'
  const indexes = MAX_ATTRIBUTES * String(MAX_ATTRIBUTES - 1).length + (MAX_ATTRIBUTES - 1);
  const disclosed = MAX_ATTRIBUTES * (MAX_ATTRIBUTE_NAME_LENGTH + '"":"",'.length) + 2 * MAX_ATTRIBUTE_BYTES;
  const proof = 2 * (3 * G1_BYTES + 4 * SCALAR_BYTES + SCALAR_BYTES * (MAX_ATTRIBUTES - 1));
  // ph: "PVPH" | version | epoch u32 | u16 + edgeId | u16 + deviceId | u16 + policyId (presentation.ts)
  const ph = 2 * (4 + 1 + 4 + 2 + MAX_IDENTIFIER_LENGTH + 2 + MAX_IDENTIFIER_LENGTH + 2 + MAX_POLICY_ID_REF_LENGTH);
  const digest = 2 * 32;
  return skeleton + ids + epoch + MAX_POLICY_ID_REF_LENGTH + indexes + disclosed + proof + ph + digest;
})();

function bad(code: ErrorCode, message: string, field: string): ProvenantError {
  return new ProvenantError(code, message, { field });
}

/** Checks a schema: 1..32 unique attribute names, the first 'deviceId'. Throws PROV_ERR_BAD_INPUT. */
export function assertSchema(schema: unknown): asserts schema is Schema {
  if (!Array.isArray(schema) || schema.length === 0)
    throw bad('PROV_ERR_BAD_INPUT', 'schema must be a non-empty list of attribute names', 'schema');
  if (schema.length > MAX_ATTRIBUTES) throw bad('PROV_ERR_BAD_INPUT', `schema has more than ${MAX_ATTRIBUTES} attributes`, 'schema');
  if (schema[0] !== 'deviceId') throw bad('PROV_ERR_BAD_INPUT', "schema must start with 'deviceId'", 'schema');
  const seen = new Set<string>();
  for (const name of schema as unknown[]) {
    if (typeof name !== 'string' || !ATTRIBUTE_NAME.test(name)) {
      throw bad('PROV_ERR_BAD_INPUT', `schema attribute "${String(name)}" is not [A-Za-z][A-Za-z0-9_]{0,31}`, 'schema');
    }
    if (seen.has(name)) throw bad('PROV_ERR_BAD_INPUT', `schema names attribute "${name}" twice`, 'schema');
    seen.add(name);
  }
}

/**
 * Checks a device's attributes against the schema: every schema attribute present, no other,
 * values strings of 1..256 characters without control characters, MAX_ATTRIBUTE_BYTES in all,
 * deviceId an identifier. Throws PROV_ERR_BAD_INPUT
 * naming the missing or unknown attribute.
 */
export function assertAttributes(schema: Schema, attributes: unknown): asserts attributes is Attributes {
  if (typeof attributes !== 'object' || attributes === null || Array.isArray(attributes)) {
    throw bad('PROV_ERR_BAD_INPUT', 'attributes must be an object of name = value', 'attributes');
  }
  const record = attributes as Record<string, unknown>;
  for (const name of Object.keys(record)) {
    if (!schema.includes(name)) {
      throw bad('PROV_ERR_BAD_INPUT', `unknown attribute "${name}" (schema: ${schema.join(',')})`, name);
    }
  }
  const missing = schema.filter((name) => !Object.prototype.hasOwnProperty.call(record, name));
  if (missing.length > 0) {
    const list = missing.map((n) => `"${n}"`).join(', ');
    throw bad(
      'PROV_ERR_BAD_INPUT',
      `missing attribute${missing.length > 1 ? 's' : ''} ${list} (schema: ${schema.join(',')})`,
      missing[0] as string,
    );
  }
  let bytes = 0;
  for (const name of schema) {
    const value = record[name];
    if (typeof value !== 'string' || value.length === 0 || value.length > MAX_VALUE_LENGTH) {
      throw bad('PROV_ERR_BAD_INPUT', `attribute "${name}" must be a string of 1..${MAX_VALUE_LENGTH} characters`, name);
    }
    if (UNSAFE_TEXT.test(value))
      throw bad('PROV_ERR_BAD_INPUT', `attribute "${name}" holds a control character or an unpaired surrogate`, name);
    bytes += new TextEncoder().encode(value).length;
  }
  if (bytes > MAX_ATTRIBUTE_BYTES)
    throw bad('PROV_ERR_BAD_INPUT', `attribute values total ${bytes} bytes (UTF-8); at most ${MAX_ATTRIBUTE_BYTES}`, 'attributes');
  try {
    assertIdentifier(record['deviceId'], 'deviceId');
  } catch (err) {
    throw bad('PROV_ERR_BAD_INPUT', (err as Error).message, 'deviceId');
  }
}

/** The BBS header that binds a schema: UTF-8 of 'provenant/v1/' + names joined by ','. */
export function schemaHeader(schema: Schema): Uint8Array {
  return new TextEncoder().encode(`provenant/v1/${schema.join(',')}`);
}

/** The BBS messages of a device: its attribute values as UTF-8, in schema order. */
export function attributeMessages(schema: Schema, attributes: Attributes): Uint8Array[] {
  const enc = new TextEncoder();
  return schema.map((name) => enc.encode(attributes[name] as string));
}

// ---- JSON codecs (files and HTTP bodies carry hex for bytes) ----

/** JSON form of a credential (the `<ID>.credential.json` file the edge loads). */
export interface CredentialJson {
  readonly version: 1;
  readonly deviceId: string;
  readonly schema: string[];
  readonly attributes: Record<string, string>;
  readonly issuerPk: string;
  readonly header: string;
  readonly signature: string;
}

/** JSON form of a partial signature (edge → ledger). */
export interface PartialSignatureJson {
  readonly deviceId: string;
  readonly epoch: number;
  readonly edgeId: string;
  readonly policyId: string;
  readonly disclosedIndexes: number[];
  readonly disclosed: Record<string, string>;
  readonly proof: string;
  readonly ph: string;
  readonly partialDigest: string;
}

/** Credential → JSON (hex for bytes). */
export function credentialToJson(c: Credential): CredentialJson {
  return {
    version: 1,
    deviceId: c.deviceId,
    schema: [...c.schema],
    attributes: { ...c.attributes },
    issuerPk: toHex(c.issuerPk),
    header: toHex(c.header),
    signature: toHex(c.signature),
  };
}

function field<T>(obj: Record<string, unknown>, name: string, code: ErrorCode, check: (v: unknown) => v is T, what: string): T {
  const v = obj[name];
  if (!check(v)) throw bad(code, `${what}: field "${name}" is missing or has the wrong type`, name);
  return v;
}

const isString = (v: unknown): v is string => typeof v === 'string';
const isNumber = (v: unknown): v is number => typeof v === 'number';
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function hexField(obj: Record<string, unknown>, name: string, code: ErrorCode, what: string, length?: number): Uint8Array {
  const hex = field(obj, name, code, isString, what);
  let bytes: Uint8Array;
  try {
    bytes = fromHex(hex);
  } catch (err) {
    throw bad(code, `${what}: field "${name}": ${(err as Error).message}`, name);
  }
  if (length !== undefined && bytes.length !== length) throw bad(code, `${what}: field "${name}" must be ${length} bytes`, name);
  return bytes;
}

/** JSON → credential, strictly (throws PROV_ERR_BAD_INPUT naming the field). Does not verify the signature. */
export function credentialFromJson(json: unknown): Credential {
  const code = 'PROV_ERR_BAD_INPUT';
  if (!isObject(json)) throw bad(code, 'credential: expected a JSON object', 'credential');
  if (json['version'] !== 1) throw bad(code, 'credential: unsupported version (expected 1)', 'version');
  const schema = json['schema'];
  assertSchema(schema);
  const attributes = json['attributes'];
  assertAttributes(schema, attributes);
  const deviceId = field(json, 'deviceId', code, isString, 'credential');
  if (attributes['deviceId'] !== deviceId)
    throw bad(code, `credential: deviceId ${deviceId} differs from its deviceId attribute`, 'deviceId');
  const header = hexField(json, 'header', code, 'credential');
  if (toHex(header) !== toHex(schemaHeader(schema))) throw bad(code, 'credential: header does not bind its schema', 'header');
  return {
    deviceId,
    schema: Object.freeze([...schema]),
    attributes: Object.freeze({ ...attributes }),
    issuerPk: hexField(json, 'issuerPk', code, 'credential', 96),
    header,
    signature: hexField(json, 'signature', code, 'credential', 80),
  };
}

/** Partial signature → JSON (hex for bytes). */
export function partialToJson(p: PartialSignature): PartialSignatureJson {
  return {
    deviceId: p.deviceId,
    epoch: p.epoch,
    edgeId: p.edgeId,
    policyId: p.policyId,
    disclosedIndexes: [...p.disclosedIndexes],
    disclosed: { ...p.disclosed },
    proof: toHex(p.proof),
    ph: toHex(p.ph),
    partialDigest: toHex(p.partialDigest),
  };
}

/**
 * JSON → partial signature, checking shapes only (throws PROV_ERR_BAD_INPUT). Whether it is
 * valid is validatePartial's question.
 */
export function partialFromJson(json: unknown): PartialSignature {
  const code = 'PROV_ERR_BAD_INPUT';
  const what = 'partial signature';
  if (!isObject(json)) throw bad(code, `${what}: expected a JSON object`, 'partial');
  const deviceId = field(json, 'deviceId', code, isString, what);
  const edgeId = field(json, 'edgeId', code, isString, what);
  const epoch = field(json, 'epoch', code, isNumber, what);
  try {
    assertIdentifier(deviceId, 'deviceId');
    assertIdentifier(edgeId, 'edgeId');
    assertEpoch(epoch);
  } catch (err) {
    throw bad(code, `${what}: ${(err as Error).message}`, 'partial');
  }
  const indexes = json['disclosedIndexes'];
  if (!Array.isArray(indexes) || !indexes.every((i) => Number.isInteger(i) && (i as number) >= 0 && (i as number) < MAX_ATTRIBUTES)) {
    throw bad(code, `${what}: disclosedIndexes must be a list of attribute indexes`, 'disclosedIndexes');
  }
  const disclosed = field(json, 'disclosed', code, isObject, what);
  for (const [k, v] of Object.entries(disclosed)) {
    if (typeof v !== 'string') throw bad(code, `${what}: disclosed attribute "${k}" must be a string`, 'disclosed');
  }
  return {
    deviceId,
    epoch,
    edgeId,
    policyId: field(json, 'policyId', code, isString, what),
    disclosedIndexes: Object.freeze([...(indexes as number[])]),
    disclosed: Object.freeze({ ...(disclosed as Record<string, string>) }),
    proof: hexField(json, 'proof', code, what),
    ph: hexField(json, 'ph', code, what),
    partialDigest: hexField(json, 'partialDigest', code, what, 32),
  };
}

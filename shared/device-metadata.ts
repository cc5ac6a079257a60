/**
 * The metadata Device Provenance (talk, Algorithm 2, line 6: `tx'.metadata = tx.metadata`)
 * compares, defined once. Every route that asks "is this device who it claims to be?" — the edge
 * API (POST /devices/:id/challenge), `provenant device prove`, the auditor (POST /prove), the
 * console — builds what it presents with one of the two functions below, and the contract
 * compares with {@link metadataDifferences}.
 *
 * | field        | what it is                                        | registered from (the ledger's side)                              | presented by the edge                         | presented by the CLI / auditor    |
 * |--------------|---------------------------------------------------|------------------------------------------------------------------|-----------------------------------------------|-----------------------------------|
 * | attributes   | the issuer-signed attribute values (schema order) | enrollment: `authority enroll --attr` (= the credential's values) | its credential's attributes (issuer-signed)   | the registration file             |
 * | gatewayId    | the edge the device is pinned to ('' = not pinned)| `authority enroll --gateway`, or `device register/update --gateway` | its own edgeId (config `edgeId`)            | the registration file             |
 * | firmwareHash | SHA-256 of the firmware as HELLO reports it ('' = not pinned) | `authority enroll --firmware-hash`, or `device register/update --firmware-hash` | the fwHash of the board's last HELLO | the registration file |
 *
 * The comparison: every attribute must be equal (both ways: a missing or extra attribute is a
 * difference); `gatewayId` and `firmwareHash` are compared only when the registry pins them (a
 * non-empty registered value). An unpinned gateway means any registered edge may serve the device
 * (the same rule as Data Provenance's edge binding); an unpinned firmware means the authority did
 * not fix one. So a genuine board answers TRUE through its own edge and from its registration file,
 * and FALSE names exactly the pinned fields that differ.
 *
 * Pure (no I/O): the contract, the edge and the CLI import it. Malformed input is PROV_ERR_BAD_INPUT.
 */
import { ProvenantError } from './errors.js';

/** What Algorithm 2 compares. */
export interface DeviceMetadata {
  readonly attributes: Readonly<Record<string, string>>;
  readonly gatewayId: string;
  readonly firmwareHash: string;
}

const HEX64 = /^[0-9a-f]{64}$/;

function fail(message: string): never {
  throw new ProvenantError('PROV_ERR_BAD_INPUT', message, { field: 'metadata' });
}

function attributesOf(value: unknown, where: string): Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(`${where}.attributes must be an object of strings`);
  const out: Record<string, string> = {};
  for (const name of Object.keys(value as object)) {
    const v = (value as Record<string, unknown>)[name];
    if (typeof v !== 'string') fail(`${where}.attributes.${name} must be a string`);
    out[name] = v as string;
  }
  return out;
}

function firmwareOf(value: unknown, where: string): string {
  if (value === undefined || value === null || value === '') return '';
  if (typeof value !== 'string' || !HEX64.test(value.toLowerCase())) fail(`${where}.firmwareHash must be 64 hex digits (SHA-256)`);
  return (value as string).toLowerCase();
}

function gatewayOf(value: unknown, where: string): string {
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string') fail(`${where}.gatewayId must be a string`);
  return value as string;
}

/**
 * The metadata a registration record presents (the `<ID>.registration.json` of `provenant
 * authority enroll`, or any `{ attributes, gatewayId?, firmwareHash? }`): the CLI's, the auditor's
 * and the console's source. `overrides` (e.g. `--gateway`) replace a field.
 */
export function metadataFromRegistration(
  registration: unknown,
  overrides: { readonly gatewayId?: string; readonly firmwareHash?: string } = {},
  where = 'registration',
): DeviceMetadata {
  if (typeof registration !== 'object' || registration === null || Array.isArray(registration))
    fail(`${where} must be an object { attributes, gatewayId?, firmwareHash? }`);
  const r = registration as Record<string, unknown>;
  return {
    attributes: attributesOf(r['attributes'], where),
    gatewayId: gatewayOf(overrides.gatewayId ?? r['gatewayId'], where),
    firmwareHash: firmwareOf(overrides.firmwareHash ?? r['firmwareHash'], where),
  };
}

/**
 * The metadata an edge presents for a device it serves: the attributes of the credential it holds
 * (issuer-signed), itself as the gateway, and the firmware hash the board reported in its HELLO
 * (hex; '' or undefined when it has not said HELLO).
 */
export function metadataAtEdge(credentialAttributes: Readonly<Record<string, string>>, edgeId: string, fwHashHex?: string): DeviceMetadata {
  return {
    attributes: attributesOf(credentialAttributes, 'credential'),
    gatewayId: edgeId,
    firmwareHash: firmwareOf(fwHashHex === undefined || /^0{64}$/.test(fwHashHex) ? '' : fwHashHex, 'HELLO'),
  };
}

/** The JSON text DeviceProvenance.prove takes (keys sorted, attributes in name order). */
export function metadataArg(m: DeviceMetadata): string {
  const attributes: Record<string, string> = {};
  for (const name of Object.keys(m.attributes).sort()) attributes[name] = m.attributes[name] as string;
  return JSON.stringify({ attributes, firmwareHash: m.firmwareHash, gatewayId: m.gatewayId });
}

/**
 * Names of the fields that differ between the registry's metadata and the presented one, sorted:
 * `attributes.<name>` for each attribute that is not equal on both sides, then `firmwareHash` and
 * `gatewayId` when the registry pins them and the presented value differs.
 */
export function metadataDifferences(registered: DeviceMetadata, presented: DeviceMetadata): string[] {
  const out: string[] = [];
  const names: Record<string, true> = {};
  for (const n of Object.keys(registered.attributes)) names[n] = true;
  for (const n of Object.keys(presented.attributes)) names[n] = true;
  for (const name of Object.keys(names).sort()) {
    const a = Object.prototype.hasOwnProperty.call(registered.attributes, name) ? registered.attributes[name] : undefined;
    const b = Object.prototype.hasOwnProperty.call(presented.attributes, name) ? presented.attributes[name] : undefined;
    if (a !== b) out.push(`attributes.${name}`);
  }
  if (registered.firmwareHash !== '' && registered.firmwareHash !== presented.firmwareHash) out.push('firmwareHash');
  if (registered.gatewayId !== '' && registered.gatewayId !== presented.gatewayId) out.push('gatewayId');
  return out;
}

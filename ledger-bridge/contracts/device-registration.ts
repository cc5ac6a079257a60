/**
 * Device Registration contract (talk, Algorithm 1): maps a deviceId to its ledger identity
 * (bcId), attributes, gateway and firmware; only the attribute authority registers, updates and
 * revokes; updates keep history (the key's history is every version). The device's ledger keys
 * (K_tag and K_chal, derived from K_IoT by the authority: shared/crypto/domains.ts) arrive in
 * transient data and go to a private data collection, never into a block. K_IoT itself is refused.
 */
import { CONTRACTS } from '../client.js';
import { EVENTS } from '../../shared/records.js';
// Context is a value import on purpose: decorator metadata must name the class (see fabric.ts).
// eslint-disable-next-line @typescript-eslint/consistent-type-imports
import { Contract, Info, Returns, StringParams, Transaction, Context } from './fabric.js';
import { CONTRACT_ERRORS, contractError } from './errors.js';
import { DEPOSIT_TRANSIENT_KEYS, KIOT_TRANSIENT_KEY } from './keys.js';
import { canonicalBytes, canonicalJson } from './logic/canonical.js';
import { parseDeviceIdArg, parseJsonArg } from './logic/args.js';
import {
  assertAuthority,
  configuredPolicies,
  newConfig,
  parseConfigureInput,
  parsePolicies,
  parseRegistration,
  registerDevice,
  revokeDevice,
  setSigningKey,
  updateDevice,
  type DeviceRecord,
} from './logic/registration.js';
import {
  callerOf,
  configKey,
  deviceKey,
  drain,
  edgeIdentityKey,
  edgeIdOfIdentity,
  edgeKey,
  getJson,
  loadConfig,
  loadDevice,
  loadEdge,
  putJson,
  storeDeviceKeys,
} from './state.js';
import { parseEdgeRegistration, registerEdge, revokeEdge } from './logic/edges.js';
import { DEVICE_KEY_BYTES, type LedgerKeys } from '../../shared/crypto/domains.js';

/** What register, update and revoke return (Alg. 1: txId and bcId). */
export interface RegistrationResult {
  readonly bcId: string;
  readonly deviceId: string;
  readonly status: string;
  readonly txId: string;
  readonly version: number;
}

/**
 * The deposit in transient data: K_tag and K_chal (32 bytes each), both or neither. A transient
 * K_IoT is refused: the ledger must not hold the key that also unlocks boards (K_maint derives from it).
 */
function depositFromTransient(ctx: Context, required: boolean, deviceId: string): LedgerKeys | undefined {
  const transient = ctx.stub.getTransient();
  if ((transient.get(KIOT_TRANSIENT_KEY)?.length ?? 0) > 0) {
    throw contractError(
      CONTRACT_ERRORS.BAD_INPUT,
      `${deviceId}: transient "${KIOT_TRANSIENT_KEY}" is refused: deposit K_tag and K_chal ("${DEPOSIT_TRANSIENT_KEYS.kTag}", "${DEPOSIT_TRANSIENT_KEYS.kChal}", derived from K_IoT by provenant device register), never K_IoT`,
      { deviceId, field: KIOT_TRANSIENT_KEY },
    );
  }
  const kTag = transient.get(DEPOSIT_TRANSIENT_KEYS.kTag);
  const kChal = transient.get(DEPOSIT_TRANSIENT_KEYS.kChal);
  const none = (b: Uint8Array | undefined): boolean => b === undefined || b.length === 0;
  if (none(kTag) && none(kChal)) {
    if (required)
      throw contractError(
        CONTRACT_ERRORS.KIOT_MISSING,
        `register ${deviceId}: transient data must carry "${DEPOSIT_TRANSIENT_KEYS.kTag}" and "${DEPOSIT_TRANSIENT_KEYS.kChal}"`,
        { deviceId },
      );
    return undefined;
  }
  for (const [field, b] of [
    [DEPOSIT_TRANSIENT_KEYS.kTag, kTag],
    [DEPOSIT_TRANSIENT_KEYS.kChal, kChal],
  ] as const) {
    if (b === undefined || b.length !== DEVICE_KEY_BYTES) {
      throw contractError(CONTRACT_ERRORS.BAD_INPUT, `${field} of ${deviceId} must be ${DEVICE_KEY_BYTES} bytes`, { deviceId, field });
    }
  }
  return { kTag: Uint8Array.from(kTag as Uint8Array), kChal: Uint8Array.from(kChal as Uint8Array) };
}

/** Fabric's Timestamp: seconds may be a number or a Long. */
interface FabricTimestamp {
  readonly seconds?: number | { toNumber(): number };
  readonly nanos?: number;
}

function timestampMs(ts: FabricTimestamp | undefined): number {
  const s = ts?.seconds;
  const seconds = typeof s === 'number' ? s : s !== undefined && typeof s.toNumber === 'function' ? s.toNumber() : 0;
  return seconds * 1000 + Math.floor((ts?.nanos ?? 0) / 1e6);
}

function resultOf(record: DeviceRecord, txId: string): string {
  return canonicalJson({ bcId: record.bcId, deviceId: record.deviceId, status: record.status, txId, version: record.version });
}

/** The Device Registration contract. */
@Info({ title: 'DeviceRegistration', description: 'Provenant device registry (talk, Algorithm 1)' })
export class DeviceRegistrationContract extends Contract {
  constructor() {
    super(CONTRACTS.deviceRegistration);
  }

  /**
   * One-time setup: stores the caller as the attribute authority, with the issuer public key,
   * attribute schema and accepted policies. configJson: { issuerPk, schema, policies }.
   */
  @StringParams('configJson')
  @Transaction()
  @Returns('string')
  async configure(ctx: Context, configJson: string): Promise<string> {
    const input = parseConfigureInput(configJson);
    const key = configKey(ctx);
    if ((await getJson(ctx, key)) !== undefined)
      throw contractError(CONTRACT_ERRORS.ALREADY_CONFIGURED, 'the ledger is already configured');
    const config = newConfig(input, callerOf(ctx), ctx.stub.getTxID());
    await putJson(ctx, key, config);
    ctx.stub.setEvent(EVENTS.configured, canonicalBytes({ authority: config.authority, txId: config.txId }));
    return canonicalJson(config);
  }

  /** The authority replaces the accepted policies (the old list stays in the key history). */
  @StringParams('policiesJson')
  @Transaction()
  @Returns('string')
  async setPolicies(ctx: Context, policiesJson: string): Promise<string> {
    const config = await loadConfig(ctx);
    assertAuthority(config, callerOf(ctx), 'set policies');
    const next = {
      ...config,
      policies: configuredPolicies(parsePolicies(parseJsonArg(policiesJson, 'policies'), config.schema)),
      txId: ctx.stub.getTxID(),
    };
    await putJson(ctx, configKey(ctx), next);
    return canonicalJson(next);
  }

  /** The ledger config (authority, issuer key, schema, policies). */
  @Transaction(false)
  @Returns('string')
  async getConfig(ctx: Context): Promise<string> {
    return canonicalJson(await loadConfig(ctx));
  }

  /**
   * Alg. 1, reg_type = new. registrationJson: the authority's registration record
   * { deviceId, attributes, schema?, issuerPk?, header?, gatewayId?, firmwareHash? }; K_tag and
   * K_chal in transient data fields "kTag" and "kChal". Returns { txId, bcId, ... }.
   */
  @StringParams('registrationJson')
  @Transaction()
  @Returns('string')
  async register(ctx: Context, registrationJson: string): Promise<string> {
    const config = await loadConfig(ctx);
    const caller = callerOf(ctx);
    assertAuthority(config, caller, 'register devices');
    const input = parseRegistration(registrationJson, config);
    const keys = depositFromTransient(ctx, true, input.deviceId) as LedgerKeys;
    const txId = ctx.stub.getTxID();
    const record = registerDevice(await loadDevice(ctx, input.deviceId), input, caller.mspId, txId);
    await putJson(ctx, deviceKey(ctx, input.deviceId), record);
    await storeDeviceKeys(ctx, input.deviceId, keys);
    ctx.stub.setEvent(EVENTS.deviceRegistered, canonicalBytes({ bcId: record.bcId, deviceId: record.deviceId, txId }));
    return resultOf(record, txId);
  }

  /**
   * Alg. 1, reg_type = update: new attributes, gateway or firmware for a registered, active
   * device; K_tag and K_chal in transient data rotate the keys. History is the key's history.
   */
  @StringParams('registrationJson')
  @Transaction()
  @Returns('string')
  async update(ctx: Context, registrationJson: string): Promise<string> {
    const config = await loadConfig(ctx);
    assertAuthority(config, callerOf(ctx), 'update devices');
    const input = parseRegistration(registrationJson, config);
    const keys = depositFromTransient(ctx, false, input.deviceId);
    const txId = ctx.stub.getTxID();
    const record = updateDevice(await loadDevice(ctx, input.deviceId), input, txId);
    await putJson(ctx, deviceKey(ctx, input.deviceId), record);
    if (keys !== undefined) await storeDeviceKeys(ctx, input.deviceId, keys);
    ctx.stub.setEvent(EVENTS.deviceUpdated, canonicalBytes({ deviceId: record.deviceId, txId, version: record.version }));
    return resultOf(record, txId);
  }

  /**
   * Registers the board's hash-based signing key (issue 16): the LMS public key of its key set 0,
   * which the board made itself and the authority read from its Storage. Authority only, once per
   * device; its epoch signatures make its readings independently verifiable (docs/contracts.md).
   */
  @StringParams('deviceId', 'publicKeyHex')
  @Transaction()
  @Returns('string')
  async registerSigningKey(ctx: Context, deviceId: string, publicKeyHex: string): Promise<string> {
    const config = await loadConfig(ctx);
    assertAuthority(config, callerOf(ctx), 'register signing keys');
    const id = parseDeviceIdArg(deviceId);
    const txId = ctx.stub.getTxID();
    const record = setSigningKey(await loadDevice(ctx, id), id, String(publicKeyHex ?? '').toLowerCase(), txId);
    await putJson(ctx, deviceKey(ctx, id), record);
    ctx.stub.setEvent(EVENTS.deviceUpdated, canonicalBytes({ deviceId: id, txId, version: record.version }));
    return resultOf(record, txId);
  }

  /** Revokes a device: its readings are refused from now on. Cannot be undone (register anew under another id). */
  @StringParams('deviceId', 'reason')
  @Transaction()
  @Returns('string')
  async revoke(ctx: Context, deviceId: string, reason: string): Promise<string> {
    const config = await loadConfig(ctx);
    assertAuthority(config, callerOf(ctx), 'revoke devices');
    const id = parseDeviceIdArg(deviceId);
    const txId = ctx.stub.getTxID();
    const record = revokeDevice(await loadDevice(ctx, id), id, String(reason ?? ''), txId);
    await putJson(ctx, deviceKey(ctx, id), record);
    ctx.stub.setEvent(EVENTS.deviceRevoked, canonicalBytes({ deviceId: id, reason: record.revokedReason, txId }));
    return resultOf(record, txId);
  }

  /**
   * The edge registry (authority only): edgeJson { edgeId, mspId, id } binds the ledger identity
   * (MSP id + client id, see whoami) to an edgeId. Registering an existing edgeId again moves it to
   * the new identity (a re-issued certificate); one identity acts as at most one edge.
   */
  @StringParams('edgeJson')
  @Transaction()
  @Returns('string')
  async registerEdge(ctx: Context, edgeJson: string): Promise<string> {
    const config = await loadConfig(ctx);
    assertAuthority(config, callerOf(ctx), 'register edges');
    const input = parseEdgeRegistration(edgeJson);
    const existing = await loadEdge(ctx, input.edgeId);
    const record = registerEdge(existing, await edgeIdOfIdentity(ctx, input), input, ctx.stub.getTxID());
    if (existing !== undefined && existing.status === 'active' && (existing.mspId !== input.mspId || existing.id !== input.id))
      await ctx.stub.deleteState(edgeIdentityKey(ctx, existing));
    await putJson(ctx, edgeKey(ctx, record.edgeId), record);
    await putJson(ctx, edgeIdentityKey(ctx, record), record.edgeId);
    ctx.stub.setEvent(EVENTS.edgeRegistered, canonicalBytes({ edgeId: record.edgeId, txId: record.txId, version: record.version }));
    return canonicalJson(record);
  }

  /** Revokes an edge (authority only): it can no longer record readings or traffic profiles. */
  @StringParams('edgeId', 'reason')
  @Transaction()
  @Returns('string')
  async revokeEdge(ctx: Context, edgeId: string, reason: string): Promise<string> {
    const config = await loadConfig(ctx);
    assertAuthority(config, callerOf(ctx), 'revoke edges');
    const id = parseDeviceIdArg(edgeId);
    const record = revokeEdge(await loadEdge(ctx, id), id, String(reason ?? ''), ctx.stub.getTxID());
    await putJson(ctx, edgeKey(ctx, id), record);
    await ctx.stub.deleteState(edgeIdentityKey(ctx, record));
    ctx.stub.setEvent(EVENTS.edgeRevoked, canonicalBytes({ edgeId: id, reason: record.revokedReason, txId: record.txId }));
    return canonicalJson(record);
  }

  /** An edge's registry entry; PROV_ERR_EDGE_NOT_FOUND if none. */
  @StringParams('edgeId')
  @Transaction(false)
  @Returns('string')
  async getEdge(ctx: Context, edgeId: string): Promise<string> {
    const id = parseDeviceIdArg(edgeId);
    const record = await loadEdge(ctx, id);
    if (record === undefined) throw contractError(CONTRACT_ERRORS.EDGE_NOT_FOUND, `no edge ${id} is registered`, { field: 'edgeId' });
    return canonicalJson(record);
  }

  /**
   * Who is calling: { mspId, id, edgeId } as the contracts see the caller (edgeId '' when the
   * identity is no registered edge). An edge operator sends this to the authority to be registered.
   */
  @Transaction(false)
  @Returns('string')
  async whoami(ctx: Context): Promise<string> {
    const caller = callerOf(ctx);
    return canonicalJson({ ...caller, edgeId: (await edgeIdOfIdentity(ctx, caller)) ?? '' });
  }

  /** The device record; PROV_ERR_DEVICE_NOT_FOUND if none. */
  @StringParams('deviceId')
  @Transaction(false)
  @Returns('string')
  async get(ctx: Context, deviceId: string): Promise<string> {
    const id = parseDeviceIdArg(deviceId);
    const record = await loadDevice(ctx, id);
    if (record === undefined) throw contractError(CONTRACT_ERRORS.DEVICE_NOT_FOUND, `could not find the device ${id}`, { deviceId: id });
    return canonicalJson(record);
  }

  /** Every version of the device record, oldest first: [{ txId, timestamp, record }]. */
  @StringParams('deviceId')
  @Transaction(false)
  @Returns('string')
  async history(ctx: Context, deviceId: string): Promise<string> {
    const id = parseDeviceIdArg(deviceId);
    const iterator = (await ctx.stub.getHistoryForKey(deviceKey(ctx, id))) as unknown as Parameters<typeof drain>[0];
    const mods = (await drain(iterator)) as { txId: string; isDelete: boolean; value: Uint8Array; timestamp?: FabricTimestamp }[];
    if (mods.length === 0) throw contractError(CONTRACT_ERRORS.DEVICE_NOT_FOUND, `could not find the device ${id}`, { deviceId: id });
    const versions = mods
      .filter((m) => !m.isDelete && m.value.length > 0)
      .map((m) => {
        const record = JSON.parse(new TextDecoder().decode(m.value)) as DeviceRecord;
        return { record, timestamp: timestampMs(m.timestamp), txId: m.txId };
      })
      // Fabric returns newest first, some stubs oldest first: order by version, which only grows.
      .sort((a, b) => a.record.version - b.record.version);
    return canonicalJson(versions);
  }
}

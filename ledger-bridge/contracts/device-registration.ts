/**
 * Device Registration contract (talk, Algorithm 1): maps a deviceId to its ledger identity
 * (bcId), attributes, gateway and firmware; only the attribute authority registers, updates and
 * revokes; updates keep history (the key's history is every version). K_IoT arrives in transient
 * data and goes to a private data collection, never into a block.
 */
import { CONTRACTS } from '../client.js';
import { EVENTS } from '../../shared/records.js';
// Context is a value import on purpose: decorator metadata must name the class (see fabric.ts).
// eslint-disable-next-line @typescript-eslint/consistent-type-imports
import { Contract, Info, Returns, StringParams, Transaction, Context } from './fabric.js';
import { CONTRACT_ERRORS, contractError } from './errors.js';
import { KIOT_TRANSIENT_KEY } from './keys.js';
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
  updateDevice,
  type DeviceRecord,
} from './logic/registration.js';
import { callerOf, configKey, deviceKey, drain, getJson, loadConfig, loadDevice, putJson, storeKiot } from './state.js';
import { K_IOT_BYTES } from '../../shared/crypto/complete.js';

/** What register, update and revoke return (Alg. 1: txId and bcId). */
export interface RegistrationResult {
  readonly bcId: string;
  readonly deviceId: string;
  readonly status: string;
  readonly txId: string;
  readonly version: number;
}

function kIotFromTransient(ctx: Context, required: boolean, deviceId: string): Uint8Array | undefined {
  const transient = ctx.stub.getTransient();
  const kIoT = transient.get(KIOT_TRANSIENT_KEY);
  if (kIoT === undefined || kIoT.length === 0) {
    if (required)
      throw contractError(CONTRACT_ERRORS.KIOT_MISSING, `register ${deviceId}: transient data must carry "${KIOT_TRANSIENT_KEY}"`, {
        deviceId,
      });
    return undefined;
  }
  if (kIoT.length !== K_IOT_BYTES) {
    throw contractError(CONTRACT_ERRORS.BAD_INPUT, `K_IoT of ${deviceId} must be ${K_IOT_BYTES} bytes`, {
      deviceId,
      field: KIOT_TRANSIENT_KEY,
    });
  }
  return Uint8Array.from(kIoT);
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
   * { deviceId, attributes, schema?, issuerPk?, header?, gatewayId?, firmwareHash? }; K_IoT in
   * transient data field "kIoT". Returns { txId, bcId, ... }.
   */
  @StringParams('registrationJson')
  @Transaction()
  @Returns('string')
  async register(ctx: Context, registrationJson: string): Promise<string> {
    const config = await loadConfig(ctx);
    const caller = callerOf(ctx);
    assertAuthority(config, caller, 'register devices');
    const input = parseRegistration(registrationJson, config);
    const kIoT = kIotFromTransient(ctx, true, input.deviceId) as Uint8Array;
    const txId = ctx.stub.getTxID();
    const record = registerDevice(await loadDevice(ctx, input.deviceId), input, caller.mspId, txId);
    await putJson(ctx, deviceKey(ctx, input.deviceId), record);
    await storeKiot(ctx, input.deviceId, kIoT);
    ctx.stub.setEvent(EVENTS.deviceRegistered, canonicalBytes({ bcId: record.bcId, deviceId: record.deviceId, txId }));
    return resultOf(record, txId);
  }

  /**
   * Alg. 1, reg_type = update: new attributes, gateway or firmware for a registered, active
   * device; a K_IoT in transient data rotates the key. History is the key's history.
   */
  @StringParams('registrationJson')
  @Transaction()
  @Returns('string')
  async update(ctx: Context, registrationJson: string): Promise<string> {
    const config = await loadConfig(ctx);
    assertAuthority(config, callerOf(ctx), 'update devices');
    const input = parseRegistration(registrationJson, config);
    const kIoT = kIotFromTransient(ctx, false, input.deviceId);
    const txId = ctx.stub.getTxID();
    const record = updateDevice(await loadDevice(ctx, input.deviceId), input, txId);
    await putJson(ctx, deviceKey(ctx, input.deviceId), record);
    if (kIoT !== undefined) await storeKiot(ctx, input.deviceId, kIoT);
    ctx.stub.setEvent(EVENTS.deviceUpdated, canonicalBytes({ deviceId: record.deviceId, txId, version: record.version }));
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

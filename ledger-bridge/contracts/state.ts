/**
 * Small helpers over ctx.stub shared by the contract classes: JSON state in canonical form,
 * lookups of the config, devices and K_IoT, and iterator draining. They work the same on
 * Fabric's ChaincodeStub and on the embedded ledger's stub (both return an empty array for a
 * missing key).
 */
import type { Context } from './fabric.js';
import { CONTRACT_ERRORS, contractError } from './errors.js';
import { KEY_TYPES, KIOT_COLLECTION } from './keys.js';
import { canonicalBytes } from './logic/canonical.js';
import type { DeviceRecord, Identity, LedgerConfig } from './logic/registration.js';
import type { LedgerKeys } from '../../shared/crypto/domains.js';
import type { EdgeRecord } from './logic/edges.js';

const decoder = new TextDecoder();

/** The value under `key` parsed as JSON, or undefined when the key is absent. */
export async function getJson<T>(ctx: Context, key: string): Promise<T | undefined> {
  const bytes = await ctx.stub.getState(key);
  if (bytes === undefined || bytes === null || bytes.length === 0) return undefined;
  return JSON.parse(decoder.decode(bytes)) as T;
}

/** Writes `value` as canonical JSON. */
export async function putJson(ctx: Context, key: string, value: unknown): Promise<void> {
  await ctx.stub.putState(key, canonicalBytes(value));
}

/** The calling identity. */
export function callerOf(ctx: Context): Identity {
  return { mspId: ctx.clientIdentity.getMSPID(), id: ctx.clientIdentity.getID() };
}

/** The config key. */
export function configKey(ctx: Context): string {
  return ctx.stub.createCompositeKey(KEY_TYPES.config, ['authority']);
}

/** The ledger config, or PROV_ERR_NOT_CONFIGURED. */
export async function loadConfig(ctx: Context): Promise<LedgerConfig> {
  const config = await getJson<LedgerConfig>(ctx, configKey(ctx));
  if (config === undefined)
    throw contractError(CONTRACT_ERRORS.NOT_CONFIGURED, 'the ledger is not configured (DeviceRegistration:configure)');
  return config;
}

/** The device key. */
export function deviceKey(ctx: Context, deviceId: string): string {
  return ctx.stub.createCompositeKey(KEY_TYPES.device, [deviceId]);
}

/** The device record, or undefined. */
export async function loadDevice(ctx: Context, deviceId: string): Promise<DeviceRecord | undefined> {
  return getJson<DeviceRecord>(ctx, deviceKey(ctx, deviceId));
}

/** The device's key deposit (K_tag and K_chal) from the private collection, or undefined. */
export async function loadDeviceKeys(ctx: Context, deviceId: string): Promise<LedgerKeys | undefined> {
  const bytes = await ctx.stub.getPrivateData(KIOT_COLLECTION, ctx.stub.createCompositeKey(KEY_TYPES.deviceKeys, [deviceId]));
  if (bytes === undefined || bytes === null || bytes.length !== 64) return undefined;
  return { kTag: Uint8Array.from(bytes.subarray(0, 32)), kChal: Uint8Array.from(bytes.subarray(32, 64)) };
}

/** Deposits K_tag ‖ K_chal in the private collection. */
export async function storeDeviceKeys(ctx: Context, deviceId: string, keys: LedgerKeys): Promise<void> {
  const value = new Uint8Array(64);
  value.set(keys.kTag, 0);
  value.set(keys.kChal, 32);
  await ctx.stub.putPrivateData(KIOT_COLLECTION, ctx.stub.createCompositeKey(KEY_TYPES.deviceKeys, [deviceId]), value);
}

/** The edge registry key of an edgeId. */
export function edgeKey(ctx: Context, edgeId: string): string {
  return ctx.stub.createCompositeKey(KEY_TYPES.edge, [edgeId]);
}

/** The key mapping an identity to the edgeId it acts as. */
export function edgeIdentityKey(ctx: Context, identity: Identity): string {
  return ctx.stub.createCompositeKey(KEY_TYPES.edgeIdentity, [identity.mspId, identity.id]);
}

/** An edge's registry entry, or undefined. */
export async function loadEdge(ctx: Context, edgeId: string): Promise<EdgeRecord | undefined> {
  return getJson<EdgeRecord>(ctx, edgeKey(ctx, edgeId));
}

/** The edgeId an identity acts as (undefined when it is no edge). */
export async function edgeIdOfIdentity(ctx: Context, identity: Identity): Promise<string | undefined> {
  return getJson<string>(ctx, edgeIdentityKey(ctx, identity));
}

/** The registry entry of the edge the identity acts as (undefined when it is no edge). */
export async function edgeOfIdentity(ctx: Context, identity: Identity): Promise<EdgeRecord | undefined> {
  const edgeId = await edgeIdOfIdentity(ctx, identity);
  return edgeId === undefined ? undefined : loadEdge(ctx, edgeId);
}

/** One entry of a range or partial-composite-key scan. */
export interface KeyValue {
  readonly key: string;
  readonly value: Uint8Array;
}

interface ResultIterator<T> {
  next(): Promise<{ value?: T; done?: boolean }>;
  close(): Promise<void>;
}

/**
 * Whether the peer already let go of the query behind `iterator`. A Fabric peer answers a range
 * query with its first batch of results and `has_more`; when that is false it has reached the end
 * and removed the query itself (core/chaincode/query_response.go: createQueryResponse calls
 * CleanupQueryContext), so fabric-shim's close() would be one more chaincode ↔ peer round trip
 * that finds nothing to close — for every range read, most of which fit in one batch. Read from
 * fabric-shim's iterator (its `response`); any other iterator is closed as before.
 */
function peerClosed(iterator: unknown): boolean {
  const response = (iterator as { response?: { getHasMore?: () => unknown } }).response;
  return typeof response?.getHasMore === 'function' && response.getHasMore() === false;
}

/** Drains a Fabric state-query iterator into an array (and closes it, unless the peer already has). */
export async function drain<T>(iterator: ResultIterator<T>, limit = Number.MAX_SAFE_INTEGER): Promise<T[]> {
  const out: T[] = [];
  try {
    for (;;) {
      const r = await iterator.next();
      if (r.value !== undefined && r.value !== null) out.push(r.value);
      if (r.done === true || out.length >= limit) break;
    }
  } finally {
    if (!peerClosed(iterator)) await iterator.close();
  }
  return out;
}

/** Entries whose composite key starts with (type, ...attrs), in key order. */
export async function scan(ctx: Context, type: string, attrs: string[], limit?: number): Promise<KeyValue[]> {
  const iterator = (await ctx.stub.getStateByPartialCompositeKey(type, attrs)) as unknown as ResultIterator<KeyValue>;
  return drain(iterator, limit);
}

/** Decodes UTF-8 JSON bytes. */
export function parseBytes<T>(bytes: Uint8Array): T {
  return JSON.parse(decoder.decode(bytes)) as T;
}

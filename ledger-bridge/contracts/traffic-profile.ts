/**
 * Traffic Profile Provenance contract (talk, Algorithm 4): stores each device's traffic profile
 * per window with traffic_proven and discrepancy_status, judged by a model learnt from the
 * device's recent accepted profiles on the ledger (shared/traffic/model.ts, deterministic).
 */
import { CONTRACTS } from '../client.js';
import { EVENTS } from '../../shared/records.js';
// Context is a value import on purpose: decorator metadata must name the class (see fabric.ts).
// eslint-disable-next-line @typescript-eslint/consistent-type-imports
import { Contract, Info, Returns, StringParams, Transaction, Context } from './fabric.js';
import { CONTRACT_ERRORS, contractError } from './errors.js';
import { KEY_TYPES, profileAttrs } from './keys.js';
import { parseDeviceIdArg, parseIntArg } from './logic/args.js';
import { canonicalBytes, canonicalJson } from './logic/canonical.js';
import { assertAuthority } from './logic/registration.js';
import {
  acknowledgeProfileChange,
  decideProfile,
  EMPTY_MODEL,
  parseProfile,
  type ProfileModelState,
  type StoredProfile,
} from './logic/traffic.js';
import { effectiveTraffic, parseTrafficEntry, refuseSubmittedThresholds, type TrafficEntry } from './logic/traffic-registry.js';
import { callerOf, getJson, loadConfig, loadDevice, parseBytes, putJson, scan } from './state.js';

function trafficKey(ctx: Context, scope: 'device' | 'class', name: string): string {
  return ctx.stub.createCompositeKey(KEY_TYPES.traffic, [scope, name]);
}

/** The registry's traffic settings for a device: its own entry, its class's, or the model's defaults. */
async function trafficOf(ctx: Context, deviceId: string) {
  const own = await getJson<TrafficEntry>(ctx, trafficKey(ctx, 'device', deviceId));
  const cls = own?.deviceClass !== undefined ? await getJson<TrafficEntry>(ctx, trafficKey(ctx, 'class', own.deviceClass)) : undefined;
  return effectiveTraffic(deviceId, own?.deviceClass ?? '', own, cls);
}

/** Most profiles listProfiles returns. */
export const MAX_LIST = 1000;

/** The Traffic Profile Provenance contract. */
@Info({ title: 'TrafficProfileProvenance', description: 'Per-device traffic profiles judged against a learnt model (talk, Algorithm 4)' })
export class TrafficProfileProvenanceContract extends Contract {
  constructor() {
    super(CONTRACTS.trafficProfile);
  }

  /**
   * Alg. 4. profileJson: { deviceId, window, features }; thresholdsJson must be '': the thresholds
   * are pinned by the registry (setTraffic), the submitter has no say. Returns the stored profile:
   * { trafficProven, discrepancyStatus, flagged, thresholds, thresholdsFrom, ... }.
   */
  @StringParams('profileJson', 'thresholdsJson')
  @Transaction()
  @Returns('string')
  async submitProfile(ctx: Context, profileJson: string, thresholdsJson: string): Promise<string> {
    const profile = parseProfile(profileJson);
    refuseSubmittedThresholds(thresholdsJson);
    const device = await loadDevice(ctx, profile.deviceId);
    if (device === undefined)
      throw contractError(CONTRACT_ERRORS.DEVICE_NOT_FOUND, `could not find the device ${profile.deviceId}`, {
        deviceId: profile.deviceId,
      });
    if (device.status === 'revoked')
      throw contractError(CONTRACT_ERRORS.DEVICE_REVOKED, `device ${profile.deviceId} is revoked`, { deviceId: profile.deviceId });
    const modelKey = ctx.stub.createCompositeKey(KEY_TYPES.profileModel, [profile.deviceId]);
    const state = (await getJson<ProfileModelState>(ctx, modelKey)) ?? EMPTY_MODEL;
    const traffic = await trafficOf(ctx, profile.deviceId);
    const { stored, next } = decideProfile(
      state,
      profile,
      traffic.thresholds,
      ctx.stub.getTxID(),
      traffic.classProfile !== undefined ? { classProfile: traffic.classProfile } : {},
      traffic.thresholdsFrom,
    );
    await putJson(ctx, ctx.stub.createCompositeKey(KEY_TYPES.profile, profileAttrs(profile.deviceId, profile.window)), stored);
    await putJson(ctx, modelKey, next);
    ctx.stub.setEvent(
      stored.trafficProven ? EVENTS.profileRecorded : EVENTS.trafficDiscrepancy,
      canonicalBytes({
        deviceId: stored.deviceId,
        flagged: stored.flagged,
        trafficProven: stored.trafficProven,
        txId: stored.txId,
        window: stored.window,
      }),
    );
    return canonicalJson(stored);
  }

  /**
   * The attribute authority pins traffic settings (issue 11: not the submitter): trafficJson is
   * { deviceId, deviceClass?, thresholds? } for a device (deviceClass makes it a member of that
   * class) or { deviceClass, thresholds?, classProfile? } for a class. Returns the stored entry.
   */
  @StringParams('trafficJson')
  @Transaction()
  @Returns('string')
  async setTraffic(ctx: Context, trafficJson: string): Promise<string> {
    assertAuthority(await loadConfig(ctx), callerOf(ctx), 'pin traffic thresholds');
    const entry = parseTrafficEntry(trafficJson, ctx.stub.getTxID());
    if (entry.scope === 'device' && (await loadDevice(ctx, entry.name)) === undefined)
      throw contractError(CONTRACT_ERRORS.DEVICE_NOT_FOUND, `could not find the device ${entry.name}`, { deviceId: entry.name });
    await putJson(ctx, trafficKey(ctx, entry.scope, entry.name), entry);
    return canonicalJson(entry);
  }

  /** The settings a device's profiles are judged with: { thresholds, thresholdsFrom, classProfile? }. */
  @StringParams('deviceId')
  @Transaction(false)
  @Returns('string')
  async getTraffic(ctx: Context, deviceId: string): Promise<string> {
    return canonicalJson(await trafficOf(ctx, parseDeviceIdArg(deviceId)));
  }

  /**
   * The attribute authority acknowledges that a device's changed level is genuine (a moved
   * sensor, a new process): the device's open fault closes and its next profile re-anchors the
   * model. Recorded on the ledger (event ProfileChangeAcknowledged); only the authority may.
   */
  @StringParams('deviceId')
  @Transaction()
  @Returns('string')
  async acknowledgeChange(ctx: Context, deviceId: string): Promise<string> {
    const id = parseDeviceIdArg(deviceId);
    assertAuthority(await loadConfig(ctx), callerOf(ctx), 'acknowledge a traffic-profile change');
    const device = await loadDevice(ctx, id);
    if (device === undefined) throw contractError(CONTRACT_ERRORS.DEVICE_NOT_FOUND, `could not find the device ${id}`, { deviceId: id });
    const modelKey = ctx.stub.createCompositeKey(KEY_TYPES.profileModel, [id]);
    const state = (await getJson<ProfileModelState>(ctx, modelKey)) ?? EMPTY_MODEL;
    const next = acknowledgeProfileChange(state);
    await putJson(ctx, modelKey, next);
    const ack = { deviceId: id, lastWindow: next.lastWindow, reanchor: true, txId: ctx.stub.getTxID() };
    ctx.stub.setEvent(EVENTS.profileChangeAcknowledged, canonicalBytes(ack));
    return canonicalJson(ack);
  }

  /** The stored profile of a device for a window; PROV_ERR_PROFILE_NOT_FOUND if none. */
  @StringParams('deviceId', 'window')
  @Transaction(false)
  @Returns('string')
  async getProfile(ctx: Context, deviceId: string, window: string): Promise<string> {
    const id = parseDeviceIdArg(deviceId);
    const w = parseIntArg(window, 'window', 0, Number.MAX_SAFE_INTEGER);
    const stored = await getJson<StoredProfile>(ctx, ctx.stub.createCompositeKey(KEY_TYPES.profile, profileAttrs(id, w)));
    if (stored === undefined)
      throw contractError(CONTRACT_ERRORS.PROFILE_NOT_FOUND, `no profile of device ${id} for window ${w}`, { deviceId: id });
    return canonicalJson(stored);
  }

  /** A device's stored profiles in window order (at most MAX_LIST). */
  @StringParams('deviceId')
  @Transaction(false)
  @Returns('string')
  async listProfiles(ctx: Context, deviceId: string): Promise<string> {
    const id = parseDeviceIdArg(deviceId);
    const entries = await scan(ctx, KEY_TYPES.profile, [id], MAX_LIST);
    return canonicalJson(entries.map((e) => parseBytes<StoredProfile>(e.value)));
  }
}

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
import { CONTRACT_ERRORS, contractError, type ContractErrorCode } from './errors.js';
import { KEY_TYPES, profileAttrs } from './keys.js';
import { isPlainObject, parseDeviceIdArg, parseIntArg } from './logic/args.js';
import { canonicalBytes, canonicalJson } from './logic/canonical.js';
import { assertAuthority } from './logic/registration.js';
import { assertIdentifier } from '../../shared/crypto/presentation.js';
import { countCopies, type MarkOrigin } from '../../shared/traffic/copies.js';
import {
  acknowledgeProfileChange,
  decideProfile,
  EMPTY_MODEL,
  finalizeProfile,
  parseProfile,
  parseProfileBatch,
  profileOf,
  provisionalProfile,
  type ProfileModelState,
  type StoredProfile,
} from './logic/traffic.js';
import { effectiveTraffic, parseTrafficEntry, refuseSubmittedThresholds, type TrafficEntry } from './logic/traffic-registry.js';
import { callerOf, getJson, loadConfig, loadDevice, parseBytes, putJson, scan } from './state.js';
import { flushStaged, mergeStaged, stagedContext, type StagedWrites } from './staged.js';
import { ProvenantError } from '../../shared/errors.js';
import type { TrafficProfile } from '../../shared/traffic/model.js';

function trafficKey(ctx: Context, scope: 'device' | 'class', name: string): string {
  return ctx.stub.createCompositeKey(KEY_TYPES.traffic, [scope, name]);
}

/** The registry's traffic settings for a device: its own entry, its class's, or the model's defaults. */
async function trafficOf(ctx: Context, deviceId: string) {
  const own = await getJson<TrafficEntry>(ctx, trafficKey(ctx, 'device', deviceId));
  const cls = own?.deviceClass !== undefined ? await getJson<TrafficEntry>(ctx, trafficKey(ctx, 'class', own.deviceClass)) : undefined;
  return effectiveTraffic(deviceId, own?.deviceClass ?? '', own, cls);
}

/** The class (site) a device belongs to, if its registry entry names one. */
async function classOf(ctx: Context, deviceId: string): Promise<string | undefined> {
  return (await getJson<TrafficEntry>(ctx, trafficKey(ctx, 'device', deviceId)))?.deviceClass;
}

function modelKeyOf(ctx: Context, deviceId: string): string {
  return ctx.stub.createCompositeKey(KEY_TYPES.profileModel, [deviceId]);
}

function profileKeyOf(ctx: Context, deviceId: string, window: number): string {
  return ctx.stub.createCompositeKey(KEY_TYPES.profile, profileAttrs(deviceId, window));
}

function markKey(ctx: Context, deviceClass: string, mark: number): string {
  return ctx.stub.createCompositeKey(KEY_TYPES.trafficMark, [deviceClass, pad(mark.toString(16), 8)]);
}

function pad(s: string, n: number): string {
  return s.length >= n ? s : '0'.repeat(n - s.length) + s;
}

/** The devices of a class (sorted by id). */
async function membersOf(ctx: Context, deviceClass: string): Promise<string[]> {
  const entries = await scan(ctx, KEY_TYPES.trafficMember, [deviceClass]);
  return entries.map((e) => parseBytes<string>(e.value)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * The site step for one device: its pending profile judged with its peers' profiles of the same
 * window (the other members of its class whose own model accepted theirs) and the site's marks.
 * Writes the final stored profile, the device's state and the marks the site had not seen.
 */
async function finalizePending(
  ctx: Context,
  deviceClass: string | undefined,
  deviceId: string,
  state: ProfileModelState,
): Promise<{ stored: StoredProfile; next: ProfileModelState }> {
  const pending = state.pending as NonNullable<ProfileModelState['pending']>;
  const provisional = (await getJson<StoredProfile>(ctx, profileKeyOf(ctx, deviceId, pending.window))) as StoredProfile;
  const peers: StoredProfile[] = [];
  // (A device that left its class since is judged alone.)
  for (const id of deviceClass !== undefined ? await membersOf(ctx, deviceClass) : []) {
    if (id === deviceId) continue;
    const p = await getJson<StoredProfile>(ctx, profileKeyOf(ctx, id, pending.window));
    if (p !== undefined && (p.ownProven ?? p.trafficProven)) peers.push(p);
  }
  const marks = pending.marks ?? [];
  const origins: (MarkOrigin | undefined)[] = [];
  for (const m of marks) origins.push(deviceClass !== undefined ? await getJson<MarkOrigin>(ctx, markKey(ctx, deviceClass, m)) : undefined);
  const copies = countCopies(pending.window, marks, (m) => origins[marks.indexOf(m)]);
  const traffic = await trafficOf(ctx, deviceId);
  const { stored, next } = finalizeProfile(
    state,
    provisional,
    peers,
    copies,
    ctx.stub.getTxID(),
    traffic.classProfile !== undefined ? { classProfile: traffic.classProfile } : {},
  );
  for (let i = 0; i < marks.length; i++) {
    if (deviceClass !== undefined && origins[i] === undefined)
      await putJson(ctx, markKey(ctx, deviceClass, marks[i] as number), { deviceId, window: pending.window });
  }
  await putJson(ctx, profileKeyOf(ctx, deviceId, pending.window), stored);
  await putJson(ctx, modelKeyOf(ctx, deviceId), next);
  return { stored, next };
}

/**
 * Records one profile as submitProfile does (Alg. 4): the device must be registered and not
 * revoked; a site device's pending window before it is judged with its peers first; the
 * profile is judged (provisionally for a site device) and stored with the device's next state.
 */
async function recordProfile(
  ctx: Context,
  profile: TrafficProfile,
): Promise<{ stored: StoredProfile; deviceClass: string | undefined; finalized?: StoredProfile }> {
  const device = await loadDevice(ctx, profile.deviceId);
  if (device === undefined)
    throw contractError(CONTRACT_ERRORS.DEVICE_NOT_FOUND, `could not find the device ${profile.deviceId}`, {
      deviceId: profile.deviceId,
    });
  if (device.status === 'revoked')
    throw contractError(CONTRACT_ERRORS.DEVICE_REVOKED, `device ${profile.deviceId} is revoked`, { deviceId: profile.deviceId });
  const modelKey = modelKeyOf(ctx, profile.deviceId);
  let state = (await getJson<ProfileModelState>(ctx, modelKey)) ?? EMPTY_MODEL;
  const traffic = await trafficOf(ctx, profile.deviceId);
  const deviceClass = await classOf(ctx, profile.deviceId);
  // A site's device: the window before, if still pending, is judged with its peers first (the
  // site step need not have been called: skipping it does not skip the peers).
  let finalized: StoredProfile | undefined;
  if (state.pending !== undefined && state.pending.window < profile.window)
    ({ stored: finalized, next: state } = await finalizePending(ctx, deviceClass, profile.deviceId, state));
  const opts = traffic.classProfile !== undefined ? { classProfile: traffic.classProfile } : {};
  const { stored, next } = (deviceClass !== undefined ? provisionalProfile : decideProfile)(
    state,
    profile,
    traffic.thresholds,
    ctx.stub.getTxID(),
    opts,
    traffic.thresholdsFrom,
  );
  await putJson(ctx, profileKeyOf(ctx, profile.deviceId, profile.window), stored);
  await putJson(ctx, modelKey, next);
  return { stored, deviceClass, ...(finalized !== undefined ? { finalized } : {}) };
}

/** One recorded profile in submitProfiles' result (the stored profile without its features and thresholds: getProfile has them). */
interface BatchVerdict {
  readonly index: number;
  readonly deviceId: string;
  readonly window: number;
  readonly trafficProven: boolean;
  readonly discrepancyStatus: boolean;
  readonly flagged: StoredProfile['flagged'];
  readonly thresholdsFrom: string;
  readonly faultSince?: number;
  readonly pending?: true;
  readonly ownProven?: boolean;
}

/** One profile submitProfiles refused: what submitProfile would have thrown, by code. */
interface BatchRejection {
  readonly index: number;
  readonly deviceId: string | null;
  readonly window: number | null;
  readonly reason: string;
  readonly message: string;
}

const CONTRACT_CODES: ReadonlySet<string> = new Set(Object.values(CONTRACT_ERRORS));

/** An error the contract threw on purpose (a refusal with its code), not a failure of the ledger. */
function isContractRefusal(err: unknown): err is ProvenantError & { code: ContractErrorCode } {
  return err instanceof ProvenantError && CONTRACT_CODES.has(err.code);
}

/** A site device's earlier window made final by the site step inside submitProfiles (its next profile came). */
interface JudgedVerdict {
  readonly deviceId: string;
  readonly window: number;
  readonly trafficProven: boolean;
  readonly discrepancyStatus: boolean;
  readonly flagged: StoredProfile['flagged'];
  readonly peers: readonly string[];
  readonly copies: number;
}

function judgedOf(s: StoredProfile): JudgedVerdict {
  return {
    deviceId: s.deviceId,
    window: s.window,
    trafficProven: s.trafficProven,
    discrepancyStatus: s.discrepancyStatus,
    flagged: s.flagged,
    peers: s.peers ?? [],
    copies: s.copies ?? 0,
  };
}

function verdictOf(index: number, s: StoredProfile): BatchVerdict {
  return {
    index,
    deviceId: s.deviceId,
    window: s.window,
    trafficProven: s.trafficProven,
    discrepancyStatus: s.discrepancyStatus,
    flagged: s.flagged,
    thresholdsFrom: s.thresholdsFrom,
    ...(s.faultSince !== undefined ? { faultSince: s.faultSince } : {}),
    ...(s.pending === true ? { pending: true as const } : {}),
    ...(s.ownProven !== undefined ? { ownProven: s.ownProven } : {}),
  };
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
    const { stored } = await recordProfile(ctx, profile);
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
   * Alg. 4 for many devices in one transaction (an edge's window: one transaction instead of one
   * per device). profilesJson: a JSON array of profiles as submitProfile takes them; thresholdsJson
   * must be ''. Each profile is recorded exactly as its own submitProfile call would record it,
   * in array order (a later profile sees what an earlier one wrote, as consecutive calls would);
   * a profile submitProfile would refuse (bad input, unknown or revoked device, stale window) is
   * rejected alone, with that error's code, and writes nothing. Returns
   * { recorded, profiles: [{ index, deviceId, window, trafficProven, discrepancyStatus, flagged,
   * thresholdsFrom, faultSince?, pending?, ownProven? }], rejected: [{ index, deviceId, window,
   * reason, message }], sites: [{ deviceClass, window }], judged: [{ deviceId, window,
   * trafficProven, discrepancyStatus, flagged, peers, copies }] } — sites: the classes whose
   * profiles of that window wait for the site step (judgeSite); judged: the earlier pending
   * windows this batch's profiles made final (the site step a device's next profile runs).
   * Event TrafficProfilesRecorded.
   */
  @StringParams('profilesJson', 'thresholdsJson')
  @Transaction()
  @Returns('string')
  async submitProfiles(ctx: Context, profilesJson: string, thresholdsJson: string): Promise<string> {
    const inputs = parseProfileBatch(profilesJson);
    refuseSubmittedThresholds(thresholdsJson);
    const writes: StagedWrites = new Map();
    const profiles: BatchVerdict[] = [];
    const rejected: BatchRejection[] = [];
    const judged: JudgedVerdict[] = [];
    // The window each site device is left pending at, after the whole batch.
    const pendingAt = new Map<string, { deviceClass: string; window: number }>();
    for (const [index, input] of inputs.entries()) {
      const step: StagedWrites = new Map();
      try {
        const profile = profileOf(input);
        const { stored, deviceClass, finalized } = await recordProfile(stagedContext(ctx, [writes, step]), profile);
        mergeStaged(writes, step);
        profiles.push(verdictOf(index, stored));
        if (finalized !== undefined) judged.push(judgedOf(finalized));
        if (stored.pending === true && deviceClass !== undefined) pendingAt.set(stored.deviceId, { deviceClass, window: stored.window });
        else pendingAt.delete(stored.deviceId);
      } catch (err) {
        // Only the contract's refusal of this profile is its rejection; anything else (the ledger
        // failing) fails the transaction, as it would fail a single call.
        if (!isContractRefusal(err)) throw err;
        const reason = err.code;
        const { deviceId, window } = (isPlainObject(input) ? input : {}) as { deviceId?: unknown; window?: unknown };
        rejected.push({
          index,
          deviceId: typeof deviceId === 'string' ? deviceId : null,
          window: typeof window === 'number' ? window : null,
          reason,
          message: (err as Error).message,
        });
      }
    }
    await flushStaged(ctx, writes);
    const sites = [...new Set([...pendingAt.values()].map((p) => `${p.deviceClass}\u0000${p.window}`))].sort().map((k) => {
      const [deviceClass, window] = k.split('\u0000') as [string, string];
      return { deviceClass, window: Number(window) };
    });
    const out = { recorded: profiles.length, profiles, rejected, sites, judged };
    ctx.stub.setEvent(
      EVENTS.profilesRecorded,
      canonicalBytes({
        discrepancies: profiles
          .filter((p) => !p.trafficProven)
          .map((p) => ({ deviceId: p.deviceId, flagged: p.flagged, window: p.window })),
        recorded: profiles.length,
        rejected: rejected.length,
        txId: ctx.stub.getTxID(),
      }),
    );
    return canonicalJson(out);
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
    if (entry.scope === 'device') {
      // The class index (the site's peers): leave the old class, join the new one.
      const before = await classOf(ctx, entry.name);
      if (before !== undefined && before !== entry.deviceClass)
        await ctx.stub.deleteState(ctx.stub.createCompositeKey(KEY_TYPES.trafficMember, [before, entry.name]));
      if (entry.deviceClass !== undefined)
        await putJson(ctx, ctx.stub.createCompositeKey(KEY_TYPES.trafficMember, [entry.deviceClass, entry.name]), entry.name);
    }
    await putJson(ctx, trafficKey(ctx, entry.scope, entry.name), entry);
    return canonicalJson(entry);
  }

  /**
   * The site step (docs/traffic-profiles.md "Peers"): every device of `deviceClass` whose profile
   * of `window` is still pending is judged with its peers' profiles of that window and the
   * site's marks; its stored profile becomes final (`peers`, `copies`, `judgedTxId`). Anyone may
   * call it (the edge does after submitting a window): the verdict follows from the stored
   * profiles alone, and a device's next profile runs the same step for its pending window if
   * nobody called it. Returns { deviceClass, window, judged: [{ deviceId, trafficProven, flagged, peers, copies }] }.
   */
  @StringParams('deviceClass', 'window')
  @Transaction()
  @Returns('string')
  async judgeSite(ctx: Context, deviceClass: string, window: string): Promise<string> {
    try {
      assertIdentifier(deviceClass, 'deviceClass');
    } catch (err) {
      throw contractError(CONTRACT_ERRORS.BAD_INPUT, (err as Error).message, { field: 'deviceClass' });
    }
    const w = parseIntArg(window, 'window', 0, Number.MAX_SAFE_INTEGER);
    const judged: {
      deviceId: string;
      trafficProven: boolean;
      flagged: StoredProfile['flagged'];
      peers: readonly string[];
      copies: number;
    }[] = [];
    for (const id of await membersOf(ctx, deviceClass)) {
      const state = await getJson<ProfileModelState>(ctx, modelKeyOf(ctx, id));
      if (state?.pending?.window !== w) continue;
      const { stored } = await finalizePending(ctx, deviceClass, id, state);
      judged.push({
        deviceId: id,
        trafficProven: stored.trafficProven,
        flagged: stored.flagged,
        peers: stored.peers ?? [],
        copies: stored.copies ?? 0,
      });
    }
    const out = { deviceClass, window: w, judged };
    ctx.stub.setEvent(EVENTS.trafficSiteJudged, canonicalBytes(out));
    return canonicalJson(out);
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

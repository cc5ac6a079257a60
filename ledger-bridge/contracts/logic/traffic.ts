/**
 * Traffic Profile Provenance (talk, Algorithm 4) around the deterministic model
 * (shared/traffic/model.ts) and its per-device state machine (shared/traffic/device-state.ts):
 * parse the submitted profile and thresholds, judge it against the device's last MODEL_HISTORY
 * accepted profiles (and, while a fault is open, the accepted normal from before it), and
 * compute the next state. Flagged profiles are stored but never enter the history, so a fault
 * cannot teach the model that it is normal.
 */
import { acknowledgeChange, advanceDevice, type DeviceOptions, type DeviceState } from '../../../shared/traffic/device-state.js';
import { type Judgement, type Thresholds, type TrafficProfile } from '../../../shared/traffic/model.js';
import { checkMarks } from '../../../shared/traffic/copies.js';
import { CONTRACT_ERRORS, contractError } from '../errors.js';
import { isPlainObject, parseJsonArg } from './args.js';

/**
 * Per device (key profileModel~deviceId): the last window profiled, the accepted history, the
 * open fault (since when, and the accepted normal from before it) and a pending re-anchor
 * acknowledged by the authority (device-state.ts).
 */
export type ProfileModelState = DeviceState & {
  /**
   * A device of a site (a traffic class): its latest profile, judged by its own model
   * (provisional) and waiting for the site step (judgeSite, or the device's next profile) to be
   * judged against its peers and the site's marks. The state above does not include it yet.
   */
  readonly pending?: TrafficProfile;
};

/** A stored profile with its verdict (key profile~deviceId~window). */
export interface StoredProfile {
  readonly basis: number;
  readonly deviceId: string;
  readonly discrepancyStatus: boolean;
  readonly features: Readonly<Record<string, number>>;
  readonly flagged: Judgement['flagged'];
  /** Window the device's open fault began at ("fault persisting"), after judging this profile; absent when none. */
  readonly faultSince?: number;
  readonly thresholds: Thresholds;
  /** Where the thresholds came from: 'device:<id>', 'class:<name>' or 'model' (the registry's setTraffic). */
  readonly thresholdsFrom: string;
  readonly trafficProven: boolean;
  readonly txId: string;
  readonly window: number;
  /** The window's marks (shared/traffic/copies.ts), when the edge sent them. */
  readonly marks?: readonly number[];
  /** A site's device: the verdict above is its own model's alone, the site step has not judged it yet. */
  readonly pending?: true;
  /** A site's device: its own model's verdict (what makes it a peer of the others in this window). */
  readonly ownProven?: boolean;
  /** After the site step: the peers whose profiles of this window judged it (sorted). */
  readonly peers?: readonly string[];
  /** After the site step: how many of its marks the site had seen in an earlier window. */
  readonly copies?: number;
  /** After the site step: the transaction that made the verdict final. */
  readonly judgedTxId?: string;
}

/** The empty model state of a device never profiled. */
export const EMPTY_MODEL: ProfileModelState = Object.freeze({ history: [], lastWindow: -1 });

function bad(message: string, field: string): Error {
  return contractError(CONTRACT_ERRORS.BAD_INPUT, message, { field });
}

/** Parses the profile argument { deviceId, window, features, marks? }. */
export function parseProfile(json: string): TrafficProfile {
  return profileOf(parseJsonArg(json, 'profile'));
}

/** Most profiles one submitProfiles call takes (an edge with more sends several transactions). */
export const MAX_BATCH_PROFILES = 5000;

/**
 * Parses submitProfiles' argument: a JSON array of 1..MAX_BATCH_PROFILES profiles. Only the
 * array itself is checked here; each element is parsed on its own (`profileOf`), so one bad
 * profile is that profile's rejection, not the batch's.
 */
export function parseProfileBatch(json: string): unknown[] {
  const input = parseJsonArg(json, 'profiles');
  if (!Array.isArray(input) || input.length === 0 || input.length > MAX_BATCH_PROFILES)
    throw bad(`profiles must be a JSON array of 1..${MAX_BATCH_PROFILES} profiles { deviceId, window, features }`, 'profiles');
  return input;
}

/** A parsed profile value { deviceId, window, features, marks? } (PROV_ERR_BAD_INPUT naming the field otherwise). */
export function profileOf(input: unknown): TrafficProfile {
  if (!isPlainObject(input)) throw bad('profile must be an object { deviceId, window, features }', 'profile');
  const { deviceId, window, features, marks } = input;
  if (typeof deviceId !== 'string' || !/^[\x21-\x7e]{1,64}$/.test(deviceId))
    throw bad('profile.deviceId must be 1..64 printable ASCII characters', 'deviceId');
  if (typeof window !== 'number' || !Number.isSafeInteger(window) || window < 0)
    throw bad('profile.window must be an integer ≥ 0', 'window');
  if (!isPlainObject(features) || Object.keys(features).length === 0)
    throw bad('profile.features must be a non-empty object of numbers', 'features');
  const sorted: Record<string, number> = {};
  for (const name of Object.keys(features).sort()) {
    const v = features[name];
    if (typeof v !== 'number' || !Number.isFinite(v)) throw bad(`profile.features.${name} must be a finite number`, `features.${name}`);
    sorted[name] = v;
  }
  if (marks !== undefined) {
    try {
      checkMarks(marks, 'profile.marks');
    } catch (err) {
      throw bad((err as Error).message, 'marks');
    }
  }
  return { deviceId, features: sorted, window, ...(marks !== undefined ? { marks: marks as number[] } : {}) };
}

/**
 * Alg. 4: judges `profile` and returns what to store. Throws PROV_ERR_PROFILE_STALE when the
 * window is not after the device's last profiled window, PROV_ERR_BAD_INPUT when the model
 * refuses the input (its RangeError/TypeError message kept).
 */
export function decideProfile(
  state: ProfileModelState,
  profile: TrafficProfile,
  thresholds: Thresholds,
  txId: string,
  options: DeviceOptions = {},
  thresholdsFrom = 'model',
): { stored: StoredProfile; next: ProfileModelState } {
  assertAfter(state, profile);
  let judgement: Judgement;
  let next: ProfileModelState;
  try {
    ({ judgement, next } = advanceDevice(state, profile, thresholds, options));
  } catch (err) {
    throw bad((err as Error).message, 'profile');
  }
  return { next, stored: storedOf(profile, judgement, next, thresholds, thresholdsFrom, txId) };
}

function assertAfter(state: ProfileModelState, profile: TrafficProfile): void {
  const last = Math.max(state.lastWindow, state.pending?.window ?? -1);
  if (profile.window <= last) {
    throw contractError(
      CONTRACT_ERRORS.PROFILE_STALE,
      `profile window ${profile.window} of device ${profile.deviceId} is not after its last profiled window ${last}`,
      {
        deviceId: profile.deviceId,
      },
    );
  }
}

function storedOf(
  profile: TrafficProfile,
  judgement: Judgement,
  next: DeviceState,
  thresholds: Thresholds,
  thresholdsFrom: string,
  txId: string,
): StoredProfile {
  return {
    basis: judgement.basis,
    deviceId: profile.deviceId,
    discrepancyStatus: judgement.discrepancyStatus,
    features: profile.features,
    flagged: judgement.flagged,
    ...(next.fault !== undefined ? { faultSince: next.fault.since } : {}),
    ...(profile.marks !== undefined ? { marks: profile.marks } : {}),
    thresholds,
    thresholdsFrom,
    trafficProven: judgement.trafficProven,
    txId,
    window: profile.window,
  };
}

/**
 * A site's device (its registry entry names a traffic class): its own model judges the profile
 * now (the provisional verdict, stored with `pending`), and the state keeps it as `pending` until
 * the site step (`finalizeProfile`) judges it against its peers and the site's marks. A pending
 * profile of an earlier window must have been finalised first (the contract does so).
 */
export function provisionalProfile(
  state: ProfileModelState,
  profile: TrafficProfile,
  thresholds: Thresholds,
  txId: string,
  options: DeviceOptions = {},
  thresholdsFrom = 'model',
): { stored: StoredProfile; next: ProfileModelState } {
  assertAfter(state, profile);
  if (state.pending !== undefined) throw new Error(`device ${profile.deviceId} has window ${state.pending.window} pending`);
  let judgement: Judgement;
  let after: DeviceState;
  try {
    ({ judgement, next: after } = advanceDevice(state, profile, thresholds, {
      ...(options.classProfile ? { classProfile: options.classProfile } : {}),
    }));
  } catch (err) {
    throw bad((err as Error).message, 'profile');
  }
  const stored = {
    ...storedOf(profile, judgement, after, thresholds, thresholdsFrom, txId),
    ownProven: judgement.trafficProven,
    pending: true as const,
  };
  return { stored, next: { ...state, pending: profile } };
}

/**
 * The site step for one device's pending profile: judged by its own model together with its
 * peers (the same-window profiles of the other devices of its class whose own model accepted
 * them; shared/traffic/peers.ts) and the number of its marks the site saw in an earlier window
 * (shared/traffic/copies.ts). Exactly `advanceDevice` with peers and copies, so anyone holding
 * the stored profiles can recompute it. Returns the final stored profile and the next state.
 */
export function finalizeProfile(
  state: ProfileModelState,
  provisional: StoredProfile,
  peers: readonly StoredProfile[],
  copies: number,
  txId: string,
  options: DeviceOptions = {},
): { stored: StoredProfile; next: ProfileModelState } {
  const profile = state.pending;
  if (profile === undefined || profile.window !== provisional.window)
    throw new Error(`device ${provisional.deviceId} has no pending window ${provisional.window}`);
  const base: DeviceState = { ...state };
  delete (base as { pending?: TrafficProfile }).pending;
  const used = peers
    .filter((p) => p.deviceId !== profile.deviceId && p.window === profile.window && (p.ownProven ?? p.trafficProven))
    .sort((a, b) => (a.deviceId < b.deviceId ? -1 : a.deviceId > b.deviceId ? 1 : 0));
  const { judgement, next } = advanceDevice(base, profile, provisional.thresholds, {
    ...(options.classProfile !== undefined ? { classProfile: options.classProfile } : {}),
    peers: used.map((p) => ({ deviceId: p.deviceId, window: p.window, features: p.features })),
    copies,
  });
  const stored: StoredProfile = {
    ...storedOf(profile, judgement, next, provisional.thresholds, provisional.thresholdsFrom, provisional.txId),
    ownProven: provisional.ownProven ?? provisional.trafficProven,
    peers: used.map((p) => p.deviceId),
    copies,
    judgedTxId: txId,
  };
  return { stored, next };
}

/**
 * The authority acknowledges that a device's new level is genuine (a sensor moved, a process
 * changed): its open fault closes and the next profile re-anchors the model (judged without
 * continuity). Returns the next state.
 */
export function acknowledgeProfileChange(state: ProfileModelState): ProfileModelState {
  // A pending profile stays pending: it is the next one the model judges, so it re-anchors.
  return { ...acknowledgeChange(state), ...(state.pending !== undefined ? { pending: state.pending } : {}) };
}

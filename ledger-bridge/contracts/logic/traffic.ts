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
import { CONTRACT_ERRORS, contractError } from '../errors.js';
import { isPlainObject, parseJsonArg } from './args.js';

/**
 * Per device (key profileModel~deviceId): the last window profiled, the accepted history, the
 * open fault (since when, and the accepted normal from before it) and a pending re-anchor
 * acknowledged by the authority (device-state.ts).
 */
export type ProfileModelState = DeviceState;

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
}

/** The empty model state of a device never profiled. */
export const EMPTY_MODEL: ProfileModelState = Object.freeze({ history: [], lastWindow: -1 });

function bad(message: string, field: string): Error {
  return contractError(CONTRACT_ERRORS.BAD_INPUT, message, { field });
}

/** Parses the profile argument { deviceId, window, features }. */
export function parseProfile(json: string): TrafficProfile {
  const input = parseJsonArg(json, 'profile');
  if (!isPlainObject(input)) throw bad('profile must be an object { deviceId, window, features }', 'profile');
  const { deviceId, window, features } = input;
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
  return { deviceId, features: sorted, window };
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
  if (profile.window <= state.lastWindow) {
    throw contractError(
      CONTRACT_ERRORS.PROFILE_STALE,
      `profile window ${profile.window} of device ${profile.deviceId} is not after its last profiled window ${state.lastWindow}`,
      {
        deviceId: profile.deviceId,
      },
    );
  }
  let judgement: Judgement;
  let next: ProfileModelState;
  try {
    ({ judgement, next } = advanceDevice(state, profile, thresholds, options));
  } catch (err) {
    throw bad((err as Error).message, 'profile');
  }
  const stored: StoredProfile = {
    basis: judgement.basis,
    deviceId: profile.deviceId,
    discrepancyStatus: judgement.discrepancyStatus,
    features: profile.features,
    flagged: judgement.flagged,
    ...(next.fault !== undefined ? { faultSince: next.fault.since } : {}),
    thresholds,
    thresholdsFrom,
    trafficProven: judgement.trafficProven,
    txId,
    window: profile.window,
  };
  return { next, stored };
}

/**
 * The authority acknowledges that a device's new level is genuine (a sensor moved, a process
 * changed): its open fault closes and the next profile re-anchors the model (judged without
 * continuity). Returns the next state.
 */
export function acknowledgeProfileChange(state: ProfileModelState): ProfileModelState {
  return acknowledgeChange(state);
}

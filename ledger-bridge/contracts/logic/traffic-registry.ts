/**
 * The registry's traffic entries (issue 11: thresholds pinned by the registry, not by the
 * submitter). The attribute authority sets, per device or per device class, the δ thresholds
 * Algorithm 4 judges with and, for a class, the class profile that judges a new device's warm-up
 * (shared/traffic/class-profile.ts). A device's class is its registration's `trafficClass`.
 *
 * Which thresholds judge a profile of device D: D's own entry, else the entry of D's class, else
 * the model's defaults (defaultThresholds of shared/traffic/model.ts). A device belongs to the
 * class its own entry names (`deviceClass`). The stored profile names where its thresholds came
 * from. Whoever submits a profile has no say.
 */
import { checkClassProfile, type ClassProfile } from '../../../shared/traffic/class-profile.js';
import { defaultThresholds, MAX_THRESHOLD, type Thresholds } from '../../../shared/traffic/model.js';
import { assertIdentifier } from '../../../shared/crypto/presentation.js';
import { CONTRACT_ERRORS, contractError } from '../errors.js';
import { isPlainObject, parseJsonArg } from './args.js';

/** A traffic entry of the registry (key traffic~device~id or traffic~class~name). */
export interface TrafficEntry {
  readonly scope: 'device' | 'class';
  readonly name: string;
  /** The class a device belongs to (device entries only). */
  readonly deviceClass?: string;
  /** δ limits by feature, feature pattern or pair (shared/traffic/model.ts); absent: inherit. */
  readonly thresholds?: Thresholds;
  /** The class's reference profile for the warm-up (class entries only). */
  readonly classProfile?: ClassProfile;
  readonly txId: string;
}

/** The settings a device's profiles are judged with, and where they came from. */
export interface EffectiveTraffic {
  readonly thresholds: Thresholds;
  /** 'device:<id>', 'class:<name>' or 'model' (the model's defaults). */
  readonly thresholdsFrom: string;
  readonly classProfile?: ClassProfile;
}

function bad(message: string, field: string): Error {
  return contractError(CONTRACT_ERRORS.BAD_INPUT, message, { field });
}

/** Checks a threshold vector: names → numbers in (0, MAX_THRESHOLD]; sorted by name. */
export function checkThresholdVector(input: unknown, field = 'thresholds'): Thresholds {
  if (!isPlainObject(input) || Object.keys(input).length === 0) throw bad(`${field} must be a non-empty object of name → number`, field);
  const out: Thresholds = {};
  for (const name of Object.keys(input).sort()) {
    const v = input[name];
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0 || v > MAX_THRESHOLD)
      throw bad(`${field}.${name} must be a number in (0, ${MAX_THRESHOLD}]`, `${field}.${name}`);
    out[name] = v;
  }
  return out;
}

/** Parses setTraffic's JSON: { deviceId, deviceClass?, thresholds? } or { deviceClass, thresholds?, classProfile? }. */
export function parseTrafficEntry(json: string, txId: string): TrafficEntry {
  const input = parseJsonArg(json, 'traffic');
  if (!isPlainObject(input))
    throw bad(
      'traffic must be an object { deviceId, deviceClass?, thresholds? } or { deviceClass, thresholds?, classProfile? }',
      'traffic',
    );
  const { deviceId, deviceClass, thresholds, classProfile } = input;
  for (const k of Object.keys(input))
    if (!['deviceId', 'deviceClass', 'thresholds', 'classProfile'].includes(k)) throw bad(`traffic has an unknown field ${k}`, k);
  const check = (value: unknown, field: string): string => {
    try {
      assertIdentifier(value, field);
    } catch (err) {
      throw bad((err as Error).message, field);
    }
    return value as string;
  };
  if (deviceId === undefined && deviceClass === undefined) throw bad('traffic names a deviceId or a deviceClass', 'traffic');
  const scope = deviceId !== undefined ? 'device' : 'class';
  const name = check(scope === 'device' ? deviceId : deviceClass, scope === 'device' ? 'deviceId' : 'deviceClass');
  const member = scope === 'device' && deviceClass !== undefined ? check(deviceClass, 'deviceClass') : undefined;
  if (scope === 'class' && thresholds === undefined && classProfile === undefined)
    throw bad('a class entry sets thresholds, a classProfile, or both', 'traffic');
  if (scope === 'device' && thresholds === undefined && member === undefined)
    throw bad('a device entry sets thresholds, a deviceClass, or both', 'traffic');
  if (classProfile !== undefined && scope !== 'class') throw bad('a classProfile belongs to a device class', 'classProfile');
  if (classProfile !== undefined) {
    try {
      checkClassProfile(classProfile as unknown as ClassProfile);
    } catch (err) {
      throw bad((err as Error).message, 'classProfile');
    }
  }
  return {
    name,
    scope,
    ...(member !== undefined ? { deviceClass: member } : {}),
    ...(thresholds !== undefined ? { thresholds: checkThresholdVector(thresholds) } : {}),
    ...(classProfile !== undefined ? { classProfile: classProfile as unknown as ClassProfile } : {}),
    txId,
  };
}

/** The settings for a device from its own entry and its class's (either may be absent). */
export function effectiveTraffic(
  deviceId: string,
  deviceClass: string,
  own: TrafficEntry | undefined,
  cls: TrafficEntry | undefined,
): EffectiveTraffic {
  const classProfile = cls?.classProfile;
  const base = classProfile !== undefined ? { classProfile } : {};
  if (own?.thresholds !== undefined) return { ...base, thresholds: own.thresholds, thresholdsFrom: `device:${deviceId}` };
  if (cls?.thresholds !== undefined) return { ...base, thresholds: cls.thresholds, thresholdsFrom: `class:${deviceClass}` };
  return { ...base, thresholds: defaultThresholds(), thresholdsFrom: 'model' };
}

/**
 * The submitter has no say: submitProfile's thresholds argument must be empty (kept in the
 * signature so a caller that still sends one is told, not ignored).
 */
export function refuseSubmittedThresholds(thresholdsJson: string | undefined): void {
  if (thresholdsJson !== undefined && thresholdsJson !== '')
    throw bad(
      "thresholds are pinned by the registry (the authority's TrafficProfileProvenance:setTraffic, per device or device class); submit '' — the submitter does not choose them",
      'thresholds',
    );
}

/**
 * The device class's registered traffic profile: reference statistics an authority learns from
 * devices of one class it already runs (`learnClassProfile`) and registers with the class, so a
 * NEW device's first windows are judged against it instead of being accepted blindly
 * (device-state.ts). Without it, a device faulty from its first window would teach the model
 * that the fault is normal. Same determinism rules as model.ts.
 */
import { byCodeUnit } from './features.js';
import { checkProfile, floorFor, isLevelFeature, median, robustSpread, trimmedSpread } from './learn.js';
import type { TrafficProfile } from './model.js';

/** Centre and spread of one feature over a class's devices and windows. */
export interface ClassFeature {
  readonly centre: number;
  readonly spread: number;
}

/** A device class's reference profile (JSON on the ledger: finite numbers only). */
export interface ClassProfile {
  /** Per non-level feature (module doc of model.ts): pooled median and robust spread. */
  readonly features: Readonly<Record<string, ClassFeature>>;
  /** Per channel: head(next) − tail(previous) between consecutive windows, pooled. */
  readonly jumps: Readonly<Record<string, ClassFeature>>;
  /** Per `ch.<id>.flat`: share of windows with the channel constant all window. */
  readonly still: Readonly<Record<string, number>>;
  /** Windows the profile was learnt from. */
  readonly n: number;
  /**
   * Per channel: the largest level difference two co-located devices of the class may show
   * (calibration and placement), registered by the authority. With peers, a device whose level
   * differs from its peers' by more is flagged (`ch.<id>.peerlevel`), from its first window on.
   */
  readonly peerTolerance?: Readonly<Record<string, number>>;
}

/** Fewest windows a class profile must be learnt from. */
export const CLASS_MIN_WINDOWS = 16;

/**
 * Learns a class profile from the accepted (clean) profiles of several devices of the class,
 * each device's profiles in increasing window order.
 */
export function learnClassProfile(devices: readonly (readonly TrafficProfile[])[]): ClassProfile {
  const names: Record<string, true> = {};
  const rows: TrafficProfile[] = [];
  devices.forEach((d, k) =>
    d.forEach((p, i) => {
      checkProfile(p, `devices[${k}][${i}]`);
      for (const f of Object.keys(p.features)) names[f] = true;
      rows.push(p);
    }),
  );
  if (rows.length < CLASS_MIN_WINDOWS)
    throw new RangeError(`a class profile needs at least ${CLASS_MIN_WINDOWS} windows, got ${rows.length}`);
  const column = (f: string): number[] => {
    const xs: number[] = [];
    for (const p of rows) {
      const v = p.features[f];
      if (v !== undefined) xs.push(v);
    }
    return xs;
  };
  const medianOf = (f: string): number | undefined => {
    const xs = column(f);
    return xs.length === 0 ? undefined : median(xs);
  };
  const features: Record<string, ClassFeature> = {};
  const still: Record<string, number> = {};
  const jumps: Record<string, ClassFeature> = {};
  for (const f of Object.keys(names).sort(byCodeUnit)) {
    const xs = column(f);
    if (xs.length < CLASS_MIN_WINDOWS) continue;
    if (f.startsWith('ch.') && f.endsWith('.head')) {
      const ch = f.slice(3, f.length - 5);
      const js: number[] = [];
      for (const d of devices) {
        for (let i = 1; i < d.length; i++) {
          const a = d[i - 1] as TrafficProfile;
          const b = d[i] as TrafficProfile;
          const t = a.features[`ch.${ch}.tail`];
          const h = b.features[f];
          if (b.window === a.window + 1 && t !== undefined && h !== undefined) js.push(h - t);
        }
      }
      if (js.length >= CLASS_MIN_WINDOWS) {
        const c = median(js);
        const steps = column(`ch.${ch}.dmean`);
        jumps[ch] = { centre: c, spread: Math.max(trimmedSpread(js, c), steps.length > 0 ? median(steps) : 0, 1e-6) };
      }
    }
    if (isLevelFeature(f)) continue;
    const centre = median(xs);
    features[f] = { centre, spread: Math.max(robustSpread(xs, centre), floorFor(f, centre, medianOf)) };
    if (f.startsWith('ch.') && f.endsWith('.flat')) {
      let n = 0;
      for (const x of xs) if (x >= 1) n++;
      still[f] = n / xs.length;
    }
  }
  return { features, jumps, still, n: rows.length };
}

/** Checks a class profile read from the ledger (TypeError for shapes, RangeError for values). */
export function checkClassProfile(c: ClassProfile, where = 'classProfile'): void {
  if (typeof c !== 'object' || c === null) throw new TypeError(`${where} must be an object`);
  const stats = (o: unknown, w: string): void => {
    if (typeof o !== 'object' || o === null) throw new TypeError(`${w} must be an object`);
    for (const [k, v] of Object.entries(o as Record<string, ClassFeature>)) {
      if (typeof v !== 'object' || v === null) throw new TypeError(`${w}.${k} must be { centre, spread }`);
      if (!Number.isFinite(v.centre)) throw new RangeError(`${w}.${k}.centre must be finite`);
      if (!(Number.isFinite(v.spread) && v.spread > 0)) throw new RangeError(`${w}.${k}.spread must be finite and > 0`);
    }
  };
  stats(c.features, `${where}.features`);
  stats(c.jumps, `${where}.jumps`);
  if (typeof c.still !== 'object' || c.still === null) throw new TypeError(`${where}.still must be an object`);
  for (const [k, v] of Object.entries(c.still)) {
    if (!(typeof v === 'number' && v >= 0 && v <= 1)) throw new RangeError(`${where}.still.${k} must be a share in [0, 1]`);
  }
  if (!(Number.isInteger(c.n) && c.n >= CLASS_MIN_WINDOWS)) throw new RangeError(`${where}.n must be an integer ≥ ${CLASS_MIN_WINDOWS}`);
  if (c.peerTolerance !== undefined) {
    if (typeof c.peerTolerance !== 'object' || c.peerTolerance === null) throw new TypeError(`${where}.peerTolerance must be an object`);
    for (const [k, v] of Object.entries(c.peerTolerance)) {
      if (!(typeof v === 'number' && Number.isFinite(v) && v > 0))
        throw new RangeError(`${where}.peerTolerance.${k} must be finite and > 0`);
    }
  }
}

/**
 * δ of a warm-up profile against the class profile, sorted by name: every non-level feature
 * (`flat` one-sided), `still` when the channel was constant all window, and the channel's
 * continuity from the device's last accepted window (`ch.<id>.jump`, widened by √ of the windows
 * in between) when there is one.
 */
export function classDeltas(
  c: ClassProfile,
  last: TrafficProfile | undefined,
  profile: TrafficProfile,
): { feature: string; delta: number }[] {
  const out: { feature: string; delta: number }[] = [];
  for (const f of Object.keys(profile.features).sort(byCodeUnit)) {
    const st = c.features[f];
    if (st === undefined) continue;
    const d = (profile.features[f] as number) - st.centre;
    out.push({ feature: f, delta: (f.endsWith('.flat') ? Math.max(d, 0) : Math.abs(d)) / st.spread });
    if (f.startsWith('ch.') && f.endsWith('.flat') && (profile.features[f] as number) >= 1) {
      const share = c.still[f] ?? 0;
      out.push({ feature: `${f.slice(0, f.length - 5)}.still`, delta: (1 - share) / Math.max(share, 1 / c.n) });
    }
  }
  if (last !== undefined) {
    const skipped = profile.window - last.window - 1;
    for (const ch of Object.keys(c.jumps).sort(byCodeUnit)) {
      const j = c.jumps[ch] as ClassFeature;
      const h = profile.features[`ch.${ch}.head`];
      const t = last.features[`ch.${ch}.tail`];
      if (h === undefined || t === undefined) continue;
      const spread = j.spread * (1 + sqrtInt(skipped));
      out.push({ feature: `ch.${ch}.${skipped > 0 ? 'gap' : 'jump'}`, delta: Math.abs(h - t - j.centre) / spread });
    }
  }
  return out.sort((a, b) => byCodeUnit(a.feature, b.feature));
}

function sqrtInt(n: number): number {
  return n > 0 ? Math.sqrt(n) : 0;
}

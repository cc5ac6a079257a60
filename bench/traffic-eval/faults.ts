/**
 * The seed's fault list as injectors (talk: environmental influence, background noise, faulty
 * sensor, dying battery, data modification, false data injection, fast sampling to drain the
 * battery). Each takes the device's readings and one episode (a run of whole windows) and
 * returns the readings with the fault applied; every reading it changes or adds is marked
 * `faulty` so windows can be labelled. Parameters are drawn from the episode's own seeded stream.
 *
 * | type         | what the device (or a compromised device) does during the episode          |
 * |--------------|-----------------------------------------------------------------------------|
 * | stuck        | one channel repeats its last good value (faulty sensor)                     |
 * | spikes       | 1–3 readings per window of one channel jump by 3–10 units (faulty sensor)   |
 * | drift        | one channel gains an offset growing 0.1–0.3 units/min (decalibration)       |
 * | noise        | one channel gets Gaussian noise σ 0.3–1 units (background noise, EMI)       |
 * | battery      | battery falls 400–1,200 mV/h faster (dying cell), recovers after (swap)      |
 * | modification | one channel shifted by 1.5–4 units (data modification by a lying device)    |
 * | injection    | 5–15 fabricated readings per window, at random times, near-constant values  |
 * | rate         | sampling period divided by 2–4 (fast sampling that drains the battery)      |
 *
 * Realistic forgers (a compromised device or edge that knows what normal looks like):
 *
 * | type         | what the forger does during the episode                                     |
 * |--------------|-----------------------------------------------------------------------------|
 * | replay       | sends genuine readings of both channels recorded earlier by another device of the data set or by this device, shifted to start at the current level (noise, steps and the channels' co-movement are all genuine) |
 * | ramp         | one channel gains a slow ramp, 0.05–0.15 units/min (a drift too slow for any one window) |
 * | mimic        | one channel keeps its genuine noise but its level is pinned 0.5–1.5 units from where it was, hiding the real movement (value modification that keeps the variance) |
 *
 * A unit is 1 °C for temperature and 3 %RH for humidity. Every size above is multiplied by the
 * run's `magnitude` (default 1): spike height, drift and ramp rate, noise σ, extra battery drain,
 * modification and mimic offset, injected values' distance from the level, and the sampling-rate
 * excess (factor 1 + (2…4 − 1) × magnitude). A stuck sensor and a replay have no size.
 */
import type { Rng } from './prng.js';

/** Every fault type, in report order. */
export const DEVICE_FAULTS = ['stuck', 'spikes', 'drift', 'noise', 'battery', 'modification', 'injection', 'rate'] as const;
/** The realistic forgers, in report order. */
export const FORGERS = ['replay', 'ramp', 'mimic'] as const;
/** Every fault type, in report order. */
export const FAULT_TYPES = [...DEVICE_FAULTS, ...FORGERS] as const;
/** One fault type. */
export type FaultType = (typeof FAULT_TYPES)[number];

/** One injected fault: windows [start, end) of one mote. */
export interface Episode {
  readonly type: FaultType;
  readonly start: number;
  readonly end: number;
  /** The channel value faults act on. */
  readonly channel: 'temperature' | 'humidity';
  /** Episodes with the same group happen together (several faults at once); default: its own index. */
  readonly group?: number;
}

/** What a fault may use besides its own episode. */
export interface FaultContext {
  /** Size multiplier (module doc). */
  readonly magnitude: number;
  /** Genuine readings (5 s apart) a replaying forger may send, level-aligned; another mote's or this mote's own. */
  readonly donor?: readonly { readonly humidity: number; readonly temperature: number }[];
}

/** A reading inside the simulation (device side, before the radio). */
export interface SimReading {
  t: number;
  values: Record<string, number>;
  faulty: boolean;
  realEvent: boolean;
  /** Nominal window (clean timeline), for episode alignment. */
  window: number;
  /** Episode index that touched the reading, or -1. */
  episode: number;
  /** Extra battery drain while this reading's interval elapsed, mV per hour. */
  batteryExtraMvPerHour: number;
}

const UNIT: Record<Episode['channel'], number> = { temperature: 1, humidity: 3 };

/** Applies one episode to the readings (returns a new array; inputs are not mutated). */
export function applyDeviceFault(
  readings: readonly SimReading[],
  ep: Episode,
  k: number,
  windowMs: number,
  rng: Rng,
  ctx: FaultContext = { magnitude: 1 },
): SimReading[] {
  const mag = ctx.magnitude;
  const inEp = (r: SimReading): boolean => r.window >= ep.start && r.window < ep.end;
  const mark = (r: SimReading): SimReading => ({ ...r, values: { ...r.values }, faulty: true, episode: k });
  const unit = UNIT[ep.channel];
  const c = ep.channel;
  const first = readings.findIndex(inEp);
  if (first < 0) return readings.slice();
  const before = readings[Math.max(0, first - 1)] as SimReading;
  const sign = rng.next() < 0.5 ? -1 : 1;
  switch (ep.type) {
    case 'stuck': {
      const v = before.values[c] as number;
      return readings.map((r) => (inEp(r) ? withValue(mark(r), c, v) : r));
    }
    case 'spikes': {
      // Choose 1–3 spike positions in every window of the episode.
      const hit: Record<number, true> = {};
      for (let w = ep.start; w < ep.end; w++) {
        const idx = readings.map((r, i) => (r.window === w ? i : -1)).filter((i) => i >= 0);
        const nSpikes = Math.min(idx.length, rng.int(1, 3));
        for (let s = 0; s < nSpikes; s++) hit[rng.pick(idx)] = true;
      }
      return readings.map((r, i) => {
        if (!hit[i]) return inEp(r) ? { ...r, faulty: true, episode: k } : r;
        const m = mark(r);
        m.values[c] = (r.values[c] as number) + (rng.next() < 0.5 ? -1 : 1) * rng.uniform(3, 10) * unit * mag;
        return m;
      });
    }
    case 'drift': {
      const perMin = sign * rng.uniform(0.5, 1.5) * unit * mag;
      const t0 = (readings[first] as SimReading).t;
      return readings.map((r) => (inEp(r) ? withValue(mark(r), c, (r.values[c] as number) + (perMin * (r.t - t0)) / 60_000) : r));
    }
    case 'noise': {
      const sigma = rng.uniform(0.3, 1) * unit * mag;
      return readings.map((r) => (inEp(r) ? withValue(mark(r), c, (r.values[c] as number) + rng.normal() * sigma) : r));
    }
    case 'battery': {
      const extra = rng.uniform(400, 1_200) * mag;
      return readings.map((r) => (inEp(r) ? { ...mark(r), batteryExtraMvPerHour: extra } : r));
    }
    case 'modification': {
      const shift = sign * rng.uniform(1.5, 4) * unit * mag;
      return readings.map((r) => (inEp(r) ? withValue(mark(r), c, (r.values[c] as number) + shift) : r));
    }
    case 'injection': {
      const fakeT = (before.values['temperature'] as number) + (rng.next() < 0.5 ? -1 : 1) * rng.uniform(1, 3) * mag;
      const fakeH = (before.values['humidity'] as number) + (rng.next() < 0.5 ? -1 : 1) * rng.uniform(3, 9) * mag;
      const out = readings.map((r) => (inEp(r) ? { ...r, faulty: true, episode: k } : r));
      for (let w = ep.start; w < ep.end; w++) {
        const inW = readings.filter((r) => r.window === w);
        if (inW.length === 0) continue;
        const lo = (inW[0] as SimReading).t;
        const span = Math.max(1, Math.min(windowMs, (inW[inW.length - 1] as SimReading).t - lo));
        const n = rng.int(5, 15);
        for (let i = 0; i < n; i++) {
          out.push({
            t: lo + Math.floor(rng.next() * span),
            values: { temperature: fakeT + rng.normal() * 0.02, humidity: fakeH + rng.normal() * 0.05 },
            faulty: true,
            realEvent: false,
            window: w,
            episode: k,
            batteryExtraMvPerHour: 0,
          });
        }
      }
      return out.sort((a, b) => a.t - b.t);
    }
    case 'rate': {
      // 1 + (2…4 − 1) × magnitude readings per original one: extra readings interpolated between
      // neighbours, as many as the accumulated excess allows.
      const factor = 1 + (rng.int(2, 4) - 1) * mag;
      const out: SimReading[] = [];
      let owed = 0;
      readings.forEach((r, i) => {
        if (!inEp(r)) {
          out.push(r);
          return;
        }
        out.push({ ...r, faulty: true, episode: k });
        const next = readings[i + 1];
        if (next === undefined) return;
        owed += factor - 1;
        const extra = Math.floor(owed + 1e-9);
        owed -= extra;
        for (let j = 1; j <= extra; j++) {
          const f = j / (extra + 1);
          const values: Record<string, number> = {};
          for (const key of Object.keys(r.values)) {
            values[key] = (r.values[key] as number) * (1 - f) + (next.values[key] as number) * f;
          }
          out.push({ ...r, t: Math.round(r.t * (1 - f) + next.t * f), values, faulty: true, episode: k });
        }
      });
      return out;
    }
    case 'replay': {
      // Genuine readings from elsewhere, both channels, each shifted to start where this device was.
      const donor = ctx.donor;
      if (donor === undefined || donor.length === 0) throw new RangeError('a replay fault needs donor readings');
      // A recording: a stretch that ended before the episode began (the donor's readings are on
      // the same 5 s timeline), or, when there is none that long (an episode from the first
      // window), any stretch: a replay of readings nobody had sent yet.
      const n = readings.filter(inEp).length;
      const past = Math.min(first, donor.length) - n - 1;
      const from = past >= 0 ? rng.int(0, past) : rng.int(0, Math.max(0, donor.length - n - 1));
      const d0 = donor[from] as { humidity: number; temperature: number };
      let j = from;
      return readings.map((r) => {
        if (!inEp(r)) return r;
        const d = donor[Math.min(j++, donor.length - 1)] as { humidity: number; temperature: number };
        const out = mark(r);
        out.values['humidity'] = (before.values['humidity'] as number) + d.humidity - d0.humidity;
        out.values['temperature'] = (before.values['temperature'] as number) + d.temperature - d0.temperature;
        return out;
      });
    }
    case 'ramp': {
      const perMin = sign * rng.uniform(0.05, 0.15) * unit * mag;
      const t0 = (readings[first] as SimReading).t;
      return readings.map((r) => (inEp(r) ? withValue(mark(r), c, (r.values[c] as number) + (perMin * (r.t - t0)) / 60_000) : r));
    }
    case 'mimic': {
      // Genuine fine-scale noise (value minus its 1-minute centred moving average) on a pinned level.
      const level = (before.values[c] as number) + sign * rng.uniform(0.5, 1.5) * unit * mag;
      return readings.map((r, i) => {
        if (!inEp(r)) return r;
        let s = 0;
        let cnt = 0;
        for (let q = Math.max(0, i - 6); q <= Math.min(readings.length - 1, i + 6); q++) {
          s += (readings[q] as SimReading).values[c] as number;
          cnt++;
        }
        return withValue(mark(r), c, level + (r.values[c] as number) - s / cnt);
      });
    }
  }
}

function withValue(r: SimReading, c: string, v: number): SimReading {
  r.values[c] = v;
  return r;
}

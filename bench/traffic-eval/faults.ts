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
 * A unit is 1 °C for temperature and 3 %RH for humidity.
 */
import type { Rng } from './prng.js';

/** Every fault type, in report order. */
export const FAULT_TYPES = ['stuck', 'spikes', 'drift', 'noise', 'battery', 'modification', 'injection', 'rate'] as const;
/** One fault type. */
export type FaultType = (typeof FAULT_TYPES)[number];

/** One injected fault: windows [start, end) of one mote. */
export interface Episode {
  readonly type: FaultType;
  readonly start: number;
  readonly end: number;
  /** The channel value faults act on. */
  readonly channel: 'temperature' | 'humidity';
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
export function applyDeviceFault(readings: readonly SimReading[], ep: Episode, k: number, windowMs: number, rng: Rng): SimReading[] {
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
        m.values[c] = (r.values[c] as number) + (rng.next() < 0.5 ? -1 : 1) * rng.uniform(3, 10) * unit;
        return m;
      });
    }
    case 'drift': {
      const perMin = sign * rng.uniform(0.5, 1.5) * unit;
      const t0 = (readings[first] as SimReading).t;
      return readings.map((r) => (inEp(r) ? withValue(mark(r), c, (r.values[c] as number) + (perMin * (r.t - t0)) / 60_000) : r));
    }
    case 'noise': {
      const sigma = rng.uniform(0.3, 1) * unit;
      return readings.map((r) => (inEp(r) ? withValue(mark(r), c, (r.values[c] as number) + rng.normal() * sigma) : r));
    }
    case 'battery': {
      const extra = rng.uniform(400, 1_200);
      return readings.map((r) => (inEp(r) ? { ...mark(r), batteryExtraMvPerHour: extra } : r));
    }
    case 'modification': {
      const shift = sign * rng.uniform(1.5, 4) * unit;
      return readings.map((r) => (inEp(r) ? withValue(mark(r), c, (r.values[c] as number) + shift) : r));
    }
    case 'injection': {
      const fakeT = (before.values['temperature'] as number) + (rng.next() < 0.5 ? -1 : 1) * rng.uniform(1, 3);
      const fakeH = (before.values['humidity'] as number) + (rng.next() < 0.5 ? -1 : 1) * rng.uniform(3, 9);
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
      const factor = rng.int(2, 4);
      const out: SimReading[] = [];
      readings.forEach((r, i) => {
        if (!inEp(r)) {
          out.push(r);
          return;
        }
        out.push({ ...r, faulty: true, episode: k });
        const next = readings[i + 1];
        if (next === undefined) return;
        for (let j = 1; j < factor; j++) {
          const f = j / factor;
          const values: Record<string, number> = {};
          for (const key of Object.keys(r.values)) {
            values[key] = (r.values[key] as number) * (1 - f) + (next.values[key] as number) * f;
          }
          out.push({ ...r, t: Math.round(r.t * (1 - f) + next.t * f), values, faulty: true, episode: k });
        }
      });
      return out;
    }
  }
}

function withValue(r: SimReading, c: string, v: number): SimReading {
  r.values[c] = v;
  return r;
}

import { describe, expect, it } from 'vitest';
import { computeFeatures, type Arrival, type WindowInput } from '../../shared/traffic/features.js';

const a = (seq: number, t: number, temp: number, batteryMv = 3000): Arrival => ({
  seq,
  t,
  receivedAt: t + 50,
  values: { temp },
  batteryMv,
});

const base = (arrivals: Arrival[], extra: Partial<WindowInput> = {}): WindowInput => ({
  windowStart: 0,
  windowEnd: 60_000,
  arrivals,
  frameErrors: 0,
  duplicates: 0,
  ...extra,
});

describe('computeFeatures on known inputs', () => {
  it('counts, rate, inter-arrival median and MAD', () => {
    // Arrival times 0, 10, 20, 40 s: inter-arrivals 10, 10, 20 → median 10, MAD median(|0|,|0|,|10|) = 0.
    const f = computeFeatures(base([a(1, 0, 20), a(2, 10_000, 21), a(3, 20_000, 22), a(4, 40_000, 23)]));
    expect(f['count']).toBe(4);
    expect(f['rate']).toBe(4); // 4 arrivals in a 1-minute window
    expect(f['iat.median']).toBe(10);
    expect(f['iat.mad']).toBe(0);
  });

  it('sorts arrivals by device time before computing anything', () => {
    const inOrder = computeFeatures(base([a(1, 0, 20), a(2, 10_000, 21), a(3, 20_000, 22)]));
    const shuffled = computeFeatures(base([a(3, 20_000, 22), a(1, 0, 20), a(2, 10_000, 21)]));
    expect(shuffled).toEqual(inOrder);
  });

  it('sequence gaps inside the window and since lastSeqBefore, duplicates from both sources', () => {
    // seqs 10, 11, 11, 14: unique 10, 11, 14 → 12 and 13 missing; 11 repeated once.
    const arr = [a(10, 0, 1), a(11, 5_000, 1), a(11, 6_000, 1), a(14, 20_000, 1)];
    const f = computeFeatures(base(arr, { duplicates: 2, lastSeqBefore: 7, frameErrors: 3 }));
    expect(f['seq.gaps']).toBe(2 + 2); // 12, 13 and 8, 9
    expect(f['seq.dups']).toBe(2 + 1);
    expect(f['frame.errors']).toBe(3);
  });

  it('channel mean, std, min, max, slope, dmean, flat, head, tail', () => {
    // One minute apart: values 1, 3, 3, 3, 5 → mean 3, population std √(8/5), slope 0.8/min.
    const vals = [1, 3, 3, 3, 5];
    const f = computeFeatures(
      base(
        vals.map((v, i) => a(i, i * 60_000, v)),
        { windowEnd: 300_000 },
      ),
    );
    expect(f['ch.temp.mean']).toBe(3);
    expect(f['ch.temp.std']).toBeCloseTo(Math.sqrt(8 / 5), 12);
    expect(f['ch.temp.min']).toBe(1);
    expect(f['ch.temp.max']).toBe(5);
    expect(f['ch.temp.slope']).toBeCloseTo(0.8, 12);
    expect(f['ch.temp.dmean']).toBe(1); // |2|+0+0+|2| over 4 steps
    expect(f['ch.temp.flat']).toBe(3 / 5); // the run 3, 3, 3
    expect(f['ch.temp.head']).toBeCloseTo(7 / 3, 12);
    expect(f['ch.temp.tail']).toBeCloseTo(11 / 3, 12);
  });

  it('battery level and slope in mV per hour', () => {
    // 3000 mV falling 10 mV per 30 min → −20 mV/h.
    const arr = [0, 1, 2, 3].map((i) => a(i, i * 1_800_000, 0, 3000 - 10 * i));
    const f = computeFeatures(base(arr, { windowEnd: 7_200_000 }));
    expect(f['battery.mean']).toBe(2985);
    expect(f['battery.slope']).toBeCloseTo(-20, 9);
  });

  it('an empty window has only traffic features, all zero but frame errors', () => {
    const f = computeFeatures(base([], { frameErrors: 2 }));
    expect(Object.keys(f).sort()).toEqual(['count', 'frame.errors', 'iat.mad', 'iat.median', 'rate', 'seq.dups', 'seq.gaps']);
    expect(f['count']).toBe(0);
    expect(f['frame.errors']).toBe(2);
  });

  it('a single reading gives zero spread, slope, dmean and flat', () => {
    const f = computeFeatures(base([a(1, 0, 7)]));
    expect(f['ch.temp.std']).toBe(0);
    expect(f['ch.temp.slope']).toBe(0);
    expect(f['ch.temp.dmean']).toBe(0);
    expect(f['ch.temp.flat']).toBe(0);
    expect(f['ch.temp.head']).toBe(7);
  });

  it('every value is a finite number', () => {
    const f = computeFeatures(base([a(1, 0, 20), a(2, 0, 21), a(3, 0, 22)]));
    for (const [k, v] of Object.entries(f)) expect(Number.isFinite(v), k).toBe(true);
  });
});

describe('computeFeatures rejects bad input', () => {
  it('NaN or Infinity values name the field', () => {
    expect(() => computeFeatures(base([a(1, 0, Number.NaN)]))).toThrow(/arrivals\[0\]\.values\.temp must be finite/);
    expect(() => computeFeatures(base([{ ...a(1, 0, 1), batteryMv: Infinity }]))).toThrow(RangeError);
    expect(() => computeFeatures(base([{ ...a(1, 0, 1), t: Number.NaN }]))).toThrow(/arrivals\[0\]\.t/);
  });

  it('window bounds must be ordered', () => {
    expect(() => computeFeatures(base([], { windowEnd: 0 }))).toThrow(/windowEnd/);
  });

  it('counts must be non-negative integers', () => {
    expect(() => computeFeatures(base([], { frameErrors: -1 }))).toThrow(/frameErrors/);
    expect(() => computeFeatures(base([], { duplicates: 1.5 }))).toThrow(/duplicates/);
    expect(() => computeFeatures(base([a(1.5, 0, 1)]))).toThrow(/seq/);
  });

  it('wrong types are TypeErrors', () => {
    expect(() => computeFeatures(null as unknown as WindowInput)).toThrow(TypeError);
    expect(() => computeFeatures(base([{ ...a(1, 0, 1), values: null as unknown as Record<string, number> }]))).toThrow(TypeError);
    expect(() => computeFeatures({ ...base([]), arrivals: 'x' as unknown as Arrival[] })).toThrow(TypeError);
    expect(() => computeFeatures(base([{ ...a(1, 0, 1), seq: '1' as unknown as number }]))).toThrow(TypeError);
  });
});

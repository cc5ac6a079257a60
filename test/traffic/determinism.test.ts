/**
 * Guards of the decision path's determinism: the sources use only operations that are
 * bit-identical on every platform, and the results do not depend on input order.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { computeFeatures, type Arrival } from '../../shared/traffic/features.js';
import { defaultThresholds, deltas, judgeProfile, learnModel, type TrafficProfile } from '../../shared/traffic/model.js';

const dir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'shared', 'traffic');
const SOURCES = ['features.ts', 'learn.ts', 'model.ts', 'copies.ts', 'peers.ts', 'device-state.ts', 'class-profile.ts'];

describe('decision-path sources', () => {
  it.each(SOURCES)('%s uses no platform-dependent maths, randomness, clocks, Maps/Sets or node: modules', (file) => {
    const code = readFileSync(join(dir, file), 'utf8')
      .replace(/\/\*[\s\S]*?\*\//g, '')
      .replace(/\/\/.*$/gm, '');
    for (const banned of [
      /Math\.(exp|expm1|log|log1p|log2|log10|pow|sin|cos|tan|asin|acos|atan|atan2|sinh|cosh|tanh|cbrt|hypot|random|fround)\b/,
      /\*\*/,
      /\bDate\b/,
      /performance\./,
      /new (Map|Set|WeakMap)\b/,
      /from 'node:/,
      /localeCompare/,
    ]) {
      expect(code, `${file} matches ${banned}`).not.toMatch(banned);
    }
  });
});

const arrivalArb = fc.record({
  seq: fc.nat({ max: 10_000 }),
  t: fc.integer({ min: 0, max: 3_600_000 }),
  receivedAt: fc.integer({ min: 0, max: 3_600_000 }),
  values: fc.record({ a: fc.double({ min: -1e6, max: 1e6, noNaN: true }), b: fc.double({ min: -1e6, max: 1e6, noNaN: true }) }),
  batteryMv: fc.integer({ min: 0, max: 65_535 }),
});

describe('properties', () => {
  it('features are finite and independent of arrival order', () => {
    fc.assert(
      fc.property(fc.array(arrivalArb, { maxLength: 40 }), fc.nat({ max: 20 }), (arrivals: Arrival[], fe) => {
        // Distinct (t, seq) so that sorting has a single answer.
        const seen = new Set<string>();
        const uniq = arrivals.filter((a) => {
          const k = `${a.t}/${a.seq}`;
          if (seen.has(k)) return false;
          seen.add(k);
          return true;
        });
        const input = { windowStart: 0, windowEnd: 3_600_001, arrivals: uniq, frameErrors: fe, duplicates: 0 };
        const f = computeFeatures(input);
        for (const v of Object.values(f)) expect(Number.isFinite(v)).toBe(true);
        expect(computeFeatures({ ...input, arrivals: uniq.slice().reverse() })).toEqual(f);
      }),
      { numRuns: 200 },
    );
  });

  it('the verdict does not depend on the features objects’ key order', () => {
    const feature = fc.dictionary(
      fc.constantFrom('count', 'rate', 'iat.median', 'ch.x.std', 'ch.x.slope', 'ch.y.slope'),
      fc.double({ min: 0, max: 100, noNaN: true }),
      {
        minKeys: 6,
        maxKeys: 6,
      },
    );
    fc.assert(
      fc.property(fc.array(feature, { minLength: 8, maxLength: 20 }), feature, (hist, cur) => {
        const history: TrafficProfile[] = hist.map((features, w) => ({ deviceId: 'd', window: w, features }));
        const profile: TrafficProfile = { deviceId: 'd', window: hist.length, features: cur };
        const rev = (o: Record<string, number>): Record<string, number> => Object.fromEntries(Object.entries(o).reverse());
        const a = JSON.stringify(judgeProfile(history, profile, defaultThresholds()));
        const b = JSON.stringify(
          judgeProfile(
            history.map((p) => ({ ...p, features: rev(p.features) })),
            { ...profile, features: rev(profile.features) },
            defaultThresholds(),
          ),
        );
        expect(b).toBe(a);
      }),
      { numRuns: 200 },
    );
  });

  it('every δ is finite, whatever finite (often zero or constant) features come in', () => {
    const names = [
      'count',
      'rate',
      'iat.mad',
      'seq.gaps',
      'battery.slope',
      'ch.x.std',
      'ch.x.dmean',
      'ch.x.slope',
      'ch.x.flat',
      'ch.x.head',
      'ch.x.tail',
      'ch.x.mean',
      'ch.y.slope',
      'ch.y.head',
      'ch.y.tail',
    ];
    const value = fc.oneof(fc.constant(0), fc.constant(1), fc.double({ min: -1e6, max: 1e6, noNaN: true }));
    const features = fc.record(Object.fromEntries(names.map((n) => [n, value])) as Record<string, typeof value>);
    fc.assert(
      fc.property(fc.array(features, { minLength: 8, maxLength: 32 }), features, fc.integer({ min: 1, max: 9 }), (hist, cur, gap) => {
        const history: TrafficProfile[] = hist.map((f, w) => ({ deviceId: 'd', window: w, features: f }));
        const profile: TrafficProfile = { deviceId: 'd', window: hist.length - 1 + gap, features: cur };
        for (const d of deltas(learnModel(history), profile)) expect(Number.isFinite(d.delta), d.feature).toBe(true);
        const j = judgeProfile(history, profile, defaultThresholds());
        expect(JSON.parse(JSON.stringify(j))).toEqual(j);
      }),
      { numRuns: 300 },
    );
  });
});

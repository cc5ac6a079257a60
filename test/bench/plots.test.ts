/**
 * `provenant bench plots` draws its figures from the benchmarks' JSON lines (bench/plots.ts): a
 * saved plots.json gives the five figures (SVG + PNG) with the data in them, the CDF ends at 1,
 * and a log axis refuses a value it cannot draw. The benchmarks themselves are not run here (they
 * are timed runs, not tests).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cdfPoints, drawPlots, type PlotsData } from '../../bench/plots.js';
import { groupedBarChart } from '../../bench/plot/svg.js';

const line = (batch: number, inflight: number, rps: number) => ({
  batch,
  inflight,
  readingsPerSecond: rps,
  cpuUsPerReading: 20,
  ledgerThreadCpuUsPerReading: 8,
  loadAverage: [1, 1],
  halfLoad: { p50Ms: 5, p99Ms: 20, offeredReadingsPerSecond: rps / 2, saturated: false },
});

describe('bench plots', () => {
  const dir = mkdtempSync(join(tmpdir(), 'prov-plots-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('cdfPoints: at most ~200 points, non-decreasing, ending at (max, 1)', () => {
    const sorted = Array.from({ length: 1000 }, (_, i) => i / 10);
    const pts = cdfPoints(sorted);
    expect(pts.length).toBeLessThanOrEqual(201);
    expect(pts.at(-1)).toEqual([99.9, 1]);
    for (let i = 1; i < pts.length; i++) expect((pts[i] as number[])[1]).toBeGreaterThan((pts[i - 1] as number[])[1] as number);
    expect(cdfPoints([])).toEqual([]);
  });

  it('draws the ledger and crypto figures from saved data', async () => {
    const data: PlotsData = {
      machine: { cpus: 2, node: 'v20', loadAverage: [1.5, 2] },
      ledger: {
        readings: 1000,
        byBatch: [line(10, 32, 4000), line(250, 32, 90000)],
        byInflight: [line(250, 1, 20000), line(250, 32, 90000)],
        cdf: [{ batch: 250, points: cdfPoints([1, 2, 3, 40]) }],
      },
      crypto: {
        msPerOp: {
          ours: { sign: 1.45, verify: 5.8, proofGen: 3.6, proofVerify: 6.9, signPartial: 3.8, validatePartial: 6.9, complete: 0.0056 },
          peer: { sign: 49.1, verify: 69.4, proofGen: 85.9, proofVerify: 88.1 },
        },
        ratios: { proofGen: 23.6 },
      },
    };
    const files = await drawPlots(data, dir);
    const names = ['ledger-batch', 'ledger-inflight', 'ledger-latency-cdf', 'crypto-bbs', 'crypto-outsourced'];
    expect(files.map((f) => f.slice(dir.length + 1)).sort()).toEqual(names.flatMap((n) => [`${n}.png`, `${n}.svg`]).sort());
    for (const f of files.filter((x) => x.endsWith('.png'))) expect(readFileSync(f).subarray(1, 4).toString()).toBe('PNG');
    const bbs = readFileSync(join(dir, 'crypto-bbs.svg'), 'utf8');
    expect(bbs).toContain('peer (@digitalbazaar, JS)');
    expect(bbs).toContain('>49.1<'); // the peer's sign, labelled on its bar
    expect(bbs.match(/<rect x=/g)?.length).toBeGreaterThanOrEqual(8 + 2);
    expect(readFileSync(join(dir, 'ledger-latency-cdf.svg'), 'utf8')).toContain('batch 250');
    expect(readFileSync(join(dir, 'ledger-batch.svg'), 'utf8')).toContain('if the ledger thread had a core');
  });

  it('a log axis refuses a value ≤ 0', () => {
    expect(() =>
      groupedBarChart({ title: 't', xLabel: 'x', yLabel: 'y', series: ['a'], groups: [{ label: 'g', values: [0] }], logY: true }),
    ).toThrow(/log y axis/);
  });
});

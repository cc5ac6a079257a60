/**
 * `provenant eval paper --smallest`: the paper's evaluation at its smallest point, through the
 * whole system (the built firmware in simulated boards on the board bus, the edge runtime, the
 * embedded ledger over HTTP, the follower and the auditor answering per committed reading).
 * Checks the figures are produced and consistent, not their speed. Fig. 9 runs in the quick
 * evaluation and in its own test below (V8 or the Espruino interpreter, whichever is here).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { fig9Points, checkFmul, timeOps, FMUL_PER_INVERSION, FMUL_PER_SCALAR_MULT } from '../../bench/eval/fig9.js';
import { boardsPerNode, dist } from '../../bench/eval/system.js';
import { lineChart, niceMax, stackedBarChart } from '../../bench/plot/svg.js';
import { svgToPng } from '../../bench/plot/png.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const bin = join(root, 'bin', 'provenant.js');
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const t = setTimeout(() => child.kill('SIGKILL'), 410_000);
    child.on('exit', (code) => {
      clearTimeout(t);
      resolve({ code, stdout, stderr });
    });
  });
}

interface Point {
  nodes: number;
  ratePerNode: number;
  boards: number;
  offeredPerS: number;
  committedPerS: number;
  txPerS: number;
  readingsPerTx: number;
  rejected: number;
  rejectedBy: Record<string, number>;
  windowCpuUsPerReading: { edge: number; ledger: number | null; auditor: number; boards: number; system: number | null };
  reached: { sent: number; stored: number; committed: number; answered: number };
  verdicts: Record<string, number>;
  latency: {
    stored: { n: number; p50: number };
    committed: { n: number; p50: number };
    answered: { n: number; mean: number; p50: number; p99: number };
    stages: { boardToStored: { mean: number }; storedToCommitted: { mean: number }; committedToAnswer: { mean: number } };
  };
}

describe('provenant eval paper', () => {
  it('runs the smallest point end to end and writes consistent plots, tables and one JSON line', { timeout: 420_000 }, async () => {
    const out = mkdtempSync(join(tmpdir(), 'provenant-eval-'));
    dirs.push(out);
    const r = await run(['eval', 'paper', '--smallest', '--figures', '7,8', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    // Progress on stderr, per point.
    expect(r.stderr).toMatch(/ledger: embedded, http:\/\/127\.0\.0\.1:\d+/);
    expect(r.stderr).toMatch(/fig7 nodes: 1 nodes × 10\/s \(1 boards\)/);
    expect(r.stderr).toMatch(/fig8: 1 nodes × 10\/s \(1 boards\)/);
    // The last stdout line is the JSON of every figure, also written to paper.json.
    const lines = r.stdout.trim().split('\n');
    const json = JSON.parse(lines[lines.length - 1] as string) as Record<string, unknown>;
    expect(JSON.parse(readFileSync(join(out, 'paper.json'), 'utf8'))).toEqual(json);
    expect(json['ledger']).toBe('embedded');
    expect(json['mode']).toBe('smallest');
    const fig7 = json['fig7'] as { nodes: { rate: number; points: Point[] }[] };
    const fig8 = json['fig8'] as { ratePerNode: number; points: Point[] };
    const p7 = fig7.nodes[0]?.points[0] as Point;
    const p8 = fig8.points[0] as Point;
    for (const p of [p7, p8]) {
      // Readings went through every stage, none rejected, and the auditor proved them genuine.
      expect(p.reached.sent).toBeGreaterThan(0);
      expect(p.reached.committed).toBe(p.reached.sent);
      expect(p.reached.answered).toBeGreaterThan(0);
      expect(p.rejected).toBe(0);
      expect(p.rejectedBy).toEqual({});
      // CPU in the window: the system under test (edge + ledger + auditor) apart from the boards.
      const w = p.windowCpuUsPerReading;
      if (p.committedPerS > 0) {
        expect(w.edge).toBeGreaterThanOrEqual(0);
        expect(w.system).toBeCloseTo((w.edge + (w.ledger as number) + w.auditor) as number, -1);
      }
      expect(Object.keys(p.verdicts)).toEqual(['TRUE']);
      // Rates in the window (a loaded machine may commit nothing inside 2 s: the reached counts
      // above say every reading got there).
      expect(p.offeredPerS).toBeGreaterThan(0);
      expect(p.committedPerS).toBeGreaterThanOrEqual(0);
      if (p.txPerS > 0) expect(p.readingsPerTx).toBeGreaterThanOrEqual(1);
      // Times are ordered: stored before committed before answered.
      expect(p.latency.stored.p50).toBeGreaterThan(0);
      expect(p.latency.committed.p50).toBeGreaterThanOrEqual(p.latency.stored.p50);
      expect(p.latency.answered.p50).toBeGreaterThanOrEqual(p.latency.committed.p50);
      expect(p.latency.answered.p99).toBeGreaterThanOrEqual(p.latency.answered.p50);
    }
    // Fig. 8: every committed reading answered; the stages add up to the mean response time.
    expect(p8.boards).toBe(1);
    expect(p8.reached.answered).toBe(p8.reached.sent);
    const st = p8.latency.stages;
    expect(st.boardToStored.mean + st.storedToCommitted.mean + st.committedToAnswer.mean).toBeCloseTo(p8.latency.answered.mean, 0);
    // Plots (SVG + PNG) and the tables.
    for (const f of ['fig7-nodes', 'fig7-rate', 'fig8']) {
      expect(readFileSync(join(out, `${f}.svg`), 'utf8')).toMatch(/^<svg [^>]*>[\s\S]*<\/svg>\n$/);
      expect(
        readFileSync(join(out, `${f}.png`))
          .subarray(1, 4)
          .toString(),
      ).toBe('PNG');
    }
    const tables = readFileSync(join(out, 'tables.md'), 'utf8');
    expect(tables).toContain('## Fig. 7');
    expect(tables).toContain(`| 1 | ${p8.offeredPerS} | ${p8.reached.answered}/${p8.reached.sent} | ${p8.latency.answered.mean} |`);
    expect(json['files']).toEqual(expect.arrayContaining(['fig7-nodes.svg', 'fig8.png', 'tables.md']));
    expect(existsSync(join(out, 'run', 'ledger.db'))).toBe(true);
    // --replot draws the same tables (and the plots) again from the saved JSON, without a run.
    const again = join(out, 'replot');
    const rp = await run(['eval', 'paper', '--replot', join(out, 'paper.json'), '--out', again]);
    expect(rp.code, rp.stderr).toBe(0);
    expect(readFileSync(join(again, 'tables.md'), 'utf8')).toBe(tables);
    expect(readFileSync(join(again, 'fig8.svg'), 'utf8')).toBe(readFileSync(join(out, 'fig8.svg'), 'utf8'));
  });

  it('refuses a bad list option with a clear error', async () => {
    const r = await run(['eval', 'paper', '--nodes', '1,x']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("--nodes must be a comma-separated list of positive numbers (or none), got '1,x'");
  });
});

describe('Fig. 9 model', () => {
  it('counts board work per packet with and without outsourcing', () => {
    checkFmul();
    const ops = { engine: 'v8' as const, label: 'test', fmulUs: 2, sha256Us: 1, shaBytes: 119 };
    const [one, hundred] = fig9Points([1, 100], 2, ops);
    expect(one?.with).toEqual({ sha256: 2, fieldMults: 0, ms: 0.002 });
    const perSig = FMUL_PER_SCALAR_MULT + 2 * FMUL_PER_INVERSION;
    const keygen = FMUL_PER_SCALAR_MULT + FMUL_PER_INVERSION;
    expect(hundred?.without.fieldMults).toBe(keygen + 100 * perSig);
    expect(hundred?.without.ms).toBeCloseTo((100 * 1 + (keygen + 100 * perSig) * 2) / 1000, 3);
    // Timing in V8 (no interpreter path given) is labelled so.
    const t = timeOps(undefined, 64, 2);
    expect(t.engine).toBe('v8');
    expect(t.fmulUs).toBeGreaterThan(0);
    expect(t.sha256Us).toBeGreaterThan(0);
  });

  it('a node above 10 packets/s is several boards at the firmware floor', () => {
    expect([2, 10, 11, 100, 300].map(boardsPerNode)).toEqual([1, 1, 2, 10, 30]);
    expect(dist([3, 1, 2])).toMatchObject({ n: 3, mean: 2, p50: 2, max: 3 });
  });
});

describe('plots', () => {
  it('draws line and stacked bar charts, log axes, and renders PNG', async () => {
    const svg = lineChart({
      title: 'a <b>',
      xLabel: 'x',
      yLabel: 'y',
      logX: true,
      logY: true,
      series: [
        {
          name: 's',
          points: [
            [1, 1],
            [10, 100],
            [100, 10000],
          ],
        },
        { name: 'paper', points: [[10, 50]], markersOnly: true },
      ],
    });
    expect(svg).toContain('a &lt;b&gt;');
    expect(svg).toContain('<polyline');
    expect(svg).toContain('<circle');
    expect(svg).toContain('>10k<');
    expect(() => lineChart({ title: 't', xLabel: 'x', yLabel: 'y', logY: true, series: [{ name: 's', points: [[1, 0]] }] })).toThrow(
      /every y > 0/,
    );
    const bars = stackedBarChart({
      title: 'b',
      xLabel: 'n',
      yLabel: 'ms',
      stacks: ['a', 'b'],
      groups: [{ label: '1', values: [10, 20], marks: [{ value: 40, label: 'p99' }] }],
    });
    expect(bars.match(/<rect /g)?.length).toBeGreaterThanOrEqual(5);
    expect(niceMax(41)).toBe(50);
    expect(niceMax(0.3)).toBe(0.5);
    const png = await svgToPng(svg, 1);
    expect(Buffer.from(png).subarray(1, 4).toString()).toBe('PNG');
  });
});

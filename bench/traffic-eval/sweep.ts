/**
 * `provenant traffic sweep`: F1 of the model per fault type against fault size (magnitude) and
 * against episode length, on one data set, as two SVG line charts (bench/plot/svg.ts) and one
 * JSON line. Each point is one full evaluation (eval.ts) with that setting and the others at
 * their defaults (magnitude ×1, episodes 2–6 windows).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { lineChart } from '../plot/svg.js';
import { ROWS, runEval, type EvalResult, type Row } from './eval.js';

/** Options of a sweep. */
export interface SweepOptions {
  readonly data?: string;
  readonly seed: number;
  readonly windowSec: number;
  readonly magnitudes?: readonly number[];
  readonly lengths?: readonly number[];
  /** Where the two SVGs go (traffic-f1-magnitude-<data>.svg, traffic-f1-episode-<data>.svg); none: no files. */
  readonly outDir?: string;
  readonly motes?: readonly number[];
  readonly rows?: readonly Row[];
}

/** One point: the setting and the model's figures per row. */
export interface SweepPoint {
  readonly magnitude: number;
  readonly episode: readonly [number, number];
  readonly f1: Partial<Record<Row, number | null>>;
  readonly after: Partial<Record<Row, number | null>>;
  readonly cleanFpr: number | null;
}

/** The sweep's result. */
export interface SweepResult {
  readonly data: string;
  readonly seed: number;
  readonly byMagnitude: readonly SweepPoint[];
  readonly byLength: readonly SweepPoint[];
  readonly files: readonly string[];
}

export const DEFAULT_MAGNITUDES = [0.25, 0.5, 1, 1.5, 2] as const;
export const DEFAULT_LENGTHS = [2, 4, 8, 16, 32] as const;

/** Runs the sweep (and writes the SVGs when `outDir` is given). */
export function runSweep(o: SweepOptions): SweepResult {
  const rows = o.rows ?? ROWS;
  const point = (r: EvalResult): SweepPoint => {
    const f1: Partial<Record<Row, number | null>> = {};
    const after: Partial<Record<Row, number | null>> = {};
    for (const row of rows) {
      f1[row] = r.model.perRow[row]?.f1 ?? null;
      after[row] = r.model.perRow[row]?.afterRate ?? null;
    }
    return { magnitude: r.magnitude, episode: r.episode, f1, after, cleanFpr: r.model.clean.fpr };
  };
  const base = {
    ...(o.data !== undefined ? { data: o.data } : {}),
    ...(o.motes !== undefined ? { motes: o.motes } : {}),
    seed: o.seed,
    windowSec: o.windowSec,
    rows,
    baselines: false,
    oracle: false,
  };
  const byMagnitude = (o.magnitudes ?? DEFAULT_MAGNITUDES).map((m) => point(runEval({ ...base, magnitude: m })));
  const byLength = (o.lengths ?? DEFAULT_LENGTHS).map((l) => point(runEval({ ...base, episode: [l, l] })));
  const files: string[] = [];
  const data = o.data ?? 'single-hop';
  const tag = data === 'single-hop' || data === 'multi-hop' ? data : 'file';
  if (o.outDir !== undefined) {
    mkdirSync(o.outDir, { recursive: true });
    const chart = (title: string, xLabel: string, pts: readonly SweepPoint[], x: (p: SweepPoint) => number, logX: boolean): string =>
      lineChart({
        title,
        xLabel,
        yLabel: 'F1 (window level)',
        y: [0, 1],
        logX,
        refs: [{ y: 0.9, label: 'target 0.9' }],
        series: rows.map((row) => ({
          name: row,
          points: pts.map((p) => [x(p), p.f1[row] ?? null] as const),
          dashed: row === 'replay' || row === 'ramp' || row === 'mimic',
        })),
      });
    const a = join(o.outDir, `traffic-f1-magnitude-${tag}.svg`);
    writeFileSync(
      a,
      chart(
        `F1 vs fault size, ${data} data (episodes 2–6 windows, seed ${o.seed})`,
        'magnitude (× the default fault size)',
        byMagnitude,
        (p) => p.magnitude,
        true,
      ),
    );
    const b = join(o.outDir, `traffic-f1-episode-${tag}.svg`);
    writeFileSync(
      b,
      chart(
        `F1 vs episode length, ${data} data (magnitude ×1, seed ${o.seed})`,
        'episode length (windows of 150 s)',
        byLength,
        (p) => p.episode[0],
        true,
      ),
    );
    files.push(a, b);
  }
  return { data, seed: o.seed, byMagnitude, byLength, files };
}

/** A text table of the sweep (rows × settings). */
export function formatSweep(s: SweepResult): string {
  const pct = (v: number | null | undefined): string => (v === null || v === undefined ? '    -' : `${(v * 100).toFixed(1).padStart(5)}`);
  const rows = Object.keys(s.byMagnitude[0]?.f1 ?? s.byLength[0]?.f1 ?? {}) as Row[];
  const lines: string[] = [`F1 % of the model, ${s.data} data, seed ${s.seed}`];
  const table = (label: string, pts: readonly SweepPoint[], head: (p: SweepPoint) => string): void => {
    lines.push('');
    lines.push(`${label.padEnd(13)} ${pts.map((p) => head(p).padStart(7)).join(' ')}`);
    for (const r of rows) lines.push(`${r.padEnd(13)} ${pts.map((p) => pct(p.f1[r]).padStart(7)).join(' ')}`);
    lines.push(`${'clean FPR'.padEnd(13)} ${pts.map((p) => pct(p.cleanFpr).padStart(7)).join(' ')}`);
    lines.push(`${'max after'.padEnd(13)} ${pts.map((p) => pct(Math.max(...rows.map((r) => p.after[r] ?? 0))).padStart(7)).join(' ')}`);
  };
  table('magnitude', s.byMagnitude, (p) => `×${p.magnitude}`);
  table('episode', s.byLength, (p) => `${p.episode[0]} win`);
  if (s.files.length > 0) lines.push('', `wrote ${s.files.join(', ')}`);
  return lines.join('\n');
}

/** The sweep's one JSON line. */
export function sweepJson(s: SweepResult): string {
  return JSON.stringify({
    eval: 'traffic-sweep',
    data: s.data,
    seed: s.seed,
    byMagnitude: s.byMagnitude,
    byLength: s.byLength,
    files: s.files,
  });
}

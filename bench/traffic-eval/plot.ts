/**
 * `provenant traffic plot`: one mote's profile, window by window, with one episode of every
 * fault type injected and the model's flags, drawn as a self-contained SVG (no plotting
 * library: a few panels of polylines and rectangles). Node-only (writes the file).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import {
  MIN_HISTORY,
  MODEL_HISTORY,
  defaultThresholds,
  deltas,
  learnModel,
  thresholdFor,
  type Thresholds,
  type TrafficProfile,
} from '../../shared/traffic/model.js';
import { ProvenantError } from '../../shared/errors.js';
import { loadDataset } from './dataset.js';
import { FAULT_TYPES } from './faults.js';
import { modelDetector, profilesOf, replay, type JudgedWindow } from './replay.js';
import { scheduleEpisodes, simulateMote, type SimRun } from './simulate.js';

/** Options of the plot. */
export interface PlotOptions {
  readonly out: string;
  readonly csv?: string;
  readonly mote: number;
  readonly seed: number;
  readonly window: number;
  readonly thresholds?: Thresholds;
}

/** Builds the mixed-fault run, judges it and writes the SVG; returns a summary line and JSON. */
export function writePlot(o: PlotOptions): { text: string; json: Record<string, unknown> } {
  const series = loadDataset(o.csv).find((s) => s.moteId === o.mote);
  if (series === undefined) throw new ProvenantError('PROV_ERR_CONFIG', `mote ${o.mote} is not in the data set`, { mote: o.mote });
  const windowMs = o.window * 1000;
  const episodes = scheduleEpisodes(series, FAULT_TYPES, windowMs, o.seed, {
    warmup: MIN_HISTORY + 4,
    gap: 8,
    maxEpisodes: FAULT_TYPES.length,
  });
  const data = loadDataset(o.csv);
  const donor = data.find((d) => d.moteId !== o.mote && d.indoor === series.indoor) ?? data.find((d) => d.moteId !== o.mote) ?? series;
  const run = simulateMote(series, episodes, windowMs, o.seed, {
    magnitude: 1,
    donor: donor.rows.map((r) => ({ humidity: r.humidity, temperature: r.temperature })),
  });
  const thresholds = o.thresholds ?? defaultThresholds();
  const judged = replay(profilesOf(run), modelDetector(thresholds));
  const svg = renderSvg(
    run,
    judged,
    ratios(judged, thresholds),
    `mote ${o.mote} (${series.indoor ? 'indoor' : 'outdoor'}), ${o.window} s windows, seed ${o.seed}`,
  );
  mkdirSync(dirname(o.out), { recursive: true });
  writeFileSync(o.out, svg);
  const flagged = judged.filter((j) => j.judgement.discrepancyStatus).length;
  const faulty = run.windows.filter((w) => w.faulty).length;
  const caught = judged.filter((j, i) => j.judgement.discrepancyStatus && run.windows[i]?.faulty).length;
  return {
    text: `wrote ${o.out}: mote ${o.mote}, ${run.windows.length} windows, ${episodes.length} episodes (${episodes.map((e) => e.type).join(', ')}), ${flagged} flagged, ${caught}/${faulty} faulty windows caught`,
    json: { plot: 'traffic', out: o.out, mote: o.mote, windows: run.windows.length, episodes: episodes.length, flagged, faulty, caught },
  };
}

interface Panel {
  readonly title: string;
  readonly lines: { label: string; colour: string; ys: (number | undefined)[] }[];
  readonly band?: { lo: (number | undefined)[]; hi: (number | undefined)[] };
  readonly refLine?: number;
}

const W = 1000;
const LEFT = 70;
const RIGHT = 20;
const PANEL_H = 110;
const GAP = 34;
const TOP = 64;

/** Renders the run as SVG text (pure; exported for tests). */
export function renderSvg(run: SimRun, judged: readonly JudgedWindow[], ratio: readonly (number | undefined)[], caption: string): string {
  const n = judged.length;
  const f = (name: string): (number | undefined)[] => judged.map((j) => j.profile.features[name]);
  const panels: Panel[] = [
    {
      title: 'temperature °C (mean, min–max band)',
      lines: [{ label: 'mean', colour: '#c0392b', ys: f('ch.temperature.mean') }],
      band: { lo: f('ch.temperature.min'), hi: f('ch.temperature.max') },
    },
    {
      title: 'humidity %RH (mean, min–max band)',
      lines: [{ label: 'mean', colour: '#2471a3', ys: f('ch.humidity.mean') }],
      band: { lo: f('ch.humidity.min'), hi: f('ch.humidity.max') },
    },
    { title: 'readings per minute', lines: [{ label: 'rate', colour: '#117a65', ys: f('rate') }] },
    { title: 'battery mV (mean)', lines: [{ label: 'battery', colour: '#7d3c98', ys: f('battery.mean') }] },
    {
      title: 'largest δ / threshold (clipped at 5; flag above 1)',
      lines: [{ label: 'δ/t', colour: '#333', ys: ratio.map((r) => (r === undefined ? undefined : Math.min(r, 5))) }],
      refLine: 1,
    },
  ];
  const height = TOP + panels.length * (PANEL_H + GAP) + 30;
  const x = (i: number): number => LEFT + ((W - LEFT - RIGHT) * (i + 0.5)) / Math.max(1, n);
  const colW = (W - LEFT - RIGHT) / Math.max(1, n);
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${height}" viewBox="0 0 ${W} ${height}" font-family="sans-serif" font-size="11">`,
  );
  out.push(`<rect width="${W}" height="${height}" fill="#fff"/>`);
  out.push(`<text x="${LEFT}" y="18" font-size="14" font-weight="bold">Traffic profile with flags: ${esc(caption)}</text>`);
  out.push(
    `<text x="${LEFT}" y="34" fill="#555">grey: injected fault episode (type above), red tick: window flagged by the model (traffic_proven = false)</text>`,
  );
  const plotTop = TOP;
  const plotBottom = TOP + panels.length * (PANEL_H + GAP) - GAP;
  run.episodes.forEach((ep, k) => {
    const x0 = LEFT + ep.start * colW;
    out.push(
      `<rect x="${x0.toFixed(1)}" y="${plotTop}" width="${((ep.end - ep.start) * colW).toFixed(1)}" height="${plotBottom - plotTop}" fill="#000" fill-opacity="0.08"/>`,
    );
    // Alternate two label rows so neighbouring episode names do not overlap.
    out.push(`<text x="${(x0 + 2).toFixed(1)}" y="${plotTop - 3 - (k % 2) * 11}" font-size="10" fill="#444">${esc(ep.type)}</text>`);
  });
  judged.forEach((j, i) => {
    if (j.judgement.discrepancyStatus) {
      out.push(
        `<rect x="${(LEFT + i * colW).toFixed(1)}" y="${plotBottom + 4}" width="${Math.max(1, colW - 1).toFixed(1)}" height="8" fill="#e74c3c"/>`,
      );
    }
  });
  panels.forEach((p, k) => {
    const top = TOP + k * (PANEL_H + GAP);
    const vals: number[] = [];
    for (const l of p.lines) for (const v of l.ys) if (v !== undefined) vals.push(v);
    if (p.band) for (const v of [...p.band.lo, ...p.band.hi]) if (v !== undefined) vals.push(v);
    if (p.refLine !== undefined) vals.push(p.refLine, 0);
    let lo = vals.length > 0 ? Math.min(...vals) : 0;
    let hi = vals.length > 0 ? Math.max(...vals) : 1;
    if (hi - lo < 1e-9) {
      hi += 1;
      lo -= 1;
    }
    const y = (v: number): number => top + PANEL_H - ((v - lo) / (hi - lo)) * PANEL_H;
    out.push(`<rect x="${LEFT}" y="${top}" width="${W - LEFT - RIGHT}" height="${PANEL_H}" fill="none" stroke="#bbb"/>`);
    out.push(`<text x="${LEFT + 4}" y="${top + 12}" fill="#222">${esc(p.title)}</text>`);
    out.push(`<text x="${LEFT - 4}" y="${top + 10}" text-anchor="end" fill="#555">${fmt(hi)}</text>`);
    out.push(`<text x="${LEFT - 4}" y="${top + PANEL_H}" text-anchor="end" fill="#555">${fmt(lo)}</text>`);
    if (p.band) {
      const { lo: bl, hi: bh } = p.band;
      const pts: string[] = [];
      for (let i = 0; i < n; i++) if (bh[i] !== undefined) pts.push(`${x(i).toFixed(1)},${y(bh[i] as number).toFixed(1)}`);
      for (let i = n - 1; i >= 0; i--) if (bl[i] !== undefined) pts.push(`${x(i).toFixed(1)},${y(bl[i] as number).toFixed(1)}`);
      if (pts.length > 2) out.push(`<polygon points="${pts.join(' ')}" fill="#999" fill-opacity="0.25" stroke="none"/>`);
    }
    if (p.refLine !== undefined) {
      out.push(
        `<line x1="${LEFT}" x2="${W - RIGHT}" y1="${y(p.refLine).toFixed(1)}" y2="${y(p.refLine).toFixed(1)}" stroke="#e74c3c" stroke-dasharray="4 3"/>`,
      );
    }
    for (const l of p.lines) {
      const pts: string[] = [];
      l.ys.forEach((v, i) => {
        if (v !== undefined) pts.push(`${x(i).toFixed(1)},${y(v).toFixed(1)}`);
      });
      out.push(`<polyline points="${pts.join(' ')}" fill="none" stroke="${l.colour}" stroke-width="1.4"/>`);
    }
  });
  out.push(
    `<text x="${LEFT}" y="${height - 8}" fill="#555">window index (0–${n - 1}); first ${MIN_HISTORY} windows are learnt from without judgement</text>`,
  );
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

/**
 * Largest δ/t of each window under the same history the judge saw (undefined during warm-up):
 * the judgement lists only what tripped, the plot also shows how close the rest came.
 */
export function ratios(judged: readonly JudgedWindow[], thresholds: Thresholds): (number | undefined)[] {
  const accepted: TrafficProfile[] = [];
  return judged.map((j) => {
    const history = accepted.slice(-MODEL_HISTORY);
    if (j.judgement.trafficProven) accepted.push(j.profile);
    if (history.length < MIN_HISTORY) return undefined;
    let r = 0;
    for (const d of deltas(learnModel(history), j.profile)) r = Math.max(r, d.delta / thresholdFor(thresholds, d.feature));
    return r;
  });
}

function fmt(v: number): string {
  return Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(2);
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

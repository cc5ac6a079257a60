/**
 * Small, dependency-free SVG charts for the benchmark and evaluation figures: line charts (the
 * traffic sweep's F1 curves, the paper's Fig. 7 and 9, latency CDFs; linear or log axes, points
 * without lines for reference values) and stacked bars (Fig. 8's response-time stages). Pure:
 * returns the SVG text; bench/plot/png.ts renders it to PNG.
 */

/** One line of a chart: points (x, y); y null leaves a gap. */
export interface Series {
  readonly name: string;
  readonly points: readonly (readonly [number, number | null])[];
  /** Stroke colour; default from the palette by position. */
  readonly colour?: string;
  readonly dashed?: boolean;
  /** Draw the points only (no line), larger and hollow: reference values such as a paper's. */
  readonly markersOnly?: boolean;
}

/** A line chart. */
export interface LineChart {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly Series[];
  /** Axis ranges; default: the data's (y from 0 when all y ≥ 0). */
  readonly x?: readonly [number, number];
  readonly y?: readonly [number, number];
  /** x tick values (default: the distinct x of the data). */
  readonly xTicks?: readonly number[];
  /** Log-scale x axis (base 2 spacing). */
  readonly logX?: boolean;
  /** Log-scale y axis (decades); every y must be > 0. */
  readonly logY?: boolean;
  /** Horizontal reference lines (e.g. a target). */
  readonly refs?: readonly { readonly y: number; readonly label: string }[];
  readonly width?: number;
  readonly height?: number;
}

/** A colour-blind-safe palette (Okabe–Ito, then greys). */
export const PALETTE = [
  '#0072B2',
  '#D55E00',
  '#009E73',
  '#CC79A7',
  '#E69F00',
  '#56B4E9',
  '#000000',
  '#F0E442',
  '#7f7f7f',
  '#8c564b',
  '#9467bd',
  '#bcbd22',
];

/** Renders a line chart as SVG text. */
export function lineChart(c: LineChart): string {
  const W = c.width ?? 640;
  const H = c.height ?? 380;
  const L = 56;
  // The legend's column: wide enough for the longest series name (~6.2 px per character at 11 px).
  const R = Math.max(150, 45 + Math.ceil(Math.max(0, ...c.series.map((q) => q.name.length)) * 6.2));
  const T = 34;
  const B = 46;
  const xs: number[] = [];
  const ys: number[] = [];
  for (const s of c.series) {
    for (const [x, y] of s.points) {
      xs.push(x);
      if (y !== null) ys.push(y);
    }
  }
  if (xs.length === 0) xs.push(0, 1);
  const fx = (v: number): number => (c.logX ? Math.log2(v) : v);
  const fy = (v: number): number => (c.logY ? Math.log10(v) : v);
  if (c.logY && ys.some((v) => !(v > 0))) throw new RangeError(`${c.title}: a log y axis needs every y > 0`);
  const [x0, x1] = c.x ?? [Math.min(...xs), Math.max(...xs)];
  const [y0, y1] =
    c.y ??
    (c.logY
      ? [10 ** Math.floor(Math.log10(Math.min(...ys, 1))), 10 ** Math.ceil(Math.log10(Math.max(...ys, 1)))]
      : [ys.every((v) => v >= 0) ? 0 : Math.min(...ys), niceMax(Math.max(...ys, ...(c.refs ?? []).map((r) => r.y), 1e-9))]);
  const sx = (v: number): number => L + ((fx(v) - fx(x0)) / (fx(x1) - fx(x0) || 1)) * (W - L - R);
  const sy = (v: number): number => T + (1 - (fy(v) - fy(y0)) / (fy(y1) - fy(y0) || 1)) * (H - T - B);
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`,
  );
  out.push(`<rect width="${W}" height="${H}" fill="#fff"/>`);
  out.push(`<text x="${L}" y="18" font-size="13" font-weight="bold">${esc(c.title)}</text>`);
  out.push(`<rect x="${L}" y="${T}" width="${W - L - R}" height="${H - T - B}" fill="none" stroke="#999"/>`);
  const ticks = c.xTicks ?? [...new Set(xs)].sort((a, b) => a - b);
  for (const t of ticks) {
    out.push(`<line x1="${f(sx(t))}" x2="${f(sx(t))}" y1="${H - B}" y2="${H - B + 4}" stroke="#999"/>`);
    out.push(`<text x="${f(sx(t))}" y="${H - B + 16}" text-anchor="middle" fill="#333">${esc(String(t))}</text>`);
  }
  const yTicks = c.logY
    ? Array.from({ length: Math.round(Math.log10(y1 / y0)) + 1 }, (_, k) => y0 * 10 ** k)
    : Array.from({ length: 6 }, (_, k) => y0 + ((y1 - y0) * k) / 5);
  for (const v of yTicks) {
    out.push(`<line x1="${L}" x2="${W - R}" y1="${f(sy(v))}" y2="${f(sy(v))}" stroke="#eee"/>`);
    out.push(`<text x="${L - 6}" y="${f(sy(v) + 4)}" text-anchor="end" fill="#333">${esc(trim(v))}</text>`);
  }
  for (const r of c.refs ?? []) {
    out.push(`<line x1="${L}" x2="${W - R}" y1="${f(sy(r.y))}" y2="${f(sy(r.y))}" stroke="#c00" stroke-dasharray="5 4"/>`);
    out.push(`<text x="${W - R - 4}" y="${f(sy(r.y) - 4)}" text-anchor="end" fill="#c00">${esc(r.label)}</text>`);
  }
  out.push(`<text x="${(L + W - R) / 2}" y="${H - 10}" text-anchor="middle" fill="#222">${esc(c.xLabel)}</text>`);
  out.push(`<text transform="translate(14 ${(T + H - B) / 2}) rotate(-90)" text-anchor="middle" fill="#222">${esc(c.yLabel)}</text>`);
  c.series.forEach((s, i) => {
    const colour = s.colour ?? (PALETTE[i % PALETTE.length] as string);
    const segs: string[][] = [[]];
    for (const [x, y] of s.points) {
      if (y === null) segs.push([]);
      else (segs[segs.length - 1] as string[]).push(`${f(sx(x))},${f(sy(y))}`);
    }
    for (const pts of segs) {
      if (s.markersOnly) {
        for (const p of pts) {
          const [px, py] = p.split(',');
          out.push(`<circle cx="${px}" cy="${py}" r="4.5" fill="none" stroke="${colour}" stroke-width="2"/>`);
        }
        continue;
      }
      if (pts.length > 1) {
        out.push(
          `<polyline points="${pts.join(' ')}" fill="none" stroke="${colour}" stroke-width="1.8"${s.dashed ? ' stroke-dasharray="6 3"' : ''}/>`,
        );
      }
      for (const p of pts) {
        const [px, py] = p.split(',');
        out.push(`<circle cx="${px}" cy="${py}" r="2.4" fill="${colour}"/>`);
      }
    }
    const ly = T + 10 + i * 15;
    out.push(
      s.markersOnly
        ? `<circle cx="${W - R + 20}" cy="${ly}" r="4.5" fill="none" stroke="${colour}" stroke-width="2"/>`
        : `<line x1="${W - R + 10}" x2="${W - R + 30}" y1="${ly}" y2="${ly}" stroke="${colour}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 3"' : ''}/>`,
    );
    out.push(`<text x="${W - R + 35}" y="${ly + 4}" fill="#222">${esc(s.name)}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

/** One group of stacked bars: a category (x label) and one value per stack layer. */
export interface BarGroup {
  readonly label: string;
  readonly values: readonly number[];
  /** Markers drawn over the bar (e.g. a p99 beside a stacked mean). */
  readonly marks?: readonly { readonly value: number; readonly label: string }[];
}

/** A stacked bar chart (one bar per group, one layer per named stack). */
export interface StackedBarChart {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  /** Layer names, bottom first. */
  readonly stacks: readonly string[];
  readonly groups: readonly BarGroup[];
  readonly refs?: readonly { readonly y: number; readonly label: string }[];
  readonly width?: number;
  readonly height?: number;
}

/** Renders a stacked bar chart as SVG text. */
export function stackedBarChart(c: StackedBarChart): string {
  const W = c.width ?? 640;
  const H = c.height ?? 380;
  const L = 56;
  const R = Math.max(150, 45 + Math.ceil(Math.max(0, ...c.stacks.map((q) => q.length)) * 6.2));
  const T = 34;
  const B = 46;
  const tops = c.groups.flatMap((g) => [g.values.reduce((a, b) => a + b, 0), ...(g.marks ?? []).map((m) => m.value)]);
  const y1 = niceMax(Math.max(...tops, ...(c.refs ?? []).map((r) => r.y), 1e-9));
  const sy = (v: number): number => T + (1 - v / y1) * (H - T - B);
  const slot = (W - L - R) / Math.max(1, c.groups.length);
  const bw = Math.min(48, slot * 0.6);
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`,
  );
  out.push(`<rect width="${W}" height="${H}" fill="#fff"/>`);
  out.push(`<text x="${L}" y="18" font-size="13" font-weight="bold">${esc(c.title)}</text>`);
  for (let k = 0; k <= 5; k++) {
    const v = (y1 * k) / 5;
    out.push(`<line x1="${L}" x2="${W - R}" y1="${f(sy(v))}" y2="${f(sy(v))}" stroke="#eee"/>`);
    out.push(`<text x="${L - 6}" y="${f(sy(v) + 4)}" text-anchor="end" fill="#333">${esc(trim(v))}</text>`);
  }
  out.push(`<rect x="${L}" y="${T}" width="${W - L - R}" height="${H - T - B}" fill="none" stroke="#999"/>`);
  c.groups.forEach((g, i) => {
    const cx = L + slot * (i + 0.5);
    let base = 0;
    g.values.forEach((v, k) => {
      const colour = PALETTE[k % PALETTE.length] as string;
      out.push(
        `<rect x="${f(cx - bw / 2)}" y="${f(sy(base + v))}" width="${f(bw)}" height="${f(Math.max(0, sy(base) - sy(base + v)))}" fill="${colour}"/>`,
      );
      base += v;
    });
    for (const m of g.marks ?? []) {
      out.push(
        `<line x1="${f(cx - bw / 2 - 4)}" x2="${f(cx + bw / 2 + 4)}" y1="${f(sy(m.value))}" y2="${f(sy(m.value))}" stroke="#000" stroke-width="1.5"/>`,
      );
      out.push(`<text x="${f(cx + bw / 2 + 6)}" y="${f(sy(m.value) + 4)}" fill="#000">${esc(m.label)}</text>`);
    }
    out.push(`<text x="${f(cx)}" y="${H - B + 16}" text-anchor="middle" fill="#333">${esc(g.label)}</text>`);
  });
  for (const r of c.refs ?? []) {
    out.push(`<line x1="${L}" x2="${W - R}" y1="${f(sy(r.y))}" y2="${f(sy(r.y))}" stroke="#c00" stroke-dasharray="5 4"/>`);
    out.push(`<text x="${W - R - 4}" y="${f(sy(r.y) - 4)}" text-anchor="end" fill="#c00">${esc(r.label)}</text>`);
  }
  out.push(`<text x="${(L + W - R) / 2}" y="${H - 10}" text-anchor="middle" fill="#222">${esc(c.xLabel)}</text>`);
  out.push(`<text transform="translate(14 ${(T + H - B) / 2}) rotate(-90)" text-anchor="middle" fill="#222">${esc(c.yLabel)}</text>`);
  c.stacks.forEach((name, k) => {
    const ly = T + 10 + k * 15;
    out.push(`<rect x="${W - R + 10}" y="${ly - 5}" width="20" height="10" fill="${PALETTE[k % PALETTE.length] as string}"/>`);
    out.push(`<text x="${W - R + 35}" y="${ly + 4}" fill="#222">${esc(name)}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

/** Bars side by side: per category (x label) one bar per named series (the crypto benchmark's ours vs. the peer's). */
export interface GroupedBarChart {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  /** Series names, one bar each per category. */
  readonly series: readonly string[];
  /** Categories with one value per series (null: no bar). */
  readonly groups: readonly { readonly label: string; readonly values: readonly (number | null)[] }[];
  /** Log-scale y axis (decades); every value must be > 0. */
  readonly logY?: boolean;
  /** Print each bar's value above it. */
  readonly labels?: boolean;
  readonly width?: number;
  readonly height?: number;
}

/** Renders a grouped bar chart as SVG text. */
export function groupedBarChart(c: GroupedBarChart): string {
  const W = c.width ?? 640;
  const H = c.height ?? 380;
  const L = 56;
  const R = Math.max(150, 45 + Math.ceil(Math.max(0, ...c.series.map((q) => q.length)) * 6.2));
  const T = 34;
  const B = 46;
  const vals = c.groups.flatMap((g) => g.values.filter((v): v is number => v !== null));
  if (c.logY && vals.some((v) => !(v > 0))) throw new RangeError(`${c.title}: a log y axis needs every value > 0`);
  const [y0, y1] = c.logY
    ? [10 ** Math.floor(Math.log10(Math.min(...vals, 1))), 10 ** Math.ceil(Math.log10(Math.max(...vals, 1)))]
    : [0, niceMax(Math.max(...vals, 1e-9))];
  const fy = (v: number): number => (c.logY ? Math.log10(v) : v);
  const sy = (v: number): number => T + (1 - (fy(v) - fy(y0)) / (fy(y1) - fy(y0) || 1)) * (H - T - B);
  const slot = (W - L - R) / Math.max(1, c.groups.length);
  const bw = Math.min(32, (slot * 0.8) / Math.max(1, c.series.length));
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`,
  );
  out.push(`<rect width="${W}" height="${H}" fill="#fff"/>`);
  out.push(`<text x="${L}" y="18" font-size="13" font-weight="bold">${esc(c.title)}</text>`);
  const yTicks = c.logY
    ? Array.from({ length: Math.round(Math.log10(y1 / y0)) + 1 }, (_, k) => y0 * 10 ** k)
    : Array.from({ length: 6 }, (_, k) => (y1 * k) / 5);
  for (const v of yTicks) {
    out.push(`<line x1="${L}" x2="${W - R}" y1="${f(sy(v))}" y2="${f(sy(v))}" stroke="#eee"/>`);
    out.push(`<text x="${L - 6}" y="${f(sy(v) + 4)}" text-anchor="end" fill="#333">${esc(trim(v))}</text>`);
  }
  out.push(`<rect x="${L}" y="${T}" width="${W - L - R}" height="${H - T - B}" fill="none" stroke="#999"/>`);
  c.groups.forEach((g, i) => {
    const cx = L + slot * (i + 0.5);
    g.values.forEach((v, k) => {
      if (v === null) return;
      const x = cx - (bw * c.series.length) / 2 + k * bw;
      out.push(
        `<rect x="${f(x)}" y="${f(sy(v))}" width="${f(bw * 0.92)}" height="${f(Math.max(0, sy(y0) - sy(v)))}" fill="${PALETTE[k % PALETTE.length] as string}"/>`,
      );
      if (c.labels)
        out.push(`<text x="${f(x + bw * 0.46)}" y="${f(sy(v) - 3)}" text-anchor="middle" font-size="9" fill="#222">${esc(trim(v))}</text>`);
    });
    out.push(`<text x="${f(cx)}" y="${H - B + 16}" text-anchor="middle" fill="#333">${esc(g.label)}</text>`);
  });
  out.push(`<text x="${(L + W - R) / 2}" y="${H - 10}" text-anchor="middle" fill="#222">${esc(c.xLabel)}</text>`);
  out.push(`<text transform="translate(14 ${(T + H - B) / 2}) rotate(-90)" text-anchor="middle" fill="#222">${esc(c.yLabel)}</text>`);
  c.series.forEach((name, k) => {
    const ly = T + 10 + k * 15;
    out.push(`<rect x="${W - R + 10}" y="${ly - 5}" width="20" height="10" fill="${PALETTE[k % PALETTE.length] as string}"/>`);
    out.push(`<text x="${W - R + 35}" y="${ly + 4}" fill="#222">${esc(name)}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

/** The smallest 1, 2, 2.5 or 5 × 10^k at or above v (a round top for a linear axis). */
export function niceMax(v: number): number {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v * (1 - 1e-9)) return m * p;
  return 10 * p;
}

function f(v: number): string {
  return v.toFixed(1);
}

function trim(v: number): string {
  if (Math.abs(v) >= 1e6) return `${Math.round(v / 1e5) / 10}M`;
  if (Math.abs(v) >= 1e4) return `${Math.round(v / 100) / 10}k`;
  return Math.abs(v) >= 100 ? v.toFixed(0) : String(Math.round(v * 1000) / 1000);
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * A small, dependency-free SVG line chart for the benchmark and evaluation figures (the traffic
 * sweep's F1 curves; reusable by the paper's figures). Pure: returns the SVG text.
 */

/** One line of a chart: points (x, y); y null leaves a gap. */
export interface Series {
  readonly name: string;
  readonly points: readonly (readonly [number, number | null])[];
  /** Stroke colour; default from the palette by position. */
  readonly colour?: string;
  readonly dashed?: boolean;
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
  const R = 150;
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
  const fx = (v: number): number => (c.logX ? Math.log2(v) : v);
  const [x0, x1] = c.x ?? [Math.min(...xs), Math.max(...xs)];
  const [y0, y1] = c.y ?? [ys.every((v) => v >= 0) ? 0 : Math.min(...ys), Math.max(...ys, 1e-9)];
  const sx = (v: number): number => L + ((fx(v) - fx(x0)) / (fx(x1) - fx(x0) || 1)) * (W - L - R);
  const sy = (v: number): number => T + (1 - (v - y0) / (y1 - y0 || 1)) * (H - T - B);
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
  for (let k = 0; k <= 5; k++) {
    const v = y0 + ((y1 - y0) * k) / 5;
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
      `<line x1="${W - R + 10}" x2="${W - R + 30}" y1="${ly}" y2="${ly}" stroke="${colour}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 3"' : ''}/>`,
    );
    out.push(`<text x="${W - R + 35}" y="${ly + 4}" fill="#222">${esc(s.name)}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

function f(v: number): string {
  return v.toFixed(1);
}

function trim(v: number): string {
  return Math.abs(v) >= 100 ? v.toFixed(0) : String(Math.round(v * 100) / 100);
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

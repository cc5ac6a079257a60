/**
 * The traffic-profile chart of a device, as inline SVG rendered on the server: one bar per judged
 * window (its reading rate, readings per minute), flagged windows in red with the flagged
 * features in the bar's tooltip, and the mean of a channel (when present) as a line on its own
 * scale. No charting library: a few dozen rectangles and a polyline.
 */
import { esc } from './html.js';

/** One judged window as the edge API returns it. */
export interface WindowPoint {
  readonly window: number;
  readonly windowStart: number;
  readonly trafficProven: boolean;
  readonly discrepancyStatus: boolean;
  readonly flagged: readonly { feature: string; delta: number; threshold: number }[];
  readonly features: Readonly<Record<string, number>>;
}

/** The SVG (empty-state text when there is no window yet). */
export function trafficChart(windows: readonly WindowPoint[], width = 900, height = 220): string {
  if (windows.length === 0) return '<p class="muted">No traffic window judged yet (one per traffic.windowSeconds).</p>';
  const pad = { l: 44, r: 44, t: 14, b: 28 };
  const w = width - pad.l - pad.r;
  const h = height - pad.t - pad.b;
  const rates = windows.map((x) => x.features['rate'] ?? 0);
  const maxRate = Math.max(1, ...rates) * 1.1;
  const meanKey = Object.keys(windows[windows.length - 1]?.features ?? {}).find((k) => /^ch\d+\.mean$/.test(k) || /mean$/.test(k));
  const means = meanKey ? windows.map((x) => x.features[meanKey]) : [];
  const finite = means.filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  const lo = finite.length ? Math.min(...finite) : 0;
  const hi = finite.length ? Math.max(...finite) : 1;
  const span = hi - lo || 1;
  const bw = w / windows.length;
  const bars = windows
    .map((x, i) => {
      const r = rates[i] ?? 0;
      const bh = (r / maxRate) * h;
      const title = `window ${x.window}: ${r.toFixed(1)} readings/min${
        x.discrepancyStatus ? ` — FLAGGED: ${x.flagged.map((f) => `${f.feature} δ=${f.delta.toFixed(2)} > ${f.threshold}`).join(', ')}` : ''
      }`;
      return `<rect class="${x.discrepancyStatus ? 'flagged' : 'ok'}" x="${(pad.l + i * bw + 1).toFixed(1)}" y="${(pad.t + h - bh).toFixed(1)}" width="${Math.max(1, bw - 2).toFixed(1)}" height="${bh.toFixed(1)}" fill="${x.discrepancyStatus ? '#c62828' : '#7f9bd1'}"><title>${esc(title)}</title></rect>`;
    })
    .join('');
  const line =
    finite.length > 1
      ? `<polyline fill="none" stroke="#1a7f37" stroke-width="1.5" points="${means
          .map((v, i) =>
            typeof v === 'number' && Number.isFinite(v)
              ? `${(pad.l + (i + 0.5) * bw).toFixed(1)},${(pad.t + h - ((v - lo) / span) * h).toFixed(1)}`
              : '',
          )
          .filter(Boolean)
          .join(' ')}"><title>${esc(meanKey ?? '')}</title></polyline>
         <text x="${width - pad.r + 4}" y="${pad.t + 10}" class="axis" fill="#1a7f37">${esc(hi.toFixed(1))}</text>
         <text x="${width - pad.r + 4}" y="${pad.t + h}" class="axis" fill="#1a7f37">${esc(lo.toFixed(1))}</text>`
      : '';
  const flaggedCount = windows.filter((x) => x.discrepancyStatus).length;
  return `<svg class="chart" role="img" aria-label="traffic profile: ${windows.length} windows, ${flaggedCount} flagged" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-size="11" font-family="system-ui, sans-serif">
  <line x1="${pad.l}" y1="${pad.t + h}" x2="${pad.l + w}" y2="${pad.t + h}" stroke="#999"/>
  <text x="4" y="${pad.t + 10}" fill="#555">${maxRate.toFixed(0)}/min</text><text x="4" y="${pad.t + h}" fill="#555">0</text>
  ${bars}${line}
  <text x="${pad.l}" y="${height - 8}" fill="#555">window ${windows[0]?.window ?? ''}</text>
  <text x="${pad.l + w}" y="${height - 8}" fill="#555" text-anchor="end">window ${windows[windows.length - 1]?.window ?? ''} · bars: rate (red: flagged)${meanKey ? ` · line: ${esc(meanKey)}` : ''}</text>
</svg>`;
}

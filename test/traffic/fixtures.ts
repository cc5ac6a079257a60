/**
 * Shared helpers for the traffic tests: windows of a steady synthetic device, built by hand so
 * expected feature values can be computed on paper.
 */
import type { Arrival, WindowInput } from '../../shared/traffic/features.js';

/** A steady device: 30 readings per 150 s window, 5 s apart, gentle sine-free wobble. */
export function steadyWindow(w: number, opts: { n?: number; periodMs?: number; offset?: number } = {}): WindowInput {
  const n = opts.n ?? 30;
  const period = opts.periodMs ?? 5_000;
  const arrivals: Arrival[] = [];
  for (let i = 0; i < n; i++) {
    const k = w * n + i;
    arrivals.push({
      seq: k,
      t: 1_000_000 + k * period,
      receivedAt: 1_000_000 + k * period + 40,
      values: { temperature: 25 + 0.01 * ((k * 7) % 5) + (opts.offset ?? 0), humidity: 50 + 0.05 * ((k * 3) % 7) },
      batteryMv: 3000 - Math.floor(k / 200),
    });
  }
  return { windowStart: 1_000_000 + w * n * period, windowEnd: 1_000_000 + (w + 1) * n * period, arrivals, frameErrors: 0, duplicates: 0 };
}

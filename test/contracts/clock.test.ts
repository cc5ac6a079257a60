/**
 * The ledger's time rules as pure functions (ledger-bridge/contracts/logic/clock.ts): checkNotAhead,
 * which DataProvenance applies to every reading (CLOCK_AHEAD, stateless), and checkTimeOrder, the
 * "t non-decreasing in seq per device" rule for the contract that keeps per-device state. The
 * CLOCK_AHEAD rule on the embedded ledger with the built firmware: test/firmware/trust-board.test.ts.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  checkNotAhead,
  checkTimeOrder,
  clockSkewOf,
  DEFAULT_CLOCK_SKEW_MS,
  MAX_CLOCK_SKEW_MS,
} from '../../ledger-bridge/contracts/logic/clock.js';
import { parseConfigureInput } from '../../ledger-bridge/contracts/logic/registration.js';

describe('checkNotAhead: t at most the skew ahead of the commit time', () => {
  it('accepts t up to commit + skew, any amount behind; refuses beyond with CLOCK_AHEAD naming device, seq and the lead', () => {
    expect(checkNotAhead('d', 1, 1_000, 1_000, 0)).toEqual({ ok: true });
    expect(checkNotAhead('d', 1, 1_500, 1_000, 500)).toEqual({ ok: true });
    expect(checkNotAhead('d', 1, 0, 1_000_000, 0)).toEqual({ ok: true });
    const v = checkNotAhead('dev-7', 42, 1_501, 1_000, 500);
    expect(v).toMatchObject({ ok: false, reason: 'CLOCK_AHEAD' });
    if (!v.ok) expect(v.message).toMatch(/dev-7 seq 42: t 1501 is 501 ms ahead of the commit time 1000 \(allowed skew 500 ms\)/);
  });
  it('is exactly t <= commit + skew (property)', () => {
    fc.assert(
      fc.property(
        fc.maxSafeNat(),
        fc.integer({ min: 0, max: 2 ** 50 }),
        fc.integer({ min: 0, max: MAX_CLOCK_SKEW_MS }),
        (t, commit, skew) => {
          expect(checkNotAhead('d', 0, t, commit, skew).ok).toBe(t <= commit + skew);
        },
      ),
    );
  });
  it('the skew comes from the ledger config (default 5 min, 0..1 day)', () => {
    expect(clockSkewOf({})).toBe(DEFAULT_CLOCK_SKEW_MS);
    expect(clockSkewOf({ clockSkewMs: 1234 })).toBe(1234);
    const base = { issuerPk: 'ab'.repeat(96), schema: ['deviceId', 'site'], policies: [] };
    expect(parseConfigureInput(JSON.stringify(base)).clockSkewMs).toBe(DEFAULT_CLOCK_SKEW_MS);
    expect(parseConfigureInput(JSON.stringify({ ...base, clockSkewMs: 60_000 })).clockSkewMs).toBe(60_000);
    for (const bad of [-1, 1.5, MAX_CLOCK_SKEW_MS + 1, '60000']) {
      expect(() => parseConfigureInput(JSON.stringify({ ...base, clockSkewMs: bad }))).toThrow(/clockSkewMs/);
    }
  });
});

describe('checkTimeOrder: t non-decreasing in seq per device', () => {
  it('accepts t between its recorded neighbours, equal included, and with none', () => {
    expect(checkTimeOrder('d', 5, 100)).toEqual({ ok: true });
    expect(checkTimeOrder('d', 5, 100, { seq: 4, t: 100 }, { seq: 9, t: 100 })).toEqual({ ok: true });
    expect(checkTimeOrder('d', 5, 150, { seq: 1, t: 100 }, { seq: 6, t: 200 })).toEqual({ ok: true });
  });
  it('refuses a t earlier than a lower seq (the refill of a dropped window) or later than a higher seq', () => {
    const back = checkTimeOrder('dev-1', 10, 99, { seq: 9, t: 100 });
    expect(back).toMatchObject({ ok: false, reason: 'CLOCK_BACKWARDS' });
    if (!back.ok) expect(back.message).toMatch(/dev-1 seq 10: t 99 is earlier than t 100 of seq 9/);
    expect(checkTimeOrder('dev-1', 10, 201, undefined, { seq: 11, t: 200 })).toMatchObject({ ok: false, reason: 'CLOCK_BACKWARDS' });
  });
  it('refuses neighbours that are not below and above the seq (a caller bug)', () => {
    expect(checkTimeOrder('d', 5, 1, { seq: 5, t: 0 })).toMatchObject({ ok: false, reason: 'MALFORMED' });
    expect(checkTimeOrder('d', 5, 1, undefined, { seq: 4, t: 9 })).toMatchObject({ ok: false, reason: 'MALFORMED' });
  });
  it('over any recorded history, accepting a reading keeps the history sorted by t in seq order (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 0, max: 10_000 })), { maxLength: 40 }),
        (arrivals) => {
          const recorded = new Map<number, number>();
          for (const [seq, t] of arrivals) {
            if (recorded.has(seq)) continue;
            const lower = [...recorded.keys()].filter((s) => s < seq);
            const higher = [...recorded.keys()].filter((s) => s > seq);
            const below = lower.length ? { seq: Math.max(...lower), t: recorded.get(Math.max(...lower)) as number } : undefined;
            const above = higher.length ? { seq: Math.min(...higher), t: recorded.get(Math.min(...higher)) as number } : undefined;
            if (checkTimeOrder('d', seq, t, below, above).ok) recorded.set(seq, t);
          }
          const ts = [...recorded.entries()].sort((a, b) => a[0] - b[0]).map((e) => e[1]);
          for (let i = 1; i < ts.length; i++) expect(ts[i]).toBeGreaterThanOrEqual(ts[i - 1] as number);
        },
      ),
    );
  });
});

/**
 * The cumulative ACK point never covers a reading the edge has not accounted for (the board would
 * free it from its ring and it would be lost), and it reaches the top once everything arrived.
 * Property tests over random arrival orders and losses; plus the token bucket.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { AckTracker } from '../../edge-runtime/src/session/ack-tracker.js';
import { TokenBucket } from '../../edge-runtime/src/session/token-bucket.js';

describe('AckTracker', () => {
  it('never acknowledges past a reading that has not arrived; acknowledges everything once all did', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1000 }), // first seq after HELLO
        fc.integer({ min: 0, max: 8 }), // ring entries from before the HELLO
        fc.integer({ min: 0, max: 30 }), // readings after the HELLO
        fc.array(fc.integer(), { minLength: 40, maxLength: 40 }), // shuffle keys
        fc.array(fc.boolean(), { minLength: 40, maxLength: 40 }), // lost on the first try
        (first, pending, after, keys, lost) => {
          const before = Array.from({ length: pending }, (_, i) => first - 1 - 3 * (pending - i)); // with skip-ahead gaps
          const seqs = [...before.filter((s) => s >= 0), ...Array.from({ length: after }, (_, i) => first + i)];
          const order = seqs
            .map((s, i) => ({ s, k: keys[i] ?? 0 }))
            .sort((a, b) => a.k - b.k)
            .map((x) => x.s);
          const t = new AckTracker(first, seqs.filter((s) => s < first).length);
          const arrived = new Set<number>();
          const check = (): void => {
            const p = t.ackPoint;
            if (p === undefined) return;
            for (const s of seqs) if (s <= p) expect(arrived.has(s)).toBe(true);
          };
          order.forEach((s, i) => {
            if (lost[i]) return; // lost on the line: the board will resend it
            arrived.add(s);
            t.account(s);
            check();
          });
          for (const s of order) {
            if (!arrived.has(s)) {
              arrived.add(s);
              t.account(s);
              check();
            }
          }
          if (after > 0) expect(t.ackPoint).toBe(first + after - 1);
          else if (seqs.length > 0 || first > 0) expect(t.ackPoint).toBe(first - 1);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('reports movement only when the point moves', () => {
    const t = new AckTracker(10, 0);
    expect(t.ackPoint).toBe(9);
    expect(t.account(11)).toBeUndefined();
    expect(t.waiting).toBe(1);
    expect(t.account(10)).toBe(11);
    expect(t.account(10)).toBeUndefined();
  });
});

describe('TokenBucket', () => {
  it('allows the burst, then the rate', () => {
    const b = new TokenBucket(1 / 1000, 3, 0); // 1 per second, burst 3
    expect([b.take(0), b.take(0), b.take(0), b.take(0)]).toEqual([true, true, true, false]);
    expect(b.take(999)).toBe(false);
    expect(b.take(1000)).toBe(true);
    expect(b.take(1000)).toBe(false);
    expect(() => new TokenBucket(0, 3, 0)).toThrow(RangeError);
    expect(() => new TokenBucket(1, 0, 0)).toThrow(RangeError);
  });
});

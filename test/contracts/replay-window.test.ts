/**
 * The replay window against a model: the set of every sequence number accepted so far. For any
 * sequence of checks and accepts (random walks with jumps, reordering, wrap of the ring, and
 * encode/decode in between), the window must say 'seen' exactly for accepted numbers inside it,
 * 'below' exactly for numbers at least W under the highest, and 'new' otherwise.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ReplayWindow, WINDOW_BITS } from '../../ledger-bridge/contracts/logic/replay-window.js';

/** The reference: every accepted seq, and the highest one. */
class Model {
  readonly accepted = new Set<number>();
  high = -1;
  highT = -1;
  constructor(readonly bits: number) {}
  check(seq: number): 'new' | 'seen' | 'below' {
    if (this.high >= 0 && seq <= this.high && this.high - seq >= this.bits) return 'below';
    return this.accepted.has(seq) ? 'seen' : 'new';
  }
  accept(seq: number, t: number): void {
    if (this.check(seq) === 'below') return;
    this.accepted.add(seq);
    if (seq > this.high) {
      this.high = seq;
      this.highT = t;
    }
  }
}

/** A walk of seqs: small steps back and forth, sometimes a jump, near 0 or near 2^32. */
const walk = (bits: number) =>
  fc
    .tuple(
      fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 5000 }), fc.constant(0xffffffff - 3 * bits)),
      fc.array(
        fc.oneof(
          { weight: 6, arbitrary: fc.integer({ min: -40, max: 40 }) },
          { weight: 3, arbitrary: fc.integer({ min: -bits / 2, max: bits }) },
          { weight: 2, arbitrary: fc.integer({ min: -3 * bits, max: 3 * bits }) },
          { weight: 1, arbitrary: fc.integer({ min: 0, max: 50 * bits }) },
        ),
        { minLength: 1, maxLength: 300, size: 'max' },
      ),
      fc.array(fc.boolean(), { minLength: 300, maxLength: 300 }),
    )
    .map(([start, steps, acceptMask]) => {
      let s = start;
      const ops: { seq: number; accept: boolean }[] = [];
      steps.forEach((d, i) => {
        s = Math.min(0xffffffff, Math.max(0, s + d));
        ops.push({ seq: s, accept: acceptMask[i] ?? true });
      });
      return ops;
    });

function agree(window: ReplayWindow, model: Model, probe: readonly number[]): void {
  for (const s of probe) expect(window.check(s), `seq ${s} (H=${model.high})`).toBe(model.check(s));
  expect(window.highest).toBe(model.high < 0 ? undefined : model.high);
  expect(window.highestT).toBe(model.highT < 0 ? undefined : model.highT);
}

describe('ReplayWindow (RFC 4303 §3.4.3 / RFC 6479 ring) against a model', () => {
  for (const bits of [32, 64, WINDOW_BITS]) {
    it(`W=${bits}: check() equals the model after every accept, across encode/decode`, () => {
      fc.assert(
        fc.property(walk(bits), fc.integer({ min: 0, max: 7 }), (ops, reencodeEvery) => {
          let window = ReplayWindow.empty(bits);
          const model = new Model(bits);
          ops.forEach(({ seq, accept }, i) => {
            expect(window.check(seq)).toBe(model.check(seq));
            if (accept && window.check(seq) !== 'seen') {
              window.accept(seq, i * 10);
              model.accept(seq, i * 10);
            }
            if (reencodeEvery > 0 && i % reencodeEvery === 0 && !window.isEmpty) window = ReplayWindow.decode(window.encode());
          });
          const h = Math.max(0, model.high);
          const probe = [...model.accepted, h - bits, h - bits + 1, h, h + 1, ...ops.map((o) => o.seq)].filter(
            (s) => s >= 0 && s <= 0xffffffff,
          );
          agree(window, model, probe);
        }),
        { numRuns: 300 },
      );
    });
  }

  it('encodes equal windows to equal bytes and round-trips', () => {
    const a = ReplayWindow.empty();
    const b = ReplayWindow.empty();
    for (const s of [5, 3, 9, 4]) a.accept(s, 100 + s);
    for (const s of [3, 4, 9, 5]) b.accept(s, 100 + s);
    // H and its t come from the reading that set H (seq 9 in both).
    expect(Buffer.from(a.encode()).equals(Buffer.from(b.encode()))).toBe(true);
    const c = ReplayWindow.decode(a.encode());
    expect([c.check(3), c.check(6), c.check(9), c.check(10)]).toEqual(['seen', 'new', 'seen', 'new']);
    expect(c.highestT).toBe(109);
    expect(a.encode().length).toBe(15 + 4 * (WINDOW_BITS / 32 + 1));
  });

  it('answers below for seqs W or more under the highest, and accepting them changes nothing', () => {
    const w = ReplayWindow.empty(64);
    w.accept(1000, 1);
    expect(w.check(937)).toBe('new');
    expect(w.check(936)).toBe('below');
    const before = Buffer.from(w.encode());
    w.accept(10, 2);
    expect(Buffer.from(w.encode()).equals(before)).toBe(true);
    expect(w.floor).toBe(937);
  });

  it('refuses double accepts, bad numbers and corrupt stored values, naming the problem', () => {
    const w = ReplayWindow.empty();
    w.accept(7, 1);
    expect(() => w.accept(7, 1)).toThrow(/accepted before/);
    expect(() => w.accept(-1, 1)).toThrow(/not a u32/);
    expect(() => w.accept(2 ** 32, 1)).toThrow(/not a u32/);
    expect(() => w.accept(8, 2 ** 53)).toThrow(/t /);
    expect(() => ReplayWindow.empty(33)).toThrow(/multiple of 32/);
    expect(() => ReplayWindow.empty().encode()).toThrow(/empty/);
    const good = w.encode();
    expect(() => ReplayWindow.decode(good.subarray(0, 10))).toThrow(/shorter/);
    expect(() => ReplayWindow.decode(good.subarray(0, good.length - 1))).toThrow(/expected/);
    const version = Uint8Array.from(good);
    version[0] = 9;
    expect(() => ReplayWindow.decode(version)).toThrow(/version 9/);
    const unmarked = Uint8Array.from(good);
    unmarked.fill(0, 15);
    expect(() => ReplayWindow.decode(unmarked)).toThrow(/not marked/);
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KeyFilter } from '../../ledger-bridge/embedded/keyfilter.js';

describe('KeyFilter (Bloom filter in front of state reads)', () => {
  it('never says absent for a key it was given, also after growing (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ minLength: 1, maxLength: 40 }), { minLength: 1, maxLength: 400 }), (keys) => {
        const f = new KeyFilter(16);
        for (const k of keys) f.add(k);
        for (const k of keys) expect(f.mightHave(k)).toBe(true);
      }),
      { numRuns: 100 },
    );
  });

  it('answers absent for most unknown keys (false-positive rate near 1 % at capacity)', () => {
    const f = new KeyFilter(10_000);
    for (let i = 0; i < 10_000; i++) f.add(`\u0000reading\u0000dev-${i % 50}\u0000${String(i).padStart(10, '0')}\u0000`);
    let positives = 0;
    for (let i = 10_000; i < 30_000; i++)
      if (f.mightHave(`\u0000reading\u0000dev-${i % 50}\u0000${String(i).padStart(10, '0')}\u0000`)) positives++;
    expect(positives / 20_000).toBeLessThan(0.03);
    expect(f.size).toBe(10_000);
  });
});

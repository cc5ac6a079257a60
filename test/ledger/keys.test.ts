/**
 * compareKeys must order keys exactly as their UTF-8 bytes (Fabric's and SQLite's BINARY order),
 * also where UTF-16 unit order differs: characters above U+FFFF against U+E000..U+FFFF, lone
 * surrogates (encoded as U+FFFD), composite-key separators (U+0000) and prefixes.
 */
import { describe, expect, it } from 'vitest';
import { compareKeys, inRange } from '../../ledger-bridge/embedded/keys.js';

const bytewise = (a: string, b: string): number => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

/** mulberry32: a seeded generator, so a failure reproduces. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Units where the fast path and the exact path meet or part.
const UNITS = [
  0x00, 0x01, 0x2f, 0x30, 0x41, 0x7e, 0x7f, 0x80, 0x7ff, 0x800, 0xd7ff, 0xd800, 0xdbff, 0xdc00, 0xdfff, 0xe000, 0xfffd, 0xffff,
];

describe('compareKeys', () => {
  it('orders like the UTF-8 bytes on tricky pairs', () => {
    const pairs: [string, string][] = [
      ['\u{1F600}', '\uFFFF'],
      ['\uE000', '\u{10000}'],
      ['a\uD800', 'a\uFFFD'],
      ['a\uD800', 'a\uFFFE'],
      ['\u0000dev\u0000', '\u0000dev\u00001'],
      ['abc', 'abd'],
      ['ab', 'abc'],
      ['ab', 'ab\uD800'],
      ['', 'a'],
      ['same', 'same'],
    ];
    for (const [a, b] of pairs) {
      expect(Math.sign(compareKeys(a, b)), JSON.stringify([a, b])).toBe(bytewise(a, b));
      expect(Math.sign(compareKeys(b, a)), JSON.stringify([b, a])).toBe(bytewise(b, a));
    }
    // The case the fast path exists for would be wrong by unit order: U+1F600 (D83D DE00) > U+FFFF in bytes.
    expect(compareKeys('\u{1F600}', '\uFFFF')).toBe(1);
    expect('\u{1F600}' < '\uFFFF').toBe(true);
  });

  it('agrees with the byte order on 20,000 random key pairs sharing prefixes', () => {
    const r = rng(7);
    const unit = (): string =>
      r() < 0.5 ? String.fromCharCode(UNITS[Math.floor(r() * UNITS.length)] as number) : String.fromCharCode(Math.floor(r() * 0x10000));
    const key = (n: number): string => Array.from({ length: n }, unit).join('');
    for (let i = 0; i < 20_000; i++) {
      const prefix = key(Math.floor(r() * 4));
      const a = prefix + key(Math.floor(r() * 4));
      const b = prefix + key(Math.floor(r() * 4));
      expect(Math.sign(compareKeys(a, b)), JSON.stringify([a, b])).toBe(bytewise(a, b));
    }
  });

  it('inRange is start-inclusive, end-exclusive, and open with an empty end', () => {
    expect(inRange('b', 'a', 'c')).toBe(true);
    expect(inRange('a', 'a', 'c')).toBe(true);
    expect(inRange('c', 'a', 'c')).toBe(false);
    expect(inRange('\u{1F600}', '\uFFFF', '')).toBe(true);
    expect(inRange('\uFFFF', '\u{1F600}', '')).toBe(false);
  });
});

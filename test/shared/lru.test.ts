import { describe, expect, it } from 'vitest';
import { Lru } from '../../shared/lru.js';

describe('Lru', () => {
  it('drops the least recently used entry beyond its bound; get and set make a key recent', () => {
    const l = new Lru<string, number>(2);
    l.set('a', 1);
    l.set('b', 2);
    expect(l.get('a')).toBe(1); // a is now the most recent
    l.set('c', 3); // drops b
    expect(l.get('b')).toBeUndefined();
    expect([l.get('a'), l.get('c'), l.size]).toEqual([1, 3, 2]);
    l.set('a', 10); // a most recent again, replaced in place
    l.set('d', 4); // drops c
    expect([l.get('c'), l.get('a'), l.get('d')]).toEqual([undefined, 10, 4]);
    l.delete('a');
    l.clear();
    expect(l.size).toBe(0);
  });

  it('refuses a bound that is not a positive integer', () => {
    expect(() => new Lru(0)).toThrow(/positive integer/);
    expect(() => new Lru(1.5)).toThrow(/positive integer/);
  });
});

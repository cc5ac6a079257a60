import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { crc16 } from '../../shared/wire/crc16.js';
import { cobsDecode, cobsEncode, cobsMaxEncodedLength } from '../../shared/wire/cobs.js';

const ascii = (s: string) => new Uint8Array([...s].map((c) => c.charCodeAt(0)));

describe('crc16 (CCITT-FALSE)', () => {
  it('has the standard check value for "123456789"', () => {
    expect(crc16(ascii('123456789'), 0, 9)).toBe(0x29b1);
  });
  it('is 0xFFFF (the init) for empty input and honours start/end', () => {
    expect(crc16(new Uint8Array(0), 0, 0)).toBe(0xffff);
    const b = ascii('xx123456789yy');
    expect(crc16(b, 2, 11)).toBe(0x29b1);
  });
  it('detects every single-bit flip', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 260 }), fc.nat(), fc.integer({ min: 0, max: 7 }), (data, at, bit) => {
        const i = at % data.length;
        const flipped = data.slice();
        flipped[i] = (flipped[i] as number) ^ (1 << bit);
        expect(crc16(flipped, 0, flipped.length)).not.toBe(crc16(data, 0, data.length));
      }),
    );
  });
});

describe('COBS', () => {
  it('matches the worked examples of the COBS paper', () => {
    expect([...cobsEncode(new Uint8Array([0]))]).toEqual([1, 1]);
    expect([...cobsEncode(new Uint8Array([0, 0]))]).toEqual([1, 1, 1]);
    expect([...cobsEncode(new Uint8Array([0x11, 0x22, 0, 0x33]))]).toEqual([3, 0x11, 0x22, 2, 0x33]);
    expect([...cobsEncode(new Uint8Array([0x11, 0x22, 0x33, 0x44]))]).toEqual([5, 0x11, 0x22, 0x33, 0x44]);
    const run = new Uint8Array(254).map((_, i) => i + 1);
    const enc = cobsEncode(run);
    expect(enc[0]).toBe(0xff);
    expect(enc.length).toBe(256);
    expect([...cobsDecode(enc)!]).toEqual([...run]);
  });
  it('round-trips any bytes, never emits 0x00, and stays within the bound', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 700 }), (data) => {
        const enc = cobsEncode(data);
        expect(enc.includes(0)).toBe(false);
        expect(enc.length).toBeLessThanOrEqual(cobsMaxEncodedLength(data.length));
        expect([...cobsDecode(enc)!]).toEqual([...data]);
      }),
    );
  });
  it('returns null (never throws) on malformed blocks', () => {
    expect(cobsDecode(new Uint8Array([0]))).toBeNull();
    expect(cobsDecode(new Uint8Array([5, 1, 2]))).toBeNull();
    expect(cobsDecode(new Uint8Array([3, 1, 0]))).toBeNull();
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (junk) => {
        const r = cobsDecode(junk);
        expect(r === null || r instanceof Uint8Array).toBe(true);
      }),
    );
  });
});

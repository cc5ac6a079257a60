import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { FrameDecoder, MAX_ENCODED_FRAME, encodeFrame, type Frame } from '../../shared/wire/frame.js';
import { cobsEncode } from '../../shared/wire/cobs.js';
import { crc16 } from '../../shared/wire/crc16.js';

const frameArb = fc.record({ type: fc.integer({ min: 0, max: 255 }), payload: fc.uint8Array({ maxLength: 255 }) });

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function chunked(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let last = 0;
  for (const p of points) {
    out.push(bytes.subarray(last, p));
    last = p;
  }
  out.push(bytes.subarray(last));
  return out;
}

const plain = (f: Frame) => ({ type: f.type, payload: [...f.payload] });

/** A raw frame (before COBS) with a chosen version/length/crc, to build bad frames on purpose. */
function rawFrame(version: number, type: number, payload: Uint8Array, lengthByte = payload.length, crcDelta = 0): Uint8Array {
  const raw = new Uint8Array(payload.length + 5);
  raw[0] = version;
  raw[1] = type;
  raw[2] = lengthByte;
  raw.set(payload, 3);
  const crc = (crc16(raw, 0, payload.length + 3) ^ crcDelta) & 0xffff;
  raw[payload.length + 3] = crc >> 8;
  raw[payload.length + 4] = crc & 255;
  return concat([cobsEncode(raw), new Uint8Array([0])]);
}

describe('frames', () => {
  it('layout: version 1, type, length, payload, CRC-16 big-endian, COBS, 0x00', () => {
    const wire = encodeFrame(0x04, new Uint8Array([0, 0, 0, 7]));
    expect(wire[wire.length - 1]).toBe(0);
    expect([...wire]).toEqual([...rawFrame(1, 4, new Uint8Array([0, 0, 0, 7]))]);
  });
  it('rejects payloads over 255 bytes and bad types', () => {
    expect(() => encodeFrame(1, new Uint8Array(256))).toThrow(RangeError);
    expect(() => encodeFrame(256, new Uint8Array(0))).toThrow(RangeError);
  });
  it('round-trips any frames in any chunking', () => {
    fc.assert(
      fc.property(fc.array(frameArb, { maxLength: 8 }), fc.array(fc.nat(), { maxLength: 10 }), (frames, cuts) => {
        const wire = concat(frames.map((f) => encodeFrame(f.type, f.payload)));
        const dec = new FrameDecoder();
        const got = chunked(wire, cuts).flatMap((c) => dec.push(c));
        expect(got.map(plain)).toEqual(frames.map((f) => ({ type: f.type, payload: [...f.payload] })));
        expect(dec.stats).toEqual({ frames: frames.length, badCrc: 0, oversize: 0, malformed: 0, badVersion: 0 });
      }),
    );
  });
  it('resynchronises after garbage and never throws on random input', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), frameArb, (junk, f) => {
        const dec = new FrameDecoder();
        dec.push(junk);
        // A delimiter ends whatever the junk left half-open; the next frame must come through.
        const got = dec.push(concat([new Uint8Array([0]), encodeFrame(f.type, f.payload)]));
        expect(got.map(plain)).toEqual([{ type: f.type, payload: [...f.payload] }]);
      }),
    );
  });
  it('counts and drops bad CRC, bad version, bad length, truncated and oversize blocks', () => {
    const dec = new FrameDecoder();
    const good = encodeFrame(3, new Uint8Array([1, 2, 3]));
    const stream = concat([
      rawFrame(1, 3, new Uint8Array([1, 2, 3]), 3, 0x0100), // bad CRC
      rawFrame(2, 3, new Uint8Array([1, 2, 3])), // unknown version
      rawFrame(1, 3, new Uint8Array([1, 2, 3]), 4), // length byte disagrees
      good.subarray(0, 4),
      new Uint8Array([0]), // truncated frame then delimiter
      new Uint8Array(MAX_ENCODED_FRAME + 10).fill(0x41),
      new Uint8Array([0]), // oversize
      new Uint8Array([0, 0, 0]), // idle fill: not counted
      good,
    ]);
    const got = dec.push(stream);
    expect(got.map(plain)).toEqual([{ type: 3, payload: [1, 2, 3] }]);
    expect(dec.stats.badCrc).toBe(1);
    expect(dec.stats.badVersion).toBe(1);
    expect(dec.stats.oversize).toBe(1);
    // length mismatch + truncated (too short or CRC off): exactly two drops between them.
    expect(dec.stats.malformed + dec.stats.badCrc).toBe(3);
    expect(dec.stats.frames).toBe(1);
  });
  it('holds a bounded buffer: a never-ending block is one oversize, then it recovers', () => {
    const dec = new FrameDecoder();
    for (let i = 0; i < 100; i++) expect(dec.push(new Uint8Array(1000).fill(7))).toEqual([]);
    expect(dec.stats.oversize).toBe(1);
    const got = dec.push(concat([new Uint8Array([0]), encodeFrame(6, new Uint8Array([0, 0, 0, 1]))]));
    expect(got.length).toBe(1);
  });
  it('a bit flipped anywhere in a frame never yields a different frame', () => {
    fc.assert(
      fc.property(frameArb, fc.nat(), fc.integer({ min: 0, max: 7 }), (f, at, bit) => {
        const wire = encodeFrame(f.type, f.payload);
        const i = at % (wire.length - 1);
        const bad = wire.slice();
        bad[i] = (bad[i] as number) ^ (1 << bit);
        const dec = new FrameDecoder();
        const got = dec.push(concat([bad, new Uint8Array([0])]));
        for (const g of got) expect(plain(g)).toEqual({ type: f.type, payload: [...f.payload] });
      }),
    );
  });
});

/**
 * The board's own wire codec (firmware/src/wire.ts) against shared/wire, with random inputs:
 * every frame and payload the board builds is byte-identical to shared/wire's encoding of the
 * same message, every payload the board decodes is accepted exactly when shared/wire's strict
 * decoder accepts it and yields the same values, and the board's receiver delivers the same
 * frames as FrameDecoder and drops exactly as many blocks as FrameDecoder counts.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { cobsEncode } from '../../shared/wire/cobs.js';
import { crc16 } from '../../shared/wire/crc16.js';
import { FrameDecoder, encodeFrame, type Frame } from '../../shared/wire/frame.js';
import {
  decodeChallenge,
  decodeMaint,
  decodeNack,
  decodePartial,
  decodeU32,
  encodeChallengeResponse,
  encodeHello,
  encodeMaint,
  encodeNack,
  encodePartial,
  encodeStatus,
  encodeU32,
  maintMessage,
} from '../../shared/wire/messages.js';
import { challengeResponse, maintBody } from '../../shared/crypto/domains.js';
import { sha256 } from '../../shared/crypto/sha256.js';
import {
  challengeAnswer,
  frameBytes,
  helloPayload,
  readMaint,
  readNack,
  readPartial,
  readU32,
  receiver,
  statusPayload,
  u32Payload,
} from '../../firmware/src/wire.js';

const ascii = (min: number, max: number) =>
  fc.string({ minLength: min, maxLength: max, unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)) });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const bytes = (n: number) => fc.uint8Array({ minLength: n, maxLength: n });
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** Outcome of a decoder: its value, or 'refused'. */
function outcome<T>(f: () => T): T | 'refused' {
  try {
    return f();
  } catch {
    return 'refused';
  }
}

/** Payloads near a decoder's size: right length, one short, one long, random. */
const near = (n: number) => fc.oneof(bytes(n), bytes(n - 1), bytes(n + 1), fc.uint8Array({ maxLength: 60 }));

describe('board encoders = shared/wire encoders', () => {
  it('frames of any type and payload', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 255 }), fc.uint8Array({ maxLength: 255 }), (type, p) => {
        expect(hex(frameBytes(type, p))).toBe(hex(encodeFrame(type, p)));
        expect(hex(frameBytes(type, Array.from(p)))).toBe(hex(encodeFrame(type, p))); // the board passes plain arrays
      }),
      { numRuns: 300 },
    );
  });

  it('HELLO', () => {
    fc.assert(
      fc.property(
        ascii(1, 64),
        ascii(0, 32),
        bytes(32),
        u32,
        u32,
        fc.integer({ min: 0, max: 255 }),
        fc.integer({ min: 0, max: 255 }),
        ascii(0, 16),
        (deviceId, fwVersion, fwHash, seq, bootCount, flags, pending, board) => {
          const mine = new Uint8Array(helloPayload(deviceId, fwVersion, fwHash, seq, bootCount, flags, pending, board));
          expect(hex(mine)).toBe(hex(encodeHello({ deviceId, fwVersion, fwHash, seq, bootCount, flags, pending, board })));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('STATUS, PONG and the MAINT tag message', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 255 }),
        u32,
        ascii(0, 64),
        ascii(1, 64),
        fc.integer({ min: 0, max: 255 }),
        (code, value, text, deviceId, command) => {
          expect(hex(new Uint8Array(statusPayload(code, value, text)))).toBe(hex(encodeStatus({ code, value, text })));
          expect(hex(new Uint8Array(u32Payload(value)))).toBe(hex(encodeU32(value, 'PONG')));
          // The bytes the board's MAINT tag covers after its label (shared/crypto/domains.ts) = shared/wire's.
          expect(hex(new Uint8Array(maintBody(deviceId, command, value)))).toBe(hex(maintMessage(deviceId, command, value)));
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('board challenge answer = shared/wire RESPONSE of shared/crypto challengeResponse (under K_chal)', () => {
  it('same RESPONSE payload for every key and challenge; refused exactly when decodeChallenge refuses', () => {
    fc.assert(
      fc.property(bytes(32), fc.oneof(bytes(32), near(32)), (key, p) => {
        const want = outcome(() => {
          const challenge = decodeChallenge(p);
          return hex(encodeChallengeResponse({ challenge, response: challengeResponse(sha256, key, challenge) }));
        });
        expect(outcome(() => hex(challengeAnswer(sha256, key, p)))).toEqual(want);
      }),
      { numRuns: 300 },
    );
    // Framed, the board's payload is the wire frame.
    const key = new Uint8Array(32).fill(3);
    const c = new Uint8Array(32).map((_, i) => i);
    const answer = challengeAnswer(sha256, key, c);
    expect(hex(frameBytes(0x0b, answer))).toBe(
      hex(encodeFrame(0x0b, encodeChallengeResponse({ challenge: c, response: challengeResponse(sha256, key, c) }))),
    );
  });
});

describe('board decoders accept what shared/wire accepts, with the same values', () => {
  it('PARTIAL: valid ones, and random bytes of every nearby length', () => {
    const valid = fc
      .record({
        epoch: u32,
        partialDigest: bytes(32),
        edgeTimeMs: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
        intervalMs: fc.integer({ min: 1, max: 0xffffffff }),
        maxPerMinute: fc.integer({ min: 0, max: 0xffff }),
      })
      .map((m) => encodePartial(m));
    fc.assert(
      fc.property(fc.oneof(valid, near(50)), (p) => {
        const mine = outcome(() => readPartial(p));
        expect(mine).toEqual(outcome(() => decodePartial(p)));
      }),
      { numRuns: 500 },
    );
    // The two boundaries by hand: t = 2^53 - 1 is accepted, 2^53 refused; interval 0 refused.
    const base = { epoch: 1, partialDigest: new Uint8Array(32), edgeTimeMs: Number.MAX_SAFE_INTEGER, intervalMs: 1, maxPerMinute: 0 };
    expect(readPartial(encodePartial(base)).edgeTimeMs).toBe(Number.MAX_SAFE_INTEGER);
    const over = encodePartial(base);
    over[37] = 0x20;
    expect(() => readPartial(over)).toThrow(RangeError);
    expect(() => decodePartial(over)).toThrow(RangeError);
    const zero = encodePartial(base);
    zero[47] = 0;
    expect(() => readPartial(zero)).toThrow(RangeError);
  });

  it('ACK/PING, NACK and MAINT', () => {
    const nack = fc.record({ seq: u32, reason: fc.integer({ min: 0, max: 255 }) }).map((m) => {
      const p = encodeNack({ seq: m.seq, reason: m.reason === 0 ? 1 : m.reason });
      p[4] = m.reason; // reason 0 is refused by both
      return p;
    });
    const maint = fc.record({ command: fc.integer({ min: 0, max: 255 }), counter: u32, tag: bytes(32) }).map((m) => encodeMaint(m));
    fc.assert(
      fc.property(fc.oneof(near(4), near(5), nack, maint, near(37)), (p) => {
        expect(outcome(() => readU32(p))).toEqual(outcome(() => decodeU32(p, 'ACK')));
        expect(outcome(() => readU32(p))).toEqual(outcome(() => decodeU32(p, 'PING')));
        const n = outcome(() => decodeNack(p));
        expect(outcome(() => readNack(p))).toEqual(n === 'refused' ? n : [n.seq, n.reason]);
        expect(outcome(() => readMaint(p))).toEqual(outcome(() => decodeMaint(p)));
      }),
      { numRuns: 500 },
    );
  });
});

describe('board receiver = FrameDecoder', () => {
  it('same frames delivered and every dropped block counted, whatever the stream and chunking', () => {
    const piece = fc.oneof(
      fc.uint8Array({ maxLength: 300 }),
      fc
        .record({ type: fc.integer({ min: 0, max: 255 }), payload: fc.uint8Array({ maxLength: 255 }) })
        .map((f) => encodeFrame(f.type, f.payload)),
      fc.record({ type: fc.integer({ min: 0, max: 255 }), payload: fc.uint8Array({ maxLength: 40 }), cut: fc.nat() }).map((f) => {
        const w = encodeFrame(f.type, f.payload);
        return w.subarray(0, f.cut % w.length); // truncated
      }),
      fc
        .record({
          type: fc.integer({ min: 0, max: 255 }),
          payload: fc.uint8Array({ minLength: 1, maxLength: 40 }),
          at: fc.nat(),
          x: fc.integer({ min: 1, max: 255 }),
        })
        .map((f) => {
          const w = encodeFrame(f.type, f.payload).slice();
          const i = f.at % (w.length - 1);
          w[i] = w[i]! ^ f.x || 1; // corrupted, never a new delimiter
          return w;
        }),
      fc.constant(new Uint8Array(700).fill(7)), // oversize
      // Good CRC but another version byte or a length byte that disagrees.
      fc
        .record({
          version: fc.integer({ min: 0, max: 3 }),
          type: fc.integer({ min: 0, max: 255 }),
          payload: fc.uint8Array({ maxLength: 40 }),
          skew: fc.integer({ min: -1, max: 1 }),
        })
        .map((f) => {
          const raw = new Uint8Array(f.payload.length + 5);
          raw[0] = f.version;
          raw[1] = f.type;
          raw[2] = (f.payload.length + f.skew) & 255;
          raw.set(f.payload, 3);
          const c = crc16(raw, 0, raw.length - 2);
          raw[raw.length - 2] = c >> 8;
          raw[raw.length - 1] = c & 255;
          return Buffer.concat([cobsEncode(raw), Buffer.from([0])]);
        }),
    );
    fc.assert(
      fc.property(
        fc.array(piece, { maxLength: 10 }),
        fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 5 }),
        (pieces, cuts) => {
          const stream = Buffer.concat(pieces);
          const dec = new FrameDecoder();
          const want: Frame[] = dec.push(stream);
          const got: Frame[] = [];
          const rx = receiver((type, payload) => got.push({ type, payload }));
          for (let off = 0, k = 0; off < stream.length; k++) {
            const n = cuts[k % cuts.length]!;
            rx.push(new Uint8Array(stream.subarray(off, off + n)));
            off += n;
          }
          expect(got.map((f) => [f.type, hex(f.payload)])).toEqual(want.map((f) => [f.type, hex(f.payload)]));
          const s = dec.stats;
          expect(rx.drops).toBe(s.badCrc + s.oversize + s.malformed + s.badVersion);
        },
      ),
      { numRuns: 300 },
    );
  });
});

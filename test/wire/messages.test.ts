import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { encodeReading } from '../../shared/encoding/reading.js';
import { ProvenantError } from '../../shared/errors.js';
import { FrameDecoder } from '../../shared/wire/frame.js';
import * as M from '../../shared/wire/messages.js';
import { decodeMessage, encodeMessage, encodePayload, type WireMessage } from '../../shared/wire/union.js';
import { wireChallengeCodec } from '../../edge-runtime/src/session/challenge-codec.js';

const printable = (min: number, max: number) =>
  fc.string({ unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)), minLength: min, maxLength: max });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const bytes32 = fc.uint8Array({ minLength: 32, maxLength: 32 });

const readingArb = fc.record({
  deviceId: printable(1, 64),
  seq: u32,
  t: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
  epoch: u32,
  partialDigest: bytes32,
  batteryMv: fc.integer({ min: 0, max: 0xffff }),
  bootCount: u32,
  uptimeMs: fc.integer({ min: 0, max: 1e12 }),
  channels: fc.uniqueArray(fc.integer({ min: 0, max: 255 }), { maxLength: 16 }).chain((ids) =>
    fc.tuple(
      ...ids
        .sort((a, b) => a - b)
        .map((id) =>
          fc.record({
            id: fc.constant(id),
            scale: fc.integer({ min: -128, max: 127 }),
            value: fc.integer({ min: -2147483648, max: 2147483647 }),
          }),
        ),
    ),
  ),
});

const messageArb: fc.Arbitrary<WireMessage> = fc.oneof(
  fc.record({
    kind: fc.constant('HELLO' as const),
    deviceId: printable(1, 64),
    fwVersion: printable(0, 32),
    fwHash: bytes32,
    seq: u32,
    bootCount: u32,
    flags: fc.integer({ min: 0, max: 255 }),
    pending: fc.integer({ min: 0, max: 255 }),
    board: printable(0, 16),
  }),
  fc.record({
    kind: fc.constant('PARTIAL' as const),
    epoch: u32,
    partialDigest: bytes32,
    edgeTimeMs: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
    intervalMs: fc.integer({ min: 1, max: 0xffffffff }),
    maxPerMinute: fc.integer({ min: 0, max: 0xffff }),
  }),
  fc.tuple(readingArb, bytes32).map(([r, tag]) => ({ kind: 'READING' as const, canonical: encodeReading(r), reading: r, tag })),
  fc.record({ kind: fc.constant('ACK' as const), seq: u32 }),
  fc.record({ kind: fc.constant('NACK' as const), seq: u32, reason: fc.integer({ min: 1, max: 255 }) }),
  fc.record({ kind: fc.constant('PING' as const), nonce: u32 }),
  fc.record({ kind: fc.constant('PONG' as const), nonce: u32 }),
  fc.record({ kind: fc.constant('STATUS' as const), code: fc.integer({ min: 0, max: 255 }), value: u32, text: printable(0, 64) }),
  fc.record({ kind: fc.constant('MAINT' as const), command: fc.integer({ min: 0, max: 255 }), counter: u32, tag: bytes32 }),
  fc.record({ kind: fc.constant('CHALLENGE' as const), challenge: bytes32 }),
  fc.record({ kind: fc.constant('RESPONSE' as const), challenge: bytes32, response: bytes32 }),
  fc.record({ kind: fc.constant('SIG_ACK' as const), keySet: u32, q: u32 }),
);

/** SIG fragments: a full chunk before the last fragment, 1..SIG_CHUNK bytes in it. */
const sigArb = fc
  .integer({ min: 1, max: M.SIG_MAX_FRAGMENTS })
  .chain((count) => fc.tuple(fc.constant(count), fc.integer({ min: 0, max: count - 1 })))
  .chain(([count, index]) =>
    fc.record({
      kind: fc.constant('SIG' as const),
      index: fc.constant(index),
      count: fc.constant(count),
      chunk:
        index < count - 1
          ? fc.uint8Array({ minLength: M.SIG_CHUNK, maxLength: M.SIG_CHUNK })
          : fc.uint8Array({ minLength: 1, maxLength: M.SIG_CHUNK }),
    }),
  );

const norm = (m: unknown) => JSON.parse(JSON.stringify(m, (_k, v) => (v instanceof Uint8Array ? [...v] : v)));

describe('wire messages', () => {
  it('round-trip through frames (every type, random fields)', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(messageArb, sigArb), { minLength: 1, maxLength: 5 }), (msgs) => {
        const dec = new FrameDecoder();
        const frames = msgs.flatMap((m) => dec.push(encodeMessage(m)));
        expect(frames.map((f) => norm(decodeMessage(f)))).toEqual(msgs.map(norm));
      }),
    );
  });
  it('every maximum-size message fits the 255-byte payload', () => {
    const big = {
      deviceId: 'x'.repeat(64),
      seq: 1,
      t: 1,
      epoch: 1,
      partialDigest: new Uint8Array(32),
      batteryMv: 1,
      channels: Array.from({ length: 16 }, (_, i) => ({ id: i, scale: -2, value: -1 })),
      bootCount: 0xffffffff,
      uptimeMs: 1e12,
    };
    const canonical = encodeReading(big);
    expect(canonical[0]).toBe(2);
    expect(M.encodeReadingMessage(canonical, new Uint8Array(32)).length).toBe(255); // reading v2 fills the payload exactly
    const hello = M.encodeHello({
      deviceId: 'x'.repeat(64),
      fwVersion: 'v'.repeat(32),
      fwHash: new Uint8Array(32),
      seq: 0,
      bootCount: 0,
      flags: 0,
      pending: 0,
      board: 'b'.repeat(16),
    });
    expect(hello.length).toBeLessThanOrEqual(255);
  });
  it('strict decoders reject truncation and trailing bytes, naming message and field', () => {
    fc.assert(
      fc.property(messageArb, fc.nat(), (m, cut) => {
        const { type, payload } = decodeFrameOf(m);
        const short = payload.subarray(0, cut % payload.length);
        expect(() => decodeMessage({ type, payload: short })).toThrow(ProvenantError);
        const long = new Uint8Array(payload.length + 1);
        long.set(payload);
        expect(() => decodeMessage({ type, payload: long })).toThrow(/malformed frame: [A-Z_]+\.\w+/);
      }),
    );
  });
  it('names the field in errors and rejects unknown types', () => {
    expect(() => M.decodePartial(new Uint8Array(10))).toThrow('PARTIAL.partialDigest: truncated');
    expect(() => M.decodeNack(new Uint8Array([0, 0, 0, 1, 0]))).toThrow('NACK.reason');
    expect(() =>
      M.decodePartial(
        M.encodePartial({ epoch: 1, partialDigest: new Uint8Array(32), edgeTimeMs: 5, intervalMs: 1, maxPerMinute: 0 }).map((b, i) =>
          i >= 44 && i < 48 ? 0 : b,
        ),
      ),
    ).toThrow('PARTIAL.intervalMs');
    expect(() => M.decodeHello(new Uint8Array([1, 0x0a]))).toThrow('HELLO.deviceId: non-printable');
    try {
      decodeMessage({ type: 0x7f, payload: new Uint8Array(0) });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ProvenantError);
      expect((e as ProvenantError).code).toBe('PROV_ERR_MALFORMED');
      expect((e as ProvenantError).details.type).toBe(0x7f);
    }
  });
  it('encoders refuse out-of-range values', () => {
    expect(() => M.encodeNack({ seq: -1, reason: 1 })).toThrow(RangeError);
    expect(() => M.encodeU32(2 ** 32, 'ACK')).toThrow('ACK.seq');
    expect(() =>
      M.encodePartial({ epoch: 1, partialDigest: new Uint8Array(31), edgeTimeMs: 0, intervalMs: 1000, maxPerMinute: 0 }),
    ).toThrow('PARTIAL.partialDigest');
    expect(() => M.encodeStatus({ code: 1, value: 0, text: 'x'.repeat(65) })).toThrow('STATUS.text');
  });
  it('classifies NACK reasons', () => {
    expect([M.NACK_NOT_STORED, M.NACK_OUTBOX_FULL, M.NACK_RATE, M.NACK_NO_PARTIAL, M.NACK_UNKNOWN_DEVICE].every(M.nackIsRetryable)).toBe(
      true,
    );
    expect([M.NACK_BAD_TAG, M.NACK_REPLAY, M.NACK_MALFORMED, M.NACK_REVOKED].some(M.nackIsRetryable)).toBe(false);
  });
  it('CHALLENGE and RESPONSE are the frames the edge runtime speaks (types 0x0a/0x0b, 32 and 64 bytes)', () => {
    fc.assert(
      fc.property(bytes32, bytes32, (challenge, response) => {
        const mine = encodePayload({ kind: 'CHALLENGE', challenge });
        const edge = wireChallengeCodec.encode(challenge);
        expect([mine.type, [...mine.payload]]).toEqual([edge.type, [...edge.payload]]);
        const answer = encodePayload({ kind: 'RESPONSE', challenge, response });
        expect(answer.type).toBe(M.MSG_RESPONSE);
        const back = wireChallengeCodec.decode({ type: answer.type, payload: answer.payload });
        expect(norm(back)).toEqual(norm({ challenge, response }));
      }),
      { numRuns: 100 },
    );
    expect(() => M.decodeChallenge(new Uint8Array(31))).toThrow('CHALLENGE.challenge: truncated');
    expect(() => M.decodeChallengeResponse(new Uint8Array(65))).toThrow('RESPONSE.length: trailing bytes');
    expect(() => M.encodeChallenge(new Uint8Array(33))).toThrow('CHALLENGE.challenge');
  });
  it('SIG fragments: a body cut by sigFragments comes back whole, in order only; bad fragments are refused by name', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: M.SIG_CHUNK * M.SIG_MAX_FRAGMENTS }), (body) => {
        const parts = M.sigFragments(body);
        expect(parts.length).toBe(Math.ceil(body.length / M.SIG_CHUNK));
        const r = new M.SigReassembler();
        const out = parts.map((p) => r.push(M.decodeSigFragment(decodeFrameOf({ kind: 'SIG', ...M.decodeSigFragment(p) }).payload)));
        expect(out.slice(0, -1).every((b) => b === undefined)).toBe(true);
        expect([...out[out.length - 1]!]).toEqual([...body]);
        if (parts.length > 2) {
          // A lost fragment: nothing comes out, and the next body starts clean.
          const r2 = new M.SigReassembler();
          const got = parts.filter((_, i) => i !== 1).map((p) => r2.push(M.decodeSigFragment(p)));
          expect(got.every((b) => b === undefined)).toBe(true);
          expect(r2.discarded).toBeGreaterThan(0);
          const again = parts.map((p) => r2.push(M.decodeSigFragment(p)));
          expect([...again[again.length - 1]!]).toEqual([...body]);
        }
      }),
      { numRuns: 50 },
    );
    // A fragment of a second body restarting at index 0 abandons the first.
    const r = new M.SigReassembler();
    const a = M.sigFragments(new Uint8Array(600).fill(1));
    const b = M.sigFragments(new Uint8Array(300).fill(2));
    expect(r.push(M.decodeSigFragment(a[0]!))).toBeUndefined();
    expect(r.push(M.decodeSigFragment(b[0]!))).toBeUndefined();
    expect(r.discarded).toBe(1);
    expect(r.push(M.decodeSigFragment(a[2]!))).toBeUndefined();
    expect(r.push(M.decodeSigFragment(b[0]!))).toBeUndefined();
    expect([...r.push(M.decodeSigFragment(b[1]!))!]).toEqual([...new Uint8Array(300).fill(2)]);
    expect(() => M.decodeSigFragment(new Uint8Array([0, 1]))).toThrow('SIG.chunk: truncated');
    expect(() => M.decodeSigFragment(new Uint8Array([0, 0, 1]))).toThrow('SIG.count');
    expect(() => M.decodeSigFragment(new Uint8Array([0, M.SIG_MAX_FRAGMENTS + 1, 1]))).toThrow('SIG.count');
    expect(() => M.decodeSigFragment(new Uint8Array([2, 2, 1]))).toThrow('SIG.index');
    expect(() => M.decodeSigFragment(new Uint8Array([0, 2, 1]))).toThrow('SIG.chunk: only the last');
    expect(() => M.decodeSigFragment(new Uint8Array(2 + M.SIG_CHUNK + 1).fill(0, 0, 1).fill(1, 1, 2))).toThrow('SIG.chunk: more than');
    expect(() => M.sigFragments(new Uint8Array(0))).toThrow(RangeError);
    expect(() => M.sigFragments(new Uint8Array(M.SIG_CHUNK * M.SIG_MAX_FRAGMENTS + 1))).toThrow('does not fit');
    // Through the frame decoder a bad fragment is a MALFORMED frame naming SIG.
    expect(() => decodeMessage({ type: M.MSG_SIG, payload: new Uint8Array([1, 1, 5]) })).toThrow(/malformed frame: SIG\.index/);
    expect([...M.encodeSigAck({ keySet: 1, q: 258 })]).toEqual([0, 0, 0, 1, 0, 0, 1, 2]);
    expect(() => M.decodeSigAck(new Uint8Array(7))).toThrow('SIG_ACK.q: truncated');
  });
  it('maintMessage binds deviceId, command and counter (the tag adds its label, shared/crypto/domains.ts)', () => {
    expect([...M.maintMessage('ab', 1, 258)]).toEqual([2, 0x61, 0x62, 1, 0, 0, 1, 2]);
  });
});

function decodeFrameOf(m: WireMessage) {
  const [f] = new FrameDecoder().push(encodeMessage(m));
  return f!;
}

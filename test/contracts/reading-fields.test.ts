/**
 * The contract's in-place reading parser against shared/encoding/reading.ts decodeReading, the
 * one definition of well-formed bytes: same fields for what it accepts, the same error for what
 * it refuses — on valid readings, single-byte mutations of them and random bytes — and the
 * columnar form gives per reading what readingFields gives.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readingColumns, readingFields } from '../../ledger-bridge/contracts/logic/reading-fields.js';
import { decodeReading, encodeReading } from '../../shared/encoding/reading.js';
import type { Reading } from '../../shared/types.js';

const fieldsArb = fc.record({
  deviceId: fc.stringMatching(/^[\x21-\x7e]{1,64}$/),
  seq: fc.nat({ max: 0xffffffff }),
  t: fc.nat({ max: Number.MAX_SAFE_INTEGER }),
  epoch: fc.nat({ max: 0xffffffff }),
  partialDigest: fc.uint8Array({ minLength: 32, maxLength: 32 }),
  batteryMv: fc.nat({ max: 0xffff }),
  channels: fc.uniqueArray(fc.nat({ max: 255 }), { maxLength: 16 }).chain((ids) =>
    fc.tuple(
      ...ids
        .sort((a, b) => a - b)
        .map((id) =>
          fc.record({
            id: fc.constant(id),
            scale: fc.integer({ min: -128, max: 127 }),
            value: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
          }),
        ),
    ),
  ),
});
/** Version 2 readings (boot count, uptime) mostly, version 1 sometimes. */
const readingArb: fc.Arbitrary<Reading> = fc
  .tuple(fieldsArb, fc.option(fc.record({ bootCount: fc.nat({ max: 0xffffffff }), uptimeMs: fc.nat({ max: 1e12 }) }), { freq: 4 }))
  .map(([r, v2]) => (v2 === null ? r : { ...r, ...v2 }));

/** decodeReading's answer in readingFields' shape, or its error message. */
function reference(bytes: Uint8Array): unknown {
  try {
    const r = decodeReading(bytes);
    return {
      version: bytes[0],
      deviceId: r.deviceId,
      seq: r.seq,
      t: r.t,
      epoch: r.epoch,
      partialDigest: Buffer.from(r.partialDigest).toString('hex'),
      bootCount: r.bootCount ?? 0,
      uptimeMs: r.uptimeMs ?? 0,
    };
  } catch (err) {
    return (err as Error).message;
  }
}

function fast(bytes: Uint8Array): unknown {
  // Embedded at an offset, as in a batch frame.
  const framed = Buffer.concat([Buffer.from([9, 9, 9]), Buffer.from(bytes), Buffer.from([7])]);
  try {
    const f = readingFields(framed, 3, bytes.length);
    return {
      version: f.version,
      deviceId: f.deviceId,
      seq: f.seq,
      t: f.t,
      epoch: f.epoch,
      partialDigest: Buffer.from(f.partialDigest).toString('hex'),
      bootCount: f.bootCount,
      uptimeMs: f.uptimeMs,
    };
  } catch (err) {
    return (err as Error).message;
  }
}

describe('readingFields', () => {
  it('agrees with decodeReading on valid readings and on every single-byte mutation of them', () => {
    fc.assert(
      fc.property(readingArb, fc.nat(), fc.nat({ max: 255 }), (r, where, value) => {
        const bytes = encodeReading(r);
        expect(fast(bytes)).toEqual(reference(bytes));
        const mutated = Uint8Array.from(bytes);
        mutated[where % mutated.length] = value;
        expect(fast(mutated)).toEqual(reference(mutated));
        const shorter = bytes.subarray(0, where % bytes.length);
        expect(fast(shorter)).toEqual(reference(shorter));
      }),
      { numRuns: 500 },
    );
  });

  it('agrees with decodeReading on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 260 }), (bytes) => {
        expect(fast(bytes)).toEqual(reference(bytes));
      }),
      { numRuns: 500 },
    );
  });

  it('in columns: per reading the same fields, device indexes in order of first appearance, problems kept', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(readingArb.map(encodeReading), fc.uint8Array({ minLength: 1, maxLength: 80 })), { minLength: 1, maxLength: 30 }),
        (list) => {
          const data = Buffer.concat(list.map((b) => Buffer.from(b)));
          const at = new Uint32Array(list.length);
          const len = new Uint16Array(list.length);
          let o = 0;
          list.forEach((b, i) => {
            at[i] = o;
            len[i] = b.length;
            o += b.length;
          });
          const skip = list.map((_, i) => (i === 0 ? 'given' : undefined));
          const c = readingColumns(data, at, len, list.length, skip);
          expect(c.problem[0]).toBe('given');
          const seen: string[] = [];
          list.forEach((b, i) => {
            if (i === 0) return expect(c.dev[0]).toBe(-1);
            const ref = reference(b);
            if (typeof ref === 'string') {
              expect(c.dev[i]).toBe(-1);
              expect(c.problem[i]).toBe(ref);
              return;
            }
            const f = ref as {
              version: number;
              deviceId: string;
              seq: number;
              t: number;
              epoch: number;
              partialDigest: string;
              bootCount: number;
              uptimeMs: number;
            };
            if (!seen.includes(f.deviceId)) seen.push(f.deviceId);
            expect(c.devices[c.dev[i] as number]).toBe(f.deviceId);
            expect([
              c.version[i],
              c.seq[i],
              c.t[i],
              c.epoch[i],
              c.digest.toString('hex', 32 * i, 32 * i + 32),
              c.bootCount[i],
              c.uptimeMs[i],
            ]).toEqual([f.version, f.seq, f.t, f.epoch, f.partialDigest, f.bootCount, f.uptimeMs]);
          });
          expect(c.devices).toEqual(seen);
        },
      ),
      { numRuns: 300 },
    );
  });
});

/**
 * The packed batch (shared/encoding/batch.ts): what the edge packs is what the contract reads,
 * a frame it cannot walk is refused as a whole naming the field, and what concerns one reading
 * (its route) is reported for that reading only.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseBatchArg } from '../../ledger-bridge/contracts/logic/batch-input.js';
import {
  decodePackedBatch,
  encodePackedBatch,
  packedBatchArg,
  packedBatchBytes,
  packedReadingProblem,
  packReadingBatch,
  parseBatchArgument,
  type PackableReading,
} from '../../shared/encoding/batch.js';
import { ProvenantError } from '../../shared/errors.js';

const ident = fc.stringMatching(/^[\x21-\x7e]{1,20}$/);
const reading: fc.Arbitrary<PackableReading> = fc.record({
  canonical: fc.uint8Array({ minLength: 1, maxLength: 300 }),
  tag: fc.uint8Array({ minLength: 32, maxLength: 32 }),
  edgeId: fc.constantFrom('edge-1', 'edge-2'),
  receivedAt: fc.oneof(fc.constant(0), fc.constant(Number.MAX_SAFE_INTEGER), fc.integer({ min: 0, max: 2 ** 48 })),
  path: fc.array(ident, { minLength: 1, maxLength: 8 }).map((p) => (p.length > 2 ? p.slice(0, 2) : p)),
});

describe('packed batch', () => {
  it('decodes to exactly what was packed (readings, routes, partials), whatever the contents', () => {
    fc.assert(
      fc.property(fc.array(reading, { minLength: 1, maxLength: 40 }), fc.array(fc.dictionary(ident, ident), { maxLength: 3 }), (rs, ps) => {
        const bytes = encodePackedBatch(rs, ps as never[]);
        const b = decodePackedBatch(bytes);
        expect(b.count).toBe(rs.length);
        expect(b.partials).toEqual(ps);
        rs.forEach((r, i) => {
          const at = b.canonicalAt[i] as number;
          const len = b.canonicalLength[i] as number;
          expect(Buffer.from(b.bytes.subarray(at, at + len)).equals(Buffer.from(r.canonical))).toBe(true);
          expect(Buffer.from(b.bytes.subarray(at + len, at + len + 32)).equals(Buffer.from(r.tag))).toBe(true);
          expect(b.receivedAt[i]).toBe(r.receivedAt);
          expect(b.routes[b.route[i] as number]).toEqual({ edgeId: r.edgeId, path: r.path });
          expect(packedReadingProblem(b, i)).toBeUndefined();
        });
        // Same (edgeId, path) once in the table.
        expect(new Set(b.routes.map((x) => JSON.stringify(x))).size).toBe(b.routes.length);
        // The contract takes it as base64 and reads the same frame.
        const input = parseBatchArg(packedBatchArg(bytes));
        expect(input.count).toBe(rs.length);
        expect([...input.receivedAt]).toEqual(rs.map((r) => r.receivedAt));
      }),
      { numRuns: 200 },
    );
  });

  it('refuses every truncation and trailing bytes, naming where', () => {
    const bytes = encodePackedBatch(
      [
        { canonical: new Uint8Array(70).fill(1), tag: new Uint8Array(32).fill(2), edgeId: 'e1', receivedAt: 5, path: ['a', 'b'] },
        { canonical: new Uint8Array(9).fill(3), tag: new Uint8Array(32).fill(4), edgeId: 'e1', receivedAt: 6, path: ['a', 'b'] },
      ],
      [{ partialDigest: 'x' } as never],
    );
    for (let n = 0; n < bytes.length; n++) {
      let err: unknown;
      try {
        decodePackedBatch(bytes.subarray(0, n));
      } catch (e) {
        err = e;
      }
      expect(err, `prefix of ${n} bytes`).toBeInstanceOf(ProvenantError);
      expect((err as ProvenantError).code).toBe('PROV_ERR_BAD_INPUT');
      expect((err as Error).message).toMatch(/^packed batch: (truncated|no routes|unknown format|0 readings)/);
    }
    expect(() => decodePackedBatch(Buffer.concat([bytes, Buffer.from([0])]))).toThrow(/1 trailing bytes/);
    const wrong = Buffer.from(bytes);
    wrong[0] = 1;
    expect(() => decodePackedBatch(wrong)).toThrow(/unknown format 1/);
  });

  it('reports a bad route or route index for its readings only', () => {
    const good = packReadingBatch({
      readings: [
        { canonical: '01', tag: '00'.repeat(32), edgeId: 'e1', receivedAt: 1, path: ['p'] },
        { canonical: '02', tag: '00'.repeat(32), edgeId: 'e2', receivedAt: 1, path: ['q'] },
      ],
      partials: [],
    });
    const b = Buffer.from(good);
    // routes start at byte 2: [len 2]'e1'[1 hop][len 1]'p'; make e1's edgeId non-printable.
    expect(b.toString('latin1', 3, 5)).toBe('e1');
    b[3] = 0x20;
    const decoded = decodePackedBatch(b);
    expect(packedReadingProblem(decoded, 0)).toMatch(/edgeId must be 1..64 printable/);
    expect(packedReadingProblem(decoded, 1)).toBeUndefined();
    // A route index past the table.
    const idx = decoded.canonicalAt[1] as number;
    b[idx - 11] = 7;
    expect(packedReadingProblem(decodePackedBatch(b), 1)).toMatch(/route 7 is not in the batch's route table/);
  });

  it('reads back as the same ReadingBatch as its JSON form (what the provenance follower takes from a block)', () => {
    const batch = {
      version: 1 as const,
      readings: [
        { canonical: 'a1b2', tag: 'cd'.repeat(32), edgeId: 'e1', receivedAt: 5, path: ['device:d', 'edge:e1'] },
        { canonical: '01', tag: 'ef'.repeat(32), edgeId: 'e2', receivedAt: 2 ** 40, path: ['x'] },
      ],
      partials: [{ partialDigest: 'ab' } as never],
    };
    expect(parseBatchArgument(packedBatchArg(packReadingBatch(batch)))).toEqual(parseBatchArgument(JSON.stringify(batch)));
    expect(() => parseBatchArgument('not a batch')).toThrow(/neither ReadingBatch JSON nor base64/);
  });

  it('tells base64 from anything else', () => {
    expect(packedBatchBytes('AAEC')).toEqual(Buffer.from([0, 1, 2]));
    for (const s of ['', 'AAE', 'AA!C', 'AA=C', 'AAAA====', 'not json']) expect(packedBatchBytes(s), s).toBeUndefined();
    expect(() => encodePackedBatch([])).toThrow(/1..10000 readings/);
    expect(() =>
      encodePackedBatch([{ canonical: new Uint8Array(1), tag: new Uint8Array(31), edgeId: 'e', receivedAt: 0, path: ['p'] }]),
    ).toThrow(/tag: 32 bytes/);
    expect(() =>
      encodePackedBatch([{ canonical: new Uint8Array(1), tag: new Uint8Array(32), edgeId: 'e e', receivedAt: 0, path: ['p'] }]),
    ).toThrow(/edgeId must be 1..64 printable/);
  });
});

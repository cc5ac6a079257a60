import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type TxEnvelope,
  decodeEnvelope,
  decodeHeader,
  encodeEnvelope,
  encodeHeader,
  envelopeSize,
  splitVersion,
  versionOf,
} from '../../ledger-bridge/embedded/codec.js';

const bytes = (min = 0, max = 64) => fc.uint8Array({ minLength: min, maxLength: max });
const hash = bytes(32, 32);
const kv = fc.record({ key: fc.string({ minLength: 1, maxLength: 40 }), version: fc.nat({ max: 2 ** 40 }) });

const envelope: fc.Arbitrary<TxEnvelope> = fc.record({
  txId: fc.string({ minLength: 1, maxLength: 64 }),
  timestamp: fc.nat({ max: 2 ** 50 }),
  mspId: fc.string({ maxLength: 20 }),
  creator: fc.string({ maxLength: 60 }),
  contract: fc.string({ maxLength: 30 }),
  fn: fc.string({ maxLength: 30 }),
  // Text, and sometimes a binary argument (envelope version 2: recordBatch's packed batch as bytes).
  args: fc.array(fc.oneof({ arbitrary: fc.string({ maxLength: 200 }), weight: 4 }, { arbitrary: bytes(0, 200), weight: 1 }), {
    maxLength: 5,
  }),
  reads: fc.array(kv, { maxLength: 5 }),
  ranges: fc.array(
    fc.record({ start: fc.string({ maxLength: 20 }), end: fc.string({ maxLength: 20 }), results: fc.array(kv, { maxLength: 3 }) }),
    { maxLength: 2 },
  ),
  writes: fc.array(fc.record({ key: fc.string({ minLength: 1, maxLength: 40 }), value: fc.option(bytes(1, 100), { nil: null }) }), {
    maxLength: 5,
  }),
  privateReads: fc.array(fc.record({ collection: fc.string({ maxLength: 10 }), keyHash: hash, version: fc.nat({ max: 2 ** 40 }) }), {
    maxLength: 2,
  }),
  privateWrites: fc.array(
    fc.record({ collection: fc.string({ maxLength: 10 }), keyHash: hash, valueHash: fc.option(hash, { nil: null }) }),
    { maxLength: 2 },
  ),
  event: fc.option(fc.record({ name: fc.string({ minLength: 1, maxLength: 20 }), payload: bytes() }), { nil: null }),
  result: bytes(0, 100),
  code: fc.constantFrom(0, 2, 11, 12),
});

describe('block and envelope codec', () => {
  it('round-trips every envelope byte for byte (property)', () => {
    fc.assert(
      fc.property(envelope, (e) => {
        const b = encodeEnvelope(e);
        const d = decodeEnvelope(b);
        expect(d).toEqual(e);
        expect(encodeEnvelope(d)).toEqual(b);
      }),
      { numRuns: 200 },
    );
  });

  it('sizes an envelope exactly up front when its text is ASCII, and never too large otherwise (property)', () => {
    // Exact: ByteWriter.finish() then returns its buffer without a copy (the commit path's envelopes
    // are ~95 kB). Non-ASCII text takes more bytes than characters, so the estimate is short, never over.
    const size = (e: TxEnvelope): number =>
      envelopeSize(
        e,
        e.reads.map((r): [string, number] => [r.key, r.version]),
        e.writes.map((w): [string, Uint8Array | null] => [w.key, w.value]),
      );
    const ascii = (e: TxEnvelope): boolean =>
      [
        e.txId,
        e.mspId,
        e.creator,
        e.contract,
        e.fn,
        ...e.args.filter((a): a is string => typeof a === 'string'),
        ...e.reads.map((r) => r.key),
        ...e.ranges.flatMap((q) => [q.start, q.end, ...q.results.map((r) => r.key)]),
        ...e.writes.map((w) => w.key),
        ...e.privateReads.map((p) => p.collection),
        ...e.privateWrites.map((p) => p.collection),
        e.event?.name ?? '',
      ].every((x) => Buffer.byteLength(x) === x.length);
    let exact = 0;
    fc.assert(
      fc.property(envelope, fc.string({ unit: 'binary', minLength: 1, maxLength: 8 }), (e, text) => {
        const b = encodeEnvelope(e);
        if (ascii(e)) {
          expect(size(e)).toBe(b.length);
          exact++;
        } else expect(size(e)).toBeLessThanOrEqual(b.length);
        const wide = { ...e, args: [...e.args, text] };
        expect(size(wide)).toBeLessThanOrEqual(encodeEnvelope(wide).length);
      }),
      { numRuns: 200 },
    );
    expect(exact).toBeGreaterThan(100);
  });

  it('writes version 1 while every argument is text (earlier chains unchanged) and version 2 with a binary one', () => {
    fc.assert(
      fc.property(envelope, (e) => {
        const binary = e.args.some((a) => typeof a !== 'string');
        const b = encodeEnvelope(e);
        expect(b[0]).toBe(binary ? 2 : 1);
        const d = decodeEnvelope(b);
        d.args.forEach((a, i) => expect(typeof a).toBe(typeof e.args[i]));
        if (!binary) return;
        // The binary argument's bytes are stored as they are: the packed batch once, no base64.
        const arg = e.args.find((a): a is Uint8Array => typeof a !== 'string') as Uint8Array;
        const stored = Buffer.alloc(5 + arg.length);
        stored[0] = 1; // kind: bytes
        stored.writeUInt32BE(arg.length, 1);
        stored.set(arg, 5);
        expect(Buffer.from(b).indexOf(stored)).toBeGreaterThan(0);
        // A version-2 envelope must carry a binary argument: the same bytes with text only are version 1's.
        const text = encodeEnvelope({ ...e, args: e.args.map((a) => (typeof a === 'string' ? a : '')) });
        const forged = new Uint8Array(text);
        forged[0] = 2;
        expect(() => decodeEnvelope(forged)).toThrow();
      }),
      { numRuns: 200 },
    );
  });

  it('refuses truncated envelopes, trailing bytes and unknown versions', () => {
    fc.assert(
      fc.property(envelope, fc.nat(), (e, cut) => {
        const b = encodeEnvelope(e);
        const at = cut % b.length;
        expect(() => decodeEnvelope(b.slice(0, at))).toThrow(RangeError);
        expect(() => decodeEnvelope(new Uint8Array([...b, 0]))).toThrow(/trailing/);
      }),
      { numRuns: 100 },
    );
    const b = encodeEnvelope({
      txId: 'a',
      timestamp: 1,
      mspId: '',
      creator: '',
      contract: '',
      fn: '',
      args: [],
      reads: [],
      ranges: [],
      writes: [],
      privateReads: [],
      privateWrites: [],
      event: null,
      result: new Uint8Array(0),
      code: 0,
    });
    b[0] = 9;
    expect(() => decodeEnvelope(b)).toThrow(/version 9/);
  });

  it('round-trips headers (117 bytes) and checks hash lengths', () => {
    fc.assert(
      fc.property(
        fc.nat({ max: 2 ** 48 }),
        fc.nat({ max: 2 ** 50 }),
        fc.nat({ max: 65_535 }),
        hash,
        hash,
        hash,
        (number, timestamp, txCount, previousHash, dataHash, chainRoot) => {
          const h = { number, timestamp, txCount, previousHash, dataHash, chainRoot };
          const b = encodeHeader(h);
          expect(b.length).toBe(117);
          expect(decodeHeader(b)).toEqual(h);
        },
      ),
      { numRuns: 100 },
    );
    expect(() =>
      encodeHeader({
        number: 1,
        timestamp: 1,
        txCount: 0,
        previousHash: new Uint8Array(31),
        dataHash: new Uint8Array(32),
        chainRoot: new Uint8Array(32),
      }),
    ).toThrow(/previousHash must be 32 bytes/);
    expect(() =>
      encodeHeader({
        number: -1,
        timestamp: 1,
        txCount: 0,
        previousHash: new Uint8Array(32),
        dataHash: new Uint8Array(32),
        chainRoot: new Uint8Array(32),
      }),
    ).toThrow(RangeError);
  });

  it('packs versions so they order like (block, tx index)', () => {
    expect(versionOf(3, 7)).toBeLessThan(versionOf(3, 8));
    expect(versionOf(3, 65_535)).toBeLessThan(versionOf(4, 0));
    expect(splitVersion(versionOf(123_456, 789))).toEqual({ block: 123_456, txIndex: 789 });
  });
});

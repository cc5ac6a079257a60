import fc from 'fast-check';
import { DOMAIN_READING, ledgerKeys, readingTag } from '../../shared/crypto/domains.js';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../ledger-bridge/contracts/logic/canonical.js';
import { expectedResponse } from '../../ledger-bridge/contracts/logic/device-proof.js';
import { PreparedMac, sha256Hex } from '../../ledger-bridge/contracts/logic/mac.js';
import { decideVerify, parseLocator } from '../../ledger-bridge/contracts/logic/verify.js';
import { hmacSha256 } from '../../shared/crypto/hmac.js';
import { deviceChallengeResponse } from '../../shared/crypto/outsourced.js';
import { sha256 } from '../../shared/crypto/sha256.js';
import { toSubmission, type ProvenanceRecord } from '../../shared/records.js';
import { complete } from '../../shared/crypto/complete.js';
import { packedBatchArg, packReadingBatch } from '../../shared/encoding/batch.js';
import { inThreadCrypto } from '../../ledger-bridge/contracts/logic/batch-crypto.js';
import { parseBatchArg } from '../../ledger-bridge/contracts/logic/batch-input.js';
import { judgeBatch } from '../../ledger-bridge/contracts/logic/readings.js';
import { ReplayWindow } from '../../ledger-bridge/contracts/logic/replay-window.js';
import { encodeReading } from '../../shared/encoding/reading.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('canonicalJson', () => {
  it('sorts keys at every depth and drops undefined members', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: 'x' }, u: undefined })).toBe(
      '{"a":{"c":"x","d":[3,{"y":2,"z":1}]},"b":1}',
    );
  });

  it('is independent of key insertion order and parses back to the same value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const text = canonicalJson(v);
        expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(v)));
        const reversed = JSON.parse(text, (_k, x: unknown) =>
          x !== null && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).reverse()) : x,
        ) as unknown;
        expect(canonicalJson(reversed)).toBe(text);
      }),
    );
  });

  it('refuses values JSON cannot carry faithfully', () => {
    expect(() => canonicalJson(Number.NaN)).toThrow(RangeError);
    expect(() => canonicalJson(new Date(0))).toThrow(TypeError);
    expect(() => canonicalJson(1n)).toThrow(TypeError);
  });
});

describe('hot-path MAC', () => {
  it('PreparedMac equals the shared RFC 2104 HMAC the device uses (complete.ts)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 64 }), fc.uint8Array({ maxLength: 300 }), (key, msg) => {
        const prepared = new PreparedMac(key);
        const tag = hmacSha256(sha256, key, msg);
        expect(hex(prepared.mac(msg))).toBe(hex(tag));
        expect(prepared.verify(msg, tag)).toBe(true);
        const wrong = Uint8Array.from(tag);
        wrong[0] = (wrong[0] as number) ^ 1;
        expect(prepared.verify(msg, wrong)).toBe(false);
        expect(prepared.verify(msg, tag.subarray(0, 31))).toBe(false);
      }),
    );
    expect(sha256Hex(new Uint8Array([1, 2, 3]))).toBe(hex(sha256(new Uint8Array([1, 2, 3]))));
  });

  it('PreparedMac with a label equals HMAC over label ‖ message (the reading tag under K_tag)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ maxLength: 230 }), (key, msg) => {
        expect(hex(new PreparedMac(key, DOMAIN_READING).mac(msg))).toBe(hex(readingTag(sha256, key, msg)));
      }),
    );
  });

  it('the contract expects the challenge response the device derives from K_IoT, and checks it with K_chal alone', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ minLength: 16, maxLength: 64 }), (k, c) => {
        expect(hex(expectedResponse(ledgerKeys(sha256, k).kChal, c))).toBe(hex(deviceChallengeResponse(sha256, k, c)));
      }),
    );
  });
});

describe('Alg. 3 decision (pure)', () => {
  const rec = (seq: number, dataHash: string, tag: string): ProvenanceRecord => ({
    dataHash,
    deviceId: 'd',
    edgeId: 'e',
    epoch: 1,
    partialDigest: '00'.repeat(32),
    path: ['device:d'],
    receivedAt: 1,
    seq,
    status: 'valid',
    t: 5,
    tag,
    txId: 'tx',
  });
  const H1 = '11'.repeat(32);
  const H2 = '22'.repeat(32);
  const TAG1 = 'aa'.repeat(32);
  const TAG2 = 'bb'.repeat(32);

  it('parses locators', () => {
    expect(parseLocator('7')).toEqual({ by: 'seq', seq: 7 });
    expect(parseLocator('seq:7')).toEqual({ by: 'seq', seq: 7 });
    expect(parseLocator('t:1700000000000')).toEqual({ by: 't', t: 1700000000000 });
    for (const bad of ['', '-1', '07', 'seq:', 't:x', '4294967296', '1.5'])
      expect(() => parseLocator(bad), bad).toThrow(/PROV_ERR_BAD_INPUT/);
  });

  it('walks the branches in the algorithm order', () => {
    const at = { by: 't' as const, t: 5 };
    expect(() => decideVerify('d', at, [], H1, TAG1)).toThrow(/^PROV_ERR_RECORD_NOT_FOUND: could not locate the record/);
    expect(() => decideVerify('d', at, [rec(1, H1, TAG1)], H1, TAG2)).toThrow(/^PROV_ERR_SIGNATURE_MISMATCH: signature mismatch/);
    expect(decideVerify('d', at, [rec(1, H1, TAG1)], H1, TAG1).verdict).toBe('TRUE');
    expect(decideVerify('d', at, [rec(1, H1, TAG1)], H2, TAG1).verdict).toBe('FALSE');
    expect(decideVerify('d', at, [rec(1, H1, TAG1)], H2, '').verdict).toBe('FALSE');
    // two readings stamped with the same t: the tag and the hash pick the right one
    const both = [rec(1, H1, TAG1), rec(2, H2, TAG2)];
    expect(decideVerify('d', at, both, H2, '').record.seq).toBe(2);
    expect(decideVerify('d', at, both, H2, TAG2)).toMatchObject({ verdict: 'TRUE', record: { seq: 2 } });
    expect(decideVerify('d', at, both, H2, TAG1)).toMatchObject({ verdict: 'FALSE', record: { seq: 1 } });
  });

  it('a provenance record built in key order serialises to its canonical JSON', () => {
    const r = rec(3, H1, TAG1);
    expect(JSON.stringify(r)).toBe(canonicalJson(r));
  });
});

/**
 * A test view: one active device with key `kIoT` (the ledger holds its K_tag), partial digest
 * 04…04 of edge e1, no records on the ledger, commit time 1,000,000 with a 500 ms skew.
 */
function testView(kIoT: Uint8Array, recorded = new Map<string, string>()) {
  const partial = {
    deviceId: 'd1',
    disclosed: {},
    disclosedIndexes: [0],
    edgeId: 'e1',
    epoch: 2,
    partialDigest: '04'.repeat(32),
    ph: '',
    policyId: 'p',
    proof: '',
    txId: 't0',
  };
  const windows = new Map<string, ReplayWindow>();
  return {
    callerEdgeId: 'e1',
    device: async () => ({ status: 'active' as const, gatewayId: 'e1' }) as never,
    kTag: async () => ledgerKeys(sha256, kIoT).kTag,
    clock: async () => ({ commitMs: 1_000_000, skewMs: 500 }),
    partial: async (d: string) => (d === '04'.repeat(32) ? { ok: true as const, partial } : undefined),
    recordedHash: async (deviceId: string, seq: number) => recorded.get(`${deviceId}/${seq}`),
    recordedNeighbours: async () => ({}),
    policyAccepted: async (id: string) => id === 'p',
    window: async (deviceId: string) => {
      if (!windows.has(deviceId)) windows.set(deviceId, ReplayWindow.empty());
      return windows.get(deviceId) as ReplayWindow;
    },
  };
}

describe('judgeBatch (pure, over a test view)', () => {
  const kIoT = new Uint8Array(32).fill(3);
  const reading = (seq: number) => ({
    deviceId: 'd1',
    seq,
    t: 1000 + seq,
    epoch: 2,
    partialDigest: new Uint8Array(32).fill(4),
    batteryMv: 3000,
    channels: [],
    bootCount: 3,
    uptimeMs: 5000 + seq,
  });
  const sub = (seq: number, overrides: Partial<ReturnType<typeof reading>> = {}) => {
    const r = { ...reading(seq), ...overrides };
    return toSubmission({ reading: r, tag: complete(sha256, kIoT, r) }, 'e1', 1001, ['device:d1']);
  };

  it('accepts new seqs and refuses a second use of one in the same batch (duplicate when identical), in both encodings', async () => {
    const batch = { version: 1 as const, readings: [sub(9), sub(10), sub(9)], partials: [] };
    for (const arg of [JSON.stringify(batch), packedBatchArg(packReadingBatch(batch))]) {
      const out = await judgeBatch(testView(kIoT), parseBatchArg(arg), inThreadCrypto);
      expect([...out.accepted].map((i) => out.seq[i])).toEqual([9, 10]);
      expect(out.rejected).toMatchObject([{ index: 2, reason: 'REPLAY', duplicate: true }]);
      expect(out.dataHash.toString('hex', 0, 32)).toBe(hex(sha256(Buffer.from(sub(9).canonical, 'hex'))));
      expect([...out.accepted].map((i) => [out.bootCount[i], out.uptimeMs[i]])).toEqual([
        [3, 5009],
        [3, 5010],
      ]);
    }
  });

  it('refuses a version 1 reading (tag under K_IoT) as MALFORMED and a reading ahead of the commit time as CLOCK_AHEAD', async () => {
    const v1 = { ...reading(5), bootCount: undefined, uptimeMs: undefined };
    const v1Sub = toSubmission({ reading: v1, tag: hmacSha256(sha256, kIoT, encodeReading(v1)) }, 'e1', 1001, ['device:d1']);
    const batch = {
      version: 1 as const,
      readings: [v1Sub, sub(6, { t: 1_000_500 }), sub(7, { t: 1_000_501 }), sub(8, { t: 1_000_500 })],
      partials: [],
    };
    const out = await judgeBatch(testView(kIoT), parseBatchArg(packedBatchArg(packReadingBatch(batch))), inThreadCrypto);
    expect(out.rejected).toMatchObject([
      { index: 0, deviceId: 'd1', seq: 5, reason: 'MALFORMED', message: expect.stringMatching(/reading version 1 is no longer accepted/) },
      { index: 2, seq: 7, reason: 'CLOCK_AHEAD', message: expect.stringMatching(/501 ms ahead of the commit time/) },
    ]);
    expect([...out.accepted].map((i) => out.seq[i])).toEqual([6, 8]);
  });

  it('CLOCK_BACKWARDS: t non-decreasing in seq per device, against the window highest without a lookup, and against both neighbours for a late reading', async () => {
    const view = testView(kIoT);
    const asked: number[] = [];
    const neighbours = new Map([[20, { below: { seq: 18, t: 1018 }, above: { seq: 22, t: 1022 } }]]);
    const counting = {
      ...view,
      recordedNeighbours: async (_d: string, s: number) => (asked.push(s), neighbours.get(s) ?? {}),
    };
    const w = await view.window('d1');
    w.accept(18, 1018);
    w.accept(22, 1022);
    w.accept(30, 1030);
    const out = await judgeBatch(
      counting,
      parseBatchArg(
        JSON.stringify({
          version: 1,
          readings: [
            sub(31, { t: 1029 }), // 0 above H = 30 but earlier than its t
            sub(31, { t: 1030 }), // 1 equal t is fine
            sub(32), // 2 fine (t 1032)
            sub(20, { t: 1017 }), // 3 late: earlier than recorded seq 18
            sub(20, { t: 1023 }), // 4 late: later than recorded seq 22
            sub(20), // 5 late, between its neighbours
            sub(25, { t: 1033 }), // 6 late: later than seq 31, accepted earlier in this batch
            sub(21, { t: 1019 }), // 7 late: seq 20 accepted in this batch (t 1020) is its nearer lower neighbour
          ],
          partials: [],
        }),
      ),
      inThreadCrypto,
    );
    expect(out.rejected.map((r) => [r.index, r.reason])).toEqual([
      [0, 'CLOCK_BACKWARDS'],
      [3, 'CLOCK_BACKWARDS'],
      [4, 'CLOCK_BACKWARDS'],
      [6, 'CLOCK_BACKWARDS'],
      [7, 'CLOCK_BACKWARDS'],
    ]);
    expect(out.rejected[0]!.message).toMatch(/d1 seq 31: t 1029 is earlier than t 1030 of seq 30/);
    expect(out.rejected[1]!.message).toMatch(/t 1017 is earlier than t 1018 of seq 18/);
    expect(out.rejected[2]!.message).toMatch(/t 1023 is later than t 1022 of seq 22/);
    expect(out.rejected[3]!.message).toMatch(/t 1033 is later than t 1030 of seq 31/);
    expect(out.rejected[4]!.message).toMatch(/t 1019 is earlier than t 1020 of seq 20/);
    expect([...out.accepted].map((i) => out.seq[i])).toEqual([31, 32, 20]);
    // Only late readings asked for their recorded neighbours.
    expect(asked).toEqual([20, 20, 20, 25, 21]);
  });

  it('asks the ledger only for numbers the window has seen or that lie below it, and tells resends from replays', async () => {
    const view = testView(kIoT, new Map([['d1/3', hex(sha256(Buffer.from(sub(3).canonical, 'hex')))]]));
    const asked: number[] = [];
    const counting = { ...view, recordedHash: async (d: string, s: number) => (asked.push(s), view.recordedHash(d, s)) };
    const w = await view.window('d1');
    w.accept(3, 1003);
    w.accept(1000, 2000);
    const out = await judgeBatch(
      counting,
      parseBatchArg(JSON.stringify({ version: 1, readings: [sub(1001), sub(3), sub(4)], partials: [] })),
      inThreadCrypto,
    );
    // 1001 is above the window: no lookup; 3 is below it and recorded: a resend; 4 is below it and not recorded: accepted.
    expect(asked).toEqual([3, 4]);
    expect(out.rejected).toMatchObject([{ index: 1, reason: 'REPLAY', duplicate: true }]);
    expect([...out.accepted].map((i) => out.seq[i])).toEqual([1001, 4]);
  });
});

describe('judgeBatch never throws on hostile input', () => {
  it('any JSON value as a reading, or random canonical bytes, gets a verdict, never an exception', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.jsonValue(),
          fc
            .uint8Array({ maxLength: 240 })
            .map((b) => ({ canonical: hex(b) || '00', tag: '00'.repeat(32), edgeId: 'e', receivedAt: 1, path: ['x'] })),
        ),
        async (input) => {
          const view = { ...testView(new Uint8Array(32)), partial: async () => undefined };
          const out = await judgeBatch(
            view,
            parseBatchArg(JSON.stringify({ version: 1, readings: [input], partials: [] })),
            inThreadCrypto,
          );
          expect(out.accepted.length).toBe(0);
          expect(['MALFORMED', 'UNKNOWN_PARTIAL']).toContain(out.rejected[0]?.reason);
        },
      ),
      { numRuns: 300 },
    );
  });
});

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
import type { ProvenanceRecord } from '../../shared/records.js';

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

describe('judgeReading (pure, over a test view)', () => {
  it('builds the record in sorted key order (so JSON.stringify is canonical) and refuses a second use of the seq', async () => {
    const { judgeReading } = await import('../../ledger-bridge/contracts/logic/readings.js');
    const { toSubmission } = await import('../../shared/records.js');
    const { complete } = await import('../../shared/crypto/complete.js');
    const { ledgerKeys, DOMAIN_READING } = await import('../../shared/crypto/domains.js');
    const kIoT = new Uint8Array(32).fill(3);
    const reading = {
      deviceId: 'd1',
      seq: 9,
      t: 1000,
      epoch: 2,
      partialDigest: new Uint8Array(32).fill(4),
      batteryMv: 3000,
      channels: [],
      bootCount: 3,
      uptimeMs: 5000,
    };
    const sub = toSubmission({ reading, tag: complete(sha256, kIoT, reading) }, 'e1', 1001, ['device:d1']);
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
    const view = {
      device: async () => ({ status: 'active' as const }) as never,
      mac: async () => new PreparedMac(ledgerKeys(sha256, kIoT).kTag, DOMAIN_READING),
      clock: async () => ({ commitMs: 2000, skewMs: 500 }),
      partial: async (d: string) => (d === '04'.repeat(32) ? { ok: true as const, partial } : undefined),
      recordedHash: async () => undefined,
      policyAccepted: async (id: string) => id === 'p',
    };
    const inBatch = new Map<string, string>();
    const out = await judgeReading(view, sub, 0, 'tx1', inBatch);
    expect(out.ok).toBe(true);
    if (out.ok) {
      expect(out.record).toMatchObject({ bootCount: 3, uptimeMs: 5000, t: 1000 });
      expect(Object.keys(out.record)).toEqual(Object.keys(out.record).slice().sort());
      expect(JSON.stringify(out.record)).toBe(canonicalJson(out.record));
    }
    const again = await judgeReading(view, sub, 1, 'tx1', inBatch);
    expect(again).toMatchObject({ ok: false, rejected: { reason: 'REPLAY', duplicate: true, index: 1 } });
  });
});

describe('judgeReading never throws on hostile input', () => {
  it('any JSON value, or a submission with random canonical bytes, gets a verdict, never an exception', async () => {
    const { judgeReading } = await import('../../ledger-bridge/contracts/logic/readings.js');
    const view = {
      device: async () => ({ status: 'active' as const }) as never,
      mac: async () => new PreparedMac(new Uint8Array(32)),
      clock: async () => ({ commitMs: 0, skewMs: 0 }),
      partial: async () => undefined,
      recordedHash: async () => undefined,
      policyAccepted: async () => true,
    };
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.jsonValue(),
          fc
            .uint8Array({ maxLength: 240 })
            .map((b) => ({ canonical: hex(b) || '00', tag: '00'.repeat(32), edgeId: 'e', receivedAt: 1, path: ['x'] })),
        ),
        async (input) => {
          const out = await judgeReading(view, input, 0, 'tx', new Map());
          expect(out.ok).toBe(false);
          if (!out.ok) expect(['MALFORMED', 'UNKNOWN_PARTIAL']).toContain(out.rejected.reason);
        },
      ),
      { numRuns: 300 },
    );
  });
});

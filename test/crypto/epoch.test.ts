/**
 * Epoch signatures and the offline check (shared/crypto/epoch.ts, evidence.ts): SIG bodies round
 * trip and refuse malformed input by field; a reading with its evidence passes checkEvidence, and
 * every attack on it fails at the step that catches it — a forged reading with a valid K_IoT tag
 * (what the ledger operator, who holds K_tag, can make), changed data, a swapped path, another
 * device's evidence, a segment moved to another epoch or digest, a forged key-set link, a
 * signature under a key nobody registered.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { sha256 } from '../../shared/crypto/sha256.js';
import { completeBytes } from '../../shared/crypto/complete.js';
import { inclusionPath, merkleRoot } from '../../shared/crypto/accumulator.js';
import {
  bodyMessage,
  decodeSignatureBody,
  encodeSignatureBody,
  signedMessage,
  epochHeader,
  verifyEpochBody,
  type EpochSegment,
  type SignatureBody,
} from '../../shared/crypto/epoch.js';
import { checkEvidence, type SignatureEvidence } from '../../shared/crypto/evidence.js';
import {
  lmotsParams,
  lmsAuthPath,
  lmsParams,
  lmsPublicKey,
  lmsSign,
  lmsTree,
  LMOTS_SHA256_N24_W4,
  LMS_SHA256_M24_H5,
} from '../../shared/crypto/lms.js';
import { encodeReading } from '../../shared/encoding/reading.js';
import { toHex } from '../../shared/encoding/hex.js';

const LMS = lmsParams(LMS_SHA256_M24_H5);
const OTS = lmotsParams(LMOTS_SHA256_N24_W4);

/** A signer the way a board is one: key sets of 32 leaves, each vouching for the next. */
function keySet(n: number): { I: Uint8Array; seed: Uint8Array; tree: Uint8Array; pub: Uint8Array } {
  const I = new Uint8Array(16).fill(n + 1);
  const seed = new Uint8Array(24).fill(n + 101);
  const tree = lmsTree(sha256, LMS, OTS, I, seed);
  return { I, seed, tree, pub: lmsPublicKey(LMS, OTS, I, tree.subarray(0, 24)) };
}
const sets = [keySet(0), keySet(1)];
const sign = (k: number, q: number, M: Uint8Array): Uint8Array => {
  const s = sets[k]!;
  return lmsSign(sha256, LMS, OTS, s.I, s.seed, q, M, lmsAuthPath(s.tree, LMS, q));
};
/** A body signed by key set k's leaf q (its signature field is filled in). */
const signed = (k: number, q: number, b: SignatureBody): SignatureBody => ({ ...b, signature: sign(k, q, bodyMessage(sha256, DEVICE, b)) });
const DEVICE = 'plant3-t-0001';
const kIoT = new Uint8Array(32).fill(7);
const digest = new Uint8Array(32).fill(9);

function readings(epoch: number, firstSeq: number, count: number): Uint8Array[] {
  return Array.from({ length: count }, (_, i) =>
    encodeReading({
      deviceId: DEVICE,
      seq: firstSeq + i,
      t: 1_700_000_000_000 + i * 1000,
      epoch,
      partialDigest: digest,
      batteryMv: 3000,
      channels: [{ id: 0, scale: -2, value: 2000 + i }],
    }),
  );
}

function segmentOf(epoch: number, firstSeq: number, rs: Uint8Array[]): EpochSegment {
  return {
    epoch,
    partialDigest: digest,
    firstSeq,
    count: rs.length,
    root: merkleRoot(
      sha256,
      rs.map((r) => sha256(r)),
    )!,
  };
}

const rs = readings(5, 100, 13);
const seg = segmentOf(5, 100, rs);
const keySetBody = signed(0, 30, { kind: 'keyset', keySet: 1, publicKey: sets[1]!.pub, signature: new Uint8Array(0) });
const epochBody = signed(1, 4, { kind: 'epoch', keySet: 1, segment: seg, signature: new Uint8Array(0) });

function evidenceFor(i: number, body: SignatureBody = epochBody, leaves = rs.map((r) => sha256(r))): SignatureEvidence {
  return {
    version: 1,
    deviceId: DEVICE,
    registeredKey: toHex(sets[0]!.pub),
    keySets: [toHex(encodeSignatureBody(keySetBody))],
    epochSignature: toHex(encodeSignatureBody(body)),
    leafIndex: i,
    path: inclusionPath(sha256, leaves, i).map(toHex),
  };
}

describe('SIG bodies', () => {
  it('M = SHA-256("pv2:s" ‖ u8 len ‖ deviceId ‖ header)', () => {
    const h = epochHeader(1, seg);
    expect(h.length).toBe(81);
    expect(toHex(bodyMessage(sha256, DEVICE, epochBody))).toBe(
      toHex(sha256(new Uint8Array([...Buffer.from('pv2:s'), DEVICE.length, ...Buffer.from(DEVICE), ...h]))),
    );
    expect(toHex(signedMessage(sha256, DEVICE, h))).toBe(toHex(bodyMessage(sha256, DEVICE, epochBody)));
  });

  it('round trip, with 81 + 1,380 bytes for an epoch and 53 + 1,380 for a key set', () => {
    const e = encodeSignatureBody(epochBody);
    const k = encodeSignatureBody(keySetBody);
    expect(e.length).toBe(1461);
    expect(k.length).toBe(1433);
    expect(decodeSignatureBody(e)).toEqual(epochBody);
    expect(decodeSignatureBody(k)).toEqual(keySetBody);
    expect(verifyEpochBody(sha256, sets[1]!.pub, DEVICE, decodeSignatureBody(e) as never)).toBe(true);
  });

  it('refuse malformed bodies, naming the field', () => {
    const e = encodeSignatureBody(epochBody);
    expect(() => decodeSignatureBody(new Uint8Array(0))).toThrow(/SIG.kind/);
    expect(() => decodeSignatureBody(new Uint8Array([3, ...e.subarray(1)]))).toThrow(/SIG.kind: unknown kind 3/);
    expect(() => decodeSignatureBody(e.subarray(0, 60))).toThrow(/SIG.header/);
    expect(() => decodeSignatureBody(e.subarray(0, e.length - 1))).toThrow(/SIG.signature/);
    expect(() => decodeSignatureBody(new Uint8Array([...e, 0]))).toThrow(/1 bytes after the signature/);
    const zero = e.slice();
    zero.set([0, 0, 0, 0], 45); // count 0
    expect(() => decodeSignatureBody(zero)).toThrow(/SIG.count/);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 1600 }), (b) => {
        try {
          decodeSignatureBody(b);
        } catch (err) {
          expect(err).toBeInstanceOf(RangeError);
        }
      }),
    );
  });
});

describe('checkEvidence', () => {
  it('passes every reading of the signed segment, with public data only', () => {
    rs.forEach((r, i) => {
      const res = checkEvidence(sha256, evidenceFor(i), r, sets[0]!.pub);
      expect(res).toMatchObject({ ok: true, deviceId: DEVICE, seq: 100 + i, epoch: 5, keySet: 1, leaf: 4 });
    });
  });

  it('the ledger operator’s forgery: a valid K_IoT tag, but no signed segment holds it', () => {
    // The operator holds K_tag (here K_IoT): it can tag any bytes, e.g. seq 105 with other values.
    const forged = encodeReading({
      deviceId: DEVICE,
      seq: 105,
      t: 1_700_000_005_000,
      epoch: 5,
      partialDigest: digest,
      batteryMv: 3000,
      channels: [{ id: 0, scale: -2, value: 9999 }],
    });
    expect(completeBytes(sha256, kIoT, forged)).toHaveLength(32); // the HMAC gate would pass it
    expect(checkEvidence(sha256, evidenceFor(5), forged)).toMatchObject({ ok: false, step: 'path' });
    // Nor can it build a segment of its own: it has no LMS key, and a signature from another
    // segment does not cover the root of a tree holding the forgery.
    const leaves = rs.map((r) => sha256(r));
    leaves[5] = sha256(forged);
    expect(checkEvidence(sha256, evidenceFor(5, epochBody, leaves), forged)).toMatchObject({ ok: false, step: 'path' });
    const rogue = segmentOf(5, 100, [...rs.slice(0, 5), forged, ...rs.slice(6)]);
    const rogueBody: SignatureBody = { ...epochBody, segment: rogue } as SignatureBody;
    expect(checkEvidence(sha256, evidenceFor(5, rogueBody, leaves), forged)).toMatchObject({ ok: false, step: 'signature' });
  });

  it('fails at the step that catches each other attack', () => {
    const ev = evidenceFor(3);
    const r = rs[3]!;
    const changed = r.slice();
    changed[changed.length - 1] = changed[changed.length - 1]! ^ 1;
    expect(checkEvidence(sha256, ev, changed)).toMatchObject({ ok: false, step: 'path' });
    expect(checkEvidence(sha256, { ...ev, path: evidenceFor(4).path }, r)).toMatchObject({ ok: false, step: 'path' });
    expect(checkEvidence(sha256, { ...ev, leafIndex: 4 }, r)).toMatchObject({ ok: false, step: 'segment' });
    expect(checkEvidence(sha256, { ...ev, deviceId: 'plant3-t-0002' }, r)).toMatchObject({ ok: false, step: 'data' });
    expect(checkEvidence(sha256, ev, new Uint8Array([9, 9, 9]))).toMatchObject({ ok: false, step: 'data' });
    // Another device's registered key (the verifier's own copy disagrees with the evidence).
    expect(checkEvidence(sha256, ev, r, sets[1]!.pub)).toMatchObject({ ok: false, step: 'key' });
    // A key-set link signed by nobody registered: the chain breaks.
    const rogueLink = signed(1, 30, keySetBody);
    expect(checkEvidence(sha256, { ...ev, keySets: [toHex(encodeSignatureBody(rogueLink))] }, r)).toMatchObject({
      ok: false,
      step: 'chain',
    });
    expect(checkEvidence(sha256, { ...ev, keySets: [] }, r)).toMatchObject({ ok: false, step: 'chain' });
    // Starting the chain at key set 1 as if it were registered: the verifier's trusted key says no.
    expect(checkEvidence(sha256, { ...ev, registeredKey: toHex(sets[1]!.pub), keySets: [] }, r, sets[0]!.pub)).toMatchObject({
      ok: false,
      step: 'key',
    });
    // The segment moved to another epoch or digest (the signature no longer covers it).
    for (const moved of [
      { ...seg, epoch: 6 },
      { ...seg, partialDigest: new Uint8Array(32).fill(1) },
      { ...seg, count: 12 },
    ]) {
      const b = { ...epochBody, segment: moved } as SignatureBody;
      expect(checkEvidence(sha256, evidenceFor(3, b), r)).toMatchObject({ ok: false, step: 'signature' });
    }
    // A reading of another epoch shown with this segment.
    const other = readings(6, 103, 1)[0]!;
    expect(checkEvidence(sha256, ev, other)).toMatchObject({ ok: false, step: 'segment' });
    expect(checkEvidence(sha256, { ...ev, epochSignature: 'zz' }, r)).toMatchObject({ ok: false, step: 'evidence' });
    expect(checkEvidence(sha256, { ...ev, epochSignature: toHex(encodeSignatureBody(keySetBody)) }, r)).toMatchObject({
      ok: false,
      step: 'evidence',
    });
  });
});

/**
 * The outsourced signature end to end on the real BBS (mcl-wasm): one test per threat of
 * BRIEF §3, plus the happy path, disjunctive policies, JSON round trips and malformed input.
 */
import { ledgerKeys } from '../../shared/crypto/domains.js';
import { createHmac } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import * as bbs from '../../shared/crypto/bbs.js';
import { complete } from '../../shared/crypto/complete.js';
import {
  credentialFromJson,
  credentialToJson,
  partialFromJson,
  partialToJson,
  schemaHeader,
  type PartialSignature,
} from '../../shared/crypto/credential.js';
import {
  checkChallengeResponse,
  checkCredential,
  deviceChallengeResponse,
  enrollDevice,
  setup,
  signPartial,
  validatePartial,
  validateReading,
  type Enrollment,
  type Issuer,
} from '../../shared/crypto/outsourced.js';
import { parsePolicy, policyId } from '../../shared/crypto/policy.js';
import { encodePresentationHeader, partialDigest } from '../../shared/crypto/presentation.js';
import { sha256 } from '../../shared/crypto/sha256.js';
import { checkDevice, checkSeq, checkUnseen, REASONS, type Verdict } from '../../shared/crypto/verdict.js';
import { ProvenantError } from '../../shared/errors.js';
import type { Reading, SignedReading } from '../../shared/types.js';

const SCHEMA = ['deviceId', 'site', 'line', 'type', 'owner', 'fw'];
const policy = parsePolicy({ id: 'temp-plant-3', anyOf: [{ site: 'plant-3', type: 'temperature' }] });
const EPOCH = 42;
const EDGE = 'edge-1';

let issuer: Issuer;
let dev1: Enrollment; // plant-3 temperature: satisfies the policy
let dev2: Enrollment; // plant-4 humidity: does not

function attrs(deviceId: string, site: string, type: string): Record<string, string> {
  return { deviceId, site, line: 'line-1', type, owner: 'acme', fw: '1.2.0' };
}

function reading(deviceId: string, partial: { epoch: number; partialDigest: Uint8Array }, seq: number): Reading {
  return {
    deviceId,
    seq,
    t: 1_700_000_000_000 + seq * 1000,
    epoch: partial.epoch,
    partialDigest: partial.partialDigest,
    batteryMv: 3300,
    channels: [{ id: 0, scale: -2, value: 2315 + seq }],
    bootCount: 1,
    uptimeMs: seq * 1000,
  };
}

/** What the ledger holds to check a device's tags: K_tag, derived from K_IoT. */
function kTag(kIoT: Uint8Array): Uint8Array {
  return ledgerKeys(sha256, kIoT).kTag;
}

function signed(kIoT: Uint8Array, r: Reading): SignedReading {
  return { reading: r, tag: complete(sha256, kIoT, r) };
}

function reason(v: Verdict): string | undefined {
  return v.ok ? undefined : v.reason;
}

/** Rebinds a partial's metadata to other fields, with a consistent ph and digest (what a cheating edge would send). */
function rebind(p: PartialSignature, fields: { epoch?: number; edgeId?: string; deviceId?: string }): PartialSignature {
  const epoch = fields.epoch ?? p.epoch;
  const edgeId = fields.edgeId ?? p.edgeId;
  const deviceId = fields.deviceId ?? p.deviceId;
  const ph = encodePresentationHeader({ epoch, edgeId, deviceId, policyId: p.policyId });
  return { ...p, epoch, edgeId, deviceId, disclosed: { ...p.disclosed, deviceId }, ph, partialDigest: partialDigest(sha256, p.proof, ph) };
}

beforeAll(async () => {
  await bbs.ready();
  issuer = setup({ schema: SCHEMA, keyMaterial: new Uint8Array(32).fill(7) });
  dev1 = enrollDevice(issuer, attrs('dev-1', 'plant-3', 'temperature'));
  dev2 = enrollDevice(issuer, attrs('dev-2', 'plant-4', 'humidity'));
});

describe('enrollment (Setup, KeyGen)', () => {
  it('gives the edge a credential that verifies and the ledger a record without secrets', () => {
    expect(dev1.device.kIoT).toHaveLength(32);
    expect(checkCredential(dev1.credential, issuer.pk)).toEqual({ ok: true });
    const json = JSON.stringify({ c: credentialToJson(dev1.credential), r: dev1.registration });
    expect(json).not.toContain(Buffer.from(dev1.device.kIoT).toString('hex'));
    expect(json).not.toContain(Buffer.from(issuer.sk).toString('hex'));
    expect(dev1.registration).toMatchObject({ deviceId: 'dev-1', schema: SCHEMA, attributes: attrs('dev-1', 'plant-3', 'temperature') });
  });

  it('draws a fresh K_IoT per device', () => {
    expect(Buffer.from(dev1.device.kIoT).equals(Buffer.from(dev2.device.kIoT))).toBe(false);
  });

  it('refuses missing and unknown attributes by name', () => {
    const missing = { ...attrs('dev-3', 'plant-3', 'temperature') } as Record<string, string>;
    delete missing['owner'];
    expect(() => enrollDevice(issuer, missing)).toThrow(/missing attribute "owner"/);
    expect(() => enrollDevice(issuer, { ...attrs('dev-3', 'p', 't'), colour: 'red' })).toThrow(/unknown attribute "colour"/);
  });

  it('detects a credential whose attributes were changed after issuance', () => {
    const forged = { ...dev2.credential, attributes: { ...dev2.credential.attributes, site: 'plant-3', type: 'temperature' } };
    expect(reason(checkCredential(forged))).toBe(REASONS.BAD_PROOF);
    expect(reason(checkCredential({ ...dev1.credential, deviceId: 'dev-2' }))).toBe(REASONS.MALFORMED);
    const otherIssuer = setup({ schema: SCHEMA, keyMaterial: new Uint8Array(32).fill(9) });
    expect(reason(checkCredential(dev1.credential, otherIssuer.pk))).toBe(REASONS.BAD_PROOF);
  });

  it('round-trips the credential through its JSON file form', () => {
    const back = credentialFromJson(JSON.parse(JSON.stringify(credentialToJson(dev1.credential))));
    expect(checkCredential(back, issuer.pk)).toEqual({ ok: true });
    const tampered = { ...credentialToJson(dev1.credential), schema: ['deviceId', 'line', 'site', 'type', 'owner', 'fw'] };
    expect(() => credentialFromJson(tampered)).toThrow(/header does not bind its schema/);
  });
});

describe('happy path (SignPartial, Complete, Validate)', () => {
  it('accepts a partial and the readings completed under it', () => {
    const p = signPartial(dev1.credential, { epoch: EPOCH, edgeId: EDGE, policy });
    expect(p.disclosedIndexes).toEqual([0, 1, 3]);
    expect(p.disclosed).toEqual({ deviceId: 'dev-1', site: 'plant-3', type: 'temperature' });
    expect(p.policyId).toBe(policyId(policy));
    expect(validatePartial(issuer.pk, SCHEMA, p, policy, { deviceId: 'dev-1', epoch: EPOCH, edgeId: EDGE })).toEqual({ ok: true });
    for (let seq = 1; seq <= 3; seq++) {
      expect(validateReading(sha256, kTag(dev1.device.kIoT), signed(dev1.device.kIoT, reading('dev-1', p, seq)), p)).toEqual({ ok: true });
    }
  });

  it('survives the JSON trip edge → ledger', () => {
    const p = signPartial(dev1.credential, { epoch: EPOCH, edgeId: EDGE, policy });
    const back = partialFromJson(JSON.parse(JSON.stringify(partialToJson(p))));
    expect(validatePartial(issuer.pk, SCHEMA, back, policy, { deviceId: 'dev-1', epoch: EPOCH, edgeId: EDGE })).toEqual({ ok: true });
  });

  it('makes unlinkable proofs: two partials of the same inputs differ, both valid', () => {
    const a = signPartial(dev1.credential, { epoch: EPOCH, edgeId: EDGE, policy });
    const b = signPartial(dev1.credential, { epoch: EPOCH, edgeId: EDGE, policy });
    expect(Buffer.from(a.proof).equals(Buffer.from(b.proof))).toBe(false);
    expect(validatePartial(issuer.pk, SCHEMA, b, policy, { deviceId: 'dev-1', epoch: EPOCH, edgeId: EDGE })).toEqual({ ok: true });
  });

  it('accepts a disjunctive policy through the one clause the device satisfies, disclosing only it', () => {
    const either = parsePolicy({ id: 'plant-3-temp-or-plant-4', anyOf: [{ site: 'plant-3', type: 'temperature' }, { site: 'plant-4' }] });
    const p2 = signPartial(dev2.credential, { epoch: EPOCH, edgeId: EDGE, policy: either });
    expect(p2.disclosed).toEqual({ deviceId: 'dev-2', site: 'plant-4' });
    expect(validatePartial(issuer.pk, SCHEMA, p2, either, { deviceId: 'dev-2', epoch: EPOCH, edgeId: EDGE })).toEqual({ ok: true });
    const p1 = signPartial(dev1.credential, { epoch: EPOCH, edgeId: EDGE, policy: either });
    expect(p1.disclosed).toEqual({ deviceId: 'dev-1', site: 'plant-3', type: 'temperature' });
    expect(validatePartial(issuer.pk, SCHEMA, p1, either, { deviceId: 'dev-1', epoch: EPOCH, edgeId: EDGE })).toEqual({ ok: true });
  });
});

describe('threats (BRIEF §3): each is rejected with its reason', () => {
  it('forged tag: a changed bit, or changed data under the old tag, is BAD_TAG', () => {
    const p = signPartial(dev1.credential, { epoch: EPOCH, edgeId: EDGE, policy });
    const s = signed(dev1.device.kIoT, reading('dev-1', p, 10));
    const flipped = s.tag.slice();
    flipped[0] = (flipped[0] as number) ^ 1;
    expect(reason(validateReading(sha256, kTag(dev1.device.kIoT), { reading: s.reading, tag: flipped }, p))).toBe(REASONS.BAD_TAG);
    const modified = { ...s.reading, channels: [{ id: 0, scale: -2, value: 9999 }] };
    expect(reason(validateReading(sha256, kTag(dev1.device.kIoT), { reading: modified, tag: s.tag }, p))).toBe(REASONS.BAD_TAG);
  });

  it('wrong device key: a reading tagged with another device\u2019s K_IoT is BAD_TAG', () => {
    const p = signPartial(dev1.credential, { epoch: EPOCH, edgeId: EDGE, policy });
    const s = signed(dev2.device.kIoT, reading('dev-1', p, 11));
    expect(reason(validateReading(sha256, kTag(dev1.device.kIoT), s, p))).toBe(REASONS.BAD_TAG);
  });

  it('proof reused for another epoch: PROOF_BINDING as sent, BAD_PROOF when rebound', () => {
    const p = signPartial(dev1.credential, { epoch: EPOCH, edgeId: EDGE, policy });
    const next = { deviceId: 'dev-1', epoch: EPOCH + 1, edgeId: EDGE };
    expect(reason(validatePartial(issuer.pk, SCHEMA, p, policy, next))).toBe(REASONS.PROOF_BINDING);
    expect(reason(validatePartial(issuer.pk, SCHEMA, rebind(p, { epoch: EPOCH + 1 }), policy, next))).toBe(REASONS.BAD_PROOF);
    // And a reading of the next epoch cannot ride on the old partial.
    const s = signed(dev1.device.kIoT, { ...reading('dev-1', p, 12), epoch: EPOCH + 1 });
    expect(reason(validateReading(sha256, kTag(dev1.device.kIoT), s, p))).toBe(REASONS.WRONG_EPOCH);
  });

  it('proof reused for another device: PROOF_BINDING as sent, BAD_PROOF when rebound', () => {
    const p = signPartial(dev1.credential, { epoch: EPOCH, edgeId: EDGE, policy });
    const other = { deviceId: 'dev-2', epoch: EPOCH, edgeId: EDGE };
    expect(reason(validatePartial(issuer.pk, SCHEMA, p, policy, other))).toBe(REASONS.PROOF_BINDING);
    expect(reason(validatePartial(issuer.pk, SCHEMA, rebind(p, { deviceId: 'dev-2' }), policy, other))).toBe(REASONS.BAD_PROOF);
    // A dev-2 reading pointing at dev-1's partial.
    const s = signed(dev2.device.kIoT, reading('dev-2', p, 1));
    expect(reason(validateReading(sha256, kTag(dev2.device.kIoT), s, p))).toBe(REASONS.PROOF_BINDING);
  });

  it('proof reused by another edge: PROOF_BINDING as sent, BAD_PROOF when rebound', () => {
    const p = signPartial(dev1.credential, { epoch: EPOCH, edgeId: EDGE, policy });
    const other = { deviceId: 'dev-1', epoch: EPOCH, edgeId: 'edge-2' };
    expect(reason(validatePartial(issuer.pk, SCHEMA, p, policy, other))).toBe(REASONS.PROOF_BINDING);
    expect(reason(validatePartial(issuer.pk, SCHEMA, rebind(p, { edgeId: 'edge-2' }), policy, other))).toBe(REASONS.BAD_PROOF);
  });

  it('proof made for another policy of the same name: PROOF_BINDING', () => {
    const loose = parsePolicy({ id: 'temp-plant-3', anyOf: [{ owner: 'acme' }] });
    const p = signPartial(dev2.credential, { epoch: EPOCH, edgeId: EDGE, policy: loose });
    expect(reason(validatePartial(issuer.pk, SCHEMA, p, policy, { deviceId: 'dev-2', epoch: EPOCH, edgeId: EDGE }))).toBe(
      REASONS.PROOF_BINDING,
    );
  });

  it('policy not satisfied: the edge cannot sign it, and a proof of the true attributes is POLICY_UNSATISFIED', () => {
    expect(() => signPartial(dev2.credential, { epoch: EPOCH, edgeId: EDGE, policy })).toThrow(ProvenantError);
    // A cheating edge proves dev-2's real site and type under the policy's id.
    const pid = policyId(policy);
    const ph = encodePresentationHeader({ epoch: EPOCH, edgeId: EDGE, deviceId: 'dev-2', policyId: pid });
    const c = dev2.credential;
    const messages = SCHEMA.map((n) => new TextEncoder().encode(c.attributes[n]));
    const proof = bbs.proofGen(c.issuerPk, c.signature, c.header, ph, messages, [0, 1, 3]);
    const forged: PartialSignature = {
      deviceId: 'dev-2',
      epoch: EPOCH,
      edgeId: EDGE,
      policyId: pid,
      disclosedIndexes: [0, 1, 3],
      disclosed: { deviceId: 'dev-2', site: 'plant-4', type: 'humidity' },
      proof,
      ph,
      partialDigest: partialDigest(sha256, proof, ph),
    };
    expect(reason(validatePartial(issuer.pk, SCHEMA, forged, policy, { deviceId: 'dev-2', epoch: EPOCH, edgeId: EDGE }))).toBe(
      REASONS.POLICY_UNSATISFIED,
    );
    // Claiming the policy's values for attributes the proof does disclose breaks the proof.
    const lied = { ...forged, disclosed: { deviceId: 'dev-2', site: 'plant-3', type: 'temperature' } };
    expect(reason(validatePartial(issuer.pk, SCHEMA, lied, policy, { deviceId: 'dev-2', epoch: EPOCH, edgeId: EDGE }))).toBe(
      REASONS.BAD_PROOF,
    );
  });

  it('undisclosed attribute claimed: values the proof does not disclose are UNDISCLOSED_ATTRIBUTE', () => {
    const pid = policyId(policy);
    const ph = encodePresentationHeader({ epoch: EPOCH, edgeId: EDGE, deviceId: 'dev-2', policyId: pid });
    const c = dev2.credential;
    const messages = SCHEMA.map((n) => new TextEncoder().encode(c.attributes[n]));
    const proof = bbs.proofGen(c.issuerPk, c.signature, c.header, ph, messages, [0]);
    const claimed: PartialSignature = {
      deviceId: 'dev-2',
      epoch: EPOCH,
      edgeId: EDGE,
      policyId: pid,
      disclosedIndexes: [0],
      disclosed: { deviceId: 'dev-2', site: 'plant-3', type: 'temperature' },
      proof,
      ph,
      partialDigest: partialDigest(sha256, proof, ph),
    };
    const v = validatePartial(issuer.pk, SCHEMA, claimed, policy, { deviceId: 'dev-2', epoch: EPOCH, edgeId: EDGE });
    expect(reason(v)).toBe(REASONS.UNDISCLOSED_ATTRIBUTE);
    expect(!v.ok && v.message).toMatch(/site/);
    // Honest about what it discloses, it fails the policy instead.
    const honest = { ...claimed, disclosed: { deviceId: 'dev-2' } };
    expect(reason(validatePartial(issuer.pk, SCHEMA, honest, policy, { deviceId: 'dev-2', epoch: EPOCH, edgeId: EDGE }))).toBe(
      REASONS.POLICY_UNSATISFIED,
    );
  });

  it('revoked device: valid crypto, rejected by the registry check', () => {
    const p = signPartial(dev1.credential, { epoch: EPOCH, edgeId: EDGE, policy });
    const s = signed(dev1.device.kIoT, reading('dev-1', p, 20));
    expect(validateReading(sha256, kTag(dev1.device.kIoT), s, p)).toEqual({ ok: true });
    expect(reason(checkDevice('dev-1', 'revoked'))).toBe(REASONS.REVOKED);
    expect(reason(checkDevice('dev-9', undefined))).toBe(REASONS.UNKNOWN_DEVICE);
  });

  it('replayed seq: the tag still verifies, so only the ledger\u2019s seq check rejects it', () => {
    const p = signPartial(dev1.credential, { epoch: EPOCH, edgeId: EDGE, policy });
    const s = signed(dev1.device.kIoT, reading('dev-1', p, 30));
    expect(validateReading(sha256, kTag(dev1.device.kIoT), s, p)).toEqual({ ok: true });
    expect(checkSeq('dev-1', undefined, s.reading.seq)).toEqual({ ok: true });
    expect(reason(checkSeq('dev-1', s.reading.seq, s.reading.seq))).toBe(REASONS.REPLAY);
    expect(reason(checkUnseen('dev-1', true, s.reading.seq))).toBe(REASONS.REPLAY);
  });
});

describe('malformed and unknown input', () => {
  it('a reading under an unknown partial digest is UNKNOWN_PARTIAL', () => {
    const p = signPartial(dev1.credential, { epoch: EPOCH, edgeId: EDGE, policy });
    const s = signed(dev1.device.kIoT, { ...reading('dev-1', p, 40), partialDigest: new Uint8Array(32).fill(1) });
    expect(reason(validateReading(sha256, kTag(dev1.device.kIoT), s, p))).toBe(REASONS.UNKNOWN_PARTIAL);
    expect(reason(validateReading(sha256, kTag(dev1.device.kIoT), s, undefined))).toBe(REASONS.UNKNOWN_PARTIAL);
  });

  it('a truncated tag is MALFORMED, not a crash', () => {
    const p = signPartial(dev1.credential, { epoch: EPOCH, edgeId: EDGE, policy });
    const s = signed(dev1.device.kIoT, reading('dev-1', p, 41));
    expect(reason(validateReading(sha256, kTag(dev1.device.kIoT), { reading: s.reading, tag: s.tag.subarray(0, 16) }, p))).toBe(
      REASONS.MALFORMED,
    );
  });

  it('bad disclosed indexes, a digest that is not SHA-256(proof ‖ ph), and a garbage proof are rejected', () => {
    const p = signPartial(dev1.credential, { epoch: EPOCH, edgeId: EDGE, policy });
    const exp = { deviceId: 'dev-1', epoch: EPOCH, edgeId: EDGE };
    expect(reason(validatePartial(issuer.pk, SCHEMA, { ...p, disclosedIndexes: [0, 3, 1] }, policy, exp))).toBe(REASONS.MALFORMED);
    expect(reason(validatePartial(issuer.pk, SCHEMA, { ...p, disclosedIndexes: [0, 1, 3, 9] }, policy, exp))).toBe(REASONS.MALFORMED);
    expect(reason(validatePartial(issuer.pk, SCHEMA, { ...p, partialDigest: new Uint8Array(32) }, policy, exp))).toBe(
      REASONS.PROOF_BINDING,
    );
    const garbage = new Uint8Array(p.proof.length).fill(0xff);
    const ph = p.ph;
    const bad = { ...p, proof: garbage, partialDigest: partialDigest(sha256, garbage, ph) };
    expect(reason(validatePartial(issuer.pk, SCHEMA, bad, policy, exp))).toBe(REASONS.BAD_PROOF);
    expect(reason(validatePartial(issuer.pk, SCHEMA, p, policy, { ...exp, epoch: -1 }))).toBe(REASONS.MALFORMED);
  });

  it('a proof checked under another schema order fails (the header binds the schema)', () => {
    const p = signPartial(dev1.credential, { epoch: EPOCH, edgeId: EDGE, policy });
    const reordered = ['deviceId', 'line', 'type', 'site', 'owner', 'fw'];
    expect(Buffer.from(schemaHeader(reordered)).equals(Buffer.from(dev1.credential.header))).toBe(false);
    const moved = { ...p, disclosedIndexes: [0, 2, 3] };
    expect(reason(validatePartial(issuer.pk, reordered, moved, policy, { deviceId: 'dev-1', epoch: EPOCH, edgeId: EDGE }))).toBe(
      REASONS.BAD_PROOF,
    );
  });
});

describe('device challenge-response (Device Provenance)', () => {
  it('verifies under the right key only, and never equals a reading tag', () => {
    const challenge = new Uint8Array(16).fill(5);
    const response = deviceChallengeResponse(sha256, dev1.device.kIoT, challenge);
    const kChal = (kIoT: Uint8Array): Uint8Array => ledgerKeys(sha256, kIoT).kChal;
    expect(checkChallengeResponse(sha256, kChal(dev1.device.kIoT), 'dev-1', challenge, response)).toEqual({ ok: true });
    expect(reason(checkChallengeResponse(sha256, kChal(dev2.device.kIoT), 'dev-1', challenge, response))).toBe(REASONS.BAD_TAG);
    // Under the same K_IoT, a response is not a reading tag of the same bytes (other subkey, other label).
    expect(
      Buffer.from(response).equals(
        Buffer.from(complete(sha256, dev1.device.kIoT, reading('dev-1', { epoch: 1, partialDigest: new Uint8Array(32) }, 1))),
      ),
    ).toBe(false);
    const other = deviceChallengeResponse(sha256, dev1.device.kIoT, new Uint8Array(16).fill(6));
    expect(Buffer.from(other).equals(Buffer.from(response))).toBe(false);
  });

  it('is HMAC-SHA256(K_chal, "pv2:c" ‖ challenge) with K_chal = HKDF-Expand(K_IoT, "pv2:kc"), as node:crypto computes it', () => {
    const challenge = new Uint8Array(32).map((_, i) => i * 7);
    const kChal = createHmac('sha256', dev2.device.kIoT)
      .update('pv2:kc')
      .update(Buffer.from([1]))
      .digest();
    const independent = createHmac('sha256', kChal).update('pv2:c').update(challenge).digest();
    expect(Buffer.from(deviceChallengeResponse(sha256, dev2.device.kIoT, challenge)).toString('hex')).toBe(independent.toString('hex'));
  });
});

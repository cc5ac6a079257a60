/**
 * The outsourced signature over random policies and attributes (property tests on the real BBS),
 * and its proofs checked by the second BBS implementation.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import * as bbs from '../../shared/crypto/bbs.js';
import { loadPeerBbs, PEER_CIPHERSUITE } from '../support/bbs-peer.js';
import { enrollDevice, setup, signPartial, validatePartial, type Issuer } from '../../shared/crypto/outsourced.js';
import { parsePolicy, policyId, satisfiedClause } from '../../shared/crypto/policy.js';
import { encodePresentationHeader } from '../../shared/crypto/presentation.js';
import { REASONS } from '../../shared/crypto/verdict.js';

const SCHEMA = ['deviceId', 'site', 'line', 'type', 'owner', 'fw'];
const VALUES = ['a', 'b', 'c'];
let issuer: Issuer;

beforeAll(async () => {
  await bbs.ready();
  issuer = setup({ schema: SCHEMA, keyMaterial: new Uint8Array(32).fill(3) });
});

const attributeValues = fc.record({
  site: fc.constantFrom(...VALUES),
  line: fc.constantFrom(...VALUES),
  type: fc.constantFrom(...VALUES),
  owner: fc.constantFrom(...VALUES),
  fw: fc.constantFrom(...VALUES),
});
const clause = fc.dictionary(fc.constantFrom('site', 'line', 'type', 'owner', 'fw'), fc.constantFrom(...VALUES), {
  minKeys: 1,
  maxKeys: 3,
});

describe('signPartial / validatePartial over random policies', { timeout: 60_000 }, () => {
  it('a device gets a valid partial exactly when it satisfies a clause, disclosing deviceId and that clause only', () => {
    fc.assert(
      fc.property(
        attributeValues,
        fc.array(clause, { minLength: 1, maxLength: 3 }),
        fc.nat({ max: 0xffffffff }),
        (values, clauses, epoch) => {
          const policy = parsePolicy({ id: 'random', anyOf: clauses });
          const e = enrollDevice(issuer, { deviceId: 'dev-p', ...values });
          const chosen = satisfiedClause(policy, e.credential.attributes);
          if (chosen === undefined) {
            expect(() => signPartial(e.credential, { epoch, edgeId: 'edge-p', policy })).toThrow(/does not satisfy/);
            return;
          }
          const p = signPartial(e.credential, { epoch, edgeId: 'edge-p', policy });
          expect(Object.keys(p.disclosed).sort()).toEqual(['deviceId', ...Object.keys(chosen)].sort());
          expect(validatePartial(issuer.pk, SCHEMA, p, policy, { deviceId: 'dev-p', epoch, edgeId: 'edge-p' })).toEqual({ ok: true });
          // The same partial under a policy none of whose clauses its disclosure satisfies fails.
          const other = parsePolicy({ id: 'random', anyOf: [{ site: 'z' }] });
          const v = validatePartial(issuer.pk, SCHEMA, p, other, { deviceId: 'dev-p', epoch, edgeId: 'edge-p' });
          expect(v.ok ? undefined : v.reason).toBe(REASONS.PROOF_BINDING);
        },
      ),
      { numRuns: 25 },
    );
  });
});

describe('interoperability of the partial signature', { timeout: 60_000 }, () => {
  it('σp verifies with @digitalbazaar/bbs-signatures under the rebuilt ph, and not under another epoch', async () => {
    const peer = await loadPeerBbs();
    const policy = parsePolicy({ id: 'temp-plant-3', anyOf: [{ site: 'plant-3', type: 'temperature' }] });
    const e = enrollDevice(issuer, { deviceId: 'dev-i', site: 'plant-3', line: 'l', type: 'temperature', owner: 'o', fw: '1' });
    const p = signPartial(e.credential, { epoch: 5, edgeId: 'edge-i', policy });
    const enc = new TextEncoder();
    const args = {
      publicKey: issuer.pk,
      proof: p.proof,
      header: e.credential.header,
      disclosedMessages: p.disclosedIndexes.map((i) => enc.encode(p.disclosed[SCHEMA[i]!]!)),
      disclosedMessageIndexes: [...p.disclosedIndexes],
      ciphersuite: PEER_CIPHERSUITE,
    };
    const ph = encodePresentationHeader({ epoch: 5, edgeId: 'edge-i', deviceId: 'dev-i', policyId: policyId(policy) });
    expect(await peer.verifyProof({ ...args, presentationHeader: ph })).toBe(true);
    const otherEpoch = encodePresentationHeader({ epoch: 6, edgeId: 'edge-i', deviceId: 'dev-i', policyId: policyId(policy) });
    expect(await peer.verifyProof({ ...args, presentationHeader: otherEpoch })).toBe(false);
  });
});

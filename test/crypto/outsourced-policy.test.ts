import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ProvenantError } from '../../shared/errors.js';
import {
  assertPolicyFitsSchema,
  canonicalPolicy,
  checkDisclosure,
  parsePolicy,
  policyId,
  satisfiedClause,
} from '../../shared/crypto/policy.js';
import { REASONS } from '../../shared/crypto/verdict.js';

const tempPlant3 = { id: 'temp-plant-3', anyOf: [{ site: 'plant-3', type: 'temperature' }] };

function policyError(input: unknown): ProvenantError {
  try {
    parsePolicy(input);
  } catch (err) {
    return err as ProvenantError;
  }
  throw new Error('parsePolicy accepted invalid input');
}

describe('parsePolicy', () => {
  it('accepts a conjunction and a disjunction of conjunctions', () => {
    expect(parsePolicy(tempPlant3).anyOf).toEqual([{ site: 'plant-3', type: 'temperature' }]);
    const p = parsePolicy({ id: 'p', anyOf: [{ site: 'plant-4' }, { site: 'plant-3', type: 'temperature' }] });
    expect(p.anyOf).toHaveLength(2);
  });

  it.each([
    ['not an object', 'x', 'policy'],
    ['missing id', { anyOf: [{ a: 'b' }] }, 'id'],
    ['id with @', { id: 'a@b', anyOf: [{ a: 'b' }] }, 'id'],
    ['empty anyOf', { id: 'p', anyOf: [] }, 'anyOf'],
    ['anyOf not a list', { id: 'p', anyOf: { a: 'b' } }, 'anyOf'],
    ['empty clause', { id: 'p', anyOf: [{}] }, 'anyOf[0]'],
    ['bad attribute name', { id: 'p', anyOf: [{ 'si te': 'x' }] }, 'anyOf[0].si te'],
    ['__proto__ attribute', JSON.parse('{"id":"p","anyOf":[{"__proto__":"x"}]}') as unknown, 'anyOf[0].__proto__'],
    ['non-string value', { id: 'p', anyOf: [{ site: 3 }] }, 'anyOf[0].site'],
    ['empty value', { id: 'p', anyOf: [{ site: '' }] }, 'anyOf[0].site'],
    ['unknown field', { id: 'p', anyOf: [{ a: 'b' }], allOf: [] }, 'allOf'],
  ])('rejects %s with a named field', (_name, input, field) => {
    const err = policyError(input);
    expect(err).toBeInstanceOf(ProvenantError);
    expect(err.code).toBe('PROV_ERR_BAD_INPUT');
    expect(err.details.field).toBe(field);
  });
});

describe('canonical form and policyId', () => {
  it('is the same for every spelling of the same policy (key order, clause order, duplicates)', () => {
    const clause = fc.dictionary(fc.constantFrom('site', 'line', 'type', 'owner', 'fw'), fc.constantFrom('a', 'b', 'plant-3'), {
      minKeys: 1,
    });
    fc.assert(
      fc.property(fc.array(clause, { minLength: 1, maxLength: 5 }), (clauses) => {
        const p = { id: 'p', anyOf: clauses };
        const reordered = {
          id: 'p',
          anyOf: [...clauses, clauses[0]!].reverse().map((c) => Object.fromEntries(Object.entries(c).reverse())),
        };
        expect(canonicalPolicy(reordered)).toBe(canonicalPolicy(p));
        expect(policyId(reordered)).toBe(policyId(p));
      }),
      { numRuns: 100 },
    );
  });

  it('differs when a name, value or clause differs', () => {
    const ids = new Set([
      policyId(tempPlant3),
      policyId({ id: 'temp-plant-3', anyOf: [{ site: 'plant-4', type: 'temperature' }] }),
      policyId({ id: 'temp-plant-3', anyOf: [{ site: 'plant-3' }] }),
      policyId({ id: 'temp-plant-3', anyOf: [{ site: 'plant-3', type: 'temperature' }, { site: 'plant-4' }] }),
      policyId({ id: 'other', anyOf: [{ site: 'plant-3', type: 'temperature' }] }),
    ]);
    expect(ids.size).toBe(5);
    expect(policyId(tempPlant3)).toMatch(/^temp-plant-3@[0-9a-f]{64}$/);
  });
});

describe('satisfiedClause and checkDisclosure', () => {
  const attrs = { deviceId: 'd1', site: 'plant-3', line: 'l1', type: 'temperature', owner: 'acme', fw: '1.0' };

  it('picks the satisfied clause that discloses least', () => {
    const p = parsePolicy({ id: 'p', anyOf: [{ site: 'plant-3', type: 'temperature' }, { owner: 'acme' }, { site: 'plant-9' }] });
    expect(satisfiedClause(p, attrs)).toEqual({ owner: 'acme' });
    expect(satisfiedClause(tempPlant3, { ...attrs, site: 'plant-4' })).toBeUndefined();
  });

  it('accepts a disclosure that satisfies one clause and rejects others with POLICY_UNSATISFIED', () => {
    expect(checkDisclosure(tempPlant3, { deviceId: 'd1', site: 'plant-3', type: 'temperature' })).toEqual({ ok: true });
    const partial = checkDisclosure(tempPlant3, { deviceId: 'd1', site: 'plant-3' });
    expect(partial).toMatchObject({ ok: false, reason: REASONS.POLICY_UNSATISFIED });
    const wrong = checkDisclosure(tempPlant3, { deviceId: 'd1', site: 'plant-4', type: 'temperature' });
    expect(wrong).toMatchObject({ ok: false, reason: REASONS.POLICY_UNSATISFIED });
  });

  it('does not let inherited properties satisfy a clause', () => {
    const p = { id: 'p', anyOf: [{ constructor: 'x' }] };
    expect(checkDisclosure(p, {})).toMatchObject({ ok: false, reason: REASONS.POLICY_UNSATISFIED });
  });

  it('rejects a policy naming an attribute outside the schema', () => {
    expect(() => assertPolicyFitsSchema(parsePolicy({ id: 'p', anyOf: [{ color: 'red' }] }), ['deviceId', 'site'])).toThrow(/color/);
  });
});

/**
 * Policies Υ: which devices' data a consumer accepts, stated over their attributes.
 *
 * A policy is a disjunction of clauses, each clause a conjunction of attribute equalities:
 *
 *   { id: 'temp-plant-3', anyOf: [ { site: 'plant-3', type: 'temperature' } ] }
 *
 * means site = plant-3 ∧ type = temperature. The edge proves ONE satisfied clause (disclosing
 * exactly its attributes and the deviceId); the validator checks the disclosed values against
 * the policy. The partial signature is bound to the policy through its policyId, the policy's
 * name plus a hash of its canonical form, so a proof made for one policy cannot be passed off
 * under another policy that happens to share the name.
 */
import { ProvenantError } from '../errors.js';
import { toHex } from '../encoding/hex.js';
import { sha256 } from './sha256.js';
import { OK, REASONS, reject, type Verdict } from './verdict.js';

/** One clause: attribute name → required value. All must hold. */
export type Clause = Readonly<Record<string, string>>;

/** A validated policy: a name and at least one clause, at least one of which must hold. */
export interface Policy {
  readonly id: string;
  readonly anyOf: readonly Clause[];
}

/** Longest attribute name. */
export const MAX_ATTRIBUTE_NAME_LENGTH = 32;
/** Attribute names: a letter, then letters, digits or '_' (no ',' so the schema joins unambiguously). */
export const ATTRIBUTE_NAME = new RegExp(`^[A-Za-z][A-Za-z0-9_]{0,${MAX_ATTRIBUTE_NAME_LENGTH - 1}}$`);
/** Longest policy id (the name before '@' in a policyId). */
export const MAX_POLICY_ID_LENGTH = 64;
/** Longest policyId: the id, '@', 64 hex digits of SHA-256. */
export const MAX_POLICY_ID_REF_LENGTH = MAX_POLICY_ID_LENGTH + 1 + 64;
/** Policy ids: no '@', which separates the name from the hash in a policyId. */
const POLICY_ID = new RegExp(`^[A-Za-z0-9][A-Za-z0-9._:/-]{0,${MAX_POLICY_ID_LENGTH - 1}}$`);
const MAX_CLAUSES = 16;
const MAX_VALUE_LENGTH = 256;

function invalid(message: string, field: string): ProvenantError {
  return new ProvenantError('PROV_ERR_BAD_INPUT', `invalid policy: ${message}`, { field });
}

function isPlainObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x) && !(x instanceof Uint8Array);
}

/**
 * Checks untrusted input (parsed JSON or YAML) and returns a policy in canonical form: attribute
 * names sorted within each clause, clauses sorted and de-duplicated. Throws
 * `ProvenantError('PROV_ERR_BAD_INPUT')` naming the offending field.
 */
export function parsePolicy(input: unknown): Policy {
  if (!isPlainObject(input)) throw invalid('expected an object { id, anyOf }', 'policy');
  for (const key of Object.keys(input)) {
    if (key !== 'id' && key !== 'anyOf') throw invalid(`unknown field "${key}"`, key);
  }
  const id = input['id'];
  if (typeof id !== 'string' || !POLICY_ID.test(id)) {
    throw invalid('id must be 1..64 characters of [A-Za-z0-9._:/-], starting with a letter or digit', 'id');
  }
  const anyOf = input['anyOf'];
  if (!Array.isArray(anyOf) || anyOf.length === 0) throw invalid('anyOf must be a non-empty array of clauses', 'anyOf');
  if (anyOf.length > MAX_CLAUSES) throw invalid(`at most ${MAX_CLAUSES} clauses`, 'anyOf');
  const clauses = anyOf.map((clause: unknown, i) => parseClause(clause, `anyOf[${i}]`));
  return canonicalize(id, clauses);
}

function parseClause(input: unknown, field: string): Clause {
  if (!isPlainObject(input)) throw invalid('a clause must be an object of attribute = value', field);
  const names = Object.keys(input);
  if (names.length === 0) throw invalid('a clause must name at least one attribute', field);
  const clause: Record<string, string> = {};
  for (const name of names) {
    if (!ATTRIBUTE_NAME.test(name)) throw invalid(`attribute name "${name}" is not [A-Za-z][A-Za-z0-9_]{0,31}`, `${field}.${name}`);
    const value = input[name];
    if (typeof value !== 'string' || value.length === 0 || value.length > MAX_VALUE_LENGTH) {
      throw invalid(`value of ${name} must be a string of 1..${MAX_VALUE_LENGTH} characters`, `${field}.${name}`);
    }
    clause[name] = value;
  }
  return clause;
}

function clauseJson(clause: Clause): string {
  return JSON.stringify(
    Object.keys(clause)
      .sort()
      .map((k) => [k, clause[k]]),
  );
}

function canonicalize(id: string, clauses: readonly Clause[]): Policy {
  const byJson = new Map<string, Clause>();
  for (const clause of clauses) {
    const sorted: Record<string, string> = {};
    for (const k of Object.keys(clause).sort()) sorted[k] = clause[k] as string;
    byJson.set(clauseJson(clause), Object.freeze(sorted));
  }
  const keys = [...byJson.keys()].sort();
  return Object.freeze({ id, anyOf: Object.freeze(keys.map((k) => byJson.get(k) as Clause)) });
}

/**
 * The canonical text of a policy: the same for every spelling of the same policy (key order,
 * clause order, duplicate clauses), different for policies that differ in any name or value.
 */
export function canonicalPolicy(policy: Policy): string {
  const p = parsePolicy(policy);
  return JSON.stringify({ id: p.id, anyOf: p.anyOf.map((c) => JSON.parse(clauseJson(c)) as unknown) });
}

/** The policyId a partial signature is bound to: `<id>@<hex SHA-256 of the canonical form>`. */
export function policyId(policy: Policy): string {
  return `${policy.id}@${toHex(sha256(new TextEncoder().encode(canonicalPolicy(policy))))}`;
}

function has(record: Readonly<Record<string, string>>, name: string): boolean {
  return Object.prototype.hasOwnProperty.call(record, name);
}

function holds(clause: Clause, attributes: Readonly<Record<string, string>>): boolean {
  return Object.keys(clause).every((name) => has(attributes, name) && attributes[name] === clause[name]);
}

/**
 * The clause the prover should disclose: among the clauses `attributes` satisfy, the one naming
 * the fewest attributes (least disclosure), ties broken by canonical order. `undefined` when none.
 */
export function satisfiedClause(policy: Policy, attributes: Readonly<Record<string, string>>): Clause | undefined {
  let best: Clause | undefined;
  for (const clause of parsePolicy(policy).anyOf) {
    if (holds(clause, attributes) && (best === undefined || Object.keys(clause).length < Object.keys(best).length)) {
      best = clause;
    }
  }
  return best;
}

/**
 * Does what a proof disclosed satisfy the policy? `disclosed` holds only the attributes the proof
 * actually discloses (name → value); one clause must hold entirely within it.
 */
export function checkDisclosure(policy: Policy, disclosed: Readonly<Record<string, string>>): Verdict {
  const p = parsePolicy(policy);
  if (p.anyOf.some((clause) => holds(clause, disclosed))) return OK;
  const names = Object.keys(disclosed).sort().join(', ') || 'nothing';
  return reject(REASONS.POLICY_UNSATISFIED, `policy ${p.id}: no clause holds for the disclosed attributes (${names})`);
}

/** Throws `PROV_ERR_BAD_INPUT` if the policy names an attribute the schema lacks (it could never hold). */
export function assertPolicyFitsSchema(policy: Policy, schema: readonly string[]): void {
  for (const [i, clause] of policy.anyOf.entries()) {
    for (const name of Object.keys(clause)) {
      if (!schema.includes(name)) throw invalid(`attribute "${name}" is not in the schema (${schema.join(',')})`, `anyOf[${i}].${name}`);
    }
  }
}

/**
 * The auditor's own check of the partial signature a record rests on (docs/auditor.md, "What
 * genuine rests on"). The contract verified σp when the batch first carried it; the auditor does
 * not take that on trust. For the record's partialDigest it reads the stored partial and the ledger
 * config and requires:
 *
 *   1. the partial is bound to the record: same deviceId, epoch, edgeId and partialDigest;
 *   2. its BBS proof verifies here (shared/crypto/outsourced.ts validatePartial: ph rebuilt from
 *      device, epoch, edge and the policy; partialDigest = SHA-256(proof ‖ ph); disclosed values
 *      satisfy the policy; BBS ProofVerify) under the issuer key the auditor pins (the
 *      authority's issuer.public.json), or, if it pins none, the key of the ledger config;
 *   3. the partial and the config it was checked under are each the write of a transaction whose
 *      inclusion proof checks (the value under its key in that transaction's write set).
 *
 * So a ledger operator who made up a partial (or changed a disclosed attribute of a stored one)
 * cannot have the auditor certify readings resting on it: forging σp needs a credential the
 * issuer signed. The outcome per partialDigest is cached per ledger client (pairings once).
 */
import type { InclusionProof, LedgerClient } from '../client.js';
import { CONTRACTS, type ContractName } from '../client.js';
import { KEY_TYPES } from '../contracts/keys.js';
import { canonicalJson } from '../contracts/logic/canonical.js';
import type { StoredPartial } from '../contracts/logic/partials.js';
import type { LedgerConfig } from '../contracts/logic/registration.js';
import { createCompositeKey } from '../embedded/keys.js';
import type { ProofVerdict } from '../embedded/proofs.js';
import { ready } from '../../shared/crypto/bbs.js';
import { partialFromJson } from '../../shared/crypto/credential.js';
import { validatePartial } from '../../shared/crypto/outsourced.js';
import { fromHex } from '../../shared/encoding/hex.js';
import { codeOf } from '../../shared/errors.js';
import type { ProvenanceRecord } from '../../shared/records.js';
import { provenTxWrites } from './batch-check.js';
import type { ProofCache } from './proof-cache.js';

/** A check's outcome: passed, failed with a reason, or not checkable with this proof format. */
export type CheckOutcome = ProofVerdict | { ok: 'unchecked'; reason: string };

/** The partial-signature part of the auditor's evidence. */
export interface PartialEvidence {
  readonly partialDigest: string;
  /** The transaction that stored the partial (when the ledger holds one under the digest). */
  readonly txId?: string;
  /** Hex of the issuer public key the BBS proof was verified under. */
  readonly issuerPk?: string;
  /** Where that key came from: pinned by the auditor, or the ledger config's. */
  readonly keyFrom?: 'pinned' | 'ledger-config';
  readonly check: CheckOutcome;
}

/** Checks an inclusion proof (the auditor's ProofChecker, used without a trusted head). */
export type InclusionCheck = (proof: InclusionProof) => CheckOutcome;

/** How the partial check gets and checks inclusion proofs (the auditor's). */
export interface PartialCheckOptions {
  /** The auditor's proof checker; a verdict is cached per checker. */
  readonly checkProof: InclusionCheck;
  /** The auditor's proof cache: the partial is usually stored by the record's own transaction. */
  readonly proofs?: ProofCache;
  /** The issuer key the auditor pins. */
  readonly issuerPk?: Uint8Array;
}

interface Judged {
  readonly stored?: StoredPartial;
  readonly issuerPk?: string;
  readonly keyFrom?: 'pinned' | 'ledger-config';
  readonly check: CheckOutcome;
}

const decoder = new TextDecoder();
/** Verdicts per ledger client and proof checker, by partialDigest and pinned key. */
const cache = new WeakMap<LedgerClient, WeakMap<InclusionCheck, Map<string, Promise<Judged>>>>();

/** The record's partial, checked (1–3 of the module comment). */
export async function checkRecordPartial(
  ledger: LedgerClient,
  record: ProvenanceRecord,
  options: PartialCheckOptions,
): Promise<PartialEvidence> {
  const digest = record.partialDigest.toLowerCase();
  const pinnedIssuerPk = options.issuerPk;
  const pinned = pinnedIssuerPk === undefined ? '' : Buffer.from(pinnedIssuerPk).toString('hex');
  let perChecker = cache.get(ledger);
  if (perChecker === undefined) cache.set(ledger, (perChecker = new WeakMap()));
  let perLedger = perChecker.get(options.checkProof);
  if (perLedger === undefined) perChecker.set(options.checkProof, (perLedger = new Map()));
  const cacheKey = `${digest}/${pinned}`;
  let judged = perLedger.get(cacheKey);
  if (judged === undefined) {
    const proofs = options.proofs;
    const prover: Prover = {
      fetch: (txId) => (proofs ? proofs.get(txId) : ledger.inclusionProof(txId)),
      check: (proof) => (proofs ? proofs.check(proof, options.checkProof) : options.checkProof(proof)),
    };
    judged = judge(ledger, digest, prover, pinnedIssuerPk);
    perLedger.set(cacheKey, judged);
    // A ledger that did not answer is asked again next time; a verdict is kept.
    judged.catch(() => perLedger.delete(cacheKey));
  }
  const j = await judged;
  const base = {
    partialDigest: digest,
    ...(j.stored ? { txId: j.stored.txId } : {}),
    ...(j.issuerPk ? { issuerPk: j.issuerPk } : {}),
    ...(j.keyFrom ? { keyFrom: j.keyFrom } : {}),
  };
  if (j.check.ok === false || j.stored === undefined) return { ...base, check: j.check };
  const s = j.stored;
  const mismatched = (['deviceId', 'epoch', 'edgeId'] as const).filter((f) => s[f] !== record[f]);
  if (mismatched.length > 0)
    return { ...base, check: { ok: false, reason: `the partial under ${digest} is for another ${mismatched.join(', ')} than the record` } };
  return { ...base, check: j.check };
}

async function evaluateJson<T>(ledger: LedgerClient, contract: ContractName, fn: string, args: string[]): Promise<T> {
  return JSON.parse(decoder.decode(await ledger.evaluate({ contract, fn, args }))) as T;
}

interface Prover {
  readonly fetch: (txId: string) => Promise<InclusionProof>;
  readonly check: InclusionCheck;
}

async function judge(ledger: LedgerClient, digest: string, prover: Prover, pinned?: Uint8Array): Promise<Judged> {
  let stored: StoredPartial;
  try {
    stored = await evaluateJson<StoredPartial>(ledger, CONTRACTS.dataProvenance, 'getPartial', [digest]);
  } catch (err) {
    if (codeOf(err) === 'PROV_ERR_RECORD_NOT_FOUND') return { check: { ok: false, reason: `the ledger holds no partial under ${digest}` } };
    throw err;
  }
  const config = await evaluateJson<LedgerConfig>(ledger, CONTRACTS.deviceRegistration, 'getConfig', []);
  const issuerPk = pinned === undefined ? config.issuerPk.toLowerCase() : Buffer.from(pinned).toString('hex');
  const keyFrom = pinned === undefined ? ('ledger-config' as const) : ('pinned' as const);
  const out = { stored, issuerPk, keyFrom };
  if (typeof stored !== 'object' || stored === null || typeof stored.partialDigest !== 'string' || stored.partialDigest !== digest)
    return { ...out, check: { ok: false, reason: `the ledger answered another partial than ${digest}` } };
  if (pinned !== undefined && issuerPk !== String(config.issuerPk).toLowerCase())
    return { ...out, check: { ok: false, reason: "the ledger config names another issuer key than the authority's the auditor pins" } };
  // 2. The BBS proof, here.
  const policy = config.policies.find((p) => p.policyId === stored.policyId);
  if (policy === undefined)
    return { ...out, check: { ok: false, reason: `the partial's policy ${stored.policyId} is not in the ledger config` } };
  await ready();
  try {
    const verdict = validatePartial(fromHex(issuerPk), config.schema, partialFromJson(stored), policy.policy, {
      deviceId: stored.deviceId,
      epoch: stored.epoch,
      edgeId: stored.edgeId,
    });
    if (!verdict.ok) return { ...out, check: { ok: false, reason: `the partial's BBS proof: ${verdict.reason}: ${verdict.message}` } };
  } catch (err) {
    return { ...out, check: { ok: false, reason: `the partial does not decode: ${(err as Error).message}` } };
  }
  // 3. Partial and config are what proven transactions wrote.
  const partialWrite = await provenWrite(prover, stored.txId, createCompositeKey(KEY_TYPES.partial, [digest]), stored, 'partial');
  if (partialWrite.ok !== true) return { ...out, check: partialWrite };
  const configWrite = await provenWrite(prover, config.txId, createCompositeKey(KEY_TYPES.config, ['authority']), config, 'config');
  return { ...out, check: configWrite };
}

/** Is `value` what transaction `txId` wrote under `key`, with an inclusion proof that checks? */
async function provenWrite(prover: Prover, txId: string, key: string, value: unknown, what: string): Promise<CheckOutcome> {
  if (typeof txId !== 'string' || !/^[0-9a-f]{64}$/.test(txId)) return { ok: false, reason: `the ${what} names no transaction` };
  const proof = await prover.fetch(txId);
  const check = prover.check(proof);
  if (check.ok === false) return { ok: false, reason: `the inclusion proof of the ${what}'s transaction ${txId} FAILED: ${check.reason}` };
  let writes: Map<string, Uint8Array> | undefined;
  try {
    writes = provenTxWrites(proof);
  } catch (err) {
    return { ok: false, reason: `the ${what}'s transaction ${txId} does not decode: ${(err as Error).message}` };
  }
  if (writes === undefined)
    return { ok: 'unchecked', reason: `the ${what}'s proof is of a format whose write set the auditor does not read` };
  const written = writes.get(key);
  if (written === undefined) return { ok: false, reason: `transaction ${txId} wrote no ${what}` };
  let same = false;
  try {
    same = canonicalJson(JSON.parse(decoder.decode(written))) === canonicalJson(value);
  } catch {
    same = false;
  }
  if (!same) return { ok: false, reason: `the ${what} the ledger answered differs from what transaction ${txId} wrote` };
  return check.ok === true ? { ok: true } : check;
}

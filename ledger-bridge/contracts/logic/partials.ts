/**
 * Partial signatures on the ledger: σp is verified once (BBS ProofVerify, policy, binding) when a
 * batch first carries it, then stored under its partialDigest; readings reference it by digest.
 */
import { fromHex } from '../../../shared/encoding/hex.js';
import { partialFromJson, type PartialSignatureJson } from '../../../shared/crypto/credential.js';
import { validatePartial } from '../../../shared/crypto/outsourced.js';
import { REASONS, type ReasonCode } from '../../../shared/crypto/verdict.js';
import type { LedgerConfig } from './registration.js';
import { checkPartialEdge } from './edges.js';

/** A validated partial as stored under partial~digest (proof and ph kept so anyone can re-verify). */
export interface StoredPartial {
  readonly deviceId: string;
  readonly disclosed: Readonly<Record<string, string>>;
  readonly disclosedIndexes: readonly number[];
  readonly edgeId: string;
  readonly epoch: number;
  readonly partialDigest: string;
  readonly ph: string;
  readonly policyId: string;
  readonly proof: string;
  readonly txId: string;
}

/** A partial the contract refused, and why (readings that reference it inherit the reason). */
export interface RejectedPartial {
  readonly partialDigest: string;
  readonly reason: ReasonCode;
  readonly message: string;
}

/** Outcome of judging one partial. */
export type PartialOutcome = { readonly ok: true; readonly partial: StoredPartial } | ({ readonly ok: false } & RejectedPartial);

function digestOf(json: unknown): string {
  const d = typeof json === 'object' && json !== null ? (json as Record<string, unknown>)['partialDigest'] : undefined;
  return typeof d === 'string' && /^[0-9a-fA-F]{64}$/.test(d) ? d.toLowerCase() : '';
}

/**
 * Judges one partial from a batch against the ledger's issuer key, schema and policies, and the
 * edge that submits it (`callerEdgeId`: a partial made for another edge is refused before any
 * pairing is computed). Deterministic (BBS ProofVerify is); call `await ready()` from
 * shared/crypto/bbs.ts first.
 */
export function judgePartial(
  json: PartialSignatureJson | unknown,
  config: LedgerConfig,
  txId: string,
  callerEdgeId: string,
): PartialOutcome {
  const claimed = digestOf(json);
  let partial;
  try {
    partial = partialFromJson(json);
  } catch (err) {
    return { ok: false, partialDigest: claimed, reason: REASONS.MALFORMED, message: (err as Error).message };
  }
  const partialDigest = claimed;
  const edge = checkPartialEdge(partial.deviceId, partial.edgeId, callerEdgeId);
  if (!edge.ok) return { ok: false, partialDigest, reason: edge.reason, message: edge.message };
  const configured = config.policies.find((p) => p.policyId === partial.policyId);
  if (configured === undefined) {
    return {
      ok: false,
      partialDigest,
      reason: REASONS.POLICY_UNSATISFIED,
      message: `partial of ${partial.deviceId} is bound to policy ${partial.policyId}, which the ledger does not accept`,
    };
  }
  const verdict = validatePartial(fromHex(config.issuerPk), config.schema, partial, configured.policy, {
    deviceId: partial.deviceId,
    epoch: partial.epoch,
    edgeId: partial.edgeId,
  });
  if (!verdict.ok) return { ok: false, partialDigest, reason: verdict.reason, message: verdict.message };
  const j = json as PartialSignatureJson;
  return {
    ok: true,
    partial: {
      deviceId: partial.deviceId,
      disclosed: { ...partial.disclosed },
      disclosedIndexes: [...partial.disclosedIndexes],
      edgeId: partial.edgeId,
      epoch: partial.epoch,
      partialDigest,
      ph: j.ph.toLowerCase(),
      policyId: partial.policyId,
      proof: j.proof.toLowerCase(),
      txId,
    },
  };
}

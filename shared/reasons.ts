/**
 * Why a reading was refused, ONE table for the three places that say it: the edge's reason label
 * (metrics `reason`, logs, the outbox, the API), the NACK code the board receives
 * (shared/wire/messages.ts), and the ledger's verdict reason with the same meaning
 * (shared/crypto/verdict.ts REASONS). The edge's session derives the NACK from the label here, so
 * the two cannot disagree; where edge and ledger share a meaning they share the name, so a
 * ledger rejection is counted under the same label as the edge's.
 * Node only (the board knows NACK codes and `nackIsRetryable`, nothing else of this).
 */
import { REASONS, type ReasonCode } from './crypto/verdict.js';
import {
  NACK_BAD_TAG,
  NACK_MALFORMED,
  NACK_NO_PARTIAL,
  NACK_NOT_STORED,
  NACK_OUTBOX_FULL,
  NACK_RATE,
  NACK_REPLAY,
  NACK_REVOKED,
  NACK_STALE_PARTIAL,
  NACK_UNKNOWN_DEVICE,
} from './wire/messages.js';

/** One refusal reason. */
export interface Refusal {
  /** The NACK code the board gets for it. */
  readonly nack: number;
  /** The ledger verdict reason with the same meaning, when the ledger can reach that verdict too. */
  readonly ledger?: ReasonCode;
  readonly meaning: string;
}

const row = (nack: number, ledger: ReasonCode | undefined, meaning: string): Refusal =>
  ledger ? { nack, ledger, meaning } : { nack, meaning };

/** Edge reason label → NACK code and ledger reason. One line per reason. */
export const REFUSALS = {
  NO_SESSION: row(NACK_NO_PARTIAL, undefined, 'a READING before any HELLO on this link'),
  WRONG_DEVICE: row(NACK_MALFORMED, undefined, "a READING for another device than the session's"),
  UNKNOWN_PARTIAL: row(NACK_NO_PARTIAL, REASONS.UNKNOWN_PARTIAL, 'the reading names a partial signature the edge did not issue'),
  WRONG_EPOCH: row(NACK_NO_PARTIAL, REASONS.WRONG_EPOCH, "the reading's epoch is not its partial signature's"),
  STALE_PARTIAL: row(
    NACK_STALE_PARTIAL,
    undefined,
    "a reading made before the board's current HELLO under a partial signature this edge did not issue (another edge, or this edge before its outbox was lost): it can never be forwarded here; the board drops it and keeps its PARTIAL",
  ),
  RATE: row(NACK_RATE, undefined, 'faster than the traffic profile and its burst allow'),
  REPLAY: row(NACK_REPLAY, REASONS.REPLAY, '(deviceId, seq) was seen before with other content'),
  OUTBOX_FULL: row(NACK_OUTBOX_FULL, undefined, 'the outbox is at capacity (ledger outage): resend later'),
  BUSY: row(NACK_NOT_STORED, undefined, 'the same (deviceId, seq) is being stored right now: resend later'),
  NOT_STORED: row(NACK_NOT_STORED, undefined, 'the edge could not store the reading: resend later'),
  MALFORMED: row(NACK_MALFORMED, REASONS.MALFORMED, 'the payload does not decode'),
  UNKNOWN_DEVICE: row(NACK_UNKNOWN_DEVICE, REASONS.UNKNOWN_DEVICE, 'the device is not registered'),
  BAD_CREDENTIAL: row(NACK_UNKNOWN_DEVICE, undefined, 'the edge holds no usable credential for the device'),
  SESSION_ELSEWHERE: row(
    NACK_UNKNOWN_DEVICE,
    undefined,
    'a HELLO for a device that has a live session on another link: refused until that link drops (the board backs off)',
  ),
  REVOKED: row(NACK_REVOKED, REASONS.REVOKED, 'the device is revoked'),
  BAD_TAG: row(NACK_BAD_TAG, REASONS.BAD_TAG, 'the tag is not HMAC(K_tag, reading): decided by the ledger, the edge has no device key'),
} as const satisfies Record<string, Refusal>;

/** An edge reason label. */
export type EdgeReason = keyof typeof REFUSALS;

/** The labels, by name (for `EDGE_REASONS.RATE`-style use). */
export const EDGE_REASONS = Object.fromEntries(Object.keys(REFUSALS).map((k) => [k, k])) as { readonly [K in EdgeReason]: K };

/**
 * Ledger reasons no edge label shares: they concern the edge's partial signature (BBS proof,
 * binding, policy), or time, which the edge cannot judge (it does not know the commit time, and it
 * must not be the one setting the board's clock), so the board is never NACKed for them.
 */
export const LEDGER_ONLY_REASONS: readonly ReasonCode[] = [
  REASONS.BAD_PROOF,
  REASONS.PROOF_BINDING,
  REASONS.POLICY_UNSATISFIED,
  REASONS.UNDISCLOSED_ATTRIBUTE,
  REASONS.CLOCK_AHEAD,
  REASONS.CLOCK_BACKWARDS,
];

/** The NACK code for an edge reason. */
export function nackFor(reason: EdgeReason): number {
  return REFUSALS[reason].nack;
}

/**
 * The demo's summary: what the boards sent, what the edge acknowledged, what the ledger
 * committed, what was refused and why, and whether anything acknowledged was lost. The last line
 * the demo prints is exactly `JSON.stringify(summary)`.
 */

/** Counts of readings (see docs/edge.md "Demo"). */
export interface DemoSummary {
  /** Distinct readings the boards put on their links. */
  readonly sent: number;
  /** Distinct readings the edge stored durably and acknowledged. */
  readonly acknowledged: number;
  /** Acknowledged readings found on the ledger with the same dataHash. */
  readonly committed: number;
  /** Refusals by reason: edge NACKs (a retryable refusal counts each time) and ledger verdicts. */
  readonly rejected: Record<string, number>;
  /** Acknowledged, not refused by the ledger, and not on it. Must be 0. */
  readonly lost: number;
  /** Sampled readings the auditor proved end to end (provenance DB → ledger record → inclusion proof). */
  readonly verified: number;
  /**
   * Committed readings that reached "independently verifiable": the board's own epoch signature
   * of their segment is on the ledger and has their dataHash (0 when boards do not sign epochs).
   */
  readonly independentlyVerifiable: number;
  /** Wall time of the whole demo, setup and final checks included (s). */
  readonly durationS: number;
}

/** Key order of the JSON line, fixed so scripts can rely on it. */
export function summaryLine(s: DemoSummary): string {
  return JSON.stringify({
    sent: s.sent,
    acknowledged: s.acknowledged,
    committed: s.committed,
    rejected: s.rejected,
    lost: s.lost,
    verified: s.verified,
    independentlyVerifiable: s.independentlyVerifiable,
    durationS: s.durationS,
  });
}

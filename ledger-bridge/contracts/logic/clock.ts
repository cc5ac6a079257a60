/**
 * The ledger's rules on a reading's time t (attack 3 of issue 11, docs/crypto.md "Time"): pure
 * functions the contract calls with what it knows, so the embedded ledger and Fabric decide alike.
 *
 *   checkNotAhead   t ≤ commit time + skew. Stateless per reading: the commit time is the
 *                   transaction's timestamp, the skew the ledger config's clockSkewMs. A board
 *                   whose clock an edge pushed into the future cannot have those readings recorded.
 *   checkTimeOrder  t non-decreasing in seq per device: t ≥ t of the nearest lower seq recorded and
 *                   ≤ t of the nearest higher seq recorded (readings may commit out of order). Needs
 *                   the device's neighbouring records, so the contract calls it where it keeps
 *                   per-device state (the replay-window key); the board side guarantees it
 *                   (firmware/src/clock.ts never moves t backwards).
 *
 * Version 1 readings carry no uptime but are otherwise held to the same rules.
 */
import { OK, REASONS, reject, type Verdict } from '../../../shared/crypto/verdict.js';

/** Default tolerated lead of a reading's t over the commit time (ms), when the config sets none. */
export const DEFAULT_CLOCK_SKEW_MS = 300_000;
/** Largest configurable skew (one day). */
export const MAX_CLOCK_SKEW_MS = 86_400_000;

/**
 * Is t at most `skewMs` ahead of `commitMs` (the transaction timestamp)? CLOCK_AHEAD otherwise.
 * A reading's t may lag the commit time by any amount (readings wait in outboxes).
 */
export function checkNotAhead(deviceId: string, seq: number, t: number, commitMs: number, skewMs: number): Verdict {
  if (t > commitMs + skewMs) {
    return reject(
      REASONS.CLOCK_AHEAD,
      `device ${deviceId} seq ${seq}: t ${t} is ${t - commitMs} ms ahead of the commit time ${commitMs} (allowed skew ${skewMs} ms)`,
    );
  }
  return OK;
}

/** A recorded neighbour of a reading: its seq and t. */
export interface TimedSeq {
  readonly seq: number;
  readonly t: number;
}

/**
 * Is t non-decreasing in seq? `below` is the recorded reading of the device with the greatest seq
 * under `seq`, `above` the one with the least seq over it (undefined when there is none).
 * CLOCK_BACKWARDS when t is earlier than below's or later than above's; MALFORMED when the
 * neighbours are not below and above `seq`.
 */
export function checkTimeOrder(deviceId: string, seq: number, t: number, below?: TimedSeq, above?: TimedSeq): Verdict {
  const who = `device ${deviceId} seq ${seq}`;
  if ((below !== undefined && below.seq >= seq) || (above !== undefined && above.seq <= seq)) {
    return reject(REASONS.MALFORMED, `${who}: time-order neighbours must have a lower and a higher seq`);
  }
  if (below !== undefined && t < below.t) {
    return reject(REASONS.CLOCK_BACKWARDS, `${who}: t ${t} is earlier than t ${below.t} of seq ${below.seq}`);
  }
  if (above !== undefined && t > above.t) {
    return reject(REASONS.CLOCK_BACKWARDS, `${who}: t ${t} is later than t ${above.t} of seq ${above.seq}`);
  }
  return OK;
}

/** The configured skew, or the default for a config written before it existed. */
export function clockSkewOf(config: { readonly clockSkewMs?: number }): number {
  return config.clockSkewMs ?? DEFAULT_CLOCK_SKEW_MS;
}

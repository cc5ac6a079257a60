/**
 * Fresh challenges for Device Provenance (talk, Algorithm 2): the ledger, not the caller, picks
 * the challenge. `issueChallenge` derives a 32-byte nonce from its transaction id and stores it
 * with an expiry computed from the transaction's timestamp (every endorser computes the same
 * bytes); `prove` accepts a response only to a challenge the ledger issued for that device, to
 * the same caller, before its expiry, and consumes it, so a recorded (challenge, response) pair
 * proves nothing a second time.
 */
import { createHash } from 'node:crypto';
import { CONTRACT_ERRORS, contractError } from '../errors.js';
import type { Identity } from './registration.js';

/** How long an issued challenge may be answered (ms of ledger time). */
export const CHALLENGE_TTL_MS = 120_000;
/** Bytes of an issued challenge (what the board's CHALLENGE frame carries). */
export const CHALLENGE_BYTES = 32;

/** An issued, unanswered challenge (key challenge~deviceId~nonce). */
export interface IssuedChallenge {
  readonly deviceId: string;
  /** Hex of the 32-byte nonce. */
  readonly challenge: string;
  /** Ledger time of issue and of expiry, ms since the Unix epoch (the issuing transaction's timestamp). */
  readonly issuedAt: number;
  readonly expiresAt: number;
  /** Who asked: only the same identity may answer it. */
  readonly issuer: Identity;
  readonly txId: string;
}

/** The nonce of the challenge issued by transaction `txId` for `deviceId`. */
export function challengeNonce(txId: string, deviceId: string): string {
  return createHash('sha256').update(`provenant/challenge-nonce/v1\u0000${txId}\u0000${deviceId}`).digest('hex');
}

/** The challenge `issueChallenge` stores. */
export function issueChallenge(deviceId: string, issuer: Identity, txId: string, nowMs: number): IssuedChallenge {
  return {
    challenge: challengeNonce(txId, deviceId),
    deviceId,
    expiresAt: nowMs + CHALLENGE_TTL_MS,
    issuedAt: nowMs,
    issuer: { id: issuer.id, mspId: issuer.mspId },
    txId,
  };
}

/**
 * May `caller` answer `issued` at ledger time `nowMs`? PROV_ERR_CHALLENGE_UNKNOWN when the ledger
 * never issued it for this device (or it was answered already), or issued it to another identity;
 * PROV_ERR_CHALLENGE_EXPIRED after its expiry.
 */
export function assertFresh(
  issued: IssuedChallenge | undefined,
  deviceId: string,
  challengeHex: string,
  caller: Identity,
  nowMs: number,
): void {
  const short = `${challengeHex.slice(0, 16)}…`;
  if (issued === undefined)
    throw contractError(
      CONTRACT_ERRORS.CHALLENGE_UNKNOWN,
      `challenge ${short} was not issued by the ledger for device ${deviceId}, or was already answered (ask DeviceProvenance:issueChallenge for a fresh one)`,
      { deviceId },
    );
  if (issued.issuer.mspId !== caller.mspId || issued.issuer.id !== caller.id)
    throw contractError(CONTRACT_ERRORS.CHALLENGE_UNKNOWN, `challenge ${short} of device ${deviceId} was issued to another identity`, {
      deviceId,
    });
  if (nowMs > issued.expiresAt)
    throw contractError(
      CONTRACT_ERRORS.CHALLENGE_EXPIRED,
      `challenge ${short} of device ${deviceId} expired at ${new Date(issued.expiresAt).toISOString()} (ledger time ${new Date(nowMs).toISOString()})`,
      { deviceId },
    );
}

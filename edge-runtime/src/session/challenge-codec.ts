/**
 * The Device Provenance challenge frames of the wire protocol (docs/wire-protocol.md, shared/wire):
 * CHALLENGE 0x0a (edge → board: the 32-byte challenge) and RESPONSE 0x0b (board → edge:
 * challenge ‖ HMAC-SHA256(K_IoT, "provenant/challenge/v1" ‖ challenge), 64 bytes). The firmware
 * answers them (firmware/src/main.ts, at most one per second), so `provenant edge` and the demo
 * pass this codec as the runtime's `challengeCodec`; a runtime built without one reports the
 * challenge as unsupported (501) rather than waiting for an answer that cannot come.
 */
import type { Frame } from '../../../shared/wire/frame.js';
import { MSG_CHALLENGE, MSG_RESPONSE, decodeChallengeResponse, encodeChallenge } from '../../../shared/wire/messages.js';
import type { ChallengeCodec } from './host.js';

export { MSG_CHALLENGE, MSG_RESPONSE };

/** The wire protocol's challenge codec. */
export const wireChallengeCodec: ChallengeCodec = {
  encode(challenge: Uint8Array) {
    if (!(challenge instanceof Uint8Array)) throw new RangeError('CHALLENGE.challenge: expected 32 bytes');
    return { type: MSG_CHALLENGE, payload: encodeChallenge(challenge) };
  },
  decode(frame: Frame) {
    if (frame.type !== MSG_RESPONSE) return undefined;
    try {
      const m = decodeChallengeResponse(frame.payload);
      return { challenge: m.challenge, response: m.response };
    } catch {
      return undefined; // a malformed RESPONSE: the session's strict decoder drops and counts it
    }
  },
};

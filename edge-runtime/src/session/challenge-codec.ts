/**
 * The challenge frames proposed for the wire protocol (docs/edge.md, "Device Provenance
 * challenge"): CHALLENGE 0x0a (edge → board: 32-byte challenge) and RESPONSE 0x0b (board → edge:
 * challenge ‖ HMAC-SHA256(K_IoT, "provenant/challenge/v1" ‖ challenge), 64 bytes). Pass it as
 * `challengeCodec` to the runtime once the firmware answers these frames; until then the API
 * reports the challenge as unsupported rather than waiting for an answer that cannot come.
 */
import type { Frame } from '../../../shared/wire/frame.js';
import type { ChallengeCodec } from './host.js';

/** Frame type of the edge's challenge. */
export const MSG_CHALLENGE = 0x0a;
/** Frame type of the board's answer. */
export const MSG_RESPONSE = 0x0b;
const BYTES = 32;

/** The proposed codec. */
export const proposedChallengeCodec: ChallengeCodec = {
  encode(challenge: Uint8Array) {
    if (!(challenge instanceof Uint8Array) || challenge.length !== BYTES) throw new RangeError(`CHALLENGE.challenge: expected ${BYTES} bytes`);
    return { type: MSG_CHALLENGE, payload: new Uint8Array(challenge) };
  },
  decode(frame: Frame) {
    if (frame.type !== MSG_RESPONSE || frame.payload.length !== 2 * BYTES) return undefined;
    return { challenge: frame.payload.slice(0, BYTES), response: frame.payload.slice(BYTES) };
  },
};

/**
 * One discriminated union over every wire message, for Node-side code (edge runtime, monitor,
 * tests): decodeMessage(frame) and encodeMessage(msg). The board does not use this file; it
 * calls the per-message functions in messages.ts so its bundle carries only what it needs.
 */
import { ProvenantError } from '../errors.js';
import { encodeFrame, type Frame } from './frame.js';
import {
  MSG_ACK,
  MSG_CHALLENGE,
  MSG_HELLO,
  MSG_MAINT,
  MSG_NACK,
  MSG_PARTIAL,
  MSG_PING,
  MSG_PONG,
  MSG_READING,
  MSG_RESPONSE,
  MSG_SIG,
  MSG_SIG_ACK,
  MSG_STATUS,
  decodeChallenge,
  decodeChallengeResponse,
  decodeHello,
  decodeMaint,
  decodeNack,
  decodePartial,
  decodeReadingMessage,
  decodeSigAck,
  decodeSigFragment,
  decodeStatus,
  decodeU32,
  encodeChallenge,
  encodeChallengeResponse,
  encodeHello,
  encodeMaint,
  encodeNack,
  encodePartial,
  encodeReadingMessage,
  encodeSigAck,
  encodeSigFragment,
  encodeStatus,
  encodeU32,
  type ChallengeResponse,
  type Hello,
  type Maint,
  type Nack,
  type PartialMessage,
  type ReadingMessage,
  type SigAck,
  type SigFragment,
  type Status,
} from './messages.js';

/** Error code of a frame whose payload does not decode, or whose type is unknown. */
export const ERR_MALFORMED_FRAME = 'PROV_ERR_MALFORMED';

/** Any wire message, tagged by `kind`. */
export type WireMessage =
  | ({ readonly kind: 'HELLO' } & Hello)
  | ({ readonly kind: 'PARTIAL' } & PartialMessage)
  | ({ readonly kind: 'READING' } & ReadingMessage)
  | { readonly kind: 'ACK'; readonly seq: number }
  | ({ readonly kind: 'NACK' } & Nack)
  | { readonly kind: 'PING'; readonly nonce: number }
  | { readonly kind: 'PONG'; readonly nonce: number }
  | ({ readonly kind: 'STATUS' } & Status)
  | ({ readonly kind: 'MAINT' } & Maint)
  | { readonly kind: 'CHALLENGE'; readonly challenge: Uint8Array }
  | ({ readonly kind: 'RESPONSE' } & ChallengeResponse)
  | ({ readonly kind: 'SIG' } & SigFragment)
  | ({ readonly kind: 'SIG_ACK' } & SigAck);

/** Names of the frame types, by type byte. */
export const MESSAGE_NAMES: Readonly<Record<number, WireMessage['kind']>> = {
  [MSG_HELLO]: 'HELLO',
  [MSG_PARTIAL]: 'PARTIAL',
  [MSG_READING]: 'READING',
  [MSG_ACK]: 'ACK',
  [MSG_NACK]: 'NACK',
  [MSG_PING]: 'PING',
  [MSG_PONG]: 'PONG',
  [MSG_STATUS]: 'STATUS',
  [MSG_MAINT]: 'MAINT',
  [MSG_CHALLENGE]: 'CHALLENGE',
  [MSG_RESPONSE]: 'RESPONSE',
  [MSG_SIG]: 'SIG',
  [MSG_SIG_ACK]: 'SIG_ACK',
};

/**
 * Decodes a frame's payload by its type. Throws ProvenantError(PROV_ERR_MALFORMED) with
 * details { type, cause } for an unknown type or a payload that fails its strict decoder.
 */
export function decodeMessage(frame: Frame): WireMessage {
  const p = frame.payload;
  try {
    switch (frame.type) {
      case MSG_HELLO:
        return { kind: 'HELLO', ...decodeHello(p) };
      case MSG_PARTIAL:
        return { kind: 'PARTIAL', ...decodePartial(p) };
      case MSG_READING:
        return { kind: 'READING', ...decodeReadingMessage(p) };
      case MSG_ACK:
        return { kind: 'ACK', seq: decodeU32(p, 'ACK') };
      case MSG_NACK:
        return { kind: 'NACK', ...decodeNack(p) };
      case MSG_PING:
        return { kind: 'PING', nonce: decodeU32(p, 'PING') };
      case MSG_PONG:
        return { kind: 'PONG', nonce: decodeU32(p, 'PONG') };
      case MSG_STATUS:
        return { kind: 'STATUS', ...decodeStatus(p) };
      case MSG_MAINT:
        return { kind: 'MAINT', ...decodeMaint(p) };
      case MSG_CHALLENGE:
        return { kind: 'CHALLENGE', challenge: decodeChallenge(p) };
      case MSG_RESPONSE:
        return { kind: 'RESPONSE', ...decodeChallengeResponse(p) };
      case MSG_SIG:
        return { kind: 'SIG', ...decodeSigFragment(p) };
      case MSG_SIG_ACK:
        return { kind: 'SIG_ACK', ...decodeSigAck(p) };
      default:
        break;
    }
  } catch (cause) {
    const why = cause instanceof Error ? cause.message : String(cause);
    throw new ProvenantError(ERR_MALFORMED_FRAME, `malformed frame: ${why}`, { type: frame.type, cause });
  }
  throw new ProvenantError(ERR_MALFORMED_FRAME, `unknown frame type 0x${frame.type.toString(16)}`, { type: frame.type });
}

/** Payload bytes of a message (without framing). */
export function encodePayload(m: WireMessage): { type: number; payload: Uint8Array } {
  switch (m.kind) {
    case 'HELLO':
      return { type: MSG_HELLO, payload: encodeHello(m) };
    case 'PARTIAL':
      return { type: MSG_PARTIAL, payload: encodePartial(m) };
    case 'READING':
      return { type: MSG_READING, payload: encodeReadingMessage(m.canonical, m.tag) };
    case 'ACK':
      return { type: MSG_ACK, payload: encodeU32(m.seq, 'ACK') };
    case 'NACK':
      return { type: MSG_NACK, payload: encodeNack(m) };
    case 'PING':
      return { type: MSG_PING, payload: encodeU32(m.nonce, 'PING') };
    case 'PONG':
      return { type: MSG_PONG, payload: encodeU32(m.nonce, 'PONG') };
    case 'STATUS':
      return { type: MSG_STATUS, payload: encodeStatus(m) };
    case 'MAINT':
      return { type: MSG_MAINT, payload: encodeMaint(m) };
    case 'CHALLENGE':
      return { type: MSG_CHALLENGE, payload: encodeChallenge(m.challenge) };
    case 'RESPONSE':
      return { type: MSG_RESPONSE, payload: encodeChallengeResponse(m) };
    case 'SIG':
      return { type: MSG_SIG, payload: encodeSigFragment(m) };
    case 'SIG_ACK':
      return { type: MSG_SIG_ACK, payload: encodeSigAck(m) };
  }
}

/** Wire bytes (COBS frame + 0x00) of a message. */
export function encodeMessage(m: WireMessage): Uint8Array {
  const { type, payload } = encodePayload(m);
  return encodeFrame(type, payload);
}

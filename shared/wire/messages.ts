/**
 * Typed payloads of the wire protocol (docs/wire-protocol.md). Each message has an encoder
 * (object → payload bytes) and a strict decoder (payload bytes → object) that rejects truncated,
 * trailing or out-of-range input with a RangeError naming the message and field.
 *
 * ES5-safe: the firmware bundles the functions it uses (tree-shaken); the board only ever
 * encodes HELLO, READING, PONG, STATUS, RESPONSE and SIG and decodes PARTIAL, ACK, NACK, PING,
 * MAINT, CHALLENGE and SIG_ACK.
 */
import { decodeReading } from '../encoding/reading.js';
import type { Reading } from '../types.js';
import { decodeFields, encodeFields, type Fields } from './codec.js';

/** Frame type bytes. Device → edge: HELLO, READING, PONG, STATUS, RESPONSE. Edge → device: PARTIAL, ACK, NACK, MAINT, CHALLENGE. PING both ways. */
export const MSG_HELLO = 0x01;
/** Edge → device: the epoch's partial-signature digest, edge clock and traffic profile. */
export const MSG_PARTIAL = 0x02;
/** Device → edge: canonical reading bytes followed by the 32-byte tag. */
export const MSG_READING = 0x03;
/** Edge → device: every reading with seq ≤ ack.seq is durably stored. */
export const MSG_ACK = 0x04;
/** Edge → device: reading `seq` was refused, with a NACK_* reason. */
export const MSG_NACK = 0x05;
/** Either way: liveness probe; the receiver answers PONG with the same nonce. */
export const MSG_PING = 0x06;
/** Answer to PING. */
export const MSG_PONG = 0x07;
/** Device → edge: a condition the board reports (STATUS_* codes), e.g. provisioning missing. */
export const MSG_STATUS = 0x08;
/** Owner → device: maintenance command authenticated under K_maint, the owner's subkey of K_IoT (e.g. unlock the console). */
export const MSG_MAINT = 0x09;
/** Edge → device: a fresh 32-byte Device Provenance challenge (Algorithm 2). */
export const MSG_CHALLENGE = 0x0a;
/**
 * Device → edge: the challenge echoed (so the edge matches it to its request) and the response
 * HMAC-SHA256(K_chal, "pv2:c" ‖ challenge), shared/crypto challengeResponse.
 */
export const MSG_RESPONSE = 0x0b;
/**
 * Device → edge: one fragment of a SIG body (an epoch segment's LMS signature, or the signature
 * that vouches for the board's next key set; shared/crypto/epoch.ts): index u8, count u8, then up
 * to SIG_CHUNK bytes of the body.
 */
export const MSG_SIG = 0x0c;
/** Edge → device: the SIG body with this keySet field and one-time key index q is durably stored. */
export const MSG_SIG_ACK = 0x0d;

/** Most body bytes in one SIG fragment (payload limit 255 minus index and count). */
export const SIG_CHUNK = 253;
/** Most fragments of one SIG body (8 KB: any LMS parameter set of up to 2 KB signatures fits). */
export const SIG_MAX_FRAGMENTS = 32;

/** Length of a Device Provenance challenge and of its response. */
export const CHALLENGE_BYTES = 32;

/** NACK reasons. Retryable ones leave the reading in the board's resend ring. */
export const NACK_NOT_STORED = 1;
/** The edge's outbox is full (ledger outage): keep the reading and resend later. */
export const NACK_OUTBOX_FULL = 2;
/** The tag did not verify: resending the same bytes cannot help; the board drops it. */
export const NACK_BAD_TAG = 3;
/** (deviceId, seq) was already seen: the board drops it (it is stored or was forged). */
export const NACK_REPLAY = 4;
/** Faster than the traffic profile allows: keep and resend later. */
export const NACK_RATE = 5;
/** The edge does not know this device: keep, say HELLO again later. */
export const NACK_UNKNOWN_DEVICE = 6;
/** No partial signature for the reading's epoch: keep, say HELLO to get a PARTIAL. */
export const NACK_NO_PARTIAL = 7;
/** The payload did not decode: the board drops it. */
export const NACK_MALFORMED = 8;
/** The device is revoked: the board stops sampling. */
export const NACK_REVOKED = 9;
/**
 * The reading was made before the board's current session, under a partial signature this edge
 * did not issue (another edge, or this edge before it lost its outbox): no resend can make it
 * forwardable here (the tag covers the digest), so the board drops it and keeps its PARTIAL.
 */
export const NACK_STALE_PARTIAL = 10;

/** True when the board should keep a NACKed reading in its ring and resend it later. */
export function nackIsRetryable(reason: number): boolean {
  // Bit r of RETRYABLE is set for each retryable reason r (NOT_STORED 1, OUTBOX_FULL 2, RATE 5,
  // UNKNOWN_DEVICE 6, NO_PARTIAL 7): one expression, small in the board's bundle.
  return reason < 8 && ((RETRYABLE >> reason) & 1) === 1;
}

const RETRYABLE = (1 << NACK_NOT_STORED) | (1 << NACK_OUTBOX_FULL) | (1 << NACK_RATE) | (1 << NACK_UNKNOWN_DEVICE) | (1 << NACK_NO_PARTIAL);

/** STATUS codes the board sends. */
export const STATUS_OK = 0;
/** Storage has no provenant.json: the board idles until flashed. */
export const STATUS_NOT_PROVISIONED = 1;
/** provenant.json is present but invalid (text says which field). */
export const STATUS_BAD_PROVISIONING = 2;
/** seq is near 2^32: the board stopped sampling and must be re-enrolled with a new deviceId. */
export const STATUS_SEQ_EXHAUSTED = 3;
/** A sensor read failed; value = channel id. */
export const STATUS_SENSOR_FAULT = 4;
/** The resend ring is full; a sample was skipped (no seq consumed). value = samples skipped. */
export const STATUS_RING_FULL = 5;
/** Production build: console moved off the data link and locked. */
export const STATUS_LOCKED = 6;
/** Console back on the data link after a MAINT unlock or the boot button. */
export const STATUS_UNLOCKED = 7;
/** Frames the board dropped on receive (bad CRC, oversize, malformed); value = total. */
export const STATUS_RX_ERRORS = 8;
/** The edge reported the device revoked; sampling stopped. */
export const STATUS_STOPPED = 9;
/** A MAINT frame failed authentication or replayed a counter. */
export const STATUS_MAINT_REJECTED = 10;
/** Epoch segments the board closed but could not sign (one was already waiting); value = total so far. */
export const STATUS_UNSIGNED = 11;
/** The board's LMS key sets are spent without a successor: no more epoch signatures; value = key set. */
export const STATUS_KEYS_EXHAUSTED = 12;

/** MAINT commands. */
export const MAINT_UNLOCK = 1;

/** HELLO flag: production provisioning (console locked off every device). */
export const HELLO_FLAG_PRODUCTION = 1;
/** HELLO flag: the firmware owns the data link (the console was moved off it). */
export const HELLO_FLAG_LOCKED = 2;

/** HELLO: sent by the board at boot and whenever it needs a PARTIAL. */
export interface Hello {
  readonly deviceId: string;
  /** Firmware version string, 0..32 ASCII. */
  readonly fwVersion: string;
  /** SHA-256 of the bundle (docs/firmware.md says how it is computed). */
  readonly fwHash: Uint8Array;
  /** The next seq the board will use. */
  readonly seq: number;
  readonly bootCount: number;
  /** HELLO_FLAG_* bits. */
  readonly flags: number;
  /** Readings waiting in the resend ring. */
  readonly pending: number;
  /** Board profile name, 0..16 ASCII. */
  readonly board: string;
}

/** PARTIAL: the epoch's partial signature digest, the edge clock and the traffic profile. */
export interface PartialMessage {
  readonly epoch: number;
  readonly partialDigest: Uint8Array;
  /** Edge clock, ms since the Unix epoch. */
  readonly edgeTimeMs: number;
  /** Sampling interval in ms (≥ 1). */
  readonly intervalMs: number;
  /** Most readings per minute, 0 = no limit beyond the interval. */
  readonly maxPerMinute: number;
}

/** READING: the canonical reading and its tag. */
export interface ReadingMessage {
  /** Canonical bytes exactly as received (what the tag covers). */
  readonly canonical: Uint8Array;
  readonly reading: Reading;
  readonly tag: Uint8Array;
}

/** NACK: a refused reading. */
export interface Nack {
  readonly seq: number;
  readonly reason: number;
}

/** STATUS: a board condition. */
export interface Status {
  readonly code: number;
  readonly value: number;
  /** 0..64 ASCII. */
  readonly text: string;
}

/** MAINT: an owner command, tag = HMAC-SHA256(K_maint, "pv2:m" ‖ maintMessage(deviceId, command, counter)). */
export interface Maint {
  readonly command: number;
  /** Strictly increasing per device (the board persists the last one). */
  readonly counter: number;
  readonly tag: Uint8Array;
}

/** RESPONSE: the board's answer to a CHALLENGE. */
export interface ChallengeResponse {
  /** The challenge answered, echoed. */
  readonly challenge: Uint8Array;
  /** HMAC-SHA256(K_chal, "pv2:c" ‖ challenge). */
  readonly response: Uint8Array;
}

/** SIG: one fragment of a SIG body. */
export interface SigFragment {
  /** 0..count-1, sent in order. */
  readonly index: number;
  /** Fragments of the body, 1..SIG_MAX_FRAGMENTS. */
  readonly count: number;
  /** 1..SIG_CHUNK bytes; every fragment but the last is exactly SIG_CHUNK. */
  readonly chunk: Uint8Array;
}

/** SIG_ACK: which signature the edge has stored. */
export interface SigAck {
  /** The SIG body's keySet field (the signing key set for an epoch body, the new one for a key-set body). */
  readonly keySet: number;
  /** The one-time key index of its LMS signature. */
  readonly q: number;
}

/** Length of the tag in READING and MAINT. */
export const TAG_BYTES = 32;

/** Payload layouts (shared/wire/codec.ts explains the notation; docs/wire-protocol.md the fields). */
export const LAYOUT_HELLO = 'HELLO deviceId:a1-64 fwVersion:a0-32 fwHash:b32 seq:4 bootCount:4 flags:1 pending:1 board:a0-16';
/** PARTIAL layout, 50 bytes. */
export const LAYOUT_PARTIAL = 'PARTIAL epoch:4 partialDigest:b32 edgeTimeMs:8 intervalMs:4 maxPerMinute:2';
/** NACK layout. */
export const LAYOUT_NACK = 'NACK seq:4 reason:1';
/** STATUS layout. */
export const LAYOUT_STATUS = 'STATUS code:1 value:4 text:a0-64';
/** MAINT layout. */
export const LAYOUT_MAINT = 'MAINT command:1 counter:4 tag:b32';
/** CHALLENGE layout, 32 bytes. */
export const LAYOUT_CHALLENGE = 'CHALLENGE challenge:b32';
/** RESPONSE layout, 64 bytes. */
export const LAYOUT_RESPONSE = 'RESPONSE challenge:b32 response:b32';

/** SIG_ACK layout, 8 bytes. */
export const LAYOUT_SIG_ACK = 'SIG_ACK keySet:4 q:4';

/** Encodes HELLO. */
export function encodeHello(h: Hello): Uint8Array {
  return encodeFields(LAYOUT_HELLO, h as unknown as Fields);
}

/** Decodes HELLO strictly. */
export function decodeHello(p: Uint8Array): Hello {
  return decodeFields(LAYOUT_HELLO, p) as unknown as Hello;
}

function checkInterval(m: PartialMessage): PartialMessage {
  if (m.intervalMs < 1) throw new RangeError('PARTIAL.intervalMs: must be at least 1');
  return m;
}

/** Encodes PARTIAL. */
export function encodePartial(m: PartialMessage): Uint8Array {
  return encodeFields(LAYOUT_PARTIAL, checkInterval(m) as unknown as Fields);
}

/** Decodes PARTIAL strictly. */
export function decodePartial(p: Uint8Array): PartialMessage {
  return checkInterval(decodeFields(LAYOUT_PARTIAL, p) as unknown as PartialMessage);
}

/** Encodes READING from canonical bytes (as produced by encodeReading) and the tag. */
export function encodeReadingMessage(canonical: Uint8Array, tag: Uint8Array): Uint8Array {
  if (tag.length !== TAG_BYTES) throw new RangeError('READING.tag: expected 32 bytes');
  const out = new Uint8Array(canonical.length + TAG_BYTES);
  out.set(canonical, 0);
  out.set(tag, canonical.length);
  return out;
}

/** Decodes READING strictly (the canonical part through decodeReading). */
export function decodeReadingMessage(p: Uint8Array): ReadingMessage {
  if (p.length <= TAG_BYTES) throw new RangeError('READING.length: truncated (' + p.length + ' bytes)');
  const canonical = new Uint8Array(p.subarray(0, p.length - TAG_BYTES));
  let reading: Reading;
  try {
    reading = decodeReading(canonical);
  } catch (e) {
    throw new RangeError('READING.reading: ' + (e instanceof Error ? e.message : String(e)));
  }
  return { canonical, reading, tag: new Uint8Array(p.subarray(p.length - TAG_BYTES)) };
}

function u32Layout(msg: string): string {
  return msg + (msg === 'ACK' ? ' seq:4' : ' nonce:4');
}

/** Encodes a u32 payload: ACK seq, PING/PONG nonce (`msg` is 'ACK', 'PING' or 'PONG'). */
export function encodeU32(v: number, msg: string): Uint8Array {
  return encodeFields(u32Layout(msg), { seq: v, nonce: v });
}

/** Decodes a u32 payload (ACK seq, PING/PONG nonce) strictly. */
export function decodeU32(p: Uint8Array, msg: string): number {
  const o = decodeFields(u32Layout(msg), p);
  return (msg === 'ACK' ? o['seq'] : o['nonce']) as number;
}

/** Encodes NACK. */
export function encodeNack(m: Nack): Uint8Array {
  return encodeFields(LAYOUT_NACK, m as unknown as Fields);
}

/** Decodes NACK strictly (unknown reasons are kept: the board treats them as final). */
export function decodeNack(p: Uint8Array): Nack {
  const m = decodeFields(LAYOUT_NACK, p) as unknown as Nack;
  if (m.reason === 0) throw new RangeError('NACK.reason: must not be 0');
  return m;
}

/** Encodes STATUS. */
export function encodeStatus(s: Status): Uint8Array {
  return encodeFields(LAYOUT_STATUS, s as unknown as Fields);
}

/** Decodes STATUS strictly. */
export function decodeStatus(p: Uint8Array): Status {
  return decodeFields(LAYOUT_STATUS, p) as unknown as Status;
}

/** Encodes MAINT. */
export function encodeMaint(m: Maint): Uint8Array {
  return encodeFields(LAYOUT_MAINT, m as unknown as Fields);
}

/** Decodes MAINT strictly. */
export function decodeMaint(p: Uint8Array): Maint {
  return decodeFields(LAYOUT_MAINT, p) as unknown as Maint;
}

/** Encodes CHALLENGE (exactly 32 bytes). */
export function encodeChallenge(challenge: Uint8Array): Uint8Array {
  return encodeFields(LAYOUT_CHALLENGE, { challenge: challenge });
}

/** Decodes CHALLENGE strictly. */
export function decodeChallenge(p: Uint8Array): Uint8Array {
  return decodeFields(LAYOUT_CHALLENGE, p)['challenge'] as Uint8Array;
}

/** Encodes RESPONSE. */
export function encodeChallengeResponse(m: ChallengeResponse): Uint8Array {
  return encodeFields(LAYOUT_RESPONSE, m as unknown as Fields);
}

/** Decodes RESPONSE strictly. */
export function decodeChallengeResponse(p: Uint8Array): ChallengeResponse {
  return decodeFields(LAYOUT_RESPONSE, p) as unknown as ChallengeResponse;
}

/** Encodes one SIG fragment. */
export function encodeSigFragment(m: SigFragment): Uint8Array {
  const out = new Uint8Array(2 + m.chunk.length);
  out[0] = m.index;
  out[1] = m.count;
  out.set(m.chunk, 2);
  return decodeSigFragment(out) && out;
}

/** Decodes one SIG fragment strictly (index < count ≤ SIG_MAX_FRAGMENTS, 1..SIG_CHUNK body bytes, full chunks but the last). */
export function decodeSigFragment(p: Uint8Array): SigFragment {
  if (p.length < 3) throw new RangeError('SIG.chunk: truncated (' + p.length + ' bytes)');
  const index = p[0] as number;
  const count = p[1] as number;
  if (count < 1 || count > SIG_MAX_FRAGMENTS) throw new RangeError('SIG.count: must be 1..' + SIG_MAX_FRAGMENTS + ', got ' + count);
  if (index >= count) throw new RangeError('SIG.index: ' + index + ' is not below count ' + count);
  const n = p.length - 2;
  if (n > SIG_CHUNK) throw new RangeError('SIG.chunk: more than ' + SIG_CHUNK + ' bytes');
  if (index < count - 1 && n !== SIG_CHUNK) throw new RangeError('SIG.chunk: only the last fragment may be short');
  return { index, count, chunk: new Uint8Array(p.subarray(2)) };
}

/** A SIG body cut into fragment payloads. */
export function sigFragments(body: Uint8Array): Uint8Array[] {
  const count = Math.ceil(body.length / SIG_CHUNK);
  if (count < 1 || count > SIG_MAX_FRAGMENTS)
    throw new RangeError('SIG: a body of ' + body.length + ' bytes does not fit ' + SIG_MAX_FRAGMENTS + ' fragments');
  const out: Uint8Array[] = [];
  for (let i = 0; i < count; i++)
    out.push(encodeSigFragment({ index: i, count, chunk: body.subarray(i * SIG_CHUNK, (i + 1) * SIG_CHUNK) }));
  return out;
}

/**
 * Puts a SIG body back together from its fragments as they arrive. A fragment that does not
 * continue the body in progress (another index, another count) drops what was gathered; index 0
 * always starts a new body. `push` returns the whole body when its last fragment arrives.
 */
export class SigReassembler {
  private parts: Uint8Array[] = [];
  private count = 0;
  /** Fragments thrown away (out of order, or a body abandoned midway). */
  discarded = 0;

  push(f: SigFragment): Uint8Array | undefined {
    if (f.index === 0) {
      this.discarded += this.parts.length;
      this.parts = [];
      this.count = f.count;
    } else if (f.count !== this.count || f.index !== this.parts.length) {
      this.discarded += this.parts.length + 1;
      this.parts = [];
      this.count = 0;
      return undefined;
    }
    this.parts.push(f.chunk);
    if (this.parts.length < this.count) return undefined;
    let len = 0;
    for (const c of this.parts) len += c.length;
    const body = new Uint8Array(len);
    let at = 0;
    for (const c of this.parts) {
      body.set(c, at);
      at += c.length;
    }
    this.parts = [];
    this.count = 0;
    return body;
  }
}

/** Encodes SIG_ACK. */
export function encodeSigAck(m: SigAck): Uint8Array {
  return encodeFields(LAYOUT_SIG_ACK, m as unknown as Fields);
}

/** Decodes SIG_ACK strictly. */
export function decodeSigAck(p: Uint8Array): SigAck {
  return decodeFields(LAYOUT_SIG_ACK, p) as unknown as SigAck;
}

/**
 * The bytes a MAINT tag covers after its domain label: deviceId length and bytes, command,
 * counter. The tag is HMAC-SHA256(K_maint, "pv2:m" ‖ these bytes)
 * (shared/crypto/domains.ts maintTag). Binding the deviceId stops a frame for one board unlocking another.
 */
export function maintMessage(deviceId: string, command: number, counter: number): Uint8Array {
  return encodeFields('MAINT deviceId:a1-64 command:1 counter:4', {
    deviceId: deviceId,
    command: command,
    counter: counter,
  });
}

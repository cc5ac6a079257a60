/**
 * The board's own half of the wire protocol (docs/wire-protocol.md): it ENCODES only what the
 * board sends (HELLO, READING frames, PONG, STATUS, RESPONSE) and DECODES only what it receives
 * (PARTIAL, ACK, NACK, PING, MAINT, CHALLENGE); the MAC inputs are shared/crypto/domains.ts. shared/wire's layout-string codec serves every
 * message in both directions with field-named errors; on the board that generality cost about
 * 2.5 KB of the 8 KB budget, so the board writes fixed layouts directly instead.
 *
 * The bytes must stay identical to shared/wire's: test/wire/board-codec.test.ts checks every
 * encoder against shared/wire's encoders and every decoder against shared/wire's strict
 * decoders (same accepted inputs, same values) with random inputs. CRC-16 and COBS are shared
 * with Node as they are. No Espruino globals here, so Node tests import this file directly.
 */
import { cobsDecode, cobsEncode } from '../../shared/wire/cobs.js';
import { crc16 } from '../../shared/wire/crc16.js';
import { put, putStr } from '../../shared/encoding/reading.js';
import { DOMAIN_CHALLENGE } from '../../shared/crypto/domains.js';
import { hmacLabeled } from '../../shared/crypto/hmac.js';
import type { Sha256 } from '../../shared/types.js';

/** Largest COBS block the receiver holds (shared/wire MAX_ENCODED_FRAME: 260 raw bytes stuffed). */
const MAX_BLOCK = 262;

/** Wire bytes of one frame: COBS(version 1, type, length, payload, CRC-16) and the 0x00 delimiter. */
export function frameBytes(type: number, payload: ArrayLike<number>): Uint8Array {
  const n = payload.length;
  const raw = new Uint8Array(n + 5);
  raw[0] = 1;
  raw[1] = type;
  raw[2] = n;
  raw.set(payload, 3);
  const c = crc16(raw, 0, n + 3);
  raw[n + 3] = c >> 8;
  raw[n + 4] = c & 255;
  const s = cobsEncode(raw);
  const out = new Uint8Array(s.length + 1);
  out.set(s, 0); // the last byte stays 0x00: the delimiter
  return out;
}

/** HELLO payload (layout of shared/wire LAYOUT_HELLO). */
export function helloPayload(
  deviceId: string,
  fwVersion: string,
  fwHash: Uint8Array,
  seq: number,
  bootCount: number,
  flags: number,
  pending: number,
  board: string,
): number[] {
  const a: number[] = [];
  putStr(a, deviceId);
  putStr(a, fwVersion);
  for (let i = 0; i < 32; i++) a.push(fwHash[i] as number);
  put(a, seq, 4);
  put(a, bootCount, 4);
  a.push(flags, pending);
  putStr(a, board);
  return a;
}

/** STATUS payload: code u8, value u32, text (the board sends only field names, docs/firmware.md). */
export function statusPayload(code: number, value: number, text: string): number[] {
  const a = [code];
  put(a, value, 4);
  putStr(a, text);
  return a;
}

/** u32 payload (PONG nonce). */
export function u32Payload(v: number): number[] {
  const a: number[] = [];
  put(a, v, 4);
  return a;
}

/**
 * RESPONSE payload for a CHALLENGE payload: challenge ‖ HMAC-SHA256(K_chal,
 * "pv2:c" ‖ challenge), equal to shared/crypto's challengeResponse (what the
 * DeviceProvenance contract checks with the K_chal it holds). Throws unless the challenge is
 * exactly 32 bytes.
 */
export function challengeAnswer(sha256: Sha256, kChal: Uint8Array, challenge: Uint8Array): Uint8Array {
  need(challenge, 32);
  const a = new Uint8Array(64);
  a.set(challenge);
  a.set(hmacLabeled(sha256, kChal, DOMAIN_CHALLENGE, challenge), 32); // = challengeResponse
  return a;
}

/** Big-endian unsigned integer of p[o..o+n). */
export function num(p: Uint8Array, o: number, n: number): number {
  let x = 0;
  for (let j = 0; j < n; j++) x = x * 256 + (p[o + j] as number);
  return x;
}

/** Throws unless the payload is exactly `n` bytes (every received message has a fixed size). */
export function need(p: Uint8Array, n: number): void {
  if (p.length !== n) throw new RangeError('payload: expected ' + n + ' bytes');
}

/** A decoded PARTIAL (same fields and checks as shared/wire decodePartial). */
export interface BoardPartial {
  readonly epoch: number;
  readonly partialDigest: Uint8Array;
  readonly edgeTimeMs: number;
  readonly intervalMs: number;
  readonly maxPerMinute: number;
}

/** PARTIAL: epoch u32, partialDigest 32, edgeTimeMs u64 < 2^53, intervalMs u32 ≥ 1, maxPerMinute u16. */
export function readPartial(p: Uint8Array): BoardPartial {
  need(p, 50);
  const m = {
    epoch: num(p, 0, 4),
    partialDigest: new Uint8Array(p.subarray(4, 36)),
    edgeTimeMs: num(p, 36, 8),
    intervalMs: num(p, 44, 4),
    maxPerMinute: num(p, 48, 2),
  };
  if ((p[36] as number) > 0 || (p[37] as number) > 31 || m.intervalMs < 1) throw new RangeError('PARTIAL: out of range');
  return m;
}

/** ACK / PING: one u32. */
export function readU32(p: Uint8Array): number {
  need(p, 4);
  return num(p, 0, 4);
}

/** NACK: [seq u32, reason u8 ≠ 0]. */
export function readNack(p: Uint8Array): number[] {
  need(p, 5);
  if (p[4] === 0) throw new RangeError('NACK.reason: 0');
  return [num(p, 0, 4), p[4] as number];
}

/** MAINT: command u8, counter u32, tag 32 bytes. */
export function readMaint(p: Uint8Array): { command: number; counter: number; tag: Uint8Array } {
  need(p, 37);
  return { command: p[0] as number, counter: num(p, 1, 4), tag: new Uint8Array(p.subarray(5)) };
}

/**
 * Streaming receiver with shared/wire FrameDecoder's rules (resync at 0x00, oversize blocks
 * skipped to the next delimiter, COBS/CRC/version/length checked) but a single drop counter:
 * the board only ever reports the total. Never throws on input.
 */
export function receiver(deliver: (type: number, payload: Uint8Array) => void): { push(bytes: Uint8Array): void; drops: number } {
  const buf = new Uint8Array(MAX_BLOCK);
  let len = 0;
  let skipping = false;
  const rx = {
    drops: 0,
    push: function (bytes: Uint8Array): void {
      for (let i = 0; i < bytes.length; i++) {
        const b = bytes[i] as number;
        if (b === 0) {
          if (skipping) skipping = false;
          else if (len > 0) finish(cobsDecode(buf.subarray(0, len)));
          len = 0;
        } else if (!skipping) {
          if (len === MAX_BLOCK) {
            rx.drops++;
            skipping = true;
            len = 0;
          } else buf[len++] = b;
        }
      }
    },
  };
  function finish(raw: Uint8Array | null): void {
    const n = raw ? raw.length - 5 : -1;
    if (!raw || n < 0 || crc16(raw, 0, n + 3) !== num(raw, n + 3, 2) || raw[0] !== 1 || raw[2] !== n) rx.drops++;
    else deliver(raw[1] as number, new Uint8Array(raw.subarray(3, 3 + n)));
  }
  return rx;
}

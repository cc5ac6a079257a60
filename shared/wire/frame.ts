/**
 * Frames of the device ↔ edge wire protocol (BRIEF §5, docs/wire-protocol.md):
 *
 *   COBS( version u8 = 1 | type u8 | length u8 | payload[length] | crc16 u16 big-endian ) 0x00
 *
 * The CRC (CRC-16/CCITT-FALSE) covers version..payload. 0x00 never occurs inside an encoded
 * frame, so a receiver that lost sync (garbage, a cut cable, a reboot mid-frame) resynchronises
 * at the next 0x00. ES5-safe: the firmware bundles this file.
 */
import { cobsDecode, cobsEncode, cobsMaxEncodedLength } from './cobs.js';
import { crc16 } from './crc16.js';

/** Version byte of the current frame layout. */
export const FRAME_VERSION = 1;
/** Largest payload of one frame. */
export const MAX_PAYLOAD = 255;
/** Bytes of a raw (un-stuffed) frame around its payload: version, type, length, crc16. */
export const FRAME_OVERHEAD = 5;
/** Largest COBS-encoded frame, without its delimiter. */
export const MAX_ENCODED_FRAME = cobsMaxEncodedLength(MAX_PAYLOAD + FRAME_OVERHEAD);

/** One decoded frame: its type byte and payload. */
export interface Frame {
  readonly type: number;
  readonly payload: Uint8Array;
}

/**
 * Wire bytes of one frame: COBS-stuffed frame plus the 0x00 delimiter.
 * Throws RangeError for a type outside 0..255 or a payload over 255 bytes.
 */
export function encodeFrame(type: number, payload: Uint8Array): Uint8Array {
  if (type !== (type & 255)) throw new RangeError('encodeFrame: type must be 0..255');
  if (payload.length > MAX_PAYLOAD) throw new RangeError('encodeFrame: payload of ' + payload.length + ' bytes exceeds ' + MAX_PAYLOAD);
  const n = payload.length;
  const raw = new Uint8Array(n + FRAME_OVERHEAD);
  raw[0] = FRAME_VERSION;
  raw[1] = type;
  raw[2] = n;
  raw.set(payload, 3);
  const crc = crc16(raw, 0, n + 3);
  raw[n + 3] = crc >> 8;
  raw[n + 4] = crc & 255;
  const stuffed = cobsEncode(raw);
  const out = new Uint8Array(stuffed.length + 1);
  out.set(stuffed, 0); // last byte stays 0x00: the delimiter
  return out;
}

/** Counters a FrameDecoder keeps; every dropped block is counted exactly once. */
export interface FrameStats {
  /** Frames delivered. */
  frames: number;
  /** Blocks whose CRC did not match. */
  badCrc: number;
  /** Blocks longer than MAX_ENCODED_FRAME (dropped up to the next 0x00). */
  oversize: number;
  /** Blocks that are not valid COBS, shorter than a frame, or whose length byte disagrees. */
  malformed: number;
  /** Well-formed blocks with a version byte other than FRAME_VERSION. */
  badVersion: number;
}

/**
 * Streaming receiver: feed it whatever the link delivers, in any chunking, and it returns the
 * complete, CRC-checked frames. It never throws on input and never holds more than
 * MAX_ENCODED_FRAME bytes: an over-long block is counted as oversize and skipped to the next
 * delimiter. Empty blocks (0x00 0x00) are idle fill and not counted.
 */
export class FrameDecoder {
  /** Drop counters and delivered-frame count. */
  readonly stats: FrameStats = { frames: 0, badCrc: 0, oversize: 0, malformed: 0, badVersion: 0 };
  private readonly buf = new Uint8Array(MAX_ENCODED_FRAME);
  private len = 0;
  private skipping = false;

  /** Consumes `bytes` and returns the frames they completed (possibly none). */
  push(bytes: Uint8Array): Frame[] {
    const out: Frame[] = [];
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i] as number;
      if (b === 0) {
        if (this.skipping) this.skipping = false;
        else if (this.len > 0) this.finish(out);
        this.len = 0;
      } else if (!this.skipping) {
        if (this.len === MAX_ENCODED_FRAME) {
          this.stats.oversize++;
          this.skipping = true;
          this.len = 0;
        } else {
          this.buf[this.len++] = b;
        }
      }
    }
    return out;
  }

  /** Forgets a partly received block (e.g. after the link was reopened). */
  reset(): void {
    this.len = 0;
    this.skipping = false;
  }

  private finish(out: Frame[]): void {
    const s = this.stats;
    const raw = cobsDecode(this.buf.subarray(0, this.len));
    if (raw === null || raw.length < FRAME_OVERHEAD) {
      s.malformed++;
      return;
    }
    const n = raw.length - FRAME_OVERHEAD;
    const crc = ((raw[n + 3] as number) << 8) | (raw[n + 4] as number);
    if (crc16(raw, 0, n + 3) !== crc) {
      s.badCrc++;
      return;
    }
    if (raw[0] !== FRAME_VERSION) {
      s.badVersion++;
      return;
    }
    if (raw[2] !== n) {
      s.malformed++;
      return;
    }
    s.frames++;
    out.push({ type: raw[1] as number, payload: new Uint8Array(raw.subarray(3, 3 + n)) });
  }
}

/**
 * Types every part shares. ES5-safe (types only).
 */

/** One channel value of a reading: a fixed-point integer `value × 10^scale` (no floats on the wire). */
export interface ChannelValue {
  /** Channel id, 0..255 (see firmware/boards: 0 = internal temperature, 1 = analog pin, ...). */
  readonly id: number;
  /** Decimal exponent, -128..127: value 2315 with scale -2 means 23.15. */
  readonly scale: number;
  /** Signed 32-bit integer. */
  readonly value: number;
}

/** A sensor reading as the device signs it (BRIEF §4). */
export interface Reading {
  /** Printable ASCII, 1..64 bytes. */
  readonly deviceId: string;
  /** u32, strictly increasing per device, also across reboots. */
  readonly seq: number;
  /** Device clock in ms since the Unix epoch, integer 0..2^53-1. */
  readonly t: number;
  /** u32 epoch of the partial signature this reading is completed under. */
  readonly epoch: number;
  /** 32 bytes: SHA-256(σp ‖ ph) of the epoch's partial signature. */
  readonly partialDigest: Uint8Array;
  /** Battery in millivolts, u16. */
  readonly batteryMv: number;
  /** 0..16 channel values. */
  readonly channels: readonly ChannelValue[];
  /**
   * Reading v2: the board's boot counter (u32). Absent only on a version 1 reading (before boot
   * count and uptime were carried); shared/encoding/reading.ts encodes v2 when it is present.
   */
  readonly bootCount?: number;
  /** Reading v2: ms since this boot on the board's own clock, which the edge cannot set (u40). */
  readonly uptimeMs?: number;
}

/** A reading together with the device's tag over its canonical bytes. */
export interface SignedReading {
  readonly reading: Reading;
  /** HMAC-SHA256(K_tag, "pv2:r" ‖ canonical(reading)), 32 bytes (v1: HMAC-SHA256(K_IoT, canonical)). */
  readonly tag: Uint8Array;
}

/** A one-function SHA-256 so the board can plug in its native implementation. */
export type Sha256 = (data: Uint8Array) => Uint8Array;

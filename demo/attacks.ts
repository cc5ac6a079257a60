/**
 * The threats `provenant demo --attack NAME` plays, each against the running system, and how
 * each is caught (docs/edge.md, "Attacks"):
 *
 * | attack        | what the attacker does                                   | caught by                           |
 * |---------------|----------------------------------------------------------|-------------------------------------|
 * | forge         | injects READINGs with made-up tags (no K_IoT)            | ledger: BAD_TAG                     |
 * | replay        | re-sends captured genuine READING frames                 | edge: duplicates, stored once; ledger holds each once |
 * | tamper        | rewrites values in frames in flight (CRC fixed up)       | ledger: BAD_TAG                     |
 * | fast-sampling | a cloned board samples 10× faster than its profile      | edge: NACK RATE                     |
 * | injection     | a cloned board sends plausible false values (valid tags) | traffic profile: discrepancy        |
 * | unplug        | pulls a board's cable for a while                        | link state; nothing lost on replug  |
 */
import { encodeReading } from '../shared/encoding/reading.js';
import { encodeFrame } from '../shared/wire/frame.js';
import { MSG_READING } from '../shared/wire/messages.js';
import { encodeMessage } from '../shared/wire/union.js';
import type { TapLink } from './tap-link.js';

/** The attack names. */
export const ATTACKS = ['forge', 'replay', 'tamper', 'fast-sampling', 'injection', 'unplug'] as const;
/** One attack name. */
export type AttackName = (typeof ATTACKS)[number];

/** Injects `count` forged READINGs for the board behind `tap` (seqs far above its own). */
export function forge(tap: TapLink, count: number): number {
  const p = tap.lastPartial;
  const victim = [...tap.sent.keys()][0];
  if (!p || !victim) return 0;
  for (let i = 0; i < count; i++) {
    const reading = {
      deviceId: victim,
      seq: 0x7fff0000 + i,
      t: Date.now(),
      epoch: p.epoch,
      partialDigest: p.partialDigest,
      batteryMv: 3300,
      channels: [{ id: 0, scale: -2, value: 9999 }],
      bootCount: 1,
      uptimeMs: 1000 + i,
    };
    const tag = globalThis.crypto.getRandomValues(new Uint8Array(32));
    tap.inject(encodeMessage({ kind: 'READING', canonical: encodeReading(reading), reading, tag }));
  }
  return count;
}

/** Re-sends up to `count` captured READING frames. */
export function replay(tap: TapLink, count: number): number {
  const frames = tap.captured.slice(0, count);
  for (const f of frames) tap.inject(f.bytes);
  return frames.length;
}

/** Rewrites the value of every `every`-th READING in flight, keeping the tag; returns a counter. */
export function tamper(tap: TapLink, every: number): { count: number } {
  const state = { count: 0, seen: 0 };
  tap.filter = (frame, msg) => {
    if (msg?.kind !== 'READING') return undefined;
    state.seen += 1;
    if (state.seen % every !== 0) return undefined;
    const r = msg.reading;
    const altered = { ...r, channels: r.channels.map((c) => ({ ...c, value: c.value + 500 })) };
    const canonical = encodeReading(altered);
    const payload = new Uint8Array(canonical.length + 32);
    payload.set(canonical, 0);
    payload.set(msg.tag, canonical.length);
    state.count += 1;
    void frame;
    return [encodeFrame(MSG_READING, payload)];
  };
  return state;
}

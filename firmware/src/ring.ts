/**
 * The resend ring: READING payloads sent but not yet acknowledged, oldest first. Each entry is
 * also a Storage file (`pv.r<slot>`), so a board that loses power resends them after reboot;
 * ACK erases them. The ring is small (board profile `ringSize`, baked in as RING): when it is full the
 * board skips samples rather than dropping unacknowledged readings.
 */
import { RING } from './board.js';
import { storage } from './espruino.js';
import { num } from './wire.js';

/** One unacknowledged reading. */
export interface Entry {
  /** seq of the reading. */
  readonly s: number;
  /** READING payload: canonical bytes + tag. */
  readonly p: Uint8Array;
  readonly slot: number;
}

/** The entries, oldest first (callers must not modify the array). */
export const entries: Entry[] = [];

function fileOf(slot: number): string {
  return 'pv.r' + slot;
}

/** seq stored in a READING payload (canonical layout: version, L, deviceId[L], seq u32). */
export function payloadSeq(p: Uint8Array): number {
  return num(p, 2 + (p[1] as number), 4);
}

/** Loads the entries a previous boot left in Storage (the next PARTIAL resends them). */
export function ringLoad(): void {
  // Not `entries.length = 0`: on Espruino an Array's length is read-only ("Assignment to a constant").
  entries.splice(0, entries.length);
  for (let slot = 0; slot < RING; slot++) {
    const ab = storage.readArrayBuffer(fileOf(slot));
    if (ab === undefined || ab.byteLength < 60) continue;
    // Copy out of memory-mapped flash: a later Storage compaction may move the file.
    const p = new Uint8Array(new Uint8Array(ab));
    entries.push({ s: payloadSeq(p), p: p, slot: slot });
  }
  entries.sort(function (a, b) {
    return a.s - b.s;
  });
}

/** True when no further reading fits. */
export function ringFull(): boolean {
  return entries.length >= RING;
}

/** Adds a just-sent reading (persisted first). */
export function ringAdd(s: number, p: Uint8Array): void {
  let slot = 0;
  for (; slot < RING; slot++) {
    let used = false;
    for (let i = 0; i < entries.length; i++) if ((entries[i] as Entry).slot === slot) used = true;
    if (!used) break;
  }
  storage.write(fileOf(slot), p);
  entries.push({ s: s, p: p, slot: slot });
}

/** Removes the entries `drop(entry)` selects, erasing their files. */
export function ringRemove(drop: (e: Entry) => boolean): void {
  for (let i = entries.length - 1; i >= 0; i--) {
    const e = entries[i] as Entry;
    if (drop(e)) {
      storage.erase(fileOf(e.slot));
      entries.splice(i, 1);
    }
  }
}

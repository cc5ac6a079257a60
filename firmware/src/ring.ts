/**
 * The resend ring: READING payloads sent but not yet acknowledged, oldest first. Each entry is
 * also a Storage file (`pv.r<slot>`), so a board that loses power resends them after reboot;
 * ACK erases them. The ring is small (board profile `ringSize`, default 8): when it is full the
 * board skips samples rather than dropping unacknowledged readings.
 */
import { storage } from './espruino.js';

/** One unacknowledged reading. */
export interface Entry {
  /** seq of the reading. */
  readonly s: number;
  /** READING payload: canonical bytes + tag. */
  readonly p: Uint8Array;
  readonly slot: number;
  /** When to resend (board ms). */
  due: number;
  /** Current resend delay (ms), doubled after each retryable NACK. */
  wait: number;
}

const entries: Entry[] = [];
let size = 8;

function fileOf(slot: number): string {
  return 'pv.r' + slot;
}

/** seq stored in a READING payload (canonical layout: version, L, deviceId[L], seq u32). */
export function payloadSeq(p: Uint8Array): number {
  const o = 2 + (p[1] as number);
  return (p[o] as number) * 16777216 + (((p[o + 1] as number) << 16) | ((p[o + 2] as number) << 8) | (p[o + 3] as number));
}

/** Loads the entries a previous boot left in Storage; they are due at once. */
export function ringLoad(capacity: number, now: number, wait: number): void {
  size = capacity;
  entries.length = 0;
  for (let slot = 0; slot < size; slot++) {
    const ab = storage.readArrayBuffer(fileOf(slot));
    if (ab === undefined || ab.byteLength < 60) continue;
    // Copy out of memory-mapped flash: a later Storage compaction may move the file.
    const p = new Uint8Array(new Uint8Array(ab));
    entries.push({ s: payloadSeq(p), p: p, slot: slot, due: now, wait: wait });
  }
  entries.sort(function (a, b) {
    return a.s - b.s;
  });
}

/** Entries, oldest first (callers must not modify the array). */
export function ringEntries(): readonly Entry[] {
  return entries;
}

/** True when no further reading fits. */
export function ringFull(): boolean {
  return entries.length >= size;
}

/** Adds a just-sent reading (persisted first). */
export function ringAdd(s: number, p: Uint8Array, due: number, wait: number): void {
  let slot = 0;
  for (; slot < size; slot++) {
    let used = false;
    for (let i = 0; i < entries.length; i++) if ((entries[i] as Entry).slot === slot) used = true;
    if (!used) break;
  }
  storage.write(fileOf(slot), p);
  entries.push({ s: s, p: p, slot: slot, due: due, wait: wait });
}

/** Removes the entries `drop(entry)` selects, erasing their files; returns how many. */
export function ringRemove(drop: (e: Entry) => boolean): number {
  let n = 0;
  for (let i = entries.length - 1; i >= 0; i--) {
    const e = entries[i] as Entry;
    if (drop(e)) {
      storage.erase(fileOf(e.slot));
      entries.splice(i, 1);
      n++;
    }
  }
  return n;
}

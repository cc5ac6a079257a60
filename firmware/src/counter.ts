/**
 * The sequence counter, persisted with skip-ahead (BRIEF §5): the board reserves a lease of
 * SEQ_LEASE numbers in Storage *before* using any of them, so after a power loss it resumes at
 * the end of the last lease — strictly above every seq it may have sent — with one flash write
 * per SEQ_LEASE readings instead of one per reading. Near 2^32 it stops for good: the device
 * must be re-enrolled under a new deviceId. Nothing turns this off.
 */
import { storage } from './espruino.js';

/** Numbers reserved per flash write. */
export const SEQ_LEASE = 32;
/** First seq the board refuses to use (re-enrollment required from here on). */
export const SEQ_LIMIT = 0xffff0000;

const SEQ_FILE = 'pv.seq';
const BOOT_FILE = 'pv.boot';

/** The seq the next reading gets (not yet reserved); read-only outside this file (a live binding, not a getter: fewer bytes). */
export let next = 0;
let leaseEnd = 0;

/** A number stored as text; 0 when the file is missing or not a positive number. */
function readNumber(name: string): number {
  const n = +(storage.read(name) as string);
  return n > 0 ? n : 0;
}

/** Reads, increments and stores the boot counter; returns the new value. */
export function countBoot(): number {
  const n = readNumber(BOOT_FILE) + 1;
  storage.write(BOOT_FILE, String(n));
  return n;
}

/** Resumes the counter at max(end of the stored lease, floor) and reserves a fresh lease. */
export function resumeSeq(floor: number): number {
  const stored = readNumber(SEQ_FILE);
  next = stored > floor ? stored : floor;
  leaseEnd = next;
  return next;
}

/** True when the counter is at its limit. */
export function seqExhausted(): boolean {
  return next >= SEQ_LIMIT;
}

/** Takes the next seq, extending the lease in Storage first when it runs out; -1 when exhausted. */
export function takeSeq(): number {
  if (next >= SEQ_LIMIT) return -1;
  if (next >= leaseEnd) {
    leaseEnd = Math.min(next + SEQ_LEASE, SEQ_LIMIT);
    storage.write(SEQ_FILE, String(leaseEnd));
  }
  return next++;
}

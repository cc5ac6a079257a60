/**
 * The board's clock, which the edge cannot move at will (issue 11, attack 3; docs/firmware.md
 * "Clock"). The firmware never calls setTime: Espruino's own clock (getTime) only ever runs
 * forward, so `uptime()` — ms since this boot on that clock — is monotonic and nothing on the
 * link can set it. A reading's t is uptime + offset, where the offset comes from the edge's
 * PARTIALs under three rules:
 *
 *  1. t never decreases, also across reboots: every t handed out is at least the last one, and
 *     at least the floor. The flash (Storage pv.t) holds a bound no t handed out exceeds: a
 *     reading whose t would pass it first writes t + FLOOR_MS (a lease, like seq's), so at boot
 *     the floor is the stored bound, or the provisioning's notBefore (the flasher erases pv.t and
 *     writes the flash time) when larger.
 *  2. The first PARTIAL after a boot may set the clock (a board without a battery-backed RTC wakes
 *     at 1970 and has nothing better), but never more than FLOOR_MS below the floor, and t holds
 *     at the floor until the clock reaches it: after a quick reboot (floor ahead of the true
 *     time) t stays flat for at most FLOOR_MS instead of running ahead, so a crash loop neither
 *     goes back in time nor drifts ahead. A board whose own clock at boot is already plausible
 *     (≥ the floor and ≥ September 2020: an RTC kept time) starts synced and skips this step.
 *  3. Every later PARTIAL moves the offset by at most 1 % of the uptime since the previous sync,
 *     forward or backward (slew for crystal drift; t still never decreases).
 *
 * So one PARTIAL a year back moves the clock by at most 1 % of the time since the last one, and
 * a flood of PARTIALs cannot run it faster or slower than 1 % in total: the allowance grows with
 * uptime, not with the number of PARTIALs. Flash: the bound is written by a reading at most once
 * per FLOOR_MS of t (about as often as the seq lease), never by a PARTIAL. ES5, no Node.
 */
import { nowMs, storage } from './espruino.js';

/** September 2020, in ms: a boot-time clock before this is an unset clock (no RTC). */
const PLAUSIBLE_MS = 16e11;
/** Largest drift correction per ms of uptime since the last sync: 1/SLEW_DIV (1 %). */
const SLEW_DIV = 100;
/** How far past a reading's t the stored bound is leased (ms): one flash write per FLOOR_MS of t. */
const FLOOR_MS = 60000;
const FLOOR_FILE = 'pv.t';

let bootRaw = 0;
let offset = 0;
/** Uptime of the last sync; -Infinity before the first one of an unsynced boot (unbounded room). */
let syncUp = 0;
let lastT = 0;
let savedT = 0;

/** ms since this boot, on the board's own clock (never set by anyone). */
export function uptime(): number {
  return nowMs() - bootRaw;
}

/** At boot: reads the floor; a plausible clock (RTC) starts synced, any other waits for a PARTIAL. */
export function clockBoot(notBefore: number): void {
  bootRaw = offset = nowMs();
  // No t before this boot exceeded the stored bound; a missing or unreadable file is no floor.
  lastT = savedT = Math.max(+(storage.read(FLOOR_FILE) as string) || 0, notBefore);
  syncUp = bootRaw >= lastT && bootRaw >= PLAUSIBLE_MS ? 0 : -1 / 0;
}

/**
 * A PARTIAL's edgeTimeMs: the offset moves toward it by at most 1/SLEW_DIV of the uptime since
 * the last sync (without limit at the first sync of an unsynced boot), and never so far that the
 * clock reads more than FLOOR_MS below the stored bound.
 */
export function clockSync(edgeMs: number): void {
  const up = uptime();
  const room = (up - syncUp) / SLEW_DIV;
  syncUp = up;
  // Never more than FLOOR_MS under the stored bound (at a boot's first sync: under the floor,
  // where the last boot's last t may have been; an honest edge's time is at least that): from
  // there t holds at the floor until the clock reaches it, instead of running ahead of the edge.
  offset = Math.max(savedT - FLOOR_MS - up, offset + Math.max(-room, Math.min(edgeMs - up - offset, room)));
}

/** The t of a reading taken now: never below the last one or the floor. */
export function stamp(): number {
  const t = Math.max(lastT, Math.floor(uptime() + offset));
  lastT = t;
  // Held at the floor, t writes nothing: boots in a crash loop neither hand out t past the bound
  // (the next boot would start below them: CLOCK_BACKWARDS) nor push the bound ahead.
  if (t > savedT) storage.write(FLOOR_FILE, String((savedT = t + FLOOR_MS)));
  return t;
}

/**
 * Copy check ("replay of genuine readings"): a forger that replays a recorded stretch of genuine
 * readings, of another device of the site or of this device at another time, shifted to start at
 * the current level, sends noise, steps and co-movement that are all genuine, and a level that
 * stays within the peers' wander for minutes (docs/traffic-profiles.md, section 4). What it cannot
 * avoid without changing the readings is their *fine structure*: the exact sequence of steps
 * between consecutive readings is a copy of one the site already sent. Eight consecutive joint
 * steps of all channels, quantised to MARK_QUANTUM, occur twice in genuine data only by chance:
 * on the tuning set (single-hop, four motes, six hours) no window shared three such sequences with
 * any other window, any device, any time, once sequences with fewer than MARK_MIN_MOVES moving
 * steps (calm air repeats itself) are left out.
 *
 * The edge computes a window's *marks* (`computeMarks`): the 32-bit hashes (FNV-1a over the step
 * integers) of every such sequence among consecutive sequence numbers in the window, kept when
 * hash mod MARK_SELECT = 0 (a content-defined sample: a copied sequence is kept in the copy
 * exactly when it was kept in the original, whatever the window boundaries), smallest first, at
 * most MARK_MAX. The site step (ledger-bridge/contracts/logic/traffic-site.ts) keeps every mark
 * the devices of a class sent, with the first device and window that sent it, and counts a
 * window's marks seen before in another window (`countCopies`): `copy` is flagged when the count
 * exceeds its threshold (default 1: two marks). Deterministic: integers only (Math.imul, >>>,
 * comparisons).
 *
 * What it does not catch: a replay whose fine structure was changed (readings re-noised or
 * re-quantised), or one of a stretch no device of the class sent before (the evaluation's
 * forgers replay the past when there is one; a replay from the first window has none).
 */
import type { WindowInput } from './features.js';
import { byCodeUnit } from './features.js';

/** Consecutive steps in one mark. */
export const MARK_GRAM = 8;
/** Fewest non-zero step components (over all channels) in a sequence that makes a mark. */
export const MARK_MIN_MOVES = 4;
/** Step quantum of the decoded channel values (the data sets' and the boards' resolution, 0.01). */
export const MARK_QUANTUM = 0.01;
/** Keep a sequence's hash when hash mod MARK_SELECT is 0. */
export const MARK_SELECT = 2;
/** Most marks per window (the smallest are kept). */
export const MARK_MAX = 16;

/** FNV-1a, 32 bits, over a list of integers (each fed as four bytes). */
function fnv(ints: readonly number[]): number {
  let h = 0x811c9dc5;
  for (const v of ints) {
    let x = v | 0;
    for (let b = 0; b < 4; b++) {
      h ^= x & 0xff;
      h = Math.imul(h, 0x01000193);
      x >>>= 8;
    }
  }
  return h >>> 0;
}

/** The window's marks: sorted, distinct, at most MARK_MAX non-negative 32-bit integers. */
export function computeMarks(input: WindowInput): number[] {
  const arrivals = input.arrivals.slice().sort((a, b) => (a.t !== b.t ? a.t - b.t : a.seq - b.seq));
  const names: Record<string, true> = {};
  for (const a of arrivals) for (const k of Object.keys(a.values)) names[k] = true;
  const chs = Object.keys(names).sort(byCodeUnit);
  if (chs.length === 0) return [];
  // steps[i]: the quantised step from arrival i to i + 1 per channel, or undefined when the two
  // are not consecutive readings (a loss, a repeat) or a channel is missing.
  const steps: (number[] | undefined)[] = [];
  for (let i = 0; i + 1 < arrivals.length; i++) {
    const a = arrivals[i] as WindowInput['arrivals'][number];
    const b = arrivals[i + 1] as WindowInput['arrivals'][number];
    if (b.seq !== a.seq + 1) {
      steps.push(undefined);
      continue;
    }
    const row: number[] = [];
    for (const ch of chs) {
      const x = a.values[ch];
      const y = b.values[ch];
      if (x === undefined || y === undefined) break;
      row.push(Math.round((y - x) / MARK_QUANTUM));
    }
    steps.push(row.length === chs.length ? row : undefined);
  }
  const found: Record<string, number> = {};
  for (let i = 0; i + MARK_GRAM <= steps.length; i++) {
    const ints: number[] = [];
    let moves = 0;
    let whole = true;
    for (let j = i; j < i + MARK_GRAM; j++) {
      const row = steps[j];
      if (row === undefined) {
        whole = false;
        break;
      }
      for (const v of row) {
        if (v !== 0) moves++;
        ints.push(v);
      }
    }
    if (!whole || moves < MARK_MIN_MOVES) continue;
    const h = fnv(ints);
    if (h % MARK_SELECT === 0) found[String(h)] = h;
  }
  return Object.values(found)
    .sort((a, b) => a - b)
    .slice(0, MARK_MAX);
}

/** Checks a marks list: at most MARK_MAX distinct integers in [0, 2^32), ascending. */
export function checkMarks(marks: unknown, where: string): readonly number[] {
  if (!Array.isArray(marks)) throw new TypeError(`${where} must be an array of integers`);
  if (marks.length > MARK_MAX) throw new RangeError(`${where} holds ${marks.length} marks, at most ${MARK_MAX}`);
  marks.forEach((m: unknown, i) => {
    if (typeof m !== 'number' || !Number.isInteger(m) || m < 0 || m > 0xffffffff)
      throw new RangeError(`${where}[${i}] must be an integer in [0, 2^32), got ${String(m)}`);
    if (i > 0 && !(m > (marks[i - 1] as number))) throw new RangeError(`${where} must be ascending and distinct (at ${i})`);
  });
  return marks as readonly number[];
}

/** Where a mark was first sent. */
export interface MarkOrigin {
  readonly deviceId: string;
  readonly window: number;
}

/**
 * How many of `marks` were first sent in an earlier window (by any device of the site, this one
 * included): `firstSeen` answers from the site's mark index (undefined: never seen). Only earlier
 * windows count, so the verdicts of one window do not depend on the order its devices are judged
 * in (a copy of a peer's readings of the same window is not counted).
 */
export function countCopies(window: number, marks: readonly number[], firstSeen: (mark: number) => MarkOrigin | undefined): number {
  let n = 0;
  for (const m of marks) {
    const o = firstSeen(m);
    if (o !== undefined && o.window < window) n++;
  }
  return n;
}

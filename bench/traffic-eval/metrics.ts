/**
 * Window-level scores of a detector: precision, recall, F1, false-positive rate, and detection
 * delay per injected episode (windows from the episode's first window to its first flag).
 */
import type { JudgedWindow } from './replay.js';
import type { SimRun } from './simulate.js';

/** Raw counts; combine with `add`, read with `summarise`. */
export interface Counts {
  tp: number;
  fp: number;
  fn: number;
  tn: number;
  episodes: number;
  detected: number;
  delaySum: number;
  /** Clean windows right after an episode (until the next one, at most AFTER_WINDOWS), and how many were flagged. */
  after: number;
  afterFlagged: number;
}

/** How many clean windows after an episode's end count towards the after-fault flag rate. */
export const AFTER_WINDOWS = 16;

/** Derived figures (null where the denominator is 0). */
export interface Summary {
  readonly windowsPositive: number;
  readonly windowsNegative: number;
  readonly precision: number | null;
  readonly recall: number | null;
  readonly f1: number | null;
  readonly fpr: number | null;
  readonly episodes: number;
  readonly detected: number;
  readonly meanDelay: number | null;
  /** Share of the clean windows after an episode that were flagged (AFTER_WINDOWS). */
  readonly afterRate: number | null;
}

/** Empty counts. */
export function zero(): Counts {
  return { tp: 0, fp: 0, fn: 0, tn: 0, episodes: 0, detected: 0, delaySum: 0, after: 0, afterFlagged: 0 };
}

/** Adds b into a. */
export function add(a: Counts, b: Counts): Counts {
  a.tp += b.tp;
  a.fp += b.fp;
  a.fn += b.fn;
  a.tn += b.tn;
  a.episodes += b.episodes;
  a.detected += b.detected;
  a.delaySum += b.delaySum;
  a.after += b.after;
  a.afterFlagged += b.afterFlagged;
  return a;
}

/**
 * Scores one run. `truth` says which windows are positive. Every window is scored, warm-up
 * included (a detector that accepts its first windows blindly misses a fault present from the
 * start); injected runs leave out the windows with a real labelled event.
 */
export function score(run: SimRun, judged: readonly JudgedWindow[], truth: 'injected' | 'real'): Counts {
  const c = zero();
  const firstFlag: Record<number, number> = {};
  judged.forEach((j, i) => {
    const w = run.windows[i];
    if (w === undefined) return;
    if (truth === 'injected' && w.realEvent) return;
    const positive = truth === 'injected' ? w.faulty : w.realEvent;
    const flagged = j.judgement.discrepancyStatus;
    if (positive && flagged) c.tp++;
    else if (positive) c.fn++;
    else if (flagged) c.fp++;
    else c.tn++;
    if (truth === 'injected' && flagged && w.episode >= 0 && firstFlag[w.episode] === undefined) firstFlag[w.episode] = w.index;
  });
  if (truth === 'injected') {
    run.groups.forEach((g, k) => {
      c.episodes++;
      const f = firstFlag[k];
      if (f !== undefined) {
        c.detected++;
        c.delaySum += Math.max(0, f - g.start);
      }
      const next = run.groups[k + 1];
      const stop = Math.min(next === undefined ? judged.length : next.start, g.end + AFTER_WINDOWS, judged.length);
      for (let i = g.end; i < stop; i++) {
        const w = run.windows[i];
        const j = judged[i];
        if (w === undefined || j === undefined || w.faulty || w.realEvent) continue;
        c.after++;
        if (j.judgement.discrepancyStatus) c.afterFlagged++;
      }
    });
  } else {
    // Real events: each run of consecutive labelled windows is one episode.
    let start = -1;
    let found = -1;
    const close = (): void => {
      if (start < 0) return;
      c.episodes++;
      if (found >= 0) {
        c.detected++;
        c.delaySum += found - start;
      }
      start = -1;
      found = -1;
    };
    judged.forEach((j, i) => {
      const w = run.windows[i];
      if (w === undefined || !w.realEvent) {
        close();
        return;
      }
      if (start < 0) start = i;
      if (found < 0 && j.judgement.discrepancyStatus) found = i;
    });
    close();
  }
  return c;
}

/** Turns counts into figures. */
export function summarise(c: Counts): Summary {
  const div = (a: number, b: number): number | null => (b === 0 ? null : a / b);
  const precision = div(c.tp, c.tp + c.fp);
  const recall = div(c.tp, c.tp + c.fn);
  const f1 = precision === null || recall === null || precision + recall === 0 ? null : (2 * precision * recall) / (precision + recall);
  return {
    windowsPositive: c.tp + c.fn,
    windowsNegative: c.fp + c.tn,
    precision,
    recall,
    f1,
    fpr: div(c.fp, c.fp + c.tn),
    episodes: c.episodes,
    detected: c.detected,
    meanDelay: div(c.delaySum, c.detected),
    afterRate: div(c.afterFlagged, c.after),
  };
}

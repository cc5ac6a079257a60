/**
 * Traffic-profile features (BRIEF §9): what one device looked like during one window, computed
 * at the edge from what the edge actually received. The vector goes into the Traffic Profile
 * Provenance transaction (Algorithm 4) and is judged by `judgeProfile` (model.ts).
 *
 * Pure: no node: imports, no clocks, no randomness; the same input gives the same numbers on
 * every platform (only +, -, *, /, Math.sqrt/abs/min/max, comparisons), so the edge and any
 * re-checker agree.
 *
 * Feature names (all values finite JSON numbers):
 *
 * | name                  | meaning                                                          |
 * |-----------------------|------------------------------------------------------------------|
 * | `count`               | arrivals in the window (duplicates included: they cost energy)   |
 * | `rate`                | arrivals per minute of window length                             |
 * | `iat.median`/`iat.mad`| inter-arrival time on the device clock `t`, seconds: median and median absolute deviation (robust: one lost reading does not move them) |
 * | `seq.gaps`            | sequence numbers missing (inside the window and since `lastSeqBefore`) |
 * | `seq.dups`            | duplicate arrivals (edge-counted `duplicates` + repeated seq here) |
 * | `frame.errors`        | frames dropped for bad CRC / oversize in the window              |
 * | `ch.<id>.mean/std/min/max` | channel value statistics (decoded value, not fixed-point)   |
 * | `ch.<id>.slope`       | least-squares slope of the channel against `t`, units per minute |
 * | `ch.<id>.dmean`       | mean absolute first difference (roughness: spikes, noise)        |
 * | `ch.<id>.flat`        | longest run of identical consecutive values, as a fraction of the window's readings (stuck sensor) |
 * | `ch.<id>.head`/`.tail`| mean of the first / last three values: the model checks that a window continues where the last accepted one ended |
 * | `battery.mean`        | mean battery level, mV                                           |
 * | `battery.slope`       | least-squares battery slope against `t`, mV per hour             |
 *
 * A window with no arrivals yields only the traffic features (`count` 0 ...); channel and battery
 * features need one arrival (std/slope/dmean/flat need two and are 0 below that). A channel
 * absent from every arrival contributes no features.
 */

/** One reading as the edge received it. */
export interface Arrival {
  /** The reading's sequence number (u32). */
  readonly seq: number;
  /** Device clock, ms. */
  readonly t: number;
  /** Edge receive time, ms (edge clock). */
  readonly receivedAt: number;
  /** Decoded channel values (value × 10^scale), keyed by channel id or name. */
  readonly values: Readonly<Record<string, number>>;
  /** Battery, mV. */
  readonly batteryMv: number;
}

/** Everything the edge saw from one device during one window. */
export interface WindowInput {
  /** Window start, edge clock ms (inclusive). */
  readonly windowStart: number;
  /** Window end, edge clock ms (exclusive); must be > windowStart. */
  readonly windowEnd: number;
  /** Readings received in the window, any order (sorted here by `t`, then `seq`). */
  readonly arrivals: readonly Arrival[];
  /** Frames dropped for bad CRC or size in the window. */
  readonly frameErrors: number;
  /** Duplicate readings the edge already discarded in the window (not in `arrivals`). */
  readonly duplicates: number;
  /** Highest seq accepted before this window, if any: a jump after it counts as gaps. */
  readonly lastSeqBefore?: number;
}

const MS_PER_MIN = 60_000;
const MS_PER_HOUR = 3_600_000;

/** Computes the feature vector of one window. Throws TypeError/RangeError on malformed input. */
export function computeFeatures(input: WindowInput): Record<string, number> {
  checkInput(input);
  const arrivals = input.arrivals.slice().sort((a, b) => (a.t !== b.t ? a.t - b.t : a.seq - b.seq));
  const n = arrivals.length;
  const spanMs = input.windowEnd - input.windowStart;
  const out: Record<string, number> = {};

  out['count'] = n;
  out['rate'] = (n * MS_PER_MIN) / spanMs;
  out['frame.errors'] = input.frameErrors;

  const iats: number[] = [];
  for (let i = 1; i < n; i++) iats.push(((arrivals[i] as Arrival).t - (arrivals[i - 1] as Arrival).t) / 1000);
  const iatMedian = median(iats);
  out['iat.median'] = iatMedian;
  out['iat.mad'] = median(iats.map((x) => Math.abs(x - iatMedian)));

  const seqs = arrivals.map((a) => a.seq).sort((a, b) => a - b);
  let unique = 0;
  let repeated = 0;
  for (let i = 0; i < seqs.length; i++) {
    if (i > 0 && seqs[i] === seqs[i - 1]) repeated++;
    else unique++;
  }
  let gaps = 0;
  if (n > 0) {
    const lo = seqs[0] as number;
    const hi = seqs[seqs.length - 1] as number;
    gaps = hi - lo + 1 - unique;
    if (input.lastSeqBefore !== undefined && lo > input.lastSeqBefore + 1) gaps += lo - input.lastSeqBefore - 1;
  }
  out['seq.gaps'] = gaps;
  out['seq.dups'] = input.duplicates + repeated;

  if (n === 0) return out;

  const t0 = (arrivals[0] as Arrival).t;
  const tMin = arrivals.map((a) => (a.t - t0) / MS_PER_MIN);

  const channels: Record<string, true> = {};
  for (const a of arrivals) for (const k of Object.keys(a.values)) channels[k] = true;
  for (const ch of Object.keys(channels).sort(byCodeUnit)) {
    const xs: number[] = [];
    const vs: number[] = [];
    for (let i = 0; i < n; i++) {
      const v = (arrivals[i] as Arrival).values[ch];
      if (v === undefined) continue;
      xs.push(tMin[i] as number);
      vs.push(v);
    }
    const p = `ch.${ch}.`;
    out[p + 'mean'] = mean(vs);
    out[p + 'std'] = std(vs);
    let lo = vs[0] as number;
    let hi = lo;
    let absDiff = 0;
    let run = 1;
    let longest = 1;
    for (let i = 1; i < vs.length; i++) {
      const v = vs[i] as number;
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
      const d = v - (vs[i - 1] as number);
      absDiff += Math.abs(d);
      run = d === 0 ? run + 1 : 1;
      longest = Math.max(longest, run);
    }
    out[p + 'min'] = lo;
    out[p + 'max'] = hi;
    out[p + 'slope'] = slope(xs, vs);
    out[p + 'dmean'] = vs.length > 1 ? absDiff / (vs.length - 1) : 0;
    out[p + 'flat'] = vs.length > 1 ? longest / vs.length : 0;
    const k = Math.min(3, vs.length);
    out[p + 'head'] = mean(vs.slice(0, k));
    out[p + 'tail'] = mean(vs.slice(vs.length - k));
  }

  const batt = arrivals.map((a) => a.batteryMv);
  out['battery.mean'] = mean(batt);
  out['battery.slope'] = slope(
    arrivals.map((a) => (a.t - t0) / MS_PER_HOUR),
    batt,
  );
  return out;
}

/** Code-unit string order: identical on every engine (unlike localeCompare). */
export function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function mean(xs: readonly number[]): number {
  if (xs.length === 0) return 0;
  let s = 0;
  for (const x of xs) s += x;
  return s / xs.length;
}

/** Median (0 for no values). */
function median(xs: readonly number[]): number {
  if (xs.length === 0) return 0;
  const s = xs.slice().sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

/** Population standard deviation (0 for fewer than two values). */
function std(xs: readonly number[]): number {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  let s = 0;
  for (const x of xs) s += (x - m) * (x - m);
  return Math.sqrt(s / xs.length);
}

/** Least-squares slope of ys against xs (0 when xs do not vary). */
function slope(xs: readonly number[], ys: readonly number[]): number {
  if (xs.length < 2) return 0;
  const mx = mean(xs);
  const my = mean(ys);
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < xs.length; i++) {
    const dx = (xs[i] as number) - mx;
    sxy += dx * ((ys[i] as number) - my);
    sxx += dx * dx;
  }
  return sxx === 0 ? 0 : sxy / sxx;
}

function checkInput(input: WindowInput): void {
  if (typeof input !== 'object' || input === null) throw new TypeError('window input must be an object');
  finite(input.windowStart, 'windowStart');
  finite(input.windowEnd, 'windowEnd');
  if (!(input.windowEnd > input.windowStart)) {
    throw new RangeError(`windowEnd (${input.windowEnd}) must be greater than windowStart (${input.windowStart})`);
  }
  count(input.frameErrors, 'frameErrors');
  count(input.duplicates, 'duplicates');
  if (input.lastSeqBefore !== undefined) count(input.lastSeqBefore, 'lastSeqBefore');
  if (!Array.isArray(input.arrivals)) throw new TypeError('arrivals must be an array');
  input.arrivals.forEach((a: Arrival, i: number) => {
    if (typeof a !== 'object' || a === null) throw new TypeError(`arrivals[${i}] must be an object`);
    count(a.seq, `arrivals[${i}].seq`);
    finite(a.t, `arrivals[${i}].t`);
    finite(a.receivedAt, `arrivals[${i}].receivedAt`);
    finite(a.batteryMv, `arrivals[${i}].batteryMv`);
    if (typeof a.values !== 'object' || a.values === null) throw new TypeError(`arrivals[${i}].values must be an object`);
    for (const k of Object.keys(a.values)) finite(a.values[k], `arrivals[${i}].values.${k}`);
  });
}

function finite(v: unknown, field: string): void {
  if (typeof v !== 'number') throw new TypeError(`${field} must be a number, got ${typeof v}`);
  if (!Number.isFinite(v)) throw new RangeError(`${field} must be finite, got ${String(v)}`);
}

function count(v: unknown, field: string): void {
  finite(v, field);
  if (!Number.isInteger(v) || (v as number) < 0) throw new RangeError(`${field} must be a non-negative integer, got ${String(v)}`);
}

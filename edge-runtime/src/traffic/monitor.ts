/**
 * Traffic profiles at the edge (BRIEF §9, Algorithm 4): per device and window, the features of
 * what the edge actually received (shared/traffic/features.ts), submitted to the Traffic Profile
 * Provenance contract. The contract judges them against the model it learnt from the device's
 * history, with the thresholds the registry pins for the device (never the submitter's); a discrepancy is logged, counted in the metrics and shown
 * in the API's device view.
 *
 * Profiles are derived data: while the ledger is away they wait in a bounded queue (oldest
 * dropped first, counted and logged). Readings themselves are never dropped (the outbox).
 */
import { CONTRACTS, lacksFunction, type LedgerClient } from '../../../ledger-bridge/client.js';
import { computeMarks } from '../../../shared/traffic/copies.js';
import { computeFeatures, type Arrival } from '../../../shared/traffic/features.js';
import type { Reading } from '../../../shared/types.js';
import { errorMessage, type Log } from '../log.js';
import type { EdgeMetrics } from '../metrics.js';
import type { TrafficSink } from '../session/host.js';
import { codeOf, isRetryable } from '../../../shared/errors.js';

/** What the API shows about a device's traffic. */
export interface TrafficStatus {
  readonly window: number;
  readonly windowStart: number;
  readonly trafficProven: boolean;
  readonly discrepancyStatus: boolean;
  readonly flagged: readonly { feature: string; delta: number; threshold: number }[];
  readonly features: Readonly<Record<string, number>>;
  readonly txId: string | null;
  /** A site device's provisional verdict (its own model's), until the site step judges the window with its peers. */
  readonly pending?: true;
  /** After the site step: the peers that judged it, its copied marks, and the transaction that made it final. */
  readonly peers?: readonly string[];
  readonly copies?: number;
  readonly judgedTxId?: string;
}

interface Accumulator {
  arrivals: Arrival[];
  duplicates: number;
  frameErrors: number;
  rateLimited: number;
}

/** Settings. */
export interface TrafficOptions {
  readonly windowMs: number;
  /**
   * Profiles waiting for the ledger before the oldest are dropped. Default: ten windows of the
   * devices the edge profiles, at least 1000.
   */
  readonly maxQueued?: number;
  /** Most profiles in one submitProfiles transaction (default DEFAULT_PROFILES_PER_TRANSACTION, at most the contract's MAX_PROFILES_PER_TRANSACTION). */
  readonly maxPerTransaction?: number;
}

/** The contract's limit (ledger-bridge/contracts/logic/traffic.ts MAX_BATCH_PROFILES). */
export const MAX_PROFILES_PER_TRANSACTION = 5000;

/**
 * Profiles per transaction unless configured. Each profile rewrites its device's model state
 * (~29 KB for a two-channel board), so 200 keep a transaction's write set near 6 MB: under the
 * 10 MB AbsoluteMaxBytes of Fabric's sample channel config, which an operator is likely to run.
 * An edge with 2,500 devices then sends 13 transactions a window instead of 2,500.
 */
export const DEFAULT_PROFILES_PER_TRANSACTION = 200;

/** One profile's verdict in submitProfiles' result. */
interface BatchVerdict {
  readonly index: number;
  readonly trafficProven: boolean;
  readonly discrepancyStatus: boolean;
  readonly flagged: { feature: string; delta: number; threshold: number }[];
  readonly pending?: true;
}

/** A site device's window made final by the site step. */
interface JudgedVerdict {
  readonly deviceId: string;
  readonly window: number;
  readonly trafficProven: boolean;
  readonly discrepancyStatus: boolean;
  readonly flagged: { feature: string; delta: number; threshold: number }[];
  readonly peers: readonly string[];
  readonly copies: number;
}

/** What TrafficProfileProvenance:submitProfiles answers (docs/contracts.md). */
interface BatchResult {
  readonly profiles: readonly BatchVerdict[];
  readonly rejected: readonly { index: number; deviceId: string | null; window: number | null; reason: string; message: string }[];
  readonly sites?: readonly { deviceClass: string; window: number }[];
  readonly judged?: readonly JudgedVerdict[];
}

/** What TrafficProfileProvenance:submitProfile answers (the stored profile; the fields the monitor uses). */
interface StoredVerdict {
  readonly trafficProven: boolean;
  readonly discrepancyStatus: boolean;
  readonly flagged: { feature: string; delta: number; threshold: number }[];
  readonly pending?: true;
  readonly txId?: string;
}

interface QueuedProfile {
  readonly deviceId: string;
  readonly window: number;
  readonly windowStart: number;
  readonly features: Record<string, number>;
  /** The window's marks (shared/traffic/copies.ts): the site step's copy check. */
  readonly marks: number[];
}

/** Collects arrivals per device and window and submits profiles. */
export class TrafficMonitor implements TrafficSink {
  private readonly acc = new Map<string, Accumulator>();
  private readonly lastSeq = new Map<string, number>();
  private readonly status = new Map<string, TrafficStatus>();
  private readonly known = new Set<string>();
  private readonly flaggedEver = new Map<string, Set<string>>();
  private queue: QueuedProfile[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private readonly listeners = new Set<(deviceId: string, s: TrafficStatus) => void>();
  private currentWindow: number;
  private readonly log: Log;
  /**
   * The ledger's chaincode predates submitProfiles (it answered "function that does not exist"):
   * every profile goes in its own submitProfile transaction from then on (warned once).
   */
  private perDevice = false;

  constructor(
    private readonly options: TrafficOptions,
    private readonly ledger: LedgerClient,
    private readonly metrics: EdgeMetrics,
    log: Log,
    private readonly clock: () => number,
  ) {
    if (!Number.isInteger(options.windowMs) || options.windowMs < 100)
      throw new RangeError(`traffic.windowMs must be an integer >= 100, got ${options.windowMs}`);
    const perTx = options.maxPerTransaction;
    if (perTx !== undefined && (!Number.isInteger(perTx) || perTx < 1 || perTx > MAX_PROFILES_PER_TRANSACTION))
      throw new RangeError(`traffic.maxPerTransaction must be an integer in 1..${MAX_PROFILES_PER_TRANSACTION}, got ${perTx}`);
    this.log = log.child({ part: 'traffic' });
    this.currentWindow = Math.floor(clock() / options.windowMs);
  }

  /** Starts closing windows on their boundaries. */
  start(): void {
    const schedule = (): void => {
      const now = this.clock();
      const next = (Math.floor(now / this.options.windowMs) + 1) * this.options.windowMs;
      this.timer = setTimeout(
        () => {
          this.closeWindow();
          schedule();
        },
        next - now + 1,
      );
      this.timer.unref?.();
    };
    schedule();
  }

  /** Stops the window timer and waits for submissions in flight. */
  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    await this.flushing;
  }

  /** Called for each judged profile. */
  onJudged(listener: (deviceId: string, s: TrafficStatus) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** A device the edge serves (so an empty window still yields a profile with count 0). */
  watch(deviceId: string): void {
    this.known.add(deviceId);
  }

  arrival(reading: Reading, receivedAt: number): void {
    const values: Record<string, number> = {};
    for (const c of reading.channels) values[String(c.id)] = c.value * 10 ** c.scale;
    this.accFor(reading.deviceId).arrivals.push({ seq: reading.seq, t: reading.t, receivedAt, values, batteryMv: reading.batteryMv });
  }

  duplicate(deviceId: string): void {
    this.accFor(deviceId).duplicates += 1;
  }

  frameErrors(deviceId: string | undefined, count: number): void {
    if (deviceId !== undefined) this.accFor(deviceId).frameErrors += count;
  }

  rateLimited(deviceId: string): void {
    this.accFor(deviceId).rateLimited += 1;
  }

  /** The last judged profile of a device. */
  statusOf(deviceId: string): TrafficStatus | undefined {
    return this.status.get(deviceId);
  }

  /** Every feature ever flagged for a device, sorted (the API's status shows only the last window). */
  everFlagged(deviceId: string): string[] {
    return [...(this.flaggedEver.get(deviceId) ?? [])].sort();
  }

  /** Devices whose last profile was flagged. */
  flaggedDevices(): string[] {
    return [...this.status.entries()]
      .filter(([, s]) => s.discrepancyStatus)
      .map(([d]) => d)
      .sort();
  }

  /** Closes the current window now: computes every device's profile and submits them. */
  closeWindow(): Promise<void> {
    const window = this.currentWindow;
    const windowStart = window * this.options.windowMs;
    const windowEnd = windowStart + this.options.windowMs;
    this.currentWindow = Math.max(window + 1, Math.floor(this.clock() / this.options.windowMs));
    const devices = new Set([...this.known, ...this.acc.keys()]);
    for (const deviceId of [...devices].sort()) {
      const a = this.acc.get(deviceId) ?? { arrivals: [], duplicates: 0, frameErrors: 0, rateLimited: 0 };
      this.acc.delete(deviceId);
      const lastSeqBefore = this.lastSeq.get(deviceId);
      let features: Record<string, number>;
      let marks: number[];
      try {
        const input = {
          windowStart,
          windowEnd,
          arrivals: a.arrivals,
          frameErrors: a.frameErrors,
          duplicates: a.duplicates,
          ...(lastSeqBefore !== undefined ? { lastSeqBefore } : {}),
        };
        features = computeFeatures(input);
        marks = computeMarks(input);
      } catch (err) {
        this.log.error({ deviceId, err: errorMessage(err) }, 'cannot compute traffic features');
        continue;
      }
      for (const r of a.arrivals) this.lastSeq.set(deviceId, Math.max(this.lastSeq.get(deviceId) ?? 0, r.seq));
      this.queue.push({ deviceId, window, windowStart, features, marks });
    }
    const max = this.options.maxQueued ?? Math.max(1000, 10 * devices.size);
    if (this.queue.length > max) {
      const dropped = this.queue.length - max;
      this.queue = this.queue.slice(dropped);
      this.log.warn({ dropped }, 'ledger unavailable: dropped the oldest queued traffic profiles');
    }
    this.flushing = this.flushing.then(() => this.submitQueued());
    return this.flushing;
  }

  private async submitQueued(): Promise<void> {
    const perTx = this.options.maxPerTransaction ?? DEFAULT_PROFILES_PER_TRANSACTION;
    while (this.queue.length > 0) {
      if (this.perDevice) {
        await this.submitEach();
        return;
      }
      // All the queued profiles in one transaction (one window of every device the edge serves,
      // or more windows after the ledger was away), split only past maxPerTransaction.
      const chunk = this.queue.slice(0, perTx);
      let result: BatchResult;
      let txId: string;
      try {
        const commit = await this.ledger.submit({
          contract: CONTRACTS.trafficProfile,
          fn: 'submitProfiles',
          // '' : the thresholds are the registry's (TrafficProfileProvenance:setTraffic), never the submitter's.
          args: [JSON.stringify(chunk.map((p) => ({ deviceId: p.deviceId, window: p.window, features: p.features, marks: p.marks }))), ''],
        });
        result = JSON.parse(new TextDecoder().decode(commit.result)) as BatchResult;
        txId = commit.txId;
      } catch (err) {
        const code = codeOf(err);
        if (lacksFunction(err, 'submitProfiles')) {
          // A ledger whose deployed chaincode predates submitProfiles: one submitProfile per
          // profile, as edges did before it (the verdicts are the same; only the transaction count differs).
          this.perDevice = true;
          this.log.warn(
            { code, err: errorMessage(err) },
            "the ledger's TrafficProfileProvenance has no submitProfiles (older chaincode): submitting one profile per transaction (submitProfile)",
          );
          continue;
        }
        if (!isRetryable(err)) {
          // The ledger will never take this call: drop it, say so.
          this.queue.splice(0, chunk.length);
          this.log.warn({ profiles: chunk.length, code, err: errorMessage(err) }, 'traffic profiles refused by the ledger');
          continue;
        }
        this.log.warn({ err: errorMessage(err), queued: this.queue.length }, 'traffic profile submit failed; will retry next window');
        return;
      }
      this.queue.splice(0, chunk.length);
      this.metrics.profileTransactions.inc({ fn: 'submitProfiles' });
      for (const j of result.judged ?? []) this.judged(j, txId);
      for (const v of result.profiles) {
        const p = chunk[v.index];
        if (p !== undefined) this.record(p, v, txId);
      }
      for (const r of result.rejected) {
        // The ledger will never take this one (a stale window, an unknown or revoked device): dropped.
        this.log.warn({ deviceId: r.deviceId, window: r.window, code: r.reason, err: r.message }, 'traffic profile refused by the ledger');
      }
      // The site step for this window now (docs/contracts.md "The site step"): without it the
      // verdicts of a site's devices became final only with their next profile, a window late.
      for (const site of result.sites ?? []) await this.judgeSite(site.deviceClass, site.window);
    }
  }

  /**
   * The fallback for older chaincode: each queued profile in its own submitProfile transaction,
   * oldest first. A profile the ledger refuses is dropped alone; an outage leaves the rest queued
   * for the next window. A site device's verdict stays provisional until its next profile runs
   * the site step (no judgeSite call: the edge does not know the device's class).
   */
  private async submitEach(): Promise<void> {
    while (this.queue.length > 0) {
      const p = this.queue[0] as QueuedProfile;
      let stored: StoredVerdict;
      let txId: string;
      try {
        const commit = await this.ledger.submit({
          contract: CONTRACTS.trafficProfile,
          fn: 'submitProfile',
          args: [JSON.stringify({ deviceId: p.deviceId, window: p.window, features: p.features, marks: p.marks }), ''],
        });
        stored = JSON.parse(new TextDecoder().decode(commit.result)) as StoredVerdict;
        txId = commit.txId;
      } catch (err) {
        if (!isRetryable(err)) {
          this.queue.shift();
          this.log.warn(
            { deviceId: p.deviceId, window: p.window, code: codeOf(err), err: errorMessage(err) },
            'traffic profile refused by the ledger',
          );
          continue;
        }
        this.log.warn({ err: errorMessage(err), queued: this.queue.length }, 'traffic profile submit failed; will retry next window');
        return;
      }
      this.queue.shift();
      this.metrics.profileTransactions.inc({ fn: 'submitProfile' });
      this.record(p, stored, stored.txId ?? txId);
    }
  }

  /** Runs TrafficProfileProvenance:judgeSite for one class and window and records the final verdicts. */
  private async judgeSite(deviceClass: string, window: number): Promise<void> {
    try {
      const commit = await this.ledger.submit({ contract: CONTRACTS.trafficProfile, fn: 'judgeSite', args: [deviceClass, String(window)] });
      this.metrics.profileTransactions.inc({ fn: 'judgeSite' });
      const out = JSON.parse(new TextDecoder().decode(commit.result)) as { judged: Omit<JudgedVerdict, 'window' | 'discrepancyStatus'>[] };
      for (const j of out.judged) this.judged({ ...j, window, discrepancyStatus: !j.trafficProven }, commit.txId);
    } catch (err) {
      // Not lost: the device's next profile runs the same step (the verdict is final a window later).
      this.log.warn(
        { deviceClass, window, code: codeOf(err), err: errorMessage(err) },
        'site step (judgeSite) failed; the next profiles run it',
      );
    }
  }

  /** A site device's verdict made final by the site step: replaces the provisional status of that window. */
  private judged(j: JudgedVerdict, txId: string): void {
    const last = this.status.get(j.deviceId);
    const features = last !== undefined && last.window === j.window ? last.features : {};
    const windowStart = j.window * this.options.windowMs;
    this.record(
      { deviceId: j.deviceId, window: j.window, windowStart, features, marks: [] },
      { trafficProven: j.trafficProven, discrepancyStatus: j.discrepancyStatus, flagged: j.flagged },
      last !== undefined && last.window === j.window ? (last.txId ?? txId) : txId,
      { peers: j.peers, copies: j.copies, judgedTxId: txId },
    );
  }

  private record(
    p: QueuedProfile,
    stored: {
      trafficProven: boolean;
      discrepancyStatus: boolean;
      flagged?: { feature: string; delta: number; threshold: number }[];
      pending?: boolean;
    },
    txId: string,
    site?: { peers: readonly string[]; copies: number; judgedTxId: string },
  ): void {
    const pending = stored.pending === true;
    const status: TrafficStatus = {
      window: p.window,
      windowStart: p.windowStart,
      trafficProven: stored.trafficProven,
      discrepancyStatus: stored.discrepancyStatus,
      flagged: stored.flagged ?? [],
      features: p.features,
      txId,
      ...(pending ? { pending: true } : {}),
      ...(site !== undefined ? { peers: [...site.peers], copies: site.copies, judgedTxId: site.judgedTxId } : {}),
    };
    const last = this.status.get(p.deviceId);
    // A final verdict for a window older than the status shown (the site step of the window
    // before, run by this window's profile) is counted and logged but does not replace it.
    if (last === undefined || last.window <= p.window) this.status.set(p.deviceId, status);
    for (const l of this.listeners) l(p.deviceId, status);
    if (pending) return; // counted and logged once final
    this.metrics.profiles.inc({ result: status.discrepancyStatus ? 'discrepancy' : 'proven' });
    this.metrics.devicesFlagged.set(this.flaggedDevices().length);
    if (status.discrepancyStatus) {
      const set = this.flaggedEver.get(p.deviceId) ?? new Set<string>();
      for (const f of status.flagged) set.add(f.feature);
      this.flaggedEver.set(p.deviceId, set);
      this.log.warn({ deviceId: p.deviceId, window: p.window, flagged: status.flagged.slice(0, 8) }, 'traffic discrepancy');
    }
  }

  private accFor(deviceId: string): Accumulator {
    let a = this.acc.get(deviceId);
    if (!a) {
      a = { arrivals: [], duplicates: 0, frameErrors: 0, rateLimited: 0 };
      this.acc.set(deviceId, a);
    }
    return a;
  }
}

/**
 * Data Provenance validation of a batch (talk, Algorithm 3, write side; BRIEF §3 "Validate"),
 * deterministic given what the ledger holds. Each reading is checked, in this order, the first
 * failure deciding its reason:
 *
 *   1. MALFORMED        submission or canonical bytes do not parse; a version 1 reading (its tag
 *                       is under K_IoT, which the ledger no longer holds)
 *   2. UNKNOWN_DEVICE / REVOKED   registry (and no key deposit counts as unknown)
 *      PROOF_BINDING    the submission names another edge than the caller's, or the device's
 *                       registered gateway is not the caller's edge (or it has none): logic/edges.ts
 *   3. UNKNOWN_PARTIAL  no validated partial under the reading's partialDigest
 *      (or the partial's own reason when the batch carried an invalid one)
 *   4. PROOF_BINDING    partial of another device, or made for another edge than the caller's
 *      WRONG_EPOCH      reading epoch ≠ partial epoch
 *      POLICY_UNSATISFIED  the partial's policy is no longer among the ledger's policies
 *   5. BAD_TAG          tag ≠ HMAC-SHA256(K_tag, "pv2:r" ‖ canonical bytes)
 *   6. CLOCK_AHEAD      t more than the configured skew ahead of the commit time (logic/clock.ts)
 *   7. REPLAY           (deviceId, seq) already on the ledger or earlier in the same batch;
 *                       `duplicate` when it is exactly the recorded reading (an edge resend)
 *   8. CLOCK_BACKWARDS  t earlier than the t of the device's nearest lower recorded seq, or later
 *                       than the t of its nearest higher one (logic/clock.ts checkTimeOrder: t is
 *                       non-decreasing in seq per device). A reading above the window's highest
 *                       seq H — the steady state — is held against H's t, which the window keeps:
 *                       no lookup. Only a late reading (seq below H) asks the ledger for its
 *                       recorded neighbours within SEQ_SPAN (index runs), besides this batch's.
 *
 * In three passes, so that the cryptography of step 5 runs as one job (batch-crypto.ts, possibly
 * on other threads): (A) steps 1–4 for every reading, with registry and partial lookups cached
 * per batch; (B) HMAC, SHA-256 and the record's Merkle leaf for the readings that passed; (C) in
 * batch order, step 5's outcome, step 6 against the transaction's time and step 7 against the
 * device's replay window (one ledger key per device, replay-window.ts), which the batch updates
 * as it accepts readings. Only a number
 * the window has seen, or one older than the window, needs a lookup of the recorded reading.
 */
import { checkDevice, REASONS, type ReasonCode, type Verdict } from '../../../shared/crypto/verdict.js';
import { READING_VERSION } from '../../../shared/encoding/reading.js';
import { checkNotAhead, checkTimeOrder, type TimedSeq } from './clock.js';
import type { RejectedReading } from '../../../shared/records.js';
import { cryptoJobFor, cryptoResult, type BatchCrypto } from './batch-crypto.js';
import type { BatchInput } from './batch-input.js';
import type { AcceptedColumns } from './batch-layout.js';
import type { DeviceRecord } from './registration.js';
import type { PartialOutcome } from './partials.js';
import { readingColumns } from './reading-fields.js';
import type { ReplayWindow } from './replay-window.js';
import { checkEdgeBinding, checkPartialEdge } from './edges.js';
import { copyBytes, sameBytes } from './bytes.js';

/** What the validator needs to know from the ledger (the contract caches it per batch). */
export interface ReadingLedgerView {
  /** The edgeId the caller acts as (the edge registry's answer for its identity). */
  readonly callerEdgeId: string;
  device(deviceId: string): Promise<DeviceRecord | undefined>;
  /** The device's K_tag (the reading subkey of its deposit), undefined without a deposit. */
  kTag(deviceId: string): Promise<Uint8Array | undefined>;
  /** The commit time (transaction timestamp, ms) and the configured clock skew (ms). */
  clock(): Promise<{ readonly commitMs: number; readonly skewMs: number }>;
  /** The partial stored (or judged in this batch) under a digest; undefined if unknown. */
  partial(partialDigest: string): Promise<PartialOutcome | undefined>;
  /** Does the ledger still accept partials under this policyId (setPolicies may have dropped it)? */
  policyAccepted(policyId: string): Promise<boolean>;
  /** The device's replay window as the ledger holds it (empty if none); the batch updates this object. */
  window(deviceId: string): Promise<ReplayWindow>;
  /** dataHash (hex) of the reading recorded under (deviceId, seq) before this batch, undefined if none. */
  recordedHash(deviceId: string, seq: number): Promise<string | undefined>;
  /**
   * The device's readings recorded before this batch with the nearest seq below and above `seq`
   * (each undefined when there is none within SEQ_SPAN of it): only asked for a late reading.
   */
  recordedNeighbours(deviceId: string, seq: number): Promise<{ readonly below?: TimedSeq; readonly above?: TimedSeq }>;
}

/** What a batch's validation decided, in columns (no object per reading). */
export interface BatchJudgement extends AcceptedColumns {
  /** In batch order. */
  readonly rejected: readonly RejectedReading[];
  /** The windows of devices with accepted readings, updated, by device index (first-acceptance order). */
  readonly windows: ReadonlyMap<number, ReplayWindow>;
}

function rejection(index: number, deviceId: string, seq: number, reason: ReasonCode, message: string, duplicate = false): RejectedReading {
  return duplicate ? { index, deviceId, seq, reason, message, duplicate: true } : { index, deviceId, seq, reason, message };
}

/** Why a (device, partial, edge) combination is refused: the reason and the message after "device D seq S". */
interface Refusal {
  readonly reason: ReasonCode;
  /** The message for reading `who` ("device D seq S"). */
  readonly message: (who: string) => string;
}

/**
 * Steps 2–4 for a reading of `deviceId` in `epoch` under the partial `digest`, submitted by edge
 * `edgeId`: a refusal, or undefined when its readings go on to their tag check. Depends on the
 * reading only through these four values, so the batch asks once per combination.
 */
export async function checkRegistryAndPartial(
  view: ReadingLedgerView,
  deviceId: string,
  epoch: number,
  edgeId: string,
  digest: string,
): Promise<Refusal | undefined> {
  const device = await view.device(deviceId);
  const status = checkDevice(deviceId, device?.status);
  if (!status.ok) return { reason: status.reason, message: () => status.message };
  if ((await view.kTag(deviceId)) === undefined)
    return { reason: REASONS.UNKNOWN_DEVICE, message: (who) => `${who}: no key deposit for the device` };
  const binding = checkEdgeBinding(deviceId, device?.gatewayId ?? '', view.callerEdgeId, edgeId);
  if (!binding.ok) return { reason: binding.reason, message: (who) => `${who}: ${binding.message}` };

  const partial = await view.partial(digest);
  if (partial === undefined)
    return { reason: REASONS.UNKNOWN_PARTIAL, message: (who) => `${who}: no validated partial signature ${digest.slice(0, 16)}…` };
  if (!partial.ok) return { reason: partial.reason, message: (who) => `${who}: ${partial.message}` };
  const p = partial.partial;
  if (p.deviceId !== deviceId)
    return { reason: REASONS.PROOF_BINDING, message: (who) => `${who}: partial belongs to device ${p.deviceId}` };
  if (p.epoch !== epoch)
    return { reason: REASONS.WRONG_EPOCH, message: (who) => `${who}: reading epoch ${epoch}, partial epoch ${p.epoch}` };
  const partialEdge = checkPartialEdge(deviceId, p.edgeId, view.callerEdgeId);
  if (!partialEdge.ok) return { reason: partialEdge.reason, message: (who) => `${who}: ${partialEdge.message}` };
  if (!(await view.policyAccepted(p.policyId)))
    return {
      reason: REASONS.POLICY_UNSATISFIED,
      message: (who) => `${who}: policy ${p.policyId} of its partial is no longer accepted by the ledger`,
    };
  return undefined;
}

/** The last combination checked for a device, and its outcome. */
interface Checked {
  readonly at: number;
  readonly epoch: number;
  readonly route: number;
  readonly refusal: Refusal | undefined;
}

/** Judges every reading of a batch (see the file comment). Never throws for a reading's content. */
export async function judgeBatch(view: ReadingLedgerView, input: BatchInput, crypto: BatchCrypto): Promise<BatchJudgement> {
  const n = input.count;
  const cols = readingColumns(input.data, input.canonicalAt, input.canonicalLength, n, input.problem);
  const { devices, dev, seq, t, epoch, digest } = cols;
  const early: (RejectedReading | undefined)[] = new Array(n);
  const items: number[] = [];
  const itemKey: number[] = [];
  const keyOf = new Int32Array(devices.length).fill(-1);
  const keys: Uint8Array[] = [];
  const checked: (Checked | undefined)[] = new Array(devices.length);
  const who = (i: number): string => `device ${devices[dev[i] as number] as string} seq ${seq[i] as number}`;

  // Pass A: steps 1–4, once per (device, partial, epoch, route) combination.
  for (let i = 0; i < n; i++) {
    const d = dev[i] as number;
    if (d < 0) {
      early[i] = rejection(i, '', -1, REASONS.MALFORMED, cols.problem[i] as string);
      continue;
    }
    if (cols.version[i] !== READING_VERSION) {
      early[i] = rejection(
        i,
        devices[d] as string,
        seq[i] as number,
        REASONS.MALFORMED,
        `${who(i)}: reading version ${cols.version[i] as number} is no longer accepted (its tag is under K_IoT, which the ledger does not hold)`,
      );
      continue;
    }
    const route = input.route[i] as number;
    let c = checked[d];
    if (c === undefined || c.epoch !== epoch[i] || c.route !== route || !sameBytes(digest, c.at, digest, 32 * i, 32)) {
      const edgeId = (input.routes[route] as { edgeId: string }).edgeId;
      const refusal = await checkRegistryAndPartial(
        view,
        devices[d] as string,
        epoch[i] as number,
        edgeId,
        digest.toString('hex', 32 * i, 32 * i + 32),
      );
      c = { at: 32 * i, epoch: epoch[i] as number, route, refusal };
      checked[d] = c;
    }
    if (c.refusal !== undefined) {
      early[i] = rejection(i, devices[d] as string, seq[i] as number, c.refusal.reason, c.refusal.message(who(i)));
      continue;
    }
    if (keyOf[d] === -1) {
      keyOf[d] = keys.length;
      keys.push((await view.kTag(devices[d] as string)) as Uint8Array);
    }
    items.push(i);
    itemKey.push(keyOf[d] as number);
  }

  // Pass B: tag, dataHash and leaf of every candidate, as one job.
  const result =
    items.length === 0 ? cryptoResult(0) : await crypto.run(cryptoJobFor(input, Uint32Array.from(items), Uint16Array.from(itemKey), keys));

  // Pass C: in batch order, the tag verdict, the clock check and the replay check.
  const { commitMs, skewMs } = await view.clock();
  const accepted = new Uint32Array(items.length);
  const acceptedItem = new Uint32Array(items.length);
  let count = 0;
  const rejected: RejectedReading[] = [];
  const windows = new Map<number, ReplayWindow>();
  const loaded: (ReplayWindow | undefined)[] = new Array(devices.length);
  // dataHash of readings accepted earlier in this batch, by "device\0seq": built only when a
  // number the window has seen (or one below it) comes up, which a batch without resends never has.
  let inBatch: Map<string, string> | undefined;
  const earlierInBatch = (d: number, s: number): string | undefined => {
    if (inBatch === undefined) {
      inBatch = new Map();
      for (let a = 0; a < count; a++) {
        const x = accepted[a] as number;
        const j = acceptedItem[a] as number;
        inBatch.set(`${dev[x] as number}\u0000${seq[x] as number}`, result.dataHash.toString('hex', 32 * j, 32 * j + 32));
      }
    }
    return inBatch.get(`${d}\u0000${s}`);
  };
  let j = 0;
  for (let i = 0; i < n; i++) {
    const refused = early[i];
    if (refused !== undefined) {
      rejected.push(refused);
      continue;
    }
    const item = j++;
    const d = dev[i] as number;
    const s = seq[i] as number;
    if (result.tagOk[item] !== 1) {
      rejected.push(rejection(i, devices[d] as string, s, REASONS.BAD_TAG, `${who(i)}: tag does not verify under the device key`));
      continue;
    }
    const time = checkNotAhead(devices[d] as string, s, t[i] as number, commitMs, skewMs);
    if (!time.ok) {
      rejected.push(rejection(i, devices[d] as string, s, time.reason, time.message));
      continue;
    }
    let window = loaded[d];
    if (window === undefined) loaded[d] = window = await view.window(devices[d] as string);
    const answer = window.check(s);
    if (answer !== 'new') {
      const earlier = earlierInBatch(d, s) ?? (await view.recordedHash(devices[d] as string, s));
      // 'seen' with no record found would be a window ahead of the records: still never a second record.
      if (earlier !== undefined || answer === 'seen') {
        const same = earlier === result.dataHash.toString('hex', 32 * item, 32 * item + 32);
        const message = same ? `${who(i)} is already recorded (resent)` : `${who(i)} was already recorded with other data`;
        rejected.push(rejection(i, devices[d] as string, s, REASONS.REPLAY, message, same));
        continue;
      }
    }
    // Step 8: t non-decreasing in seq. Above the window's highest H (the usual case) the nearest
    // lower recorded reading is H itself, whose t the window keeps.
    const high = window.highest;
    if (high !== undefined) {
      const ti = t[i] as number;
      const highT = window.highestT as number;
      let order: Verdict | undefined;
      if (s > high) {
        if (ti < highT) order = checkTimeOrder(devices[d] as string, s, ti, { seq: high, t: highT });
      } else {
        // A late reading: its neighbours recorded before this batch, and those accepted in it.
        const near = await view.recordedNeighbours(devices[d] as string, s);
        let below = near.below;
        let above = near.above;
        for (let a = 0; a < count; a++) {
          const x = accepted[a] as number;
          if (dev[x] !== d) continue;
          const q = seq[x] as number;
          if (q < s && (below === undefined || q > below.seq)) below = { seq: q, t: t[x] as number };
          if (q > s && (above === undefined || q < above.seq)) above = { seq: q, t: t[x] as number };
        }
        // Nothing recorded within reach above: H (> s) still bounds t from above.
        above ??= { seq: high, t: highT };
        const v = checkTimeOrder(devices[d] as string, s, ti, below, above);
        if (!v.ok) order = v;
      }
      if (order !== undefined && !order.ok) {
        rejected.push(rejection(i, devices[d] as string, s, order.reason, order.message));
        continue;
      }
    }
    window.accept(s, t[i] as number);
    if (!windows.has(d)) windows.set(d, window);
    accepted[count] = i;
    acceptedItem[count] = item;
    count++;
    inBatch?.set(`${d}\u0000${s}`, result.dataHash.toString('hex', 32 * item, 32 * item + 32));
  }
  // dataHash and leaf of the accepted readings, in acceptance order: the job's own buffers when
  // every item was accepted (the usual batch), else the accepted ones copied out.
  let dataHash = result.dataHash;
  let leaf = result.leaf;
  if (count !== items.length) {
    dataHash = Buffer.allocUnsafe(32 * count);
    leaf = Buffer.allocUnsafe(32 * count);
    for (let a = 0; a < count; a++) {
      const it = acceptedItem[a] as number;
      copyBytes(result.dataHash, 32 * it, dataHash, 32 * a, 32);
      copyBytes(result.leaf, 32 * it, leaf, 32 * a, 32);
    }
  }
  return {
    devices,
    dev,
    seq,
    t,
    epoch,
    digest,
    bootCount: cols.bootCount,
    uptimeMs: cols.uptimeMs,
    receivedAt: input.receivedAt,
    route: input.route,
    data: input.data,
    tagAt: input.tagAt,
    accepted: accepted.subarray(0, count),
    dataHash,
    leaf,
    rejected,
    windows,
  };
}

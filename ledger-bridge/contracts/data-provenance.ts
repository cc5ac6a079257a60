/**
 * Data Provenance contract (talk, Algorithm 3): records batches of signed readings (one
 * transaction, many readings, a verdict per reading) and verifies data against the records.
 *
 * State work grows with a batch's devices, not its readings (docs/contracts.md "State layout"):
 * per device one replay-window key read and written, one or two index runs written; per batch
 * one batch record holding every accepted reading under a Merkle root.
 *
 * Rejected readings are NOT written to state: a forged reading must not occupy the (deviceId,
 * seq) of the genuine one. They are returned in the result and carried in the transaction's
 * ReadingsRecorded event, so the block holds them as evidence.
 */
import { CONTRACTS } from '../client.js';
import { ready } from '../../shared/crypto/bbs.js';
import { EVENTS, type BatchResult, type ProvenanceRecord } from '../../shared/records.js';
// Context is a value import on purpose: decorator metadata must name the class (see fabric.ts).
// eslint-disable-next-line @typescript-eslint/consistent-type-imports
import { Contract, Info, Returns, StringParams, Transaction, Context } from './fabric.js';
import { CONTRACT_ERRORS, contractError } from './errors.js';
import {
  epochSigKey,
  epochSigRange,
  KEY_TYPES,
  pad,
  readingAtAttrs,
  readingAttrs,
  seqIndexKey,
  seqIndexRange,
  timeIndexKey,
  timeIndexRange,
} from './keys.js';
import { isPlainObject, parseDeviceIdArg, parseHexArg, parseIntArg, parseJsonArg } from './logic/args.js';
import { inThreadCrypto, type BatchCrypto } from './logic/batch-crypto.js';
import { parseBatchArg, type BatchInput } from './logic/batch-input.js';
import {
  decodeIndexRun,
  encodeBatchRecord,
  encodeIndexRunOf,
  indexRunsOf,
  provenanceRecordOf,
  runHasSeq,
  SEQ_SPAN,
  T_SPAN,
  type BatchProof,
  type BatchRecord,
  type StoredGroup,
  type StoredReading,
} from './logic/batch-layout.js';
import { cachedBatchProof, cachedBatchRecord } from './logic/batch-cache.js';
import { canonicalBytes, canonicalJson } from './logic/canonical.js';
import { judgePartial, type PartialOutcome, type RejectedPartial, type StoredPartial } from './logic/partials.js';
import { judgeBatch, type BatchJudgement, type ReadingLedgerView } from './logic/readings.js';
import { ReplayWindow } from './logic/replay-window.js';
import { dataHashOf, decideVerify, parseLocator, type VerifyResult } from './logic/verify.js';
import type { DeviceRecord, LedgerConfig } from './logic/registration.js';
import {
  callerOf,
  drain,
  edgeOfIdentity,
  getJson,
  loadConfig,
  loadDevice,
  loadDeviceKeys,
  parseBytes,
  putJson,
  scan,
  type KeyValue,
} from './state.js';
import { clockSkewOf, type TimedSeq } from './logic/clock.js';
import {
  classifySegment,
  epochRecord,
  levelOf,
  MAX_SEGMENT_READINGS,
  parseLeavesArg,
  resolveLeaves,
  type LevelAnswer,
  type RecordSignatureResult,
  type StoredEpochSignature,
  type StoredKeySet,
} from './logic/epoch-signatures.js';
import { decodeSignatureBody, signatureLeaf, verifyEpochBody, verifyKeySetBody, type SignatureBody } from '../../shared/crypto/epoch.js';
import { sha256 } from '../../shared/crypto/sha256.js';
import { fromHex, toHex } from '../../shared/encoding/hex.js';
import { callerEdgeId } from './logic/edges.js';

/** Batch result with the partials the batch carried that were refused. */
export interface RecordBatchResult extends BatchResult {
  readonly rejectedPartials: readonly RejectedPartial[];
}

/** verify's answer: Alg. 3's verdict, and for a batch record the path from its leaf to the batch root. */
export interface VerifyAnswer extends VerifyResult {
  readonly batch?: BatchProof;
}

let defaultCrypto: BatchCrypto = inThreadCrypto;

/**
 * Where recordBatch runs its per-reading cryptography when the stub names none: this thread by
 * default; a host with spare cores may install a worker pool (the result is the same bytes).
 * Returns the previous setting.
 */
export function setDefaultBatchCrypto(crypto: BatchCrypto): BatchCrypto {
  const before = defaultCrypto;
  defaultCrypto = crypto;
  return before;
}

/** The embedded ledger's stub may carry the ledger's own crypto pool (not a Fabric API). */
function cryptoOf(ctx: Context): BatchCrypto {
  return (ctx.stub as unknown as { batchCrypto?: BatchCrypto }).batchCrypto ?? defaultCrypto;
}

type Iter = Parameters<typeof drain<KeyValue>>[0];

/** A record found on the ledger, with what is needed for its batch proof. */
interface Found {
  readonly record: ProvenanceRecord;
  readonly batch?: { readonly record: BatchRecord; readonly leafIndex: number };
}

/** The near part of a seq lookup's index scan (RecordLookup.bySeq); NEAR_SEQS < SEQ_SPAN. */
const NEAR_SEQS = 16;
/** The near part of the scan for the epoch segment covering a seq (coveringSegment). */
const NEAR_SEGMENT_SEQS = 64;

/** Lookups of recorded readings: batch records through the index runs, then layout-v1 keys. */
class RecordLookup {
  private readonly batches = new Map<string, BatchRecord | undefined>();

  constructor(private readonly ctx: Context) {}

  private async batch(txId: string): Promise<BatchRecord | undefined> {
    if (!this.batches.has(txId)) {
      const key = this.ctx.stub.createCompositeKey(KEY_TYPES.batch, [txId]);
      const bytes = await this.ctx.stub.getState(key);
      // Decoded once per process for the same bytes (logic/batch-cache.ts): auditors ask about
      // every reading of a batch.
      this.batches.set(txId, bytes === undefined || bytes === null || bytes.length === 0 ? undefined : cachedBatchRecord(key, bytes));
    }
    return this.batches.get(txId);
  }

  private async range(start: string, end: string): Promise<KeyValue[]> {
    return drain((await this.ctx.stub.getStateByRange(start, end)) as unknown as Iter);
  }

  private async collect(deviceId: string, txId: string, pick: (r: StoredReading) => boolean, out: Found[]): Promise<void> {
    const record = await this.batch(txId);
    if (record === undefined) return;
    record.groups.forEach((g: StoredGroup) => {
      if (g.deviceId !== deviceId) return;
      g.readings.forEach((r, i) => {
        if (pick(r)) out.push({ record: provenanceRecordOf(record, g, r, txId), batch: { record, leafIndex: g.firstLeaf + i } });
      });
    });
  }

  /** The record of (deviceId, seq): none or one. */
  async bySeq(deviceId: string, seq: number): Promise<Found[]> {
    const out: Found[] = [];
    // The runs with maxSeq in [seq, seq + SEQ_SPAN), in key order, the first holding seq wins. Read
    // in parts, the nearest first: the run holding a reading usually ends at it or within a few seqs
    // of it, and a device with many small runs after seq (a reading asked about long after it was
    // recorded) would otherwise have all of them read and decoded for every question.
    for (const [from, to] of [
      [seq, seq + 1],
      [seq + 1, seq + NEAR_SEQS],
      [seq + NEAR_SEQS, seq + SEQ_SPAN],
    ] as const) {
      const [start, end] = seqIndexRange(deviceId, from, to);
      for (const { value } of await this.range(start, end)) {
        const run = decodeIndexRun(value);
        if (!runHasSeq(run, seq)) continue;
        await this.collect(deviceId, run.txId, (r) => r.seq === seq, out);
        if (out.length > 0) return out;
      }
    }
    const legacy = await getJson<ProvenanceRecord>(
      this.ctx,
      this.ctx.stub.createCompositeKey(KEY_TYPES.reading, readingAttrs(deviceId, seq)),
    );
    return legacy === undefined ? out : [{ record: legacy }];
  }

  /** The recorded readings of deviceId with seq in [from, to]: seq → record. */
  async inRange(deviceId: string, from: number, to: number): Promise<Map<number, ProvenanceRecord>> {
    const found: Found[] = [];
    const [start, end] = seqIndexRange(deviceId, from, to + SEQ_SPAN);
    const seen = new Set<string>();
    for (const { value } of await this.range(start, end)) {
      const run = decodeIndexRun(value);
      if (run.maxSeq < from || run.minSeq > to || seen.has(run.txId)) continue;
      seen.add(run.txId);
      await this.collect(deviceId, run.txId, (r) => r.seq >= from && r.seq <= to, found);
    }
    const out = new Map<number, ProvenanceRecord>();
    for (const f of found) out.set(f.record.seq, f.record);
    return out;
  }

  /**
   * The device's recorded readings with the nearest seq below and above `seq` among those within
   * SEQ_SPAN of it: one scan of the index runs that can hold such seqs (a run's seqs lie in
   * (maxSeq − SEQ_SPAN, maxSeq]), then the batch records of the two runs that hold them.
   */
  async neighbours(deviceId: string, seq: number): Promise<{ below?: TimedSeq; above?: TimedSeq }> {
    const [start, end] = seqIndexRange(deviceId, Math.max(0, seq - SEQ_SPAN), seq + 2 * SEQ_SPAN);
    let below: { seq: number; txId: string } | undefined;
    let above: { seq: number; txId: string } | undefined;
    for (const { value } of await this.range(start, end)) {
      const run = decodeIndexRun(value);
      for (let q = run.minSeq; q <= run.maxSeq; q++) {
        if (q === seq || !runHasSeq(run, q)) continue;
        if (q < seq && q >= seq - SEQ_SPAN && (below === undefined || q > below.seq)) below = { seq: q, txId: run.txId };
        if (q > seq && q <= seq + SEQ_SPAN && (above === undefined || q < above.seq)) above = { seq: q, txId: run.txId };
      }
    }
    const timed = async (at: { seq: number; txId: string } | undefined): Promise<TimedSeq | undefined> => {
      if (at === undefined) return undefined;
      const out: Found[] = [];
      await this.collect(deviceId, at.txId, (r) => r.seq === at.seq, out);
      const record = out[0]?.record;
      return record === undefined ? undefined : { seq: record.seq, t: record.t };
    };
    const b = await timed(below);
    const a = await timed(above);
    return { ...(b === undefined ? {} : { below: b }), ...(a === undefined ? {} : { above: a }) };
  }

  /** The records of deviceId stamped t, in seq order. */
  async byTime(deviceId: string, t: number): Promise<Found[]> {
    const out: Found[] = [];
    const [start, end] = timeIndexRange(deviceId, t, t + T_SPAN);
    for (const { value } of await this.range(start, end)) {
      const run = decodeIndexRun(value);
      if (run.tMin <= t && t <= run.tMax) await this.collect(deviceId, run.txId, (r) => r.t === t, out);
    }
    const index = await scan(this.ctx, KEY_TYPES.readingAt, readingAtAttrs(deviceId, t, 0).slice(0, 2), 64);
    for (const entry of index) {
      const seq = Number(new TextDecoder().decode(entry.value));
      const record = await getJson<ProvenanceRecord>(
        this.ctx,
        this.ctx.stub.createCompositeKey(KEY_TYPES.reading, readingAttrs(deviceId, seq)),
      );
      if (record !== undefined) out.push({ record });
    }
    return out.sort((a, b) => a.record.seq - b.record.seq);
  }
}

/** The per-transaction view over ctx.stub with per-batch caches (one lookup per device and digest). */
class BatchView implements ReadingLedgerView {
  private readonly devices = new Map<string, DeviceRecord | undefined>();
  private readonly keys = new Map<string, Uint8Array | undefined>();
  readonly partials = new Map<string, PartialOutcome | undefined>();
  private config: Promise<LedgerConfig> | undefined;
  private readonly lookup: RecordLookup;

  constructor(
    private readonly ctx: Context,
    readonly callerEdgeId: string,
  ) {
    this.lookup = new RecordLookup(ctx);
  }

  /** The ledger config, read once per batch (only when a reading gets that far). */
  loadConfig(): Promise<LedgerConfig> {
    this.config ??= loadConfig(this.ctx);
    return this.config;
  }

  async policyAccepted(policyId: string): Promise<boolean> {
    return (await this.loadConfig()).policies.some((p) => p.policyId === policyId);
  }

  async device(deviceId: string): Promise<DeviceRecord | undefined> {
    if (!this.devices.has(deviceId)) this.devices.set(deviceId, await loadDevice(this.ctx, deviceId));
    return this.devices.get(deviceId);
  }

  async kTag(deviceId: string): Promise<Uint8Array | undefined> {
    if (!this.keys.has(deviceId)) this.keys.set(deviceId, (await loadDeviceKeys(this.ctx, deviceId))?.kTag);
    return this.keys.get(deviceId);
  }

  async clock(): Promise<{ readonly commitMs: number; readonly skewMs: number }> {
    // The transaction's timestamp: the client's proposal time, which endorsers on Fabric check
    // against their own clocks; on the embedded ledger the ledger's clock.
    return { commitMs: this.ctx.stub.getDateTimestamp().getTime(), skewMs: clockSkewOf(await this.loadConfig()) };
  }

  async partial(digest: string): Promise<PartialOutcome | undefined> {
    if (!this.partials.has(digest)) {
      const stored = await getJson<StoredPartial>(this.ctx, this.ctx.stub.createCompositeKey(KEY_TYPES.partial, [digest]));
      this.partials.set(digest, stored === undefined ? undefined : { ok: true, partial: stored });
    }
    return this.partials.get(digest);
  }

  async window(deviceId: string): Promise<ReplayWindow> {
    const bytes = await this.ctx.stub.getState(windowKey(this.ctx, deviceId));
    if (bytes !== undefined && bytes !== null && bytes.length > 0) return ReplayWindow.decode(bytes);
    // No window yet: a device with readings in the per-reading layout must be migrated first, or
    // a replay of one of them would not be recognised.
    const legacy = await scan(this.ctx, KEY_TYPES.reading, [deviceId], 1);
    if (legacy.length > 0)
      throw contractError(
        CONTRACT_ERRORS.NOT_MIGRATED,
        `device ${deviceId} has readings in the per-reading state layout and no replay window yet; run DataProvenance:migrateDevice (embedded ledger: provenant ledger migrate --db FILE)`,
        { deviceId },
      );
    return ReplayWindow.empty();
  }

  async recordedHash(deviceId: string, seq: number): Promise<string | undefined> {
    return (await this.lookup.bySeq(deviceId, seq))[0]?.record.dataHash;
  }

  recordedNeighbours(deviceId: string, seq: number): Promise<{ below?: TimedSeq; above?: TimedSeq }> {
    return this.lookup.neighbours(deviceId, seq);
  }
}

/** The LMS public key (hex) of the device's key set k: 0 from its registration, later ones vouched for by the board. */
async function signingKeyOf(ctx: Context, device: DeviceRecord, k: number): Promise<string | undefined> {
  if (k === 0) return device.signingKey;
  return (await getJson<StoredKeySet>(ctx, ctx.stub.createCompositeKey(KEY_TYPES.sigKeySet, [device.deviceId, pad(k, 10)])))?.publicKey;
}

/** The signed segment covering (deviceId, seq), if any: the first with lastSeq >= seq, if it starts at or below seq. */
/** The reading recorded under the (deviceId, seq) arguments; PROV_ERR_RECORD_NOT_FOUND if none. */
/** Alg. 3's verify of one question (the body of `verify` and of each `verifyMany` entry). */
async function verifyOne(lookup: RecordLookup, deviceId: string, locator: string, dataHex: string, tagHex: string): Promise<VerifyAnswer> {
  const id = parseDeviceIdArg(deviceId);
  const where = parseLocator(locator);
  const dataHash = dataHashOf(dataHex);
  const found = where.by === 'seq' ? await lookup.bySeq(id, where.seq) : await lookup.byTime(id, where.t);
  const decision = decideVerify(
    id,
    where,
    found.map((f) => f.record),
    dataHash,
    tagHex ?? '',
  );
  const from = found.find((f) => f.record === decision.record)?.batch;
  return from === undefined ? decision : { ...decision, batch: cachedBatchProof(from.record, from.leafIndex) };
}

/** Most questions one `verifyMany`, `signatureLevelMany` or `getMany` read answers. */
export const MAX_MANY = 1000;

/** One answer of a `…Many` read: the single function's answer, or what it throws. */
export type ManyEntry<T> = { readonly answer: T } | { readonly error: { readonly code: string | null; readonly message: string } };

/** Parses a `…Many` argument: a JSON array of at most MAX_MANY arrays of `width` strings. */
function parseManyArg(text: string, width: number): string[][] {
  const qs = parseJsonArg(text, 'questions');
  if (!Array.isArray(qs) || qs.length > MAX_MANY)
    throw contractError(CONTRACT_ERRORS.BAD_INPUT, `questions must be a JSON array of at most ${MAX_MANY} questions`, {
      field: 'questions',
    });
  qs.forEach((q, i) => {
    if (!Array.isArray(q) || q.length !== width || !q.every((x) => typeof x === 'string'))
      throw contractError(CONTRACT_ERRORS.BAD_INPUT, `questions[${i}] must be an array of ${width} strings`, { field: 'questions' });
  });
  return qs as string[][];
}

/** Runs one question of a `…Many` read: its answer, or the error it throws as data. */
async function manyEntry<T>(run: () => Promise<T>): Promise<ManyEntry<T>> {
  try {
    return { answer: await run() };
  } catch (err) {
    const e = err as { message?: unknown; code?: unknown };
    return {
      error: {
        code: typeof e?.code === 'string' && e.code.startsWith('PROV_ERR_') ? e.code : null,
        message: typeof e?.message === 'string' ? e.message : String(err),
      },
    };
  }
}

async function recordedAt(
  ctx: Context,
  deviceId: string,
  seq: string,
  lookup = new RecordLookup(ctx),
): Promise<{ id: string; n: number; found: NonNullable<Awaited<ReturnType<RecordLookup['bySeq']>>[number]> }> {
  const id = parseDeviceIdArg(deviceId);
  const n = parseIntArg(seq, 'seq', 0, 0xffffffff);
  const [found] = await lookup.bySeq(id, n);
  if (found === undefined)
    throw contractError(CONTRACT_ERRORS.RECORD_NOT_FOUND, `could not locate the record of device ${id} at seq:${n}`, {
      deviceId: id,
      seq: n,
    });
  return { id, n, found };
}

/**
 * What one read learned about a device's signed segments and keys, for the other questions of the
 * same `signatureLevelMany` read (state does not change within a read). The segment keys are
 * epochSig · deviceId · lastSeq; a range read takes the first key only, so each read tells that
 * [from, that key's lastSeq] holds exactly that key, or [from, to) none: `known` keeps those
 * intervals (disjoint, in no order), and a later question walks them before reading the gaps.
 * Answers are exactly what the question alone gets (test/contracts/signature-level-many.test.ts).
 */
/** A segment found by a range read, with the lastSeq its key names. */
interface Segment {
  readonly stored: StoredEpochSignature;
  readonly lastSeq: number;
}

class LevelReads {
  private readonly devices = new Map<string, Promise<DeviceRecord | undefined>>();
  private readonly keySets = new Map<string, Promise<StoredKeySet | undefined>>();
  private readonly known = new Map<string, { from: number; to: number; first?: Segment }[]>();

  constructor(private readonly ctx: Context) {}

  device(id: string): Promise<DeviceRecord | undefined> {
    let d = this.devices.get(id);
    if (d === undefined) this.devices.set(id, (d = loadDevice(this.ctx, id)));
    return d;
  }

  keySet(id: string, k: number): Promise<StoredKeySet | undefined> {
    const key = this.ctx.stub.createCompositeKey(KEY_TYPES.sigKeySet, [id, pad(k, 10)]);
    let ks = this.keySets.get(key);
    if (ks === undefined) this.keySets.set(key, (ks = getJson<StoredKeySet>(this.ctx, key)));
    return ks;
  }

  /** The first segment key of `deviceId` with lastSeq in [from, to): from what is known, else one range read. */
  private async firstIn(deviceId: string, from: number, to: number): Promise<{ next: number; first?: Segment }> {
    let known = this.known.get(deviceId);
    if (known === undefined) this.known.set(deviceId, (known = []));
    const hit = known.find((k) => k.from <= from && from < k.to);
    if (hit !== undefined) return hit.first !== undefined ? { next: hit.to, first: hit.first } : { next: hit.to };
    // Read up to the next known interval at most (intervals stay disjoint).
    const end = Math.min(to, ...known.filter((k) => k.from > from).map((k) => k.from));
    const [start, stop] = epochSigRange(deviceId, from, end);
    const [kv] = await drain((await this.ctx.stub.getStateByRange(start, stop)) as unknown as Iter, 1);
    if (kv === undefined) {
      known.push({ from, to: end });
      return { next: end };
    }
    // The key ends with the segment's lastSeq (10 digits, epochSigKey).
    const lastSeq = Number(kv.key.slice(-10));
    const first: Segment = { stored: parseBytes<StoredEpochSignature>(kv.value), lastSeq };
    known.push({ from, to: lastSeq + 1, first });
    return { next: lastSeq + 1, first };
  }

  /**
   * The first segment whose last seq is at or after seq (one that ends MAX_SEGMENT_READINGS or
   * more after seq starts after it), if it starts at or below seq. Looked for near seq first: a
   * range read returns every key in it.
   */
  async coveringSegment(deviceId: string, seq: number): Promise<StoredEpochSignature | undefined> {
    const limit = Math.min(seq + MAX_SEGMENT_READINGS, 0x1_0000_0000);
    const stages = [seq + NEAR_SEGMENT_SEQS, seq + 16 * NEAR_SEGMENT_SEQS, limit].map((x) => Math.min(x, limit));
    let first: Segment | undefined;
    for (let pos = seq; pos < limit && first === undefined;) {
      const stageEnd = stages.find((x) => x > pos) ?? limit;
      const r = await this.firstIn(deviceId, pos, stageEnd);
      first = r.first;
      pos = r.next;
    }
    return first !== undefined && first.lastSeq < limit && first.stored.firstSeq <= seq ? first.stored : undefined;
  }
}

/** A recorded reading's level (the body of `signatureLevel` and of each `signatureLevelMany` entry). */
async function levelAt(ctx: Context, lookup: RecordLookup, reads: LevelReads, deviceId: string, seq: string): Promise<LevelAnswer> {
  const { id, n, found } = await recordedAt(ctx, deviceId, seq, lookup);
  const signed = await reads.coveringSegment(id, n);
  const device = await reads.device(id);
  const chain: string[] = [];
  for (let k = 1; signed !== undefined && k <= signed.keySet; k++) {
    const ks = await reads.keySet(id, k);
    if (ks === undefined) break;
    chain.push(ks.body);
  }
  return levelOf(sha256, found.record, signed, device?.signingKey, chain);
}

function windowKey(ctx: Context, deviceId: string): string {
  return ctx.stub.createCompositeKey(KEY_TYPES.window, [deviceId]);
}

/** Writes a batch's accepted readings: the batch record, the devices' windows, the index runs. */
async function writeBatch(ctx: Context, txId: string, input: BatchInput, judged: BatchJudgement): Promise<void> {
  await ctx.stub.putState(ctx.stub.createCompositeKey(KEY_TYPES.batch, [txId]), encodeBatchRecord(judged, input.routeBytes).value);
  for (const [d, window] of judged.windows) await ctx.stub.putState(windowKey(ctx, judged.devices[d] as string), window.encode());
  // Per device the indexes of its accepted readings (no object per reading).
  const byDevice = new Map<number, number[]>();
  for (const i of judged.accepted) {
    const d = judged.dev[i] as number;
    let list = byDevice.get(d);
    if (list === undefined) byDevice.set(d, (list = []));
    list.push(i);
  }
  for (const [d, list] of byDevice) {
    const deviceId = judged.devices[d] as string;
    for (const run of indexRunsOf(list, judged.seq, judged.t)) {
      const { value, maxSeq, tMax } = encodeIndexRunOf(txId, run, judged.seq, judged.t);
      await ctx.stub.putState(seqIndexKey(deviceId, maxSeq), value);
      await ctx.stub.putState(timeIndexKey(deviceId, tMax, maxSeq), value);
    }
  }
}

/** The Data Provenance contract. */
@Info({ title: 'DataProvenance', description: 'Provenance records of sensor readings (talk, Algorithm 3)' })
export class DataProvenanceContract extends Contract {
  constructor() {
    super(CONTRACTS.dataProvenance);
  }

  /**
   * Records a batch — the packed binary batch (shared/encoding/batch.ts, what the edge sends) in
   * base64, or as bytes where the host passes a binary argument (the embedded ledger), or
   * ReadingBatch JSON (shared/records.ts) — every reading validated on its own; the result lists
   * the rejected ones with their reason, all others are recorded.
   */
  @StringParams('batch')
  @Transaction()
  @Returns('string')
  async recordBatch(ctx: Context, batch: string): Promise<string> {
    // Declared string for the contract metadata (fabric-contract-api refuses a union type); the
    // embedded host passes a binary argument as its bytes (embedded/host.ts marshalParameters).
    const input = parseBatchArg(batch as string | Uint8Array);
    const txId = ctx.stub.getTxID();
    const caller = callerOf(ctx);
    const view = new BatchView(ctx, callerEdgeId(await edgeOfIdentity(ctx, caller), caller, 'record readings'));
    const rejectedPartials = await this.storePartials(ctx, view, input.partials, txId);
    const judged = await judgeBatch(view, input, cryptoOf(ctx));
    if (judged.accepted.length > 0) await writeBatch(ctx, txId, input, judged);
    const result: RecordBatchResult = { accepted: judged.accepted.length, rejected: judged.rejected, rejectedPartials, txId };
    ctx.stub.setEvent(EVENTS.readingsRecorded, canonicalBytes(result));
    return canonicalJson(result);
  }

  /** Records one reading: submissionJson is a ReadingSubmission, partialsJson a list ('' or '[]' for none). */
  @StringParams('submissionJson', 'partialsJson')
  @Transaction()
  @Returns('string')
  async record(ctx: Context, submissionJson: string, partialsJson: string): Promise<string> {
    const submission = parseJsonArg(submissionJson, 'submission');
    const partials = partialsJson === '' ? [] : parseJsonArg(partialsJson, 'partials');
    return this.recordBatch(ctx, JSON.stringify({ version: 1, readings: [submission], partials }));
  }

  /**
   * Builds the replay window of a device whose readings were recorded in the per-reading layout
   * (one `reading` key each, before batch records), from those records: the highest seq, its
   * time, and the seqs within the window below it. Derived from the ledger's own records only,
   * so any identity may run it; a device that already has a window is left as it is.
   */
  @StringParams('deviceId')
  @Transaction()
  @Returns('string')
  async migrateDevice(ctx: Context, deviceId: string): Promise<string> {
    const id = parseDeviceIdArg(deviceId);
    const key = windowKey(ctx, id);
    const existing = await ctx.stub.getState(key);
    if (existing !== undefined && existing !== null && existing.length > 0) {
      const w = ReplayWindow.decode(existing);
      return canonicalJson({ already: true, deviceId: id, highest: w.highest ?? null, marked: null, readings: null });
    }
    const legacy = await scan(ctx, KEY_TYPES.reading, [id]);
    if (legacy.length === 0) return canonicalJson({ already: false, deviceId: id, highest: null, marked: 0, readings: 0 });
    const records = legacy.map((e) => parseBytes<ProvenanceRecord>(e.value));
    // Keys sort by zero-padded seq: the last is the highest.
    const top = records[records.length - 1] as ProvenanceRecord;
    const window = ReplayWindow.empty();
    window.accept(top.seq, top.t);
    let marked = 1;
    for (const r of records) {
      if (r.seq === top.seq || window.check(r.seq) !== 'new') continue;
      window.accept(r.seq, r.t);
      marked++;
    }
    await ctx.stub.putState(key, window.encode());
    return canonicalJson({ already: false, deviceId: id, highest: top.seq, marked, readings: records.length });
  }

  /**
   * Alg. 3: verify(deviceId, "seq:N" | "t:MS" | N, hex of the canonical reading bytes, tag hex or
   * ''). Returns { verdict: 'TRUE' | 'FALSE', dataHash, record, batch? } — batch: the path from
   * the record's leaf to the root of the batch record that holds it (absent for a record of the
   * per-reading layout); throws "could not locate the record" or "signature mismatch".
   */
  @StringParams('deviceId', 'locator', 'dataHex', 'tagHex')
  @Transaction(false)
  @Returns('string')
  async verify(ctx: Context, deviceId: string, locator: string, dataHex: string, tagHex: string): Promise<string> {
    return canonicalJson(await verifyOne(new RecordLookup(ctx), deviceId, locator, dataHex, tagHex));
  }

  /**
   * Many `verify` questions in one read (the auditor coalesces the questions it has in flight):
   * questions is a JSON array of [deviceId, locator, dataHex, tagHex], at most MAX_MANY. Answers a
   * JSON array, one entry per question in order: { answer } — exactly what `verify` answers — or
   * { error: { code, message } } — what `verify` throws for it. Only a malformed `questions`
   * throws.
   */
  @StringParams('questions')
  @Transaction(false)
  @Returns('string')
  async verifyMany(ctx: Context, questions: string): Promise<string> {
    const qs = parseManyArg(questions, 4);
    const lookup = new RecordLookup(ctx);
    const out: ManyEntry<VerifyAnswer>[] = [];
    for (const [deviceId, locator, dataHex, tagHex] of qs)
      out.push(await manyEntry(() => verifyOne(lookup, deviceId as string, locator as string, dataHex as string, tagHex as string)));
    return canonicalJson(out);
  }

  /** The provenance record under (deviceId, seq); PROV_ERR_RECORD_NOT_FOUND if none. */
  @StringParams('deviceId', 'seq')
  @Transaction(false)
  @Returns('string')
  async get(ctx: Context, deviceId: string, seq: string): Promise<string> {
    return canonicalJson((await recordedAt(ctx, deviceId, seq)).found.record);
  }

  /**
   * Many `get` questions in one read (an edge tracing the readings a resubmitted batch found
   * already recorded): questions is a JSON array of [deviceId, seq], at most MAX_MANY; answers one
   * { answer } (the record `get` answers) or { error: { code, message } } per question, in order,
   * as `verifyMany` does.
   */
  @StringParams('questions')
  @Transaction(false)
  @Returns('string')
  async getMany(ctx: Context, questions: string): Promise<string> {
    const qs = parseManyArg(questions, 2);
    const lookup = new RecordLookup(ctx);
    const out: ManyEntry<ProvenanceRecord>[] = [];
    for (const [deviceId, seq] of qs)
      out.push(await manyEntry(async () => (await recordedAt(ctx, deviceId as string, seq as string, lookup)).found.record));
    return canonicalJson(out);
  }

  /** The stored partial signature under a digest; PROV_ERR_RECORD_NOT_FOUND if none. */
  @StringParams('partialDigest')
  @Transaction(false)
  @Returns('string')
  async getPartial(ctx: Context, partialDigest: string): Promise<string> {
    const digest = parseHexArg(partialDigest, 'partialDigest', 32);
    const stored = await getJson<StoredPartial>(ctx, ctx.stub.createCompositeKey(KEY_TYPES.partial, [digest]));
    if (stored === undefined) throw contractError(CONTRACT_ERRORS.RECORD_NOT_FOUND, `could not locate the partial ${digest}`);
    return canonicalJson(stored);
  }

  /**
   * Records a board's SIG body (issue 16; docs/contracts.md "Epoch signatures"): bodyHex a kind-1
   * (epoch segment) or kind-2 (key-set move) body, leavesHex '' or the segment's count x 32-byte
   * dataHashes as the submitter holds them (all-zero for one it lacks). Only a registered edge
   * calls it. The LMS signature is checked under the device's registered key (key set 0) or the key
   * set the board vouched for; a one-time key signs one body only. An epoch segment's leaves are
   * kept when they lead to the signed root, and its seqs are classified against the readings the
   * ledger holds: verified, missing (signed, never recorded) or contradicted (recorded, not what
   * the board signed). Answers a RecordSignatureResult; 'refused' writes nothing.
   */
  @StringParams('deviceId', 'bodyHex', 'leavesHex')
  @Transaction()
  @Returns('string')
  async recordSignature(ctx: Context, deviceId: string, bodyHex: string, leavesHex: string): Promise<string> {
    const id = parseDeviceIdArg(deviceId);
    const caller = callerOf(ctx);
    callerEdgeId(await edgeOfIdentity(ctx, caller), caller, 'record epoch signatures');
    let bytes: Uint8Array;
    let body: SignatureBody;
    try {
      bytes = fromHex(String(bodyHex ?? ''));
      body = decodeSignatureBody(bytes);
    } catch (e) {
      throw contractError(CONTRACT_ERRORS.BAD_INPUT, `body is not a SIG body: ${e instanceof Error ? e.message : String(e)}`, {
        field: 'body',
      });
    }
    if (body.kind === 'epoch' && body.segment.count > MAX_SEGMENT_READINGS)
      throw contractError(CONTRACT_ERRORS.BAD_INPUT, `a segment of ${body.segment.count} readings is more than ${MAX_SEGMENT_READINGS}`, {
        field: 'body',
      });
    const submitted = body.kind === 'epoch' ? parseLeavesArg(String(leavesHex ?? ''), body.segment.count) : [];
    const device = await loadDevice(ctx, id);
    if (device === undefined) throw contractError(CONTRACT_ERRORS.DEVICE_NOT_FOUND, `could not find the device ${id}`, { deviceId: id });
    const txId = ctx.stub.getTxID();
    const q = signatureLeaf(body.signature);
    const signerSet = body.kind === 'epoch' ? body.keySet : body.keySet - 1;
    const base = { deviceId: id, kind: body.kind, keySet: body.keySet, q, txId };
    const bodyHash = toHex(sha256(bytes));
    const answer = (r: RecordSignatureResult): string => {
      ctx.stub.setEvent(EVENTS.signatureRecorded, canonicalBytes(r));
      return canonicalJson(r);
    };
    const key = await signingKeyOf(ctx, device, signerSet);
    if (key === undefined)
      return answer({
        ...base,
        status: 'refused',
        reason: 'NO_SIGNING_KEY',
        message: `device ${id} has no registered signing key for key set ${signerSet} yet`,
      });
    const ok = body.kind === 'epoch' ? verifyEpochBody(sha256, fromHex(key), id, body) : verifyKeySetBody(sha256, fromHex(key), id, body);
    if (!ok)
      return answer({
        ...base,
        status: 'refused',
        reason: 'BAD_SIGNATURE',
        message: `the LMS signature does not verify under key set ${signerSet} of ${id}`,
      });
    const leafKey = ctx.stub.createCompositeKey(KEY_TYPES.sigLeaf, [id, pad(signerSet, 10), pad(q, 10)]);
    const spent = await getJson<string>(ctx, leafKey);
    if (spent !== undefined && spent !== bodyHash)
      return answer({
        ...base,
        status: 'refused',
        reason: 'KEY_REUSED',
        message: `one-time key ${q} of key set ${signerSet} of ${id} signed another body before: the board reused a one-time key`,
      });
    if (body.kind === 'keyset') {
      if (spent === undefined) {
        const stored: StoredKeySet = { deviceId: id, keySet: body.keySet, publicKey: toHex(body.publicKey), body: toHex(bytes), txId };
        await putJson(ctx, ctx.stub.createCompositeKey(KEY_TYPES.sigKeySet, [id, pad(body.keySet, 10)]), stored);
        await putJson(ctx, leafKey, bodyHash);
      }
      return answer({ ...base, status: spent === undefined ? 'recorded' : 'duplicate' });
    }
    const seg = body.segment;
    const last = seg.firstSeq + seg.count - 1;
    const records = await new RecordLookup(ctx).inRange(id, seg.firstSeq, last);
    const recorded = new Map<number, string>();
    for (const [seq, r] of records) recorded.set(seq, r.dataHash);
    const sigKey = epochSigKey(id, last);
    const existing = spent === undefined ? undefined : await getJson<StoredEpochSignature>(ctx, sigKey);
    const leaves =
      existing !== undefined && existing.status === 'complete'
        ? (existing.leaves.match(/.{64}/g) ?? undefined)
        : resolveLeaves(sha256, seg.root, submitted, recorded, seg.firstSeq);
    const record = epochRecord(id, body, toHex(bytes), q, leaves, recorded, existing?.txId ?? txId);
    // Written when new, or when a resubmission resolves leaves the first one could not.
    const write = existing === undefined || (existing.status === 'unresolved' && record.status === 'complete');
    if (write) {
      await putJson(ctx, sigKey, record);
      if (spent === undefined) await putJson(ctx, leafKey, bodyHash);
    }
    const c = classifySegment(leaves, recorded, seg.firstSeq, seg.count);
    return answer({
      ...base,
      status: existing === undefined ? 'recorded' : 'duplicate',
      segment: {
        epoch: seg.epoch,
        firstSeq: seg.firstSeq,
        count: seg.count,
        status: record.status,
        verified: c.verified,
        missing: c.missing,
        contradicted: c.contradicted,
      },
    });
  }

  /**
   * A recorded reading's level (issue 16): 'independently-verifiable' with the public evidence
   * (registered key, key-set chain, epoch signature, Merkle path) that shared/crypto/evidence.ts
   * checks, or 'ledger-attested' with the reason. PROV_ERR_RECORD_NOT_FOUND if no reading is
   * recorded under (deviceId, seq).
   */
  @StringParams('deviceId', 'seq')
  @Transaction(false)
  @Returns('string')
  async signatureLevel(ctx: Context, deviceId: string, seq: string): Promise<string> {
    return canonicalJson(await levelAt(ctx, new RecordLookup(ctx), new LevelReads(ctx), deviceId, seq));
  }

  /**
   * Many `signatureLevel` questions in one read: questions is a JSON array of [deviceId, seq], at
   * most MAX_MANY; answers one { answer } or { error: { code, message } } per question, in order,
   * as `verifyMany` does.
   */
  @StringParams('questions')
  @Transaction(false)
  @Returns('string')
  async signatureLevelMany(ctx: Context, questions: string): Promise<string> {
    const qs = parseManyArg(questions, 2);
    const lookup = new RecordLookup(ctx);
    const out: ManyEntry<LevelAnswer>[] = [];
    const reads = new LevelReads(ctx);
    for (const [deviceId, seq] of qs) out.push(await manyEntry(() => levelAt(ctx, lookup, reads, deviceId as string, seq as string)));
    return canonicalJson(out);
  }

  /**
   * The device's epoch signatures and what they cover (issue 16): every signed segment with its
   * status, missing and contradicted seqs (checked against the readings recorded now), and the
   * recorded readings no signature covers, by epoch ("never signed" — or not yet).
   */
  @StringParams('deviceId')
  @Transaction(false)
  @Returns('string')
  async signatureReport(ctx: Context, deviceId: string): Promise<string> {
    const id = parseDeviceIdArg(deviceId);
    const lookup = new RecordLookup(ctx);
    const [start, end] = epochSigRange(id, 0, 0x1_0000_0000);
    const segments: StoredEpochSignature[] = (await drain((await ctx.stub.getStateByRange(start, end)) as unknown as Iter)).map((kv) =>
      parseBytes<StoredEpochSignature>(kv.value),
    );
    const [rs, re] = seqIndexRange(id, 0, 0x1_0000_0000);
    let maxSeq = -1;
    for (const { value } of await drain((await ctx.stub.getStateByRange(rs, re)) as unknown as Iter))
      maxSeq = Math.max(maxSeq, decodeIndexRun(value).maxSeq);
    const all = maxSeq < 0 ? new Map<number, ProvenanceRecord>() : await lookup.inRange(id, 0, maxSeq);
    const covered = new Set<number>();
    const signed = segments.map((s) => {
      const recorded = new Map<number, string>();
      for (let i = 0; i < s.count; i++) {
        covered.add(s.firstSeq + i);
        const r = all.get(s.firstSeq + i);
        if (r !== undefined) recorded.set(r.seq, r.dataHash);
      }
      const c = classifySegment(s.status === 'complete' ? (s.leaves.match(/.{64}/g) ?? []) : undefined, recorded, s.firstSeq, s.count);
      return {
        epoch: s.epoch,
        firstSeq: s.firstSeq,
        count: s.count,
        keySet: s.keySet,
        q: s.q,
        status: s.status,
        txId: s.txId,
        verified: c.verified,
        missing: c.missing,
        contradicted: c.contradicted,
      };
    });
    const unsigned = new Map<number, number[]>();
    for (const [seq, r] of [...all].sort((a, b) => a[0] - b[0])) {
      if (covered.has(seq)) continue;
      const list = unsigned.get(r.epoch) ?? [];
      list.push(seq);
      unsigned.set(r.epoch, list);
    }
    return canonicalJson({
      deviceId: id,
      signed,
      unsigned: [...unsigned].map(([epoch, seqs]) => ({ epoch, count: seqs.length, seqs })),
      verified: signed.reduce((a, s) => a + s.verified, 0),
      recorded: all.size,
    });
  }

  /** Judges the batch's partials not yet on the ledger; stores the valid ones. */
  private async storePartials(ctx: Context, view: BatchView, partials: readonly unknown[], txId: string): Promise<RejectedPartial[]> {
    const rejected: RejectedPartial[] = [];
    let config: LedgerConfig | undefined;
    for (const json of partials) {
      const digest = isPlainObject(json) && typeof json['partialDigest'] === 'string' ? json['partialDigest'].toLowerCase() : '';
      // A digest already validated is not re-verified; a refused one may be retried by a valid partial.
      if (digest !== '' && (await view.partial(digest))?.ok === true) continue;
      if (config === undefined) {
        config = await view.loadConfig();
        await ready();
      }
      const outcome = judgePartial(json, config, txId, view.callerEdgeId);
      if (outcome.ok) {
        await ctx.stub.putState(
          ctx.stub.createCompositeKey(KEY_TYPES.partial, [outcome.partial.partialDigest]),
          canonicalBytes(outcome.partial),
        );
      } else {
        rejected.push({ message: outcome.message, partialDigest: outcome.partialDigest, reason: outcome.reason });
      }
      // Readings of this batch see the outcome (Fabric reads do not see the tx's own writes).
      if (outcome.ok || outcome.partialDigest !== '')
        view.partials.set(outcome.ok ? outcome.partial.partialDigest : outcome.partialDigest, outcome);
    }
    return rejected;
  }
}

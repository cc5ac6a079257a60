/**
 * Data Provenance contract (talk, Algorithm 3): records batches of signed readings (one
 * transaction, many readings, a verdict per reading) and verifies data against the records.
 *
 * Rejected readings are NOT written to state: a forged reading must not occupy the (deviceId,
 * seq) key of the genuine one. They are returned in the result and carried in the transaction's
 * ReadingsRecorded event, so the block holds them as evidence.
 */
import { CONTRACTS } from '../client.js';
import { ready } from '../../shared/crypto/bbs.js';
import {
  EVENTS,
  MAX_BATCH_PARTIALS,
  MAX_BATCH_READINGS,
  type BatchResult,
  type ProvenanceRecord,
  type RejectedReading,
} from '../../shared/records.js';
// Context is a value import on purpose: decorator metadata must name the class (see fabric.ts).
// eslint-disable-next-line @typescript-eslint/consistent-type-imports
import { Contract, Info, Returns, StringParams, Transaction, Context } from './fabric.js';
import { CONTRACT_ERRORS, contractError } from './errors.js';
import { KEY_TYPES, readingAtAttrs, readingAttrs } from './keys.js';
import { isPlainObject, parseDeviceIdArg, parseHexArg, parseIntArg, parseJsonArg } from './logic/args.js';
import { canonicalBytes, canonicalJson } from './logic/canonical.js';
import { judgePartial, type PartialOutcome, type RejectedPartial, type StoredPartial } from './logic/partials.js';
import { judgeReading, type ReadingLedgerView } from './logic/readings.js';
import { PreparedMac } from './logic/mac.js';
import { provenanceRecordJson } from './logic/record-json.js';
import { dataHashOf, decideVerify, parseLocator } from './logic/verify.js';
import type { DeviceRecord, LedgerConfig } from './logic/registration.js';
import { getJson, loadConfig, loadDevice, loadDeviceKeys, parseBytes, scan } from './state.js';
import { clockSkewOf } from './logic/clock.js';
import { DOMAIN_READING } from '../../shared/crypto/domains.js';

/** Batch result with the partials the batch carried that were refused. */
export interface RecordBatchResult extends BatchResult {
  readonly rejectedPartials: readonly RejectedPartial[];
}

function bad(message: string, field: string): Error {
  return contractError(CONTRACT_ERRORS.BAD_INPUT, message, { field });
}

function envelope(batchJson: string): { readings: unknown[]; partials: unknown[] } {
  const json = parseJsonArg(batchJson, 'batch');
  if (!isPlainObject(json)) throw bad('batch must be an object { version, readings, partials }', 'batch');
  if (json['version'] !== 1) throw bad('batch.version must be 1', 'version');
  const readings = json['readings'];
  if (!Array.isArray(readings) || readings.length === 0) throw bad('batch.readings must be a non-empty list', 'readings');
  if (readings.length > MAX_BATCH_READINGS) throw bad(`batch.readings: at most ${MAX_BATCH_READINGS}`, 'readings');
  const partials = json['partials'] ?? [];
  if (!Array.isArray(partials) || partials.length > MAX_BATCH_PARTIALS)
    throw bad(`batch.partials must be a list of at most ${MAX_BATCH_PARTIALS}`, 'partials');
  return { readings, partials };
}

/** The per-transaction view over ctx.stub with per-batch caches (one lookup per device and digest). */
class BatchView implements ReadingLedgerView {
  private readonly devices = new Map<string, DeviceRecord | undefined>();
  private readonly macs = new Map<string, PreparedMac | undefined>();
  readonly partials = new Map<string, PartialOutcome | undefined>();
  private config: Promise<LedgerConfig> | undefined;
  private lastKeyDevice = '';
  private lastKeySeq = -1;
  private lastKey = '';

  constructor(private readonly ctx: Context) {}

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

  async mac(deviceId: string): Promise<PreparedMac | undefined> {
    if (!this.macs.has(deviceId)) {
      const keys = await loadDeviceKeys(this.ctx, deviceId);
      this.macs.set(deviceId, keys === undefined ? undefined : new PreparedMac(keys.kTag, DOMAIN_READING));
    }
    return this.macs.get(deviceId);
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

  /**
   * The reading key of (deviceId, seq). The replay check builds it and recordBatch writes under it
   * right after, so the last one is kept and reused rather than built twice.
   */
  readingKey(deviceId: string, seq: number): string {
    if (deviceId !== this.lastKeyDevice || seq !== this.lastKeySeq) {
      this.lastKey = this.ctx.stub.createCompositeKey(KEY_TYPES.reading, readingAttrs(deviceId, seq));
      this.lastKeyDevice = deviceId;
      this.lastKeySeq = seq;
    }
    return this.lastKey;
  }

  async recordedHash(deviceId: string, seq: number): Promise<string | undefined> {
    const bytes = await this.ctx.stub.getState(this.readingKey(deviceId, seq));
    if (bytes === undefined || bytes === null || bytes.length === 0) return undefined;
    return parseBytes<ProvenanceRecord>(bytes).dataHash;
  }
}

/** The Data Provenance contract. */
@Info({ title: 'DataProvenance', description: 'Provenance records of sensor readings (talk, Algorithm 3)' })
export class DataProvenanceContract extends Contract {
  constructor() {
    super(CONTRACTS.dataProvenance);
  }

  /**
   * Records a batch (shared/records.ts ReadingBatch JSON): every reading validated on its own;
   * the result lists the rejected ones with their reason, all others are recorded.
   */
  @StringParams('batchJson')
  @Transaction()
  @Returns('string')
  async recordBatch(ctx: Context, batchJson: string): Promise<string> {
    const { readings, partials } = envelope(batchJson);
    const txId = ctx.stub.getTxID();
    const view = new BatchView(ctx);
    const rejectedPartials = await this.storePartials(ctx, view, partials, txId);
    const inBatch = new Map<string, string>();
    const rejected: RejectedReading[] = [];
    let accepted = 0;
    for (let i = 0; i < readings.length; i++) {
      const outcome = await judgeReading(view, readings[i], i, txId, inBatch);
      if (!outcome.ok) {
        rejected.push(outcome.rejected);
        continue;
      }
      const r = outcome.record;
      await ctx.stub.putState(view.readingKey(r.deviceId, r.seq), Buffer.from(provenanceRecordJson(r)));
      await ctx.stub.putState(
        ctx.stub.createCompositeKey(KEY_TYPES.readingAt, readingAtAttrs(r.deviceId, r.t, r.seq)),
        Buffer.from(String(r.seq)),
      );
      accepted++;
    }
    const result: RecordBatchResult = { accepted, rejected, rejectedPartials, txId };
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
   * Alg. 3: verify(deviceId, "seq:N" | "t:MS" | N, hex of the canonical reading bytes, tag hex or
   * ''). Returns { verdict: 'TRUE' | 'FALSE', dataHash, record }; throws "could not locate the
   * record" or "signature mismatch".
   */
  @StringParams('deviceId', 'locator', 'dataHex', 'tagHex')
  @Transaction(false)
  @Returns('string')
  async verify(ctx: Context, deviceId: string, locator: string, dataHex: string, tagHex: string): Promise<string> {
    const id = parseDeviceIdArg(deviceId);
    const where = parseLocator(locator);
    const dataHash = dataHashOf(dataHex);
    const candidates = await this.recordsAt(ctx, id, where.by === 'seq' ? { seq: where.seq } : { t: where.t });
    return canonicalJson(decideVerify(id, where, candidates, dataHash, tagHex ?? ''));
  }

  /** The provenance record under (deviceId, seq); PROV_ERR_RECORD_NOT_FOUND if none. */
  @StringParams('deviceId', 'seq')
  @Transaction(false)
  @Returns('string')
  async get(ctx: Context, deviceId: string, seq: string): Promise<string> {
    const id = parseDeviceIdArg(deviceId);
    const n = parseIntArg(seq, 'seq', 0, 0xffffffff);
    const [record] = await this.recordsAt(ctx, id, { seq: n });
    if (record === undefined)
      throw contractError(CONTRACT_ERRORS.RECORD_NOT_FOUND, `could not locate the record of device ${id} at seq:${n}`, {
        deviceId: id,
        seq: n,
      });
    return canonicalJson(record);
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

  private async recordsAt(ctx: Context, deviceId: string, at: { seq: number } | { t: number }): Promise<ProvenanceRecord[]> {
    if ('seq' in at) {
      const record = await getJson<ProvenanceRecord>(ctx, ctx.stub.createCompositeKey(KEY_TYPES.reading, readingAttrs(deviceId, at.seq)));
      return record === undefined ? [] : [record];
    }
    const index = await scan(ctx, KEY_TYPES.readingAt, readingAtAttrs(deviceId, at.t, 0).slice(0, 2), 64);
    const out: ProvenanceRecord[] = [];
    for (const entry of index) {
      const seq = Number(new TextDecoder().decode(entry.value));
      const record = await getJson<ProvenanceRecord>(ctx, ctx.stub.createCompositeKey(KEY_TYPES.reading, readingAttrs(deviceId, seq)));
      if (record !== undefined) out.push(record);
    }
    return out;
  }

  /** Judges the batch's partials not yet on the ledger; stores the valid ones. */
  private async storePartials(ctx: Context, view: BatchView, partials: unknown[], txId: string): Promise<RejectedPartial[]> {
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
      const outcome = judgePartial(json, config, txId);
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

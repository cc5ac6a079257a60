/**
 * JSON shapes the edge and the ledger contracts exchange (BRIEF §4): the batch of signed readings
 * the edge submits to the Data Provenance contract, the provenance record the contract stores
 * per reading, and the result it returns. Bytes travel as lower-case hex.
 *
 * Parsers take untrusted input (a string or parsed JSON) and either return a checked value or
 * throw `ProvenantError('PROV_ERR_BAD_INPUT')` whose message names the field (with its index
 * in the batch). They check shapes only; whether a reading is genuine is the contract's question.
 */
import { ProvenantError } from './errors.js';
import { toHex } from './encoding/hex.js';
import { encodeReading } from './encoding/reading.js';
import type { PartialSignatureJson } from './crypto/credential.js';
import type { ReasonCode } from './crypto/verdict.js';
import type { SignedReading } from './types.js';

/** Version of the batch format. */
export const BATCH_VERSION = 1;
/** Most readings one batch (one transaction) may carry. */
export const MAX_BATCH_READINGS = 10_000;
/** Most partial signatures one batch may carry. */
export const MAX_BATCH_PARTIALS = 1_000;
/** Most hops in a reading's path. */
export const MAX_PATH_HOPS = 8;
/** Longest hop of a path (printable ASCII characters). */
export const MAX_HOP_LENGTH = 128;
/** Error code of every parser here. */
export const ERR_INVALID_RECORD = 'PROV_ERR_BAD_INPUT';

/** Chaincode event names, one event per transaction (Fabric keeps only the last one set). */
export const EVENTS = {
  /** DeviceRegistration.configure: the attribute authority and issuer key were stored. */
  configured: 'ProvenantConfigured',
  deviceRegistered: 'DeviceRegistered',
  deviceUpdated: 'DeviceUpdated',
  deviceRevoked: 'DeviceRevoked',
  /** DeviceRegistration.registerEdge: an edge identity was bound to an edgeId. */
  edgeRegistered: 'EdgeRegistered',
  edgeRevoked: 'EdgeRevoked',
  /** DataProvenance.recordBatch / record: payload {@link ReadingsRecordedEvent}. */
  readingsRecorded: 'ReadingsRecorded',
  /** TrafficProfileProvenance.submitProfile, profile consistent with the model. */
  profileRecorded: 'TrafficProfileRecorded',
  /** TrafficProfileProvenance.submitProfile, at least one feature beyond its threshold. */
  trafficDiscrepancy: 'TrafficDiscrepancy',
  /** TrafficProfileProvenance.submitProfiles: an edge's profiles of a window (count, rejections, the discrepancies). */
  profilesRecorded: 'TrafficProfilesRecorded',
  /** TrafficProfileProvenance.judgeSite: the final verdicts of a site's (device class's) profiles of one window. */
  trafficSiteJudged: 'TrafficSiteJudged',
  /** TrafficProfileProvenance.acknowledgeChange: the authority re-anchored a device's traffic model. */
  profileChangeAcknowledged: 'ProfileChangeAcknowledged',
  /** DataProvenance.recordSignature: a board's epoch signature or key-set move was verified and stored (or refused: reason). */
  signatureRecorded: 'SignatureRecorded',
} as const;

/** One signed reading as the edge forwards it. */
export interface ReadingSubmission {
  /** Hex of the canonical reading bytes (shared/encoding/reading.ts). */
  readonly canonical: string;
  /** Hex of the device's tag, HMAC-SHA256(K_IoT, canonical), 32 bytes. */
  readonly tag: string;
  /** The edge that received it (must match the partial signature's edge). */
  readonly edgeId: string;
  /** Edge receive time, ms since the Unix epoch. */
  readonly receivedAt: number;
  /** Hops the reading took, e.g. ['device:d1', 'edge:e1', 'bridge:b1']. */
  readonly path: readonly string[];
}

/** A batch: one transaction, many readings, plus the partial signatures they need the first time. */
export interface ReadingBatch {
  readonly version: typeof BATCH_VERSION;
  readonly readings: readonly ReadingSubmission[];
  /** Partial signatures (shared/crypto/credential.ts JSON form) not yet on the ledger. */
  readonly partials: readonly PartialSignatureJson[];
}

/** The provenance record the ledger stores per accepted reading (BRIEF §4). */
export interface ProvenanceRecord {
  /** Reading v2: the board's boot count (absent on records of version 1 readings). */
  readonly bootCount?: number;
  readonly dataHash: string;
  readonly deviceId: string;
  readonly edgeId: string;
  readonly epoch: number;
  readonly partialDigest: string;
  readonly path: readonly string[];
  readonly receivedAt: number;
  readonly seq: number;
  /** Only accepted readings are stored, so this is always 'valid'. */
  readonly status: 'valid';
  readonly t: number;
  readonly tag: string;
  /** The transaction that recorded it (for inclusion proofs). */
  readonly txId: string;
  /** Reading v2: ms since that boot on the board's own clock (absent on records of version 1 readings). */
  readonly uptimeMs?: number;
}

/** A reading the contract refused, with its reason (shared/crypto/verdict.ts REASONS). */
export interface RejectedReading {
  /** Position in the submitted batch. */
  readonly index: number;
  /** From the canonical bytes when they decode, else ''. */
  readonly deviceId: string;
  /** From the canonical bytes when they decode, else -1. */
  readonly seq: number;
  readonly reason: ReasonCode;
  readonly message: string;
  /**
   * REPLAY of exactly the record already on the ledger (same dataHash): the edge resent a reading
   * that is committed, so it may treat it as committed.
   */
  readonly duplicate?: true;
}

/** What recordBatch/record return: every reading not listed in `rejected` was recorded. */
export interface BatchResult {
  readonly txId: string;
  readonly accepted: number;
  readonly rejected: readonly RejectedReading[];
}

/** Payload of the {@link EVENTS.readingsRecorded} event. */
export type ReadingsRecordedEvent = BatchResult;

// ---------------------------------------------------------------- helpers

function invalid(message: string, field: string): ProvenantError {
  return new ProvenantError(ERR_INVALID_RECORD, message, { field });
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

const HEX = /^(?:[0-9a-fA-F]{2})+$/;
const HOP = new RegExp(`^[\\x21-\\x7e]{1,${MAX_HOP_LENGTH}}$`);
const IDENT = /^[\x21-\x7e]{1,64}$/;

function fromJsonText(input: unknown, what: string): unknown {
  if (typeof input !== 'string') return input;
  try {
    return JSON.parse(input) as unknown;
  } catch (err) {
    throw invalid(`${what}: not JSON (${(err as Error).message})`, what);
  }
}

/** Checks a hex field and returns it lower-cased; `bytes` fixes its decoded length. */
export function hexField(value: unknown, field: string, bytes?: number): string {
  if (typeof value !== 'string' || !HEX.test(value)) throw invalid(`${field} must be a non-empty even-length hex string`, field);
  if (bytes !== undefined && value.length !== bytes * 2) throw invalid(`${field} must be ${bytes} bytes (${bytes * 2} hex digits)`, field);
  return value.toLowerCase();
}

function timeField(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw invalid(`${field} must be an integer ≥ 0 (ms)`, field);
  return value;
}

// ---------------------------------------------------------------- parsers

/** Checks one reading submission (`at` names it in messages, e.g. 'readings[3]'). */
export function parseReadingSubmission(input: unknown, at = 'reading'): ReadingSubmission {
  if (!isObject(input)) throw invalid(`${at}: expected an object`, at);
  const path = input['path'];
  if (!Array.isArray(path) || path.length === 0 || path.length > MAX_PATH_HOPS) {
    throw invalid(`${at}.path must be a list of 1..${MAX_PATH_HOPS} hops`, `${at}.path`);
  }
  path.forEach((hop, i) => {
    if (typeof hop !== 'string' || !HOP.test(hop)) throw invalid(`${at}.path[${i}] must be 1..128 printable characters`, `${at}.path`);
  });
  const edgeId = input['edgeId'];
  if (typeof edgeId !== 'string' || !IDENT.test(edgeId))
    throw invalid(`${at}.edgeId must be 1..64 printable ASCII characters`, `${at}.edgeId`);
  return {
    canonical: hexField(input['canonical'], `${at}.canonical`),
    tag: hexField(input['tag'], `${at}.tag`, 32),
    edgeId,
    receivedAt: timeField(input['receivedAt'], `${at}.receivedAt`),
    path: path as string[],
  };
}

/** Checks a batch (a JSON string or parsed JSON). Partials are shape-checked by the contract. */
export function parseReadingBatch(input: unknown): ReadingBatch {
  const json = fromJsonText(input, 'batch');
  if (!isObject(json)) throw invalid('batch: expected an object { version, readings, partials }', 'batch');
  if (json['version'] !== BATCH_VERSION) throw invalid(`batch.version must be ${BATCH_VERSION}`, 'version');
  const readings = json['readings'];
  if (!Array.isArray(readings) || readings.length === 0) throw invalid('batch.readings must be a non-empty list', 'readings');
  if (readings.length > MAX_BATCH_READINGS) throw invalid(`batch.readings: at most ${MAX_BATCH_READINGS} per batch`, 'readings');
  const partials = json['partials'] ?? [];
  if (!Array.isArray(partials)) throw invalid('batch.partials must be a list', 'partials');
  if (partials.length > MAX_BATCH_PARTIALS) throw invalid(`batch.partials: at most ${MAX_BATCH_PARTIALS} per batch`, 'partials');
  partials.forEach((p, i) => {
    if (!isObject(p)) throw invalid(`batch.partials[${i}]: expected an object`, 'partials');
  });
  return {
    version: BATCH_VERSION,
    readings: readings.map((r, i) => parseReadingSubmission(r, `readings[${i}]`)),
    partials: partials as PartialSignatureJson[],
  };
}

/** The batch as the JSON text the contract takes. */
export function encodeReadingBatch(batch: ReadingBatch): string {
  return JSON.stringify({ version: BATCH_VERSION, readings: batch.readings, partials: batch.partials });
}

/** Builds a submission from a signed reading (the edge's side). */
export function toSubmission(signed: SignedReading, edgeId: string, receivedAt: number, path: readonly string[]): ReadingSubmission {
  return parseReadingSubmission({
    canonical: toHex(encodeReading(signed.reading)),
    tag: toHex(signed.tag),
    edgeId,
    receivedAt,
    path: [...path],
  });
}

/** Checks a batch result (what the ledger returned for recordBatch / record). */
export function parseBatchResult(input: unknown): BatchResult {
  const json = fromJsonText(input, 'result');
  if (!isObject(json)) throw invalid('result: expected an object', 'result');
  const { txId, accepted, rejected } = json;
  if (typeof txId !== 'string' || txId.length === 0) throw invalid('result.txId must be a non-empty string', 'txId');
  if (typeof accepted !== 'number' || !Number.isSafeInteger(accepted) || accepted < 0)
    throw invalid('result.accepted must be a count', 'accepted');
  if (!Array.isArray(rejected)) throw invalid('result.rejected must be a list', 'rejected');
  rejected.forEach((r, i) => {
    if (!isObject(r) || typeof r['index'] !== 'number' || typeof r['reason'] !== 'string' || typeof r['message'] !== 'string') {
      throw invalid(`result.rejected[${i}] must be { index, deviceId, seq, reason, message }`, 'rejected');
    }
  });
  return { txId, accepted, rejected: rejected as RejectedReading[] };
}

/** Checks a stored provenance record (what DataProvenance.get returns). */
export function parseProvenanceRecord(input: unknown): ProvenanceRecord {
  const json = fromJsonText(input, 'record');
  if (!isObject(json)) throw invalid('record: expected an object', 'record');
  const str = (k: string): string => {
    const v = json[k];
    if (typeof v !== 'string' || v.length === 0) throw invalid(`record.${k} must be a non-empty string`, k);
    return v;
  };
  const int = (k: string): number => {
    const v = json[k];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw invalid(`record.${k} must be an integer ≥ 0`, k);
    return v;
  };
  const path = json['path'];
  if (!Array.isArray(path) || !path.every((h) => typeof h === 'string')) throw invalid('record.path must be a list of strings', 'path');
  if (json['status'] !== 'valid') throw invalid("record.status must be 'valid'", 'status');
  const v2 = json['bootCount'] !== undefined || json['uptimeMs'] !== undefined;
  return {
    ...(v2 ? { bootCount: int('bootCount') } : {}),
    dataHash: hexField(json['dataHash'], 'record.dataHash', 32),
    deviceId: str('deviceId'),
    edgeId: str('edgeId'),
    epoch: int('epoch'),
    partialDigest: hexField(json['partialDigest'], 'record.partialDigest', 32),
    path: path as string[],
    receivedAt: int('receivedAt'),
    seq: int('seq'),
    status: 'valid',
    t: int('t'),
    tag: hexField(json['tag'], 'record.tag', 32),
    txId: str('txId'),
    ...(v2 ? { uptimeMs: int('uptimeMs') } : {}),
  };
}

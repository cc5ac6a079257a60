/**
 * JSON schemas of the auditor HTTP API: fastify validates requests and serialises responses with
 * them, and @fastify/swagger turns them into the OpenAPI document (/openapi.json, /docs/json).
 * Hashes are lower-case hex; reading bytes are hex. Request bodies carry examples that their own
 * schema accepts (test/auditor/openapi-examples.test.ts checks every one).
 */
import { MAX_IDENTIFIER_LENGTH } from '../../../shared/crypto/presentation.js';
import { encodeReading, MAX_CHANNELS, MAX_READING_BYTES } from '../../../shared/encoding/reading.js';
import { formAwareBodyLimit } from '../../../shared/http-limits.js';

/** The reading the examples show (a temperature board of the demo). */
const EXAMPLE_READING = {
  deviceId: 'plant3-t-0001',
  seq: 42,
  t: 1767225600000,
  epoch: 490896,
  batteryMv: 3012,
  channels: [{ id: 1, scale: 2, value: 2150 }],
} as const;
const EXAMPLE_CANONICAL = Buffer.from(
  encodeReading({ ...EXAMPLE_READING, partialDigest: new Uint8Array(32), channels: [...EXAMPLE_READING.channels] }),
).toString('hex');

/** Error body of every failure: a stable code and a message naming the problem. */
export const errorBody = {
  type: 'object',
  required: ['code', 'message'],
  properties: {
    code: { type: 'string', pattern: '^PROV_ERR_' },
    message: { type: 'string' },
    details: { type: 'object', additionalProperties: true },
  },
} as const;

/** Error responses of authenticated routes. */
export const errorResponses = { 400: errorBody, 401: errorBody, 404: errorBody, 500: errorBody, 502: errorBody } as const;

const hex64 = { type: 'string', pattern: '^[0-9a-fA-F]{64}$' } as const;

/** A chain head {height, hash}. */
export const chainHead = {
  type: 'object',
  required: ['height', 'hash'],
  additionalProperties: false,
  properties: { height: { type: 'integer', minimum: 1 }, hash: hex64 },
} as const;

const readingObject = {
  type: 'object',
  description: 'the reading as JSON (partialDigest hex), encoded canonically by the auditor',
  required: ['deviceId', 'seq', 't', 'epoch', 'partialDigest', 'batteryMv', 'channels'],
  properties: {
    deviceId: { type: 'string' },
    seq: { type: 'integer' },
    t: { type: 'integer' },
    epoch: { type: 'integer' },
    partialDigest: hex64,
    batteryMv: { type: 'integer' },
    channels: {
      type: 'array',
      maxItems: MAX_CHANNELS,
      items: {
        type: 'object',
        required: ['id', 'scale', 'value'],
        properties: { id: { type: 'integer' }, scale: { type: 'integer' }, value: { type: 'integer' } },
      },
    },
  },
} as const;

const submissionObject = {
  type: 'object',
  description: 'a submission as the edge forwards it; its tag is checked unless the request gives one',
  required: ['canonical'],
  properties: { canonical: { type: 'string', pattern: '^([0-9a-fA-F]{2})+$' }, tag: hex64 },
} as const;

const widest = Number.MIN_SAFE_INTEGER; // the longest integer text a valid field can have
const longestHex64 = 'f'.repeat(64);
/**
 * The auditor's request body limit: POST /verify with every field at its widest (deviceId of
 * MAX_IDENTIFIER_LENGTH characters that JSON escapes, data as whichever of its three forms is
 * longest: hex of MAX_READING_BYTES, a submission, or the reading as JSON with MAX_CHANNELS
 * channels), URL-encoded by the console's form at worst. Every other route's body is smaller.
 */
export const AUDITOR_BODY_LIMIT = (() => {
  const id = '"'.repeat(MAX_IDENTIFIER_LENGTH);
  const canonical = 'f'.repeat(2 * MAX_READING_BYTES);
  const channel = { id: widest, scale: widest, value: widest };
  const forms = [
    canonical,
    { canonical, tag: longestHex64 },
    {
      deviceId: id,
      seq: widest,
      t: widest,
      epoch: widest,
      partialDigest: longestHex64,
      batteryMv: widest,
      bootCount: widest,
      uptimeMs: widest,
      channels: Array.from({ length: MAX_CHANNELS }, () => channel),
    },
  ];
  const data = forms.reduce((a, b) => (JSON.stringify(b).length > JSON.stringify(a).length ? b : a));
  return formAwareBodyLimit({
    deviceId: id,
    seq: widest,
    timestamp: widest,
    data,
    tag: longestHex64,
    trustedHead: { height: widest, hash: longestHex64 },
  });
})();

/** POST /verify body. */
export const verifyBody = {
  type: 'object',
  required: ['deviceId', 'data'],
  additionalProperties: false,
  properties: {
    deviceId: { type: 'string', minLength: 1, maxLength: 64 },
    seq: { type: 'integer', minimum: 0, maximum: 0xffffffff, description: 'sequence number (give seq or timestamp)' },
    timestamp: {
      type: 'integer',
      minimum: 0,
      maximum: Number.MAX_SAFE_INTEGER,
      description: 'device timestamp, ms since 1970 (give seq or timestamp)',
    },
    data: {
      anyOf: [
        { type: 'string', pattern: '^([0-9a-fA-F]{2})+$', description: 'canonical reading bytes, hex' },
        submissionObject,
        readingObject,
      ],
    },
    tag: { ...hex64, description: "the tag presented with the data (Alg. 3's device.sig); omitted: the hash alone decides" },
    trustedHead: { ...chainHead, description: 'a head saved earlier: the evidence must extend it' },
  },
  examples: [
    { deviceId: EXAMPLE_READING.deviceId, seq: EXAMPLE_READING.seq, data: EXAMPLE_CANONICAL },
    { deviceId: EXAMPLE_READING.deviceId, timestamp: EXAMPLE_READING.t, data: { canonical: EXAMPLE_CANONICAL, tag: '5a'.repeat(32) } },
    {
      deviceId: EXAMPLE_READING.deviceId,
      seq: EXAMPLE_READING.seq,
      data: { ...EXAMPLE_READING, partialDigest: '00'.repeat(32), channels: [...EXAMPLE_READING.channels] },
    },
  ],
} as const;

const proofCheck = {
  type: 'object',
  required: ['ok'],
  properties: { ok: { anyOf: [{ type: 'boolean' }, { type: 'string', enum: ['unchecked'] }] }, reason: { type: 'string' } },
} as const;

/** POST /verify answer: Algorithm 3's verdict and its evidence. */
export const verifyResult = {
  type: 'object',
  required: ['verdict', 'genuine', 'deviceId', 'locator', 'dataHash', 'message'],
  properties: {
    verdict: { type: 'string', enum: ['TRUE', 'FALSE', 'NOT_FOUND', 'SIGNATURE_MISMATCH', 'UNPROVEN'] },
    genuine: { type: 'boolean', description: 'TRUE and an inclusion proof that did not fail' },
    deviceId: { type: 'string' },
    locator: { type: 'string', description: '"seq:N" or "t:MS"' },
    dataHash: { type: 'string' },
    message: { type: 'string' },
    dbStatus: { type: 'string', description: 'status written to the provenance database, when it holds the data' },
    independence: {
      type: 'string',
      enum: ['ledger-attested', 'independently-verifiable'],
      description:
        "ledger-attested (the ledger's record and its inclusion proof) or independently-verifiable (the board's epoch signature covers these bytes)",
    },
    signature: {
      type: 'object',
      additionalProperties: true,
      description:
        "the reading's level from the ledger: level, reason, segment, and when independently verifiable the evidence (registered LMS key, key-set bodies, epoch signature, Merkle path) for provenant verify --offline and the auditor's own check of it",
    },
    evidence: {
      type: 'object',
      properties: {
        record: { type: 'object', additionalProperties: true, description: "the ledger's provenance record" },
        txId: { type: 'string' },
        blockNumber: { type: 'integer' },
        proofCheck,
        consistency: proofCheck,
        head: chainHead,
        proof: {
          type: 'object',
          additionalProperties: true,
          description: 'the inclusion proof (embedded: Merkle paths; Fabric: the block and later headers)',
        },
        batch: {
          type: 'object',
          additionalProperties: true,
          description: "the record's path to its batch root, and the check that the proven transaction wrote that root",
        },
        partial: {
          type: 'object',
          properties: {
            partialDigest: { type: 'string' },
            txId: { type: 'string', description: 'the transaction that stored the partial signature' },
            issuerPk: { type: 'string', description: 'hex of the issuer key the BBS proof was verified under' },
            keyFrom: { type: 'string', enum: ['pinned', 'ledger-config'] },
            check: proofCheck,
          },
          description: "the auditor's own check of the partial signature: bound to the record, BBS proof re-verified, a proven write",
        },
      },
    },
  },
} as const;

const storedReading = {
  type: 'object',
  properties: {
    dataHash: { type: 'string' },
    deviceId: { type: 'string' },
    seq: { type: 'integer' },
    t: { type: 'integer' },
    epoch: { type: 'integer' },
    canonical: { type: 'string', description: 'hex' },
    values: { type: 'object', additionalProperties: true, description: 'decoded: channels, batteryMv and any later-version fields' },
    tag: { type: 'string' },
    edgeId: { type: 'string' },
    receivedAt: { type: 'integer' },
    path: { type: 'array', items: { type: 'string' } },
    status: {
      type: 'string',
      description: 'committed | rejected (the ledger), or the last audit: proven | not_proven | unrecorded | signature_mismatch',
    },
    reason: { type: 'string' },
    outcome: { type: 'string', enum: ['committed', 'rejected'], description: "the ledger contract's decision, kept after audits" },
    outcomeReason: { type: 'string', description: 'why the contract refused it (e.g. BAD_TAG: …)' },
    txId: { type: ['string', 'null'], description: 'the transaction that recorded (or refused) it' },
    blockNumber: { type: ['integer', 'null'] },
    recordedAt: { type: 'integer', description: 'when the provenance database learnt of it, ms' },
    updatedAt: { type: 'integer' },
    evidence: { description: 'the last audit evidence (JSON), null before any audit' },
  },
} as const;

/** GET /records/:deviceId/:seq answer. */
export const recordResult = {
  type: 'object',
  required: ['deviceId', 'seq', 'ledger', 'stored'],
  properties: {
    deviceId: { type: 'string' },
    seq: { type: 'integer' },
    ledger: {
      anyOf: [{ type: 'object', additionalProperties: true }, { type: 'null' }],
      description: "the ledger's provenance record, null if none",
    },
    stored: { type: 'array', items: storedReading, description: 'every copy the provenance database holds' },
  },
} as const;

/** GET /records params. */
export const recordParams = {
  type: 'object',
  required: ['deviceId', 'seq'],
  properties: { deviceId: { type: 'string', minLength: 1, maxLength: 64 }, seq: { type: 'integer', minimum: 0, maximum: 0xffffffff } },
} as const;

/** GET /signatures params. */
export const signatureParams = {
  type: 'object',
  required: ['deviceId'],
  properties: { deviceId: { type: 'string', minLength: 1, maxLength: 64 } },
} as const;

/** GET /signatures answer: DataProvenance signatureReport. */
export const signatureReport = {
  type: 'object',
  required: ['deviceId', 'signed', 'unsigned', 'verified', 'recorded'],
  properties: {
    deviceId: { type: 'string' },
    signed: {
      type: 'array',
      description: 'signed segments: epoch, firstSeq, count, keySet, q, status, txId, verified, missing and contradicted seqs',
      items: { type: 'object', additionalProperties: true },
    },
    unsigned: {
      type: 'array',
      description: 'recorded readings no epoch signature covers, by epoch: epoch, count, seqs',
      items: { type: 'object', additionalProperties: true },
    },
    verified: { type: 'integer', description: 'readings independently verifiable' },
    recorded: { type: 'integer', description: 'readings recorded on the ledger' },
  },
} as const;

/** POST /consistency body. */
export const consistencyBody = {
  type: 'object',
  required: ['savedHead'],
  additionalProperties: false,
  properties: { savedHead: chainHead },
  examples: [{ savedHead: { height: 12, hash: '3f'.repeat(32) } }],
} as const;

/** POST /consistency answer. */
export const consistencyResult = {
  type: 'object',
  required: ['extends', 'saved', 'current', 'method'],
  properties: {
    extends: { type: 'boolean' },
    saved: chainHead,
    current: chainHead,
    method: { type: 'string', enum: ['consistency-proof', 'block-hash-chain', 'none'] },
    reason: { type: 'string' },
  },
} as const;

/** POST /validate body: check what the provenance database holds for (deviceId, seq | timestamp). */
export const validateBody = {
  type: 'object',
  required: ['deviceId'],
  additionalProperties: false,
  properties: {
    deviceId: { type: 'string', minLength: 1, maxLength: 64 },
    seq: { type: 'integer', minimum: 0, maximum: 0xffffffff, description: 'sequence number (give seq or timestamp)' },
    timestamp: {
      type: 'integer',
      minimum: 0,
      maximum: Number.MAX_SAFE_INTEGER,
      description: 'device timestamp, ms (give seq or timestamp)',
    },
    askedBy: {
      type: 'string',
      pattern: '^[\\x21-\\x7e]{1,80}$',
      description: "who asks, kept in the verdict history (an edge forwards 'edge:<edgeId>'); default 'api'",
    },
  },
  examples: [{ deviceId: 'plant3-t-0001', seq: 42 }],
} as const;

/** POST /validate answer: one verdict per stored copy. */
export const validateResult = {
  type: 'object',
  required: ['deviceId', 'locator', 'results'],
  properties: {
    deviceId: { type: 'string' },
    locator: { type: 'string' },
    results: { type: 'array', items: verifyResult },
  },
} as const;

const jobSchema = {
  type: 'object',
  required: ['id', 'state', 'total', 'done', 'counts'],
  properties: {
    id: { type: 'integer' },
    deviceId: { type: ['string', 'null'] },
    fromT: { type: ['integer', 'null'] },
    toT: { type: ['integer', 'null'] },
    state: { type: 'string', enum: ['queued', 'running', 'done', 'failed', 'interrupted'] },
    total: { type: 'integer' },
    done: { type: 'integer' },
    counts: { type: 'object', additionalProperties: { type: 'integer' }, description: 'verdict → readings so far' },
    error: { type: ['string', 'null'] },
    createdAt: { type: 'integer' },
    updatedAt: { type: 'integer' },
  },
} as const;

/** A re-validation job. */
export const job = jobSchema;

/** POST /jobs body: the range to re-validate. */
export const jobBody = {
  type: 'object',
  additionalProperties: false,
  properties: {
    deviceId: { type: 'string', minLength: 1, maxLength: 64, description: 'one device (omitted: every device)' },
    from: { type: 'integer', minimum: 0, description: 'device time window start, ms since 1970 (inclusive)' },
    to: { type: 'integer', minimum: 0, description: 'device time window end, ms since 1970 (inclusive)' },
  },
  examples: [{ deviceId: 'plant3-t-0001', from: 1767225600000, to: 1767312000000 }],
} as const;

/** GET /jobs/:id params. */
export const jobParams = { type: 'object', required: ['id'], properties: { id: { type: 'integer', minimum: 1 } } } as const;

/** GET /verdicts query. */
export const verdictQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    deviceId: { type: 'string', minLength: 1, maxLength: 64 },
    dataHash: hex64,
    limit: { type: 'integer', minimum: 1, maximum: 1000, default: 50 },
  },
} as const;

/** GET /verdicts answer. */
export const verdictList = {
  type: 'array',
  items: {
    type: 'object',
    properties: {
      id: { type: 'integer' },
      dataHash: { type: 'string' },
      deviceId: { type: 'string' },
      locator: { type: 'string' },
      verdict: { type: 'string' },
      genuine: { type: 'boolean' },
      message: { type: 'string' },
      headHeight: { type: ['integer', 'null'] },
      headHash: { type: ['string', 'null'] },
      askedBy: { type: 'string' },
      at: { type: 'integer' },
    },
  },
} as const;

/** GET /readings query. */
export const readingsQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    deviceId: { type: 'string', minLength: 1, maxLength: 64 },
    from: { type: 'integer', minimum: 0, description: 'device time, ms (inclusive)' },
    to: { type: 'integer', minimum: 0, description: 'device time, ms (inclusive)' },
    status: { type: 'string', enum: ['committed', 'rejected', 'proven', 'not_proven', 'unrecorded', 'signature_mismatch'] },
    limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
  },
} as const;

/** A stored reading as the API shows it (decoded values included). */
export const storedReadingOut = storedReading;

/** GET /export/:deviceId/:seq answer: what an outside verifier needs (docs/auditor.md). */
export const exportBundle = {
  type: 'object',
  additionalProperties: true,
  required: ['format', 'reading', 'verdict'],
  properties: { format: { type: 'string' }, reading: { type: 'object', additionalProperties: true }, verdict: verifyResult },
} as const;

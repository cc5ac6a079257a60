/**
 * JSON schemas of the auditor HTTP API: fastify validates requests and serialises responses with
 * them, and @fastify/swagger turns them into the OpenAPI document (/openapi.json, /docs/json).
 * Hashes are lower-case hex; reading bytes are hex.
 */

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
      maxItems: 16,
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
      },
    },
  },
} as const;

const storedReading = {
  type: 'object',
  properties: {
    dataHash: { type: 'string' },
    canonical: { type: 'string', description: 'hex' },
    tag: { type: 'string' },
    t: { type: 'integer' },
    edgeId: { type: 'string' },
    receivedAt: { type: 'integer' },
    status: { type: 'string' },
    reason: { type: 'string' },
    txId: { type: ['string', 'null'] },
    blockNumber: { type: ['integer', 'null'] },
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

/** POST /consistency body. */
export const consistencyBody = {
  type: 'object',
  required: ['savedHead'],
  additionalProperties: false,
  properties: { savedHead: chainHead },
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

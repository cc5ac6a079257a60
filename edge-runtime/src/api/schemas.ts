/**
 * JSON schemas of the edge HTTP API. Routes are declared from these (schema-first): fastify
 * validates requests and serialises responses with them, and @fastify/swagger turns them into
 * the OpenAPI document at /openapi.json.
 */
import { MAX_ATTRIBUTE_BYTES, MAX_ATTRIBUTES } from '../../../shared/crypto/credential.js';
import { MAX_ATTRIBUTE_NAME_LENGTH } from '../../../shared/crypto/policy.js';
import { MAX_IDENTIFIER_LENGTH } from '../../../shared/crypto/presentation.js';
import { formAwareBodyLimit } from '../../../shared/http-limits.js';

/** Every error body: a stable code and a readable message. */
export const errorBody = {
  type: 'object',
  required: ['code', 'message'],
  properties: { code: { type: 'string', pattern: '^PROV_ERR_' }, message: { type: 'string' } },
} as const;

/** Responses every authenticated route may give. */
export const errorResponses = { 400: errorBody, 401: errorBody, 404: errorBody, 409: errorBody, 500: errorBody, 503: errorBody } as const;

const rejectedCounts = { type: 'object', additionalProperties: { type: 'integer' } } as const;

/** A device as the edge sees it. */
export const deviceSummary = {
  type: 'object',
  required: ['deviceId', 'link', 'linkState', 'sessionState', 'received', 'acked', 'committed', 'rejected'],
  properties: {
    deviceId: { type: 'string' },
    name: { type: ['string', 'null'], description: 'the configured board name (boards[].name) of its link' },
    link: { type: ['string', 'null'] },
    linkState: { type: 'string' },
    sessionState: { type: 'string' },
    firmware: { type: ['string', 'null'] },
    bootCount: { type: ['integer', 'null'] },
    lastSeenAt: { type: ['integer', 'null'] },
    lastSeq: { type: ['integer', 'null'] },
    received: { type: 'integer' },
    acked: { type: 'integer' },
    committed: { type: 'integer' },
    rejected: rejectedCounts,
    lastStatus: {
      type: ['object', 'null'],
      properties: { code: { type: 'integer' }, value: { type: 'integer' }, text: { type: 'string' } },
    },
    trafficProven: { type: ['boolean', 'null'] },
  },
} as const;

/** The traffic status of a device (last judged window). */
export const trafficStatus = {
  type: ['object', 'null'],
  properties: {
    window: { type: 'integer' },
    windowStart: { type: 'integer' },
    trafficProven: { type: 'boolean' },
    discrepancyStatus: { type: 'boolean' },
    flagged: {
      type: 'array',
      items: { type: 'object', properties: { feature: { type: 'string' }, delta: { type: 'number' }, threshold: { type: 'number' } } },
    },
    features: { type: 'object', additionalProperties: { type: 'number' } },
    txId: { type: ['string', 'null'] },
    pending: { type: 'boolean', description: "a site device's own-model verdict, until the site step judges the window with its peers" },
    peers: { type: 'array', items: { type: 'string' }, description: 'after the site step: the peers whose profiles judged it' },
    copies: { type: 'integer', description: "after the site step: how many of the window's marks the site had seen earlier" },
    judgedTxId: { type: 'string', description: 'after the site step: the transaction that made the verdict final' },
  },
} as const;

/** The decoded values of a reading (channels, battery, and any later-version fields such as boot count). */
export const readingValues = {
  type: 'object',
  additionalProperties: true,
  properties: {
    t: { type: 'integer', description: 'device clock, ms since 1970' },
    batteryMv: { type: 'integer' },
    channels: {
      type: 'array',
      items: { type: 'object', properties: { id: { type: 'integer' }, scale: { type: 'integer' }, value: { type: 'integer' } } },
    },
  },
} as const;

/** GET /devices/:id */
export const deviceDetail = {
  type: 'object',
  required: ['device', 'lastReadings', 'traffic'],
  properties: {
    device: deviceSummary,
    lastReadings: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          seq: { type: 'integer' },
          dataHash: { type: 'string' },
          canonical: { type: 'string', description: 'canonical reading bytes, hex' },
          values: readingValues,
          receivedAt: { type: 'integer' },
          state: { type: 'string', enum: ['pending', 'committed', 'rejected'] },
          reason: { type: ['string', 'null'] },
          txId: { type: ['string', 'null'] },
        },
      },
    },
    traffic: trafficStatus,
  },
} as const;

/** Path parameter :id */
export const deviceParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', minLength: 1, maxLength: 64, pattern: '^[\\x21-\\x7e]+$' } },
} as const;

/** GET /devices/:id query */
export const deviceQuery = {
  type: 'object',
  properties: { readings: { type: 'integer', minimum: 0, maximum: 1000, default: 20 } },
  additionalProperties: false,
} as const;

/**
 * The edge API's request body limit: POST /devices/:id/challenge with the largest metadata a
 * valid credential has (MAX_ATTRIBUTES names of the longest name, values together
 * MAX_ATTRIBUTE_BYTES, all escaped by JSON; gateway and firmware hash), URL-encoded by the
 * console's form at worst. The other bodies (validate: two integers) are smaller.
 */
export const EDGE_API_BODY_LIMIT = formAwareBodyLimit({
  metadata: {
    attributes: Object.fromEntries(
      Array.from({ length: MAX_ATTRIBUTES }, (_, i) => [
        `a${i}`.padEnd(MAX_ATTRIBUTE_NAME_LENGTH, '_'),
        '"'.repeat(Math.ceil(MAX_ATTRIBUTE_BYTES / MAX_ATTRIBUTES)),
      ]),
    ),
    gatewayId: '"'.repeat(MAX_IDENTIFIER_LENGTH),
    firmwareHash: 'f'.repeat(64),
  },
  timeoutMs: 60000,
});

/** POST /devices/:id/challenge body (optional). */
export const challengeBody = {
  type: ['object', 'null'],
  properties: {
    metadata: {
      type: 'object',
      description: 'What the caller believes about the device (default: the attributes of the credential this edge holds)',
      properties: {
        attributes: { type: 'object', additionalProperties: { type: 'string' } },
        gatewayId: { type: 'string' },
        firmwareHash: { type: 'string' },
      },
      required: ['attributes'],
    },
    timeoutMs: { type: 'integer', minimum: 100, maximum: 60000, default: 5000 },
  },
  additionalProperties: false,
  examples: [{ timeoutMs: 5000 }, { metadata: { attributes: { deviceId: 'plant3-t-0001', site: 'plant-3', type: 'temperature' } } }],
} as const;

/** POST /devices/:id/challenge response: Algorithm 2's verdict with the evidence. */
export const challengeResult = {
  type: 'object',
  required: ['deviceId', 'verdict', 'challenge', 'response'],
  properties: {
    deviceId: { type: 'string' },
    verdict: { type: 'string', enum: ['TRUE', 'FALSE'] },
    challenge: { type: 'string' },
    response: { type: 'string' },
    ledger: { type: 'object', additionalProperties: true },
  },
} as const;

/** GET /health */
export const health = {
  type: 'object',
  required: ['status', 'edgeId', 'ledgerUp', 'outbox', 'links'],
  properties: {
    status: { type: 'string', enum: ['ok', 'degraded'] },
    edgeId: { type: 'string' },
    ledgerUp: { type: 'boolean' },
    lastLedgerError: { type: ['string', 'null'] },
    credentials: { type: 'integer', description: 'device credentials loaded' },
    outbox: { type: 'object', properties: { depth: { type: 'integer' }, capacity: { type: 'integer' } } },
    links: { type: 'object', properties: { open: { type: 'integer' }, total: { type: 'integer' } } },
    problems: { type: 'array', items: { type: 'string' }, description: 'why status is not ok (empty when ok)' },
    uptimeS: { type: 'number' },
    provenance: {
      type: ['object', 'null'],
      description: "the edge's provenance database and the follower filling it",
      properties: {
        db: { type: 'string' },
        running: { type: 'boolean' },
        lastBlock: { type: ['integer', 'null'] },
        committed: { type: 'integer' },
        rejected: { type: 'integer' },
        lastError: { type: ['string', 'null'] },
      },
    },
    validation: { type: 'string', enum: ['auditor', 'edge', 'none'], description: 'where POST /devices/:id/validate goes' },
  },
} as const;

/** GET /devices/:id/traffic: the last judged windows, oldest first. */
export const trafficHistory = { type: 'array', items: trafficStatus } as const;

/** GET /boards/refused */
export const refusedBoards = {
  type: 'array',
  items: {
    type: 'object',
    properties: {
      deviceId: { type: 'string', description: 'the id the board claimed in its HELLO' },
      link: { type: 'string' },
      name: { type: ['string', 'null'] },
      reason: { type: 'string' },
      count: { type: 'integer' },
      firstAt: { type: 'integer' },
      lastAt: { type: 'integer' },
    },
  },
} as const;

/** POST /devices/:id/validate body. */
export const validateBody = {
  type: 'object',
  additionalProperties: false,
  properties: {
    seq: { type: 'integer', minimum: 0, maximum: 0xffffffff, description: 'give seq or timestamp' },
    timestamp: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: 'device time, ms (give seq or timestamp)' },
  },
  examples: [{ seq: 42 }],
} as const;

/** POST /devices/:id/validate answer. */
export const validateResult = {
  type: 'object',
  required: ['deviceId', 'locator', 'via', 'results'],
  properties: {
    deviceId: { type: 'string' },
    locator: { type: 'string' },
    via: { type: 'string', enum: ['auditor', 'edge'] },
    results: { type: 'array', items: { type: 'object', additionalProperties: true } },
  },
} as const;

/** GET /devices/:id/readings query. */
export const readingsQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    limit: { type: 'integer', minimum: 1, maximum: 1000, default: 50 },
    after: { type: 'integer', minimum: -1, description: 'only readings with a higher seq (live views poll with the last seq they have)' },
  },
} as const;

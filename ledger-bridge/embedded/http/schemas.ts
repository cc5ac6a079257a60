/**
 * JSON schemas of the ledger HTTP API (fastify validates requests and serialises responses
 * with them; @fastify/swagger turns them into the OpenAPI document at /docs/json). Byte strings
 * travel as base64; hashes as lower-case hex.
 */

/** Error body of every failure. */
export const errorBody = {
  type: 'object',
  required: ['code', 'message'],
  properties: {
    code: { type: 'string', pattern: '^PROV_ERR_' },
    message: { type: 'string' },
    details: { type: 'object', additionalProperties: true },
  },
} as const;

/** Error responses shared by authenticated routes. */
export const errorResponses = {
  400: errorBody,
  401: errorBody,
  403: errorBody,
  404: errorBody,
  409: errorBody,
  500: errorBody,
  503: errorBody,
} as const;

/** Most arguments of a call, and the longest contract or function name. */
export const MAX_ARGS = 64;
export const MAX_NAME_LENGTH = 128;
const args = { type: 'array', items: { type: 'string' }, maxItems: MAX_ARGS } as const;
const name = { type: 'string', minLength: 1, maxLength: MAX_NAME_LENGTH } as const;

/** POST /v1/submit body. */
export const submitBody = {
  type: 'object',
  required: ['contract', 'fn', 'args'],
  additionalProperties: false,
  properties: {
    contract: name,
    fn: name,
    args,
    transient: {
      type: 'object',
      additionalProperties: { type: 'string', contentEncoding: 'base64' },
      description: 'private inputs, base64; never written to a block',
    },
  },
  examples: [{ contract: 'DeviceRegistration', fn: 'revoke', args: ['plant3-t-0001', 'board stolen'] }],
} as const;

/** POST /v1/evaluate body. */
export const evaluateBody = {
  type: 'object',
  required: ['contract', 'fn', 'args'],
  additionalProperties: false,
  properties: { contract: name, fn: name, args },
  examples: [{ contract: 'DataProvenance', fn: 'get', args: ['plant3-t-0001', '42'] }],
} as const;

/** Committed transaction. */
export const commitResult = {
  type: 'object',
  required: ['txId', 'blockNumber', 'result'],
  properties: {
    txId: { type: 'string' },
    blockNumber: { type: 'integer' },
    result: { type: 'string', description: 'response payload, base64' },
  },
} as const;

/** Evaluation result. */
export const evaluateResult = {
  type: 'object',
  required: ['result'],
  properties: { result: { type: 'string', description: 'response payload, base64' } },
} as const;

/** Chain head. */
export const chainHead = {
  type: 'object',
  required: ['height', 'hash'],
  properties: { height: { type: 'integer' }, hash: { type: 'string' } },
} as const;

/** Inclusion proof (evidence: see docs/ledger.md). */
export const inclusionProof = {
  type: 'object',
  required: ['txId', 'blockNumber', 'evidence', 'head'],
  properties: {
    txId: { type: 'string' },
    blockNumber: { type: 'integer' },
    head: chainHead,
    evidence: {
      type: 'object',
      required: ['txIndex', 'envelope', 'txPath', 'blockHeader', 'blockPath', 'headHeader'],
      properties: {
        txIndex: { type: 'integer' },
        envelope: { type: 'string' },
        txPath: { type: 'array', items: { type: 'string' } },
        blockHeader: { type: 'string' },
        blockPath: { type: 'array', items: { type: 'string' } },
        headHeader: { type: 'string' },
      },
    },
  },
} as const;

/** Consistency proof. */
export const consistencyProof = {
  type: 'object',
  required: ['first', 'second', 'firstHeader', 'secondHeader', 'path', 'firstBlockPath'],
  properties: {
    first: chainHead,
    second: chainHead,
    firstHeader: { type: 'string' },
    secondHeader: { type: 'string' },
    path: { type: 'array', items: { type: 'string' } },
    firstBlockPath: { type: 'array', items: { type: 'string' } },
  },
} as const;

/** A block header and its transactions. */
export const block = {
  type: 'object',
  required: ['number', 'hash', 'header', 'txs'],
  properties: {
    number: { type: 'integer' },
    hash: { type: 'string' },
    header: {
      type: 'object',
      properties: {
        number: { type: 'integer' },
        timestamp: { type: 'integer' },
        txCount: { type: 'integer' },
        previousHash: { type: 'string' },
        dataHash: { type: 'string' },
        chainRoot: { type: 'string' },
      },
    },
    txs: {
      type: 'array',
      items: {
        type: 'object',
        properties: { txId: { type: 'string' }, code: { type: 'integer' }, validation: { type: 'string' }, hash: { type: 'string' } },
      },
    },
  },
} as const;

/** Health. */
export const health = {
  type: 'object',
  required: ['status', 'height'],
  properties: { status: { type: 'string' }, height: { type: 'integer' }, pending: { type: 'integer' }, uptimeS: { type: 'number' } },
} as const;

/**
 * `provenant ledger start`: the embedded ledger served over HTTP (fastify 5, pino logs, OpenAPI
 * at /docs/json, Prometheus at /metrics). Every route but /health and /docs needs
 * `Authorization: Bearer <token>`; each token maps to exactly one identity (and so one role): no
 * header chooses another (an `x-provenant-identity` header naming any other identity is refused
 * with 403). Errors are `{ code, message }` (shared/http-errors.ts).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { Readable } from 'node:stream';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { ProvenantError } from '../../../shared/errors.js';
import { errorPlugin, sendError } from '../../../shared/http-errors.js';
import { toHex } from '../../../shared/encoding/hex.js';
import { MAX_BATCH_ARGUMENT_CHARS, MAX_PACKED_BATCH_BYTES } from '../../../shared/encoding/batch.js';
import { validationCodeName } from '../codec.js';
import type { EmbeddedLedger, EngineProposal } from '../ledger.js';
import * as S from './schemas.js';

/** The identity a token acts as: the name of a configured identity. */
export type TokenGrant = string;

/** Server settings. */
export interface LedgerServerOptions {
  /** token → identity name. At least one token; each at least 16 characters. */
  readonly tokens: ReadonlyMap<string, TokenGrant>;
  /** fastify logger: pino options or instance (default off). */
  readonly logger?: FastifyServerOptions['logger'];
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/**
 * The largest request body the ledger takes (bytes): a recordBatch of the largest valid batch —
 * the packed frame's maximum (shared/encoding/batch.ts MAX_PACKED_BATCH_BYTES) in base64 — in
 * its JSON envelope with the longest contract and function names. Every other call is smaller;
 * a ReadingBatch JSON argument must fit in the same body (the packed form is the compact one).
 */
export const LEDGER_BODY_LIMIT =
  MAX_BATCH_ARGUMENT_CHARS +
  JSON.stringify({ contract: 'c'.repeat(S.MAX_NAME_LENGTH), fn: 'f'.repeat(S.MAX_NAME_LENGTH), args: [''] }).length;

const tooLarge = (bytes: number | string): ProvenantError =>
  new ProvenantError(
    'PROV_ERR_TOO_LARGE',
    `request body of ${bytes} bytes exceeds the ledger's limit of ${LEDGER_BODY_LIMIT} bytes (a recordBatch of the largest valid batch: ${MAX_PACKED_BATCH_BYTES} bytes packed, in base64)`,
    { field: 'body' },
  );

/** Builds the app (not listening: call listen(), or inject() in tests). */
export async function buildLedgerServer(ledger: EmbeddedLedger, options: LedgerServerOptions): Promise<FastifyInstance> {
  if (options.tokens.size === 0)
    throw new ProvenantError('PROV_ERR_CONFIG', 'the ledger server needs at least one bearer token', { field: 'token' });
  for (const [token, grant] of options.tokens) {
    if (token.length < 16) throw new ProvenantError('PROV_ERR_CONFIG', 'bearer tokens must be at least 16 characters', { field: 'token' });
    if (!ledger.identities.some((i) => i.name === grant))
      throw new ProvenantError(
        'PROV_ERR_CONFIG',
        grant === '*'
          ? 'a token may not act as any identity ("*"): bind each token to one identity'
          : `token grants unknown identity '${grant}'`,
        { field: 'token' },
      );
  }
  const grants = [...options.tokens].map(([t, g]) => ({ digest: digest(t), grant: g }));
  const started = Date.now();

  const app = Fastify({ logger: options.logger ?? false, bodyLimit: LEDGER_BODY_LIMIT });
  const { default: swagger } = await import('@fastify/swagger');
  await app.register(swagger, {
    openapi: {
      info: {
        title: 'Provenant embedded ledger',
        version: '0.1.0',
        description: 'Submit, evaluate, events, chain head, inclusion and consistency proofs',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
      tags: [
        { name: 'transactions', description: 'submit and evaluate contract functions' },
        { name: 'chain', description: 'head and blocks' },
        { name: 'proofs', description: 'inclusion and consistency proofs' },
        { name: 'events', description: 'chaincode events' },
        { name: 'operations', description: 'health and metrics' },
      ],
    },
  });
  const { default: swaggerUi } = await import('@fastify/swagger-ui');
  await app.register(swaggerUi, { routePrefix: '/docs' });
  const metrics = await import('./metrics.js').then((m) => m.ledgerMetrics(ledger));

  await app.register(errorPlugin);

  app.decorateRequest('identity', '');
  app.addHook('onRequest', async (req, reply) => {
    const path = req.url.split('?')[0] ?? '';
    if (path === '/' || path === '/health' || path === '/docs' || path.startsWith('/docs/')) return undefined;
    const m = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '');
    const presented = m ? digest(m[1] as string) : null;
    const found = presented ? grants.find((g) => timingSafeEqual(g.digest, presented)) : undefined;
    if (!found) return sendError(reply.header('www-authenticate', 'Bearer'), 'PROV_ERR_UNAUTHORIZED', 'missing or wrong bearer token');
    // The token alone decides the identity; a header may only restate it.
    const asked = req.headers['x-provenant-identity'];
    const wanted = typeof asked === 'string' && asked !== '' ? asked : null;
    if (wanted !== null && wanted !== found.grant)
      return sendError(reply, 'PROV_ERR_FORBIDDEN', `this token acts as '${found.grant}', not '${wanted}'`);
    (req as unknown as { identity: string }).identity = found.grant;
    // A declared length over the limit is refused before a byte of the body is read.
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > LEDGER_BODY_LIMIT) throw tooLarge(declared);
    return undefined;
  });
  // A body sent without a length (chunked) is cut off at the limit by fastify: the same answer.
  app.addHook('onError', async (_req, _reply, err) => {
    if ((err as { code?: unknown }).code === 'FST_ERR_CTP_BODY_TOO_LARGE') err.message = tooLarge(`over ${LEDGER_BODY_LIMIT}`).message;
  });
  const identityOf = (req: unknown): string => (req as { identity: string }).identity;

  // The ledger has no console: its front page is the API's Swagger UI.
  app.get('/', { schema: { hide: true } }, async (_req, reply) => reply.redirect('/docs', 302));

  app.get(
    '/health',
    {
      schema: {
        tags: ['operations'],
        summary: 'Liveness and chain height',
        description: 'liveness and chain height',
        security: [],
        response: { 200: S.health },
      },
    },
    async () => ({
      status: 'ok',
      height: ledger.head().height,
      pending: ledger.pendingCount(),
      uptimeS: (Date.now() - started) / 1000,
    }),
  );

  app.get(
    '/metrics',
    {
      schema: {
        tags: ['operations'],
        summary: 'Prometheus metrics (text exposition format)',
        description: 'Prometheus metrics (text exposition format)',
        produces: ['text/plain'],
      },
    },
    async (_req, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()),
  );

  app.post<{ Body: { contract: string; fn: string; args: string[]; transient?: Record<string, string> } }>(
    '/v1/submit',
    {
      schema: {
        tags: ['transactions'],
        summary: 'Submit a transaction (endorse, order, commit)',
        description: 'endorse, order and commit a transaction; answers once its block is committed',
        body: S.submitBody,
        response: { 200: S.commitResult, ...S.errorResponses },
      },
    },
    async (req) => {
      const transient = req.body.transient
        ? Object.fromEntries(Object.entries(req.body.transient).map(([k, v]) => [k, new Uint8Array(Buffer.from(v, 'base64'))]))
        : undefined;
      const proposal: EngineProposal = {
        contract: req.body.contract,
        fn: req.body.fn,
        args: req.body.args,
        ...(transient ? { transient } : {}),
      };
      const t0 = performance.now();
      try {
        const r = await ledger.submit(identityOf(req), proposal);
        metrics.observeSubmit('committed', (performance.now() - t0) / 1000);
        return { txId: r.txId, blockNumber: r.blockNumber, result: Buffer.from(r.result).toString('base64') };
      } catch (err) {
        metrics.observeSubmit(err instanceof ProvenantError ? err.code : 'error', (performance.now() - t0) / 1000);
        throw err;
      }
    },
  );

  app.post<{ Body: { contract: string; fn: string; args: string[] } }>(
    '/v1/evaluate',
    {
      schema: {
        tags: ['transactions'],
        summary: 'Evaluate a read-only function',
        description: 'run a function against committed state (nothing is ordered)',
        body: S.evaluateBody,
        response: { 200: S.evaluateResult, ...S.errorResponses },
      },
    },
    async (req) => ({ result: Buffer.from(await ledger.evaluate(identityOf(req), req.body)).toString('base64') }),
  );

  app.get(
    '/v1/head',
    {
      schema: {
        tags: ['chain'],
        summary: 'The current chain head',
        description: 'the current chain head',
        response: { 200: S.chainHead, ...S.errorResponses },
      },
    },
    async () => ledger.head(),
  );

  app.get<{ Params: { n: number } }>(
    '/v1/blocks/:n',
    {
      schema: {
        tags: ['chain'],
        summary: 'A block header and its transactions',
        description: 'a block header and its transactions',
        params: { type: 'object', properties: { n: { type: 'integer', minimum: 0 } } },
        response: { 200: S.block, ...S.errorResponses },
      },
    },
    async (req) => {
      const b = ledger.block(req.params.n);
      if (!b) throw new ProvenantError('PROV_ERR_NOT_FOUND', `block ${req.params.n} does not exist (height ${ledger.head().height})`);
      const h = b.header;
      return {
        number: h.number,
        hash: b.hash,
        header: { ...h, previousHash: toHex(h.previousHash), dataHash: toHex(h.dataHash), chainRoot: toHex(h.chainRoot) },
        txs: b.txs.map((t) => ({ ...t, validation: validationCodeName(t.code) })),
      };
    },
  );

  app.get<{ Params: { txId: string } }>(
    '/v1/proofs/inclusion/:txId',
    {
      schema: {
        tags: ['proofs'],
        summary: 'Inclusion proof of a transaction',
        description: 'evidence that a transaction is in block N under the current head',
        params: { type: 'object', properties: { txId: { type: 'string', pattern: '^[0-9a-f]{64}$' } } },
        response: { 200: S.inclusionProof, ...S.errorResponses },
      },
    },
    async (req) => ledger.inclusionProof(req.params.txId),
  );

  app.get<{ Querystring: { from: number; to?: number } }>(
    '/v1/proofs/consistency',
    {
      schema: {
        tags: ['proofs'],
        summary: 'Consistency proof between two heights',
        description: 'evidence that the chain at height `to` (default: now) extends the chain at height `from`',
        querystring: {
          type: 'object',
          required: ['from'],
          properties: { from: { type: 'integer', minimum: 1 }, to: { type: 'integer', minimum: 1 } },
        },
        response: { 200: S.consistencyProof, ...S.errorResponses },
      },
    },
    async (req) => ledger.consistencyProof(req.query.from, req.query.to ?? ledger.head().height),
  );

  app.get<{ Querystring: { startBlock?: number; follow?: boolean } }>(
    '/v1/events',
    {
      schema: {
        tags: ['events'],
        summary: 'Chaincode events (NDJSON stream)',
        description:
          'chaincode events as NDJSON, one {blockNumber, txId, contract, name, payload(base64)} per line: replayed from startBlock, then live until the client disconnects (follow=false: until caught up)',
        querystring: { type: 'object', properties: { startBlock: { type: 'integer', minimum: 0 }, follow: { type: 'boolean' } } },
        produces: ['application/x-ndjson'],
      },
    },
    async (req, reply) => {
      const abort = new AbortController();
      req.raw.on('close', () => abort.abort());
      reply.raw.on('close', () => abort.abort());
      const events = ledger.events({ startBlock: req.query.startBlock ?? 0, signal: abort.signal, follow: req.query.follow ?? true });
      async function* lines(): AsyncGenerator<string> {
        for await (const e of events) {
          yield `${JSON.stringify({ blockNumber: e.blockNumber, txId: e.txId, contract: e.contract, name: e.name, payload: Buffer.from(e.payload).toString('base64') })}\n`;
        }
      }
      return reply.type('application/x-ndjson').header('cache-control', 'no-store').send(Readable.from(lines()));
    },
  );

  return app;
}

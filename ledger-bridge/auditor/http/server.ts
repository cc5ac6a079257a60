/**
 * `provenant auditor serve`: the provenance auditor over HTTP (fastify 5, pino logs, OpenAPI at
 * /openapi.json and /docs/json, Prometheus at /metrics). A device owner or user asks
 * POST /verify and gets Algorithm 3's verdict with the ledger evidence; the verdict is written to
 * the provenance database. POST /consistency is the transparency-log check of a saved head.
 * Every route but /health, /openapi.json and /docs needs `Authorization: Bearer <token>`.
 * Errors are `{ code, message }` with PROV_ERR_* codes (shared/http-errors.ts).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { ChainHead, LedgerClient } from '../../client.js';
import { CONTRACTS } from '../../client.js';
import { codeOf, ProvenantError } from '../../../shared/errors.js';
import { errorPlugin, sendError } from '../../../shared/http-errors.js';
import { parseProvenanceRecord, type ProvenanceRecord } from '../../../shared/records.js';
import { Auditor, type AuditLocator, type ProofChecker } from '../auditor.js';
import type { ProvenanceDb } from '../provenance-db.js';
import { parseData } from './data.js';
import { checkSavedHead } from './head-check.js';
import { auditorMetrics } from './metrics.js';
import * as S from './schemas.js';

/** Server settings. */
export interface AuditorServerOptions {
  /** The ledger to audit (embedded over HTTP or in-process, or Fabric). Not closed by the server. */
  readonly ledger: LedgerClient;
  /** Provenance database: GET /records reads it, POST /verify writes verdicts to it. Not closed by the server. */
  readonly db?: ProvenanceDb;
  /** Bearer tokens clients must present; at least one, each at least 16 characters. */
  readonly tokens: readonly string[];
  /** Inclusion-proof checker (default: the embedded ledger's Merkle proofs). */
  readonly checkProof?: ProofChecker;
  /** fastify logger: pino options or instance (default off). */
  readonly logger?: FastifyServerOptions['logger'];
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();
const OPEN_PATHS = new Set(['/health', '/openapi.json', '/docs']);
const decoder = new TextDecoder();

interface VerifyBody {
  deviceId: string;
  seq?: number;
  timestamp?: number;
  data: unknown;
  tag?: string;
  trustedHead?: ChainHead;
}

/** Builds the app (not listening: call listen(), or inject() in tests). */
export async function buildAuditorServer(options: AuditorServerOptions): Promise<FastifyInstance> {
  if (options.tokens.length === 0)
    throw new ProvenantError('PROV_ERR_CONFIG', 'the auditor server needs a bearer token (--token-file or PROVENANT_AUDITOR_TOKEN)', {
      field: 'token',
    });
  if (options.tokens.some((t) => t.length < 16))
    throw new ProvenantError('PROV_ERR_CONFIG', 'bearer tokens must be at least 16 characters', { field: 'token' });
  const tokens = options.tokens.map(digest);
  const { ledger, db } = options;
  const metrics = auditorMetrics();

  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit: 1024 * 1024,
    // Unknown fields are refused, not silently dropped (fastify's default), so a typo is a 400.
    ajv: { customOptions: { removeAdditional: false } },
    schemaErrorFormatter: (errors, dataVar) =>
      new Error(
        errors
          .map((e) => {
            const extra = (e.params as { additionalProperty?: unknown }).additionalProperty;
            return `${dataVar}${e.instancePath} ${e.message ?? 'is invalid'}${typeof extra === 'string' ? ` ('${extra}')` : ''}`;
          })
          .join('; '),
      ),
  });
  const { default: swagger } = await import('@fastify/swagger');
  await app.register(swagger, {
    openapi: {
      info: {
        title: 'Provenant auditor',
        version: '0.1.0',
        description: 'Is this data proven? Algorithm 3 verdicts with ledger evidence; saved-head consistency checks',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });
  const { default: swaggerUi } = await import('@fastify/swagger-ui');
  await app.register(swaggerUi, { routePrefix: '/docs' });

  await app.register(errorPlugin);

  app.addHook('onRequest', async (req, reply) => {
    const path = req.url.split('?')[0] ?? '';
    if (OPEN_PATHS.has(path) || path.startsWith('/docs/')) return undefined;
    const m = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '');
    const presented = m ? digest(m[1] as string) : null;
    if (presented === null || !tokens.some((t) => timingSafeEqual(t, presented))) {
      return sendError(reply.header('www-authenticate', 'Bearer'), 'PROV_ERR_UNAUTHORIZED', 'missing or wrong bearer token');
    }
    return undefined;
  });

  app.get(
    '/health',
    {
      schema: { description: 'liveness', security: [], response: { 200: { type: 'object', properties: { status: { type: 'string' } } } } },
    },
    async () => ({ status: 'ok' }),
  );
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  app.get(
    '/metrics',
    { schema: { description: 'Prometheus metrics (text exposition format)', produces: ['text/plain'] } },
    async (_req, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()),
  );

  app.post<{ Body: VerifyBody }>(
    '/verify',
    {
      schema: {
        description:
          'Algorithm 3: is `data` the genuine reading of (deviceId, seq | timestamp)? Verdict TRUE / FALSE / NOT_FOUND / SIGNATURE_MISMATCH / UNPROVEN (recorded, but the inclusion proof failed) with the ledger record, its transaction and block, the checked inclusion proof and the head; the verdict is written to the provenance database',
        body: S.verifyBody,
        response: { 200: S.verifyResult, ...S.errorResponses },
      },
    },
    async (req) => {
      const t0 = performance.now();
      try {
        const b = req.body;
        if ((b.seq === undefined) === (b.timestamp === undefined))
          throw new ProvenantError('PROV_ERR_BAD_INPUT', 'body must have exactly one of seq or timestamp', { field: 'seq' });
        const at: AuditLocator = b.seq !== undefined ? { seq: b.seq } : { t: b.timestamp as number };
        const data = parseData(b.data);
        const tag = b.tag !== undefined ? Buffer.from(b.tag, 'hex') : data.tag;
        const trustedHead =
          b.trustedHead !== undefined ? { height: b.trustedHead.height, hash: b.trustedHead.hash.toLowerCase() } : undefined;
        const auditor = new Auditor({
          ledger,
          ...(db ? { db } : {}),
          ...(options.checkProof ? { checkProof: options.checkProof } : {}),
          ...(trustedHead ? { trustedHead } : {}),
        });
        const result = await auditor.check({ deviceId: b.deviceId, at, data: data.bytes, ...(tag ? { tag } : {}) });
        metrics.observeVerify(result.verdict, (performance.now() - t0) / 1000);
        req.log.info({ deviceId: result.deviceId, locator: result.locator, verdict: result.verdict, genuine: result.genuine }, 'verified');
        return result;
      } catch (err) {
        metrics.observeVerify(codeOf(err) ?? 'error', (performance.now() - t0) / 1000);
        throw err;
      }
    },
  );

  app.get<{ Params: { deviceId: string; seq: number } }>(
    '/records/:deviceId/:seq',
    {
      schema: {
        description:
          "the ledger's provenance record of (deviceId, seq) and every copy the provenance database holds, with its status; 404 if neither has one",
        params: S.recordParams,
        response: { 200: S.recordResult, ...S.errorResponses },
      },
    },
    async (req) => {
      const { deviceId, seq } = req.params;
      let record: ProvenanceRecord | null = null;
      try {
        record = parseProvenanceRecord(
          JSON.parse(
            decoder.decode(await ledger.evaluate({ contract: CONTRACTS.dataProvenance, fn: 'get', args: [deviceId, String(seq)] })),
          ),
        );
      } catch (err) {
        if (codeOf(err) !== 'PROV_ERR_RECORD_NOT_FOUND') throw err;
      }
      const stored = (db?.findBySeq(deviceId, seq) ?? []).map((r) => ({
        dataHash: r.dataHash,
        canonical: Buffer.from(r.canonical).toString('hex'),
        tag: r.tag,
        t: r.t,
        edgeId: r.edgeId,
        receivedAt: r.receivedAt,
        status: r.status,
        reason: r.reason,
        txId: r.txId,
        blockNumber: r.blockNumber,
        updatedAt: r.updatedAt,
        evidence: r.evidence === null ? null : (JSON.parse(r.evidence) as unknown),
      }));
      if (record === null && stored.length === 0) {
        throw new ProvenantError(
          'PROV_ERR_NOT_FOUND',
          `neither the ledger nor the provenance database holds a reading of ${deviceId} at seq:${seq}`,
          { deviceId, seq },
        );
      }
      return { deviceId, seq, ledger: record, stored };
    },
  );

  app.get(
    '/head',
    {
      schema: {
        description: "the ledger's current chain head; save it to check later that history was not rewritten",
        response: { 200: S.chainHead, ...S.errorResponses },
      },
    },
    async () => ledger.head(),
  );

  app.post<{ Body: { savedHead: ChainHead } }>(
    '/consistency',
    {
      schema: {
        description:
          'does the current chain extend a head saved earlier? Embedded ledger: a consistency proof; Fabric: the block hash chain through the saved head',
        body: S.consistencyBody,
        response: { 200: S.consistencyResult, ...S.errorResponses },
      },
    },
    async (req) => {
      const saved = { height: req.body.savedHead.height, hash: req.body.savedHead.hash.toLowerCase() };
      const r = await checkSavedHead(ledger, saved);
      metrics.observeConsistency(r.extends);
      req.log.info({ saved: r.saved, current: r.current, extends: r.extends, method: r.method }, 'saved head checked');
      return r;
    },
  );

  return app;
}

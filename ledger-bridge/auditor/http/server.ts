/**
 * `provenant auditor serve`: the provenance auditor over HTTP (fastify 5, pino logs, OpenAPI at
 * /openapi.json and /docs/json, Prometheus at /metrics). A device owner or user asks
 * POST /verify and gets Algorithm 3's verdict with the ledger evidence; the verdict is written to
 * the provenance database. POST /consistency is the transparency-log check of a saved head.
 * Every route but /health, /openapi.json and /docs needs `Authorization: Bearer <token>`.
 * Errors are `{ code, message }` with PROV_ERR_* codes (shared/http-errors.ts).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { ChainHead, LedgerClient } from '../../client.js';
import { CONTRACTS } from '../../client.js';
import { codeOf, ProvenantError } from '../../../shared/errors.js';
import { errorPlugin, sendError } from '../../../shared/http-errors.js';
import { parseProvenanceRecord, type ProvenanceRecord } from '../../../shared/records.js';
import { Auditor, locatorText, type AuditLocator, type ProofChecker } from '../auditor.js';
import type { ProvenanceDb, ReadingRange, StoredReading } from '../../provenance/store.js';
import type { ProvenanceFollower } from '../../provenance/follower.js';
import { exportReading } from '../export.js';
import { Revalidator } from '../jobs.js';
import { isConsolePath, registerConsole } from '../../../console/plugin.js';
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
  /** The authority's issuer public key: partials are re-verified under it (Auditor's issuerPk). */
  readonly issuerPk?: Uint8Array;
  /** fastify logger: pino options (default off)… */
  readonly logger?: FastifyServerOptions['logger'];
  /** …or a pino logger to log requests with (the CLI's own). */
  readonly loggerInstance?: FastifyBaseLogger;
  /** The follower filling `db` from the ledger, when this process runs one (its status shows in /health). */
  readonly follower?: ProvenanceFollower;
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();
const OPEN_PATHS = new Set(['/health', '/openapi.json', '/docs']);

/** A stored reading as the API shows it. */
export function storedOut(r: StoredReading): Record<string, unknown> {
  return { ...r, canonical: Buffer.from(r.canonical).toString('hex') };
}
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
    ...(options.loggerInstance ? { loggerInstance: options.loggerInstance } : { logger: options.logger ?? false }),
    bodyLimit: S.AUDITOR_BODY_LIMIT,
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
      tags: [
        { name: 'validation', description: 'verdicts with ledger evidence (Algorithm 3), verdict history' },
        { name: 'provenance database', description: 'stored readings, their status, export for outside verifiers' },
        { name: 'jobs', description: 're-validation of a range, with progress' },
        { name: 'chain', description: 'chain head and saved-head (transparency-log) checks' },
        { name: 'operations', description: 'health and metrics' },
      ],
    },
  });
  const { default: swaggerUi } = await import('@fastify/swagger-ui');
  await app.register(swaggerUi, { routePrefix: '/docs' });

  await app.register(errorPlugin);

  app.addHook('onRequest', async (req, reply) => {
    const path = req.url.split('?')[0] ?? '';
    if (OPEN_PATHS.has(path) || path.startsWith('/docs/') || isConsolePath(path)) return undefined;
    const m = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '');
    const presented = m ? digest(m[1] as string) : null;
    if (presented === null || !tokens.some((t) => timingSafeEqual(t, presented))) {
      return sendError(reply.header('www-authenticate', 'Bearer'), 'PROV_ERR_UNAUTHORIZED', 'missing or wrong bearer token');
    }
    return undefined;
  });

  const requireDb = (): ProvenanceDb => {
    if (db === undefined)
      throw new ProvenantError('PROV_ERR_NO_PROVENANCE_DB', 'this auditor runs without a provenance database (start it with --db)');
    return db;
  };
  const auditorFor = (trustedHead?: ChainHead): Auditor =>
    new Auditor({
      ledger,
      ...(db ? { db } : {}),
      ...(options.checkProof ? { checkProof: options.checkProof } : {}),
      ...(options.issuerPk ? { issuerPk: options.issuerPk } : {}),
      ...(trustedHead ? { trustedHead } : {}),
    });
  const revalidator = db ? new Revalidator({ db, auditor: () => auditorFor() }) : undefined;
  app.addHook('onClose', async () => {
    await revalidator?.stop();
  });

  app.get(
    '/health',
    {
      schema: {
        tags: ['operations'],
        summary: 'Liveness, and the follower filling the provenance database',
        security: [],
        response: {
          200: {
            type: 'object',
            properties: {
              status: { type: 'string', enum: ['ok', 'degraded'] },
              provenanceDb: { type: ['string', 'null'] },
              follower: {
                type: ['object', 'null'],
                properties: {
                  running: { type: 'boolean' },
                  lastBlock: { type: ['integer', 'null'] },
                  transactions: { type: 'integer' },
                  committed: { type: 'integer' },
                  rejected: { type: 'integer' },
                  lastError: { type: ['string', 'null'] },
                },
              },
            },
          },
        },
      },
    },
    async () => {
      const f = options.follower?.status() ?? null;
      return { status: f?.lastError ? 'degraded' : 'ok', provenanceDb: db?.location ?? null, follower: f };
    },
  );
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  app.get(
    '/metrics',
    { schema: { tags: ['operations'], summary: 'Prometheus metrics (text exposition format)', produces: ['text/plain'] } },
    async (_req, reply) => {
      metrics.observeFollower(options.follower?.status());
      return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics());
    },
  );

  app.post<{ Body: VerifyBody }>(
    '/verify',
    {
      schema: {
        tags: ['validation'],
        summary: 'Is this data the genuine reading? (Algorithm 3, data uploaded)',
        description:
          'Algorithm 3: is `data` the genuine reading of (deviceId, seq | timestamp)? Verdict TRUE / FALSE / NOT_FOUND / SIGNATURE_MISMATCH / UNPROVEN (recorded, but the inclusion proof failed) with the ledger record, its transaction and block, the checked inclusion proof and the head; when the provenance database holds the data, its status is updated and the verdict joins its history',
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
        const result = await auditorFor(trustedHead).check({ deviceId: b.deviceId, at, data: data.bytes, ...(tag ? { tag } : {}) });
        metrics.observeVerify(result.verdict, (performance.now() - t0) / 1000);
        req.log.info({ deviceId: result.deviceId, locator: result.locator, verdict: result.verdict, genuine: result.genuine }, 'verified');
        return result;
      } catch (err) {
        metrics.observeVerify(codeOf(err) ?? 'error', (performance.now() - t0) / 1000);
        throw err;
      }
    },
  );

  app.post<{ Body: { deviceId: string; seq?: number; timestamp?: number; askedBy?: string } }>(
    '/validate',
    {
      schema: {
        tags: ['validation'],
        summary: 'Validate what the provenance database holds for a reading (the paper’s validation flow)',
        description:
          'A device (through its edge) or a user asks; the auditor checks every copy the provenance database holds for (deviceId, seq | timestamp) against the ledger, answers with the verdicts and their evidence, and updates each copy’s status in the database. 404 when the database holds no copy (yet: the follower may still be catching up).',
        body: S.validateBody,
        response: { 200: S.validateResult, ...S.errorResponses, 409: S.errorBody },
      },
    },
    async (req) => {
      const b = req.body;
      requireDb();
      if ((b.seq === undefined) === (b.timestamp === undefined))
        throw new ProvenantError('PROV_ERR_BAD_INPUT', 'body must have exactly one of seq or timestamp', { field: 'seq' });
      const at: AuditLocator = b.seq !== undefined ? { seq: b.seq } : { t: b.timestamp as number };
      const t0 = performance.now();
      try {
        const results = await auditorFor().checkStored(b.deviceId, at, b.askedBy ?? 'api');
        for (const r of results) metrics.observeVerify(r.verdict, (performance.now() - t0) / 1000 / results.length);
        req.log.info({ deviceId: b.deviceId, at, verdicts: results.map((r) => r.verdict), askedBy: b.askedBy ?? 'api' }, 'validated');
        return { deviceId: b.deviceId, locator: locatorText(at), results };
      } catch (err) {
        metrics.observeVerify(codeOf(err) ?? 'error', (performance.now() - t0) / 1000);
        throw err;
      }
    },
  );

  app.get(
    '/stats',
    {
      schema: {
        tags: ['provenance database'],
        summary: 'What the provenance database holds: readings by status, per device, the follower',
        response: {
          200: {
            type: 'object',
            properties: {
              counts: { type: 'object', additionalProperties: { type: 'integer' } },
              devices: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    deviceId: { type: 'string' },
                    readings: { type: 'integer' },
                    lastSeq: { type: 'integer' },
                    lastT: { type: 'integer' },
                  },
                },
              },
              follower: { type: ['object', 'null'], additionalProperties: true },
            },
          },
          ...S.errorResponses,
          409: S.errorBody,
        },
      },
    },
    async () => {
      const d = requireDb();
      return { counts: await d.counts(), devices: await d.devices(), follower: options.follower?.status() ?? null };
    },
  );

  app.get<{ Params: { deviceId: string; seq: number } }>(
    '/records/:deviceId/:seq',
    {
      schema: {
        tags: ['provenance database'],
        summary: 'The ledger record of a reading and every copy the provenance database holds',
        description:
          "the ledger's provenance record of (deviceId, seq) and every copy the provenance database holds, with its status and decoded values; 404 if neither has one",
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
      const stored = (db ? await db.findBySeq(deviceId, seq) : []).map(storedOut);
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

  app.get<{ Params: { deviceId: string } }>(
    '/signatures/:deviceId',
    {
      schema: {
        tags: ['verification'],
        summary: "A device's epoch signatures: what they cover, what is missing, what was never signed",
        description:
          'the ledger\'s signatureReport (docs/contracts.md "Epoch signatures"): every signed segment with its verified, missing (signed, never recorded) and contradicted (recorded, not what the board signed) seqs, and the recorded readings no signature covers, by epoch',
        params: S.signatureParams,
        response: { 200: S.signatureReport, ...S.errorResponses },
      },
    },
    async (req) =>
      JSON.parse(
        decoder.decode(await ledger.evaluate({ contract: CONTRACTS.dataProvenance, fn: 'signatureReport', args: [req.params.deviceId] })),
      ) as Record<string, unknown>,
  );

  app.get<{ Querystring: { deviceId?: string; from?: number; to?: number; status?: string; limit: number } }>(
    '/readings',
    {
      schema: {
        tags: ['provenance database'],
        summary: 'Stored readings of a device or time window, with decoded values and status',
        querystring: S.readingsQuery,
        response: { 200: { type: 'array', items: S.storedReadingOut }, ...S.errorResponses, 409: S.errorBody },
      },
    },
    async (req) => {
      const q = req.query;
      const rows = await requireDb().list(rangeOf(q), { limit: q.limit });
      return rows.map(storedOut);
    },
  );

  app.get<{ Querystring: { deviceId?: string; dataHash?: string; limit: number } }>(
    '/verdicts',
    {
      schema: {
        tags: ['validation'],
        summary: 'Verdict history, newest first (of a reading, a device, or all)',
        querystring: S.verdictQuery,
        response: { 200: S.verdictList, ...S.errorResponses, 409: S.errorBody },
      },
    },
    async (req) =>
      requireDb().verdicts({
        limit: req.query.limit,
        ...(req.query.dataHash !== undefined ? { dataHash: req.query.dataHash.toLowerCase() } : {}),
        ...(req.query.deviceId !== undefined ? { deviceId: req.query.deviceId } : {}),
      }),
  );

  app.get<{ Params: { deviceId: string; seq: number } }>(
    '/export/:deviceId/:seq',
    {
      schema: {
        tags: ['provenance database'],
        summary: 'Evidence bundle of a stored reading for an outside verifier',
        description:
          'the reading’s canonical bytes, tag and decoded values with a fresh verdict and its evidence (record, transaction, block, inclusion proof, head); `provenant verify --bundle FILE` checks it offline. One bundle per stored copy.',
        params: S.recordParams,
        response: { 200: { type: 'array', items: S.exportBundle }, ...S.errorResponses, 409: S.errorBody },
      },
    },
    async (req) => {
      const rows = await requireDb().findBySeq(req.params.deviceId, req.params.seq);
      if (rows.length === 0)
        throw new ProvenantError(
          'PROV_ERR_NOT_FOUND',
          `the provenance database holds no reading of ${req.params.deviceId} at seq:${req.params.seq}`,
          { deviceId: req.params.deviceId },
        );
      const auditor = auditorFor();
      const out = [];
      for (const r of rows) out.push(await exportReading(auditor, r));
      return out;
    },
  );

  app.post<{ Body: { deviceId?: string; from?: number; to?: number } }>(
    '/jobs',
    {
      schema: {
        tags: ['jobs'],
        summary: 'Start re-validating a range (a device, a device time window)',
        description: 'queues a job that re-checks every stored reading of the range against the ledger; follow it with GET /jobs/:id',
        body: S.jobBody,
        response: { 202: S.job, ...S.errorResponses, 409: S.errorBody },
      },
    },
    async (req, reply) => {
      requireDb();
      const job = await (revalidator as Revalidator).start(rangeOf(req.body));
      req.log.info({ job: job.id, total: job.total }, 're-validation job queued');
      return reply.status(202).send(job);
    },
  );

  app.get(
    '/jobs',
    {
      schema: {
        tags: ['jobs'],
        summary: 'Re-validation jobs, newest first',
        response: { 200: { type: 'array', items: S.job }, ...S.errorResponses, 409: S.errorBody },
      },
    },
    async () => requireDb().jobs(50),
  );

  app.get<{ Params: { id: number } }>(
    '/jobs/:id',
    {
      schema: {
        tags: ['jobs'],
        summary: 'One re-validation job and its progress',
        params: S.jobParams,
        response: { 200: S.job, ...S.errorResponses, 409: S.errorBody },
      },
    },
    async (req) => {
      const job = await requireDb().job(req.params.id);
      if (job === undefined) throw new ProvenantError('PROV_ERR_NOT_FOUND', `no job ${req.params.id}`);
      return job;
    },
  );

  app.get(
    '/head',
    {
      schema: {
        tags: ['chain'],
        summary: "The ledger's current chain head",
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
        tags: ['chain'],
        summary: 'Does the current chain extend a head saved earlier?',
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

  registerConsole(app, { role: 'auditor', service: 'auditor', tokens: options.tokens });
  return app;
}

/** A range from query or body fields (from/to are device time, ms). */
function rangeOf(q: { deviceId?: string; from?: number; to?: number; status?: string }): ReadingRange {
  return {
    ...(q.deviceId !== undefined ? { deviceId: q.deviceId } : {}),
    ...(q.from !== undefined ? { fromT: q.from } : {}),
    ...(q.to !== undefined ? { toT: q.to } : {}),
    ...(q.status !== undefined ? { status: q.status as ReadingRange['status'] & string } : {}),
  };
}

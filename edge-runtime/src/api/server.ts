/**
 * The edge's HTTP API (fastify 5): health, devices, one device with its last readings and traffic
 * status, a Device Provenance challenge on demand (Algorithm 2), Prometheus metrics and the
 * OpenAPI document. Every route but /health and /openapi.json needs `Authorization: Bearer
 * <token>`. Errors are `{ code: 'PROV_ERR_*', message }` (shared/http-errors.ts).
 */
import { timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { CONTRACTS } from '../../../ledger-bridge/client.js';
import { codeOf, ProvenantError } from '../../../shared/errors.js';
import { errorPlugin, sendError } from '../../../shared/http-errors.js';
import { fromHex, toHex } from '../../../shared/encoding/hex.js';
import { metadataArg, metadataAtEdge, metadataFromRegistration } from '../../../shared/device-metadata.js';
import { decodeReading } from '../../../shared/encoding/reading.js';
import type { FollowerStatus } from '../../../ledger-bridge/audit.js';
import type { EdgeRuntime } from '../runtime.js';
import type { Validator } from '../validation/validator.js';
import { isConsolePath, registerConsole } from '../../../console/plugin.js';
import * as S from './schemas.js';

/** /health re-asks the ledger at most this often (ms). */
const HEALTH_PROBE_MS = 5000;
const HEALTH_PROBE_TIMEOUT_MS = 2000;

/** API settings. */
export interface ApiOptions {
  /** Bearer token; required (generate one with `openssl rand -hex 32`). */
  readonly token: string;
  /** fastify logger options (default off). */
  readonly logger?: FastifyServerOptions['logger'];
  /** Or a pino logger instance to log requests with (the edge's own, in `provenant edge`). */
  readonly loggerInstance?: FastifyBaseLogger;
  /** Where POST /devices/:id/validate goes (a remote auditor, or this edge's own); none: 409. */
  readonly validator?: Validator & { readonly via: 'auditor' | 'edge' };
  /** The edge's provenance database and its follower, for /health. */
  readonly provenance?: { readonly db: string; status(): FollowerStatus };
}

/** The decoded values of canonical hex (null when they do not decode). */
export function valuesOf(canonicalHex: string): Record<string, unknown> | null {
  try {
    const r = decodeReading(Buffer.from(canonicalHex, 'hex'));
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(r)) if (k !== 'deviceId' && k !== 'seq' && k !== 'epoch' && !(v instanceof Uint8Array)) out[k] = v;
    return out;
  } catch {
    return null;
  }
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Builds the API app (not listening: call `listen`, or `inject` in tests). */
export async function buildApi(rt: EdgeRuntime, options: ApiOptions): Promise<FastifyInstance> {
  if (typeof options.token !== 'string' || options.token.length < 16) {
    throw new ProvenantError('PROV_ERR_CONFIG', 'api.token must be at least 16 characters', { field: 'api.token' });
  }
  const ajv = { customOptions: { removeAdditional: false, coerceTypes: 'array' as const } };
  const bodyLimit = S.EDGE_API_BODY_LIMIT;
  const app = options.loggerInstance
    ? (Fastify({ loggerInstance: options.loggerInstance, ajv, bodyLimit }) as unknown as FastifyInstance)
    : Fastify({ logger: options.logger ?? false, ajv, bodyLimit });
  const started = Date.now();
  const { default: swagger } = await import('@fastify/swagger');
  await app.register(swagger, {
    openapi: {
      info: {
        title: 'Provenant edge API',
        version: '0.1.0',
        description: 'Edge runtime: devices, traffic status, Device Provenance challenges, metrics',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
      tags: [
        { name: 'devices', description: 'boards this edge serves, their readings and traffic' },
        { name: 'validation', description: 'Device Provenance challenges and reading validation' },
        { name: 'operations', description: 'health and metrics' },
      ],
    },
  });
  const { default: swaggerUi } = await import('@fastify/swagger-ui');
  await app.register(swaggerUi, { routePrefix: '/docs' });

  await app.register(errorPlugin);

  app.addHook('onRequest', async (req, reply) => {
    const path = req.url.split('?')[0];
    if (path === '/health' || path === '/openapi.json' || path === '/docs' || path?.startsWith('/docs/') || isConsolePath(path ?? ''))
      return;
    const header = req.headers.authorization ?? '';
    const m = /^Bearer (.+)$/.exec(header);
    if (!m || !safeEqual(m[1] as string, options.token)) {
      return sendError(reply.header('www-authenticate', 'Bearer'), 'PROV_ERR_UNAUTHORIZED', 'missing or wrong bearer token');
    }
    return undefined;
  });

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  // /health asks the ledger itself (its head, with our credentials), at most every HEALTH_PROBE_MS:
  // an idle edge with a wrong ledger token or an unreachable peer must not look healthy.
  let probed: { at: number; problem: string | null } | undefined;
  const probeLedger = async (): Promise<string | null> => {
    if (probed && Date.now() - probed.at < HEALTH_PROBE_MS) return probed.problem;
    let problem: string | null = null;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        rt.ledger.head(),
        new Promise((_, reject) => {
          timer = setTimeout(
            () => reject(new ProvenantError('PROV_ERR_TIMEOUT', `no answer in ${HEALTH_PROBE_TIMEOUT_MS} ms`)),
            HEALTH_PROBE_TIMEOUT_MS,
          );
        }),
      ]);
    } catch (err) {
      problem = `${codeOf(err) ?? 'PROV_ERR_INTERNAL'}: ${err instanceof Error ? err.message : String(err)}`;
    } finally {
      clearTimeout(timer);
    }
    probed = { at: Date.now(), problem };
    return problem;
  };

  app.get(
    '/health',
    {
      schema: {
        tags: ['operations'],
        summary: 'Liveness: ledger, outbox, links, provenance database',
        description: 'liveness and the state of ledger, outbox and links',
        security: [],
        response: { 200: S.health },
      },
    },
    async () => {
      const f = rt.forwarder.status();
      const probe = await probeLedger();
      const sessions = rt.allSessions();
      const open = sessions.filter((s) => s.link.state === 'open').length;
      const credentials = rt.credentials.deviceIds().length;
      const ledgerUp = f.ledgerUp && probe === null;
      const problems: string[] = [];
      if (!ledgerUp) problems.push(`ledger: ${probe ?? f.lastError ?? 'submits failing'}`);
      if (credentials === 0) problems.push('no credentials loaded: no board can say HELLO');
      if (open < sessions.length) problems.push(`${sessions.length - open} of ${sessions.length} board links not open`);
      return {
        status: problems.length === 0 ? 'ok' : 'degraded',
        edgeId: rt.edgeId,
        ledgerUp,
        lastLedgerError: probe ?? f.lastError,
        credentials,
        outbox: { depth: rt.outbox.depth, capacity: rt.outbox.capacity },
        links: { open, total: sessions.length },
        problems,
        uptimeS: (Date.now() - started) / 1000,
        provenance: options.provenance ? { db: options.provenance.db, ...options.provenance.status() } : null,
        validation: options.validator?.via ?? 'none',
      };
    },
  );

  app.get(
    '/devices',
    {
      schema: {
        tags: ['devices'],
        summary: 'Every device this edge serves',
        description:
          'every device this edge serves (by credential or seen on a link), with its board name, link and session state, counters and last traffic verdict',
        response: { 200: { type: 'array', items: S.deviceSummary }, ...S.errorResponses },
      },
    },
    async () => rt.deviceViews().map((v) => ({ ...v, trafficProven: rt.monitor?.statusOf(v.deviceId)?.trafficProven ?? null })),
  );

  app.get<{ Params: { id: string }; Querystring: { readings: number } }>(
    '/devices/:id',
    {
      schema: {
        tags: ['devices'],
        summary: 'One device: session, last readings with decoded values, traffic status',
        description: 'one device: session, last readings (with decoded values), traffic status',
        params: S.deviceParams,
        querystring: S.deviceQuery,
        response: { 200: S.deviceDetail, ...S.errorResponses },
      },
    },
    async (req) => {
      const view = rt.deviceView(req.params.id);
      if (!view)
        throw new ProvenantError('PROV_ERR_DEVICE_NOT_FOUND', `device ${req.params.id} is not served by this edge`, {
          deviceId: req.params.id,
        });
      const traffic = rt.monitor?.statusOf(view.deviceId) ?? null;
      return {
        device: { ...view, trafficProven: traffic?.trafficProven ?? null },
        lastReadings: rt.outbox.lastReadings(view.deviceId, req.query.readings).map((r) => ({ ...r, values: valuesOf(r.canonical) })),
        traffic,
      };
    },
  );

  app.post<{ Params: { id: string }; Body: { metadata?: { attributes: Record<string, string> }; timeoutMs?: number } | null }>(
    '/devices/:id/challenge',
    {
      schema: {
        tags: ['validation'],
        summary: 'Device Provenance challenge (Algorithm 2)',
        description:
          'Device Provenance (Algorithm 2): the edge asks the ledger for a fresh challenge (DeviceProvenance:issueChallenge), the board answers HMAC(K_chal, "pv2:c" ‖ challenge), the ledger judges it with the metadata of shared/device-metadata.ts (and consumes the challenge)',
        params: S.deviceParams,
        body: S.challengeBody,
        response: { 200: S.challengeResult, ...S.errorResponses, 422: S.errorBody, 501: S.errorBody, 504: S.errorBody },
      },
    },
    async (req) => {
      const id = req.params.id;
      const lookup = rt.credentials.lookup(id);
      if (!lookup.ok) throw new ProvenantError('PROV_ERR_DEVICE_NOT_FOUND', `device ${id} is not served by this edge`, { deviceId: id });
      const session = rt.sessionOf(id);
      if (!session)
        throw new ProvenantError('PROV_ERR_NO_SESSION', `device ${id} has no open session (is the board connected?)`, { deviceId: id });
      const asLedger = async <T>(call: () => Promise<T>): Promise<T> => {
        try {
          return await call();
        } catch (err) {
          const message = err instanceof Error ? err.message : String(err);
          const code = codeOf(err) ?? 'PROV_ERR_LEDGER_UNAVAILABLE';
          throw new ProvenantError(code, message, { deviceId: id, cause: err });
        }
      };
      // The ledger picks the challenge (issue 11, attack 7): fresh, for this edge, answered once.
      const issued = await asLedger(async () => {
        const r = await rt.ledger.submit({ contract: CONTRACTS.deviceProvenance, fn: 'issueChallenge', args: [id] });
        return JSON.parse(new TextDecoder().decode(r.result)) as { challenge: string };
      });
      const challenge = fromHex(issued.challenge);
      const response = await session.challenge(challenge, req.body?.timeoutMs ?? 5000);
      // What Algorithm 2 compares, defined once (shared/device-metadata.ts): the credential's
      // attributes, this edge as the gateway, the firmware hash of the board's HELLO.
      const fwHash = session.lastHello?.fwHash;
      const metadata =
        req.body?.metadata !== undefined
          ? metadataFromRegistration(req.body.metadata, {}, 'metadata')
          : metadataAtEdge(lookup.credential.attributes, rt.edgeId, fwHash === undefined ? undefined : toHex(fwHash));
      const result = await asLedger(async () => {
        const r = await rt.ledger.submit({
          contract: CONTRACTS.deviceProvenance,
          fn: 'prove',
          args: [id, metadataArg(metadata), toHex(challenge), toHex(response)],
        });
        return JSON.parse(new TextDecoder().decode(r.result)) as Record<string, unknown>;
      });
      return {
        deviceId: id,
        verdict: result['verdict'] === 'TRUE' ? ('TRUE' as const) : ('FALSE' as const),
        challenge: toHex(challenge),
        response: toHex(response),
        ledger: result,
      };
    },
  );

  app.get(
    '/metrics',
    { schema: { tags: ['operations'], summary: 'Prometheus metrics (text exposition format)', produces: ['text/plain'] } },
    async (_req, reply) => {
      const f = rt.forwarder.status();
      rt.metrics.ledgerUp.set(f.ledgerUp ? 1 : 0);
      rt.metrics.outboxDepth.set(rt.outbox.depth);
      reply.header('content-type', rt.metrics.registry.contentType);
      return rt.metrics.render();
    },
  );

  app.get<{ Params: { id: string }; Querystring: { limit: number; after?: number } }>(
    '/devices/:id/readings',
    {
      schema: {
        tags: ['devices'],
        summary: 'Live readings of a device with decoded values, newest first',
        description:
          'the newest readings the outbox holds for the device (received, pending, committed or refused by the ledger), with their decoded values; `after` returns only newer seqs, for live views',
        params: S.deviceParams,
        querystring: S.readingsQuery,
        response: { 200: { type: 'array', items: S.deviceDetail.properties.lastReadings.items }, ...S.errorResponses },
      },
    },
    async (req) => {
      if (!rt.deviceView(req.params.id))
        throw new ProvenantError('PROV_ERR_DEVICE_NOT_FOUND', `device ${req.params.id} is not served by this edge`, {
          deviceId: req.params.id,
        });
      const after = req.query.after ?? -1;
      return rt.outbox
        .lastReadings(req.params.id, req.query.limit)
        .filter((r) => r.seq > after)
        .map((r) => ({ ...r, values: valuesOf(r.canonical) }));
    },
  );

  app.get<{ Params: { id: string } }>(
    '/devices/:id/traffic',
    {
      schema: {
        tags: ['devices'],
        summary: "A device's judged traffic windows (profile chart), oldest first",
        params: S.deviceParams,
        response: { 200: S.trafficHistory, ...S.errorResponses },
      },
    },
    async (req) => {
      if (!rt.deviceView(req.params.id))
        throw new ProvenantError('PROV_ERR_DEVICE_NOT_FOUND', `device ${req.params.id} is not served by this edge`, {
          deviceId: req.params.id,
        });
      return rt.trafficHistory(req.params.id);
    },
  );

  app.get(
    '/boards/refused',
    {
      schema: {
        tags: ['devices'],
        summary: 'Boards whose HELLO was refused (unknown device, bad credential)',
        response: { 200: S.refusedBoards, ...S.errorResponses },
      },
    },
    async () => rt.refusedBoards().map((b) => ({ ...b, name: rt.boardName(b.link) ?? null })),
  );

  app.post<{ Params: { id: string }; Body: { seq?: number; timestamp?: number } }>(
    '/devices/:id/validate',
    {
      schema: {
        tags: ['validation'],
        summary: 'Validate a stored reading (forwarded to the provenance auditor)',
        description:
          "the paper's validation flow: the edge forwards the question to the provenance auditor (config `auditor:`), which checks the ledger, answers with the evidence and updates the reading's status in the provenance database; without an auditor section the edge checks its own provenance database against the ledger",
        params: S.deviceParams,
        body: S.validateBody,
        response: { 200: S.validateResult, ...S.errorResponses, 502: S.errorBody },
      },
    },
    async (req) => {
      const v = options.validator;
      if (!v) throw new ProvenantError('PROV_ERR_NO_VALIDATOR', 'this edge has neither an auditor section nor a provenance database');
      const b = req.body ?? {};
      if ((b.seq === undefined) === (b.timestamp === undefined))
        throw new ProvenantError('PROV_ERR_BAD_INPUT', 'body must have exactly one of seq or timestamp', { field: 'seq' });
      return v.validate(req.params.id, b.seq !== undefined ? { seq: b.seq } : { t: b.timestamp as number });
    },
  );

  registerConsole(app, { role: 'edge', service: rt.edgeId, tokens: [options.token] });
  await app.ready();
  return app;
}

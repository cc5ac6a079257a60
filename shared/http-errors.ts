/**
 * The one fastify error plugin of the edge, ledger and auditor servers: every error becomes
 * `{ code, message, details? }` with the registry's status for its code (shared/errors.ts), so
 * the same code has the same status everywhere (a ledger outage is 503 at the edge and at the
 * auditor alike). Node only.
 *
 * - A ProvenantError keeps its own code. When it wraps a contract's refusal (PROV_ERR_ENDORSEMENT
 *   with a registered `details.contractCode`, or that code in its message), the status is the
 *   contract code's: a missing record is a 404 whether the auditor or the ledger server says so.
 * - Schema validation failures and deliberate TypeError/RangeError (our wrong-type/bad-value
 *   errors) are PROV_ERR_BAD_INPUT 400; a body over the limit is PROV_ERR_TOO_LARGE 413.
 * - Anything else is PROV_ERR_INTERNAL 500 with the message withheld (it is logged).
 * - `details.cause` never leaves the process (it may hold SQLite messages, stacks or paths).
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { codeOf, ERRORS, isErrorCode, ProvenantError, toErrorCode, type ErrorCode } from './errors.js';

/** The JSON body of an error response. */
export interface ErrorBody {
  readonly code: ErrorCode;
  readonly message: string;
  readonly details?: Readonly<Record<string, unknown>>;
}

/** The fastify JSON schema of an error body (for route `response` schemas). */
export const ERROR_BODY_SCHEMA = {
  type: 'object',
  required: ['code', 'message'],
  properties: { code: { type: 'string' }, message: { type: 'string' }, details: { type: 'object', additionalProperties: true } },
} as const;

/** HTTP status and body for any thrown value. */
export function errorResponse(err: unknown): { status: number; body: ErrorBody } {
  const e = err as (Error & { validation?: unknown; statusCode?: number; code?: unknown }) | null | undefined;
  if (e && e.validation) return { status: 400, body: { code: 'PROV_ERR_BAD_INPUT', message: e.message } };
  if (err instanceof ProvenantError) {
    const details = Object.fromEntries(Object.entries(err.details).filter(([k]) => k !== 'cause'));
    const wrapped = toErrorCode(err.details.contractCode) ?? (err.code === 'PROV_ERR_ENDORSEMENT' ? codeOf(err) : undefined);
    const status = ERRORS[wrapped ?? err.code].status;
    return {
      status,
      body: Object.keys(details).length ? { code: err.code, message: err.message, details } : { code: err.code, message: err.message },
    };
  }
  const status = typeof e?.statusCode === 'number' ? e.statusCode : 500;
  // Before the RangeError rule: fastify's FST_ERR_CTP_BODY_TOO_LARGE is a RangeError with status 413.
  if (status === 413) return { status, body: { code: 'PROV_ERR_TOO_LARGE', message: e?.message ?? ERRORS.PROV_ERR_TOO_LARGE.message } };
  if (err instanceof TypeError || err instanceof RangeError)
    return { status: 400, body: { code: 'PROV_ERR_BAD_INPUT', message: err.message } };
  if (status >= 400 && status < 500) {
    // fastify's own client errors (bad JSON, wrong content type...): one input code, one status.
    const code = isErrorCode(e?.code) && ERRORS[e.code].status === status ? e.code : 'PROV_ERR_BAD_INPUT';
    return { status: ERRORS[code].status, body: { code, message: e?.message ?? ERRORS[code].message } };
  }
  return { status: 500, body: { code: 'PROV_ERR_INTERNAL', message: ERRORS.PROV_ERR_INTERNAL.message } };
}

/** Sends an error response for a registered code (for hooks that answer before a handler runs). */
export function sendError(reply: FastifyReply, code: ErrorCode, message?: string): FastifyReply {
  return reply.status(ERRORS[code].status).send({ code, message: message ?? ERRORS[code].message });
}

/**
 * Installs the error and not-found handlers on the root instance. Registered with
 * `await app.register(errorPlugin)`; it skips fastify's encapsulation (like fastify-plugin) so
 * the handlers apply to every route of the server.
 */
export async function errorPlugin(app: FastifyInstance): Promise<void> {
  app.setErrorHandler((err, req, reply) => {
    const { status, body } = errorResponse(err);
    if (status === 500) req.log.error({ err, code: body.code }, 'request failed');
    return reply.status(status).send(body);
  });
  app.setNotFoundHandler((req, reply) => sendError(reply, 'PROV_ERR_NOT_FOUND', `no route ${req.method} ${req.url}`));
}
(errorPlugin as unknown as Record<symbol, boolean>)[Symbol.for('skip-override')] = true;

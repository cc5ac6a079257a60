/**
 * The one error registry (shared/errors.ts), the one fastify error plugin (shared/http-errors.ts)
 * on the three real servers, and the one refusal table (shared/reasons.ts).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApi } from '../../edge-runtime/src/api/server.js';
import { EdgeRuntime } from '../../edge-runtime/src/runtime.js';
import { CredentialStore } from '../../edge-runtime/src/session/credentials.js';
import { wireChallengeCodec } from '../../edge-runtime/src/session/challenge-codec.js';
import { HttpLedgerClient } from '../../ledger-bridge/embedded/http/client.js';
import { buildAuditorServer } from '../../ledger-bridge/auditor/http/server.js';
import { buildLedgerServer } from '../../ledger-bridge/embedded/http/server.js';
import { REASONS } from '../../shared/crypto/verdict.js';
import { codeOf, ERRORS, isRetryable, MERGED_CODES, ProvenantError, toErrorCode, type ErrorCode } from '../../shared/errors.js';
import { errorResponse } from '../../shared/http-errors.js';
import { EDGE_REASONS, LEDGER_ONLY_REASONS, nackFor, REFUSALS, type Refusal } from '../../shared/reasons.js';
import * as messages from '../../shared/wire/messages.js';
import { ledgerFixture, MemoryLink, ScriptedBoard, tempDir, TEST_POLICY, type LedgerFixture } from '../support/edge-fixture.js';

const ROOT = join(import.meta.dirname, '..', '..');

describe('error registry', () => {
  it('every PROV_ERR_* code named in product code is registered (merged names appear only in the merge table)', () => {
    const files = execFileSync('git', ['ls-files', '*.ts'], { cwd: ROOT, encoding: 'utf8' })
      .split('\n')
      .filter((f) => f && !f.startsWith('test/') && f !== 'shared/errors.ts');
    const unknown: string[] = [];
    for (const f of files) {
      for (const m of readFileSync(join(ROOT, f), 'utf8').matchAll(/PROV_ERR_[A-Z0-9_]*[A-Z0-9]/g)) {
        if (!(m[0] in ERRORS)) unknown.push(`${f}: ${m[0]}`);
      }
    }
    expect(unknown).toEqual([]);
  });

  it('has one spec per code: a 4xx/5xx status, a retry flag, a message', () => {
    for (const [code, spec] of Object.entries(ERRORS)) {
      expect(code).toMatch(/^PROV_ERR_[A-Z0-9_]+$/);
      expect(spec.status).toBeGreaterThanOrEqual(400);
      expect(spec.status).toBeLessThan(600);
      expect(typeof spec.retryable).toBe('boolean');
      expect(spec.message.length).toBeGreaterThan(3);
    }
    for (const [old, now] of Object.entries(MERGED_CODES)) {
      expect(old in ERRORS, old).toBe(false);
      expect(now in ERRORS, now).toBe(true);
    }
  });

  it('merged the near-duplicates: ARGS, BAD_ARGS, BAD_REQUEST are BAD_INPUT; UNAVAILABLE is LEDGER_UNAVAILABLE', () => {
    for (const old of ['PROV_ERR_ARGS', 'PROV_ERR_BAD_ARGS', 'PROV_ERR_BAD_REQUEST']) expect(toErrorCode(old)).toBe('PROV_ERR_BAD_INPUT');
    expect(toErrorCode('PROV_ERR_UNAVAILABLE')).toBe('PROV_ERR_LEDGER_UNAVAILABLE');
    expect(toErrorCode('PROV_ERR_NO_SUCH_THING')).toBeUndefined();
  });

  it('codeOf: the contract code in the message wins over the wrapper; merged codes map; none is undefined', () => {
    const wrapped = new ProvenantError('PROV_ERR_ENDORSEMENT', 'fabric endorse: PROV_ERR_RECORD_NOT_FOUND: could not locate the record');
    expect(codeOf(wrapped)).toBe('PROV_ERR_RECORD_NOT_FOUND');
    expect(codeOf(new Error('chaincode response 500, PROV_ERR_BAD_ARGS: x'))).toBe('PROV_ERR_BAD_INPUT');
    expect(codeOf('PROV_ERR_TEST_ONLY: x, then PROV_ERR_TIMEOUT')).toBe('PROV_ERR_TIMEOUT');
    expect(codeOf({ code: 'PROV_ERR_LINK_DOWN' })).toBe('PROV_ERR_LINK_DOWN');
    expect(codeOf(new Error('plain'))).toBeUndefined();
    expect(codeOf(undefined)).toBeUndefined();
  });

  it('retryable comes from the registry; unknown errors count as retryable', () => {
    expect(isRetryable(new ProvenantError('PROV_ERR_LEDGER_UNAVAILABLE', 'down'))).toBe(true);
    expect(isRetryable(new ProvenantError('PROV_ERR_MVCC_READ_CONFLICT', 'conflict'))).toBe(true);
    expect(isRetryable(new ProvenantError('PROV_ERR_ENDORSEMENT', 'PROV_ERR_PROFILE_STALE: old window'))).toBe(false);
    expect(isRetryable(new Error('socket hang up'))).toBe(true);
    expect(isRetryable(new ProvenantError('PROV_ERR_BAD_INPUT', 'no'))).toBe(false);
  });

  it('the firmware bundle does not carry the registry (ProvenantError does not reference it)', () => {
    const src = readFileSync(join(ROOT, 'shared', 'errors.ts'), 'utf8');
    const cls = src.slice(src.indexOf('export class ProvenantError'), src.indexOf('const CODE_IN_TEXT'));
    expect(cls).not.toMatch(/ERRORS/);
  });
});

describe('errorResponse (the fastify plugin body)', () => {
  it('maps each code to its registry status, the wrapped contract code deciding a wrapper', () => {
    expect(errorResponse(new ProvenantError('PROV_ERR_LEDGER_UNAVAILABLE', 'down')).status).toBe(503);
    const wrapped = new ProvenantError('PROV_ERR_ENDORSEMENT', 'PROV_ERR_DEVICE_NOT_FOUND: could not find the device d', {
      contractCode: 'PROV_ERR_DEVICE_NOT_FOUND',
    });
    expect(errorResponse(wrapped)).toEqual({
      status: 404,
      body: { code: 'PROV_ERR_ENDORSEMENT', message: wrapped.message, details: { contractCode: 'PROV_ERR_DEVICE_NOT_FOUND' } },
    });
    expect(errorResponse(new ProvenantError('PROV_ERR_ENDORSEMENT', 'the contract threw')).status).toBe(400);
  });

  it('never sends details.cause, and hides the message of an unexpected error', () => {
    const r = errorResponse(new ProvenantError('PROV_ERR_STORAGE', 'cannot write', { cause: new Error('/secret/path: EIO') }));
    expect(JSON.stringify(r)).not.toContain('/secret/path');
    const internal = errorResponse(new Error('stack and secrets'));
    expect(internal).toEqual({ status: 500, body: { code: 'PROV_ERR_INTERNAL', message: 'internal error' } });
  });

  it('schema validation, TypeError/RangeError and fastify 4xx are BAD_INPUT 400; 413 is TOO_LARGE', () => {
    expect(errorResponse(Object.assign(new Error('body/x must be integer'), { validation: [{}] })).body.code).toBe('PROV_ERR_BAD_INPUT');
    expect(errorResponse(new RangeError('seq must be 1..2^32-1'))).toMatchObject({ status: 400, body: { code: 'PROV_ERR_BAD_INPUT' } });
    expect(errorResponse(Object.assign(new Error('bad json'), { statusCode: 400, code: 'FST_ERR_CTP_INVALID_JSON' }))).toMatchObject({
      status: 400,
      body: { code: 'PROV_ERR_BAD_INPUT' },
    });
    expect(errorResponse(Object.assign(new Error('too big'), { statusCode: 413 }))).toMatchObject({
      status: 413,
      body: { code: 'PROV_ERR_TOO_LARGE' },
    });
  });
});

describe('the three servers answer the same code with the same status', () => {
  const TOKEN = 'errors-test-token-0123456789';
  const auth = { authorization: `Bearer ${TOKEN}` };
  const tmp = tempDir('provenant-errors-');
  let fx: LedgerFixture;
  let rt: EdgeRuntime;
  let dead: HttpLedgerClient;
  const apps: Record<string, FastifyInstance> = {};

  beforeAll(async () => {
    fx = await ledgerFixture(join(tmp.dir, 'ledger.db'), 1);
    // The edge and the auditor both talk to a ledger that is down (nothing listens on port 1).
    dead = new HttpLedgerClient({ url: 'http://127.0.0.1:1', token: 'dead-ledger-token-0123456789' });
    const creds = new CredentialStore(fx.issuer.pk);
    creds.add(fx.devices[0]!.credential);
    rt = await EdgeRuntime.start({
      edgeId: 'edge-1',
      outboxPath: join(tmp.dir, 'outbox.db'),
      ledger: dead,
      credentials: creds,
      policy: TEST_POLICY,
      traffic: false,
      challengeCodec: wireChallengeCodec,
    });
    apps['edge'] = await buildApi(rt, { token: TOKEN });
    apps['auditor'] = await buildAuditorServer({ ledger: dead, tokens: [TOKEN] });
    apps['ledger'] = await buildLedgerServer(fx.ledger, { tokens: new Map([[TOKEN, 'auditor']]) });
    // A route on the ledger and auditor servers that throws what the query names (the edge's app
    // is ready when built, so it is checked through its real routes below).
    for (const app of [apps['ledger'], apps['auditor']] as FastifyInstance[]) {
      app.get('/throw', async (req) => {
        const q = req.query as { code: ErrorCode; contract?: ErrorCode };
        throw q.contract
          ? new ProvenantError('PROV_ERR_ENDORSEMENT', `${q.contract}: refused`, { contractCode: q.contract })
          : new ProvenantError(q.code, 'thrown by the test');
      });
    }
  });
  afterAll(async () => {
    for (const app of Object.values(apps)) await app.close();
    await rt.stop();
    await dead.close();
    await fx.close();
    tmp.cleanup();
  });

  it('a ledger outage is 503 PROV_ERR_LEDGER_UNAVAILABLE at the edge and at the auditor', async () => {
    const link = new MemoryLink('errors');
    await rt.attach(link);
    const board = new ScriptedBoard(link, fx.devices[0]!);
    board.challengeKey = fx.devices[0]!.kIoT;
    board.hello();
    await board.until(() => board.partials > 0);
    const edge = await apps['edge']!.inject({ method: 'POST', url: '/devices/dev-0/challenge', headers: auth });
    const auditor = await apps['auditor']!.inject({ method: 'GET', url: '/head', headers: auth });
    for (const res of [edge, auditor]) {
      expect(res.statusCode, res.body).toBe(503);
      expect(res.json().code).toBe('PROV_ERR_LEDGER_UNAVAILABLE');
    }
  });

  const cases: [string, number][] = [
    ['code=PROV_ERR_LEDGER_UNAVAILABLE', 503],
    ['code=PROV_ERR_TIMEOUT', 504],
    ['code=PROV_ERR_BAD_INPUT', 400],
    ['code=PROV_ERR_FORBIDDEN', 403],
    ['contract=PROV_ERR_RECORD_NOT_FOUND', 404],
    ['contract=PROV_ERR_DEVICE_REVOKED', 409],
  ];
  it.each(cases)('%s → %i at the ledger and the auditor', async (query, status) => {
    for (const name of ['ledger', 'auditor']) {
      const res = await apps[name]!.inject({ method: 'GET', url: `/throw?${query}`, headers: auth });
      expect([name, res.statusCode]).toEqual([name, status]);
      expect(res.json().code).toMatch(/^PROV_ERR_/);
    }
  });

  it('an unknown route, a bad token and a bad body read alike on all three', async () => {
    for (const app of Object.values(apps)) {
      const none = await app.inject({ method: 'GET', url: '/no/such/route', headers: auth });
      expect([none.statusCode, none.json().code]).toEqual([404, 'PROV_ERR_NOT_FOUND']);
      const denied = await app.inject({ method: 'GET', url: '/metrics', headers: { authorization: 'Bearer wrong-token-0123456789' } });
      expect([denied.statusCode, denied.json().code]).toEqual([401, 'PROV_ERR_UNAUTHORIZED']);
    }
    const badEdge = await apps['edge']!.inject({
      method: 'POST',
      url: '/devices/dev-0/challenge',
      headers: auth,
      payload: { timeoutMs: 'x' },
    });
    const badAuditor = await apps['auditor']!.inject({ method: 'POST', url: '/verify', headers: auth, payload: { deviceId: 7 } });
    for (const res of [badEdge, badAuditor]) expect([res.statusCode, res.json().code]).toEqual([400, 'PROV_ERR_BAD_INPUT']);
  });
});

describe('refusal table: NACK ↔ edge reason ↔ ledger reason', () => {
  it('every NACK code on the wire has at least one edge reason', () => {
    const nacks = Object.entries(messages)
      .filter(([k]) => k.startsWith('NACK_'))
      .map(([, v]) => v as number);
    const used = new Set(Object.values(REFUSALS).map((r: Refusal) => r.nack));
    for (const n of nacks) expect(used.has(n), `NACK ${n}`).toBe(true);
  });

  it('every ledger reason is either shared (same name as the edge label) or ledger-only', () => {
    const shared = new Map(Object.entries(REFUSALS).flatMap(([k, r]: [string, Refusal]) => (r.ledger ? [[r.ledger, k] as const] : [])));
    for (const [label, ledger] of shared) expect(label).toBe(ledger);
    for (const reason of Object.values(REASONS)) expect(shared.has(reason) || LEDGER_ONLY_REASONS.includes(reason), reason).toBe(true);
  });

  it('the board drops a reading for exactly these reasons and keeps it (to resend) for every other', () => {
    const final = new Set(['WRONG_DEVICE', 'REPLAY', 'MALFORMED', 'REVOKED', 'BAD_TAG', 'STALE_PARTIAL']);
    for (const label of Object.keys(REFUSALS) as (keyof typeof REFUSALS)[]) {
      expect([label, messages.nackIsRetryable(nackFor(label))]).toEqual([label, !final.has(label)]);
    }
    expect(EDGE_REASONS.RATE).toBe('RATE');
  });
});

describe('docs/errors.md', () => {
  it('lists every registered code with its status', () => {
    const doc = readFileSync(join(ROOT, 'docs', 'errors.md'), 'utf8');
    for (const [code, spec] of Object.entries(ERRORS)) expect(doc, code).toContain(`| \`${code}\` | ${spec.status} |`);
    for (const label of Object.keys(REFUSALS)) expect(doc, label).toContain(`| \`${label}\` |`);
  });
});

/**
 * The edge HTTP API through fastify.inject and through a real listening socket: auth, error
 * bodies, device views, metrics, OpenAPI, and the Device Provenance challenge path.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { EDGE_API_BODY_LIMIT } from '../../edge-runtime/src/api/schemas.js';
import { buildApi } from '../../edge-runtime/src/api/server.js';
import { EdgeRuntime } from '../../edge-runtime/src/runtime.js';
import { CredentialStore } from '../../edge-runtime/src/session/credentials.js';
import { wireChallengeCodec } from '../../edge-runtime/src/session/challenge-codec.js';
import { HttpLedgerClient } from '../../ledger-bridge/embedded/http/client.js';
import { buildLedgerServer } from '../../ledger-bridge/embedded/http/server.js';
import { ledgerFixture, MemoryLink, ScriptedBoard, tempDir, TEST_POLICY, type LedgerFixture } from '../support/edge-fixture.js';

const TOKEN = 'test-token-0123456789abcdef';
const tmp = tempDir('provenant-api-');
let fx: LedgerFixture;
let rt: EdgeRuntime;
let app: FastifyInstance;
let board: ScriptedBoard;
const auth = { authorization: `Bearer ${TOKEN}` };

beforeAll(async () => {
  fx = await ledgerFixture(join(tmp.dir, 'ledger.db'), 2);
  const creds = new CredentialStore(fx.issuer.pk);
  for (const d of fx.devices) creds.add(d.credential);
  rt = await EdgeRuntime.start({
    edgeId: 'edge-1',
    outboxPath: join(tmp.dir, 'outbox.db'),
    ledger: fx.edgeClient,
    credentials: creds,
    policy: TEST_POLICY,
    profile: { intervalMs: 100 },
    forwarder: { maxWaitMs: 10 },
    traffic: { windowMs: 60_000 },
  });
  app = await buildApi(rt, { token: TOKEN });
  const link = new MemoryLink('api');
  await rt.attach(link);
  board = new ScriptedBoard(link, fx.devices[0]!);
  board.hello();
  await board.until(() => board.partials > 0);
  for (let i = 0; i < 3; i++) board.sample();
  await board.until(() => board.highestAck === 3);
  await rt.forwarder.drain();
});
afterAll(async () => {
  await app.close();
  await rt.stop();
  await fx.close();
  tmp.cleanup();
});

describe('edge API', () => {
  it('GET /health needs no token and reports ledger, outbox and links', async () => {
    const res = await app.inject({ method: 'GET', url: '/health' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      status: 'ok',
      edgeId: 'edge-1',
      ledgerUp: true,
      outbox: { depth: 0 },
      links: { open: 1, total: 1 },
      credentials: 2,
      problems: [],
    });
  });

  it('GET /health is not ok with a wrong ledger token or no credentials, even while idle', async () => {
    // A real ledger server; this edge presents a token it does not know, and holds no credential.
    const server = await buildLedgerServer(fx.ledger, { tokens: new Map([['the-right-token-0123456789', 'edge-1']]) });
    const ledgerUrl = await server.listen({ host: '127.0.0.1', port: 0 });
    const wrong = new HttpLedgerClient({ url: ledgerUrl, token: 'a-wrong-token-0123456789' });
    const idle = await EdgeRuntime.start({
      edgeId: 'edge-9',
      outboxPath: join(tmp.dir, 'outbox-health.db'),
      ledger: wrong,
      credentials: new CredentialStore(fx.issuer.pk),
      policy: TEST_POLICY,
      traffic: false,
    });
    const api = await buildApi(idle, { token: TOKEN });
    try {
      const h = (await api.inject({ method: 'GET', url: '/health' })).json() as { status: string; ledgerUp: boolean; problems: string[] };
      expect(h).toMatchObject({ status: 'degraded', ledgerUp: false, credentials: 0 });
      expect(h.problems.join('\n')).toMatch(/ledger: PROV_ERR_UNAUTHORIZED/);
      expect(h.problems.join('\n')).toMatch(/no credentials loaded/);
    } finally {
      await api.close();
      await idle.stop();
      await wrong.close();
      await server.close();
    }
  });

  it('takes bodies up to the largest valid challenge body (EDGE_API_BODY_LIMIT), and refuses a larger one with 413 PROV_ERR_TOO_LARGE', async () => {
    const over = JSON.stringify({ timeoutMs: 5000, pad: ' '.repeat(EDGE_API_BODY_LIMIT) });
    const r = await app.inject({
      method: 'POST',
      url: '/devices/nope/challenge',
      headers: { ...auth, 'content-type': 'application/json' },
      payload: over,
    });
    expect(r.statusCode).toBe(413);
    expect(r.json()).toMatchObject({ code: 'PROV_ERR_TOO_LARGE' });
    // Just under the limit: read, and judged on its content (an unknown field).
    const under = JSON.stringify({ timeoutMs: 5000, pad: 'x' }).padEnd(EDGE_API_BODY_LIMIT - 1, ' ');
    const ok = await app.inject({
      method: 'POST',
      url: '/devices/nope/challenge',
      headers: { ...auth, 'content-type': 'application/json' },
      payload: under,
    });
    expect(ok.statusCode).toBe(400);
    expect(ok.json()).toMatchObject({ code: 'PROV_ERR_BAD_INPUT' });
  });

  it('refuses a missing or wrong bearer token with 401 and a PROV_ERR code', async () => {
    for (const headers of [{}, { authorization: 'Bearer wrong-token-wrong-token' }, { authorization: TOKEN }]) {
      const res = await app.inject({ method: 'GET', url: '/devices', headers });
      expect(res.statusCode).toBe(401);
      expect(res.json()).toEqual({ code: 'PROV_ERR_UNAUTHORIZED', message: expect.any(String) });
    }
  });

  it('GET /devices lists every device the edge holds a credential for, with counters', async () => {
    const res = await app.inject({ method: 'GET', url: '/devices', headers: auth });
    expect(res.statusCode).toBe(200);
    const list = res.json() as { deviceId: string; committed: number; acked: number; sessionState: string }[];
    expect(list.map((d) => d.deviceId)).toEqual(['dev-0', 'dev-1']);
    expect(list[0]).toMatchObject({ deviceId: 'dev-0', acked: 3, committed: 3, sessionState: 'ready' });
    expect(list[1]).toMatchObject({ deviceId: 'dev-1', acked: 0, sessionState: 'none' });
  });

  it('GET /devices/:id shows the last readings and traffic status; 404 for an unknown device; 400 for a bad query', async () => {
    const res = await app.inject({ method: 'GET', url: '/devices/dev-0?readings=2', headers: auth });
    expect(res.statusCode).toBe(200);
    const body = res.json() as { lastReadings: { seq: number; state: string; txId: string }[]; traffic: unknown };
    expect(body.lastReadings.map((r) => r.seq)).toEqual([3, 2]);
    expect(body.lastReadings.every((r) => r.state === 'committed' && r.txId.length > 0)).toBe(true);
    expect(body.traffic).toBeNull();
    const missing = await app.inject({ method: 'GET', url: '/devices/nobody', headers: auth });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ code: 'PROV_ERR_DEVICE_NOT_FOUND' });
    const bad = await app.inject({ method: 'GET', url: '/devices/dev-0?readings=-1', headers: auth });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ code: 'PROV_ERR_BAD_INPUT' });
  });

  it('shows a judged traffic profile once a window closes', async () => {
    await rt.monitor?.closeWindow();
    const res = await app.inject({ method: 'GET', url: '/devices/dev-0', headers: auth });
    const traffic = (res.json() as { traffic: { trafficProven: boolean; features: Record<string, number> } }).traffic;
    expect(traffic.trafficProven).toBe(true);
    expect(traffic.features['count']).toBe(3);
  });

  it('GET /metrics is Prometheus text with readings, outbox depth and link state', async () => {
    const res = await app.inject({ method: 'GET', url: '/metrics', headers: auth });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.body).toMatch(/^provenant_edge_readings_acked_total 3$/m);
    expect(res.body).toMatch(/^provenant_edge_readings_committed_total 3$/m);
    expect(res.body).toMatch(/^provenant_edge_outbox_depth 0$/m);
    expect(res.body).toMatch(/^provenant_edge_link_state\{link="memory:api",state="open"\} 1$/m);
    expect(res.body).toMatch(/provenant_edge_commit_latency_seconds_count 3/);
  });

  it('POST /devices/:id/challenge: 404 unknown device, 409 without a session', async () => {
    const unknown = await app.inject({ method: 'POST', url: '/devices/nobody/challenge', headers: auth });
    expect(unknown.statusCode).toBe(404);
    const noSession = await app.inject({ method: 'POST', url: '/devices/dev-1/challenge', headers: auth });
    expect(noSession.statusCode).toBe(409);
    expect(noSession.json()).toMatchObject({ code: 'PROV_ERR_NO_SESSION' });
  });

  it('POST /devices/:id/challenge answers 501 from a runtime built without a challenge codec', async () => {
    const res = await app.inject({ method: 'POST', url: '/devices/dev-0/challenge', headers: auth });
    expect(res.statusCode).toBe(501);
    expect(res.json()).toMatchObject({ code: 'PROV_ERR_CHALLENGE_UNSUPPORTED' });
  });

  it('POST /devices/:id/challenge with the wire frames (scripted board stand-in): TRUE, FALSE on other metadata, 422 for an impostor, 504 when silent', async () => {
    const creds = new CredentialStore(fx.issuer.pk);
    for (const d of fx.devices) creds.add(d.credential);
    const rt2 = await EdgeRuntime.start({
      edgeId: 'edge-1',
      outboxPath: join(tmp.dir, 'outbox-challenge.db'),
      ledger: fx.edgeClient,
      credentials: creds,
      policy: TEST_POLICY,
      traffic: false,
      challengeCodec: wireChallengeCodec,
    });
    const app2 = await buildApi(rt2, { token: TOKEN });
    const link = new MemoryLink('challenge');
    await rt2.attach(link);
    const b = new ScriptedBoard(link, fx.devices[1]!);
    b.hello();
    await b.until(() => b.partials > 0);
    const post = (body?: unknown) =>
      app2.inject({ method: 'POST', url: '/devices/dev-1/challenge', headers: auth, ...(body ? { payload: body as object } : {}) });

    b.challengeKey = fx.devices[1]!.kIoT;
    const ok = await post();
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json()).toMatchObject({ deviceId: 'dev-1', verdict: 'TRUE' });
    expect((ok.json() as { challenge: string }).challenge).toMatch(/^[0-9a-f]{64}$/);

    const attrs = { ...fx.devices[1]!.credential.attributes, site: 'plant-9' };
    const differs = await post({ metadata: { attributes: attrs } });
    expect(differs.json()).toMatchObject({ verdict: 'FALSE' });

    b.challengeKey = new Uint8Array(32).fill(5); // a cloned board without the real key
    const impostor = await post();
    expect(impostor.statusCode).toBe(422);
    expect(impostor.json()).toMatchObject({ code: 'PROV_ERR_DEVICE_SIGNATURE_MISMATCH' });

    b.challengeKey = undefined;
    const silent = await post({ timeoutMs: 300 });
    expect(silent.statusCode).toBe(504);
    expect(silent.json()).toMatchObject({ code: 'PROV_ERR_CHALLENGE_TIMEOUT' });
    await app2.close();
    await rt2.stop();
  });

  it('serves an OpenAPI document built from the route schemas', async () => {
    const res = await app.inject({ method: 'GET', url: '/openapi.json' });
    const doc = res.json() as { openapi: string; paths: Record<string, unknown> };
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/health', '/devices', '/devices/{id}', '/devices/{id}/challenge', '/metrics']),
    );
  });

  it('answers over a real socket too', async () => {
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    const health = await fetch(`${url}/health`);
    expect(health.status).toBe(200);
    const devices = await fetch(`${url}/devices`, { headers: auth });
    expect(((await devices.json()) as unknown[]).length).toBe(2);
    const denied = await fetch(`${url}/metrics`);
    expect(denied.status).toBe(401);
  });

  it('refuses to build with a short token', async () => {
    await expect(buildApi(rt, { token: 'short' })).rejects.toMatchObject({ code: 'PROV_ERR_CONFIG' });
  });
});

import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LedgerEvent, Proposal } from '../../ledger-bridge/client.js';
import { type EmbeddedLedger, verifyConsistency, verifyInclusion } from '../../ledger-bridge/embedded/index.js';
import { HttpLedgerClient } from '../../ledger-bridge/embedded/http/client.js';
import { buildLedgerServer } from '../../ledger-bridge/embedded/http/server.js';
import { ProvenantError } from '../../shared/errors.js';
import { openTestLedger, tempDir, text } from './helpers.js';

const OPERATOR = 'operator-token-0123456789abcdef';
const AA = 'aa-token-0123456789abcdef012345';
const EDGE = 'edge-token-0123456789abcdef0123';
const counter = (fn: string, args: string[]): Proposal => ({ contract: 'Counter' as Proposal['contract'], fn, args });

describe('ledger HTTP API (fastify.inject)', () => {
  const dir = tempDir();
  let ledger: EmbeddedLedger;
  let app: FastifyInstance;
  const auth = { authorization: `Bearer ${OPERATOR}` };

  beforeAll(async () => {
    ledger = await openTestLedger(dir.dir);
    app = await buildLedgerServer(ledger, {
      tokens: new Map([
        [OPERATOR, 'edge-1'],
        [AA, 'aa'],
        [EDGE, 'edge-1'],
      ]),
    });
  });
  afterAll(async () => {
    await app.close();
    await ledger.close();
    dir.cleanup();
  });

  it('serves /health without a token and refuses other routes without the right one', async () => {
    const h = await app.inject({ method: 'GET', url: '/health' });
    expect(h.statusCode).toBe(200);
    expect(h.json()).toMatchObject({ status: 'ok', height: 1 });
    for (const headers of [{}, { authorization: 'Bearer wrong-token-0123456789' }, { authorization: OPERATOR }]) {
      const r = await app.inject({ method: 'GET', url: '/v1/head', headers });
      expect(r.statusCode).toBe(401);
      expect(r.json()).toEqual({ code: 'PROV_ERR_UNAUTHORIZED', message: 'missing or wrong bearer token' });
    }
  });

  it('submits, evaluates and reports the head', async () => {
    const r = await app.inject({
      method: 'POST',
      url: '/v1/submit',
      headers: auth,
      payload: { contract: 'Counter', fn: 'increment', args: ['h', '4'] },
    });
    expect(r.statusCode).toBe(200);
    const body = r.json<{ txId: string; blockNumber: number; result: string }>();
    expect(Buffer.from(body.result, 'base64').toString()).toBe('4');
    const e = await app.inject({
      method: 'POST',
      url: '/v1/evaluate',
      headers: auth,
      payload: { contract: 'Counter', fn: 'getCounter', args: ['h'] },
    });
    expect(Buffer.from(e.json<{ result: string }>().result, 'base64').toString()).toBe('4');
    const head = await app.inject({ method: 'GET', url: '/v1/head', headers: auth });
    expect(head.json()).toEqual(ledger.head());
    const block = await app.inject({ method: 'GET', url: `/v1/blocks/${body.blockNumber}`, headers: auth });
    expect(block.json()).toMatchObject({ number: body.blockNumber, txs: [{ txId: body.txId, code: 0, validation: 'VALID' }] });
  });

  it('acts as the one identity its token is bound to; no header picks another', async () => {
    const whoami = async (token: string, identity?: string) => {
      const r = await app.inject({
        method: 'POST',
        url: '/v1/evaluate',
        headers: { authorization: `Bearer ${token}`, ...(identity ? { 'x-provenant-identity': identity } : {}) },
        payload: { contract: 'Counter', fn: 'whoami', args: [] },
      });
      return { status: r.statusCode, body: r.json<{ result?: string; code?: string }>() };
    };
    const asAa = await whoami(AA);
    expect(JSON.parse(Buffer.from(asAa.body.result as string, 'base64').toString())).toMatchObject({ mspId: 'AuthorityMSP' });
    const restated = await whoami(AA, 'aa');
    expect(JSON.parse(Buffer.from(restated.body.result as string, 'base64').toString())).toMatchObject({ mspId: 'AuthorityMSP' });
    const edge = await whoami(EDGE);
    expect(JSON.parse(Buffer.from(edge.body.result as string, 'base64').toString())).toMatchObject({ mspId: 'EdgeMSP' });
    // Issue 11 attack 1: the edge's token asking to act as the authority (or anyone else) is refused.
    for (const other of ['aa', 'auditor', 'mallory']) {
      const forbidden = await whoami(EDGE, other);
      expect(forbidden.status, other).toBe(403);
      expect(forbidden.body.code).toBe('PROV_ERR_FORBIDDEN');
    }
  });

  it('answers bad input and contract failures with { code, message }', async () => {
    const bad = await app.inject({
      method: 'POST',
      url: '/v1/submit',
      headers: auth,
      payload: { contract: 'Counter', fn: 'put', args: [{ not: 'a string' }] },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().code).toBe('PROV_ERR_BAD_INPUT');
    const extra = await app.inject({
      method: 'POST',
      url: '/v1/submit',
      headers: auth,
      payload: { contract: 'Counter', fn: 'put', args: [], evil: true },
    });
    expect(extra.statusCode).toBe(400);
    const failed = await app.inject({
      method: 'POST',
      url: '/v1/submit',
      headers: auth,
      payload: { contract: 'Counter', fn: 'fail', args: ['no such device d9'] },
    });
    expect(failed.statusCode).toBe(400);
    expect(failed.json()).toMatchObject({
      code: 'PROV_ERR_ENDORSEMENT',
      message: 'no such device d9',
      details: { contractCode: 'PROV_ERR_TEST_FAILURE' },
    });
    const missing = await app.inject({ method: 'GET', url: `/v1/proofs/inclusion/${'0'.repeat(64)}`, headers: auth });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().code).toBe('PROV_ERR_TX_NOT_FOUND');
    const route = await app.inject({ method: 'GET', url: '/v1/nope', headers: auth });
    expect(route.statusCode).toBe(404);
    expect(route.json().code).toBe('PROV_ERR_NOT_FOUND');
  });

  it('passes transient data without writing it into a block', async () => {
    const r = await app.inject({
      method: 'POST',
      url: '/v1/submit',
      headers: { authorization: `Bearer ${AA}` },
      payload: {
        contract: 'Counter',
        fn: 'deposit',
        args: ['dev-h'],
        transient: { secret: Buffer.from('top-secret-kiot').toString('base64') },
      },
    });
    expect(r.statusCode).toBe(200);
    const proof = await app.inject({ method: 'GET', url: `/v1/proofs/inclusion/${r.json<{ txId: string }>().txId}`, headers: auth });
    expect(verifyInclusion(proof.json())).toEqual({ ok: true });
    expect(
      Buffer.from(proof.json<{ evidence: { envelope: string } }>().evidence.envelope, 'hex').includes(Buffer.from('top-secret-kiot')),
    ).toBe(false);
  });

  it('serves consistency proofs, replayed events as NDJSON, Prometheus metrics and the OpenAPI document', async () => {
    const c = await app.inject({ method: 'GET', url: '/v1/proofs/consistency?from=1', headers: auth });
    expect(verifyConsistency(c.json())).toEqual({ ok: true });
    const ev = await app.inject({ method: 'GET', url: '/v1/events?startBlock=0&follow=false', headers: auth });
    expect(ev.headers['content-type']).toMatch(/ndjson/);
    const lines = ev.body
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { name: string; payload: string });
    expect(lines[0]).toMatchObject({ name: 'incremented' });
    expect(JSON.parse(Buffer.from(lines[0]?.payload as string, 'base64').toString())).toEqual({ name: 'h', value: 4 });
    const m = await app.inject({ method: 'GET', url: '/metrics', headers: auth });
    expect(m.body).toMatch(/provenant_ledger_height \d+/);
    expect(m.body).toMatch(/provenant_ledger_submits_total\{outcome="committed"\} \d+/);
    const docs = await app.inject({ method: 'GET', url: '/docs/json' });
    expect(docs.statusCode).toBe(200);
    expect(Object.keys(docs.json<{ paths: Record<string, unknown> }>().paths)).toEqual(
      expect.arrayContaining([
        '/v1/submit',
        '/v1/evaluate',
        '/v1/events',
        '/v1/head',
        '/v1/proofs/inclusion/{txId}',
        '/v1/proofs/consistency',
        '/metrics',
        '/health',
      ]),
    );
  });

  it('answers bad proof, block and event requests with 400 / 404 and a code', async () => {
    const cases: [string, number][] = [
      ['/v1/proofs/consistency?from=0', 400],
      ['/v1/proofs/consistency', 400],
      [`/v1/proofs/consistency?from=1&to=${ledger.head().height + 5}`, 400],
      ['/v1/proofs/inclusion/not-hex', 400],
      ['/v1/blocks/999999', 404],
      ['/v1/blocks/-1', 400],
      ['/v1/events?startBlock=-1', 400],
    ];
    for (const [url, status] of cases) {
      const r = await app.inject({ method: 'GET', url, headers: auth });
      expect(r.statusCode, url).toBe(status);
      expect(r.json<{ code: string }>().code, url).toMatch(/^PROV_ERR_/);
    }
  });

  it('refuses to start without a usable token', async () => {
    await expect(buildLedgerServer(ledger, { tokens: new Map() })).rejects.toMatchObject({ code: 'PROV_ERR_CONFIG' });
    await expect(buildLedgerServer(ledger, { tokens: new Map([['short', 'aa']]) })).rejects.toMatchObject({ code: 'PROV_ERR_CONFIG' });
    // A token that may act as any identity is refused outright.
    await expect(buildLedgerServer(ledger, { tokens: new Map([[OPERATOR, '*']]) })).rejects.toMatchObject({
      code: 'PROV_ERR_CONFIG',
      message: expect.stringMatching(/bind each token to one identity/),
    });
    await expect(buildLedgerServer(ledger, { tokens: new Map([[OPERATOR, 'nobody']]) })).rejects.toMatchObject({ code: 'PROV_ERR_CONFIG' });
  });
});

describe('HttpLedgerClient against a listening server', () => {
  const dir = tempDir();
  let ledger: EmbeddedLedger;
  let app: FastifyInstance;
  let client: HttpLedgerClient;

  beforeAll(async () => {
    ledger = await openTestLedger(dir.dir);
    app = await buildLedgerServer(ledger, { tokens: new Map([[OPERATOR, 'edge-1']]) });
    const address = await app.listen({ host: '127.0.0.1', port: 0 });
    client = new HttpLedgerClient({ url: address, token: OPERATOR, identity: 'edge-1' });
  });
  afterAll(async () => {
    await client.close();
    await app.close();
    await ledger.close();
    dir.cleanup();
  });

  it('implements LedgerClient: submit, evaluate, head, proofs, and errors as ProvenantError', async () => {
    const r = await client.submit(counter('increment', ['x', '2']));
    expect(text(r.result)).toBe('2');
    expect(text(await client.evaluate(counter('getCounter', ['x'])))).toBe('2');
    expect(await client.head()).toEqual(ledger.head());
    expect(verifyInclusion(await client.inclusionProof(r.txId), await client.head())).toEqual({ ok: true });
    expect(verifyConsistency(await client.consistencyProof(1))).toEqual({ ok: true });
    const err = await client.submit(counter('fail', ['nope'])).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProvenantError);
    expect(err).toMatchObject({ code: 'PROV_ERR_ENDORSEMENT', message: 'nope' });
    const down = new HttpLedgerClient({ url: 'http://127.0.0.1:1', token: OPERATOR });
    await expect(down.head()).rejects.toMatchObject({ code: 'PROV_ERR_LEDGER_UNAVAILABLE' });
  });

  it('streams events: replay from a start block, then live, until aborted', async () => {
    const before = await client.submit(counter('increment', ['ev', '1']));
    const abort = new AbortController();
    const got: LedgerEvent[] = [];
    const reading = (async () => {
      for await (const e of client.events({ startBlock: before.blockNumber, signal: abort.signal })) {
        got.push(e);
        if (got.length === 3) abort.abort();
      }
    })();
    await new Promise((r) => setTimeout(r, 100));
    await client.submit(counter('increment', ['ev', '1']));
    await client.submit(counter('increment', ['ev', '1']));
    await reading;
    expect(got.map((e) => JSON.parse(text(e.payload)) as { value: number }).map((p) => p.value)).toEqual([1, 2, 3]);
    expect(got[0]).toMatchObject({ blockNumber: before.blockNumber, txId: before.txId, contract: 'Counter', name: 'incremented' });
  });
});

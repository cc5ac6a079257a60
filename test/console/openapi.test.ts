/**
 * Swagger on all three services (edge API, embedded ledger server, auditor): every documented
 * route has a summary and a tag; every request body has at least one example, and every example
 * is accepted by the very schema it illustrates (the auditor's POST /verify example used to be
 * rejected by its own schema). Swagger UI answers at /docs; `/` goes to the console (edge,
 * auditor) or to the Swagger UI (ledger, which has no console).
 */
import { join } from 'node:path';
import Ajv from 'ajv';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EdgeRuntime } from '../../edge-runtime/src/runtime.js';
import { ledgerFixture, tempDir, type LedgerFixture } from '../support/edge-fixture.js';
import { serviceApps, startEdgeOnFixture } from '../support/services.js';

const TOKEN = 'openapi-test-token-0123456789abcdef';
const tmp = tempDir('provenant-openapi-');
let fx: LedgerFixture;
let rt: EdgeRuntime;
const apps: Record<string, FastifyInstance> = {};

beforeAll(async () => {
  fx = await ledgerFixture(join(tmp.dir, 'ledger.db'), 1);
  rt = await startEdgeOnFixture(fx, tmp.dir, { traffic: false });
  Object.assign(apps, await serviceApps(fx, rt, TOKEN));
}, 60_000);
afterAll(async () => {
  for (const app of Object.values(apps)) await app.close();
  await rt.stop();
  await fx.close();
  tmp.cleanup();
});

interface Operation {
  summary?: string;
  tags?: string[];
  requestBody?: { content?: Record<string, { schema?: object; example?: unknown; examples?: Record<string, { value: unknown }> }> };
}

describe.each(['edge', 'ledger', 'auditor'])('OpenAPI of the %s service', (name) => {
  const doc = async (): Promise<{ paths: Record<string, Record<string, Operation>> }> => {
    const res = await (apps[name] as FastifyInstance).inject({
      method: 'GET',
      url: '/openapi.json',
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    if (res.statusCode === 404) return (await (apps[name] as FastifyInstance).inject({ method: 'GET', url: '/docs/json' })).json();
    return res.json();
  };

  it('every route has a summary and a tag', async () => {
    const d = await doc();
    const ops = Object.entries(d.paths).flatMap(([path, methods]) => Object.entries(methods).map(([m, op]) => ({ path, m, op })));
    expect(ops.length).toBeGreaterThan(4);
    for (const { path, m, op } of ops) {
      expect(op.summary, `${m.toUpperCase()} ${path}: summary`).toMatch(/\w/);
      expect(op.tags?.length ?? 0, `${m.toUpperCase()} ${path}: tags`).toBeGreaterThan(0);
    }
  });

  it('every request body has examples, and its own schema accepts each of them', async () => {
    const d = await doc();
    const ajv = new Ajv.default({ strict: false, allErrors: true });
    ajv.addFormat('byte', /^[A-Za-z0-9+/]*={0,2}$/);
    let checked = 0;
    for (const [path, methods] of Object.entries(d.paths)) {
      for (const [m, op] of Object.entries(methods)) {
        const media = op.requestBody?.content?.['application/json'];
        if (!media?.schema) continue;
        const examples = [
          ...(media.example !== undefined ? [media.example] : []),
          ...Object.values(media.examples ?? {}).map((e) => e.value),
        ];
        expect(examples.length, `${m.toUpperCase()} ${path}: examples`).toBeGreaterThan(0);
        const validate = ajv.compile(media.schema);
        for (const ex of examples) {
          expect(validate(ex), `${m.toUpperCase()} ${path} example ${JSON.stringify(ex)}: ${ajv.errorsText(validate.errors)}`).toBe(true);
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(0);
  });

  it('serves Swagger UI at /docs, and / goes to the console (or, on the ledger, to the Swagger UI)', async () => {
    const app = apps[name] as FastifyInstance;
    const ui = await app.inject({ method: 'GET', url: '/docs/' });
    expect([200, 302]).toContain(ui.statusCode);
    const root = await app.inject({ method: 'GET', url: '/' });
    expect(root.statusCode).toBe(302);
    expect(root.headers.location).toBe(name === 'ledger' ? '/docs' : '/console');
  });
});

describe('POST /verify examples are not only schema-valid but accepted by the route', () => {
  it('each example reaches the auditor (no 400)', async () => {
    const d = (await (apps['auditor'] as FastifyInstance).inject({ method: 'GET', url: '/openapi.json' })).json() as {
      paths: Record<string, Record<string, Operation>>;
    };
    const media = d.paths['/verify']?.['post']?.requestBody?.content?.['application/json'];
    const examples = Object.values(media?.examples ?? {}).map((e) => e.value);
    expect(examples.length).toBeGreaterThan(0);
    for (const ex of examples) {
      const res = await (apps['auditor'] as FastifyInstance).inject({
        method: 'POST',
        url: '/verify',
        headers: { authorization: `Bearer ${TOKEN}` },
        payload: ex as object,
      });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json().verdict).toBe('NOT_FOUND');
    }
  });
});

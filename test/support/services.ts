/**
 * The services of a deployment in one test process, on a fixture's embedded ledger
 * (edge-fixture.ts): an edge runtime that knows every fixture device's credential, and the three
 * HTTP apps (edge API, ledger server, auditor) sharing one bearer token, for fastify.inject; and
 * a ledger's HTTP server listening on a free port, for real HTTP clients.
 */
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApi } from '../../edge-runtime/src/api/server.js';
import { EdgeRuntime, type EdgeRuntimeOptions } from '../../edge-runtime/src/runtime.js';
import { CredentialStore } from '../../edge-runtime/src/session/credentials.js';
import { buildAuditorServer } from '../../ledger-bridge/auditor/http/server.js';
import { buildLedgerServer } from '../../ledger-bridge/embedded/http/server.js';
import type { EmbeddedLedger } from '../../ledger-bridge/embedded/ledger.js';
import { TEST_POLICY, type LedgerFixture } from './edge-fixture.js';

/** `edge-1` on the fixture's ledger (its edge identity), outbox in `dir`, TEST_POLICY; `options` override. */
export async function startEdgeOnFixture(
  fx: LedgerFixture,
  dir: string,
  options: Partial<Omit<EdgeRuntimeOptions, 'credentials'>> = {},
): Promise<EdgeRuntime> {
  const credentials = new CredentialStore(fx.issuer.pk);
  for (const d of fx.devices) credentials.add(d.credential);
  return EdgeRuntime.start({
    edgeId: 'edge-1',
    outboxPath: join(dir, 'outbox.db'),
    ledger: fx.edgeClient,
    policy: TEST_POLICY,
    ...options,
    credentials,
  });
}

/** The edge API of `rt`, the ledger's HTTP server and the auditor's, each taking `token` (as the auditor's identity on the ledger). */
export async function serviceApps(
  fx: LedgerFixture,
  rt: EdgeRuntime,
  token: string,
): Promise<Record<'edge' | 'ledger' | 'auditor', FastifyInstance>> {
  return {
    edge: await buildApi(rt, { token }),
    ledger: await buildLedgerServer(fx.ledger, { tokens: new Map([[token, 'auditor']]) }),
    auditor: await buildAuditorServer({ ledger: fx.edgeClient, tokens: [token] }),
  };
}

/** The embedded ledger's HTTP server listening on a free port of 127.0.0.1; `tokens` maps each bearer token to the identity it acts as. */
export async function listenLedger(ledger: EmbeddedLedger, tokens: Record<string, string>): Promise<{ app: FastifyInstance; url: string }> {
  const app = await buildLedgerServer(ledger, { tokens: new Map(Object.entries(tokens)) });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return { app, url };
}

/**
 * vitest global setup: ONE real Fabric network per test run, started only if a test asks for it.
 *
 * Starting a network costs 8-30 s, so it must not happen for `vitest run test/edge`. The global
 * setup therefore only opens a tiny HTTP endpoint on 127.0.0.1 (a free port) and hands its URL
 * to the workers (`provide`); the first test file that calls `FabricTestNetwork.shared()` makes
 * it start the network, later ones get the same one. Teardown runs down.sh (which also stops the
 * chaincode servers test files recorded under run/) and removes the network's folder, unless
 * PROVENANT_FABRIC_KEEP=1 keeps it for its logs.
 */
import { rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { TestProject } from 'vitest/node';
import { fabricKitMissing, FabricTestNetwork, type NetworkInfo } from './network.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** URL of the shared Fabric network's broker (POST /network → NetworkInfo), or '' if none. */
    provenantFabricBroker: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let network: Promise<FabricTestNetwork> | undefined;
  const log = (m: string): void => void process.stderr.write(`[fabric] ${m}\n`);
  const server: Server = createServer((req, res) => {
    if (req.method !== 'POST' || req.url !== '/network') {
      res.writeHead(404).end();
      return;
    }
    const missing = fabricKitMissing();
    if (missing) {
      res.writeHead(503, { 'content-type': 'text/plain' }).end(missing);
      return;
    }
    network ??= FabricTestNetwork.start({ log });
    network.then(
      (n) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(n.info satisfies NetworkInfo)),
      (err: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`the shared Fabric network did not start: ${String(err)}`),
    );
  });
  // Requests wait for the network to come up: no server-side timeout.
  server.requestTimeout = 0;
  server.headersTimeout = 0;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  project.provide('provenantFabricBroker', `http://127.0.0.1:${port}`);
  return async () => {
    await new Promise<void>((r) => server.close(() => r()));
    if (!network) return;
    const n = await network.catch(() => undefined);
    if (!n) return;
    await n.stop();
    if (process.env.PROVENANT_FABRIC_KEEP === '1') log(`network folder kept: ${n.dir}`);
    else rmSync(n.dir, { recursive: true, force: true });
  };
}

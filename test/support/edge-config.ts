/**
 * Edge config files for the tests that start the edge from its config (`provenant edge --config`
 * in a process of its own, or startEdge in this one): the credentials directory as `authority
 * enroll` leaves it, and the config's common part — edge-1, the test policy, the fixture
 * issuer's key, no traffic profiles — with what each test sets itself (boards, ledger, api, log…).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { credentialToJson } from '../../shared/crypto/index.js';
import { toHex } from '../../shared/encoding/hex.js';
import { TEST_POLICY, type TestDevice } from './edge-fixture.js';

/** Writes `<deviceId>.credential.json` of each device into `dir` (created); returns `dir`. */
export function writeCredentials(dir: string, devices: readonly TestDevice[]): string {
  mkdirSync(dir, { recursive: true });
  for (const d of devices) writeFileSync(join(dir, `${d.deviceId}.credential.json`), JSON.stringify(credentialToJson(d.credential)));
  return dir;
}

/** What every test edge shares. */
export interface TestEdgeBase {
  readonly dataDir: string;
  /** The credentials directory (writeCredentials). */
  readonly credDir: string;
  /** The issuer's public key (the fixture's issuer.pk). */
  readonly issuerPk: Uint8Array;
  /** The boards' sampling interval (profile.intervalMs); absent: the config's default. */
  readonly intervalMs?: number;
}

/** The config object: edge-1, the test policy, traffic profiles off, and `rest` (boards, ledger, api, outbox, log…) over it. */
export function testEdgeConfig(base: TestEdgeBase, rest: Record<string, unknown>): Record<string, unknown> {
  return {
    edgeId: 'edge-1',
    dataDir: base.dataDir,
    credentials: { dir: base.credDir, issuerPk: toHex(base.issuerPk) },
    policy: TEST_POLICY,
    ...(base.intervalMs !== undefined ? { profile: { intervalMs: base.intervalMs } } : {}),
    traffic: { enabled: false },
    ...rest,
  };
}

/**
 * Writes `<dir>/edge.json` for an edge process: testEdgeConfig with its data in `<dir>/edge-data`
 * and a short outbox wait (50 ms), `rest` over it. Returns the config's path and the data dir.
 */
export function writeEdgeConfig(
  dir: string,
  base: Omit<TestEdgeBase, 'dataDir'>,
  rest: Record<string, unknown>,
): { configPath: string; dataDir: string } {
  const dataDir = join(dir, 'edge-data');
  const configPath = join(dir, 'edge.json');
  writeFileSync(configPath, JSON.stringify(testEdgeConfig({ ...base, dataDir }, { outbox: { maxWaitMs: 50 }, ...rest })));
  return { configPath, dataDir };
}

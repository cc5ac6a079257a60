/**
 * The Device Provenance suite (Algorithm 2 and its fresh challenges) on the embedded ledger:
 * the real contracts, a real SQLite file, three configured identities, and a ledger clock the
 * test can move forward (to let a challenge expire).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { contracts } from '../../ledger-bridge/contracts/index.js';
import { EmbeddedLedger, EmbeddedLedgerClient } from '../../ledger-bridge/embedded/index.js';
import { deviceProvenanceSuite } from './device-provenance-suite.js';

deviceProvenanceSuite('embedded ledger', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'prov-dp-'));
  let offset = 0;
  const ledger = await EmbeddedLedger.open({
    path: join(dir, 'ledger.db'),
    contracts,
    blockTimeoutMs: 1,
    clock: () => Date.now() + offset,
  });
  return {
    aa: new EmbeddedLedgerClient(ledger, 'aa'),
    prover: new EmbeddedLedgerClient(ledger, 'auditor'),
    other: new EmbeddedLedgerClient(ledger, 'edge-1'),
    advanceClock: (ms: number) => {
      offset += ms;
    },
    close: async () => {
      await ledger.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

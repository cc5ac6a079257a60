/**
 * The shared LedgerClient suite on the embedded ledger (H4b's EmbeddedLedgerClient, real SQLite
 * file in a temp dir, the real contracts), with its default identities 'aa', 'edge-1', 'auditor'.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { contracts } from '../../ledger-bridge/contracts/index.js';
import { EmbeddedLedger, EmbeddedLedgerClient } from '../../ledger-bridge/embedded/index.js';
import { ledgerClientSuite } from './shared-suite.js';

ledgerClientSuite('embedded', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'prov-lc-embedded-'));
  const ledger = await EmbeddedLedger.open({ path: join(dir, 'ledger.db'), contracts, blockTimeoutMs: 1 });
  return {
    aa: new EmbeddedLedgerClient(ledger, 'aa'),
    edge: new EmbeddedLedgerClient(ledger, 'edge-1'),
    auditor: new EmbeddedLedgerClient(ledger, 'auditor'),
    openExtra: async () => EmbeddedLedgerClient.open({ path: join(dir, 'extra.db'), contracts, identity: 'auditor' }),
    close: async () => {
      await ledger.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

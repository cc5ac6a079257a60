/**
 * The epoch-signature suite (issue 16) on the embedded ledger: the real contracts, a real SQLite
 * file, the default identities (aa, edge-1, auditor).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { contracts } from '../../ledger-bridge/contracts/index.js';
import { EmbeddedLedger, EmbeddedLedgerClient } from '../../ledger-bridge/embedded/index.js';
import { epochSignaturesSuite } from './epoch-signatures-suite.js';

epochSignaturesSuite('embedded ledger', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'prov-sig-'));
  const ledger = await EmbeddedLedger.open({ path: join(dir, 'ledger.db'), contracts, blockTimeoutMs: 1 });
  return {
    aa: new EmbeddedLedgerClient(ledger, 'aa'),
    edge: new EmbeddedLedgerClient(ledger, 'edge-1'),
    auditor: new EmbeddedLedgerClient(ledger, 'auditor'),
    close: async () => {
      await ledger.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

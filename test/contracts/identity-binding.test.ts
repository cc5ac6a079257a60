/**
 * The identity-binding suite on the embedded ledger: four configured identities (the default
 * aa, edge-1 and auditor, plus edge-2), the real contracts, a real SQLite file.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { contracts } from '../../ledger-bridge/contracts/index.js';
import { DEFAULT_IDENTITIES, EmbeddedLedger, EmbeddedLedgerClient } from '../../ledger-bridge/embedded/index.js';
import { identityBindingSuite } from './identity-binding-suite.js';

identityBindingSuite('embedded ledger', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'prov-binding-'));
  const identities = [...DEFAULT_IDENTITIES, { name: 'edge-2', mspId: 'EdgeMSP', id: 'x509::/CN=edge-2::/CN=ca', attrs: { role: 'edge' } }];
  const ledger = await EmbeddedLedger.open({ path: join(dir, 'ledger.db'), contracts, identities, blockTimeoutMs: 1 });
  return {
    aa: new EmbeddedLedgerClient(ledger, 'aa'),
    edge1: new EmbeddedLedgerClient(ledger, 'edge-1'),
    edge2: new EmbeddedLedgerClient(ledger, 'edge-2'),
    auditor: new EmbeddedLedgerClient(ledger, 'auditor'),
    close: async () => {
      await ledger.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

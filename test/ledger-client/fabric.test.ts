/**
 * The shared LedgerClient suite on Fabric: three FabricLedgerClients (authority, edge, auditor —
 * three X.509 identities) through @hyperledger/fabric-gateway and real gRPC to the STAND-IN peer,
 * which endorses by running the real four contracts in fabric-shim's chaincode server.
 */
// The stand-in (and with it fabric-shim) must load before fabric-gateway: see chaincode-server.ts.
import { startStandIn } from '../fabric/stand-in.js';
import { join } from 'node:path';
import { contracts } from '../../ledger-bridge/contracts/index.js';
import { FabricLedgerClient } from '../../ledger-bridge/fabric/fabric-client.js';
import { fixtures } from '../fabric/helpers.js';
import { ledgerClientSuite } from './shared-suite.js';

const identity = (who: string) => ({ certPath: join(fixtures, `${who}-cert.pem`), keyPath: join(fixtures, `${who}-key.pem`) });

ledgerClientSuite('fabric (stand-in peer)', async () => {
  const net = await startStandIn(contracts, { batchTimeoutMs: 5 });
  const open = (who: string) => FabricLedgerClient.connect({ ...net.config, ...identity(who) }, { retryBackoffMs: 10 });
  const [aa, edge, auditor] = await Promise.all([open('user'), open('edge'), open('auditor')]);
  return {
    aa,
    edge,
    auditor,
    openExtra: () => open('auditor'),
    close: async () => {
      await Promise.all([aa.close(), edge.close(), auditor.close()]);
      await net.close();
    },
  };
});

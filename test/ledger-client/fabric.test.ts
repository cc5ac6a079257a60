/**
 * The shared LedgerClient suite on a REAL Fabric network (Fabric 2.4.9 orderer + peer, TLS, the
 * run's shared network from test/support/fabric): three FabricLedgerClients acting as the
 * attribute authority, an edge box and an auditor — three distinct Org1 client identities signed
 * by Org1's CA — through @hyperledger/fabric-gateway to the peer, which runs Provenant's chaincode
 * served by `provenant chaincode serve` (chaincode as a service) under this file's own label.
 */
import { FabricLedgerClient } from '../../ledger-bridge/fabric/fabric-client.js';
import { describeFabric, FABRIC_SETUP_TIMEOUT, FabricTestNetwork } from '../support/fabric/index.js';
import { ledgerClientSuite } from './shared-suite.js';

describeFabric('real Fabric network', () => {
  ledgerClientSuite(
    'fabric (real peer + orderer)',
    async () => {
      const net = await FabricTestNetwork.shared();
      const cc = await net.startChaincode({ name: 'lcsuite' });
      const [aaId, edgeId, auditorId] = [net.identity('aa'), net.identity('edge-1'), net.identity('auditor')];
      const open = (who: typeof aaId) => FabricLedgerClient.connect(net.clientConfig(cc.label, who), { retryBackoffMs: 50 });
      const [aa, edge, auditor] = await Promise.all([open(aaId), open(edgeId), open(auditorId)]);
      return {
        aa,
        edge,
        auditor,
        openExtra: () => open(auditorId),
        close: async () => {
          await Promise.all([aa.close(), edge.close(), auditor.close()]);
          await net.release();
        },
      };
    },
    FABRIC_SETUP_TIMEOUT,
  );
});

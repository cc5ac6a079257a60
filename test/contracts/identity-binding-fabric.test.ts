/**
 * The identity-binding suite on the Fabric client path: a REAL Fabric 2.4.9 network (the run's
 * shared one from test/support/fabric), four distinct Org1 client identities signed by Org1's CA,
 * each a FabricLedgerClient through @hyperledger/fabric-gateway; the contracts see them through
 * fabric-shim's ClientIdentity (MSP id + the certificate's subject and issuer).
 */
import { FabricLedgerClient } from '../../ledger-bridge/fabric/fabric-client.js';
import { describeFabric, FABRIC_SETUP_TIMEOUT, FabricTestNetwork } from '../support/fabric/index.js';
import { identityBindingSuite } from './identity-binding-suite.js';

describeFabric('real Fabric network', () => {
  identityBindingSuite(
    'fabric client identities (real peer + orderer)',
    async () => {
      const net = await FabricTestNetwork.shared();
      const cc = await net.startChaincode({ name: 'binding' });
      const ids = [net.identity('aa'), net.identity('edge-1'), net.identity('edge-2'), net.identity('auditor')] as const;
      const [aa, edge1, edge2, auditor] = await Promise.all(
        ids.map((who) => FabricLedgerClient.connect(net.clientConfig(cc.label, who), { retryBackoffMs: 50 })),
      );
      return {
        aa: aa!,
        edge1: edge1!,
        edge2: edge2!,
        auditor: auditor!,
        close: async () => {
          await Promise.all([aa, edge1, edge2, auditor].map((c) => c?.close()));
          await net.release();
        },
      };
    },
    FABRIC_SETUP_TIMEOUT,
  );
});

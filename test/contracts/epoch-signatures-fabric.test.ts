/**
 * The epoch-signature suite (issue 16) on the Fabric client path: a REAL Fabric 2.4.9 network (the
 * run's shared one from test/support/fabric), its own chaincode (fresh state), three distinct Org1
 * client identities through @hyperledger/fabric-gateway.
 */
import { FabricLedgerClient } from '../../ledger-bridge/fabric/fabric-client.js';
import { describeFabric, FABRIC_SETUP_TIMEOUT, FabricTestNetwork } from '../support/fabric/index.js';
import { epochSignaturesSuite } from './epoch-signatures-suite.js';

describeFabric('real Fabric network', () => {
  epochSignaturesSuite(
    'fabric client identities (real peer + orderer)',
    async () => {
      const net = await FabricTestNetwork.shared();
      const cc = await net.startChaincode({ name: 'epochsig' });
      const ids = [net.identity('aa'), net.identity('edge-1'), net.identity('auditor')] as const;
      const [aa, edge, auditor] = await Promise.all(
        ids.map((who) => FabricLedgerClient.connect(net.clientConfig(cc.label, who), { retryBackoffMs: 50 })),
      );
      return {
        aa: aa!,
        edge: edge!,
        auditor: auditor!,
        close: async () => {
          await Promise.all([aa, edge, auditor].map((c) => c?.close()));
          await net.release();
        },
      };
    },
    FABRIC_SETUP_TIMEOUT,
  );
});

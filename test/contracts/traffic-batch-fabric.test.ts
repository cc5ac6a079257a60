/**
 * The submitProfiles suite on the Fabric client path: a REAL Fabric 2.4.9 network (the run's
 * shared one from test/support/fabric), its own chaincode (fresh state), three distinct Org1
 * client identities through @hyperledger/fabric-gateway. What it adds to the embedded run: the
 * peer's stub does not read a transaction's own writes, so a batch that sees its earlier
 * profiles' writes (two windows of a device, a site's marks) shows the contract stages them.
 */
import { FabricLedgerClient } from '../../ledger-bridge/fabric/fabric-client.js';
import { describeFabric, FABRIC_SETUP_TIMEOUT, FabricTestNetwork } from '../support/fabric/index.js';
import { trafficBatchSuite } from './traffic-batch-suite.js';

describeFabric('real Fabric network', () => {
  trafficBatchSuite(
    'fabric client identities (real peer + orderer)',
    async () => {
      const net = await FabricTestNetwork.shared();
      const cc = await net.startChaincode({ name: 'tpbatch' });
      const ids = [net.identity('aa'), net.identity('edge-1'), net.identity('auditor')] as const;
      const [aa, edge, reader] = await Promise.all(
        ids.map((who) => FabricLedgerClient.connect(net.clientConfig(cc.label, who), { retryBackoffMs: 50 })),
      );
      return {
        aa: aa!,
        edge: edge!,
        reader: reader!,
        close: async () => {
          await Promise.all([aa, edge, reader].map((c) => c?.close()));
          await net.release();
        },
      };
    },
    FABRIC_SETUP_TIMEOUT,
  );
});

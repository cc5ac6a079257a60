/**
 * The Device Provenance suite (Algorithm 2's four outcomes, fresh challenges) on the Fabric client
 * path: a REAL Fabric 2.4.9 network (the run's shared one from test/support/fabric), its own
 * chaincode (fresh state), three distinct Org1 client identities through
 * @hyperledger/fabric-gateway. The expiry case needs a ledger clock the test can move and runs on
 * the embedded ledger only (device-provenance.test.ts).
 */
import { FabricLedgerClient } from '../../ledger-bridge/fabric/fabric-client.js';
import { describeFabric, FABRIC_SETUP_TIMEOUT, FabricTestNetwork } from '../support/fabric/index.js';
import { deviceProvenanceSuite } from './device-provenance-suite.js';

describeFabric('real Fabric network', () => {
  deviceProvenanceSuite(
    'fabric client identities (real peer + orderer)',
    async () => {
      const net = await FabricTestNetwork.shared();
      const cc = await net.startChaincode({ name: 'alg2' });
      const ids = [net.identity('aa'), net.identity('auditor'), net.identity('edge-1')] as const;
      const [aa, prover, other] = await Promise.all(
        ids.map((who) => FabricLedgerClient.connect(net.clientConfig(cc.label, who), { retryBackoffMs: 50 })),
      );
      return {
        aa: aa!,
        prover: prover!,
        other: other!,
        close: async () => {
          await Promise.all([aa, prover, other].map((c) => c?.close()));
          await net.release();
        },
      };
    },
    FABRIC_SETUP_TIMEOUT,
  );
});

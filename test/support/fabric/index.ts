/**
 * Test support for a REAL Fabric network (see network.ts and README.md in this folder).
 *
 *   import { describeFabric, FabricTestNetwork } from '../support/fabric/index.js';
 *   describeFabric('my suite', () => {
 *     let net: FabricTestNetwork;
 *     let cc: ChaincodeProcess;
 *     beforeAll(async () => {
 *       net = await FabricTestNetwork.shared();          // the run's network (started on first use)
 *       cc = await net.startChaincode({ name: 'mine' });  // own label: own state
 *     }, 180_000);
 *     afterAll(() => net?.release());
 *     it('...', async () => {
 *       const edge1 = net.identity('edge-1');             // an Org1 client signed by Org1's CA
 *       const client = await FabricLedgerClient.connect(net.clientConfig(cc.label, edge1));
 *     });
 *   });
 */
import { describe } from 'vitest';
import { fabricKitMissing } from './network.js';

export * from './network.js';
export { issueOrgIdentity, type OrgIdentity } from './identity.js';

/** Why Fabric tests skip here, or undefined when the kit is present. Printed once per file. */
export const FABRIC_SKIP: string | undefined = fabricKitMissing();
if (FABRIC_SKIP) process.stderr.write(`[fabric] skipping the real-network Fabric tests: ${FABRIC_SKIP}\n`);

/** `describe` that skips (with the printed reason) where the Fabric kit is absent. */
export const describeFabric = describe.skipIf(FABRIC_SKIP !== undefined);

/**
 * Timeout for a beforeAll that starts or joins a network and deploys a chaincode: 480 s, as
 * faults.test's own network took over 240 s to come up at load ~25.
 */
export const FABRIC_SETUP_TIMEOUT = 480_000;

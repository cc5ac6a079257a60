/**
 * Starts the STAND-IN network for the Fabric client tests: fabric-shim's chaincode server with
 * the given contracts on 127.0.0.1, and the stand-in gateway peer that dials it. No real Fabric
 * peer can run here (no Docker); the FabricLedgerClient under test is the real one, over real
 * gRPC, unaware that the peer is a stand-in.
 */
// chaincode-server first: fabric-shim's protos must load before fabric-gateway's (see there).
import { startChaincodeServer, type ContractClass, type RunningChaincodeServer } from '../../../ledger-bridge/fabric/chaincode-server.js';
import { StandInPeer, type StandInPeerOptions } from './gateway-peer.js';
import type { FabricConfig } from '../../../ledger-bridge/fabric/config.js';
import { certPath, keyPath } from '../../fabric/helpers.js';

/** A running stand-in network and a client config pointing at it. */
export interface StandInNetwork {
  readonly chaincode: RunningChaincodeServer;
  readonly peer: StandInPeer;
  readonly config: FabricConfig;
  close(): Promise<void>;
}

export async function startStandIn(
  contracts: readonly ContractClass[],
  options: Partial<StandInPeerOptions> = {},
  config: Partial<FabricConfig> = {},
): Promise<StandInNetwork> {
  const chaincode = await startChaincodeServer({ address: '127.0.0.1:0', chaincodeId: 'provenant_1.0:test', contracts });
  const peer = await StandInPeer.start({
    channel: 'mychannel',
    chaincodeName: 'provenant',
    chaincodeAddress: `127.0.0.1:${chaincode.port}`,
    batchTimeoutMs: 20,
    ...options,
  });
  return {
    chaincode,
    peer,
    config: {
      peerEndpoint: peer.address,
      mspId: 'Org1MSP',
      certPath,
      keyPath,
      channel: 'mychannel',
      chaincode: 'provenant',
      ...config,
    },
    close: async () => {
      await peer.close();
      await chaincode.close();
    },
  };
}

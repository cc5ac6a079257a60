/**
 * The Fabric backend's client-side surface. The chaincode server (chaincode-server.ts) is imported
 * by path where needed: it loads fabric-shim.
 */
export { FabricLedgerClient, type FabricClientOptions, type FabricClientStats } from './fabric-client.js';
export { FABRIC_CONFIG_SCHEMA, FABRIC_DEFAULTS, loadFabricConfig, validateFabricConfig, type FabricConfig } from './config.js';
export { checkFabricInclusion, decodeBlock, verifyFabricInclusion, type FabricBlockEvidence, type HeaderEvidence } from './block-proof.js';
export { blockDataHash, blockHeaderBytes, blockHeaderHash } from './block-hash.js';

/** The embedded ledger's public surface. */
export { EmbeddedLedger, type EmbeddedLedgerOptions, type EngineProposal, type LedgerStats } from './ledger.js';
export { EmbeddedLedgerClient } from './client.js';
export { type EndorserOptions } from './endorsers.js';
export { DEFAULT_IDENTITIES, EmbeddedClientIdentity, type EmbeddedIdentity, findIdentity, parseIdentities } from './identity.js';
export { ContractHost, type ContractClass, type InvokeOutcome } from './host.js';
export { EmbeddedStub, type StateReader, type Simulation } from './stub.js';
export { createCompositeKey, splitCompositeKey } from './keys.js';
export { verifyInclusion, verifyConsistency, type ConsistencyProof, type EmbeddedInclusionEvidence, type ProofVerdict } from './proofs.js';
export {
  ValidationCode,
  validationCodeName,
  decodeEnvelope,
  decodeHeader,
  encodeEnvelope,
  encodeHeader,
  type BlockHeader,
  type TxEnvelope,
} from './codec.js';
export { type SyncMode } from './store.js';

/**
 * The four Provenant contracts (talk, Algorithms 1–4), for Fabric's chaincode entry point
 * (`contracts`) and the embedded ledger, plus their public types and helpers.
 */
import { DataProvenanceContract } from './data-provenance.js';
import { DeviceProvenanceContract } from './device-provenance.js';
import { DeviceRegistrationContract } from './device-registration.js';
import { TrafficProfileProvenanceContract } from './traffic-profile.js';

export { DataProvenanceContract, DeviceProvenanceContract, DeviceRegistrationContract, TrafficProfileProvenanceContract };
export type { RecordBatchResult } from './data-provenance.js';
export type { RegistrationResult } from './device-registration.js';
export { CONTRACT_ERRORS, contractError, type ContractErrorCode } from './errors.js';
export { KEY_TYPES, KIOT_COLLECTION, KIOT_TRANSIENT_KEY } from './keys.js';
export { canonicalJson } from './logic/canonical.js';
export type { DeviceRecord, LedgerConfig } from './logic/registration.js';
export type { ProveResult } from './logic/device-proof.js';
export type { VerifyResult } from './logic/verify.js';
export type { StoredProfile } from './logic/traffic.js';
export type { StoredPartial } from './logic/partials.js';

/** The contract classes, in the order Fabric's chaincode entry point wants them. */
export const contracts = [DeviceRegistrationContract, DeviceProvenanceContract, DataProvenanceContract, TrafficProfileProvenanceContract];

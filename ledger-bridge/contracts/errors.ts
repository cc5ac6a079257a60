/**
 * The contracts' errors. Fabric carries only a message string from chaincode to client, so every
 * message starts with its stable code: "PROV_ERR_DEVICE_NOT_FOUND: could not find the device d1".
 * Clients (auditor, CLI, edge) recover the code with `codeOf` (shared/errors.ts). The texts of the talk's
 * branches ("could not find the device", "device signature mismatch", "could not locate the
 * record", "signature mismatch") are kept verbatim after the code.
 */
import { ProvenantError, type ErrorDetails } from '../../shared/errors.js';

/** Every code a contract throws. */
export const CONTRACT_ERRORS = {
  /** An argument is not what the transaction takes (JSON shape, hex, number). */
  BAD_INPUT: 'PROV_ERR_BAD_INPUT',
  /** DeviceRegistration.configure was not called yet. */
  NOT_CONFIGURED: 'PROV_ERR_NOT_CONFIGURED',
  /** DeviceRegistration.configure was called before (it is one-time). */
  ALREADY_CONFIGURED: 'PROV_ERR_ALREADY_CONFIGURED',
  /** The caller is not the attribute authority. */
  FORBIDDEN: 'PROV_ERR_FORBIDDEN',
  /** register of a deviceId that exists. */
  DEVICE_EXISTS: 'PROV_ERR_DEVICE_EXISTS',
  /** Alg. 2 "could not find the device" (also update/revoke of an unknown device). */
  DEVICE_NOT_FOUND: 'PROV_ERR_DEVICE_NOT_FOUND',
  /** update or revoke of a revoked device. */
  DEVICE_REVOKED: 'PROV_ERR_DEVICE_REVOKED',
  /** Alg. 2 "device signature mismatch": the challenge response is not HMAC under K_IoT. */
  DEVICE_SIGNATURE_MISMATCH: 'PROV_ERR_DEVICE_SIGNATURE_MISMATCH',
  /** The K_IoT deposit is missing from transient data (register) or from the collection. */
  KIOT_MISSING: 'PROV_ERR_KIOT_MISSING',
  /** Alg. 3 "could not locate the record". */
  RECORD_NOT_FOUND: 'PROV_ERR_RECORD_NOT_FOUND',
  /** Alg. 3 "signature mismatch": the presented tag differs from the recorded one. */
  SIGNATURE_MISMATCH: 'PROV_ERR_SIGNATURE_MISMATCH',
  /** A traffic profile for that device and window is already stored. */
  PROFILE_EXISTS: 'PROV_ERR_PROFILE_EXISTS',
  /** A traffic profile's window is not after the device's last accepted window. */
  PROFILE_STALE: 'PROV_ERR_PROFILE_STALE',
  /** No profile for that device and window. */
  PROFILE_NOT_FOUND: 'PROV_ERR_PROFILE_NOT_FOUND',
  /**
   * The ledger holds a device's readings in the per-reading layout (before batch records) and
   * its replay window was not built yet: DataProvenance:migrateDevice (provenant ledger migrate).
   */
  NOT_MIGRATED: 'PROV_ERR_NOT_MIGRATED',
  /** registerEdge: the identity already acts as another edge. */
  EDGE_EXISTS: 'PROV_ERR_EDGE_EXISTS',
  /** No (active) edge under that edgeId. */
  EDGE_NOT_FOUND: 'PROV_ERR_EDGE_NOT_FOUND',
  /** Alg. 2 freshness: no such challenge issued by the ledger for this device and caller (or already answered). */
  CHALLENGE_UNKNOWN: 'PROV_ERR_CHALLENGE_UNKNOWN',
  /** Alg. 2 freshness: the challenge's expiry (ledger time) has passed. */
  CHALLENGE_EXPIRED: 'PROV_ERR_CHALLENGE_EXPIRED',
} as const;

/** A contract error code. */
export type ContractErrorCode = (typeof CONTRACT_ERRORS)[keyof typeof CONTRACT_ERRORS];

/** A ProvenantError whose message starts with its code (what Fabric will carry). */
export function contractError(code: ContractErrorCode, text: string, details: ErrorDetails = {}): ProvenantError {
  return new ProvenantError(code, `${code}: ${text}`, details);
}

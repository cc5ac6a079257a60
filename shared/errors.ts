/**
 * One error model for every part, and ONE registry of its codes. A ProvenantError carries a
 * stable `code` (PROV_ERR_*) from {@link ERRORS} and a readonly `details` object with our
 * identifiers (deviceId, seq, txId...). The registry gives each code its HTTP status (the same
 * at the edge, the ledger and the auditor: shared/http-errors.ts), whether a later identical
 * attempt may succeed (`retryable`), and a default message.
 *
 * Adding a code is one line in ERRORS; the constructor only takes registered codes, so tsc
 * catches a typo or an unregistered code. Wrong types are `TypeError`s and bad lengths or values
 * `RangeError`s, as in noble-hashes; this class is for domain failures (a forged tag, an
 * unknown device, a broken config).
 *
 * ES5-safe: the firmware bundle may include this file (it does not today: the board throws
 * nothing of ours).
 */

/** What the registry knows about one code. */
export interface ErrorSpec {
  /** HTTP status of a response carrying this code (every server uses the same). */
  readonly status: number;
  /** True when a later identical attempt may succeed (outage, timeout, conflict, back-pressure). */
  readonly retryable: boolean;
  /** Used when the thrower gives no message of its own. */
  readonly message: string;
}

/**
 * Every error code, once. Sorted by area; keep one line per code. Plain literals (no calls) and
 * no reference from ProvenantError, so the firmware bundle tree-shakes the table away.
 */
export const ERRORS = {
  // Input and setup
  PROV_ERR_BAD_INPUT: { status: 400, retryable: false, message: 'the input is not what the operation takes' },
  PROV_ERR_MALFORMED: { status: 400, retryable: false, message: 'the bytes do not decode (reading, frame or record)' },
  PROV_ERR_TOO_LARGE: { status: 413, retryable: false, message: 'the request body is too large' },
  PROV_ERR_CONFIG: { status: 500, retryable: false, message: 'a configuration, file or option is invalid' },
  PROV_ERR_EXISTS: { status: 409, retryable: false, message: 'the file already exists (use --force to overwrite)' },
  // Who is asking
  PROV_ERR_UNAUTHORIZED: { status: 401, retryable: false, message: 'missing or wrong credentials' },
  PROV_ERR_FORBIDDEN: { status: 403, retryable: false, message: 'this identity may not do that' },
  // Not there
  PROV_ERR_NOT_FOUND: { status: 404, retryable: false, message: 'not found' },
  PROV_ERR_DEVICE_NOT_FOUND: { status: 404, retryable: false, message: 'could not find the device' },
  PROV_ERR_RECORD_NOT_FOUND: { status: 404, retryable: false, message: 'could not locate the record' },
  PROV_ERR_TX_NOT_FOUND: { status: 404, retryable: false, message: 'the transaction is not on the chain' },
  PROV_ERR_PROFILE_NOT_FOUND: { status: 404, retryable: false, message: 'no traffic profile for that device and window' },
  // Contract state and verdicts
  PROV_ERR_NOT_CONFIGURED: { status: 409, retryable: false, message: 'DeviceRegistration.configure was not called yet' },
  PROV_ERR_ALREADY_CONFIGURED: { status: 409, retryable: false, message: 'DeviceRegistration.configure is one-time' },
  PROV_ERR_DEVICE_EXISTS: { status: 409, retryable: false, message: 'the device is already registered' },
  PROV_ERR_DEVICE_REVOKED: { status: 409, retryable: false, message: 'the device is revoked' },
  PROV_ERR_PROFILE_EXISTS: { status: 409, retryable: false, message: 'a traffic profile for that device and window is already stored' },
  PROV_ERR_PROFILE_STALE: { status: 409, retryable: false, message: "the profile's window is not after the device's last accepted window" },
  PROV_ERR_NOT_MIGRATED: {
    status: 409,
    retryable: false,
    message: 'the device has readings in the per-reading state layout: migrate them first',
  },
  PROV_ERR_KIOT_MISSING: { status: 422, retryable: false, message: "the device's key deposit (K_tag, K_chal) is missing" },
  PROV_ERR_DEVICE_SIGNATURE_MISMATCH: { status: 422, retryable: false, message: 'device signature mismatch' },
  PROV_ERR_SIGNATURE_MISMATCH: { status: 422, retryable: false, message: 'signature mismatch' },
  PROV_ERR_POLICY_UNSATISFIED: { status: 422, retryable: false, message: 'the device does not satisfy the policy' },
  PROV_ERR_PROOF_INVALID: { status: 422, retryable: false, message: 'the ledger evidence does not verify' },
  PROV_ERR_EDGE_EXISTS: { status: 409, retryable: false, message: 'that identity already acts as another edge' },
  PROV_ERR_EDGE_NOT_FOUND: { status: 404, retryable: false, message: 'no such (active) edge in the edge registry' },
  PROV_ERR_CHALLENGE_UNKNOWN: {
    status: 409,
    retryable: false,
    message: 'the ledger issued no such challenge to this caller, or it was answered already',
  },
  PROV_ERR_CHALLENGE_EXPIRED: { status: 409, retryable: false, message: 'the challenge expired: ask for a fresh one' },
  // Ledger transactions
  PROV_ERR_ENDORSEMENT: { status: 400, retryable: false, message: 'the contract refused the proposal' },
  PROV_ERR_ENDORSEMENT_POLICY_FAILURE: { status: 409, retryable: false, message: 'the transaction did not meet its endorsement policy' },
  PROV_ERR_MVCC_READ_CONFLICT: { status: 409, retryable: true, message: 'a key the transaction read changed before it committed' },
  PROV_ERR_PHANTOM_READ_CONFLICT: { status: 409, retryable: true, message: 'a range the transaction read changed before it committed' },
  PROV_ERR_DUPLICATE_TXID: { status: 409, retryable: false, message: 'a transaction with that id is already on the chain' },
  PROV_ERR_COMMIT: { status: 409, retryable: false, message: 'the transaction was ordered but invalidated' },
  PROV_ERR_SUBMIT: { status: 502, retryable: false, message: 'the orderer did not take the transaction' },
  PROV_ERR_FABRIC: { status: 502, retryable: false, message: 'the Fabric gateway failed' },
  // Availability and storage
  PROV_ERR_LEDGER_UNAVAILABLE: { status: 503, retryable: true, message: 'the ledger is unreachable' },
  PROV_ERR_TIMEOUT: { status: 504, retryable: true, message: 'timed out' },
  PROV_ERR_CANCELLED: { status: 503, retryable: true, message: 'cancelled' },
  PROV_ERR_LEDGER_CLOSED: { status: 503, retryable: false, message: 'the ledger client is closed' },
  PROV_ERR_LEDGER_CORRUPT: { status: 500, retryable: false, message: 'the ledger files are inconsistent' },
  PROV_ERR_STORAGE: { status: 500, retryable: false, message: 'a database file cannot be opened or written' },
  PROV_ERR_LEDGER_FORMAT: { status: 500, retryable: false, message: 'the ledger file has a store format this build does not open' },
  PROV_ERR_DEPOSIT_KEY: { status: 500, retryable: false, message: "the deposit key is missing or does not open the ledger's deposits" },
  PROV_ERR_AUDIT: { status: 502, retryable: false, message: "the ledger's answer contradicts the audited data" },
  PROV_ERR_NO_PROVENANCE_DB: { status: 409, retryable: false, message: 'this auditor runs without a provenance database' },
  PROV_ERR_NO_VALIDATOR: { status: 409, retryable: false, message: 'this edge has neither an auditor nor a provenance database' },
  PROV_ERR_AUDITOR_UNAVAILABLE: { status: 503, retryable: true, message: 'the provenance auditor is unreachable' },
  PROV_ERR_INTERNAL: { status: 500, retryable: true, message: 'internal error' },
  // Edge and boards
  PROV_ERR_NO_SESSION: { status: 409, retryable: true, message: 'the device has no open session' },
  PROV_ERR_LINK_DOWN: { status: 503, retryable: true, message: 'the board link is down' },
  PROV_ERR_BLE_UNAVAILABLE: { status: 503, retryable: false, message: 'BLE is not available on this machine' },
  PROV_ERR_CHALLENGE_TIMEOUT: { status: 504, retryable: true, message: 'the board did not answer the challenge' },
  PROV_ERR_CHALLENGE_UNSUPPORTED: { status: 501, retryable: false, message: 'this edge cannot challenge boards' },
  PROV_ERR_PORT: { status: 503, retryable: true, message: 'the serial port cannot be opened' },
  PROV_ERR_PORT_UNRESPONSIVE: { status: 504, retryable: true, message: 'the board on the serial port does not answer' },
  PROV_ERR_FLASH: { status: 500, retryable: false, message: 'flashing failed' },
  PROV_ERR_FIRMWARE_BUILD: { status: 500, retryable: false, message: 'the firmware build failed' },
  PROV_ERR_HIL: { status: 500, retryable: false, message: 'the hardware-in-the-loop rig failed' },
} as const satisfies Record<string, ErrorSpec>;

/** A registered error code. */
export type ErrorCode = keyof typeof ERRORS;

/**
 * Codes merged into others, kept so messages written by earlier versions (ledger files, logs,
 * remote servers) still classify: old code → its code now.
 */
export const MERGED_CODES: Readonly<Record<string, ErrorCode>> = {
  PROV_ERR_ARGS: 'PROV_ERR_BAD_INPUT',
  PROV_ERR_BAD_ARGS: 'PROV_ERR_BAD_INPUT',
  PROV_ERR_BAD_REQUEST: 'PROV_ERR_BAD_INPUT',
  PROV_ERR_ATTRIBUTES_INVALID: 'PROV_ERR_BAD_INPUT',
  PROV_ERR_SCHEMA_INVALID: 'PROV_ERR_BAD_INPUT',
  PROV_ERR_POLICY_INVALID: 'PROV_ERR_BAD_INPUT',
  PROV_ERR_CREDENTIAL_INVALID: 'PROV_ERR_BAD_INPUT',
  PROV_ERR_PARTIAL_INVALID: 'PROV_ERR_BAD_INPUT',
  PROV_ERR_INVALID_RECORD: 'PROV_ERR_BAD_INPUT',
  PROV_ERR_MALFORMED_READING: 'PROV_ERR_MALFORMED',
  PROV_ERR_MALFORMED_FRAME: 'PROV_ERR_MALFORMED',
  PROV_ERR_DEVICE_FILE_INVALID: 'PROV_ERR_CONFIG',
  PROV_ERR_AUTHORITY_INVALID: 'PROV_ERR_CONFIG',
  PROV_ERR_BAD_BOARD: 'PROV_ERR_CONFIG',
  PROV_ERR_DATASET: 'PROV_ERR_CONFIG',
  PROV_ERR_ACCESS_DENIED: 'PROV_ERR_FORBIDDEN',
  PROV_ERR_UNKNOWN_IDENTITY: 'PROV_ERR_FORBIDDEN',
  PROV_ERR_UNAVAILABLE: 'PROV_ERR_LEDGER_UNAVAILABLE',
  PROV_ERR_CLOSED: 'PROV_ERR_LEDGER_CLOSED',
  PROV_ERR_OUTBOX: 'PROV_ERR_STORAGE',
  PROV_ERR_PROVENANCE_DB: 'PROV_ERR_STORAGE',
  PROV_ERR_LEDGER_STORAGE: 'PROV_ERR_STORAGE',
};

/** True for a registered code. */
export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.prototype.hasOwnProperty.call(ERRORS, code);
}

/** The registered code for a code string (merged codes map to their code now), if any. */
export function toErrorCode(code: unknown): ErrorCode | undefined {
  if (isErrorCode(code)) return code;
  if (typeof code === 'string' && Object.prototype.hasOwnProperty.call(MERGED_CODES, code)) return MERGED_CODES[code];
  return undefined;
}

/** The registry entry of a code. */
export function errorSpec(code: ErrorCode): ErrorSpec {
  return ERRORS[code];
}

export interface ErrorDetails {
  readonly deviceId?: string;
  readonly seq?: number;
  readonly txId?: string;
  readonly field?: string;
  readonly cause?: unknown;
  readonly [key: string]: unknown;
}

/** A domain error with a registered code. */
export class ProvenantError extends Error {
  readonly code: ErrorCode;
  readonly details: ErrorDetails;

  constructor(code: ErrorCode, message: string, details: ErrorDetails = {}) {
    super(message);
    // Restore the prototype chain when compiled to ES5 (Error subclassing quirk).
    Object.setPrototypeOf(this, new.target.prototype);
    this.name = 'ProvenantError';
    this.code = code;
    this.details = details;
  }
}

const CODE_IN_TEXT = /PROV_ERR_[A-Z0-9_]+/g;

/**
 * The code of any thrown value. A contract's code travels at the start of the message (that is
 * all Fabric carries from chaincode to client), possibly wrapped by a backend error with a code
 * of its own (PROV_ERR_ENDORSEMENT), so a registered code in the message wins over `code`.
 * Merged codes map to their code now. `undefined` when there is none.
 */
export function codeOf(err: unknown): ErrorCode | undefined {
  const message = err instanceof Error ? err.message : typeof err === 'string' ? err : '';
  const found = message.match(CODE_IN_TEXT);
  if (found) {
    for (let i = 0; i < found.length; i++) {
      const c = toErrorCode(found[i]);
      if (c !== undefined) return c;
    }
  }
  return toErrorCode((err as { code?: unknown } | null | undefined)?.code);
}

/** Whether a later identical attempt may succeed; unknown errors count as retryable. */
export function isRetryable(err: unknown): boolean {
  const code = codeOf(err);
  return code === undefined ? true : ERRORS[code].retryable;
}

/**
 * One error model for every part. Errors carry a stable `code` (PROV_ERR_*), which the HTTP APIs
 * return as-is, and a readonly `details` object with our identifiers (deviceId, seq, txId...).
 * Wrong types are `TypeError`s and bad lengths or values `RangeError`s, as in noble-hashes; this
 * class is for domain failures (a forged tag, an unknown device, a broken config).
 *
 * ES5-safe: the firmware bundle may include this file.
 */
export interface ErrorDetails {
  readonly deviceId?: string;
  readonly seq?: number;
  readonly txId?: string;
  readonly field?: string;
  readonly cause?: unknown;
  readonly [key: string]: unknown;
}

/** A domain error with a stable code. */
export class ProvenantError extends Error {
  readonly code: string;
  readonly details: ErrorDetails;

  constructor(code: string, message: string, details: ErrorDetails = {}) {
    super(message);
    // Restore the prototype chain when compiled to ES5 (Error subclassing quirk).
    Object.setPrototypeOf(this, new.target.prototype);
    this.name = 'ProvenantError';
    this.code = code;
    this.details = details;
  }
}

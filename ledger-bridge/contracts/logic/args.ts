/**
 * Transaction arguments arrive as strings; these turn them into values or throw
 * PROV_ERR_BAD_INPUT naming the argument.
 */
import { CONTRACT_ERRORS, contractError } from '../errors.js';

/** Largest JSON argument a transaction accepts (a 10,000-reading batch is ~4 MB). */
export const MAX_ARG_CHARS = 16 * 1024 * 1024;

/** Parses a JSON argument. */
export function parseJsonArg(text: unknown, name: string): unknown {
  if (typeof text !== 'string') throw contractError(CONTRACT_ERRORS.BAD_INPUT, `${name} must be a JSON string`, { field: name });
  if (text.length > MAX_ARG_CHARS)
    throw contractError(CONTRACT_ERRORS.BAD_INPUT, `${name} exceeds ${MAX_ARG_CHARS} characters`, { field: name });
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw contractError(CONTRACT_ERRORS.BAD_INPUT, `${name} is not JSON (${(err as Error).message})`, { field: name });
  }
}

/** A plain JSON object (not an array, not null). */
export function isPlainObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** Parses a decimal integer argument in [min, max]. */
export function parseIntArg(text: unknown, name: string, min: number, max: number): number {
  if (typeof text !== 'string' || !/^(0|[1-9][0-9]{0,15})$/.test(text)) {
    throw contractError(CONTRACT_ERRORS.BAD_INPUT, `${name} must be a decimal integer`, { field: name });
  }
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < min || n > max)
    throw contractError(CONTRACT_ERRORS.BAD_INPUT, `${name} must be in ${min}..${max}`, { field: name });
  return n;
}

/** Parses a hex argument (any case) to lower case; `bytes` fixes its length. */
export function parseHexArg(text: unknown, name: string, bytes?: number): string {
  if (typeof text !== 'string' || !/^(?:[0-9a-fA-F]{2})+$/.test(text)) {
    throw contractError(CONTRACT_ERRORS.BAD_INPUT, `${name} must be non-empty even-length hex`, { field: name });
  }
  if (bytes !== undefined && text.length !== bytes * 2)
    throw contractError(CONTRACT_ERRORS.BAD_INPUT, `${name} must be ${bytes} bytes`, { field: name });
  return text.toLowerCase();
}

/** Checks a deviceId argument: 1..64 printable ASCII characters without spaces. */
export function parseDeviceIdArg(text: unknown): string {
  if (typeof text !== 'string' || !/^[\x21-\x7e]{1,64}$/.test(text)) {
    throw contractError(CONTRACT_ERRORS.BAD_INPUT, 'deviceId must be 1..64 printable ASCII characters without spaces', {
      field: 'deviceId',
    });
  }
  return text;
}

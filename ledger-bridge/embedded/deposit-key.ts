/**
 * Private data at rest (the K_IoT deposits of the `kIotDeposits` collection): the embedded ledger
 * keeps them in their own table, never in a block or in world state, and encrypted with
 * AES-256-GCM under a 32-byte deposit key that is NOT in the database file. Each value is
 * `nonce (12) ‖ ciphertext ‖ tag (16)`, with the collection, key and version as associated data, so
 * a value cannot be moved to another key or rolled back to an older version of the same key
 * without failing to open. The chain keeps SHA-256 of the plaintext, as before.
 *
 * Where the key comes from, first match:
 *   1. `depositKey` given in code (bytes), e.g. from a KMS the caller asked;
 *   2. env PROVENANT_DEPOSIT_KEY: 64 hex digits (an operator's KMS or secret manager fills it);
 *   3. a key file (`depositKeyFile`, default `<db>.deposit-key`): 64 hex digits; created with a
 *      fresh random key (mode 0600, atomically) when it does not exist and the ledger is new.
 *
 * The database remembers an HMAC of the key (meta `depositKeyCheck`), so opening it with another
 * key fails at once (PROV_ERR_DEPOSIT_KEY) instead of at the first deposit read. Messages never
 * contain key bytes.
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { ProvenantError } from '../../shared/errors.js';
import { writeSecretFile } from '../../shared/secret-files.js';

/** Length of the deposit key. */
export const DEPOSIT_KEY_BYTES = 32;
/** Environment variable holding the deposit key (64 hex digits). */
export const DEPOSIT_KEY_ENV = 'PROVENANT_DEPOSIT_KEY';

const NONCE = 12;
const TAG = 16;

function keyError(message: string): ProvenantError {
  return new ProvenantError('PROV_ERR_DEPOSIT_KEY', message, { field: 'depositKey' });
}

function parseKeyText(text: string, source: string): Uint8Array {
  const hex = text.trim();
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) throw keyError(`${source} must hold the deposit key as 64 hex digits (32 bytes)`);
  return new Uint8Array(Buffer.from(hex, 'hex'));
}

/** Options naming the deposit key (see the module comment for the order). */
export interface DepositKeyOptions {
  readonly depositKey?: Uint8Array;
  readonly depositKeyFile?: string;
}

/** The default key file of a ledger database. */
export function defaultDepositKeyFile(dbPath: string): string {
  return `${dbPath}.deposit-key`;
}

/**
 * The deposit key for the ledger at `dbPath`. `mayCreate`: a missing key file may be created
 * (only for a new ledger: an existing one with deposits needs its old key).
 */
export function resolveDepositKey(dbPath: string, options: DepositKeyOptions, mayCreate: boolean): Uint8Array {
  if (options.depositKey !== undefined) {
    if (!(options.depositKey instanceof Uint8Array) || options.depositKey.length !== DEPOSIT_KEY_BYTES)
      throw keyError(`depositKey must be ${DEPOSIT_KEY_BYTES} bytes`);
    return options.depositKey;
  }
  const env = process.env[DEPOSIT_KEY_ENV];
  if (env !== undefined && env.trim() !== '') return parseKeyText(env, `env ${DEPOSIT_KEY_ENV}`);
  const file = options.depositKeyFile ?? defaultDepositKeyFile(dbPath);
  if (existsSync(file)) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw keyError(`cannot read the deposit key file ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    return parseKeyText(text, `deposit key file ${file}`);
  }
  if (!mayCreate)
    throw keyError(
      `the ledger ${dbPath} holds deposits but its deposit key is missing: give --deposit-key-file, or set ${DEPOSIT_KEY_ENV}`,
    );
  const key = new Uint8Array(randomBytes(DEPOSIT_KEY_BYTES));
  writeSecretFile(file, `${Buffer.from(key).toString('hex')}\n`);
  return key;
}

/** AES-256-GCM over private values, bound to (collection, key, version). */
export class DepositCipher {
  private readonly key: Buffer;

  constructor(key: Uint8Array) {
    if (key.length !== DEPOSIT_KEY_BYTES) throw keyError(`the deposit key must be ${DEPOSIT_KEY_BYTES} bytes`);
    this.key = Buffer.from(key);
  }

  /** The key's check value kept in the database (HMAC, reveals nothing about the key). */
  check(): string {
    return createHmac('sha256', this.key).update('provenant/deposit-key-check/v1').digest('hex');
  }

  /** Throws PROV_ERR_DEPOSIT_KEY unless `stored` is this key's check value. */
  assertCheck(stored: string, dbPath: string): void {
    const mine = Buffer.from(this.check(), 'hex');
    const theirs = Buffer.from(stored, 'hex');
    if (theirs.length !== mine.length || !timingSafeEqual(mine, theirs))
      throw keyError(`this deposit key does not open the deposits of ${dbPath} (it was created under another key)`);
  }

  private static aad(collection: string, key: string, version: number): Buffer {
    return Buffer.from(`provenant/deposit/v1\u0000${collection}\u0000${key}\u0000${version}`, 'utf8');
  }

  /** Encrypts a private value for the table. */
  seal(collection: string, key: string, version: number, value: Uint8Array): Buffer {
    const nonce = randomBytes(NONCE);
    const c = createCipheriv('aes-256-gcm', this.key, nonce);
    c.setAAD(DepositCipher.aad(collection, key, version));
    const body = Buffer.concat([c.update(value), c.final()]);
    return Buffer.concat([nonce, body, c.getAuthTag()]);
  }

  /** Decrypts a value from the table; PROV_ERR_DEPOSIT_KEY if it was altered, moved or sealed under another key. */
  open(collection: string, key: string, version: number, sealed: Uint8Array): Uint8Array {
    const b = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
    if (b.length < NONCE + TAG) throw keyError(`private value ${collection}/${JSON.stringify(key)} is too short to be sealed`);
    try {
      const d = createDecipheriv('aes-256-gcm', this.key, b.subarray(0, NONCE));
      d.setAAD(DepositCipher.aad(collection, key, version));
      d.setAuthTag(b.subarray(b.length - TAG));
      return new Uint8Array(Buffer.concat([d.update(b.subarray(NONCE, b.length - TAG)), d.final()]));
    } catch {
      throw keyError(
        `private value ${collection}/${JSON.stringify(key)} does not open under the deposit key (altered, moved or another key)`,
      );
    }
  }
}

/**
 * Files that hold secrets (K_IoT, the issuer key, credentials, bearer tokens, the ledger's
 * deposit key, a flash upload): created mode 0600 atomically — written under a temporary name
 * opened with O_CREAT|O_EXCL and mode 0600, flushed, then renamed over the target — so no other
 * user ever sees a partly written or world-readable secret, and a crash leaves either the old file
 * or the new one. Directories created for them are 0700. Errors name the file and the problem,
 * never its content: JSON.parse's messages quote the text they failed on, so they are not passed
 * on for secret files.
 *
 * Node-only (the firmware bundle never includes this module).
 */
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { ProvenantError } from './errors.js';

/** Mode of every secret file. */
export const SECRET_FILE_MODE = 0o600;
/** Mode of directories created for secret files. */
export const SECRET_DIR_MODE = 0o700;
/** Mode of files without secrets (public keys, registrations). */
export const PUBLIC_FILE_MODE = 0o644;

/** Options of {@link writeFileAtomic}. */
export interface AtomicWriteOptions {
  /** File mode (default 0600). */
  readonly mode?: number;
  /** Replace an existing file (default: refuse with PROV_ERR_EXISTS). */
  readonly overwrite?: boolean;
}

/** Creates `dir` (and missing parents) mode 0700 when it does not exist. */
export function ensurePrivateDir(dir: string): void {
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: SECRET_DIR_MODE });
}

/**
 * Writes `data` to `path` atomically with `mode` (default 0600): temp file in the same directory
 * (O_EXCL, the mode from the start), fsync, rename. The parent directory is created 0700 if it
 * is missing. Refuses to replace an existing file unless `overwrite`.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array, options: AtomicWriteOptions = {}): void {
  const mode = options.mode ?? SECRET_FILE_MODE;
  if (options.overwrite !== true && existsSync(path))
    throw new ProvenantError('PROV_ERR_EXISTS', `${path} already exists (use --force to overwrite)`, { field: path });
  ensurePrivateDir(dirname(path));
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  const fd = openSync(tmp, 'wx', mode);
  try {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw err;
  }
  closeSync(fd);
  try {
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

/** {@link writeFileAtomic} with mode 0600. */
export function writeSecretFile(path: string, data: string | Uint8Array, options: { overwrite?: boolean } = {}): void {
  writeFileAtomic(path, data, { ...options, mode: SECRET_FILE_MODE });
}

/**
 * A JSON.parse failure described without the text it quotes ("at position 28" when V8 says
 * where), for files whose content is secret.
 */
export function jsonErrorWithoutContent(err: unknown): string {
  const at = /position (\d+)/.exec(err instanceof Error ? err.message : '');
  return at ? `not valid JSON (at position ${at[1]})` : 'not valid JSON';
}

/**
 * The attribute authority's files (Node-only; shared/crypto stays free of file I/O).
 *
 * An authority directory holds:
 *   issuer.secret.json   { version, sk }                 mode 0600 — the BBS issuer secret key
 *   issuer.public.json   { version, pk, schema, header }  the issuer public key and the attribute schema
 *
 * Enrolling a device writes, into an output directory:
 *   <ID>.device.json        { version, deviceId, kIoT, board? }  mode 0600 — for flashing the board
 *   <ID>.credential.json    the credential K_Fog (no K_IoT)       mode 0600 — for the edge (it makes partials)
 *   <ID>.registration.json  the registration record (no secrets)  — for the Device Registration contract,
 *                           with the Algorithm 2 metadata (gatewayId, firmwareHash) when given
 *
 * Every file is written atomically (temp name with its final mode, fsync, rename), directories
 * created here are 0700, and errors about secret files never quote their content.
 *
 * readDeviceFile / readCredentialFile parse the first two strictly, for flashing, the K_IoT
 * deposit and the edge.
 *
 * The demo and tests use these functions directly; `provenant authority` is a thin shell over them.
 * Call `await ready()` from shared/crypto first.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { equalBytes } from '../shared/encoding/bytes.js';
import { fromHex, toHex } from '../shared/encoding/hex.js';
import { ProvenantError } from '../shared/errors.js';
import { ensurePrivateDir, jsonErrorWithoutContent, PUBLIC_FILE_MODE, SECRET_FILE_MODE, writeFileAtomic } from '../shared/secret-files.js';
import * as bbs from '../shared/crypto/bbs.js';
import { assertIdentifier } from '../shared/crypto/presentation.js';
import {
  assertSchema,
  credentialFromJson,
  credentialToJson,
  schemaHeader,
  type Credential,
  type Registration,
} from '../shared/crypto/credential.js';
import { enrollDevice, setup, type Issuer } from '../shared/crypto/outsourced.js';

/** File names inside an authority directory. */
export const AUTHORITY_FILES = { secret: 'issuer.secret.json', public: 'issuer.public.json' } as const;

/** JSON of issuer.public.json: what edges and the ledger need to verify credentials and proofs. */
export interface IssuerPublicJson {
  readonly version: 1;
  readonly pk: string;
  readonly schema: string[];
  readonly header: string;
}

function writeFileChecked(path: string, text: string, mode: number, force: boolean): void {
  writeFileAtomic(path, text, { mode, overwrite: force });
}

function readJson(path: string, what: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new ProvenantError('PROV_ERR_NOT_FOUND', `${what} not found: ${path} (run provenant authority init first?)`, { field: path });
  }
  let json: unknown;
  try {
    json = JSON.parse(text) as unknown;
  } catch (err) {
    // Never JSON.parse's message: it quotes the text, and these files hold keys.
    throw new ProvenantError('PROV_ERR_CONFIG', `${what} ${path} is ${jsonErrorWithoutContent(err)}`, { field: path });
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw new ProvenantError('PROV_ERR_CONFIG', `${what} ${path} is not a JSON object`, { field: path });
  return json as Record<string, unknown>;
}

/**
 * Creates an authority in `dir`: a fresh issuer key pair and the schema. Refuses to overwrite an
 * existing authority unless `force`. Returns the issuer (its `sk` must not be logged).
 */
export function initAuthority(
  dir: string,
  options: { schema?: readonly string[]; force?: boolean; keyMaterial?: Uint8Array } = {},
): Issuer {
  const issuer = setup({
    ...(options.schema ? { schema: options.schema } : {}),
    ...(options.keyMaterial ? { keyMaterial: options.keyMaterial } : {}),
  });
  const force = options.force === true;
  const secretPath = join(dir, AUTHORITY_FILES.secret);
  const publicPath = join(dir, AUTHORITY_FILES.public);
  if (!force) {
    for (const p of [secretPath, publicPath]) {
      if (existsSync(p)) throw new ProvenantError('PROV_ERR_EXISTS', `${p} already exists (use --force to overwrite)`, { field: p });
    }
  }
  ensurePrivateDir(dir);
  const pub: IssuerPublicJson = {
    version: 1,
    pk: toHex(issuer.pk),
    schema: [...issuer.schema],
    header: toHex(schemaHeader(issuer.schema)),
  };
  writeFileChecked(secretPath, `${JSON.stringify({ version: 1, sk: toHex(issuer.sk) }, null, 2)}\n`, SECRET_FILE_MODE, force);
  writeFileChecked(publicPath, `${JSON.stringify(pub, null, 2)}\n`, PUBLIC_FILE_MODE, force);
  return issuer;
}

/** Reads issuer.public.json: the issuer public key and schema (no secret needed). */
export function loadIssuerPublic(dir: string): { pk: Uint8Array; schema: readonly string[] } {
  return loadIssuerPublicFile(join(dir, AUTHORITY_FILES.public));
}

/** Reads an issuer public key file (issuer.public.json, wherever it was copied to). */
export function loadIssuerPublicFile(path: string): { pk: Uint8Array; schema: readonly string[] } {
  const json = readJson(path, 'issuer public key');
  const schema = json['schema'];
  try {
    assertSchema(schema);
    if (typeof json['pk'] !== 'string') throw new Error('field "pk" missing');
    const pk = fromHex(json['pk']);
    if (pk.length !== 96) throw new Error('pk must be 96 bytes');
    return { pk, schema };
  } catch (err) {
    throw new ProvenantError('PROV_ERR_CONFIG', `${path}: ${(err as Error).message}`, { field: path });
  }
}

/** Reads the whole authority (secret key included) and checks that the key pair matches. */
export function loadAuthority(dir: string): Issuer {
  const { pk, schema } = loadIssuerPublic(dir);
  const path = join(dir, AUTHORITY_FILES.secret);
  const json = readJson(path, 'issuer secret key');
  let sk: Uint8Array;
  try {
    if (typeof json['sk'] !== 'string') throw new Error('field "sk" missing');
    sk = fromHex(json['sk']);
    if (sk.length !== 32) throw new Error('sk must be 32 bytes');
  } catch (err) {
    throw new ProvenantError('PROV_ERR_CONFIG', `${path}: ${(err as Error).message}`, { field: path });
  }
  if (!equalBytes(bbs.skToPk(sk), pk)) {
    throw new ProvenantError('PROV_ERR_CONFIG', `${path} does not match the public key in ${AUTHORITY_FILES.public}`, {
      field: path,
    });
  }
  return { sk, pk, schema };
}

/** Paths of the three files an enrollment writes. */
export interface EnrollmentFiles {
  readonly device: string;
  readonly credential: string;
  readonly registration: string;
}

/** Options of {@link enrollToFiles}. */
export interface EnrollOptions {
  /** Where the three files go (default: the authority directory). */
  readonly outDir?: string;
  /** Board profile name recorded for flashing (e.g. PICO). */
  readonly board?: string;
  /** Overwrite an earlier enrollment of the same device (its old K_IoT is lost). */
  readonly force?: boolean;
  /** Algorithm 2 metadata written into the registration file: the edge the device is pinned to. */
  readonly gatewayId?: string;
  /** Algorithm 2 metadata: SHA-256 of the firmware the device must report (64 hex digits). */
  readonly firmwareHash?: string;
}

/**
 * Enrolls one device with the authority in `dir` and writes its three files. Throws
 * PROV_ERR_BAD_INPUT (missing / unknown attribute), PROV_ERR_EXISTS (already enrolled).
 */
export function enrollToFiles(
  dir: string,
  attributes: Readonly<Record<string, string>>,
  options: EnrollOptions = {},
): { files: EnrollmentFiles; credential: Credential; registration: Registration } {
  const issuer = loadAuthority(dir);
  if (options.board !== undefined && !/^[A-Za-z0-9_-]{1,32}$/.test(options.board)) {
    throw new ProvenantError('PROV_ERR_BAD_INPUT', `board "${options.board}" must be 1..32 characters of [A-Za-z0-9_-]`, {
      field: 'board',
    });
  }
  const deviceId = attributes['deviceId'];
  try {
    assertIdentifier(deviceId, 'deviceId');
  } catch (err) {
    throw new ProvenantError('PROV_ERR_BAD_INPUT', (err as Error).message, { field: 'deviceId' });
  }
  // Device ids become file names: keep them to a safe alphabet.
  if (!/^[A-Za-z0-9._:-]+$/.test(deviceId) || deviceId.startsWith('.')) {
    throw new ProvenantError('PROV_ERR_BAD_INPUT', `deviceId "${deviceId}" must be [A-Za-z0-9._:-] and not start with '.'`, {
      field: 'deviceId',
    });
  }
  if (options.gatewayId !== undefined) {
    try {
      assertIdentifier(options.gatewayId, 'gatewayId');
    } catch (err) {
      throw new ProvenantError('PROV_ERR_BAD_INPUT', (err as Error).message, { field: 'gateway' });
    }
  }
  if (options.firmwareHash !== undefined && !/^[0-9a-fA-F]{64}$/.test(options.firmwareHash))
    throw new ProvenantError('PROV_ERR_BAD_INPUT', '--firmware-hash must be 64 hex digits (SHA-256)', { field: 'firmware-hash' });
  const outDir = options.outDir ?? dir;
  const files: EnrollmentFiles = {
    device: join(outDir, `${deviceId}.device.json`),
    credential: join(outDir, `${deviceId}.credential.json`),
    registration: join(outDir, `${deviceId}.registration.json`),
  };
  const force = options.force === true;
  if (!force) {
    for (const p of Object.values(files)) {
      if (existsSync(p))
        throw new ProvenantError('PROV_ERR_EXISTS', `${p} already exists: device ${deviceId} is enrolled (use --force to re-enroll)`, {
          deviceId,
        });
    }
  }
  const enrollment = enrollDevice(issuer, attributes);
  ensurePrivateDir(outDir);
  const device = { version: 1, deviceId, kIoT: toHex(enrollment.device.kIoT), ...(options.board ? { board: options.board } : {}) };
  writeFileChecked(files.device, `${JSON.stringify(device, null, 2)}\n`, SECRET_FILE_MODE, force);
  // The credential lets its holder make partial signatures for the device: a secret of the edge.
  writeFileChecked(files.credential, `${JSON.stringify(credentialToJson(enrollment.credential), null, 2)}\n`, SECRET_FILE_MODE, force);
  const registration = {
    version: 1,
    ...enrollment.registration,
    ...(options.gatewayId !== undefined ? { gatewayId: options.gatewayId } : {}),
    ...(options.firmwareHash !== undefined ? { firmwareHash: options.firmwareHash.toLowerCase() } : {}),
  };
  writeFileChecked(files.registration, `${JSON.stringify(registration, null, 2)}\n`, PUBLIC_FILE_MODE, force);
  return { files, credential: enrollment.credential, registration: enrollment.registration };
}

/** A parsed `<ID>.device.json`: what flashing and the ledger's K_IoT deposit need. Secret. */
export interface DeviceFile {
  readonly deviceId: string;
  readonly kIoT: Uint8Array;
  readonly board?: string;
}

/** Reads `<ID>.device.json` strictly (PROV_ERR_CONFIG names the field, never the key). */
export function readDeviceFile(path: string): DeviceFile {
  const json = readJson(path, 'device file');
  const fail = (message: string, field: string): ProvenantError => new ProvenantError('PROV_ERR_CONFIG', `${path}: ${message}`, { field });
  if (json['version'] !== 1) throw fail('unsupported version (expected 1)', 'version');
  const deviceId = json['deviceId'];
  try {
    assertIdentifier(deviceId, 'deviceId');
  } catch (err) {
    throw fail((err as Error).message, 'deviceId');
  }
  const hex = json['kIoT'];
  if (typeof hex !== 'string' || !/^[0-9a-fA-F]{64}$/.test(hex)) throw fail('kIoT must be 64 hex digits (32 bytes)', 'kIoT');
  const board = json['board'];
  if (board !== undefined && (typeof board !== 'string' || !/^[A-Za-z0-9_-]{1,32}$/.test(board)))
    throw fail('board must be 1..32 characters of [A-Za-z0-9_-]', 'board');
  return { deviceId, kIoT: fromHex(hex), ...(board !== undefined ? { board } : {}) };
}

/** Reads `<ID>.credential.json` strictly (does not verify the signature: see checkCredential). */
export function readCredentialFile(path: string): Credential {
  return credentialFromJson(readJson(path, 'credential file'));
}

/**
 * Reads `<ID>.device.json` (written by `provenant authority enroll`: { version, deviceId, kIoT
 * (64 hex), board? }) for flashing. Strict; errors name the field, never print the key.
 */
import { readFileSync } from 'node:fs';
import { ProvenantError } from '../shared/errors.js';

/** What the flasher and the monitor need from a device file. Holds a secret. */
export interface DeviceFile {
  readonly deviceId: string;
  readonly kIoT: Uint8Array;
  readonly board?: string;
}

function bad(path: string, why: string, field: string): ProvenantError {
  return new ProvenantError('PROV_ERR_CONFIG', `device file ${path}: ${why}`, { field });
}

/** Parses a device file. */
export function readDeviceFile(path: string): DeviceFile {
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw bad(path, e instanceof SyntaxError ? 'not JSON' : `cannot read (${(e as NodeJS.ErrnoException).code ?? 'error'})`, 'file');
  }
  if (!json || typeof json !== 'object') throw bad(path, 'not a JSON object', 'file');
  const deviceId = json['deviceId'];
  if (typeof deviceId !== 'string' || !/^[\x21-\x7e]{1,64}$/.test(deviceId))
    throw bad(path, 'deviceId must be 1..64 printable ASCII characters without spaces', 'deviceId');
  const hex = json['kIoT'];
  if (typeof hex !== 'string' || !/^[0-9a-fA-F]{64}$/.test(hex)) throw bad(path, 'kIoT must be 64 hex digits (32 bytes)', 'kIoT');
  const board = json['board'];
  if (board !== undefined && typeof board !== 'string') throw bad(path, 'board must be a string', 'board');
  return { deviceId, kIoT: new Uint8Array(Buffer.from(hex, 'hex')), ...(typeof board === 'string' ? { board } : {}) };
}

/** The authority's programmatic file API (what the demo uses), in a temporary directory. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enrollToFiles, initAuthority, loadAuthority, loadIssuerPublic, readDeviceFile } from '../../cli/authority-store.js';
import * as bbs from '../../shared/crypto/bbs.js';
import { ProvenantError } from '../../shared/errors.js';

let tmp: string;
beforeAll(async () => {
  await bbs.ready();
  tmp = mkdtempSync(join(tmpdir(), 'provenant-store-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return err instanceof ProvenantError ? err.code : `not a ProvenantError: ${String(err)}`;
  }
  return 'no error';
}

describe('authority store', () => {
  it('init → load → enroll round-trips keys and schema', () => {
    const dir = join(tmp, 'a');
    const issuer = initAuthority(dir, { schema: ['deviceId', 'room'] });
    const loaded = loadAuthority(dir);
    expect(Buffer.from(loaded.sk).equals(Buffer.from(issuer.sk))).toBe(true);
    expect(loadIssuerPublic(dir).schema).toEqual(['deviceId', 'room']);
    const { files, registration } = enrollToFiles(dir, { deviceId: 'd-1', room: 'lab' });
    expect(registration.attributes).toEqual({ deviceId: 'd-1', room: 'lab' });
    expect(readDeviceFile(files.device).kIoT).toHaveLength(32);
  });

  it('detects a secret key that does not match the public key', () => {
    const a = join(tmp, 'b1');
    const b = join(tmp, 'b2');
    initAuthority(a);
    initAuthority(b);
    writeFileSync(join(a, 'issuer.secret.json'), readFileSync(join(b, 'issuer.secret.json'), 'utf8'));
    expect(code(() => loadAuthority(a))).toBe('PROV_ERR_CONFIG');
  });

  it('rejects broken files with codes that name the problem, never echoing a key', () => {
    const dir = join(tmp, 'c');
    initAuthority(dir);
    writeFileSync(join(dir, 'issuer.public.json'), '{not json');
    expect(code(() => loadIssuerPublic(dir))).toBe('PROV_ERR_CONFIG');
    const bad = join(tmp, 'bad.device.json');
    writeFileSync(bad, JSON.stringify({ version: 1, deviceId: 'd', kIoT: 'abcd' }));
    expect(code(() => readDeviceFile(bad))).toBe('PROV_ERR_CONFIG');
    expect(code(() => readDeviceFile(join(tmp, 'missing.json')))).toBe('PROV_ERR_NOT_FOUND');
  });
});

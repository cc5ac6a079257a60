/**
 * `provenant authority` through the CLI, in a temporary directory: the files it writes, their
 * modes, and its refusals. The first test runs the real program (node bin/provenant.js in a child
 * process); the others run the same CLI in this process (test/cli/run-in-process.ts), which
 * spares a 2-4 s TypeScript start-up per command.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as bbs from '../../shared/crypto/bbs.js';
import { credentialFromJson } from '../../shared/crypto/credential.js';
import { checkCredential } from '../../shared/crypto/outsourced.js';
import { readCredentialFile, readDeviceFile } from '../../cli/authority-store.js';
import { fromHex } from '../../shared/encoding/hex.js';
import { runCli } from './run-in-process.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const bin = join(root, 'bin', 'provenant.js');
let tmp: string;

/** The real program in a child process. */
function spawnCli(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The same CLI in this process. */
async function cli(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const r = await runCli(...args);
  return { code: r.code, stdout: r.out, stderr: r.err };
}

function mode(path: string): number {
  return statSync(path).mode & 0o777;
}

function json(path: string): Record<string, unknown> {
  return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
}

const ATTRS = ['--attr', 'site=plant-3', 'line=line-1', 'type=temperature', 'owner=acme', 'fw=1.2.0'];

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'provenant-authority-'));
  await bbs.ready();
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('provenant authority init', { timeout: 120_000 }, () => {
  it('writes the issuer secret key (mode 0600) and the public key with the schema', () => {
    const dir = join(tmp, 'aa');
    const r = spawnCli('authority', 'init', '--dir', dir);
    expect(r.code, r.stderr).toBe(0);
    const secret = join(dir, 'issuer.secret.json');
    const pub = json(join(dir, 'issuer.public.json'));
    expect(mode(secret)).toBe(0o600);
    expect(pub['schema']).toEqual(['deviceId', 'site', 'line', 'type', 'owner', 'fw']);
    const sk = json(secret)['sk'] as string;
    expect(Buffer.from(bbs.skToPk(fromHex(sk))).toString('hex')).toBe(pub['pk']);
    expect(r.stdout).not.toContain(sk);
    expect(JSON.parse(r.stdout.trim().split('\n').pop()!)).toMatchObject({ issuerPk: pub['pk'] });
  });

  it('refuses to overwrite without --force, and replaces the key with it', async () => {
    const dir = join(tmp, 'aa2');
    expect((await cli('authority', 'init', '--dir', dir)).code).toBe(0);
    const before = json(join(dir, 'issuer.public.json'))['pk'];
    const again = await cli('authority', 'init', '--dir', dir);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toMatch(/already exists.*--force/);
    expect(json(join(dir, 'issuer.public.json'))['pk']).toBe(before);
    const forced = await cli('authority', 'init', '--dir', dir, '--force');
    expect(forced.code, forced.stderr).toBe(0);
    expect(json(join(dir, 'issuer.public.json'))['pk']).not.toBe(before);
    expect(mode(join(dir, 'issuer.secret.json'))).toBe(0o600);
  });

  it('takes a custom schema and rejects one that does not start with deviceId', async () => {
    const ok = await cli('authority', 'init', '--dir', join(tmp, 'custom'), '--schema', 'deviceId,room,kind');
    expect(ok.code, ok.stderr).toBe(0);
    expect(json(join(tmp, 'custom', 'issuer.public.json'))['schema']).toEqual(['deviceId', 'room', 'kind']);
    const bad = await cli('authority', 'init', '--dir', join(tmp, 'bad'), '--schema', 'site,deviceId');
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/schema must start with 'deviceId'/);
    expect(existsSync(join(tmp, 'bad', 'issuer.secret.json'))).toBe(false);
  });
});

describe('provenant authority enroll', { timeout: 120_000 }, () => {
  const dir = () => join(tmp, 'enroll-aa');
  beforeAll(async () => {
    expect((await cli('authority', 'init', '--dir', dir())).code).toBe(0);
  }, 120_000);

  it('writes the device file (mode 0600, K_IoT), the credential (no K_IoT) and the registration (no secrets)', async () => {
    const out = join(tmp, 'out');
    const r = await cli('authority', 'enroll', '--dir', dir(), '--device', 'pico-1', ...ATTRS, '--out', out, '--board', 'PICO');
    expect(r.code, r.stderr).toBe(0);
    const devicePath = join(out, 'pico-1.device.json');
    const device = json(devicePath);
    expect(mode(devicePath)).toBe(0o600);
    expect(device).toMatchObject({ deviceId: 'pico-1', board: 'PICO' });
    const kIoT = device['kIoT'] as string;
    expect(kIoT).toMatch(/^[0-9a-f]{64}$/);
    const credentialText = readFileSync(join(out, 'pico-1.credential.json'), 'utf8');
    const registrationText = readFileSync(join(out, 'pico-1.registration.json'), 'utf8');
    const sk = json(join(dir(), 'issuer.secret.json'))['sk'] as string;
    for (const text of [credentialText, registrationText, r.stdout, r.stderr]) {
      expect(text).not.toContain(kIoT);
      expect(text).not.toContain(sk);
    }
    const credential = credentialFromJson(JSON.parse(credentialText));
    const pk = fromHex(json(join(dir(), 'issuer.public.json'))['pk'] as string);
    expect(checkCredential(credential, pk)).toEqual({ ok: true });
    expect(JSON.parse(registrationText)).toMatchObject({ deviceId: 'pico-1', attributes: { site: 'plant-3', fw: '1.2.0' } });
    // The programmatic readers (flashing, K_IoT deposit, edge) parse what the CLI wrote.
    const parsed = readDeviceFile(devicePath);
    expect(parsed).toMatchObject({ deviceId: 'pico-1', board: 'PICO' });
    expect(Buffer.from(parsed.kIoT).toString('hex')).toBe(kIoT);
    expect(checkCredential(readCredentialFile(join(out, 'pico-1.credential.json')), pk)).toEqual({ ok: true });
  });

  it('refuses to re-enroll a device without --force', async () => {
    expect((await cli('authority', 'enroll', '--dir', dir(), '--device', 'dup-1', ...ATTRS)).code).toBe(0);
    const first = json(join(dir(), 'dup-1.device.json'))['kIoT'];
    const again = await cli('authority', 'enroll', '--dir', dir(), '--device', 'dup-1', ...ATTRS);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toMatch(/dup-1 is enrolled/);
    expect(json(join(dir(), 'dup-1.device.json'))['kIoT']).toBe(first);
    expect((await cli('authority', 'enroll', '--dir', dir(), '--device', 'dup-1', ...ATTRS, '--force')).code).toBe(0);
    expect(json(join(dir(), 'dup-1.device.json'))['kIoT']).not.toBe(first);
  });

  it.each([
    ['a missing attribute', ['--device', 'd-1', '--attr', 'site=p', 'line=l', 'type=t', 'owner=o'], /missing attribute "fw"/],
    ['an unknown attribute', ['--device', 'd-1', ...ATTRS, 'colour=red'], /unknown attribute "colour"/],
    ['an attribute without =', ['--device', 'd-1', '--attr', 'siteplant-3'], /must be name=value/],
    ['a deviceId that is no file name', ['--device', '../evil', ...ATTRS], /deviceId/],
    ['a contradicting deviceId attribute', ['--device', 'd-1', ...ATTRS, 'deviceId=d-2'], /contradicts/],
    ['no --device', [...ATTRS], /required option '--device/],
  ])('rejects %s with a message and a non-zero exit, writing nothing', async (_name, args, message) => {
    const out = join(tmp, `rejected-${Math.random().toString(36).slice(2)}`);
    const r = await cli('authority', 'enroll', '--dir', dir(), '--out', out, ...args);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(message);
    expect(existsSync(out)).toBe(false);
  });

  it('says to run init first when the authority directory is empty', async () => {
    const r = await cli('authority', 'enroll', '--dir', join(tmp, 'nowhere'), '--device', 'd-1', ...ATTRS);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/authority init/);
  });

  it('has --help on every command', async () => {
    for (const args of [
      ['authority', '--help'],
      ['authority', 'init', '--help'],
      ['authority', 'enroll', '--help'],
    ]) {
      const r = await cli(...args);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/Usage: provenant authority/);
    }
  });
});

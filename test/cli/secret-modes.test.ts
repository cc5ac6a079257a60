/**
 * Issue 11, keys at rest (attack 5): after `authority init`, `authority enroll`, `flash --dry-run`
 * and `ledger start` (a real server process, a transaction that deposits a key), `stat` of every
 * secret file shows 0600 and of every directory they created 0700: the issuer secret, the device
 * file, the credential, the upload file (it holds K_IoT), the ledger's SQLite file and its -wal /
 * -shm, and the deposit key. The public files (issuer.public.json, the registration) are 0644.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CONTRACTS } from '../../ledger-bridge/client.js';
import { HttpLedgerClient } from '../../ledger-bridge/embedded/http/client.js';
import { ledgerKeys } from '../../shared/crypto/domains.js';
import { sha256 } from '../../shared/crypto/sha256.js';
import { ensureFirmwareBuilt } from '../../firmware/build.js';
import { runCli } from './run-in-process.js';

const REPO = join(import.meta.dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'prov-modes-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const mode = (p: string): string => (statSync(p).mode & 0o777).toString(8);

describe('secret files 0600, their directories 0700 (issue 11, keys at rest)', () => {
  it('authority init / enroll and flash --dry-run', { timeout: 120_000 }, async () => {
    await ensureFirmwareBuilt();
    const aa = join(dir, 'aa');
    const out = join(dir, 'out', 'devices');
    expect((await runCli('authority', 'init', '--dir', aa)).code).toBe(0);
    const enroll = await runCli(
      'authority',
      'enroll',
      '--dir',
      aa,
      '--device',
      'm-1',
      '--out',
      out,
      '--attr',
      'site=plant-3',
      '--attr',
      'line=L1',
      '--attr',
      'type=temperature',
      '--attr',
      'owner=acme',
      '--attr',
      'fw=1.0.0',
    );
    expect(enroll.code, enroll.err).toBe(0);
    const upload = join(dir, 'flash', 'm-1.upload');
    const flash = await runCli('flash', '--board', 'PICO', '--device', join(out, 'm-1.device.json'), '--dry-run', upload);
    expect(flash.code, flash.err).toBe(0);
    expect({
      aa: mode(aa),
      issuerSecret: mode(join(aa, 'issuer.secret.json')),
      issuerPublic: mode(join(aa, 'issuer.public.json')),
      out: mode(out),
      device: mode(join(out, 'm-1.device.json')),
      credential: mode(join(out, 'm-1.credential.json')),
      registration: mode(join(out, 'm-1.registration.json')),
      upload: mode(upload),
    }).toEqual({
      aa: '700',
      issuerSecret: '600',
      issuerPublic: '644',
      out: '700',
      device: '600',
      credential: '600',
      registration: '644',
      upload: '600',
    });
  });

  it('ledger start: the database, its -wal/-shm and the deposit key', { timeout: 120_000 }, async () => {
    const ledgerDir = join(dir, 'ledger');
    const db = join(ledgerDir, 'ledger.db');
    const tokenFile = join(dir, 'tokens.json');
    const token = 'modes-test-token-0123456789abcdef';
    writeFileSync(tokenFile, JSON.stringify({ [token]: 'aa' }), { mode: 0o600 });
    const child = spawn(
      process.execPath,
      [join(REPO, 'bin', 'provenant.js'), 'ledger', 'start', '--db', db, '--port', '0', '--token-file', tokenFile, '--log-level', 'warn'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let stderr = '';
        child.stderr.on('data', (c: Buffer) => {
          stderr += c.toString();
          const m = /listening on (http:\/\/\S+)/.exec(stderr);
          if (m) resolve(m[1] as string);
        });
        child.on('exit', (code) => reject(new Error(`ledger start exited ${code}: ${stderr}`)));
      });
      const aa = new HttpLedgerClient({ url, token });
      const issuer = JSON.parse(readFileSync(join(dir, 'aa', 'issuer.public.json'), 'utf8')) as { pk: string; schema: string[] };
      await aa.submit({
        contract: CONTRACTS.deviceRegistration,
        fn: 'configure',
        args: [JSON.stringify({ issuerPk: issuer.pk, schema: issuer.schema, policies: [] })],
      });
      const registration = readFileSync(join(dir, 'out', 'devices', 'm-1.registration.json'), 'utf8');
      const device = JSON.parse(readFileSync(join(dir, 'out', 'devices', 'm-1.device.json'), 'utf8')) as { kIoT: string };
      await aa.submit({
        contract: CONTRACTS.deviceRegistration,
        fn: 'register',
        args: [registration],
        transient: { ...ledgerKeys(sha256, Buffer.from(device.kIoT, 'hex')) },
      });
      const files: Record<string, string> = { dir: mode(ledgerDir), db: mode(db), depositKey: mode(`${db}.deposit-key`) };
      for (const side of ['-wal', '-shm']) if (existsSync(`${db}${side}`)) files[side] = mode(`${db}${side}`);
      expect(files['-wal'], 'a WAL-mode ledger has its -wal file while it runs').toBeDefined();
      expect(files).toEqual({ dir: '700', db: '600', depositKey: '600', '-wal': '600', ...(files['-shm'] ? { '-shm': '600' } : {}) });
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
  });
});

import { spawn } from 'node:child_process';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { CONTRACTS } from '../../ledger-bridge/client.js';
import { HttpLedgerClient } from '../../ledger-bridge/embedded/http/client.js';
import { runCli } from '../cli/run-in-process.js';
import { parseTokens } from '../../cli/commands/ledger.js';
import { parseIdentities } from '../../ledger-bridge/embedded/index.js';
import { tempDir } from './helpers.js';

const root = join(import.meta.dirname, '..', '..');
const TOKEN = 'cli-test-token-0123456789abcdef';
const EDGE_TOKEN = 'cli-edge-token-0123456789abcdef';

/** Runs the CLI in-process; returns exit code and stdout. */
const run = runCli;

describe('provenant ledger start / verify', () => {
  const dir = tempDir('prov-ledger-cli-');
  afterAll(() => dir.cleanup());
  const db = join(dir.dir, 'ledger.db');
  const clean = join(dir.dir, 'clean.db');

  it('serves the real contracts over HTTP, then stops cleanly on SIGTERM', async () => {
    const tokenFile = join(dir.dir, 'tokens.json');
    writeFileSync(tokenFile, JSON.stringify({ [TOKEN]: 'aa', [EDGE_TOKEN]: 'edge-1' }));
    const child = spawn(
      process.execPath,
      [join(root, 'bin', 'provenant.js'), 'ledger', 'start', '--db', db, '--port', '0', '--token-file', tokenFile, '--log-level', 'warn'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    const url = await new Promise<string>((resolve, reject) => {
      child.stderr.on('data', (c: Buffer) => {
        stderr += c.toString();
        const m = /listening on (http:\/\/\S+)/.exec(stderr);
        if (m) resolve(m[1] as string);
      });
      child.on('exit', (code) => reject(new Error(`ledger start exited ${code}: ${stderr}`)));
    });
    const client = new HttpLedgerClient({ url, token: TOKEN });
    try {
      expect((await client.head()).height).toBe(1);
      // The real DeviceProvenance contract answers Alg. 2's "could not find the device" branch.
      const err = await client
        .evaluate({ contract: CONTRACTS.deviceProvenance, fn: 'prove', args: ['ghost', '{"attributes":{}}', '00', '00'] })
        .catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'PROV_ERR_ENDORSEMENT' });
      expect((err as Error).message).toMatch(/could not find the device|PROV_ERR_/);
      // A real submit through DeviceRegistration: only the authority may configure; edge-1 may not.
      const asEdge = new HttpLedgerClient({ url, token: EDGE_TOKEN });
      const denied = await asEdge
        .submit({ contract: CONTRACTS.deviceRegistration, fn: 'configure', args: ['{}'] })
        .catch((e: unknown) => e);
      expect((denied as Error).message).toMatch(/PROV_ERR_(FORBIDDEN|BAD_INPUT)/);
    } finally {
      await client.close();
      const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    }
  }, 60_000);

  it('refuses to start without tokens', async () => {
    const saved = process.env['PROVENANT_LEDGER_TOKENS'];
    delete process.env['PROVENANT_LEDGER_TOKENS'];
    try {
      const r = await run('ledger', 'start', '--db', join(dir.dir, 'x.db'), '--port', '0');
      expect(r.code).toBe(1);
      expect(r.err).toMatch(/no bearer tokens/);
    } finally {
      if (saved !== undefined) process.env['PROVENANT_LEDGER_TOKENS'] = saved;
    }
  });

  it('verify: exit 0 on the clean file, exit 1 naming the block after one byte changed', async () => {
    copyFileSync(db, clean);
    const ok = await run('ledger', 'verify', '--db', db);
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(/^ledger OK: \d+ blocks/);
    expect(JSON.parse(ok.out.trim().split('\n').pop() as string)).toMatchObject({ ok: true });

    const sqlite = new Database(db);
    sqlite.prepare("UPDATE blocks SET header = substr(header, 1, 9) || X'EE' || substr(header, 11) WHERE number = 0").run();
    sqlite.close();
    const bad = await run('ledger', 'verify', '--db', db, '--json');
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.out.trim())).toMatchObject({ ok: false, badBlock: 0 });
  });

  it('verify: a raw byte flip in the file is a failure too', async () => {
    expect((await run('ledger', 'verify', '--db', clean)).code).toBe(0);
    const sqlite = new Database(clean, { readonly: true });
    const genesisHash = sqlite.prepare('SELECT hash FROM blocks WHERE number = 0').pluck().get() as Buffer;
    sqlite.close();
    const bytes = readFileSync(clean);
    const at = bytes.indexOf(genesisHash);
    expect(at).toBeGreaterThan(0);
    bytes[at + 7] = (bytes[at + 7] as number) ^ 0x01;
    const p = join(dir.dir, 'flipped.db');
    writeFileSync(p, bytes);
    expect((await run('ledger', 'verify', '--db', p)).code).toBe(1);
  });

  it('parses token files: a JSON map binding each token to one identity; a bare token or "*" is refused', () => {
    expect(parseTokens('{"t1":"aa","t2":"edge-1","t3":"edge-1"}', 'f')).toEqual(
      new Map([
        ['t1', 'aa'],
        ['t2', 'edge-1'],
        ['t3', 'edge-1'],
      ]),
    );
    expect(() => parseTokens(' abc \n', 'f')).toThrow(/one identity.*bare token would act as any identity/);
    expect(() => parseTokens('{"t1":"*"}', 'f')).toThrow(/bind each token to one identity/);
    expect(() => parseTokens('', 'f')).toThrow(/empty/);
    expect(() => parseTokens('{"t1": 3}', 'f')).toThrow(/identity names/);
    // The file holds tokens: a parse error names the place, never the text.
    const secret = '{"0123456789abcdef0123456789" x}';
    let message = '';
    try {
      parseTokens(secret, 'f');
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/not valid JSON/);
    expect(message).not.toMatch(/0123456789/);
  });

  it('parses identity files and names the bad entry', () => {
    expect(
      parseIdentities('[{"name":"aa2","mspId":"AuthorityMSP","id":"x509::/CN=aa2::/CN=ca","attrs":{"role":"authority"}}]', 'ids.json'),
    ).toEqual([{ name: 'aa2', mspId: 'AuthorityMSP', id: 'x509::/CN=aa2::/CN=ca', attrs: { role: 'authority' } }]);
    expect(() => parseIdentities('[]', 'ids.json')).toThrow(/non-empty array/);
    expect(() => parseIdentities('[{"name":"a","mspId":"M","id":""}]', 'ids.json')).toThrow(/ids.json\[0\]: id must be a non-empty string/);
    expect(() => parseIdentities('[{"name":"a","mspId":"M","id":"i"},{"name":"a","mspId":"M","id":"j"}]', 'ids.json')).toThrow(
      /\[1\]: duplicate name 'a'/,
    );
    expect(() => parseIdentities('[{"name":"a","mspId":"M","id":"i","attrs":{"x":1}}]', 'ids.json')).toThrow(/attrs must map/);
  });
});

/**
 * `provenant edge`: --check validates the config AND every file it names, reporting all problems
 * at once; field-naming config errors; --help. In process (test/cli/run-in-process.ts), plus one
 * spawned smoke run of the real bin.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../cli/run-in-process.js';
import { tempDir } from '../support/edge-fixture.js';

const ROOT = join(import.meta.dirname, '..', '..');
const tmp = tempDir('provenant-edge-cli-');
afterAll(() => tmp.cleanup());

const good = `edgeId: edge-7
dataDir: data
credentials: { dir: creds }
policy: { id: p, anyOf: [ { site: plant-3 } ] }
ledger: { type: embedded, path: ledger.db }
boards:
  - serial: { path: /dev/ttyACM0 }
api: { token: 0123456789abcdef0123 }
`;

/** A directory holding `edge.yaml` with `text`, plus the files `good` names (unless told not to). */
function setup(name: string, text: string, files = true): string {
  const dir = join(tmp.dir, name);
  mkdirSync(dir, { recursive: true });
  if (files) {
    mkdirSync(join(dir, 'creds'));
    writeFileSync(join(dir, 'creds', 'dev-1.credential.json'), '{}');
    writeFileSync(join(dir, 'ledger.db'), '');
  }
  writeFileSync(join(dir, 'edge.yaml'), text);
  return join(dir, 'edge.yaml');
}

describe('provenant edge', () => {
  it('--check validates a config and the files it names, and says what it found (spawned: the real bin)', () => {
    const path = setup('good', good);
    const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'provenant.js'), 'edge', '--config', path, '--check'], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('config ok: edge edge-7, 1 board(s), 1 credential(s), ledger embedded\n');
    // The board is not plugged in on this machine: a warning, not an error (the edge waits for it).
    expect(r.stderr).toMatch(/warning: boards\[0\]\.serial\.path: \/dev\/ttyACM0 does not exist/);
  });

  it('--check opens every file the edge will open and reports all missing ones at once', async () => {
    const path = setup(
      'missing',
      good
        .replace('credentials: { dir: creds }', 'credentials: { dir: creds, issuerPkFile: aa/issuer.public.json }')
        .replace(
          'ledger: { type: embedded, path: ledger.db }',
          'ledger: { type: http, url: "http://127.0.0.1:7050", tokenFile: ledger.token }',
        )
        .replace('api: { token: 0123456789abcdef0123 }', 'api: { tokenFile: api.token }'),
      false,
    );
    const r = await runCli('edge', '--config', path, '--check');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/4 problems:/);
    // Relative paths resolve against the config's directory, ledger.tokenFile included.
    const dir = join(tmp.dir, 'missing');
    for (const [field, file] of [
      ['credentials.dir', 'creds'],
      ['credentials.issuerPkFile', 'aa/issuer.public.json'],
      ['api.tokenFile', 'api.token'],
      ['ledger.tokenFile', 'ledger.token'],
    ]) {
      expect(r.err).toContain(`${field}: cannot ${field === 'credentials.dir' ? 'list' : 'read'} ${join(dir, file as string)}`);
    }
  });

  it('--check refuses an embedded ledger file that does not exist (the edge would answer from an empty ledger)', async () => {
    const path = setup('noledger', good.replace('path: ledger.db', 'path: typo.db'));
    const r = await runCli('edge', '--config', path, '--check');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/ledger\.path: no ledger at .*typo\.db/);
  });

  it('a bad config exits non-zero with every bad field named at once', async () => {
    const path = setup(
      'bad',
      good.replace('/dev/ttyACM0 }', '/dev/ttyACM0, baudRate: fast }').replace('edgeId: edge-7\n', 'colour: blue\n'),
    );
    const r = await runCli('edge', '--config', path, '--check');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/3 problems:/);
    expect(r.err).toMatch(/boards\[0\]\.serial\.baudRate: must be integer/);
    expect(r.err).toMatch(/edgeId: is required/);
    expect(r.err).toMatch(/colour: is not a known field/);
    expect(r.err).toMatch(/\[PROV_ERR_CONFIG\]/);
  });

  it('--config is required', async () => {
    const r = await runCli('edge');
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/required option '-c, --config <file>'/);
  });
});

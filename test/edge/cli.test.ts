/** `provenant edge` through the real CLI: --check, field-naming config errors, --help. */
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../support/edge-fixture.js';

const ROOT = join(import.meta.dirname, '..', '..');
const tmp = tempDir('provenant-edge-cli-');
afterAll(() => tmp.cleanup());

function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, [join(ROOT, 'bin', 'provenant.js'), ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
}

const good = `edgeId: edge-7
dataDir: data
credentials: { dir: creds }
policy: { id: p, anyOf: [ { site: plant-3 } ] }
ledger: { type: embedded, path: ledger.db }
boards:
  - serial: { path: /dev/ttyACM0 }
api: { token: 0123456789abcdef0123 }
`;

describe('provenant edge', () => {
  it('--check validates a config and says what it found', () => {
    const path = join(tmp.dir, 'edge.yaml');
    writeFileSync(path, good);
    const r = cli('edge', '--config', path, '--check');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('config ok: edge edge-7, 1 board(s), ledger embedded\n');
  });

  it('a bad config exits non-zero with the field named', () => {
    const path = join(tmp.dir, 'bad.yaml');
    writeFileSync(path, good.replace('/dev/ttyACM0 }', '/dev/ttyACM0, baudRate: fast }'));
    const r = cli('edge', '--config', path, '--check');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/boards\[0\]\.serial\.baudRate: must be integer \[PROV_ERR_CONFIG\]/);
  });

  it('--config is required', () => {
    const r = cli('edge');
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/required option '-c, --config <file>'/);
  });
});

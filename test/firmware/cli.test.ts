/** `provenant firmware build|boards` through the real CLI. */
import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'acorn';

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      'node',
      ['bin/provenant.js', ...args],
      { cwd: join(import.meta.dirname, '../..'), timeout: 120_000 },
      (err, stdout, stderr) => {
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

describe('provenant firmware', () => {
  it('build --board --out writes that board only, ES5, with a manifest', async () => {
    const out = mkdtempSync(join(tmpdir(), 'provenant-fwcli-'));
    const r = await cli(['firmware', 'build', '--board', 'PUCKJS', '--out', out]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^PUCKJS\s+\d+ bytes \(budget \d+\)/);
    expect(existsSync(join(out, 'PICO.js'))).toBe(false);
    expect(() => parse(readFileSync(join(out, 'PUCKJS.js'), 'latin1'), { ecmaVersion: 5 })).not.toThrow();
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as { bundles: { board: string }[] };
    expect(manifest.bundles.map((b) => b.board)).toEqual(['PUCKJS']);
  });

  it('boards lists every profile; an unknown board is a clear error', async () => {
    const r = await cli(['firmware', 'boards']);
    for (const b of ['PICO', 'PUCKJS', 'MDBT42Q', 'ESP32', 'LINUX']) expect(r.stdout).toContain(b);
    const bad = await cli(['firmware', 'build', '--board', 'NOPE', '--out', mkdtempSync(join(tmpdir(), 'provenant-fwcli-'))]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/unknown board "NOPE"/);
  });
});

/**
 * Packaging (issue 10): `private` (no accidental publish; `npx provenant` in the checkout is this
 * package), the Apache-2.0 licence text, a changelog, `files` that ship what the bin needs and no
 * tests, and `engines.node` no lower than what the production dependencies declare, except the
 * two docs/dependencies.md names and explains.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  private?: boolean;
  license: string;
  engines: { node: string };
  files: string[];
};
const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, { version?: string; dev?: boolean; engines?: { node?: string } | string[] }>;
};
// semver comes with npm's tree (fastify depends on it); typed here for the two calls we make.
const semver = createRequire(import.meta.url)('semver') as {
  minVersion(range: string): { version: string } | null;
  satisfies(version: string, range: string): boolean;
};
/** Declared >=22 by policy, run on Node 20 by the suite (docs/dependencies.md, "Node versions"). */
const ACCEPTED = ['node_modules/cookie', 'node_modules/content-disposition'];

describe('packaging', () => {
  it('is private, Apache-2.0 with the licence text, and has a changelog', () => {
    expect(pkg.private).toBe(true);
    expect(pkg.license).toBe('Apache-2.0');
    const licence = readFileSync(join(ROOT, 'LICENSE'), 'utf8');
    expect(licence).toContain('Apache License\n                           Version 2.0, January 2004');
    expect(licence).toContain('END OF TERMS AND CONDITIONS');
    expect(readFileSync(join(ROOT, 'CHANGELOG.md'), 'utf8')).toMatch(/^# Changelog\n[\s\S]*## \[Unreleased\]/);
  });

  it('engines.node is no lower than any production dependency asks, but for the two documented ones', () => {
    const floor = semver.minVersion(pkg.engines.node)?.version as string;
    const tooLow: string[] = [];
    for (const [path, entry] of Object.entries(lock.packages)) {
      const range = Array.isArray(entry.engines) ? undefined : entry.engines?.node;
      if (path === '' || entry.dev || !range || ACCEPTED.includes(path)) continue;
      if (!semver.satisfies(floor, range)) tooLow.push(`${path}@${entry.version} wants node ${range}`);
    }
    expect(tooLow, `engines.node ${pkg.engines.node} (floor ${floor})`).toEqual([]);
    const docs = readFileSync(join(ROOT, 'docs', 'dependencies.md'), 'utf8');
    for (const p of ACCEPTED) expect(docs).toContain(`\`${p.replace('node_modules/', '')}\``);
  });

  it('npm pack ships the bin and what it loads, the licence and the changelog, and no tests', () => {
    const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8' });
    const files = (JSON.parse(out) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path);
    for (const f of [
      'bin/provenant.js',
      'tsconfig.json',
      'cli/index.ts',
      'LICENSE',
      'CHANGELOG.md',
      'README.md',
      'firmware/boards/PICO.json',
    ])
      expect(files).toContain(f);
    expect(files.filter((f) => f.startsWith('test/') || f.endsWith('.test.ts'))).toEqual([]);
    expect(files.filter((f) => f.startsWith('deploy/systemd/'))).toHaveLength(4);
  }, 60_000);
});

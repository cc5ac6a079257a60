/**
 * deploy/systemd: every unit runs a `provenant` command that exists with options it knows, as an
 * unprivileged user writing only under its state directory. Keeps the units true when the CLI
 * changes (a renamed option would otherwise only show on a box, at start).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../cli/index.js';

const DIR = join(import.meta.dirname, '..', '..', 'deploy', 'systemd');
const units = readdirSync(DIR).filter((f) => f.endsWith('.service'));

/** Key=value lines of a unit (a key may repeat). */
function parseUnit(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith('[')) continue;
    const eq = line.indexOf('=');
    const key = line.slice(0, eq);
    out.set(key, [...(out.get(key) ?? []), line.slice(eq + 1)]);
  }
  return out;
}

/** The subcommand an argv names, and the options given to it. */
function resolve(program: Command, argv: string[]): { cmd: Command; options: string[] } {
  let cmd = program;
  let i = 0;
  for (; i < argv.length && !argv[i]!.startsWith('-'); i++) {
    const next = cmd.commands.find((c) => c.name() === argv[i]);
    if (!next) throw new Error(`no command '${argv.slice(0, i + 1).join(' ')}'`);
    cmd = next;
  }
  return { cmd, options: argv.slice(i).filter((a) => a.startsWith('-')) };
}

describe('deploy/systemd units', () => {
  it('are there: edge, ledger, auditor', () => {
    expect(units.sort()).toEqual(['provenant-auditor.service', 'provenant-edge.service', 'provenant-ledger.service']);
  });

  it.each(units)('%s runs a provenant command with options it knows, as user provenant, writing only its state dir', async (name) => {
    const unit = parseUnit(readFileSync(join(DIR, name), 'utf8'));
    const program = await buildProgram();
    const execs = [...(unit.get('ExecStartPre') ?? []), ...(unit.get('ExecStart') ?? [])];
    expect(unit.get('ExecStart')).toHaveLength(1);
    for (const line of execs) {
      const [bin, ...argv] = line.split(/\s+/);
      expect(bin).toBe('/usr/local/bin/provenant');
      const { cmd, options } = resolve(program, argv);
      const known = new Set(cmd.options.flatMap((o) => [o.long, o.short].filter((x): x is string => x !== undefined)));
      for (const opt of options) expect(known, `${name}: provenant ${cmd.name()} has no ${opt}`).toContain(opt);
      for (const o of cmd.options.filter((o) => o.mandatory)) expect(options, `${name}: ${o.long} is required`).toContain(o.long);
    }
    expect(unit.get('User')).toEqual(['provenant']);
    expect(unit.get('UMask')).toEqual(['0077']);
    expect(unit.get('ProtectSystem')).toEqual(['strict']);
    expect(unit.get('ReadWritePaths')).toEqual(['/var/lib/provenant']);
    expect(unit.get('Restart')).toEqual(['on-failure']);
  });

  it('the edge checks its config before it starts', () => {
    const unit = parseUnit(readFileSync(join(DIR, 'provenant-edge.service'), 'utf8'));
    expect(unit.get('ExecStartPre')?.[0]).toBe(`${unit.get('ExecStart')?.[0]} --check`);
  });
});

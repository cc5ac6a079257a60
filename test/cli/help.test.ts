/**
 * `--help` on every command and subcommand of `provenant` (issue 10): it answers with exit 0 and
 * its usage line, says what the command does, marks mandatory options `(required)`, and shows a
 * default as it is typed (`default: 7050`, never `default: "7050"`).
 */
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../cli/index.js';
import { runCli } from './run-in-process.js';

/** Every command path, e.g. ['ledger', 'start']. */
function paths(cmd: Command, prefix: string[] = []): { path: string[]; cmd: Command }[] {
  return cmd.commands.flatMap((c) => {
    const path = [...prefix, c.name()];
    return [{ path, cmd: c }, ...paths(c, path)];
  });
}

/** The Options section as entries: the flags and the description (wrapped lines joined). */
function optionEntries(help: string): { flags: string; text: string }[] {
  const entries: { flags: string; text: string }[] = [];
  const section = help.split(/^Options:$/m)[1]?.split(/^\S/m)[0] ?? '';
  for (const line of section.split('\n')) {
    const m = /^ {2}(-\S.*?)(?: {2,}(.*))?$/.exec(line);
    if (m) entries.push({ flags: m[1]!, text: m[2] ?? '' });
    else if (entries.length > 0 && line.trim() !== '') entries[entries.length - 1]!.text += ` ${line.trim()}`;
  }
  return entries;
}

describe('provenant --help', () => {
  it('every command answers --help with its usage, a description, required options marked, defaults as typed', async () => {
    const all = paths(await buildProgram());
    expect(all.length).toBeGreaterThan(40);
    const problems: string[] = [];
    for (const { path, cmd } of all) {
      const r = await runCli(...path, '--help');
      const name = path.join(' ');
      if (r.code !== 0) problems.push(`${name}: --help exited ${r.code}`);
      if (!r.out.startsWith(`Usage: provenant ${name}`)) problems.push(`${name}: no usage line`);
      if (cmd.description().trim() === '') problems.push(`${name}: no description`);
      const flat = r.out.replace(/\s+/g, ' ');
      for (const o of cmd.options.filter((o) => o.mandatory))
        if (!(optionEntries(r.out).find((e) => e.flags.split(/[ ,]+/).includes(o.long as string))?.text ?? '').includes('(required'))
          problems.push(`${name}: ${o.long} not marked required`);
      for (const m of flat.matchAll(/default: "(-?\d+(?:\.\d+)?)"/g)) problems.push(`${name}: default shown as a string "${m[1]}"`);
      if (/\(default: false\)/.test(flat)) problems.push(`${name}: a flag shows 'default: false'`);
    }
    expect(problems).toEqual([]);
  }, 120_000);

  it('-h works too, and a usage error points at --help', async () => {
    expect((await runCli('ledger', 'start', '-h')).out).toMatch(/^Usage: provenant ledger start/);
    const bad = await runCli('sim', '--no-such-option');
    expect(bad.code).not.toBe(0);
    expect(bad.err).toMatch(/unknown option '--no-such-option'[\s\S]*run with --help/);
  });
});

/**
 * docs/contracts.md's "Walk-through: Algorithm 2 from the command line", run as written (issue
 * 19): its `sh` blocks, in order, in the same empty temp folder, each `provenant …` command through
 * the real CLI entry point (cli/index.ts main, in this process: the page's commands are plain words
 * and at most a `> file` redirection). Each command must exit 0 (or the code its `# → exit N` line
 * names), and each other `# → …` line must appear in what it printed (stdout and stderr). The four outcomes of
 * Algorithm 2 — TRUE, FALSE with the differing field, "could not find the device", "device
 * signature mismatch" — through the real CLI, contracts and embedded ledger file.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../cli/run-in-process.js';

const REPO = join(import.meta.dirname, '..', '..');

interface Step {
  readonly command: string;
  readonly exit: number;
  readonly expect: string[];
}

/** The `sh` blocks of one section (from its heading to the next heading of the same or a higher level). */
function stepsOf(markdown: string, heading: string): Step[] {
  const lines = markdown.split('\n');
  const at = lines.findIndex((l) => l.trim() === heading);
  if (at < 0) throw new Error(`no section "${heading}" in the page`);
  const level = (heading.match(/^#+/) as RegExpMatchArray)[0].length;
  const steps: { command: string; exit: number; expect: string[] }[] = [];
  let inSh = false;
  let fence = false;
  let pending = '';
  for (const line of lines.slice(at + 1)) {
    const h = /^(#+) /.exec(line);
    if (!fence && h && (h[1] as string).length <= level) break;
    if (/^```/.test(line)) {
      fence = !fence;
      inSh = fence && line.trim() === '```sh';
      continue;
    }
    if (!inSh) continue;
    const arrow = /^# → (.*)$/.exec(line);
    if (arrow) {
      const last = steps.at(-1);
      const code = /^exit (\d+)$/.exec(arrow[1] as string);
      if (last && code) last.exit = Number(code[1]);
      else last?.expect.push(arrow[1] as string);
      continue;
    }
    if (pending === '' && (line.trim() === '' || line.trim().startsWith('#'))) continue;
    pending += (pending ? '\n' : '') + line;
    if (line.endsWith('\\')) continue;
    steps.push({ command: pending, exit: 0, expect: [] });
    pending = '';
  }
  return steps;
}

const dir = mkdtempSync(join(tmpdir(), 'prov-alg2-walk-'));
const home = process.cwd();
beforeAll(() => process.chdir(dir));
afterAll(() => {
  process.chdir(home);
  rmSync(dir, { recursive: true, force: true });
});

/** Runs one command of the page: `provenant word…` with an optional `> file`. */
async function runStep(command: string): Promise<{ code: number; out: string }> {
  const words = command.replace(/\\\n/g, ' ').trim().split(/\s+/);
  const redirect = words.indexOf('>');
  const target = redirect >= 0 ? words[redirect + 1] : undefined;
  const argv = redirect >= 0 ? words.slice(0, redirect) : words;
  if (argv[0] !== 'provenant' || (redirect >= 0 && (target === undefined || redirect !== words.length - 2)))
    throw new Error(`the walk-through runs only "provenant …" commands with at most "> file": ${command}`);
  const r = await runCli(...argv.slice(1));
  if (target !== undefined) writeFileSync(target, r.out);
  return { code: r.code, out: `${r.out}${r.err}` };
}

describe('docs/contracts.md: Walk-through: Algorithm 2 from the command line', () => {
  const steps = stepsOf(readFileSync(join(REPO, 'docs', 'contracts.md'), 'utf8'), '### Walk-through: Algorithm 2 from the command line');

  it('has the four outcomes in it', () => {
    const all = steps.flatMap((s) => s.expect).join('\n');
    for (const outcome of ['TRUE:', 'FALSE METADATA_MISMATCH', 'could not find the device', 'device signature mismatch'])
      expect(all).toContain(outcome);
  });

  it('runs every command as written, with the exit codes and outputs the page shows', { timeout: 120_000 }, async () => {
    for (const step of steps) {
      const r = await runStep(step.command);
      expect(r.code, `${step.command}\n${r.out}`).toBe(step.exit);
      for (const fragment of step.expect) expect(r.out, step.command).toContain(fragment);
    }
  });
});

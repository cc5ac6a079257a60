/**
 * `provenant bench <name>`: benchmarks. Each benchmark is a module in bench/ exporting
 * `register(bench: Command)`; it adds its own subcommand and loads heavy dependencies lazily.
 * Every benchmark prints human-readable figures, side by side with the peer implementation in
 * the same run, and ends with one JSON line of its figures.
 */
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Command } from 'commander';

const benchDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bench');

export async function register(program: Command): Promise<void> {
  const bench = program.command('bench').description('run a benchmark (prints figures, last line JSON)');
  const files = readdirSync(benchDir)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
    .sort();
  for (const file of files) {
    const mod = (await import(pathToFileURL(join(benchDir, file)).href)) as {
      register?: (bench: Command) => void;
    };
    mod.register?.(bench);
  }
}

/**
 * The `provenant` CLI: one program that fronts every role (authority, flash, edge, ledger,
 * auditor, verify, bench, demo, ...).
 *
 * Each command group lives in its own module under cli/commands/ and exports
 * `register(program)`. Groups are discovered from that folder so parts can add commands without
 * touching this file; each group must import its heavy dependencies (mcl-wasm, serialport,
 * SQLite, Fabric) lazily inside its action handlers, so `provenant --help` stays fast.
 */
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Command, CommanderError, type Option } from 'commander';
import { ProvenantError } from '../shared/errors.js';

/** What a command module exports. */
export interface CommandModule {
  register(program: Command): void | Promise<void>;
}

const here = dirname(fileURLToPath(import.meta.url));

/** Builds the program with every command group registered. */
export async function buildProgram(): Promise<Command> {
  const program = new Command('provenant')
    .description('Provenance for IoT sensor data: boards, edge box, ledger, auditor.')
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)');
  const dir = join(here, 'commands');
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
    .sort();
  for (const file of files) {
    const mod = (await import(pathToFileURL(join(dir, file)).href)) as CommandModule;
    await mod.register(program);
  }
  program.exitOverride();
  for (const cmd of program.commands) exitOverrideDeep(cmd);
  configureHelpDeep(program);
  return program;
}

function exitOverrideDeep(cmd: Command): void {
  cmd.exitOverride();
  for (const sub of cmd.commands) exitOverrideDeep(sub);
}

/**
 * An option's line in `--help`: mandatory options say `required`; a default shows as the user
 * types it (`default: 7050`, `default: info`, not `"7050"`); flags show no `default: false`.
 */
export function optionHelp(option: Option): string {
  const extra: string[] = [];
  if (option.mandatory) extra.push('required');
  if (option.argChoices) extra.push(`choices: ${option.argChoices.join(', ')}`);
  const d: unknown = option.defaultValue;
  if (d !== undefined && !option.isBoolean()) {
    const shown =
      option.defaultValueDescription ??
      (typeof d === 'string' ? (d === '' ? '""' : d) : Array.isArray(d) ? d.join(' ') : JSON.stringify(d));
    extra.push(`default: ${shown}`);
  }
  if (option.envVar !== undefined) extra.push(`env: ${option.envVar}`);
  return extra.length > 0 ? `${option.description} (${extra.join(', ')})`.trim() : option.description;
}

function configureHelpDeep(cmd: Command): void {
  cmd.configureHelp({ optionDescription: optionHelp });
  for (const sub of cmd.commands) configureHelpDeep(sub);
}

/** Runs the CLI and resolves to the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const program = await buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end with exit code 0; usage errors were already printed.
      return err.exitCode;
    }
    if (err instanceof ProvenantError) {
      process.stderr.write(`provenant: ${err.message} [${err.code}]\n`);
      return 1;
    }
    process.stderr.write(`provenant: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}

/**
 * `provenant edge --config FILE`: runs the edge runtime on the edge box (serial/BLE boards,
 * outbox, forwarding, traffic profiles, HTTP API) until SIGINT/SIGTERM. `--check` only validates
 * the config. Heavy modules load inside the action so `provenant --help` stays light.
 */
import type { Command } from 'commander';

export function register(program: Command): void {
  program
    .command('edge')
    .description('run the edge runtime from a config file (YAML or JSON; see docs/edge.md)')
    .requiredOption('-c, --config <file>', 'config file (.yaml, .yml or .json)')
    .option('--check', 'validate the config and every file it names (credentials, keys, tokens, ledger, data dir), then exit')
    .action(async (opts: { config: string; check?: boolean }) => {
      const { checkConfigFiles, loadConfig, problemsError } = await import('../../edge-runtime/src/config.js');
      const config = await loadConfig(opts.config);
      if (opts.check) {
        const found = checkConfigFiles(config);
        for (const w of found.warnings) process.stderr.write(`warning: ${w.field}: ${w.message}\n`);
        if (found.errors.length > 0) throw problemsError(found.errors, opts.config);
        process.stdout.write(
          `config ok: edge ${config.edgeId}, ${config.boards.length} board(s), ${found.credentials} credential(s), ledger ${config.ledger.type}\n`,
        );
        return;
      }
      const { default: pino } = await import('pino');
      const log = pino({ level: config.log.level, base: { edgeId: config.edgeId } });
      const { startEdge } = await import('../../edge-runtime/src/from-config.js');
      const edge = await startEdge(config, { log });
      await new Promise<void>((resolve) => {
        const stop = (signal: string): void => {
          log.info({ signal }, 'stopping');
          resolve();
        };
        process.once('SIGINT', () => stop('SIGINT'));
        process.once('SIGTERM', () => stop('SIGTERM'));
      });
      await edge.stop();
    });
}

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
    .option('--check', 'validate the config and exit')
    .action(async (opts: { config: string; check?: boolean }) => {
      const { loadConfig } = await import('../../edge-runtime/src/config.js');
      const config = await loadConfig(opts.config);
      if (opts.check) {
        process.stdout.write(`config ok: edge ${config.edgeId}, ${config.boards.length} board(s), ledger ${config.ledger.type}\n`);
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

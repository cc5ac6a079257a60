/**
 * `provenant ledger start|verify|migrate`: serve the embedded ledger over HTTP, walk a ledger
 * database and report the first bad block, or convert an older store format. Heavy modules (SQLite, fastify, the contracts) load
 * inside the actions.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { ProvenantError } from '../../shared/errors.js';

/** Parses a token file: one token (may act as any identity), or JSON { "<token>": "<identity>" | "*" }. */
export function parseTokens(content: string, source: string): Map<string, string> {
  const text = content.trim();
  if (text === '') throw new ProvenantError('PROV_ERR_CONFIG', `${source} is empty`, { field: 'token' });
  if (!text.startsWith('{')) return new Map([[text, '*']]);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new ProvenantError('PROV_ERR_CONFIG', `${source} is not valid JSON: ${(err as Error).message}`, { field: 'token' });
  }
  const entries = Object.entries(parsed as Record<string, unknown>);
  if (entries.length === 0 || entries.some(([, v]) => typeof v !== 'string')) {
    throw new ProvenantError('PROV_ERR_CONFIG', `${source} must map tokens to identity names (or "*")`, { field: 'token' });
  }
  return new Map(entries as [string, string][]);
}

function intOption(name: string, min: number, max: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max)
      throw new ProvenantError('PROV_ERR_BAD_INPUT', `${name} must be an integer ${min}..${max}, got '${v}'`, { field: name });
    return n;
  };
}

function syncOption(v: string): 'full' | 'normal' {
  if (v !== 'full' && v !== 'normal')
    throw new ProvenantError('PROV_ERR_BAD_INPUT', `--sync must be 'full' or 'normal', got '${v}'`, { field: 'sync' });
  return v;
}

/** Registers the `ledger` command group. */
export function register(program: Command): void {
  const ledger = program.command('ledger').description('the embedded ledger: serve it over HTTP, verify its chain, migrate its store');

  ledger
    .command('start')
    .description('serve the embedded ledger (the four contracts) over HTTP with bearer-token auth, OpenAPI at /docs, metrics at /metrics')
    .requiredOption('--db <path>', 'SQLite ledger file (created if missing)')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'port to listen on (0: any free port)', intOption('--port', 0, 65535), 7050)
    .option('--token-file <file>', 'bearer token file: one token, or JSON {"<token>": "<identity>"|"*"} (else env PROVENANT_LEDGER_TOKEN)')
    .option('--identities <file>', 'JSON array of identities { name, mspId, id, attrs? } (default: aa, edge-1, auditor)')
    .option(
      '--sync <mode>',
      "durability: 'full' fsyncs every block, 'normal' only at WAL checkpoints (see docs/ledger.md)",
      syncOption,
      'full',
    )
    .option('--block-max-tx <n>', 'cut a block at this many transactions', intOption('--block-max-tx', 1, 65535), 500)
    .option('--block-timeout-ms <ms>', 'cut a block this long after its first transaction', intOption('--block-timeout-ms', 0, 60_000), 2)
    .option('--log-level <level>', 'pino log level (fatal, error, warn, info, debug)', 'info')
    .action(
      async (opts: {
        db: string;
        host: string;
        port: number;
        tokenFile?: string;
        identities?: string;
        sync: 'full' | 'normal';
        blockMaxTx: number;
        blockTimeoutMs: number;
        logLevel: string;
      }) => {
        let tokens: Map<string, string>;
        if (opts.tokenFile) {
          let content: string;
          try {
            content = readFileSync(opts.tokenFile, 'utf8');
          } catch (err) {
            throw new ProvenantError('PROV_ERR_CONFIG', `cannot read --token-file ${opts.tokenFile}: ${(err as Error).message}`, {
              field: 'token-file',
            });
          }
          tokens = parseTokens(content, opts.tokenFile);
        } else if (process.env['PROVENANT_LEDGER_TOKEN']) {
          tokens = parseTokens(process.env['PROVENANT_LEDGER_TOKEN'], 'PROVENANT_LEDGER_TOKEN');
        } else {
          throw new ProvenantError(
            'PROV_ERR_CONFIG',
            'no bearer token: pass --token-file FILE or set PROVENANT_LEDGER_TOKEN (e.g. openssl rand -hex 32)',
            { field: 'token' },
          );
        }
        const { contracts } = await import('../../ledger-bridge/contracts/index.js');
        const { EmbeddedLedger, parseIdentities } = await import('../../ledger-bridge/embedded/index.js');
        let identities;
        if (opts.identities) {
          let text: string;
          try {
            text = readFileSync(opts.identities, 'utf8');
          } catch (err) {
            throw new ProvenantError('PROV_ERR_CONFIG', `cannot read --identities ${opts.identities}: ${(err as Error).message}`, {
              field: 'identities',
            });
          }
          identities = parseIdentities(text, opts.identities);
        }
        const { buildLedgerServer } = await import('../../ledger-bridge/embedded/http/server.js');
        const led = await EmbeddedLedger.open({
          path: opts.db,
          contracts,
          sync: opts.sync,
          blockMaxTx: opts.blockMaxTx,
          blockTimeoutMs: opts.blockTimeoutMs,
          ...(identities ? { identities } : {}),
        });
        let app;
        try {
          app = await buildLedgerServer(led, { tokens, logger: { level: opts.logLevel } });
          const address = await app.listen({ host: opts.host, port: opts.port });
          process.stderr.write(
            `provenant ledger: listening on ${address} (db ${opts.db}, height ${led.head().height}, sync ${opts.sync})\n`,
          );
        } catch (err) {
          await app?.close();
          await led.close();
          throw err;
        }
        const server = app;
        await new Promise<void>((resolve) => {
          const stop = (signal: string): void => {
            process.stderr.write(`provenant ledger: ${signal}, closing\n`);
            void server
              .close()
              .then(() => led.close())
              .then(resolve, resolve);
          };
          process.once('SIGINT', () => stop('SIGINT'));
          process.once('SIGTERM', () => stop('SIGTERM'));
        });
      },
    );

  ledger
    .command('migrate')
    .description(
      'convert a ledger of store format 2 (one state key per reading) to format 3 (batch records): one on-chain migrateDevice transaction per device, then the format mark; rerunnable',
    )
    .requiredOption('--db <path>', 'SQLite ledger file (not held by a running ledger)')
    .option('--identity <name>', 'identity that submits the migration transactions (any configured one may)', 'aa')
    .option('--identities <file>', 'JSON array of identities { name, mspId, id, attrs? } the ledger was started with')
    .option('--json', 'print only the JSON report')
    .action(async (opts: { db: string; identity: string; identities?: string; json?: boolean }) => {
      const { contracts } = await import('../../ledger-bridge/contracts/index.js');
      const { parseIdentities } = await import('../../ledger-bridge/embedded/index.js');
      const { migrateLedger } = await import('../../ledger-bridge/embedded/migrate.js');
      let identities;
      if (opts.identities) {
        let text: string;
        try {
          text = readFileSync(opts.identities, 'utf8');
        } catch (err) {
          throw new ProvenantError('PROV_ERR_CONFIG', `cannot read --identities ${opts.identities}: ${(err as Error).message}`, {
            field: 'identities',
          });
        }
        identities = parseIdentities(text, opts.identities);
      }
      const report = await migrateLedger({ path: opts.db, contracts, ...(identities ? { identities } : {}) }, opts.identity, (line) => {
        if (!opts.json) process.stderr.write(`  ${line}\n`);
      });
      if (!opts.json) {
        process.stdout.write(
          report.from === report.to
            ? `ledger is already format ${report.to}: nothing to do (height ${report.height})\n`
            : `ledger migrated from format ${report.from} to ${report.to}: ${report.migrated} devices (${report.readings} readings) got a replay window, ${report.skipped} already had one; height ${report.height}\n`,
        );
      }
      process.stdout.write(`${JSON.stringify(report)}\n`);
    });

  ledger
    .command('verify')
    .description(
      'walk the whole chain (hash chain, Merkle roots, tx hashes, chain tree, state vs history) and report the first bad block; exit 1 if any',
    )
    .requiredOption('--db <path>', 'SQLite ledger file')
    .option('--json', 'print only the JSON report')
    .action(async (opts: { db: string; json?: boolean }) => {
      const { verifyLedger } = await import('../../ledger-bridge/embedded/verify.js');
      const report = await verifyLedger(opts.db);
      if (!opts.json) {
        if (report.ok) {
          process.stdout.write(
            `ledger OK: ${report.height} blocks, ${report.transactions} transactions (${report.validTransactions} valid), ${report.stateKeys} state keys, head ${report.headHash}\n`,
          );
        } else {
          const where = report.badBlock === null ? 'ledger' : `block ${report.badBlock}`;
          process.stdout.write(`ledger BAD at ${where}: ${report.reason}\n  (checked ${report.height} good blocks before it)\n`);
        }
      }
      process.stdout.write(`${JSON.stringify(report)}\n`);
      if (!report.ok) process.exitCode = 1;
    });
}

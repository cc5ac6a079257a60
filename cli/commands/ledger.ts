/**
 * `provenant ledger start|verify|migrate`: serve the embedded ledger over HTTP, walk a ledger
 * database and report the first bad block, or convert an older store format. Heavy modules (SQLite, fastify, the contracts) load
 * inside the actions.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { ProvenantError } from '../../shared/errors.js';
import { jsonErrorWithoutContent } from '../../shared/secret-files.js';

/**
 * Parses a token file: JSON { "<token>": "<identity>" }, each token bound to exactly one
 * configured identity (several tokens may name the same identity, e.g. during a rotation). A bare
 * token, or "*", is refused: it would let its holder act as any identity. Messages never quote
 * the file (it holds the tokens).
 */
export function parseTokens(content: string, source: string): Map<string, string> {
  const text = content.trim();
  if (text === '') throw new ProvenantError('PROV_ERR_CONFIG', `${source} is empty`, { field: 'token' });
  if (!text.startsWith('{'))
    throw new ProvenantError(
      'PROV_ERR_CONFIG',
      `${source} must be JSON mapping each token to one identity, e.g. {"<token>": "edge-1"} (provenant ledger tokens writes one); a bare token would act as any identity`,
      { field: 'token' },
    );
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new ProvenantError('PROV_ERR_CONFIG', `${source} is ${jsonErrorWithoutContent(err)}`, { field: 'token' });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new ProvenantError('PROV_ERR_CONFIG', `${source} must map tokens to identity names`, { field: 'token' });
  const entries = Object.entries(parsed as Record<string, unknown>);
  if (entries.length === 0 || entries.some(([, v]) => typeof v !== 'string' || v === '')) {
    throw new ProvenantError('PROV_ERR_CONFIG', `${source} must map tokens to identity names`, { field: 'token' });
  }
  if (entries.some(([, v]) => v === '*'))
    throw new ProvenantError('PROV_ERR_CONFIG', `${source}: "*" (any identity) is no longer allowed; bind each token to one identity`, {
      field: 'token',
    });
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
    .option(
      '--token-file <file>',
      'bearer tokens: JSON {"<token>": "<identity>"}, one identity per token (else env PROVENANT_LEDGER_TOKENS); see ledger tokens',
    )
    .option('--identities <file>', 'JSON array of identities { name, mspId, id, attrs? } (default: aa, edge-1, auditor)')
    .option(
      '--deposit-key-file <file>',
      'key sealing the K_IoT deposits at rest (64 hex; created 0600 for a new ledger; default <db>.deposit-key; env PROVENANT_DEPOSIT_KEY wins)',
    )
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
        depositKeyFile?: string;
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
        } else if (process.env['PROVENANT_LEDGER_TOKENS']) {
          tokens = parseTokens(process.env['PROVENANT_LEDGER_TOKENS'], 'PROVENANT_LEDGER_TOKENS');
        } else {
          throw new ProvenantError(
            'PROV_ERR_CONFIG',
            'no bearer tokens: pass --token-file FILE (JSON {"<token>": "<identity>"}, e.g. from provenant ledger tokens) or set PROVENANT_LEDGER_TOKENS',
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
          ...(opts.depositKeyFile ? { depositKeyFile: opts.depositKeyFile } : {}),
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
    .command('tokens')
    .description(
      "mint one bearer token per identity: DIR/tokens.json (the server's --token-file) and DIR/<identity>.token (each client's), all 0600 in a 0700 directory",
    )
    .requiredOption('--out <dir>', 'directory to write the token files to (created 0700)')
    .option('--identities <file>', 'JSON array of identities { name, mspId, id, attrs? } (default: aa, edge-1, auditor)')
    .option('--force', 'overwrite existing token files')
    .action(async (opts: { out: string; identities?: string; force?: boolean }) => {
      const { randomBytes } = await import('node:crypto');
      const { join } = await import('node:path');
      const { DEFAULT_IDENTITIES, parseIdentities } = await import('../../ledger-bridge/embedded/identity.js');
      const { ensurePrivateDir, writeSecretFile } = await import('../../shared/secret-files.js');
      const identities = opts.identities ? parseIdentities(readFileSync(opts.identities, 'utf8'), opts.identities) : DEFAULT_IDENTITIES;
      ensurePrivateDir(opts.out);
      const map: Record<string, string> = {};
      const overwrite = opts.force === true;
      const { existsSync } = await import('node:fs');
      for (const name of [...identities.map((i) => `${i.name}.token`), 'tokens.json'])
        if (!overwrite && existsSync(join(opts.out, name)))
          throw new ProvenantError('PROV_ERR_EXISTS', `${join(opts.out, name)} already exists (use --force to overwrite)`, {
            field: 'out',
          });
      for (const identity of identities) {
        const token = randomBytes(32).toString('hex');
        map[token] = identity.name;
        writeSecretFile(join(opts.out, `${identity.name}.token`), `${token}\n`, { overwrite });
      }
      writeSecretFile(join(opts.out, 'tokens.json'), `${JSON.stringify(map, null, 2)}\n`, { overwrite });
      process.stdout.write(
        `wrote ${join(opts.out, 'tokens.json')} (for provenant ledger start --token-file) and ${identities.map((i) => `${i.name}.token`).join(', ')} (one per client), mode 0600\n`,
      );
    });

  ledger
    .command('verify')
    .description(
      'walk the whole chain (hash chain, Merkle roots, tx hashes, chain tree, state vs history) and report the first bad block; exit 1 if any',
    )
    .requiredOption('--db <path>', 'SQLite ledger file')
    .option(
      '--deposit-key-file <file>',
      'the deposit key, to open and check private values too (default: env PROVENANT_DEPOSIT_KEY, else <db>.deposit-key if present)',
    )
    .option('--json', 'print only the JSON report')
    .action(async (opts: { db: string; depositKeyFile?: string; json?: boolean }) => {
      const { verifyLedger } = await import('../../ledger-bridge/embedded/verify.js');
      const { defaultDepositKeyFile, resolveDepositKey, DEPOSIT_KEY_ENV } = await import('../../ledger-bridge/embedded/deposit-key.js');
      const { existsSync } = await import('node:fs');
      // Without a key the walk still checks everything but the sealed private values' content.
      const keyFile = opts.depositKeyFile ?? defaultDepositKeyFile(opts.db);
      const haveKey = opts.depositKeyFile !== undefined || process.env[DEPOSIT_KEY_ENV] !== undefined || existsSync(keyFile);
      const depositKey = haveKey ? resolveDepositKey(opts.db, { depositKeyFile: keyFile }, false) : undefined;
      const report = await verifyLedger(opts.db, depositKey === undefined ? {} : { depositKey });
      if (!opts.json) {
        if (report.ok) {
          process.stdout.write(
            `ledger OK: ${report.height} blocks, ${report.transactions} transactions (${report.validTransactions} valid), ${report.stateKeys} state keys, head ${report.headHash}` +
              (report.privateValuesChecked ? '\n' : ' (private values not opened: no deposit key)\n'),
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

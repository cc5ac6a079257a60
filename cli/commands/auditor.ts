/**
 * `provenant auditor`: the provenance auditor as a role (BRIEF §2, §8).
 *   serve  the auditor over HTTP: POST /verify (Algorithm 3 verdict with ledger evidence,
 *          written to the provenance DB), GET /records/:deviceId/:seq, GET /head, POST /consistency
 *   head   print (and save) the ledger's chain head
 *   check  does the current chain extend a head saved earlier? exit 0 only if it does
 * head + check are the transparency-log workflow of BRIEF §7: save a head now, check later that
 * history up to it was not rewritten. Heavy modules load inside the actions.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { ProvenantError } from '../../shared/errors.js';
import type { LedgerClient } from '../../ledger-bridge/client.js';

interface LedgerOptions {
  ledger?: string;
  ledgerDb?: string;
  config?: string;
  ledgerTokenFile?: string;
  identity: string;
}

function bad(message: string, field: string): ProvenantError {
  return new ProvenantError('PROV_ERR_BAD_INPUT', message, { field });
}

/** The ledger options every auditor command takes. */
function ledgerOptions(cmd: Command): Command {
  return cmd
    .option('--ledger <url>', 'a running ledger (provenant ledger start), e.g. http://127.0.0.1:7050')
    .option('--ledger-db <path>', 'an embedded ledger file, opened in this process (not one a server has open)')
    .option('-c, --config <file>', "a Fabric network: the auditor's client config (docs/fabric.md)")
    .option('--ledger-token-file <file>', 'bearer token for --ledger (else env PROVENANT_LEDGER_TOKEN)')
    .option('--identity <name>', 'identity to act as on the embedded ledger', 'auditor');
}

async function openLedger(opts: LedgerOptions): Promise<LedgerClient> {
  const { connectLedger } = await import('../../ledger-bridge/auditor/connect.js');
  return connectLedger({
    identity: opts.identity,
    ...(opts.ledger !== undefined ? { ledger: opts.ledger } : {}),
    ...(opts.ledgerDb !== undefined ? { db: opts.ledgerDb } : {}),
    ...(opts.config !== undefined ? { fabricConfig: opts.config } : {}),
    ...(opts.ledgerTokenFile !== undefined ? { tokenFile: opts.ledgerTokenFile } : {}),
  });
}

/** The auditor's own bearer token: --token-file, else env PROVENANT_AUDITOR_TOKEN. */
function auditorToken(file: string | undefined): string {
  if (file !== undefined) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8').trim();
    } catch (err) {
      throw bad(`cannot read --token-file ${file}: ${(err as Error).message}`, 'token-file');
    }
    if (text.length < 16) throw bad(`--token-file ${file}: the token must be at least 16 characters`, 'token-file');
    return text;
  }
  const env = process.env['PROVENANT_AUDITOR_TOKEN']?.trim();
  if (env !== undefined && env.length >= 16) return env;
  throw bad(
    'the auditor needs a bearer token of at least 16 characters: pass --token-file FILE or set PROVENANT_AUDITOR_TOKEN',
    'token-file',
  );
}

function port(text: string): number {
  if (!/^[0-9]+$/.test(text) || Number(text) > 65535) throw bad(`--port must be an integer 0..65535, got '${text}'`, 'port');
  return Number(text);
}

/** Registers `provenant auditor`. */
export function register(program: Command): void {
  const auditor = program
    .command('auditor')
    .description(
      'the provenance auditor: serve verdicts with ledger evidence over HTTP; save a chain head and check later that the chain extends it',
    );

  ledgerOptions(
    auditor
      .command('serve')
      .description(
        'serve the auditor over HTTP: POST /verify, GET /records/:deviceId/:seq, GET /head, POST /consistency, /metrics, OpenAPI at /openapi.json',
      )
      .option(
        '--db <path|url>',
        'the provenance database (a SQLite file, or postgres://user:pass@host/db): filled from the ledger by the follower; verdicts are recorded in it',
      )
      .option('--no-follow', 'do not fill --db from the ledger (another process does)')
      .option('--retain-days <n>', 'delete stored readings older than this many days (default: keep them)')
      .option('--host <host>', 'address to listen on', '127.0.0.1')
      .option('--port <port>', 'port to listen on (0: any free port)', '7070')
      .option('--token-file <file>', 'bearer token clients must present (else env PROVENANT_AUDITOR_TOKEN)')
      .option(
        '--issuer-public <file>',
        "the authority's issuer.public.json: partials are re-verified under its key (else the ledger config's)",
      )
      .option('--log-level <level>', 'pino log level (fatal, error, warn, info, debug, trace, silent)', 'info'),
  ).action(
    async (
      opts: LedgerOptions & {
        db?: string;
        follow: boolean;
        retainDays?: string;
        host: string;
        port: string;
        tokenFile?: string;
        issuerPublic?: string;
        logLevel: string;
      },
    ) => {
      const listenPort = port(opts.port);
      const issuerPk =
        opts.issuerPublic !== undefined ? (await import('../authority-store.js')).loadIssuerPublicFile(opts.issuerPublic).pk : undefined;
      const token = auditorToken(opts.tokenFile);
      const retainDays = opts.retainDays === undefined ? undefined : Number(opts.retainDays);
      if (retainDays !== undefined && !(Number.isFinite(retainDays) && retainDays > 0))
        throw bad(`--retain-days must be a number > 0, got '${opts.retainDays}'`, 'retain-days');
      const ledger = await openLedger(opts);
      const { default: pino } = await import('pino');
      const log = pino({ level: opts.logLevel, base: { service: 'auditor' } });
      const { ProvenanceDb, ProvenanceFollower } = await import('../../ledger-bridge/provenance/index.js');
      const db = opts.db !== undefined ? await ProvenanceDb.open(opts.db) : undefined;
      const { embeddedProofChecker } = await import('../../ledger-bridge/auditor/auditor.js');
      const checkProof =
        opts.config !== undefined ? await (await import('../../ledger-bridge/auditor/connect.js')).fabricAwareChecker() : undefined;
      const follower =
        db !== undefined && opts.follow
          ? new ProvenanceFollower({ ledger, db, checkProof: checkProof ?? embeddedProofChecker, name: 'auditor', log })
          : undefined;
      follower?.start();
      const retention =
        db !== undefined && retainDays !== undefined
          ? setInterval(() => {
              void db.prune(Date.now() - retainDays * 86_400_000).then(
                (n) => n > 0 && log.info({ pruned: n, retainDays }, 'provenance retention'),
                (err: Error) => log.warn({ err: err.message }, 'provenance retention failed'),
              );
            }, 3_600_000)
          : undefined;
      retention?.unref();
      const { buildAuditorServer } = await import('../../ledger-bridge/auditor/http/server.js');
      const app = await buildAuditorServer({
        ledger,
        tokens: [token],
        loggerInstance: log,
        ...(issuerPk ? { issuerPk } : {}),
        ...(db ? { db } : {}),
        ...(follower ? { follower } : {}),
        ...(checkProof ? { checkProof } : {}),
      });
      const address = await app.listen({ host: opts.host, port: listenPort });
      // stderr, like the ledger's: stdout carries only pino's JSON lines.
      process.stderr.write(
        `auditor listening on ${address} (console at ${address}/console, OpenAPI at ${address}/docs)${db ? `, provenance database ${db.location}${follower ? ' (following the ledger)' : ''}` : ''}\n`,
      );
      let closing = false;
      const stop = (): void => {
        if (closing) return;
        closing = true;
        void (async () => {
          if (retention) clearInterval(retention);
          await app.close();
          await follower?.stop();
          await db?.close();
          await ledger.close();
          process.exit(0);
        })();
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    },
  );

  ledgerOptions(
    auditor
      .command('head')
      .description("print the ledger's current chain head; --save it for a later `provenant auditor check`")
      .option('--save <file>', 'write the head as JSON {height, hash}')
      .option('--json', 'print the head as JSON only'),
  ).action(async (opts: LedgerOptions & { save?: string; json?: boolean }) => {
    const ledger = await openLedger(opts);
    try {
      const head = await ledger.head();
      if (opts.save !== undefined) writeFileSync(opts.save, `${JSON.stringify(head)}\n`);
      if (!opts.json)
        process.stdout.write(
          `chain height ${head.height}, head ${head.hash}${opts.save !== undefined ? ` (saved to ${opts.save})` : ''}\n`,
        );
      process.stdout.write(`${JSON.stringify(head)}\n`);
    } finally {
      await ledger.close();
    }
  });

  ledgerOptions(
    auditor
      .command('check')
      .description(
        'does the current chain extend a head saved earlier (embedded: consistency proof; Fabric: block hash chain)? exit 0 only if it does',
      )
      .requiredOption('--saved <file>', 'the head saved earlier (JSON {height, hash}, as `auditor head --save` writes it)')
      .option('--json', 'print the result as JSON only'),
  ).action(async (opts: LedgerOptions & { saved: string; json?: boolean }) => {
    const { checkSavedHead, readHeadFile } = await import('../../ledger-bridge/auditor/http/head-check.js');
    const saved = readHeadFile(opts.saved);
    const ledger = await openLedger(opts);
    try {
      const r = await checkSavedHead(ledger, saved);
      if (!opts.json) {
        process.stdout.write(
          r.extends
            ? `the chain extends the saved head: ${r.saved.height}/${r.saved.hash} → ${r.current.height}/${r.current.hash} (${r.method})\n`
            : `the chain does NOT extend the saved head ${r.saved.height}/${r.saved.hash}: ${r.reason ?? 'unknown'} (current ${r.current.height}/${r.current.hash})\n`,
        );
      }
      process.stdout.write(`${JSON.stringify(r)}\n`);
      process.exitCode = r.extends ? 0 : 1;
    } finally {
      await ledger.close();
    }
  });
}

/**
 * `provenant demo` — what `npm start` runs: embedded ledger + authority + edge runtime + N
 * simulated boards running the built firmware, live progress, then a verified summary whose last
 * line is one JSON object. `--ledger fabric --config FILE` runs the same on a Fabric network. Without --duration it runs until Ctrl-C when stdin is a terminal, and
 * for 30 s otherwise (CI, pipes), so `npm install && npm start` always reaches its summary.
 */
import { InvalidArgumentError, type Command } from 'commander';
import type { DemoFabricLedger } from '../../demo/run.js';

const ATTACK_NAMES = ['forge', 'replay', 'tamper', 'fast-sampling', 'injection', 'unplug'];

function positiveInt(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${name} must be a positive integer`);
    return n;
  };
}

function positiveNumber(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${name} must be a positive number`);
    return n;
  };
}

export function register(program: Command): void {
  program
    .command('demo')
    .description(
      'run the whole system in one process: ledger, authority, edge, simulated boards; ends with a verified summary (last line JSON)',
    )
    .option('-n, --devices <n>', 'simulated boards', positiveInt('--devices'), 50)
    .option('-r, --rate <r>', 'readings per second per board', positiveNumber('--rate'), 2)
    .option(
      '-d, --duration <s>',
      'seconds to run (default: until Ctrl-C on a terminal, 30 s otherwise; 25 s with --attack, 45 s for injection)',
      positiveNumber('--duration'),
    )
    .option('-a, --attack <name>', `play one threat and show it caught: ${ATTACK_NAMES.join('|')}`, (v: string) => {
      if (!ATTACK_NAMES.includes(v)) throw new InvalidArgumentError(`--attack must be one of ${ATTACK_NAMES.join(', ')}`);
      return v;
    })
    .option('--data-dir <dir>', 'keep ledger, outbox and provenance DB here (default: a temp dir removed at the end)')
    .option('--window <s>', 'traffic-profile window in seconds', positiveNumber('--window'), 2)
    .option('-v, --verbose', 'print the edge log (pino, JSON) to stderr')
    .option('--ledger <type>', 'embedded (default: a ledger in this process) or fabric (your network, with --config)', 'embedded')
    .option(
      '-c, --config <file>',
      'with --ledger fabric: Fabric client config (docs/fabric.md §6); its identity is authority, edge and auditor',
    )
    .option(
      '--authority <dir>',
      'with --ledger fabric: `authority init` dir of the authority that configured the chaincode (else the demo configures it)',
    )
    .option('--policy <file>', 'with --authority: the policy JSON that authority configured (the edge signs partials under it)')
    .option('--console-port <port>', 'the edge API + console port (busy: any free one)', '8080')
    .option('--auditor-port <port>', 'the auditor + console port (busy: any free one)', '7070')
    .option('--no-console', 'start no API or console')
    .option('--no-epoch-signatures', 'boards do not sign their epochs (default: they do, without --attack; docs/edge.md)')
    .action(
      async (opts: {
        devices: number;
        rate: number;
        duration?: number;
        attack?: string;
        dataDir?: string;
        window: number;
        verbose?: boolean;
        ledger: string;
        config?: string;
        authority?: string;
        policy?: string;
        consolePort: string;
        auditorPort: string;
        console: boolean;
        epochSignatures: boolean;
      }) => {
        const port = (v: string, name: string): number => {
          const n = Number(v);
          if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError(`${name} must be a port 0..65535`);
          return n;
        };
        const { ProvenantError } = await import('../../shared/errors.js');
        const bad = (message: string, field: string) => new ProvenantError('PROV_ERR_BAD_INPUT', message, { field });
        if (opts.ledger !== 'embedded' && opts.ledger !== 'fabric')
          throw bad(`--ledger must be embedded or fabric, got "${opts.ledger}"`, 'ledger');
        if (opts.ledger === 'fabric' && !opts.config)
          throw bad('--ledger fabric needs --config FILE (a Fabric client config, docs/fabric.md)', 'config');
        if (opts.ledger === 'embedded' && (opts.config || opts.authority || opts.policy))
          throw bad('--config, --authority and --policy go with --ledger fabric', 'ledger');
        if (Boolean(opts.authority) !== Boolean(opts.policy))
          throw bad('--authority and --policy go together', opts.authority ? 'policy' : 'authority');
        let fabric: DemoFabricLedger | undefined;
        if (opts.ledger === 'fabric') {
          let issuer;
          let policy;
          if (opts.authority && opts.policy) {
            const { loadAuthority } = await import('../authority-store.js');
            const { parsePolicy, ready } = await import('../../shared/crypto/index.js');
            await ready();
            const { readFileSync } = await import('node:fs');
            issuer = loadAuthority(opts.authority);
            let text: string;
            try {
              text = readFileSync(opts.policy, 'utf8');
            } catch (err) {
              throw bad(`cannot read --policy ${opts.policy}: ${(err as Error).message}`, 'policy');
            }
            policy = parsePolicy(JSON.parse(text) as unknown);
          }
          fabric = { type: 'fabric', config: opts.config as string, ...(issuer ? { issuer } : {}), ...(policy ? { policy } : {}) };
        }
        const { runDemo } = await import('../../demo/run.js');
        const interactive = process.stdin.isTTY === true && process.stdout.isTTY === true;
        const durationS = opts.duration ?? (opts.attack === 'injection' ? 45 : opts.attack ? 25 : interactive ? undefined : 30);
        const controller = new AbortController();
        let interrupts = 0;
        const onSigint = (): void => {
          interrupts += 1;
          if (interrupts > 1) process.exit(130);
          process.stdout.write('\ninterrupted: finishing up (Ctrl-C again to quit at once)\n');
          controller.abort();
        };
        process.on('SIGINT', onSigint);
        let log;
        if (opts.verbose) {
          const { default: pino } = await import('pino');
          log = pino({ level: 'info' }, pino.destination(2));
        }
        try {
          const result = await runDemo({
            devices: opts.devices,
            rate: opts.rate,
            durationS,
            ...(opts.attack ? { attack: opts.attack as 'forge' } : {}),
            ...(opts.epochSignatures === false ? { epochSignatures: false } : {}),
            ...(opts.dataDir ? { dataDir: opts.dataDir } : {}),
            windowMs: Math.round(opts.window * 1000),
            consoles: opts.console
              ? { edgePort: port(opts.consolePort, '--console-port'), auditorPort: port(opts.auditorPort, '--auditor-port') }
              : false,
            out: (line) => process.stdout.write(`${line}\n`),
            progress: process.stdout.isTTY ? 'tty' : 'lines',
            signal: controller.signal,
            ...(log ? { log } : {}),
            ...(fabric ? { ledger: fabric } : {}),
          });
          if (result.summary.lost > 0 || (result.attack && !result.attack.detected)) process.exitCode = 1;
        } finally {
          process.off('SIGINT', onSigint);
        }
      },
    );
}

/**
 * `provenant export`: evidence bundles for an outside verifier — a stored reading's canonical
 * bytes, tag and decoded values with a fresh verdict and its ledger evidence (record,
 * transaction, block, inclusion proof, head). One JSON bundle for one seq, or NDJSON (one bundle
 * per line) for a device's time window. `provenant verify --bundle FILE` checks a bundle offline.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import type { Command } from 'commander';
import { ProvenantError } from '../../shared/errors.js';

interface ExportOptions {
  provenanceDb: string;
  device: string;
  seq?: string;
  from?: string;
  to?: string;
  ledger?: string;
  db?: string;
  config?: string;
  tokenFile?: string;
  identity: string;
  out?: string;
}

const bad = (message: string, field: string): ProvenantError => new ProvenantError('PROV_ERR_BAD_INPUT', message, { field });

function int(text: string | undefined, name: string): number | undefined {
  if (text === undefined) return undefined;
  if (!/^(0|[1-9][0-9]*)$/.test(text) || !Number.isSafeInteger(Number(text)))
    throw bad(`${name} must be an integer ≥ 0, got '${text}'`, name);
  return Number(text);
}

/** Registers `provenant export`. */
export function register(program: Command): void {
  program
    .command('export')
    .description(
      "evidence bundles of stored readings for an outside verifier (bytes, values, verdict, record, block, proof, head); check one with 'provenant verify --bundle'",
    )
    .requiredOption('--provenance-db <path|url>', 'the provenance database (SQLite file or postgres:// URL)')
    .requiredOption('--device <id>', 'deviceId')
    .option('--seq <n>', 'one reading: every stored copy of this seq, as a JSON array')
    .option('--from <ms>', 'a device time window (ms since 1970, inclusive): NDJSON, one bundle per line')
    .option('--to <ms>', 'end of the window (ms since 1970, inclusive)')
    .option('--ledger <url>', 'a running ledger (provenant ledger start)')
    .option('--db <path>', 'an embedded ledger file, opened in this process')
    .option('-c, --config <file>', "a Fabric network: the auditor's client config")
    .option('--token-file <file>', 'bearer token for --ledger (else env PROVENANT_LEDGER_TOKEN)')
    .option('--identity <name>', 'identity to act as (embedded ledger)', 'auditor')
    .option('--out <file>', 'write here instead of stdout')
    .action(async (opts: ExportOptions) => {
      const seq = int(opts.seq, '--seq');
      const from = int(opts.from, '--from');
      const to = int(opts.to, '--to');
      if ((seq === undefined) === (from === undefined && to === undefined)) throw bad('give --seq N, or a window with --from/--to', 'seq');
      const { Auditor, connectLedger, fabricAwareChecker } = await import('../../ledger-bridge/auditor/index.js');
      const { ProvenanceDb } = await import('../../ledger-bridge/provenance/index.js');
      const { exportReading } = await import('../../ledger-bridge/auditor/export.js');
      const db = await ProvenanceDb.open(opts.provenanceDb);
      const ledger = await connectLedger({
        identity: opts.identity,
        ...(opts.ledger ? { ledger: opts.ledger } : {}),
        ...(opts.db ? { db: opts.db } : {}),
        ...(opts.tokenFile ? { tokenFile: opts.tokenFile } : {}),
        ...(opts.config ? { fabricConfig: opts.config } : {}),
      }).catch(async (err: unknown) => {
        await db.close();
        throw err;
      });
      const out: WriteStream | NodeJS.WriteStream = opts.out ? createWriteStream(opts.out) : process.stdout;
      const write = (s: string): Promise<void> => new Promise((resolve, reject) => out.write(s, (err) => (err ? reject(err) : resolve())));
      try {
        const checkProof = opts.config ? await fabricAwareChecker() : undefined;
        const auditor = new Auditor({ ledger, db, ...(checkProof ? { checkProof } : {}) });
        let n = 0;
        if (seq !== undefined) {
          const rows = await db.findBySeq(opts.device, seq);
          if (rows.length === 0)
            throw new ProvenantError('PROV_ERR_NOT_FOUND', `the provenance database holds no reading of ${opts.device} at seq ${seq}`);
          const bundles = [];
          for (const r of rows) bundles.push(await exportReading(auditor, r));
          await write(`${JSON.stringify(bundles.length === 1 ? bundles[0] : bundles, null, 2)}\n`);
          n = bundles.length;
        } else {
          const range = { deviceId: opts.device, ...(from !== undefined ? { fromT: from } : {}), ...(to !== undefined ? { toT: to } : {}) };
          let after: { deviceId: string; seq: number; dataHash: string } | undefined;
          for (;;) {
            const page = await db.list(range, { limit: 200, ...(after ? { after } : {}) });
            for (const r of page) {
              await write(`${JSON.stringify(await exportReading(auditor, r))}\n`);
              n++;
            }
            const last = page.at(-1);
            if (last === undefined) break;
            after = { deviceId: last.deviceId, seq: last.seq, dataHash: last.dataHash };
          }
        }
        process.stderr.write(`exported ${n} bundle(s)${opts.out ? ` to ${opts.out}` : ''}\n`);
      } finally {
        if (opts.out) await new Promise<void>((r) => (out as WriteStream).end(() => r()));
        await db.close();
        await ledger.close();
      }
    });
}

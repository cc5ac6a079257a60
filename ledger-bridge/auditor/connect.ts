/**
 * Opens a LedgerClient for a command-line tool: a running ledger over HTTP (`--ledger URL`,
 * `provenant ledger start`) or an embedded ledger file opened in-process (`--db PATH`). Heavy
 * modules load here, lazily, so commands stay light until they act.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { LedgerClient } from '../client.js';
import type { ProofChecker } from './auditor.js';
import { ProvenantError } from '../../shared/errors.js';

/** Where the ledger is and as whom to act. */
export interface ConnectOptions {
  /** URL of a running ledger (http://host:port). */
  readonly ledger?: string;
  /** Embedded ledger SQLite file, opened in this process (do not point it at a file a server has open). */
  readonly db?: string;
  /** Fabric client config (YAML/JSON, docs/fabric.md); the identity is the config's certificate. */
  readonly fabricConfig?: string;
  /** File holding the bearer token for --ledger (else env PROVENANT_LEDGER_TOKEN). */
  readonly tokenFile?: string;
  /** Identity name ('aa', 'edge-1', 'auditor', ...) for an embedded file; over HTTP the token decides. */
  readonly identity: string;
  /**
   * May `db` name a file that does not exist yet (a new ledger)? Only the authority's first
   * command does that; every other command refuses a missing file (`no ledger at PATH`) instead of
   * answering from a fresh empty ledger.
   */
  readonly create?: boolean;
}

function tokenFrom(options: ConnectOptions): string {
  if (options.tokenFile !== undefined) {
    try {
      return readFileSync(options.tokenFile, 'utf8').trim();
    } catch (err) {
      throw new ProvenantError('PROV_ERR_CONFIG', `cannot read --token-file ${options.tokenFile}: ${(err as Error).message}`, {
        field: 'token-file',
      });
    }
  }
  const env = process.env['PROVENANT_LEDGER_TOKEN'];
  if (env !== undefined && env.trim() !== '' && !env.trim().startsWith('{')) return env.trim();
  throw new ProvenantError('PROV_ERR_CONFIG', 'no bearer token for --ledger: pass --token-file FILE or set PROVENANT_LEDGER_TOKEN', {
    field: 'token',
  });
}

/** Opens the client; exactly one of `ledger`, `db` and `fabricConfig` must be given. */
export async function connectLedger(options: ConnectOptions): Promise<LedgerClient> {
  const given = [options.ledger, options.db, options.fabricConfig].filter((x) => x !== undefined).length;
  if (given !== 1) {
    throw new ProvenantError(
      'PROV_ERR_BAD_INPUT',
      'give exactly one of --ledger URL (a running ledger), --db PATH (an embedded ledger file) or --config FILE (a Fabric network)',
      { field: 'ledger' },
    );
  }
  if (options.fabricConfig !== undefined) {
    const { FabricLedgerClient } = await import('../fabric/fabric-client.js');
    return FabricLedgerClient.connect(options.fabricConfig);
  }
  if (options.ledger !== undefined) {
    const { HttpLedgerClient } = await import('../embedded/http/client.js');
    // Over HTTP the bearer token alone decides the identity (docs/ledger.md); --identity names one
    // only for an embedded file opened in-process.
    return new HttpLedgerClient({ url: options.ledger, token: tokenFrom(options) });
  }
  if (options.create !== true && !existsSync(options.db as string))
    throw new ProvenantError('PROV_ERR_NOT_FOUND', `no ledger at ${options.db as string}`, { field: 'db' });
  const { contracts } = await import('../contracts/index.js');
  const { EmbeddedLedgerClient } = await import('../embedded/index.js');
  return EmbeddedLedgerClient.open({ path: options.db as string, contracts, identity: options.identity });
}

/**
 * The proof checker for a ledger reached through a Fabric config: Fabric evidence is a block
 * chained to the head; anything else is checked as an embedded Merkle proof. Loaded lazily so
 * commands that never talk to Fabric do not load its libraries.
 */
export async function fabricAwareChecker(): Promise<ProofChecker> {
  const { checkFabricInclusion } = await import('../fabric/block-proof.js');
  const { embeddedProofChecker } = await import('./auditor.js');
  return (proof, head) => {
    const fabric = checkFabricInclusion(proof, head);
    return fabric.ok === 'unchecked' ? embeddedProofChecker(proof, head) : fabric;
  };
}

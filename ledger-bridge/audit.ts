/**
 * The bridge's audit surface for the other parts (with client.ts and connect.ts, the only files of
 * ledger-bridge the edge runtime may import; eslint.config.js enforces it): a provenance database
 * with the follower that fills it from the ledger, and validation of the readings it holds. The
 * edge uses it to keep its own provenance database and to validate when no auditor is configured.
 * Heavy modules (SQLite, PostgreSQL, Fabric protos) load lazily.
 */
import type { LedgerClient } from './client.js';
import type { AuditLocator, AuditResult } from './auditor/auditor.js';
import type { FollowerStatus } from './provenance/follower.js';

export type { AuditLocator, AuditResult } from './auditor/auditor.js';
export type { FollowerStatus } from './provenance/follower.js';

/** A log sink (pino-compatible subset). */
interface AuditLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

/** A running provenance database with its follower. */
export interface FollowedProvenance {
  /** Where it lives (a path, or a postgres:// URL with the password hidden). */
  readonly location: string;
  status(): FollowerStatus;
  /** Checks every stored copy of (deviceId, seq | t) against the ledger; status and history updated. */
  validate(deviceId: string, at: AuditLocator, askedBy: string): Promise<AuditResult[]>;
  /** Deletes readings received before `before` (ms); returns how many. */
  prune(before: number): Promise<number>;
  close(): Promise<void>;
}

/**
 * Opens the provenance database at `location` (SQLite path or postgres:// URL) and starts a
 * follower named `name` that fills it from `ledger` (`fabric`: check Fabric block proofs).
 */
export async function followProvenance(
  ledger: LedgerClient,
  location: string,
  options: { name: string; fabric?: boolean; log?: AuditLog },
): Promise<FollowedProvenance> {
  const { ProvenanceDb, ProvenanceFollower } = await import('./provenance/index.js');
  const { Auditor, embeddedProofChecker } = await import('./auditor/auditor.js');
  const checkProof = options.fabric ? await (await import('./auditor/connect.js')).fabricAwareChecker() : embeddedProofChecker;
  const db = await ProvenanceDb.open(location);
  const follower = new ProvenanceFollower({ ledger, db, checkProof, name: options.name, ...(options.log ? { log: options.log } : {}) });
  follower.start();
  return {
    location: db.location,
    status: () => follower.status(),
    validate: (deviceId, at, askedBy) => new Auditor({ ledger, db, checkProof }).checkStored(deviceId, at, askedBy),
    prune: (before) => db.prune(before),
    close: async () => {
      await follower.stop();
      await db.close();
    },
  };
}

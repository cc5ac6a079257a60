/**
 * Fills a provenance database from a real embedded ledger the way the follower does in service
 * (ReadingsRecorded events → inclusion proof checked → the transaction's readings stored), but
 * synchronously up to the current head, so a test knows when it is done.
 */
import type { LedgerClient } from '../../ledger-bridge/client.js';
import { embeddedProofChecker } from '../../ledger-bridge/auditor/auditor.js';
import type { EmbeddedLedger } from '../../ledger-bridge/embedded/index.js';
import { ProvenanceFollower, type ProvenanceDb } from '../../ledger-bridge/provenance/index.js';

/** Applies every reading event of `ledger` from the database's cursor up to the head. Returns the follower (not started). */
export async function fillFromLedger(ledger: EmbeddedLedger, client: LedgerClient, db: ProvenanceDb): Promise<ProvenanceFollower> {
  const follower = new ProvenanceFollower({ ledger: client, db, checkProof: embeddedProofChecker });
  const from = (await db.cursor('provenance')) ?? 0;
  for await (const e of ledger.events({ startBlock: from, follow: false })) await follower.apply(e);
  return follower;
}

/** Polls `fn` until it returns true (or throws after `timeoutMs`). */
export async function until(fn: () => boolean | Promise<boolean>, timeoutMs = 30_000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

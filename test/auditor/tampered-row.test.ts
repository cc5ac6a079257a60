/**
 * Issue 11, attack 4: one reading's state row edited in the ledger's file (in its batch record, the
 * reading's dataHash overwritten with that of made-up data). The ledger itself then answers TRUE
 * for the made-up data — its state says so — but the auditor checks what it certifies: the
 * record's leaf must lead, by its batch path, to the root the proven transaction wrote (the write
 * set in the block); the attacker also rewrote the stored root to match, so the ledger's own check
 * passes, but the transaction wrote the old root: UNPROVEN, never TRUE. Real contracts, real SQLite file.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Auditor } from '../../ledger-bridge/auditor/index.js';
import { CONTRACTS } from '../../ledger-bridge/client.js';
import { contracts } from '../../ledger-bridge/contracts/index.js';
import { recordLeafHash } from '../../ledger-bridge/contracts/logic/batch-layout.js';
import type { ProvenanceRecord } from '../../shared/records.js';
import { EmbeddedLedger, EmbeddedLedgerClient } from '../../ledger-bridge/embedded/index.js';
import { json, partialFor, readingOf, recordBatch, signed, World } from '../contracts/fixture.js';
import { stateRows } from '../support/ledger-state.js';

describe('issue 11 attack 4: the auditor does not certify an edited state row', () => {
  let w: World;
  let reopened: EmbeddedLedger | undefined;
  let genuine: Buffer;
  let madeUp: Buffer;

  beforeAll(async () => {
    w = await World.open();
    const { enrollment } = await w.enroll('dev-row');
    const p = partialFor(enrollment.credential, 1);
    const sub = signed(enrollment.device.kIoT, readingOf('dev-row', 1, p));
    expect((await recordBatch(w, [sub], [p])).accepted).toBe(1);
    genuine = Buffer.from(sub.canonical, 'hex');
    madeUp = Buffer.from(
      signed(enrollment.device.kIoT, readingOf('dev-row', 1, p, { channels: [{ id: 0, scale: -2, value: 9999 }] })).canonical,
      'hex',
    );
    // The attacker edits the row in the file (the ledger closed so its cache cannot hide the edit):
    // the reading's dataHash, and the batch record's root so that the record still hashes to it.
    const record = json<ProvenanceRecord>(
      await w.auditor.evaluate({ contract: CONTRACTS.dataProvenance, fn: 'get', args: ['dev-row', '1'] }),
    );
    const madeUpHash = createHash('sha256').update(madeUp).digest();
    const oldRoot = recordLeafHash(record); // one reading in its batch: the root is its leaf
    const newRoot = recordLeafHash({ ...record, dataHash: madeUpHash.toString('hex') });
    const path = join(w.dir, 'ledger.db');
    await w.ledger.close();
    const db = new Database(path);
    const was = createHash('sha256').update(genuine).digest();
    const rows = stateRows(db).filter((r) => r.value.includes(was));
    expect(rows.length, 'one state row holds the reading').toBe(1);
    const row = rows[0] as { key: string; value: Buffer };
    const edited = Buffer.from(row.value);
    madeUpHash.copy(edited, edited.indexOf(was));
    expect(edited.indexOf(oldRoot), 'the batch record holds its root').toBeGreaterThanOrEqual(0);
    newRoot.copy(edited, edited.indexOf(oldRoot));
    expect(db.prepare('UPDATE state SET value = ? WHERE key = ?').run(edited, row.key).changes).toBe(1);
    db.close();
    reopened = await EmbeddedLedger.open({ path, contracts });
  });
  afterAll(async () => {
    await reopened?.close();
    await w.close();
  });

  it('the edited ledger says TRUE for the made-up data; the auditor says UNPROVEN, naming the batch path', async () => {
    const client = new EmbeddedLedgerClient(reopened as EmbeddedLedger, 'auditor');
    const answer = json(
      await client.evaluate({ contract: CONTRACTS.dataProvenance, fn: 'verify', args: ['dev-row', 'seq:1', madeUp.toString('hex'), ''] }),
    );
    expect(answer).toMatchObject({ verdict: 'TRUE' });
    const auditor = new Auditor({ ledger: client });
    const r = await auditor.check({ deviceId: 'dev-row', at: { seq: 1 }, data: madeUp });
    expect(r.verdict).not.toBe('TRUE');
    expect(r.genuine).toBe(false);
    expect(r.evidence?.proofCheck).toEqual({ ok: true }); // the transaction IS in the chain…
    expect(r.evidence?.batch?.check.ok).toBe(false); // …but it did not write this record
    expect(r.message).toMatch(/batch path FAILED/);
  });
});

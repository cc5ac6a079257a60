/**
 * The auditor re-verifies the partial signature a record rests on (ledger-bridge/auditor/
 * partial-check.ts): a genuine reading is TRUE with the partial's BBS proof checked under the
 * authority's issuer key; a ledger whose stored partial was tampered with (an attribute the proof
 * never disclosed added to it, in the ledger's file) still answers TRUE itself, but the auditor
 * refuses `genuine`, naming the BBS proof; an auditor pinning another issuer key refuses too.
 * Real contracts, real SQLite file, real BBS.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Auditor } from '../../ledger-bridge/auditor/index.js';
import { CONTRACTS } from '../../ledger-bridge/client.js';
import { contracts } from '../../ledger-bridge/contracts/index.js';
import { canonicalJson } from '../../ledger-bridge/contracts/logic/canonical.js';
import { EmbeddedLedger, EmbeddedLedgerClient } from '../../ledger-bridge/embedded/index.js';
import { setup } from '../../shared/crypto/outsourced.js';
import { json, partialFor, readingOf, recordBatch, signed, World } from '../contracts/fixture.js';
import { stateRows } from '../support/ledger-state.js';

describe("the auditor re-verifies the partial's BBS proof itself", () => {
  let w: World;
  let reopened: EmbeddedLedger | undefined;
  let data: Buffer;
  let digest: string;
  let batchTx: string;

  beforeAll(async () => {
    w = await World.open();
    const { enrollment } = await w.enroll('dev-bbs');
    const p = partialFor(enrollment.credential, 1);
    digest = p.partialDigest;
    const sub = signed(enrollment.device.kIoT, readingOf('dev-bbs', 1, p));
    expect((await recordBatch(w, [sub], [p])).accepted).toBe(1);
    data = Buffer.from(sub.canonical, 'hex');
    batchTx = json<{ txId: string }>(
      await w.auditor.evaluate({ contract: CONTRACTS.dataProvenance, fn: 'get', args: ['dev-bbs', '1'] }),
    ).txId;
  });
  afterAll(async () => {
    await reopened?.close();
    await w.close();
  });

  it('genuine data: TRUE, the partial bound to the record, its BBS proof verified under the pinned issuer key, a proven write', async () => {
    const auditor = new Auditor({ ledger: w.auditor, issuerPk: w.issuer.pk });
    const r = await auditor.check({ deviceId: 'dev-bbs', at: { seq: 1 }, data });
    expect(r.verdict).toBe('TRUE');
    expect(r.genuine).toBe(true);
    expect(r.evidence?.partial).toEqual({
      partialDigest: digest,
      txId: batchTx,
      issuerPk: Buffer.from(w.issuer.pk).toString('hex'),
      keyFrom: 'pinned',
      check: { ok: true },
    });
    expect(r.message).toMatch(/partial signature re-verified \(BBS, pinned issuer key\)/);
    // Without a pinned key, the proven ledger config's key.
    const unpinned = await new Auditor({ ledger: w.auditor }).check({ deviceId: 'dev-bbs', at: { seq: 1 }, data });
    expect(unpinned.genuine).toBe(true);
    expect(unpinned.evidence?.partial?.keyFrom).toBe('ledger-config');
  });

  it("an auditor pinning another authority's issuer key does not certify the data", async () => {
    const other = setup({ keyMaterial: new Uint8Array(32).fill(9) });
    const r = await new Auditor({ ledger: w.auditor, issuerPk: other.pk }).check({ deviceId: 'dev-bbs', at: { seq: 1 }, data });
    expect(r.verdict).toBe('UNPROVEN');
    expect(r.genuine).toBe(false);
    expect(r.evidence?.partial?.check).toMatchObject({ ok: false, reason: expect.stringMatching(/another issuer key/) });
  });

  it('a tampered partial in the evidence (an undisclosed attribute added in the ledger file): the ledger says TRUE, the auditor refuses genuine on the BBS proof', async () => {
    const path = join(w.dir, 'ledger.db');
    await w.ledger.close();
    const db = new Database(path);
    const rows = stateRows(db).filter(
      (r) => r.value.includes(Buffer.from(`"partialDigest":"${digest}"`)) && r.value.includes(Buffer.from('"proof":')),
    );
    expect(rows.length, 'one state row holds the partial').toBe(1);
    const row = rows[0] as { key: string; value: Buffer };
    const stored = JSON.parse(row.value.toString('utf8')) as { disclosed: Record<string, string>; disclosedIndexes: number[] };
    const line = w.issuer.schema.indexOf('line');
    expect(stored.disclosedIndexes).not.toContain(line);
    // The attacker claims the board sits on line "L9": the proof never disclosed `line`.
    const tampered = {
      ...stored,
      disclosed: { ...stored.disclosed, line: 'L9' },
      disclosedIndexes: [...stored.disclosedIndexes, line].sort((a, b) => a - b),
    };
    expect(db.prepare('UPDATE state SET value = ? WHERE key = ?').run(Buffer.from(canonicalJson(tampered)), row.key).changes).toBe(1);
    db.close();
    reopened = await EmbeddedLedger.open({ path, contracts });
    const client = new EmbeddedLedgerClient(reopened, 'auditor');
    expect(json(await client.evaluate({ contract: CONTRACTS.dataProvenance, fn: 'getPartial', args: [digest] }))).toMatchObject({
      disclosed: { line: 'L9' },
    });
    expect(
      json(
        await client.evaluate({ contract: CONTRACTS.dataProvenance, fn: 'verify', args: ['dev-bbs', 'seq:1', data.toString('hex'), ''] }),
      ),
    ).toMatchObject({ verdict: 'TRUE' });
    for (const auditor of [new Auditor({ ledger: client, issuerPk: w.issuer.pk }), new Auditor({ ledger: client })]) {
      const r = await auditor.check({ deviceId: 'dev-bbs', at: { seq: 1 }, data });
      expect(r.verdict).toBe('UNPROVEN');
      expect(r.genuine).toBe(false);
      expect(r.evidence?.proofCheck).toEqual({ ok: true }); // the record's transaction IS in the chain…
      expect(r.evidence?.batch?.check).toEqual({ ok: true }); // …and wrote this record…
      expect(r.evidence?.partial?.check).toMatchObject({
        ok: false,
        reason: expect.stringMatching(/BAD_PROOF: .*BBS proof does not verify/),
      });
      expect(r.message).toMatch(/partial signature FAILED the auditor's check/);
    }
  });
});

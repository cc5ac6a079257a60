/**
 * The embedded ledger running the real contracts (ledger-bridge/contracts): concurrency of
 * batches, proofs and events of a recordBatch transaction, K_IoT and the deposited K_tag/K_chal kept
 * out of every block and sealed at rest, and a full verify of the resulting chain, also after reopening.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTRACTS, type LedgerEvent } from '../../ledger-bridge/client.js';
import { contracts } from '../../ledger-bridge/contracts/index.js';
import { EmbeddedLedger, verifyConsistency, verifyInclusion } from '../../ledger-bridge/embedded/index.js';
import { verifyLedger } from '../../ledger-bridge/embedded/verify.js';
import { DepositCipher } from '../../ledger-bridge/embedded/deposit-key.js';
import { ledgerKeys } from '../../shared/crypto/domains.js';
import { sha256 } from '../../shared/crypto/sha256.js';
import type { PartialSignatureJson } from '../../shared/crypto/credential.js';
import type { Enrollment } from '../../shared/crypto/outsourced.js';
import { json, partialFor, readingOf, recordBatch, signed, World } from '../contracts/fixture.js';

const EPOCH = 3;

describe('embedded ledger with the real contracts', () => {
  let w: World;
  const devices: { e: Enrollment; p: PartialSignatureJson; id: string }[] = [];

  beforeAll(async () => {
    w = await World.open();
    for (const id of ['r-1', 'r-2', 'r-3']) {
      const { enrollment } = await w.enroll(id);
      devices.push({ e: enrollment, p: partialFor(enrollment.credential, EPOCH), id });
    }
    await recordBatch(
      w,
      devices.map((d) => signed(d.e.device.kIoT, readingOf(d.id, 1, d.p))),
      devices.map((d) => d.p),
    );
  });
  afterAll(async () => {
    await w.close();
  });

  it('commits concurrent batches of disjoint devices in one block without MVCC conflicts (one window key per device)', async () => {
    const batches = devices.map((d) => [10, 11, 12].map((seq) => signed(d.e.device.kIoT, readingOf(d.id, seq, d.p))));
    const results = await Promise.all(batches.map((b) => recordBatch(w, b)));
    expect(results.map((r) => r.accepted)).toEqual([3, 3, 3]);
    expect(new Set(results.map((r) => r.blockNumber)).size).toBe(1);
  });

  it('concurrent batches of the same device: one commits, the other is an MVCC conflict and commits when resubmitted', async () => {
    const d = devices[2] as (typeof devices)[number];
    const a = [signed(d.e.device.kIoT, readingOf(d.id, 20, d.p))];
    const b = [signed(d.e.device.kIoT, readingOf(d.id, 21, d.p))];
    const outcomes = await Promise.allSettled([recordBatch(w, a), recordBatch(w, b)]);
    expect(outcomes.filter((o) => o.status === 'fulfilled').length).toBe(1);
    const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
    expect((failed?.reason as { code: string }).code).toBe('PROV_ERR_MVCC_READ_CONFLICT');
    const retried = await recordBatch(w, outcomes[0]?.status === 'rejected' ? a : b);
    expect(retried.accepted).toBe(1);
  });

  it('a replay submitted concurrently with the original: exactly one commits the reading', async () => {
    const d = devices[0] as (typeof devices)[number];
    const reading = signed(d.e.device.kIoT, readingOf(d.id, 50, d.p));
    const outcomes = await Promise.allSettled([recordBatch(w, [reading]), recordBatch(w, [reading])]);
    const accepted = outcomes.filter((o) => o.status === 'fulfilled' && o.value.accepted === 1).length;
    // Both simulated before either committed; MVCC invalidates the second (its replay read is stale).
    expect(accepted).toBe(1);
    const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
    if (failed) expect((failed.reason as { code: string }).code).toBe('PROV_ERR_MVCC_READ_CONFLICT');
    expect(json(await w.auditor.evaluate({ contract: CONTRACTS.dataProvenance, fn: 'get', args: [d.id, '50'] }))).toMatchObject({
      seq: 50,
    });
  });

  it('proves a recordBatch transaction offline and replays its ReadingsRecorded event', async () => {
    const d = devices[1] as (typeof devices)[number];
    const r = await recordBatch(w, [signed(d.e.device.kIoT, readingOf(d.id, 70, d.p))]);
    const savedHead = await w.auditor.head();
    const proof = await w.auditor.inclusionProof(r.txId);
    expect(verifyInclusion(proof, savedHead)).toEqual({ ok: true });
    await recordBatch(w, [signed(d.e.device.kIoT, readingOf(d.id, 71, d.p))]);
    expect(verifyConsistency(w.ledger.consistencyProof(savedHead.height), savedHead, w.ledger.head())).toEqual({ ok: true });
    const abort = new AbortController();
    const seen: LedgerEvent[] = [];
    for await (const e of w.auditor.events({ startBlock: r.blockNumber, signal: abort.signal })) {
      seen.push(e);
      if (e.txId === r.txId) abort.abort();
    }
    const ev = seen.find((e) => e.txId === r.txId);
    expect(ev).toMatchObject({ contract: CONTRACTS.dataProvenance, name: 'ReadingsRecorded', blockNumber: r.blockNumber });
    expect(json(ev?.payload as Uint8Array)).toMatchObject({ accepted: 1, txId: r.txId });
  });

  it('writes neither K_IoT nor the deposited K_tag/K_chal into a block or in clear to disk (sealed in the private store), and the whole chain verifies after reopening', async () => {
    const path = join(w.dir, 'ledger.db');
    await w.ledger.close();
    const Database = (await import('better-sqlite3')).default;
    const db = new Database(path, { readonly: true });
    const envelopes = db.prepare('SELECT envelope FROM txs').pluck().all() as Buffer[];
    const rows = db.prepare('SELECT collection, key, version, value FROM private').all() as {
      collection: string;
      key: string;
      version: number;
      value: Buffer;
    }[];
    db.close();
    const depositKey = Buffer.from(readFileSync(`${path}.deposit-key`, 'utf8').trim(), 'hex');
    const cipher = new DepositCipher(depositKey);
    // What is really deposited: K_tag ‖ K_chal (the subkeys), one sealed row per device.
    expect(rows.length).toBe(devices.length);
    const opened = rows.map((r) => Buffer.from(cipher.open(r.collection, r.key, r.version, r.value)));
    for (const d of devices) {
      const { kTag, kChal } = ledgerKeys(sha256, d.e.device.kIoT);
      expect(
        opened.some((o) => o.equals(Buffer.concat([kTag, kChal]))),
        `the deposit of ${d.id} opens to K_tag ‖ K_chal`,
      ).toBe(true);
      const secrets: [string, Buffer][] = [
        ['K_IoT', Buffer.from(d.e.device.kIoT)],
        ['K_tag', Buffer.from(kTag)],
        ['K_chal', Buffer.from(kChal)],
      ];
      for (const [name, k] of secrets) {
        expect(
          envelopes.some(
            (e) => e.includes(k) || e.includes(Buffer.from(k.toString('hex'))) || e.includes(Buffer.from(k.toString('base64'))),
          ),
          `${name} of ${d.id} in a block`,
        ).toBe(false);
        // Issue 11 attack 5: the deposits are sealed under a key outside the database file.
        expect(
          rows.some((r) => r.value.includes(k) || r.value.includes(Buffer.from(k.toString('hex')))),
          `${name} of ${d.id} in clear in the private table`,
        ).toBe(false);
        for (const file of [path, `${path}-wal`]) {
          if (!existsSync(file)) continue;
          const bytes = readFileSync(file);
          expect(bytes.includes(k) || bytes.includes(Buffer.from(k.toString('hex'))), `${name} of ${d.id} in ${file}`).toBe(false);
        }
      }
    }
    const report = await verifyLedger(path, { depositKey });
    expect(report, report.reason ?? '').toMatchObject({ ok: true, privateValuesChecked: true });
    // Reopen for the remaining teardown: the same head, ready for more.
    const reopened = await EmbeddedLedger.open({ path, contracts });
    expect(reopened.head().hash).toBe(report.headHash);
    await reopened.close();
    // World.close() closes its (already closed) ledger again: a no-op.
  });
});

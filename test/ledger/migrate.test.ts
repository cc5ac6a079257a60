/**
 * Stored-data migration: an embedded ledger written by the build before batch records (store
 * format 2, one `reading` key per reading; test/ledger/fixtures/make-legacy-ledger.ts made it
 * with commit d47c1b7) is refused by this build with a message naming `provenant ledger
 * migrate`; after the command, old readings are still verified and their replays still
 * recognised — in the window, below it, and in its gaps — and new readings commit. The old
 * readings are version 1 (tagged under K_IoT) and the old deposits K_IoT itself: once the
 * authority deposits the devices' subkeys (DeviceRegistration.update with K_tag and K_chal, what
 * an operator does for devices registered before subkeys), their version 2 readings commit.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTRACTS } from '../../ledger-bridge/client.js';
import { contracts } from '../../ledger-bridge/contracts/index.js';
import { EmbeddedLedger } from '../../ledger-bridge/embedded/index.js';
import { ready } from '../../shared/crypto/bbs.js';
import { complete } from '../../shared/crypto/complete.js';
import { ledgerKeys } from '../../shared/crypto/domains.js';
import { setup } from '../../shared/crypto/outsourced.js';
import type { PartialSignatureJson } from '../../shared/crypto/credential.js';
import { sha256 } from '../../shared/crypto/sha256.js';
import { packedBatchArg, packReadingBatch } from '../../shared/encoding/batch.js';
import { toSubmission, type ReadingSubmission } from '../../shared/records.js';
import { runCli } from '../cli/run-in-process.js';

const FIXTURES = join(import.meta.dirname, 'fixtures');
const saved = JSON.parse(readFileSync(join(FIXTURES, 'legacy-format2.json'), 'utf8')) as {
  issuerKeyMaterialByte: number;
  T0: number;
  devices: { deviceId: string; kIoT: string; partial: PartialSignatureJson }[];
};

/** A reading of a fixture device: version 2 (bootCount, uptimeMs) unless `v1`, as the old build made them. */
function sub(deviceId: string, seq: number, batteryMv = 3300, v1 = false): ReadingSubmission {
  const d = saved.devices.find((x) => x.deviceId === deviceId) as (typeof saved.devices)[number];
  const reading = {
    deviceId,
    seq,
    t: saved.T0 + seq * 1000,
    epoch: 1,
    partialDigest: Buffer.from(d.partial.partialDigest, 'hex'),
    batteryMv,
    channels: [{ id: 0, scale: -2, value: 2000 + seq }],
    ...(v1 ? {} : { bootCount: 2, uptimeMs: seq * 1000 }),
  };
  return toSubmission({ reading, tag: complete(sha256, Buffer.from(d.kIoT, 'hex'), reading) }, 'edge-1', reading.t + 5, [
    `device:${deviceId}`,
    'edge:edge-1',
    'bridge:legacy',
  ]);
}

/**
 * The old deposits are K_IoT: the authority deposits the subkeys the ledger now checks with
 * (DeviceRegistration.update with K_tag and K_chal).
 */
async function depositSubkeys(ledger: EmbeddedLedger): Promise<void> {
  const issuer = setup({ keyMaterial: new Uint8Array(32).fill(saved.issuerKeyMaterialByte) });
  for (const d of saved.devices) {
    const attributes = { deviceId: d.deviceId, site: 'plant-3', line: 'L1', type: 'temperature', owner: 'acme', fw: '1.0.0' };
    await ledger.submit('aa', {
      contract: CONTRACTS.deviceRegistration,
      fn: 'update',
      args: [JSON.stringify({ deviceId: d.deviceId, attributes, issuerPk: Buffer.from(issuer.pk).toString('hex'), gatewayId: 'edge-1' })],
      transient: { ...ledgerKeys(sha256, Buffer.from(d.kIoT, 'hex')) },
    });
  }
  // The edge registry (issue 11): identity edge-1 records as edge-1 (once per ledger file).
  const me = JSON.parse(
    new TextDecoder().decode(await ledger.evaluate('edge-1', { contract: CONTRACTS.deviceRegistration, fn: 'whoami', args: [] })),
  ) as { mspId: string; id: string; edgeId: string };
  if (me.edgeId === '')
    await ledger.submit('aa', {
      contract: CONTRACTS.deviceRegistration,
      fn: 'registerEdge',
      args: [JSON.stringify({ edgeId: 'edge-1', mspId: me.mspId, id: me.id })],
    });
}

describe('ledger migrate: store format 2 (one key per reading) → 3 (batch records)', () => {
  let dir: string;
  let db: string;
  beforeAll(async () => {
    await ready();
    dir = mkdtempSync(join(tmpdir(), 'prov-migrate-'));
    db = join(dir, 'ledger.db');
    copyFileSync(join(FIXTURES, 'legacy-format2.db'), db);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses the old file, naming the command; ledger verify still checks its chain', async () => {
    await expect(EmbeddedLedger.open({ path: db, contracts })).rejects.toThrow(
      `this build reads format 4: convert it with \`provenant ledger migrate --db ${db}\``,
    );
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, JSON.stringify({ 'a-test-token-0123456789': 'aa' }), { mode: 0o600 });
    const start = await runCli('ledger', 'start', '--db', db, '--port', '0', '--token-file', tokenFile);
    expect(start.code).not.toBe(0);
    expect(start.err).toContain('provenant ledger migrate --db');
    const verify = await runCli('ledger', 'verify', '--db', db, '--json');
    expect(verify.code).toBe(0);
    expect(JSON.parse(verify.out.trim().split('\n').pop() as string)).toMatchObject({ ok: true });
  });

  it('the contract refuses batches of a device not migrated yet (the guard on Fabric, where no store format exists)', async () => {
    const ledger = await EmbeddedLedger.open({ path: db, contracts, migrating: true });
    try {
      await depositSubkeys(ledger);
      await expect(
        ledger.submit('edge-1', {
          contract: CONTRACTS.dataProvenance,
          fn: 'recordBatch',
          args: [packedBatchArg(packReadingBatch({ readings: [sub('dev-old-1', 300)], partials: [] }))],
        }),
      ).rejects.toThrow(/PROV_ERR_NOT_MIGRATED: device dev-old-1 has readings in the per-reading state layout.*migrateDevice/);
    } finally {
      await ledger.close();
    }
  });

  it('migrates with one on-chain transaction per device, and is rerunnable', async () => {
    const run = await runCli('ledger', 'migrate', '--db', db);
    expect(run.code).toBe(0);
    expect(run.out).toMatch(/migrated from format 2 to 4: 2 devices \(303 readings\) got a replay window, 0 already had one/);
    expect(run.err).toMatch(/dev-old-1: 298 readings, replay window up to seq 299/);
    const again = await runCli('ledger', 'migrate', '--db', db, '--json');
    expect(JSON.parse(again.out.trim())).toMatchObject({ from: '4', to: '4', migrated: 0 });
    const verify = await runCli('ledger', 'verify', '--db', db, '--json');
    expect(JSON.parse(verify.out.trim().split('\n').pop() as string)).toMatchObject({ ok: true });
  });

  it('after migration: old readings verify, replays of their seqs are recognised, new readings commit', async () => {
    const ledger = await EmbeddedLedger.open({ path: db, contracts });
    try {
      const batch = [
        sub('dev-old-1', 299), // the highest old seq, in the window, with other bytes: a replay
        sub('dev-old-1', 10), // below the window: found among the old records
        sub('dev-old-1', 20, 3300, true), // an old reading resent as it was (version 1): no longer accepted
        sub('dev-old-1', 150), // the gap in the old seqs: never recorded
        sub('dev-old-1', 300), // new
        sub('dev-old-2', 3), // replay
        sub('dev-old-2', 6), // new
        sub('dev-old-3', 1), // a device without old readings
      ];
      const partials = saved.devices.filter((d) => d.deviceId === 'dev-old-3').map((d) => d.partial);
      const r = await ledger.submit('edge-1', {
        contract: CONTRACTS.dataProvenance,
        fn: 'recordBatch',
        args: [packedBatchArg(packReadingBatch({ readings: batch, partials }))],
      });
      const res = JSON.parse(Buffer.from(r.result).toString()) as {
        accepted: number;
        rejected: { index: number; reason: string; duplicate?: boolean }[];
      };
      expect(res.rejected.map((x) => [x.index, x.reason, x.duplicate ?? false])).toEqual([
        [0, 'REPLAY', false],
        [1, 'REPLAY', false],
        [2, 'MALFORMED', false],
        [5, 'REPLAY', false],
      ]);
      expect(res.accepted).toBe(4);
      // A resend of a reading recorded after the migration is told apart as one.
      const again = await ledger.submit('edge-1', {
        contract: CONTRACTS.dataProvenance,
        fn: 'recordBatch',
        args: [packedBatchArg(packReadingBatch({ readings: [sub('dev-old-1', 300), sub('dev-old-1', 301)], partials: [] }))],
      });
      expect(JSON.parse(Buffer.from(again.result).toString())).toMatchObject({
        accepted: 1,
        rejected: [{ index: 0, reason: 'REPLAY', duplicate: true }],
      });
      const verify = async (deviceId: string, locator: string, s: ReadingSubmission) =>
        JSON.parse(
          Buffer.from(
            await ledger.evaluate('auditor', {
              contract: CONTRACTS.dataProvenance,
              fn: 'verify',
              args: [deviceId, locator, s.canonical, s.tag],
            }),
          ).toString(),
        ) as { verdict: string; record: { txId: string }; batch?: unknown };
      const old = await verify('dev-old-1', 'seq:10', sub('dev-old-1', 10, 3300, true));
      expect(old.verdict).toBe('TRUE');
      expect(old.batch).toBeUndefined(); // a per-reading record: its own transaction proves it
      expect((await verify('dev-old-1', `t:${saved.T0 + 10_000}`, sub('dev-old-1', 10, 3300, true))).verdict).toBe('TRUE');
      const fresh = await verify('dev-old-1', 'seq:150', sub('dev-old-1', 150));
      expect(fresh).toMatchObject({ verdict: 'TRUE', record: { txId: r.txId } });
      expect(fresh.batch).toBeDefined();
    } finally {
      await ledger.close();
    }
  });
});

describe('store format 3 (batch records copied into their state rows) → 4 (stored once)', () => {
  it('opens a format-3 file as it is, marks it 4 when it opens it for writing, and `ledger migrate` says so', async () => {
    const { default: Database } = await import('better-sqlite3');
    const { migrateLedger } = await import('../../ledger-bridge/embedded/migrate.js');
    const { verifyLedger } = await import('../../ledger-bridge/embedded/verify.js');
    const dir = mkdtempSync(join(tmpdir(), 'prov-format3-'));
    try {
      const path = join(dir, 'ledger.db');
      const format = (): string => {
        const db = new Database(path, { readonly: true });
        try {
          return db.prepare("SELECT v FROM meta WHERE k = 'format'").pluck().get() as string;
        } finally {
          db.close();
        }
      };
      await (await EmbeddedLedger.open({ path, contracts })).close();
      expect(format()).toBe('4');
      // A format-3 file holds every value in its state row, which format 4 reads as it is.
      const db = new Database(path);
      db.prepare("UPDATE meta SET v = '3' WHERE k = 'format'").run();
      db.close();
      expect((await verifyLedger(path)).ok).toBe(true);
      expect(format()).toBe('3');
      expect(await migrateLedger({ path, contracts }, 'aa')).toMatchObject({ from: '3', to: '4', migrated: 0 });
      expect(format()).toBe('4');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/**
 * The auditor and `connectLedger` against a running ledger over HTTP (H4b's fastify server on an
 * ephemeral port, HttpLedgerClient over real fetch): contract error codes survive the HTTP hop,
 * and the evidence is the same as in-process.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Auditor, connectLedger } from '../../ledger-bridge/auditor/index.js';
import type { LedgerClient } from '../../ledger-bridge/client.js';
import { CONTRACTS } from '../../ledger-bridge/client.js';
import { buildLedgerServer } from '../../ledger-bridge/embedded/http/server.js';
import type { ReadingSubmission } from '../../shared/records.js';
import { errorCode, partialFor, readingOf, recordBatch, signed, World } from '../contracts/fixture.js';

const TOKEN = 'h4a-test-token-0123456789abcdef';

describe('auditor over HTTP (provenant ledger start)', () => {
  let w: World;
  let app: FastifyInstance;
  let client: LedgerClient;
  let sub: ReadingSubmission;

  beforeAll(async () => {
    w = await World.open();
    const dev = (await w.enroll('dev-h')).enrollment;
    const p = partialFor(dev.credential, 1);
    sub = signed(dev.device.kIoT, readingOf('dev-h', 1, p));
    expect(await recordBatch(w, [sub], [p])).toMatchObject({ accepted: 1 });
    app = await buildLedgerServer(w.ledger, { tokens: new Map([[TOKEN, 'auditor']]), logger: false });
    const address = await app.listen({ host: '127.0.0.1', port: 0 });
    process.env['PROVENANT_LEDGER_TOKEN'] = TOKEN;
    client = await connectLedger({ ledger: address, identity: 'auditor' });
  });
  afterAll(async () => {
    delete process.env['PROVENANT_LEDGER_TOKEN'];
    await client.close();
    await app.close();
    await w.close();
  });

  it('TRUE with a checked inclusion proof', async () => {
    const r = await new Auditor({ ledger: client }).check({
      deviceId: 'dev-h',
      at: { seq: 1 },
      data: Buffer.from(sub.canonical, 'hex'),
      tag: Buffer.from(sub.tag, 'hex'),
    });
    expect(r).toMatchObject({ verdict: 'TRUE', genuine: true, evidence: { proofCheck: { ok: true } } });
  });

  it("a saved head is connected to the current one by the server's consistency proof", async () => {
    const saved = await client.head();
    const dev = (await w.enroll('dev-h2')).enrollment;
    const p = partialFor(dev.credential, 1);
    await recordBatch(w, [signed(dev.device.kIoT, readingOf('dev-h2', 1, p))], [p]);
    const r = await new Auditor({ ledger: client, trustedHead: saved }).check({
      deviceId: 'dev-h',
      at: { seq: 1 },
      data: Buffer.from(sub.canonical, 'hex'),
    });
    expect(r.evidence?.head.height).toBeGreaterThan(saved.height);
    expect(r).toMatchObject({ verdict: 'TRUE', genuine: true, evidence: { consistency: { ok: true }, proofCheck: { ok: true } } });
  });

  it('NOT_FOUND and SIGNATURE_MISMATCH arrive with their codes', async () => {
    const auditor = new Auditor({ ledger: client });
    const data = Buffer.from(sub.canonical, 'hex');
    expect((await auditor.check({ deviceId: 'dev-h', at: { seq: 2 }, data })).verdict).toBe('NOT_FOUND');
    expect((await auditor.check({ deviceId: 'dev-h', at: { seq: 1 }, data, tag: new Uint8Array(32) })).verdict).toBe('SIGNATURE_MISMATCH');
    expect(
      await errorCode(
        client.evaluate({
          contract: CONTRACTS.deviceProvenance,
          fn: 'prove',
          args: ['nobody', '{"attributes":{}}', 'ab'.repeat(16), 'cd'.repeat(32)],
        }),
      ),
    ).toBe('PROV_ERR_DEVICE_NOT_FOUND');
  });

  it('the identity travels: an auditor cannot register devices', async () => {
    const p = client.submit({ contract: CONTRACTS.deviceRegistration, fn: 'revoke', args: ['dev-h', 'x'] });
    expect(await errorCode(p)).toBe('PROV_ERR_FORBIDDEN');
  });

  it('connectLedger refuses a missing token and conflicting targets', async () => {
    delete process.env['PROVENANT_LEDGER_TOKEN'];
    await expect(connectLedger({ ledger: 'http://127.0.0.1:1', identity: 'auditor' })).rejects.toThrow(/no bearer token/);
    process.env['PROVENANT_LEDGER_TOKEN'] = TOKEN;
    await expect(connectLedger({ ledger: 'http://127.0.0.1:1', db: 'x.db', identity: 'auditor' })).rejects.toThrow(/exactly one of/);
  });
});

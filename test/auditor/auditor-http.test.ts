/**
 * `provenant auditor serve`'s app through fastify.inject against a real embedded ledger (real
 * SQLite file, real contracts, real enrolled devices and committed readings from the contract
 * fixture) and a real provenance database: the four verdicts of Algorithm 3 with evidence, the
 * DB status updates, records, head and saved-head consistency, auth, bad bodies, metrics, OpenAPI.
 */
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProvenanceDb } from '../../ledger-bridge/auditor/index.js';
import { HttpLedgerClient } from '../../ledger-bridge/embedded/http/client.js';
import { buildAuditorServer } from '../../ledger-bridge/auditor/http/index.js';
import { AUDITOR_BODY_LIMIT } from '../../ledger-bridge/auditor/http/schemas.js';
import type { PartialSignatureJson } from '../../shared/crypto/credential.js';
import type { Enrollment } from '../../shared/crypto/outsourced.js';
import { decodeReading } from '../../shared/encoding/reading.js';
import type { ReadingSubmission } from '../../shared/records.js';
import { fillFromLedger } from '../support/provenance.js';
import { partialFor, readingOf, recordBatch, signed, T0, World } from '../contracts/fixture.js';

const TOKEN = 'auditor-http-test-token-0123456789';
const auth = { authorization: `Bearer ${TOKEN}` };

describe('auditor HTTP API over the embedded ledger', () => {
  let w: World;
  let db: ProvenanceDb;
  let app: FastifyInstance;
  let dev: Enrollment;
  let p: PartialSignatureJson;
  let subs: ReadingSubmission[];

  const post = (url: string, payload: unknown, headers: Record<string, string> = auth) =>
    app.inject({ method: 'POST', url, payload: payload as object, headers });
  const get = (url: string, headers: Record<string, string> = auth) => app.inject({ method: 'GET', url, headers });

  beforeAll(async () => {
    w = await World.open();
    db = await ProvenanceDb.open(join(w.dir, 'provenance.db'));
    dev = (await w.enroll('dev-x')).enrollment;
    p = partialFor(dev.credential, 1);
    subs = [1, 2, 3].map((s) => signed(dev.device.kIoT, readingOf('dev-x', s, p)));
    const r = await recordBatch(w, subs, [p]);
    expect(r.accepted).toBe(3);
    await fillFromLedger(w.ledger, w.auditor, db);
    app = await buildAuditorServer({ ledger: w.auditor, db, tokens: [TOKEN] });
  });
  afterAll(async () => {
    await app.close();
    await db.close();
    await w.close();
  });

  it('refuses a body larger than the largest valid /verify body (AUDITOR_BODY_LIMIT) with 413 PROV_ERR_TOO_LARGE', async () => {
    const r = await app.inject({
      method: 'POST',
      url: '/verify',
      headers: { ...auth, 'content-type': 'application/json' },
      payload: JSON.stringify({ deviceId: 'dev-1', seq: 1, data: 'ab'.repeat(AUDITOR_BODY_LIMIT) }),
    });
    expect(r.statusCode).toBe(413);
    expect(r.json()).toMatchObject({ code: 'PROV_ERR_TOO_LARGE' });
  });

  it('TRUE for genuine data (canonical hex + tag): the record, txId, block, a checked inclusion proof and the head; DB → proven', async () => {
    const s = subs[1] as ReadingSubmission;
    const res = await post('/verify', { deviceId: 'dev-x', seq: 2, data: s.canonical, tag: s.tag });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ verdict: 'TRUE', genuine: true, deviceId: 'dev-x', locator: 'seq:2', dbStatus: 'proven' });
    expect(body.evidence.record).toMatchObject({ deviceId: 'dev-x', seq: 2, dataHash: body.dataHash, tag: s.tag });
    expect(body.evidence.txId).toMatch(/^[0-9a-f]{64}$/);
    expect(body.evidence.proofCheck).toEqual({ ok: true });
    expect(body.evidence.proof.txId).toBe(body.evidence.txId);
    expect(body.evidence.head.height).toBeGreaterThan(body.evidence.blockNumber);
    expect((await db.get(body.dataHash))?.status).toBe('proven');
  });

  it('TRUE by timestamp, with the data as a submission object or as the reading JSON', async () => {
    const s = subs[2] as ReadingSubmission;
    const bySub = await post('/verify', { deviceId: 'dev-x', timestamp: T0 + 3000, data: { canonical: s.canonical, tag: s.tag } });
    expect(bySub.json()).toMatchObject({ verdict: 'TRUE', locator: `t:${T0 + 3000}` });
    const r = decodeReading(Buffer.from(s.canonical, 'hex'));
    const reading = { ...r, partialDigest: Buffer.from(r.partialDigest).toString('hex') };
    const byJson = await post('/verify', { deviceId: 'dev-x', seq: 3, data: reading });
    expect(byJson.statusCode, byJson.body).toBe(200);
    expect(byJson.json()).toMatchObject({ verdict: 'TRUE', genuine: true, dataHash: bySub.json().dataHash });
  });

  it('FALSE for tampered data (one value changed): both hashes in the evidence; the stored tampered copy → not_proven', async () => {
    const tampered = signed(dev.device.kIoT, readingOf('dev-x', 1, p, { channels: [{ id: 0, scale: -2, value: 9999 }] }));
    expect((await recordBatch(w, [tampered])).rejected[0]?.reason).toBe('REPLAY');
    await fillFromLedger(w.ledger, w.auditor, db);
    const res = await post('/verify', { deviceId: 'dev-x', seq: 1, data: tampered.canonical });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ verdict: 'FALSE', genuine: false, dbStatus: 'not_proven' });
    expect(body.evidence.record.dataHash).not.toBe(body.dataHash);
    expect((await db.get(body.dataHash))?.status).toBe('not_proven');
    // the original copy keeps its own status
    expect((await db.findBySeq('dev-x', 1)).map((x) => x.status).sort()).toEqual(['committed', 'not_proven']);
  });

  it('NOT_FOUND for a seq the ledger never recorded, and for an unknown device', async () => {
    const s = subs[0] as ReadingSubmission;
    const missing = await post('/verify', { deviceId: 'dev-x', seq: 77, data: s.canonical });
    expect(missing.statusCode).toBe(200);
    expect(missing.json()).toMatchObject({ verdict: 'NOT_FOUND', genuine: false });
    expect(missing.json().message).toMatch(/could not locate the record/);
    expect(missing.json().evidence).toBeUndefined();
    expect((await post('/verify', { deviceId: 'nobody', seq: 1, data: s.canonical })).json().verdict).toBe('NOT_FOUND');
  });

  it('SIGNATURE_MISMATCH when the presented tag is not the recorded one; DB → signature_mismatch', async () => {
    const s = subs[0] as ReadingSubmission;
    const res = await post('/verify', { deviceId: 'dev-x', seq: 1, data: s.canonical, tag: '00'.repeat(32) });
    expect(res.json()).toMatchObject({ verdict: 'SIGNATURE_MISMATCH', genuine: false, dbStatus: 'signature_mismatch' });
    expect(res.json().message).toMatch(/signature mismatch/);
  });

  it('GET /records/:deviceId/:seq: the ledger record and every stored copy with its status; 404 when neither has one', async () => {
    const res = await get('/records/dev-x/1');
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(body.ledger).toMatchObject({ deviceId: 'dev-x', seq: 1, txId: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(body.stored).toHaveLength(2);
    expect(body.stored.map((x: { dataHash: string }) => x.dataHash)).toContain(body.ledger.dataHash);
    const none = await get('/records/dev-x/4242');
    expect(none.statusCode).toBe(404);
    expect(none.json()).toMatchObject({ code: 'PROV_ERR_NOT_FOUND', message: expect.stringMatching(/dev-x at seq:4242/) });
  });

  it('malformed bodies: 400 with a PROV_ERR code and a message naming the field', async () => {
    const s = subs[0] as ReadingSubmission;
    const cases: [unknown, RegExp][] = [
      [{ seq: 1, data: s.canonical }, /deviceId/],
      [{ deviceId: 'dev-x', data: s.canonical }, /seq or timestamp/],
      [{ deviceId: 'dev-x', seq: 1, timestamp: 5, data: s.canonical }, /seq or timestamp/],
      [{ deviceId: 'dev-x', seq: -1, data: s.canonical }, /seq/],
      [{ deviceId: 'dev-x', seq: 1, data: 'xyz' }, /data/],
      [{ deviceId: 'dev-x', seq: 1, data: s.canonical, tag: 'abc' }, /tag/],
      [{ deviceId: 'dev-x', seq: 1 }, /data/],
      [{ deviceId: 'dev-x', seq: 1, data: s.canonical, extra: 1 }, /extra|additional/],
    ];
    for (const [payload, field] of cases) {
      const res = await post('/verify', payload);
      expect(res.statusCode, `${JSON.stringify(payload)} → ${res.body}`).toBe(400);
      expect(res.json().code).toMatch(/^PROV_ERR_/);
      expect(res.json().message).toMatch(field);
    }
    const reading = { ...decodeReading(Buffer.from(s.canonical, 'hex')), partialDigest: '11'.repeat(32), batteryMv: 70_000 };
    const badReading = await post('/verify', { deviceId: 'dev-x', seq: 1, data: reading });
    expect(badReading.statusCode).toBe(400);
    expect(badReading.json().message).toMatch(/data\.batteryMv/);
    const notJson = await app.inject({
      method: 'POST',
      url: '/verify',
      payload: '{"deviceId":',
      headers: { ...auth, 'content-type': 'application/json' },
    });
    expect(notJson.statusCode).toBe(400);
    expect(notJson.json().code).toBe('PROV_ERR_BAD_INPUT');
    const badHead = await post('/consistency', { savedHead: { height: 0, hash: 'zz' } });
    expect(badHead.statusCode).toBe(400);
    expect(badHead.json().message).toMatch(/savedHead/);
  });

  it('401 without a token or with a wrong one; /health and the OpenAPI document are open', async () => {
    const s = subs[0] as ReadingSubmission;
    const attempts: Record<string, string>[] = [{}, { authorization: 'Bearer wrong-token-wrong-token' }, { authorization: TOKEN }];
    for (const headers of attempts) {
      const res = await post('/verify', { deviceId: 'dev-x', seq: 1, data: s.canonical }, headers);
      expect(res.statusCode).toBe(401);
      expect(res.json()).toMatchObject({ code: 'PROV_ERR_UNAUTHORIZED' });
    }
    expect((await get('/head', {})).statusCode).toBe(401);
    expect((await get('/metrics', {})).statusCode).toBe(401);
    expect((await get('/health', {})).statusCode).toBe(200);
    const doc = await get('/openapi.json', {});
    expect(doc.statusCode).toBe(200);
    expect(Object.keys(doc.json().paths)).toEqual(
      expect.arrayContaining(['/verify', '/records/{deviceId}/{seq}', '/head', '/consistency']),
    );
    expect((await get('/docs/json', {})).json().openapi).toMatch(/^3\./);
  });

  it('a saved head: the chain extends it after more blocks (consistency proof); a forged head and one from the future fail', async () => {
    const saved = (await get('/head')).json();
    expect(saved).toEqual(await w.auditor.head());
    const same = (await post('/consistency', { savedHead: saved })).json();
    expect(same).toMatchObject({ extends: true, method: 'consistency-proof', current: saved });
    await recordBatch(
      w,
      [4, 5].map((s) => signed(dev.device.kIoT, readingOf('dev-x', s, p))),
    );
    const later = (await post('/consistency', { savedHead: saved })).json();
    expect(later.current.height).toBeGreaterThan(saved.height);
    expect(later).toMatchObject({ extends: true, method: 'consistency-proof', saved });
    const forged = (await post('/consistency', { savedHead: { height: saved.height, hash: 'ab'.repeat(32) } })).json();
    expect(forged).toMatchObject({ extends: false, method: 'consistency-proof' });
    expect(forged.reason).toMatch(/another head|hash/);
    const future = (await post('/consistency', { savedHead: { height: later.current.height + 5, hash: saved.hash } })).json();
    expect(future).toMatchObject({ extends: false, reason: expect.stringMatching(/ahead of the ledger/) });
    // a verify against the saved head carries the consistency check in its evidence
    const s = subs[1] as ReadingSubmission;
    const v = (await post('/verify', { deviceId: 'dev-x', seq: 2, data: s.canonical, trustedHead: saved })).json();
    expect(v).toMatchObject({ verdict: 'TRUE', genuine: true, evidence: { consistency: { ok: true }, proofCheck: { ok: true } } });
    const vForged = (
      await post('/verify', { deviceId: 'dev-x', seq: 2, data: s.canonical, trustedHead: { height: saved.height, hash: 'ab'.repeat(32) } })
    ).json();
    expect(vForged).toMatchObject({ verdict: 'UNPROVEN', genuine: false, evidence: { consistency: { ok: false } } });
  });

  it('/metrics counts verdicts by result and observes latency', async () => {
    const res = await get('/metrics');
    expect(res.statusCode).toBe(200);
    const text = res.body;
    const count = (result: string): number =>
      Number(new RegExp(`provenant_auditor_verdicts_total\\{result="${result}"\\} (\\d+)`).exec(text)?.[1] ?? 0);
    expect(count('TRUE')).toBeGreaterThanOrEqual(4);
    expect(count('FALSE')).toBe(1);
    expect(count('NOT_FOUND')).toBe(2);
    expect(count('SIGNATURE_MISMATCH')).toBe(1);
    expect(text).toMatch(/provenant_auditor_verify_seconds_count \d+/);
    expect(text).toMatch(/provenant_auditor_head_checks_total\{extends="false"\} 2/);
  });

  it('an unreachable ledger is a 503 with PROV_ERR_LEDGER_UNAVAILABLE, not a verdict', async () => {
    const dead = new HttpLedgerClient({ url: 'http://127.0.0.1:1', token: 'dead-ledger-token-0123456789', identity: 'auditor' });
    const down = await buildAuditorServer({ ledger: dead, tokens: [TOKEN] });
    try {
      const head = await down.inject({ method: 'GET', url: '/head', headers: auth });
      expect(head.statusCode).toBe(503);
      expect(head.json().code).toBe('PROV_ERR_LEDGER_UNAVAILABLE');
      const v = await down.inject({
        method: 'POST',
        url: '/verify',
        headers: auth,
        payload: { deviceId: 'dev-x', seq: 1, data: (subs[0] as ReadingSubmission).canonical },
      });
      expect(v.statusCode).toBe(503);
    } finally {
      await down.close();
      await dead.close();
    }
  });

  it('refuses to build without a token or with a short one', async () => {
    await expect(buildAuditorServer({ ledger: w.auditor, tokens: [] })).rejects.toThrow(/bearer token/);
    await expect(buildAuditorServer({ ledger: w.auditor, tokens: ['short'] })).rejects.toThrow(/at least 16/);
  });
});

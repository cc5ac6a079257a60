/**
 * The auditor's answer says which level a reading reached (issue 16): ledger-attested, or
 * independently verifiable with the evidence (registered LMS key, key-set chain, epoch signature,
 * Merkle path), which the auditor checks itself and `provenant verify --offline` takes as it is —
 * the auditor's answer JSON, from the HTTP API. A reading the ledger operator forged (valid tag
 * under K_tag) is TRUE for Algorithm 3 but only ledger-attested, and its answer carries no
 * evidence the offline verifier could accept.
 */
import type { FastifyInstance } from 'fastify';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Auditor } from '../../ledger-bridge/auditor/index.js';
import { buildAuditorServer } from '../../ledger-bridge/auditor/http/index.js';
import { CONTRACTS } from '../../ledger-bridge/client.js';
import type { Enrollment } from '../../shared/crypto/outsourced.js';
import { sha256 } from '../../shared/crypto/sha256.js';
import { toHex } from '../../shared/encoding/hex.js';
import { encodeReading } from '../../shared/encoding/reading.js';
import type { Reading } from '../../shared/types.js';
import { runCli } from '../cli/run-in-process.js';
import { json, partialFor, readingOf, recordBatch, signed, World } from '../contracts/fixture.js';
import { epochBody, makeKeySet, segmentOf, type TestKeySet } from '../support/lms-signer.js';

const TOKEN = 'lms-level-token-0123456789abcdef';

describe('auditor: the level a reading reached, and its evidence', () => {
  let w: World;
  let app: FastifyInstance;
  let dev: Enrollment;
  let keys: TestKeySet;
  let genuine: Reading[];
  let forged: Reading;

  beforeAll(async () => {
    w = await World.open();
    dev = (await w.enroll('dev-s')).enrollment;
    keys = makeKeySet(0);
    await w.aa.submit({ contract: CONTRACTS.deviceRegistration, fn: 'registerSigningKey', args: ['dev-s', toHex(keys.publicKey)] });
    const p = partialFor(dev.credential, 3);
    genuine = [1, 2, 3, 4].map((seq) => readingOf('dev-s', seq, p));
    // The ledger operator (holding K_IoT) records its own seq 3 before the board's.
    forged = { ...genuine[2]!, channels: [{ id: 0, scale: -2, value: 4242 }] };
    expect(await recordBatch(w, [signed(dev.device.kIoT, forged)], [p])).toMatchObject({ accepted: 1 });
    expect(
      (
        await recordBatch(
          w,
          genuine.map((r) => signed(dev.device.kIoT, r)),
        )
      ).accepted,
    ).toBe(3);
    const canon = genuine.map((r) => encodeReading(r));
    const leaves = canon.map((c) => toHex(sha256(c))).join('');
    const r = json<{ status: string; segment: { contradicted: number[] } }>(
      (
        await w.edge.submit({
          contract: CONTRACTS.dataProvenance,
          fn: 'recordSignature',
          args: ['dev-s', toHex(epochBody(keys, 'dev-s', 0, segmentOf(canon))), leaves],
        })
      ).result,
    );
    expect(r).toMatchObject({ status: 'recorded', segment: { contradicted: [3] } });
    app = await buildAuditorServer({ ledger: w.auditor, tokens: [TOKEN] });
  });
  afterAll(async () => {
    await app.close();
    await w.close();
  });

  const verify = (seq: number, data: Uint8Array) =>
    app.inject({
      method: 'POST',
      url: '/verify',
      payload: { deviceId: 'dev-s', seq, data: toHex(data) },
      headers: { authorization: `Bearer ${TOKEN}` },
    });

  it('a signed reading: TRUE, independently verifiable, with evidence the auditor checked and verify --offline accepts', async () => {
    const data = encodeReading(genuine[1]!);
    const direct = await new Auditor({ ledger: w.auditor }).check({ deviceId: 'dev-s', at: { seq: 2 }, data });
    expect(direct).toMatchObject({ verdict: 'TRUE', independence: 'independently-verifiable', signature: { check: { ok: true, seq: 2 } } });
    expect(direct.message).toMatch(/independently verifiable/);
    const res = await verify(2, data);
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ verdict: 'TRUE', independence: 'independently-verifiable' });
    expect(body.signature.evidence).toMatchObject({ deviceId: 'dev-s', registeredKey: toHex(keys.publicKey), leafIndex: 1 });
    const answerFile = join(w.dir, 'answer.json');
    writeFileSync(answerFile, res.body);
    const dataFile = join(w.dir, 'r2.hex');
    writeFileSync(dataFile, toHex(data));
    const offline = await runCli('verify', '--offline', answerFile, '--key', toHex(keys.publicKey), '--data', dataFile);
    expect(offline.code, offline.out + offline.err).toBe(0);
    expect(offline.out).toMatch(/independently verifiable: YES — device dev-s seq 2/);
    // The same evidence with the forged bytes of seq 3 (or another key named as registered) is refused.
    const other = join(w.dir, 'forged.hex');
    writeFileSync(other, toHex(encodeReading(forged)));
    expect((await runCli('verify', '--offline', answerFile, '--key', toHex(keys.publicKey), '--data', other)).code).toBe(1);
    expect((await runCli('verify', '--offline', answerFile, '--key', toHex(makeKeySet(0).publicKey), '--data', dataFile)).code).toBe(1);
  });

  it("the operator's forged reading: TRUE for Algorithm 3, only ledger-attested, no evidence for verify --offline", async () => {
    const data = encodeReading(forged);
    const res = await verify(3, data);
    const body = res.json();
    expect(body).toMatchObject({ verdict: 'TRUE', independence: 'ledger-attested' });
    expect(body.signature.reason).toMatch(/other data/);
    expect(body.signature.evidence).toBeUndefined();
    const answerFile = join(w.dir, 'answer3.json');
    writeFileSync(answerFile, res.body);
    const dataFile = join(w.dir, 'r3.hex');
    writeFileSync(dataFile, toHex(data));
    const offline = await runCli('verify', '--offline', answerFile, '--key', toHex(keys.publicKey), '--data', dataFile);
    expect(offline.code).not.toBe(0);
    expect(offline.err + offline.out).toMatch(/carries no signature evidence: the reading is ledger-attested/);
  });

  it('GET /signatures/:deviceId reports the signed segment (verified, contradicted) and the epochs never signed', async () => {
    const res = await app.inject({ method: 'GET', url: '/signatures/dev-s', headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(body.signed).toEqual([expect.objectContaining({ firstSeq: 1, count: 4, verified: 3, missing: [], contradicted: [3] })]);
    expect(body).toMatchObject({ deviceId: 'dev-s', verified: 3 });
  });

  it('an unsigned reading (no epoch signature covers it) is ledger-attested, and says why', async () => {
    const p = partialFor(dev.credential, 4);
    const later = readingOf('dev-s', 9, p);
    await recordBatch(w, [signed(dev.device.kIoT, later)], [p]);
    const r = await new Auditor({ ledger: w.auditor }).check({ deviceId: 'dev-s', at: { seq: 9 }, data: encodeReading(later) });
    expect(r).toMatchObject({ verdict: 'TRUE', independence: 'ledger-attested', signature: { level: 'ledger-attested' } });
    expect(r.signature?.reason).toMatch(/no epoch signature/);
    const rep = (await app.inject({ method: 'GET', url: '/signatures/dev-s', headers: { authorization: `Bearer ${TOKEN}` } })).json();
    expect(rep.unsigned).toEqual([{ epoch: 4, count: 1, seqs: [9] }]);
  });
});

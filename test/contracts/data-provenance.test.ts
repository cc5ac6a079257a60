import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTRACTS } from '../../ledger-bridge/client.js';
import { enrollDevice, type Enrollment } from '../../shared/crypto/outsourced.js';
import type { PartialSignatureJson } from '../../shared/crypto/credential.js';
import { recordLeafHash, SEQ_SPAN, T_SPAN } from '../../ledger-bridge/contracts/logic/batch-layout.js';
import { WINDOW_BITS } from '../../ledger-bridge/contracts/logic/replay-window.js';
import { verifyInclusionPath } from '../../ledger-bridge/embedded/merkle.js';
import { parseProvenanceRecord } from '../../shared/records.js';
import { callOf, readingsOf } from '../../ledger-bridge/provenance/tx-args.js';
import { attrs, batchArg, EDGE_ID, errorCode, json, partialFor, readingOf, recordBatch, signed, T0, World } from './fixture.js';

const DATA = CONTRACTS.dataProvenance;
const EPOCH = 5;

describe('DataProvenance (Alg. 3) on the embedded ledger', () => {
  let w: World;
  let a: Enrollment;
  let b: Enrollment;
  let pa: PartialSignatureJson;
  let pb: PartialSignatureJson;

  beforeAll(async () => {
    w = await World.open();
    a = (await w.enroll('dev-a')).enrollment;
    b = (await w.enroll('dev-b')).enrollment;
    pa = partialFor(a.credential, EPOCH);
    pb = partialFor(b.credential, EPOCH);
  });
  afterAll(async () => {
    await w.close();
  });

  it('records a batch of valid readings in one transaction, carrying the partials the first time', async () => {
    const readings = [1, 2, 3]
      .map((s) => signed(a.device.kIoT, readingOf('dev-a', s, pa)))
      .concat([signed(b.device.kIoT, readingOf('dev-b', 1, pb))]);
    const r = await recordBatch(w, readings, [pa, pb]);
    expect(r).toMatchObject({ accepted: 4, rejected: [], rejectedPartials: [] });
    const record = json(await w.auditor.evaluate({ contract: DATA, fn: 'get', args: ['dev-a', '2'] }));
    expect(record).toMatchObject({
      deviceId: 'dev-a',
      seq: 2,
      t: T0 + 2000,
      epoch: EPOCH,
      edgeId: EDGE_ID,
      status: 'valid',
      txId: r.txId,
      partialDigest: pa.partialDigest,
    });
    expect(record['path']).toEqual(['device:dev-a', `edge:${EDGE_ID}`, 'bridge:test']);
    const stored = json(await w.auditor.evaluate({ contract: DATA, fn: 'getPartial', args: [pa.partialDigest] }));
    expect(stored).toMatchObject({ deviceId: 'dev-a', epoch: EPOCH, edgeId: EDGE_ID });
  });

  it('stores a packed batch sent as bytes once, as bytes, and reads its readings back from the proof', async () => {
    const readings = [10, 11].map((s) => signed(b.device.kIoT, readingOf('dev-b', s, pb)));
    const r = await recordBatch(w, readings, [], 'packed');
    expect(r).toMatchObject({ accepted: 2, rejected: [] });
    const proof = await w.auditor.inclusionProof(r.txId);
    const envelope = Buffer.from((proof.evidence as { envelope: string }).envelope, 'hex');
    expect(envelope[0]).toBe(2); // envelope version 2: a binary argument
    const call = await callOf(proof);
    expect(call.args[0]).toBeInstanceOf(Uint8Array);
    expect(Buffer.from(call.args[0] as Uint8Array)).toEqual(Buffer.from(batchArg(readings, [], 'packed') as Uint8Array));
    // The base64 text is nowhere in the envelope: the batch is stored once, as bytes.
    expect(envelope.includes(Buffer.from(batchArg(readings, [], 'base64') as string))).toBe(false);
    expect(readingsOf(call)).toEqual(readings);
  });

  it('later batches use the cached partial without carrying it', async () => {
    const r = await recordBatch(w, [signed(a.device.kIoT, readingOf('dev-a', 4, pa))]);
    expect(r).toMatchObject({ accepted: 1, rejected: [] });
  });

  it('rejects forged, replayed, revoked-device, wrong-epoch and tampered readings with their reason; valid ones in the same batch commit', async () => {
    const { enrollment: c } = await w.enroll('dev-c');
    const pc = partialFor(c.credential, EPOCH);
    await recordBatch(w, [signed(c.device.kIoT, readingOf('dev-c', 1, pc))], [pc]);
    await w.aa.submit({ contract: CONTRACTS.deviceRegistration, fn: 'revoke', args: ['dev-c', 'stolen'] });

    const forged = signed(new Uint8Array(32).fill(9), readingOf('dev-a', 10, pa)); // key not K_IoT
    const replayed = signed(a.device.kIoT, readingOf('dev-a', 2, pa)); // seq 2 is committed, same data
    const replayOther = signed(a.device.kIoT, readingOf('dev-a', 3, pa, { batteryMv: 1 })); // seq 3 with other data
    const revoked = signed(c.device.kIoT, readingOf('dev-c', 2, pc));
    const wrongEpoch = signed(a.device.kIoT, readingOf('dev-a', 11, pa, { epoch: EPOCH + 1 }));
    const good1 = signed(a.device.kIoT, readingOf('dev-a', 12, pa));
    const tamperedSrc = signed(a.device.kIoT, readingOf('dev-a', 13, pa));
    const tampered = {
      ...tamperedSrc,
      canonical: tamperedSrc.canonical.slice(0, -2) + (tamperedSrc.canonical.endsWith('00') ? '01' : '00'),
    };
    const good2 = signed(b.device.kIoT, readingOf('dev-b', 2, pb));
    const unregistered = signed(enrollDevice(w.issuer, attrs('dev-z')).device.kIoT, readingOf('dev-z', 1, pa));
    const otherEdge = signed(a.device.kIoT, readingOf('dev-a', 14, pa), 'edge-2');
    const inBatchDup = signed(a.device.kIoT, readingOf('dev-a', 12, pa));
    const malformed = { ...good1, canonical: 'ff00' };

    const mix = [
      forged,
      replayed,
      replayOther,
      revoked,
      wrongEpoch,
      good1,
      tampered,
      good2,
      unregistered,
      otherEdge,
      inBatchDup,
      malformed,
    ];
    // Every encoding of the batch gets the same verdicts (simulated, not committed).
    const simulated = await Promise.all(
      (['json', 'base64', 'packed'] as const).map(async (encoding) => {
        const out = json<{ accepted: number; rejected: unknown[] }>(
          await w.edge.evaluate({ contract: DATA, fn: 'recordBatch', args: [batchArg(mix, [], encoding)] }),
        );
        return { accepted: out.accepted, rejected: out.rejected };
      }),
    );
    expect(simulated[0]).toEqual(simulated[1]);
    expect(simulated[2]).toEqual(simulated[1]);
    const r = await recordBatch(w, mix);
    expect({ accepted: r.accepted, rejected: r.rejected }).toEqual(simulated[2]);
    expect(r.accepted).toBe(2);
    const reasons = Object.fromEntries(r.rejected.map((x) => [x.index, x.reason]));
    expect(reasons).toEqual({
      0: 'BAD_TAG',
      1: 'REPLAY',
      2: 'REPLAY',
      3: 'REVOKED',
      4: 'WRONG_EPOCH',
      6: 'BAD_TAG',
      8: 'UNKNOWN_DEVICE',
      9: 'PROOF_BINDING',
      10: 'REPLAY',
      11: 'MALFORMED',
    });
    expect(r.rejected.find((x) => x.index === 1)?.duplicate).toBe(true);
    expect(r.rejected.find((x) => x.index === 2)?.duplicate).toBeUndefined();
    expect(r.rejected.find((x) => x.index === 10)?.duplicate).toBe(true);
    for (const x of r.rejected) expect(x.message.length).toBeGreaterThan(0);
    // the valid ones are there, the rejected ones are not
    expect(json(await w.auditor.evaluate({ contract: DATA, fn: 'get', args: ['dev-a', '12'] }))['txId']).toBe(r.txId);
    expect(json(await w.auditor.evaluate({ contract: DATA, fn: 'get', args: ['dev-b', '2'] }))['txId']).toBe(r.txId);
    for (const [d, s] of [
      ['dev-a', '10'],
      ['dev-a', '11'],
      ['dev-a', '13'],
      ['dev-c', '2'],
      ['dev-z', '1'],
      ['dev-a', '14'],
    ]) {
      expect(await errorCode(w.auditor.evaluate({ contract: DATA, fn: 'get', args: [d as string, s as string] }))).toBe(
        'PROV_ERR_RECORD_NOT_FOUND',
      );
    }
    // a forged reading did not take the seq: the genuine one still records
    expect(await recordBatch(w, [signed(a.device.kIoT, readingOf('dev-a', 10, pa))])).toMatchObject({ accepted: 1 });
  });

  it('rejects readings whose partial is unknown, forged or from another device', async () => {
    const pa2 = partialFor(a.credential, EPOCH + 1);
    const unknown = signed(a.device.kIoT, readingOf('dev-a', 20, pa2)); // partial never submitted
    const r1 = await recordBatch(w, [unknown]);
    expect(r1.rejected.map((x) => x.reason)).toEqual(['UNKNOWN_PARTIAL']);

    const forgedProof: PartialSignatureJson = { ...pa2, proof: pa2.proof.slice(0, -2) + (pa2.proof.endsWith('00') ? '01' : '00') };
    const r2 = await recordBatch(w, [unknown], [forgedProof]);
    expect(r2.rejectedPartials.length).toBe(1);
    expect(r2.rejected[0]?.reason).toMatch(/PROOF_BINDING|BAD_PROOF/);

    const outside = enrollDevice(w.issuer, attrs('dev-o', 'plant-9'));
    expect(() => partialFor(outside.credential, EPOCH)).toThrow(/does not satisfy/);

    const stolen = signed(b.device.kIoT, readingOf('dev-b', 30, pa)); // dev-b's reading under dev-a's partial
    const r3 = await recordBatch(w, [stolen]);
    expect(r3.rejected.map((x) => x.reason)).toEqual(['PROOF_BINDING']);

    // a valid partial after a refused one with the same digest is accepted
    const r4 = await recordBatch(w, [unknown], [forgedProof, pa2]);
    expect(r4).toMatchObject({ accepted: 1 });
  });

  it('refuses a partial under a policy the ledger does not accept', async () => {
    const { enrollment: d } = await w.enroll('dev-d');
    const { signPartial } = await import('../../shared/crypto/outsourced.js');
    const { partialToJson } = await import('../../shared/crypto/credential.js');
    const other = partialToJson(
      signPartial(d.credential, { epoch: EPOCH, edgeId: EDGE_ID, policy: { id: 'other', anyOf: [{ site: 'plant-3' }] } }),
    );
    const r = await recordBatch(w, [signed(d.device.kIoT, readingOf('dev-d', 1, other))], [other]);
    expect(r.rejectedPartials[0]?.reason).toBe('POLICY_UNSATISFIED');
    expect(r.rejected[0]?.reason).toBe('POLICY_UNSATISFIED');
  });

  it('record(one) takes a single submission', async () => {
    const sub = signed(b.device.kIoT, readingOf('dev-b', 3, pb));
    const res = await w.edge.submit({ contract: DATA, fn: 'record', args: [JSON.stringify(sub), ''] });
    expect(json(res.result)).toMatchObject({ accepted: 1, rejected: [] });
  });

  it('fails the whole transaction only for a malformed envelope', async () => {
    for (const bad of ['{', '{"version":2,"readings":[]}', '{"version":1,"readings":[]}', '[]']) {
      expect(await errorCode(w.edge.submit({ contract: DATA, fn: 'recordBatch', args: [bad] }))).toBe('PROV_ERR_BAD_INPUT');
    }
  });

  it('judges resends and replays exactly with one window key per device, also below the window', async () => {
    const { enrollment: e } = await w.enroll('dev-e');
    const pe = partialFor(e.credential, EPOCH);
    const sub = (seq: number, overrides = {}) => signed(e.device.kIoT, readingOf('dev-e', seq, pe, overrides));
    expect(
      await recordBatch(
        w,
        [1, 2, 3, 4, 5].map((s) => sub(s)),
        [pe],
      ),
    ).toMatchObject({ accepted: 5, rejected: [] });

    // In the window: a resend (same bytes) is a duplicate, other data under a used seq a replay.
    const high = 5 + WINDOW_BITS + 50;
    const r2 = await recordBatch(w, [sub(3), sub(4, { batteryMv: 7 }), sub(high)]);
    expect(r2.accepted).toBe(1);
    expect(r2.rejected).toEqual([
      expect.objectContaining({ index: 0, seq: 3, reason: 'REPLAY', duplicate: true }),
      expect.not.objectContaining({ duplicate: true }),
    ]);
    expect(r2.rejected[1]).toMatchObject({ index: 1, seq: 4, reason: 'REPLAY', message: expect.stringMatching(/other data/) });

    // Now 2 and 10 are below the window: 2 is found in the index (a resend), 10 was never
    // recorded and is accepted, once.
    const r3 = await recordBatch(w, [sub(2), sub(10), sub(10), sub(2, { batteryMv: 9 })]);
    expect(r3.accepted).toBe(1);
    expect(r3.rejected.map((x) => [x.index, x.reason, x.duplicate ?? false])).toEqual([
      [0, 'REPLAY', true],
      [2, 'REPLAY', true],
      [3, 'REPLAY', false],
    ]);
    const r4 = await recordBatch(w, [sub(10)]);
    expect(r4.rejected).toMatchObject([{ reason: 'REPLAY', duplicate: true }]);
    for (const seq of [1, 10, high]) {
      const got = json<{ seq: number; t: number }>(await w.auditor.evaluate({ contract: DATA, fn: 'get', args: ['dev-e', String(seq)] }));
      expect(got).toMatchObject({ seq, t: T0 + seq * 1000 });
      const v = json<{ verdict: string }>(
        await w.auditor.evaluate({
          contract: DATA,
          fn: 'verify',
          args: ['dev-e', `t:${T0 + seq * 1000}`, sub(seq).canonical, sub(seq).tag],
        }),
      );
      expect(v.verdict).toBe('TRUE');
    }
  });

  it("verify answers with the path from the record's leaf to its batch root", async () => {
    const seqs = [31, 32, 33];
    const readings = seqs.map((seq) => signed(b.device.kIoT, readingOf('dev-b', seq, pb)));
    const r = await recordBatch(w, [...readings, signed(a.device.kIoT, readingOf('dev-a', 60, pa))]);
    expect(r.accepted).toBe(4);
    const roots = new Set<string>();
    for (const [i, sub] of readings.entries()) {
      const v = json<{ verdict: string; record: unknown; batch: { root: string; leafIndex: number; leaves: number; path: string[] } }>(
        await w.auditor.evaluate({ contract: DATA, fn: 'verify', args: ['dev-b', `seq:${seqs[i]}`, sub.canonical, ''] }),
      );
      expect(v.verdict).toBe('TRUE');
      expect(v.batch.leaves).toBe(4);
      const record = parseProvenanceRecord(v.record);
      expect(record.txId).toBe(r.txId);
      const path = v.batch.path.map((h) => Buffer.from(h, 'hex'));
      const root = Buffer.from(v.batch.root, 'hex');
      expect(verifyInclusionPath(recordLeafHash(record), v.batch.leafIndex, v.batch.leaves, path, root)).toBe(true);
      expect(verifyInclusionPath(recordLeafHash({ ...record, t: record.t + 1 }), v.batch.leafIndex, v.batch.leaves, path, root)).toBe(
        false,
      );
      roots.add(v.batch.root);
    }
    expect(roots.size).toBe(1);
  });

  it('finds every reading of a device whose batch spreads over several index runs (by seq and by time)', async () => {
    const { enrollment: f } = await w.enroll('dev-f');
    const pf = partialFor(f.credential, EPOCH);
    const spots = [
      { seq: 1, t: T0 },
      { seq: 2, t: T0 + T_SPAN + 5 },
      { seq: 3 + SEQ_SPAN, t: T0 + T_SPAN + 6 },
      { seq: 4 + SEQ_SPAN, t: T0 + T_SPAN + 6 },
    ];
    const subs = spots.map((x) => signed(f.device.kIoT, readingOf('dev-f', x.seq, pf, { t: x.t })));
    expect(await recordBatch(w, subs, [pf])).toMatchObject({ accepted: 4, rejected: [] });
    for (const [i, x] of spots.entries()) {
      const sub = subs[i] as (typeof subs)[number];
      const bySeq = json<{ verdict: string }>(
        await w.auditor.evaluate({ contract: DATA, fn: 'verify', args: ['dev-f', `seq:${x.seq}`, sub.canonical, sub.tag] }),
      );
      expect(bySeq.verdict).toBe('TRUE');
      const byTime = json<{ verdict: string; record: { seq: number } }>(
        await w.auditor.evaluate({ contract: DATA, fn: 'verify', args: ['dev-f', `t:${x.t}`, sub.canonical, sub.tag] }),
      );
      expect(byTime).toMatchObject({ verdict: 'TRUE', record: { seq: x.seq } });
    }
    for (const missing of [0, 5, 2 + SEQ_SPAN, 5 + SEQ_SPAN])
      expect(await errorCode(w.auditor.evaluate({ contract: DATA, fn: 'get', args: ['dev-f', String(missing)] }))).toBe(
        'PROV_ERR_RECORD_NOT_FOUND',
      );
  });

  it('getMany answers what get answers or throws, per question in order; only a malformed argument throws', async () => {
    const questions = [
      ['dev-f', '1'],
      ['dev-f', '5'],
      ['dev-f', String(4 + SEQ_SPAN)],
      ['nobody', '1'],
      ['dev-f', 'x'],
    ];
    const many = json<unknown[]>(await w.auditor.evaluate({ contract: DATA, fn: 'getMany', args: [JSON.stringify(questions)] }));
    expect(many).toHaveLength(questions.length);
    for (const [i, [deviceId, seq]] of questions.entries()) {
      const single = w.auditor.evaluate({ contract: DATA, fn: 'get', args: [deviceId as string, seq as string] });
      const code = await errorCode(single);
      if (code === 'no error') expect(many[i], `question ${i}`).toEqual({ answer: json(await single) });
      else expect(many[i], `question ${i}`).toMatchObject({ error: { code } });
    }
    expect(many.filter((e) => 'answer' in (e as object))).toHaveLength(2);
    for (const bad of ['{}', '[["dev-f"]]', '[["dev-f", 1]]', JSON.stringify(Array(1001).fill(['dev-f', '1']))])
      expect(await errorCode(w.auditor.evaluate({ contract: DATA, fn: 'getMany', args: [bad] })), bad.slice(0, 20)).toBe(
        'PROV_ERR_BAD_INPUT',
      );
  });

  describe('verify', () => {
    const verify = (deviceId: string, locator: string, data: string, tag = '') =>
      w.auditor.evaluate({ contract: DATA, fn: 'verify', args: [deviceId, locator, data, tag] });

    it('TRUE: the data hashes to the recorded dataHash (by seq, "seq:N" and by timestamp)', async () => {
      const sub = signed(a.device.kIoT, readingOf('dev-a', 2, pa));
      for (const loc of ['2', 'seq:2', `t:${T0 + 2000}`]) {
        const r = json<{ verdict: string; record: { seq: number } }>(await verify('dev-a', loc, sub.canonical, sub.tag));
        expect(r.verdict, loc).toBe('TRUE');
        expect(r.record.seq).toBe(2);
      }
      expect(json(await verify('dev-a', '2', sub.canonical))['verdict']).toBe('TRUE');
    });

    it('FALSE: the data differs from what was recorded', async () => {
      const changed = signed(a.device.kIoT, readingOf('dev-a', 2, pa, { channels: [{ id: 0, scale: -2, value: 9999 }] }));
      const r = json(await verify('dev-a', '2', changed.canonical));
      expect(r['verdict']).toBe('FALSE');
    });

    it('throws "could not locate the record" for an unknown seq, timestamp or device', async () => {
      const sub = signed(a.device.kIoT, readingOf('dev-a', 2, pa));
      await expect(verify('dev-a', '999', sub.canonical)).rejects.toThrow(/PROV_ERR_RECORD_NOT_FOUND: could not locate the record/);
      expect(await errorCode(verify('dev-a', `t:${T0 + 1}`, sub.canonical))).toBe('PROV_ERR_RECORD_NOT_FOUND');
      expect(await errorCode(verify('nobody', '2', sub.canonical))).toBe('PROV_ERR_RECORD_NOT_FOUND');
    });

    it('throws "signature mismatch" when the presented tag is not the recorded one', async () => {
      const sub = signed(a.device.kIoT, readingOf('dev-a', 2, pa));
      await expect(verify('dev-a', '2', sub.canonical, 'ab'.repeat(32))).rejects.toThrow(/PROV_ERR_SIGNATURE_MISMATCH: signature mismatch/);
    });

    it('refuses malformed arguments', async () => {
      expect(await errorCode(verify('dev-a', 'x', 'aa'))).toBe('PROV_ERR_BAD_INPUT');
      expect(await errorCode(verify('dev-a', '2', 'zz'))).toBe('PROV_ERR_BAD_INPUT');
      expect(await errorCode(verify('dev-a', '2', 'aa', 'abc'))).toBe('PROV_ERR_BAD_INPUT');
      expect(await errorCode(verify('dev-a', String(2 ** 32), 'aa'))).toBe('PROV_ERR_BAD_INPUT');
    });
  });

  it('after setPolicies drops a policy, readings under partials of that policy are refused', async () => {
    const before = await recordBatch(w, [signed(a.device.kIoT, readingOf('dev-a', 40, pa))]);
    expect(before.accepted).toBe(1);
    await w.aa.submit({
      contract: CONTRACTS.deviceRegistration,
      fn: 'setPolicies',
      args: [JSON.stringify([{ id: 'other', anyOf: [{ site: 'plant-3' }] }])],
    });
    const after = await recordBatch(w, [signed(a.device.kIoT, readingOf('dev-a', 41, pa))]);
    expect(after.rejected.map((x) => x.reason)).toEqual(['POLICY_UNSATISFIED']);
  });
});

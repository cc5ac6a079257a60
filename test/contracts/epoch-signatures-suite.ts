/**
 * Epoch signatures on the ledger (issue 16) as one suite for every backend: the authority
 * registers a board's LMS key (key set 0); DataProvenance:recordSignature checks a SIG body's LMS
 * signature and the signed Merkle root against the readings recorded for the segment; a reading
 * moves from "ledger-attested" to "independently verifiable" once its epoch signature is on the
 * ledger (signatureLevel, with the public evidence shared/crypto/evidence.ts checks); missing
 * readings of a signed segment, readings the board did not sign, and epochs never signed are
 * reported (signatureReport). The attack: the ledger operator, holding K_IoT, forges a reading —
 * it passes the HMAC gate but never reaches "independently verifiable", and the offline verifier
 * refuses it.
 *
 * Bodies are made in Node in the shared formats (test/support/lms-signer.ts). The embedded ledger
 * runs it in epoch-signatures.test.ts, the Fabric client path in epoch-signatures-fabric.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTRACTS, type LedgerClient } from '../../ledger-bridge/client.js';
import { ready } from '../../shared/crypto/bbs.js';
import { ledgerKeys } from '../../shared/crypto/domains.js';
import { checkEvidence, type SignatureEvidence } from '../../shared/crypto/evidence.js';
import { enrollDevice, setup, type Enrollment, type Issuer } from '../../shared/crypto/outsourced.js';
import { sha256 } from '../../shared/crypto/sha256.js';
import { encodeReading } from '../../shared/encoding/reading.js';
import { toHex } from '../../shared/encoding/hex.js';
import type { PartialSignatureJson } from '../../shared/crypto/credential.js';
import { inclusionPath } from '../../shared/crypto/accumulator.js';
import { epochBody, keySetBody, makeKeySet, segmentOf, type TestKeySet } from '../support/lms-signer.js';
import { attrs, errorCode, json, partialFor, POLICY, readingOf, signed } from './fixture.js';

/** Three identities on one fresh ledger: the authority, an edge, an auditor (no edge). */
export interface SignatureHarness {
  readonly aa: LedgerClient;
  readonly edge: LedgerClient;
  readonly auditor: LedgerClient;
  close(): Promise<void>;
}

interface SigResult {
  status: 'recorded' | 'duplicate' | 'refused';
  reason?: string;
  segment?: { status: string; verified: number; missing: number[]; contradicted: number[] };
}
interface Level {
  level: 'ledger-attested' | 'independently-verifiable';
  reason?: string;
  dataHash: string;
  evidence?: SignatureEvidence;
}
interface Report {
  signed: { firstSeq: number; count: number; status: string; verified: number; missing: number[]; contradicted: number[] }[];
  unsigned: { epoch: number; count: number; seqs: number[] }[];
  verified: number;
  recorded: number;
}

const DR = CONTRACTS.deviceRegistration;
const DP = CONTRACTS.dataProvenance;

/** Registers the suite for one backend. */
export function epochSignaturesSuite(backend: string, open: () => Promise<SignatureHarness>, timeout = 60_000): void {
  describe(`epoch signatures (issue 16): ${backend}`, { timeout }, () => {
    let h: SignatureHarness;
    let issuer: Issuer;
    const devs: Record<string, Enrollment> = {};
    let k0: TestKeySet;
    let k1: TestKeySet;
    const zero = '0'.repeat(64);

    const register = async (deviceId: string) => {
      const e = enrollDevice(issuer, attrs(deviceId));
      await h.aa.submit({
        contract: DR,
        fn: 'register',
        args: [JSON.stringify({ version: 1, ...e.registration, gatewayId: 'edge-1' })],
        transient: { ...ledgerKeys(sha256, e.device.kIoT) },
      });
      devs[deviceId] = e;
    };
    /** Records readings seqs of deviceId in epoch (one partial per epoch), returns their canonical bytes by seq. */
    const record = async (deviceId: string, epoch: number, seqs: number[], partial?: PartialSignatureJson) => {
      const d = devs[deviceId]!;
      const p = partial ?? partialFor(d.credential, epoch, 'edge-1');
      const readings = seqs.map((seq) => readingOf(deviceId, seq, p, { t: 1_650_000_000_000 + seq * 1000 }));
      const r = json<{ accepted: number; rejected: unknown[] }>(
        (
          await h.edge.submit({
            contract: DP,
            fn: 'recordBatch',
            args: [JSON.stringify({ version: 1, readings: readings.map((x) => signed(d.device.kIoT, x)), partials: [p] })],
          })
        ).result,
      );
      expect(r.rejected).toEqual([]);
      return new Map(readings.map((x) => [x.seq, encodeReading(x)]));
    };
    const submitSig = async (client: LedgerClient, deviceId: string, body: Uint8Array, leaves = ''): Promise<SigResult> =>
      json<SigResult>((await client.submit({ contract: DP, fn: 'recordSignature', args: [deviceId, toHex(body), leaves] })).result);
    const leavesOf = (canon: readonly (Uint8Array | undefined)[]) => canon.map((c) => (c ? toHex(sha256(c)) : zero)).join('');
    const level = async (deviceId: string, seq: number): Promise<Level> =>
      json<Level>(await h.auditor.evaluate({ contract: DP, fn: 'signatureLevel', args: [deviceId, String(seq)] }));
    const report = async (deviceId: string): Promise<Report> =>
      json<Report>(await h.auditor.evaluate({ contract: DP, fn: 'signatureReport', args: [deviceId] }));

    beforeAll(async () => {
      await ready();
      h = await open();
      issuer = setup({ keyMaterial: new Uint8Array(32).fill(16) });
      const config = JSON.stringify({ issuerPk: Buffer.from(issuer.pk).toString('hex'), schema: issuer.schema, policies: [POLICY] });
      await h.aa.submit({ contract: DR, fn: 'configure', args: [config] });
      const me = json<{ mspId: string; id: string }>(await h.edge.evaluate({ contract: DR, fn: 'whoami', args: [] }));
      await h.aa.submit({ contract: DR, fn: 'registerEdge', args: [JSON.stringify({ edgeId: 'edge-1', mspId: me.mspId, id: me.id })] });
      await register('sig-1');
      await register('sig-nokey');
      k0 = makeKeySet(0);
      k1 = makeKeySet(1);
    }, timeout);
    afterAll(async () => {
      await h?.close();
    });

    it("registers a board's LMS key: authority only, an LMS key, once", async () => {
      const reg = (client: LedgerClient, key: string) => client.submit({ contract: DR, fn: 'registerSigningKey', args: ['sig-1', key] });
      expect(await errorCode(reg(h.edge, toHex(k0.publicKey)))).toBe('PROV_ERR_FORBIDDEN');
      expect(await errorCode(reg(h.aa, 'abcd'))).toBe('PROV_ERR_BAD_INPUT');
      const r = json<{ version: number }>((await reg(h.aa, toHex(k0.publicKey))).result);
      expect(r.version).toBe(2);
      const device = json<{ signingKey: string }>(await h.auditor.evaluate({ contract: DR, fn: 'get', args: ['sig-1'] }));
      expect(device.signingKey).toBe(toHex(k0.publicKey));
      expect(await errorCode(reg(h.aa, toHex(k1.publicKey)))).toBe('PROV_ERR_BAD_INPUT');
    });

    it('readings become independently verifiable once their epoch signature is recorded; the evidence checks offline', async () => {
      const canon = await record('sig-1', 7, [1, 2, 3, 4, 5]);
      const before = await level('sig-1', 3);
      expect(before.level).toBe('ledger-attested');
      expect(before.reason).toMatch(/no epoch signature/);
      const body = epochBody(k0, 'sig-1', 0, segmentOf([...canon.values()]));
      const r = await submitSig(h.edge, 'sig-1', body);
      expect(r).toMatchObject({ status: 'recorded', segment: { status: 'complete', verified: 5, missing: [], contradicted: [] } });
      for (const seq of [1, 3, 5]) {
        const l = await level('sig-1', seq);
        expect(l.level).toBe('independently-verifiable');
        const check = checkEvidence(sha256, l.evidence!, canon.get(seq)!, k0.publicKey);
        expect(check).toMatchObject({ ok: true, seq, keySet: 0, leaf: 0 });
      }
      // The same body again (the edge lost the commit status): a duplicate, nothing changes.
      expect((await submitSig(h.edge, 'sig-1', body)).status).toBe('duplicate');
    });

    it('refuses a body that does not verify, another body under a spent one-time key, a caller that is no edge; a device without a key waits', async () => {
      const canon = await record('sig-1', 8, [6, 7]);
      const seg = segmentOf([...canon.values()]);
      const forged = epochBody(makeKeySet(0), 'sig-1', 1, seg); // someone else's key set 0
      expect(await submitSig(h.edge, 'sig-1', forged)).toMatchObject({ status: 'refused', reason: 'BAD_SIGNATURE' });
      const tampered = epochBody(k0, 'sig-1', 1, seg);
      tampered[60] = (tampered[60] as number) ^ 1; // inside the signed root
      expect(await submitSig(h.edge, 'sig-1', tampered)).toMatchObject({ status: 'refused', reason: 'BAD_SIGNATURE' });
      expect((await level('sig-1', 6)).level).toBe('ledger-attested');
      // Leaf 0 of key set 0 signed segment 1..5: a body for 6..7 with leaf 0 is a reused one-time key.
      const reused = epochBody(k0, 'sig-1', 0, seg);
      expect(await submitSig(h.edge, 'sig-1', reused)).toMatchObject({ status: 'refused', reason: 'KEY_REUSED' });
      expect(await errorCode(submitSig(h.auditor, 'sig-1', epochBody(k0, 'sig-1', 1, seg)))).toBe('PROV_ERR_FORBIDDEN');
      expect(await errorCode(submitSig(h.edge, 'sig-1', new Uint8Array([9, 9])))).toBe('PROV_ERR_BAD_INPUT');
      const none = epochBody(k0, 'sig-nokey', 0, seg);
      expect(await submitSig(h.edge, 'sig-nokey', none)).toMatchObject({ status: 'refused', reason: 'NO_SIGNING_KEY' });
      expect(await submitSig(h.edge, 'sig-1', epochBody(k0, 'sig-1', 1, seg))).toMatchObject({
        status: 'recorded',
        segment: { verified: 2 },
      });
    });

    it('reports readings missing from a signed segment, and segments whose leaves nobody knows until someone does', async () => {
      // The board signed 10..14; reading 12 never reached the ledger.
      const partial = partialFor(devs['sig-1']!.credential, 9, 'edge-1');
      const all = [10, 11, 12, 13, 14].map((seq) => encodeReading(readingOf('sig-1', seq, partial, { t: 1_650_000_000_000 + seq * 1000 })));
      await record('sig-1', 9, [10, 11, 13, 14], partial);
      const body = epochBody(k0, 'sig-1', 2, segmentOf(all));
      // Without leaves the ledger cannot rebuild the root: unresolved, 12 missing.
      expect(await submitSig(h.edge, 'sig-1', body)).toMatchObject({
        status: 'recorded',
        segment: { status: 'unresolved', verified: 0, missing: [12] },
      });
      expect((await level('sig-1', 11)).reason).toMatch(/not resolved/);
      // The edge holds 12's dataHash (it never committed): the root checks, the rest become verifiable.
      expect(await submitSig(h.edge, 'sig-1', body, leavesOf(all))).toMatchObject({
        status: 'duplicate',
        segment: { status: 'complete', verified: 4, missing: [12], contradicted: [] },
      });
      expect((await level('sig-1', 11)).level).toBe('independently-verifiable');
      const rep = await report('sig-1');
      expect(rep.signed.find((s) => s.firstSeq === 10)).toMatchObject({ count: 5, verified: 4, missing: [12] });
    });

    it('a key-set move vouched for by the previous set: epochs signed by the next set verify through the chain', async () => {
      expect(await submitSig(h.edge, 'sig-1', keySetBody(k0, k1, 'sig-1', 30))).toMatchObject({ status: 'recorded', keySet: 1 });
      const canon = await record('sig-1', 10, [15, 16, 17]);
      expect(await submitSig(h.edge, 'sig-1', epochBody(k1, 'sig-1', 0, segmentOf([...canon.values()])))).toMatchObject({
        status: 'recorded',
        segment: { verified: 3 },
      });
      const l = await level('sig-1', 16);
      expect(l.level).toBe('independently-verifiable');
      expect(l.evidence!.keySets).toHaveLength(1);
      expect(checkEvidence(sha256, l.evidence!, canon.get(16)!, k0.publicKey)).toMatchObject({ ok: true, keySet: 1 });
      // A move key set 1 did not sign is refused; a move from a set the ledger does not know waits.
      expect(await submitSig(h.edge, 'sig-1', keySetBody(makeKeySet(1), makeKeySet(2), 'sig-1', 30))).toMatchObject({
        status: 'refused',
        reason: 'BAD_SIGNATURE',
      });
      expect(await submitSig(h.edge, 'sig-1', keySetBody(makeKeySet(2), makeKeySet(3), 'sig-1', 30))).toMatchObject({
        status: 'refused',
        reason: 'NO_SIGNING_KEY',
      });
    });

    it('the ledger operator, holding K_IoT, forges a reading: it passes the HMAC gate, is never independently verifiable, and the offline verifier refuses it', async () => {
      const d = devs['sig-1']!;
      const partial = partialFor(d.credential, 11, 'edge-1');
      const genuine = [20, 21, 22].map((seq) => readingOf('sig-1', seq, partial, { t: 1_650_000_000_000 + seq * 1000 }));
      // The operator records its own reading 21 first (a valid tag under K_tag: the HMAC gate takes it).
      const forged = { ...genuine[1]!, channels: [{ id: 0, scale: -2, value: 9999 }] };
      const ok = json<{ accepted: number; rejected: { reason: string }[] }>(
        (
          await h.edge.submit({
            contract: DP,
            fn: 'recordBatch',
            args: [JSON.stringify({ version: 1, readings: [signed(d.device.kIoT, forged)], partials: [partial] })],
          })
        ).result,
      );
      expect(ok.accepted).toBe(1);
      // The board's readings arrive; its 21 is refused as a replay of the operator's.
      const r = json<{ accepted: number; rejected: { seq: number; reason: string }[] }>(
        (
          await h.edge.submit({
            contract: DP,
            fn: 'recordBatch',
            args: [JSON.stringify({ version: 1, readings: genuine.map((x) => signed(d.device.kIoT, x)), partials: [] })],
          })
        ).result,
      );
      expect(r.accepted).toBe(2);
      expect(r.rejected.map((x) => x.seq)).toEqual([21]);
      // The board signs what it measured; the edge holds the board's dataHashes.
      const canon = genuine.map((x) => encodeReading(x));
      const sig = await submitSig(h.edge, 'sig-1', epochBody(k1, 'sig-1', 1, segmentOf(canon)), leavesOf(canon));
      expect(sig).toMatchObject({ status: 'recorded', segment: { status: 'complete', verified: 2, contradicted: [21] } });
      const l21 = await level('sig-1', 21);
      expect(l21.level).toBe('ledger-attested');
      expect(l21.reason).toMatch(/other data/);
      expect(l21.evidence).toBeUndefined();
      expect(l21.dataHash).toBe(toHex(sha256(encodeReading(forged))));
      // Even with the neighbours' evidence, the forged bytes do not check offline.
      const l20 = await level('sig-1', 20);
      expect(l20.level).toBe('independently-verifiable');
      const asIf21 = {
        ...l20.evidence!,
        leafIndex: 1,
        path: inclusionPath(
          sha256,
          canon.map((c) => sha256(c)),
          1,
        ).map((x) => toHex(x)),
      };
      const check = checkEvidence(sha256, asIf21, encodeReading(forged), k0.publicKey);
      expect(check).toMatchObject({ ok: false, step: 'path' });
      expect(checkEvidence(sha256, asIf21, canon[1]!, k0.publicKey).ok).toBe(true);
      const rep = await report('sig-1');
      expect(rep.signed.find((s) => s.firstSeq === 20)).toMatchObject({ contradicted: [21] });
    });

    it('reports epochs whose readings no signature covers', async () => {
      await record('sig-1', 12, [30, 31]);
      const rep = await report('sig-1');
      expect(rep.unsigned).toEqual([{ epoch: 12, count: 2, seqs: [30, 31] }]);
      expect(rep.recorded).toBe(rep.signed.reduce((a, s) => a + s.count - s.missing.length, 0) + 2);
    });

    it('signatureLevelMany answers each question exactly as signatureLevel does, in any order (what one question learns is reused by the next)', async () => {
      // Signed segments with gaps between them, unsigned readings after them, seqs never recorded,
      // asked out of order and twice: the read reuses its range reads across questions.
      const seqs = [31, 16, 10, 30, 11, 12, 17, 13, 999, 14, 15, 1, 16, 30, 0, 4_000_000];
      const questions = [...seqs.map((q) => ['sig-1', String(q)]), ['sig-nokey', '1'], ['nobody', '3']];
      const many = json<({ answer: unknown } | { error: { code: string | null } })[]>(
        await h.auditor.evaluate({ contract: DP, fn: 'signatureLevelMany', args: [JSON.stringify(questions)] }),
      );
      expect(many).toHaveLength(questions.length);
      let independent = 0;
      for (const [i, [deviceId, seq]] of questions.entries()) {
        const single = h.auditor.evaluate({ contract: DP, fn: 'signatureLevel', args: [deviceId!, seq!] });
        const one = await single.then(
          (b) => ({ answer: json<unknown>(b) }),
          () => errorCode(single).then((code) => ({ error: code })),
        );
        const entry = many[i]!;
        if ('answer' in one) {
          expect(entry, `${deviceId} ${seq}`).toEqual({ answer: one.answer });
          if ((one.answer as Level).level === 'independently-verifiable') independent++;
        } else expect('error' in entry && entry.error.code, `${deviceId} ${seq}`).toBe(one.error);
      }
      expect(independent).toBeGreaterThanOrEqual(6); // 10, 11, 13, 14 (segment 10..14) and 15, 16, 17 (key set 1)
    });
  });
}

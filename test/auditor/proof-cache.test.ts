/**
 * The auditor's answer path scales with the batch (issue 17, Fig. 8): questions about readings of
 * one transaction share ONE inclusion proof fetch and ONE check of it, and the answers are the
 * same verdicts with the same evidence as without the cache. Real contracts, real embedded ledger;
 * the ledger client is wrapped only to count its inclusionProof calls.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Auditor } from '../../ledger-bridge/auditor/index.js';
import { ProofCache } from '../../ledger-bridge/auditor/proof-cache.js';
import type { InclusionProof, LedgerClient } from '../../ledger-bridge/client.js';
import type { ReadingSubmission } from '../../shared/records.js';
import { partialFor, readingOf, recordBatch, signed, World } from '../contracts/fixture.js';

/** The real client, with its inclusionProof calls counted (and optionally failing once). */
function counting(inner: LedgerClient): { client: LedgerClient; calls: string[]; failNext: () => void } {
  const calls: string[] = [];
  let fail = false;
  const client = Object.create(inner) as LedgerClient;
  client.inclusionProof = async (txId: string): Promise<InclusionProof> => {
    calls.push(txId);
    if (fail) {
      fail = false;
      throw new Error('ledger unavailable (test)');
    }
    return inner.inclusionProof(txId);
  };
  return { client, calls, failNext: () => (fail = true) };
}

describe('ProofCache: one inclusion proof per transaction, shared by its readings', () => {
  let w: World;
  let subs: ReadingSubmission[];
  let forged: ReadingSubmission;
  let batchTx: string;
  /** Fetches of the batch's proof (the auditor's check of the partial also fetches the ledger config's transaction once). */
  const ofBatch = (calls: string[]): string[] => calls.filter((t) => t === batchTx);
  const ask = (a: Auditor, s: ReadingSubmission, seq: number) =>
    a.check({ deviceId: 'dev-pc', at: { seq }, data: Buffer.from(s.canonical, 'hex'), tag: Buffer.from(s.tag, 'hex') });

  beforeAll(async () => {
    w = await World.open();
    const dev = (await w.enroll('dev-pc')).enrollment;
    const p = partialFor(dev.credential, 1);
    subs = Array.from({ length: 40 }, (_, i) => signed(dev.device.kIoT, readingOf('dev-pc', i + 1, p)));
    const r = await recordBatch(w, subs, [p]);
    expect(r.accepted).toBe(40);
    batchTx = r.txId;
    forged = signed(new Uint8Array(32).fill(7), readingOf('dev-pc', 5, p));
  });
  afterAll(async () => {
    await w.close();
  });

  it('40 concurrent questions about one batch: one proof fetched, 40 TRUE with the same checked evidence', async () => {
    const { client, calls } = counting(w.auditor);
    const cache = new ProofCache(client, { maxAgeMs: 60_000 });
    const auditor = new Auditor({ ledger: client, proofCache: cache });
    const answers = await Promise.all(subs.map((s, i) => ask(auditor, s, i + 1)));
    expect(answers.map((a) => a.verdict)).toEqual(subs.map(() => 'TRUE'));
    expect(new Set(answers.map((a) => a.evidence?.txId)).size).toBe(1);
    expect(answers.every((a) => a.evidence?.proofCheck.ok === true && a.evidence.batch?.check.ok === true)).toBe(true);
    expect(ofBatch(calls)).toHaveLength(1);
    // The partial (stored by the same transaction) is checked once, on the shared proof; the ledger config's proof is one more fetch.
    expect(calls).toHaveLength(2);
    expect(cache.stats).toEqual({ fetched: 2, shared: 40 });
    // Another Auditor given the same cache (the HTTP server makes one per request) shares it too.
    expect((await ask(new Auditor({ ledger: client, proofCache: cache }), subs[3] as ReadingSubmission, 4)).verdict).toBe('TRUE');
    expect(calls).toHaveLength(2);
  });

  it('the same verdicts as an auditor without the cache, for genuine and made-up data', async () => {
    const { client } = counting(w.auditor);
    const cached = new Auditor({ ledger: client, proofCache: new ProofCache(client, { maxAgeMs: 60_000 }) });
    const fresh = new Auditor({ ledger: client, proofCache: false });
    for (const a of [cached, fresh]) {
      expect((await ask(a, subs[9] as ReadingSubmission, 10)).verdict).toBe('TRUE');
      // Another reading's data at seq 5 (no tag: the hash decides), and a forged tag: not TRUE,
      // with or without the cache.
      const other = await a.check({
        deviceId: 'dev-pc',
        at: { seq: 5 },
        data: Buffer.from((subs[9] as ReadingSubmission).canonical, 'hex'),
      });
      expect(other.verdict).toBe('FALSE');
      expect((await ask(a, forged, 5)).verdict).toBe('SIGNATURE_MISMATCH');
    }
  });

  it('a proof older than maxAgeMs is fetched again; a failed fetch is not kept', async () => {
    const { client, calls, failNext } = counting(w.auditor);
    let now = 1_000;
    const cache = new ProofCache(client, { maxAgeMs: 500, clock: () => now });
    const auditor = new Auditor({ ledger: client, proofCache: cache });
    await ask(auditor, subs[0] as ReadingSubmission, 1);
    now += 400;
    await ask(auditor, subs[1] as ReadingSubmission, 2);
    expect(ofBatch(calls)).toHaveLength(1);
    now += 200; // 600 ms after the fetch
    await ask(auditor, subs[2] as ReadingSubmission, 3);
    expect(ofBatch(calls)).toHaveLength(2);
    now += 1_000;
    failNext();
    await expect(ask(auditor, subs[3] as ReadingSubmission, 4)).rejects.toThrow(/ledger unavailable/);
    expect((await ask(auditor, subs[3] as ReadingSubmission, 4)).verdict).toBe('TRUE');
    expect(ofBatch(calls)).toHaveLength(4);
  });

  it('a check cached for one checker is not reused for another', async () => {
    const { client } = counting(w.auditor);
    const cache = new ProofCache(client, { maxAgeMs: 60_000 });
    const ok = await new Auditor({ ledger: client, proofCache: cache }).check({
      deviceId: 'dev-pc',
      at: { seq: 7 },
      data: Buffer.from((subs[6] as ReadingSubmission).canonical, 'hex'),
    });
    expect(ok.verdict).toBe('TRUE');
    const refusing = new Auditor({
      ledger: client,
      proofCache: cache,
      checkProof: () => ({ ok: false, reason: 'this checker refuses every proof (test)' }),
    });
    const r = await ask(refusing, subs[6] as ReadingSubmission, 7);
    expect(r.verdict).toBe('UNPROVEN');
    expect(r.message).toMatch(/refuses every proof/);
  });

  it('refuses a size below 1 or a negative age', () => {
    expect(() => new ProofCache(w.auditor, { size: 0 })).toThrow(/size/);
    expect(() => new ProofCache(w.auditor, { maxAgeMs: -1 })).toThrow(/maxAgeMs/);
  });
});

/**
 * One ledger read for many answers (issue 17, Fig. 8 beyond one node): the Auditor coalesces the
 * questions in flight into one `verifyMany` and one `signatureLevelMany` read, and every answer —
 * verdict, message, evidence, level — is the one it gives asking one question at a time, for
 * genuine readings and for a tampered reading, a forged tag, made-up data and a seq never
 * recorded. Real contracts, real embedded ledger; the client is wrapped only to count its calls.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Auditor, type AuditQuery, type AuditResult } from '../../ledger-bridge/auditor/index.js';
import { Coalescer, LedgerReads } from '../../ledger-bridge/auditor/coalesce.js';
import { CONTRACTS, type LedgerClient, type Proposal } from '../../ledger-bridge/client.js';
import { ProvenantError } from '../../shared/errors.js';
import type { ReadingSubmission } from '../../shared/records.js';
import { json, partialFor, readingOf, recordBatch, signed, World } from '../contracts/fixture.js';

const DP = CONTRACTS.dataProvenance;

/** The real client with its evaluate calls counted by function; `refuse` makes it fail those functions. */
function counting(inner: LedgerClient, refuse: (fn: string) => Error | undefined = () => undefined) {
  const calls: string[] = [];
  const client = Object.create(inner) as LedgerClient;
  client.evaluate = async (p: Omit<Proposal, 'transient'>): Promise<Uint8Array> => {
    calls.push(p.fn);
    const err = refuse(p.fn);
    if (err) throw err;
    return inner.evaluate(p);
  };
  return { client, calls };
}

describe('the Auditor coalesces the questions in flight (verifyMany, signatureLevelMany)', () => {
  let w: World;
  let subs: ReadingSubmission[];
  let questions: AuditQuery[];

  beforeAll(async () => {
    w = await World.open();
    const dev = (await w.enroll('dev-co')).enrollment;
    const p = partialFor(dev.credential, 1);
    subs = Array.from({ length: 30 }, (_, i) => signed(dev.device.kIoT, readingOf('dev-co', i + 1, p)));
    expect((await recordBatch(w, subs, [p])).accepted).toBe(30);
    const q = (s: ReadingSubmission, seq: number, tag = true): AuditQuery => ({
      deviceId: 'dev-co',
      at: { seq },
      data: Buffer.from(s.canonical, 'hex'),
      ...(tag ? { tag: Buffer.from(s.tag, 'hex') } : {}),
    });
    const genuine = subs.map((s, i) => q(s, i + 1));
    // A tampered reading: seq 7's bytes with one byte changed, presented with seq 7's tag.
    const tampered = Buffer.from((subs[6] as ReadingSubmission).canonical, 'hex');
    tampered.writeUInt8((tampered.at(-1) as number) ^ 1, tampered.length - 1);
    const forged = signed(new Uint8Array(32).fill(7), readingOf('dev-co', 5, p));
    questions = [
      ...genuine.slice(0, 12),
      { ...q(subs[6] as ReadingSubmission, 7), data: tampered },
      q(forged, 5),
      q(subs[9] as ReadingSubmission, 5, false),
      q(subs[0] as ReadingSubmission, 999),
      { deviceId: 'dev-unknown', at: { seq: 1 }, data: Buffer.from((subs[0] as ReadingSubmission).canonical, 'hex') },
      { deviceId: 'dev-co', at: { t: 1 }, data: Buffer.from((subs[0] as ReadingSubmission).canonical, 'hex') },
      ...genuine.slice(12),
    ];
  });
  afterAll(async () => {
    await w.close();
  });

  /** An answer, or the error it threw (as text), for comparison. */
  const settle = (p: Promise<AuditResult>): Promise<AuditResult | string> =>
    p.then(
      (r) => r,
      (err: unknown) => `error: ${(err as Error).message}`,
    );

  it('many concurrent questions: one request per function for all of them, the same answers as one at a time', async () => {
    const alone = new Auditor({ ledger: w.auditor, reads: false });
    const expected: (AuditResult | string)[] = [];
    for (const q of questions) expected.push(await settle(alone.check(q)));
    const verdicts = expected.map((e) => (typeof e === 'string' ? e : e.verdict));
    expect(verdicts.filter((v) => v === 'TRUE')).toHaveLength(30);
    expect(verdicts.slice(12, 18)).toEqual(['FALSE', 'SIGNATURE_MISMATCH', 'FALSE', 'NOT_FOUND', 'NOT_FOUND', 'NOT_FOUND']);

    const { client, calls } = counting(w.auditor);
    const reads = new LedgerReads(client, { maxInFlight: 1 });
    const together = new Auditor({ ledger: client, reads });
    const answers = await Promise.all(questions.map((q) => settle(together.check(q))));
    expect(answers).toEqual(expected);
    // One verifyMany for the 36 questions, one signatureLevelMany for the 30 TRUE ones.
    expect(calls.filter((f) => f === 'verifyMany')).toHaveLength(1);
    expect(calls.filter((f) => f === 'signatureLevelMany')).toHaveLength(1);
    expect(calls.filter((f) => f === 'verify' || f === 'signatureLevel')).toHaveLength(0);
    expect(reads.stats.verify).toEqual({ requests: 1, questions: questions.length, largest: questions.length });
    expect(reads.stats.signatureLevel.questions).toBe(30);
  });

  it("LedgerReads.for takes the client's own coalescing when it names one (a Fabric client: reads of 32, 8 in flight)", async () => {
    const { client, calls } = counting(w.auditor);
    (client as LedgerClient & { readCoalescing?: object }).readCoalescing = { maxBatch: 8, maxInFlight: 2 };
    const reads = LedgerReads.for(client);
    expect(LedgerReads.for(client)).toBe(reads);
    const together = new Auditor({ ledger: client, reads });
    const answers = await Promise.all(questions.map((q) => settle(together.check(q))));
    expect(answers.filter((a) => typeof a !== 'string' && a.verdict === 'TRUE')).toHaveLength(30);
    expect(reads.stats.verify.largest).toBe(8);
    expect(reads.stats.verify.requests).toBe(Math.ceil(questions.length / 8));
    expect(calls.filter((f) => f === 'verifyMany').length).toBeGreaterThanOrEqual(Math.floor(questions.length / 8));
  });

  it('verifyMany answers each question as verify does, an error as data; a malformed argument is refused', async () => {
    const args = [
      ['dev-co', 'seq:3', (subs[2] as ReadingSubmission).canonical, (subs[2] as ReadingSubmission).tag],
      ['dev-co', 'seq:999', (subs[2] as ReadingSubmission).canonical, ''],
      ['not a device id!', 'seq:1', '00', ''],
    ];
    const many = json<unknown[]>(await w.auditor.evaluate({ contract: DP, fn: 'verifyMany', args: [JSON.stringify(args)] }));
    expect(many).toHaveLength(3);
    expect(many[0]).toEqual({ answer: json(await w.auditor.evaluate({ contract: DP, fn: 'verify', args: args[0] as string[] })) });
    for (const i of [1, 2]) {
      const err = await w.auditor.evaluate({ contract: DP, fn: 'verify', args: args[i] as string[] }).then(
        () => undefined,
        (e: Error) => e.message,
      );
      expect(err).toBeDefined();
      expect((many[i] as { error: { message: string } }).error.message).toBe(err);
    }
    expect((many[1] as { error: { code: string } }).error.code).toBe('PROV_ERR_RECORD_NOT_FOUND');
    for (const bad of ['{}', '[["dev-co","seq:1"]]', JSON.stringify(Array.from({ length: 1001 }, () => args[0]))])
      await expect(w.auditor.evaluate({ contract: DP, fn: 'verifyMany', args: [bad] })).rejects.toThrow(/PROV_ERR_BAD_INPUT/);
  });

  it('a ledger without the …Many functions is asked one question at a time, with the same answers', async () => {
    const refuse = (fn: string) =>
      fn.endsWith('Many') ? new ProvenantError('PROV_ERR_ENDORSEMENT', `no function ${fn} (test)`) : undefined;
    const { client, calls } = counting(w.auditor, refuse);
    const auditor = new Auditor({ ledger: client, reads: new LedgerReads(client) });
    const some = questions.slice(10, 20);
    const answers = await Promise.all(some.map((q) => settle(auditor.check(q))));
    const alone = new Auditor({ ledger: w.auditor, reads: false });
    for (const [i, q] of some.entries()) expect(answers[i]).toEqual(await settle(alone.check(q)));
    expect(calls.filter((f) => f === 'verifyMany')).toHaveLength(1); // refused once, then not asked again
    expect(calls.filter((f) => f === 'verify')).toHaveLength(some.length);
  });

  it('a ledger that cannot be reached fails every question sent with the request', async () => {
    const down = new ProvenantError('PROV_ERR_LEDGER_UNAVAILABLE', 'ledger unreachable (test)');
    const { client } = counting(w.auditor, () => down);
    const auditor = new Auditor({ ledger: client, reads: new LedgerReads(client) });
    const answers = await Promise.all(questions.slice(0, 5).map((q) => settle(auditor.check(q))));
    expect(answers).toEqual(questions.slice(0, 5).map(() => 'error: ledger unreachable (test)'));
  });

  it('Coalescer: questions asked while a request is out go together in the next one, in order', async () => {
    const sent: number[][] = [];
    let release: (() => void) | undefined;
    const c = new Coalescer<number, number>(
      async (qs) => {
        sent.push([...qs]);
        if (sent.length === 1) await new Promise<void>((r) => (release = r));
        return qs.map((q) => (q < 0 ? { err: new Error(`negative ${q}`) } : { ok: q * 2 }));
      },
      { maxInFlight: 1, maxBatch: 3 },
    );
    const first = c.ask(1);
    await new Promise((r) => setImmediate(r));
    expect(sent).toEqual([[1]]);
    const rest = [2, -3, 4, 5].map((q) => c.ask(q).catch((e: Error) => e.message));
    release?.();
    expect(await first).toBe(2);
    expect(await Promise.all(rest)).toEqual([4, 'negative -3', 8, 10]);
    expect(sent).toEqual([[1], [2, -3, 4], [5]]);
    expect(() => new Coalescer(async () => [], { maxBatch: 0 })).toThrow(/maxBatch/);
  });
});

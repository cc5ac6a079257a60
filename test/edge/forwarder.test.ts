/**
 * The forwarder against the real contracts (embedded ledger): a batch whose commit status was
 * lost is submitted again, the contract answers "duplicate" for its readings, and every outbox row
 * must then point at the transaction that RECORDED it, not at the resubmission (issue #13,
 * defect 1). Also: the retry backoff is bounded by retryMaxMs, which is configurable (defect 3).
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTRACTS, type CommitResult, type LedgerClient, type Proposal } from '../../ledger-bridge/client.js';
import { Forwarder } from '../../edge-runtime/src/outbox/forwarder.js';
import { Outbox, type OutboxItem } from '../../edge-runtime/src/outbox/outbox.js';
import { ProvenantError } from '../../shared/errors.js';
import { contractsWithout, json, partialFor, readingOf, signed, World } from '../contracts/fixture.js';
import { DataProvenanceContract } from '../../ledger-bridge/contracts/index.js';
import { tempDir } from '../support/edge-fixture.js';
import { waitFor } from '../support/wait.js';
import type { Log } from '../../edge-runtime/src/log.js';

const tmp = tempDir('provenant-forwarder-');
afterAll(() => tmp.cleanup());

/** A LedgerClient whose next `lose` submits commit but then fail as if the commit status was lost. */
class LosingStatus implements LedgerClient {
  lose = 0;
  readonly committed: CommitResult[] = [];
  /** The functions evaluated, in order. */
  readonly evaluated: string[] = [];
  constructor(private readonly inner: LedgerClient) {}
  async submit(p: Proposal): Promise<CommitResult> {
    const r = await this.inner.submit(p);
    this.committed.push(r);
    if (this.lose > 0) {
      this.lose--;
      throw new ProvenantError('PROV_ERR_TIMEOUT', 'fabric commitStatus: timed out (test)', { txId: r.txId });
    }
    return r;
  }
  evaluate(p: Omit<Proposal, 'transient'>) {
    this.evaluated.push(p.fn);
    return this.inner.evaluate(p);
  }
  events(o: Parameters<LedgerClient['events']>[0] = {}) {
    return this.inner.events(o);
  }
  head() {
    return this.inner.head();
  }
  inclusionProof(txId: string) {
    return this.inner.inclusionProof(txId);
  }
  close() {
    return Promise.resolve();
  }
}

describe('Forwarder settles duplicates under the transaction that recorded them', () => {
  let world: World;
  beforeAll(async () => {
    world = await World.open();
  });
  afterAll(() => world?.close());

  it('after a lost commit status, each row points at the transaction holding its record', async () => {
    const { enrollment } = await world.enroll('dev-f1');
    const partial = partialFor(enrollment.credential, 1);
    const outbox = await Outbox.open({ path: `${tmp.dir}/outbox.db` });
    outbox.putPartial(partial, 1);
    const subs = Array.from({ length: 12 }, (_, i) => signed(enrollment.device.kIoT, readingOf('dev-f1', i + 1, partial)));
    const item = (s: (typeof subs)[number], seq: number): OutboxItem => ({
      deviceId: 'dev-f1',
      seq,
      dataHash: createHash('sha256').update(Buffer.from(s.canonical, 'hex')).digest('hex'),
      partialDigest: partial.partialDigest,
      submission: s,
    });
    // 8 readings go in a first batch whose status is "lost"; 4 more arrive before the retry.
    expect(
      outbox.putMany(
        subs.slice(0, 8).map((s, i) => item(s, i + 1)),
        1,
      ),
    ).toEqual(Array(8).fill('stored'));
    const ledger = new LosingStatus(world.edge);
    ledger.lose = 1;
    const fwd = new Forwarder(outbox, ledger, { batchSize: 100, retryInitialMs: 1, retryMaxMs: 5 });
    await expect(fwd.drain()).rejects.toMatchObject({ code: 'PROV_ERR_TIMEOUT' });
    expect(outbox.depth).toBe(8);
    const first = ledger.committed[0] as CommitResult;
    expect(json<{ accepted: number }>(first.result).accepted).toBe(8);

    expect(
      outbox.putMany(
        subs.slice(8).map((s, i) => item(s, i + 9)),
        2,
      ),
    ).toEqual(Array(4).fill('stored'));
    const settled: { recordedBy: ReadonlyMap<number, string>; txId: string }[] = [];
    fwd.onSettled((s) => settled.push(s));
    await fwd.drain();
    expect(outbox.depth).toBe(0);
    const second = ledger.committed[1] as CommitResult;
    expect(second.txId).not.toBe(first.txId);
    expect(settled).toHaveLength(1);
    expect(settled[0]?.recordedBy.size).toBe(8);
    // The 8 already-recorded readings were traced in one read.
    expect(ledger.evaluated).toEqual(['getMany']);

    // Every row points at the transaction whose record holds it.
    const rows = outbox.lastReadings('dev-f1', 100);
    expect(rows).toHaveLength(12);
    for (const row of rows) {
      expect(row.state).toBe('committed');
      const record = json<{ txId: string; dataHash: string }>(
        await world.auditor.evaluate({ contract: CONTRACTS.dataProvenance, fn: 'get', args: ['dev-f1', String(row.seq)] }),
      );
      expect(record.dataHash).toBe(row.dataHash);
      expect(row.txId).toBe(record.txId);
      expect(row.txId).toBe(row.seq <= 8 ? first.txId : second.txId);
    }
    outbox.close();
  });

  it('a duplicate whose record cannot be read now stays pending, the rest settle', async () => {
    const { enrollment } = await world.enroll('dev-f2');
    const partial = partialFor(enrollment.credential, 1);
    const outbox = await Outbox.open({ path: `${tmp.dir}/outbox2.db` });
    outbox.putPartial(partial, 1);
    const subs = [1, 2].map((seq) => signed(enrollment.device.kIoT, readingOf('dev-f2', seq, partial)));
    const items = subs.map((s, i) => ({
      deviceId: 'dev-f2',
      seq: i + 1,
      dataHash: createHash('sha256').update(Buffer.from(s.canonical, 'hex')).digest('hex'),
      partialDigest: partial.partialDigest,
      submission: s,
    }));
    outbox.putMany([items[0] as OutboxItem], 1);
    const ledger = new LosingStatus(world.edge);
    ledger.lose = 1;
    const fwd = new Forwarder(outbox, ledger, { retryInitialMs: 1, retryMaxMs: 5 });
    await expect(fwd.drain()).rejects.toThrow(/timed out/);
    outbox.putMany([items[1] as OutboxItem], 2);
    // The ledger answers evaluate with an outage once: the duplicate's record cannot be read.
    const evaluate = ledger.evaluate.bind(ledger);
    let failEvaluate = 1;
    ledger.evaluate = (p) =>
      failEvaluate-- > 0 ? Promise.reject(new ProvenantError('PROV_ERR_LEDGER_UNAVAILABLE', 'peer unavailable (test)')) : evaluate(p);
    await expect(fwd.drain()).rejects.toMatchObject({ code: 'PROV_ERR_LEDGER_UNAVAILABLE' });
    const byseq = new Map(outbox.lastReadings('dev-f2', 10).map((r) => [r.seq, r]));
    expect(byseq.get(2)?.state).toBe('committed');
    expect(byseq.get(1)?.state).toBe('pending');
    await fwd.drain();
    expect(outbox.lastReadings('dev-f2', 10).every((r) => r.state === 'committed')).toBe(true);
    expect(byseq.get(1)?.txId ?? null).toBe(null);
    expect(outbox.lastReadings('dev-f2', 10).find((r) => r.seq === 1)?.txId).toBe(ledger.committed[0]?.txId);
    outbox.close();
  });
});

describe('Forwarder against chaincode without getMany', () => {
  let world: World;
  beforeAll(async () => {
    world = await World.open({ contracts: contractsWithout(DataProvenanceContract, 'getMany') });
  });
  afterAll(() => world?.close());

  it('traces duplicates with one get each, warned once, and settles them under the recording transaction', async () => {
    const { enrollment } = await world.enroll('dev-f3');
    const partial = partialFor(enrollment.credential, 1);
    const outbox = await Outbox.open({ path: `${tmp.dir}/outbox5.db` });
    outbox.putPartial(partial, 1);
    const items = [1, 2, 3].map((seq): OutboxItem => {
      const s = signed(enrollment.device.kIoT, readingOf('dev-f3', seq, partial));
      return {
        deviceId: 'dev-f3',
        seq,
        dataHash: createHash('sha256').update(Buffer.from(s.canonical, 'hex')).digest('hex'),
        partialDigest: partial.partialDigest,
        submission: s,
      };
    });
    outbox.putMany(items, 1);
    const ledger = new LosingStatus(world.edge);
    ledger.lose = 1;
    const warnings: string[] = [];
    const noop = (): void => undefined;
    const log: Log = { debug: noop, info: noop, error: noop, warn: (_f, m) => warnings.push(String(m)), child: () => log };
    const fwd = new Forwarder(outbox, ledger, { retryInitialMs: 1, retryMaxMs: 5, log });
    await expect(fwd.drain()).rejects.toMatchObject({ code: 'PROV_ERR_TIMEOUT' });
    // Resubmitted: all three are duplicates; getMany is refused, then one get each.
    await fwd.drain();
    expect(ledger.evaluated).toEqual(['getMany', 'get', 'get', 'get']);
    expect(warnings.filter((m) => m.includes('has no getMany'))).toHaveLength(1);
    const first = ledger.committed[0] as CommitResult;
    expect(outbox.lastReadings('dev-f3', 10).map((r) => [r.state, r.txId])).toEqual(Array(3).fill(['committed', first.txId]));
    outbox.close();
  });
});

describe('Forwarder retry delays', () => {
  it('refuses delays out of order or out of range', async () => {
    const outbox = await Outbox.open({ path: `${tmp.dir}/outbox3.db` });
    const ledger = {} as LedgerClient;
    expect(() => new Forwarder(outbox, ledger, { retryInitialMs: 0 })).toThrow(/retryInitialMs/);
    expect(() => new Forwarder(outbox, ledger, { retryInitialMs: 500, retryMaxMs: 100 })).toThrow(/retryMaxMs/);
    outbox.close();
  });

  it('retries a failing ledger at most retryMaxMs apart', async () => {
    const outbox = await Outbox.open({ path: `${tmp.dir}/outbox4.db` });
    outbox.putMany(
      [
        {
          deviceId: 'x',
          seq: 1,
          dataHash: 'aa'.repeat(32),
          partialDigest: 'bb'.repeat(32),
          submission: { canonical: '01', tag: 'cc'.repeat(32), edgeId: 'e', receivedAt: 1, path: ['device:x'] },
        },
      ],
      0,
    );
    const attempts: number[] = [];
    const down: LedgerClient = {
      submit: () => {
        attempts.push(Date.now());
        return Promise.reject(new ProvenantError('PROV_ERR_LEDGER_UNAVAILABLE', 'down (test)'));
      },
    } as unknown as LedgerClient;
    // The delay the forwarder chose after each failure, from its log (what wall-clock gaps would
    // measure plus the timer slack of a loaded machine, which can exceed retryMaxMs many times).
    const delays: number[] = [];
    const noop = (): void => undefined;
    const log: Log = {
      debug: noop,
      info: noop,
      error: noop,
      warn: (fields) => {
        if (typeof fields['retryInMs'] === 'number') delays.push(fields['retryInMs']);
      },
      child: () => log,
    };
    const fwd = new Forwarder(outbox, down, { maxWaitMs: 0, retryInitialMs: 10, retryMaxMs: 40, log });
    fwd.start();
    await waitFor('8 submit attempts against the failing ledger', () => attempts.length >= 8, {
      detail: () => `${attempts.length} attempts`,
    });
    await fwd.stop();
    outbox.close();
    // The backoff grows to retryMaxMs and stays within it.
    expect(delays.length).toBeGreaterThanOrEqual(7);
    for (const d of delays) expect(d).toBeLessThanOrEqual(40);
    expect(Math.max(...delays.slice(3))).toBeGreaterThan(10);
    // And the forwarder waited that long before trying again (timers never fire early; 2 ms for
    // Date.now's rounding).
    for (let i = 0; i + 1 < attempts.length && i < delays.length; i++)
      expect(attempts[i + 1]! - attempts[i]!, `gap after attempt ${i + 1}`).toBeGreaterThanOrEqual(delays[i]! - 2);
  });
});

/**
 * Re-validation jobs: the auditor re-checks every stored reading of a range (a device, a device
 * time window, or both) against the ledger, one page at a time, writing each verdict to the
 * provenance database; the job's progress (done of total, verdict counts) is kept in the database
 * so the console and the API can follow it. One job runs at a time; later ones wait their turn.
 * A job that was running when the process stopped is marked 'interrupted' on the next open.
 */
import { ProvenantError } from '../../shared/errors.js';
import type { JobRow, ProvenanceDb, ReadingRange } from '../provenance/store.js';
import type { Auditor } from './auditor.js';

/** Job runner settings. */
export interface RevalidatorOptions {
  readonly db: ProvenanceDb;
  /** A fresh auditor per job (a trusted head may change between jobs). */
  readonly auditor: () => Auditor;
  /** Readings per page (default 200). */
  readonly pageSize?: number;
  /** Progress written at most this often (default 250 ms), and at the end. */
  readonly progressEveryMs?: number;
}

/** Runs re-validation jobs in the background, one after the other. */
export class Revalidator {
  private queue: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(private readonly options: RevalidatorOptions) {}

  /** Queues a job over `range`; returns it at once (state 'queued'). */
  async start(range: ReadingRange): Promise<JobRow> {
    if (this.stopped) throw new ProvenantError('PROV_ERR_CANCELLED', 'the auditor is stopping');
    if (range.fromT !== undefined && range.toT !== undefined && range.fromT > range.toT)
      throw new ProvenantError('PROV_ERR_BAD_INPUT', `from (${range.fromT}) is after to (${range.toT})`, { field: 'from' });
    const { db } = this.options;
    const total = await db.count(range);
    const job = await db.createJob(range, total);
    this.queue = this.queue.then(() => this.run(job.id, range)).catch(() => undefined);
    return job;
  }

  /** Resolves when every queued job has finished. */
  async idle(): Promise<void> {
    await this.queue;
  }

  /** Lets the running job finish its current reading, then marks what is left interrupted. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.queue;
  }

  private async run(id: number, range: ReadingRange): Promise<void> {
    const { db } = this.options;
    const pageSize = this.options.pageSize ?? 200;
    const every = this.options.progressEveryMs ?? 250;
    const counts: Record<string, number> = {};
    let done = 0;
    let lastWrite = 0;
    await db.updateJob(id, { state: 'running' });
    try {
      const auditor = this.options.auditor();
      let after: { deviceId: string; seq: number; dataHash: string } | undefined;
      for (;;) {
        const page = await db.list(range, { limit: pageSize, ...(after ? { after } : {}) });
        if (page.length === 0) break;
        for (const r of page) {
          if (this.stopped) {
            await db.updateJob(id, { state: 'interrupted', done, counts });
            return;
          }
          const result = await auditor.check({
            deviceId: r.deviceId,
            at: { seq: r.seq },
            data: r.canonical,
            tag: Buffer.from(r.tag, 'hex'),
            askedBy: `job:${id}`,
          });
          const key = result.verdict === 'TRUE' && !result.genuine ? 'TRUE_UNPROVEN' : result.verdict;
          counts[key] = (counts[key] ?? 0) + 1;
          done++;
          if (Date.now() - lastWrite >= every) {
            lastWrite = Date.now();
            await db.updateJob(id, { done, counts });
          }
        }
        const last = page[page.length - 1];
        if (last === undefined) break;
        after = { deviceId: last.deviceId, seq: last.seq, dataHash: last.dataHash };
      }
      await db.updateJob(id, { state: 'done', done, counts });
    } catch (err) {
      await db.updateJob(id, { state: 'failed', done, counts, error: err instanceof Error ? err.message : String(err) });
    }
  }
}

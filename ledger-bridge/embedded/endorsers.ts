/**
 * A pool of endorser threads (endorser-worker.ts): simulation of independent transactions in
 * parallel, so a multi-core machine endorses at the speed of all its cores while the ledger
 * thread orders, validates and seals. Requests go to the least busy endorser.
 */
import type { Worker } from 'node:worker_threads';
import type { EndorseRequest } from './endorser-worker.js';
import type { InvokeOutcome } from './host.js';
import { spawnWorker } from './spawn.js';
import type { Simulation } from './stub.js';

/** Where the endorsers load the contract classes from (a module URL and its export). */
export interface EndorserOptions {
  /** Number of endorser threads. */
  readonly count: number;
  /** Module (file URL or package specifier) exporting the contract classes. */
  readonly module: string;
  /** Name of the export holding the array of classes (default 'contracts'). */
  readonly exportName?: string;
}

type Reply = {
  id: number;
  outcome: InvokeOutcome;
  simulation?: {
    reads: [string, number][];
    ranges: Simulation['ranges'];
    writes: [string, Uint8Array | null][];
    privateReads: [string, { collection: string; key: string; version: number }][];
    privateWrites: [string, { collection: string; key: string; value: Uint8Array | null }][];
    event: Simulation['event'];
  };
};

/** The pool. */
export class Endorsers {
  private nextId = 0;
  private readonly waiting = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void; worker: number }>();
  private readonly busy: number[];

  private constructor(private readonly workers: Worker[]) {
    this.busy = workers.map(() => 0);
    workers.forEach((w, i) => {
      w.unref();
      w.on('message', (m: Reply) => {
        const waiter = this.waiting.get(m.id);
        if (!waiter) return;
        this.waiting.delete(m.id);
        this.busy[i] = (this.busy[i] as number) - 1;
        if (this.busy[i] === 0) w.unref();
        waiter.resolve(m);
      });
      const fail = (err: Error): void => {
        for (const [id, waiter] of this.waiting) {
          if (waiter.worker !== i) continue;
          this.waiting.delete(id);
          waiter.reject(err);
        }
      };
      w.on('error', fail);
      w.on('exit', (code) => fail(new Error(`endorser ${i} exited (code ${code})`)));
    });
  }

  /** Starts `count` endorsers on the ledger file. */
  static async start(path: string, channelId: string, options: EndorserOptions, depositKey: Uint8Array): Promise<Endorsers> {
    if (!Number.isInteger(options.count) || options.count < 1 || options.count > 64)
      throw new RangeError(`endorsers.count must be 1..64, got ${options.count}`);
    // The deposit key travels in memory: endorsements read private data (K_IoT) like Fabric's peers.
    const data = { path, channelId, module: options.module, exportName: options.exportName ?? 'contracts', depositKey };
    const started = await Promise.allSettled(Array.from({ length: options.count }, () => spawnWorker('endorser-worker', data)));
    const workers = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      await Promise.all(workers.map((w) => w.terminate()));
      throw failed.reason;
    }
    return new Endorsers(workers);
  }

  /** Simulates on the least busy endorser; resolves with the contract outcome and read/write set. */
  async endorse(request: Omit<EndorseRequest, 'id'>): Promise<{ outcome: InvokeOutcome; simulation: Simulation | null }> {
    let i = 0;
    for (let k = 1; k < this.busy.length; k++) if ((this.busy[k] as number) < (this.busy[i] as number)) i = k;
    const worker = this.workers[i] as Worker;
    const id = this.nextId++;
    this.busy[i] = (this.busy[i] as number) + 1;
    worker.ref();
    const reply = await new Promise<Reply>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject, worker: i });
      worker.postMessage({ ...request, id });
    });
    const s = reply.simulation;
    return {
      outcome: reply.outcome,
      simulation: s
        ? {
            reads: new Map(s.reads),
            ranges: s.ranges,
            writes: new Map(s.writes),
            privateReads: new Map(s.privateReads),
            privateWrites: new Map(s.privateWrites),
            event: s.event,
          }
        : null,
    };
  }

  /** Ends every endorser thread. */
  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

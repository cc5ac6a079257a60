/**
 * Validation threads: a BatchCrypto (contracts/logic/batch-crypto.ts) that splits a batch's tag
 * checks and hashing over worker threads (crypto-worker.ts), so the ledger thread keeps only
 * parsing, the replay windows, MVCC validation and sealing. The results are the same bytes as
 * on the calling thread, so this never changes a verdict; it pays where a core is free (see
 * docs/benchmarks.md, "Ledger": validation threads).
 */
import type { Worker } from 'node:worker_threads';
import type { BatchCrypto, CryptoJob, CryptoResult } from '../contracts/logic/batch-crypto.js';
import { cryptoResult, runCryptoRange } from '../contracts/logic/batch-crypto.js';
import { spawnWorker } from './spawn.js';

/** Items below which a job runs on the calling thread: posting costs more than the hashing. */
const MIN_ITEMS_PER_WORKER = 32;

type Answer = { id: number; tagOk: Uint8Array; dataHash: Uint8Array; leaf: Uint8Array };

/** A pool of validation threads. */
export class CryptoPool implements BatchCrypto {
  private next = 1;
  private readonly waiting = new Map<number, (a: Answer) => void>();
  private inFlight = 0;

  private constructor(private readonly workers: Worker[]) {
    for (const w of workers) {
      w.on('message', (a: Answer) => {
        const done = this.waiting.get(a.id);
        this.waiting.delete(a.id);
        if (--this.inFlight === 0) for (const x of this.workers) x.unref();
        done?.(a);
      });
      w.on('error', (err) => this.failAll(err));
      w.unref();
    }
  }

  /** Starts `threads` workers. */
  static async start(threads: number): Promise<CryptoPool> {
    if (!Number.isInteger(threads) || threads < 1 || threads > 64) throw new RangeError(`validation threads must be 1..64, got ${threads}`);
    return new CryptoPool(await Promise.all(Array.from({ length: threads }, () => spawnWorker('crypto-worker', null))));
  }

  private failAll(err: Error): void {
    const answer = { id: -1, tagOk: new Uint8Array(0), dataHash: new Uint8Array(0), leaf: new Uint8Array(0) };
    for (const done of this.waiting.values()) done({ ...answer, id: -1, message: err.message } as Answer);
    this.waiting.clear();
  }

  async run(job: CryptoJob): Promise<CryptoResult> {
    const n = job.items.length;
    const shares = Math.min(this.workers.length, Math.floor(n / MIN_ITEMS_PER_WORKER));
    const out = cryptoResult(n);
    if (shares === 0) {
      runCryptoRange(job, 0, n, out);
      return out;
    }
    const per = Math.ceil(n / shares);
    // The batch's bytes once, in shared memory: every share reads them in place (a plain copy
    // would be cloned again for each worker).
    const shared = new Uint8Array(new SharedArrayBuffer(job.data.length));
    shared.set(job.data);
    const posted = { ...job, data: shared, routes: job.routes.map((r) => new Uint8Array(r)), keys: job.keys };
    const parts: Promise<void>[] = [];
    for (let s = 0; s < shares; s++) {
      const from = s * per;
      const to = Math.min(n, from + per);
      if (from >= to) break;
      const id = this.next++;
      const worker = this.workers[s] as Worker;
      parts.push(
        new Promise<void>((resolve, reject) => {
          this.waiting.set(id, (a) => {
            if (a.id !== id) {
              reject(new Error(`validation thread failed: ${(a as { message?: string }).message ?? 'unknown error'}`));
              return;
            }
            out.tagOk.set(a.tagOk, from);
            out.dataHash.set(a.dataHash, 32 * from);
            out.leaf.set(a.leaf, 32 * from);
            resolve();
          });
          if (this.inFlight++ === 0) for (const x of this.workers) x.ref();
          worker.postMessage({ id, job: posted, from, to });
        }),
      );
    }
    await Promise.all(parts);
    return out;
  }

  /** Ends the threads. */
  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

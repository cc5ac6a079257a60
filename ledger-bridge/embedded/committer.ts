/**
 * Starts the commit worker (commit-worker.ts) and turns its answers into one promise per block.
 */
import type { Worker } from 'node:worker_threads';
import { spawnWorker } from './spawn.js';
import { type BlockWrite, type SyncMode, toMessage } from './writer.js';

type Answer = { type: 'ready' } | { type: 'ok'; number: number } | { type: 'error'; number: number; message: string } | { type: 'closed' };

/** Writes blocks on a worker thread, in order. */
export class Committer {
  private readonly waiting = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  private closed: Promise<void> | null = null;

  private constructor(private readonly worker: Worker) {
    worker.on('message', (m: Answer) => {
      if (m.type === 'ok' || m.type === 'error') {
        const w = this.waiting.get(m.number);
        this.waiting.delete(m.number);
        if (m.type === 'ok') w?.resolve();
        else w?.reject(new Error(m.message));
        if (this.waiting.size === 0) worker.unref();
      }
    });
    // Idle, the worker must not keep the process alive (a ledger that is never closed would);
    // while a block is being written it must, so the submitter gets its answer.
    worker.unref();
    worker.on('error', (err) => this.failAll(err));
    worker.on('exit', (code) => this.failAll(new Error(`commit worker exited (code ${code})`)));
  }

  /**
   * Starts a worker on the ledger file at `path` (which must exist: the ledger creates it); it seals
   * private values under `depositKey` (handed over in memory, never written).
   */
  static async start(path: string, sync: SyncMode, depositKey: Uint8Array): Promise<Committer> {
    return new Committer(await spawnWorker('commit-worker', { path, sync, depositKey }));
  }

  private failAll(err: Error): void {
    for (const w of this.waiting.values()) w.reject(err);
    this.waiting.clear();
  }

  /**
   * Resolves once the block is committed to disk; rejects if the worker could not write it.
   * The block's envelopes are transferred (detached here): nothing reads them after sealing.
   */
  write(block: BlockWrite): Promise<void> {
    return new Promise((resolve, reject) => {
      this.waiting.set(block.header.number, { resolve, reject });
      this.worker.ref();
      const { message, transfer } = toMessage(block);
      this.worker.postMessage({ type: 'block', block: message }, transfer);
    });
  }

  /** Checkpoints and closes the worker's connection, then ends the thread. */
  close(): Promise<void> {
    this.closed ??= new Promise<void>((resolve) => {
      this.worker.ref();
      this.worker.on('message', (m: Answer) => {
        if (m.type === 'closed')
          void this.worker.terminate().then(
            () => resolve(),
            () => resolve(),
          );
      });
      this.worker.postMessage({ type: 'close' });
    });
    return this.closed;
  }
}

/**
 * Group commit in front of the outbox: readings that arrive in the same turn of the event loop
 * (a burst from many boards) are stored in one SQLite transaction, one fsync, and each caller
 * learns its own status. With synchronous=FULL this keeps ACK-after-durable cheap at high rates.
 */
import type { Outbox, OutboxItem, PutStatus } from './outbox.js';

interface Waiting {
  readonly item: OutboxItem;
  readonly resolve: (s: PutStatus) => void;
  readonly reject: (e: unknown) => void;
}

/** Queues puts and flushes them together on the next tick (or when `maxGroup` are waiting). */
export class GroupCommit {
  private queue: Waiting[] = [];
  private scheduled = false;

  constructor(
    private readonly outbox: Outbox,
    private readonly clock: () => number,
    private readonly maxGroup = 1024,
  ) {}

  /** Resolves once the reading is durably stored (or refused); rejects when SQLite fails. */
  put(item: OutboxItem): Promise<PutStatus> {
    return new Promise<PutStatus>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (this.queue.length >= this.maxGroup) this.flush();
      else if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Stores everything queued now. */
  flush(): void {
    this.scheduled = false;
    const group = this.queue;
    this.queue = [];
    if (group.length === 0) return;
    let statuses: PutStatus[];
    try {
      statuses = this.outbox.putMany(
        group.map((w) => w.item),
        this.clock(),
      );
    } catch (err) {
      for (const w of group) w.reject(err);
      return;
    }
    group.forEach((w, i) => w.resolve(statuses[i] as PutStatus));
  }
}

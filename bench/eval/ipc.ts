/**
 * The evaluation's processes and how the orchestrator talks to them: each role (boards, edge,
 * auditor) is `provenant eval worker <role>` in its own Node process, driven over Node's IPC
 * channel with request/response messages. A role may be started under a CPU and memory limit
 * (`taskset -c CPU` and `--max-old-space-size`): the edge as a stand-in for a Raspberry Pi.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'provenant.js');

/** Where and how a worker runs. */
export interface WorkerLimits {
  /** Pin to these CPUs (taskset -c), e.g. "0". */
  readonly cpus?: string;
  /** V8 old-space limit in MiB (--max-old-space-size). */
  readonly heapMiB?: number;
}

interface Reply {
  /** Sent once by the worker when it listens for requests (before that, requests could be lost). */
  readonly ready?: true;
  readonly id: number;
  readonly ok: boolean;
  readonly value?: unknown;
  readonly error?: string;
}

/** True when taskset can pin a process here. */
export function hasTaskset(): boolean {
  return spawnSync('taskset', ['-c', '0', 'true'], { stdio: 'ignore' }).status === 0;
}

/** A worker process seen from the orchestrator. */
export class WorkerProcess {
  private next = 1;
  private readonly waiting = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  private exited: string | undefined;
  private readonly ready: Promise<void>;
  private markReady: () => void = () => undefined;

  private constructor(
    readonly role: string,
    private readonly child: ChildProcess,
  ) {
    this.ready = new Promise((r) => (this.markReady = r));
    child.on('message', (m: Reply) => {
      if (m.ready) {
        this.markReady();
        return;
      }
      const w = this.waiting.get(m.id);
      if (!w) return;
      this.waiting.delete(m.id);
      if (m.ok) w.resolve(m.value);
      else w.reject(new Error(`${role}: ${m.error ?? 'failed'}`));
    });
    // A send to a worker that just exited: the request is rejected by the exit handler below.
    child.on('error', () => undefined);
    child.on('exit', (code, signal) => {
      this.exited = `${role} worker exited (${signal ?? `code ${String(code)}`})`;
      for (const w of this.waiting.values()) w.reject(new Error(this.exited));
      this.waiting.clear();
      this.markReady();
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Starts `provenant eval worker <role>`, optionally pinned and memory-limited. */
  static start(role: string, limits: WorkerLimits = {}): WorkerProcess {
    const prof = process.env['PROVENANT_EVAL_PROFILE'];
    const node = [
      ...(limits.heapMiB ? [`--max-old-space-size=${limits.heapMiB}`] : []),
      // PROVENANT_EVAL_PROFILE=DIR: every role writes a V8 CPU profile there (as the ledger does).
      ...(prof
        ? ['--cpu-prof', `--cpu-prof-dir=${prof}`, `--cpu-prof-name=${role}-${Date.now()}-${Math.floor(Math.random() * 1e6)}.cpuprofile`]
        : []),
      BIN,
      'eval',
      'worker',
      role,
    ];
    const [cmd, args] = limits.cpus ? ['taskset', ['-c', limits.cpus, process.execPath, ...node]] : [process.execPath, node];
    const child = spawn(cmd, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    return new WorkerProcess(role, child);
  }

  /** Sends a request and waits for its reply. */
  call<T>(op: string, args: unknown = {}, timeoutMs = 120_000): Promise<T> {
    if (this.exited) return Promise.reject(new Error(this.exited));
    const id = this.next++;
    return new Promise<T>((resolve, reject) => {
      const t = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`${this.role}: no answer to ${op} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.set(id, {
        resolve: (v) => {
          clearTimeout(t);
          resolve(v as T);
        },
        reject: (e) => {
          clearTimeout(t);
          reject(e);
        },
      });
      // An exit before or after this rejects the request (the exit handler rejects every waiter).
      void this.ready.then(() => {
        if (!this.exited && this.child.connected) this.child.send({ id, op, args }, (err) => err && this.waiting.get(id)?.reject(err));
      });
    });
  }

  /** Asks the worker to stop, then kills it if it has not exited within 10 s. */
  async stop(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((r) => this.child.once('exit', () => r()));
    this.call('exit', {}, 10_000).catch(() => undefined);
    const t = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await gone;
    clearTimeout(t);
  }
}

/** CPU time (user + system) this process used so far, ms. */
export function cpuMsNow(): number {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
}

/** The worker side: answers the orchestrator's requests with `handlers` until 'exit'. */
export function serveWorker(handlers: Record<string, (args: never) => unknown>, onExit: () => Promise<void>): Promise<void> {
  return new Promise((resolve) => {
    // The orchestrator may be gone (interrupted): a reply to nobody is dropped.
    const send = (r: Reply): void => {
      if (process.connected) process.send?.(r, undefined, undefined, () => undefined);
    };
    process.on('message', (m: { id: number; op: string; args: unknown }) => {
      if (m.op === 'exit') {
        void onExit().finally(() => {
          send({ id: m.id, ok: true });
          if (process.connected) process.disconnect?.();
          resolve();
        });
        return;
      }
      const h = handlers[m.op];
      if (!h) {
        send({ id: m.id, ok: false, error: `unknown op ${m.op}` });
        return;
      }
      Promise.resolve()
        .then(() => h(m.args as never))
        .then(
          (value) => send({ id: m.id, ok: true, value }),
          (err: unknown) => send({ id: m.id, ok: false, error: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
        );
    });
    send({ ready: true, id: 0, ok: true });
    // The orchestrator went away: end too.
    process.on('disconnect', () => {
      void onExit().finally(resolve);
    });
  });
}

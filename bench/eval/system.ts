/**
 * The whole system for the paper's experiments, one process per role (bench/eval/ipc.ts):
 *
 *   ledger    `provenant ledger start` — the embedded ledger with the four contracts over HTTP
 *             (or, with a Fabric client config, no process here: the operator's Fabric network)
 *   edge      edge runtime: sessions, outbox, forwarder (optionally pinned to one CPU with a
 *             1 GiB heap: the Raspberry Pi stand-in)
 *   auditor   provenance follower + database + auditor answering per committed reading
 *   boards×K  simulated boards running the built firmware (the load generator)
 *
 * The orchestrator (this module) is the attribute authority: it configures the ledger, enrolls
 * and registers every device (K_tag and K_chal deposited as transient data) and hands the edge the devices'
 * credentials; then it starts and stops boards per experiment point and joins the timestamps the
 * roles report into throughput and response-time figures.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { CONTRACTS, type LedgerClient } from '../../ledger-bridge/client.js';
import { toHex } from '../../shared/encoding/hex.js';
import type { AuditorCollect } from './auditor-host.js';
import type { BoardCollect, BoardRun, HostedDevice } from './board-host.js';
import type { EdgeCollect, EdgeInit } from './edge-host.js';
import { cpuSeconds } from '../fabric/cpu.js';
import { WorkerProcess, type WorkerLimits } from './ipc.js';
import { openEvalLedger, type EvalLedgerSpec } from './ledger-spec.js';

const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'provenant.js');
const now = (): number => performance.timeOrigin + performance.now();
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Longest wait for every board of a point to have a reading committed before its warm-up (s). */
const START_LIMIT_S = 180;

/** The firmware's floor: a board samples at most every 100 ms (its own clock decides). */
export const MIN_BOARD_INTERVAL_MS = 100;

/**
 * Boards that make up one of the paper's nodes at `rate` packets/s: a node above the firmware's
 * 10 readings/s is that many boards, each at rate / k (≤ 10/s).
 */
export function boardsPerNode(rate: number): number {
  return Math.max(1, Math.ceil((rate * MIN_BOARD_INTERVAL_MS) / 1000 - 1e-9));
}

/** How the system is set up. */
export interface SystemOptions {
  readonly dir: string;
  /** Fabric client config; omitted: the embedded ledger. */
  readonly fabricConfig?: string;
  /** With fabricConfig: local processes whose CPU is the ledger's (peer, orderer, chaincode server). */
  readonly ledgerPids?: readonly number[];
  readonly devices: number;
  readonly boardProcs: number;
  readonly batchSize: number;
  readonly maxWaitMs: number;
  readonly log: (line: string) => void;
}

/** One experiment point. */
export interface PointSpec {
  /** The paper's nodes; each is boardsPerNode(rate) boards (ports firstPort.. firstPort+nodes×k-1). */
  readonly nodes: number;
  /** First board port (default 0). */
  readonly firstPort?: number;
  /** Packets (readings) per second per node. */
  readonly rate: number;
  readonly warmS: number;
  readonly measureS: number;
  /** The auditor answers every `auditEvery`-th committed reading. */
  readonly auditEvery: number;
  /** Longest wait for the edge and auditor to drain after the boards stop. */
  readonly drainS: number;
  /** The point's edge process under these limits (the Raspberry Pi stand-in); default none. */
  readonly edgeLimits?: WorkerLimits;
}

/** Distribution of a latency (ms). */
export interface Dist {
  readonly n: number;
  readonly mean: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

/** What one point measured. */
export interface PointResult {
  readonly nodes: number;
  readonly ratePerNode: number;
  /** Simulated boards running (nodes × boards per node). */
  readonly boards: number;
  readonly measureS: number;
  readonly offeredPerS: number;
  readonly committedPerS: number;
  readonly txPerS: number;
  readonly readingsPerTx: number;
  readonly rejected: number;
  readonly nacks: number;
  /**
   * READING frames the boards sent again from their resend rings (no ACK within the firmware's
   * resend delay, 2 s at 10/s), per second of the window: the sign of an edge that ACKs late.
   */
  readonly resentPerS: number;
  /** Board wrote READING → edge outbox stored / → committed / → auditor answer; and per stage. */
  readonly latency: {
    readonly stored: Dist;
    readonly committed: Dist;
    readonly answered: Dist;
    readonly stages: { readonly boardToStored: Dist; readonly storedToCommitted: Dist; readonly committedToAnswer: Dist };
  };
  /** Readings sent in the window that reached each stage. */
  readonly reached: { readonly sent: number; readonly stored: number; readonly committed: number; readonly answered: number };
  readonly verdicts: Record<string, number>;
  /** CPU used by each role during the point (incl. warm-up and drain), as a share of one core. */
  readonly cpuShare: { readonly edge: number; readonly ledger: number | null; readonly auditor: number; readonly boards: number };
  /** Edge CPU time per committed reading (µs): the figure that carries to other hardware. */
  readonly edgeCpuUsPerReading: number;
  /**
   * CPU time per committed reading (µs) of each role over the whole point (warm-up and drain
   * included): what carries to a quiet or bigger machine, whatever the load here.
   */
  readonly cpuUsPerReading: { readonly edge: number; readonly ledger: number | null; readonly auditor: number; readonly boards: number };
  /**
   * CPU time per reading committed in the measurement window (µs), from each role's CPU spent in
   * that window only: the steady state, without the boards' start (sessions, partial signatures
   * validated once per device) or the drain. `system` is what the system under test (edge + ledger
   * + auditor) spent; the boards are the load generator, apart.
   */
  readonly windowCpuUsPerReading: {
    readonly edge: number;
    readonly ledger: number | null;
    readonly auditor: number;
    readonly boards: number;
    readonly system: number | null;
  };
  /** Readings the ledger rejected during the point, by the contract's reason. */
  readonly rejectedBy: Record<string, number>;
  readonly edgeRssMiB: number;
  readonly wallS: number;
  /**
   * Seconds before the point's boards started: its fresh edge process up (sessions, outbox) and
   * the auditor caught up with the ledger (not counted in wallS).
   */
  readonly startS?: number;
  /** Boards with a reading committed when the warm-up began (all of them, unless START_LIMIT_S ran out). */
  readonly boardsUp?: number;
  /** The machine's 1-minute load average at the end of the point. */
  readonly load: number;
}

/** CPU time (ms) of each role: cumulative at an instant, or spent between two. */
interface WindowCpu {
  readonly edge: number;
  readonly ledger: number | null;
  readonly auditor: number;
  readonly boards: number;
}

/** The running system. */
export class EvalSystem {
  readonly spec: EvalLedgerSpec;
  private ledgerProc: ChildProcess | undefined;
  private edge: WorkerProcess | undefined;
  /** An unrestricted edge process started early (modules loaded) for the first startEdge. */
  private spareEdge: WorkerProcess | undefined;
  private auditor: WorkerProcess | undefined;
  private hosts: WorkerProcess[] = [];
  private edgeCount = 0;
  private aa: LedgerClient | undefined;
  private issuerPk = '';
  private policy: unknown;
  private readonly credentialsDir: string;
  devices: HostedDevice[] = [];

  private constructor(
    private readonly o: SystemOptions,
    spec: EvalLedgerSpec,
    ledgerProc: ChildProcess | undefined,
  ) {
    this.spec = spec;
    this.ledgerProc = ledgerProc;
    this.credentialsDir = join(o.dir, 'credentials');
  }

  /** Starts the ledger (embedded), enrolls the devices, starts the auditor and the board hosts. */
  static async start(o: SystemOptions): Promise<EvalSystem> {
    // A fresh ledger, outbox and provenance database for every run.
    rmSync(o.dir, { recursive: true, force: true });
    mkdirSync(o.dir, { recursive: true, mode: 0o700 });
    // The firmware is built once here, not by each board host at once (concurrent builds race).
    const { ensureFirmwareBuilt } = await import('../../firmware/build.js');
    await ensureFirmwareBuilt();
    // The workers load their modules while the ledger starts.
    const auditor = WorkerProcess.start('auditor');
    const hosts = Array.from({ length: o.boardProcs }, () => WorkerProcess.start('boards'));
    const spareEdge = WorkerProcess.start('edge');
    let spec: EvalLedgerSpec;
    let proc: ChildProcess | undefined;
    if (o.fabricConfig) spec = { type: 'fabric', config: o.fabricConfig };
    else {
      const tokens = {
        aa: randomBytes(16).toString('hex'),
        edge: randomBytes(16).toString('hex'),
        auditor: randomBytes(16).toString('hex'),
      };
      const tokenFile = join(o.dir, 'ledger-tokens.json');
      writeFileSync(tokenFile, JSON.stringify({ [tokens.aa]: 'aa', [tokens.edge]: 'edge-1', [tokens.auditor]: 'auditor' }), {
        mode: 0o600,
      });
      const started = await startLedgerProcess(join(o.dir, 'ledger.db'), tokenFile).catch(async (err: unknown) => {
        await Promise.all([auditor, spareEdge, ...hosts].map((w) => w.stop()));
        throw err;
      });
      proc = started.proc;
      spec = { type: 'http', url: started.url, tokens };
      o.log(`ledger: embedded, ${started.url} (pid ${String(proc.pid)})`);
    }
    const sys = new EvalSystem(o, spec, proc);
    sys.auditor = auditor;
    sys.hosts = hosts;
    sys.spareEdge = spareEdge;
    try {
      await sys.enroll();
      await auditor.call('init', { ledger: spec, dbPath: join(o.dir, 'provenance.db') });
    } catch (err) {
      await sys.stop();
      throw err;
    }
    return sys;
  }

  private async enroll(): Promise<void> {
    const { ready, setup, parsePolicy, enrollDevice, credentialToJson, ledgerKeys, sha256 } = await import('../../shared/crypto/index.js');
    await ready();
    const aa = await openEvalLedger(this.spec, 'aa');
    this.aa = aa;
    const issuer = setup();
    const policy = parsePolicy({ id: 'eval-sensors', anyOf: [{ site: 'eval-site' }] });
    this.issuerPk = toHex(issuer.pk);
    this.policy = policy;
    await aa.submit({
      contract: CONTRACTS.deviceRegistration,
      fn: 'configure',
      args: [JSON.stringify({ issuerPk: toHex(issuer.pk), schema: issuer.schema, policies: [policy] })],
    });
    // The edge registry (issue 11): the identity the edge records with acts as edge-1.
    const edgeClient = await openEvalLedger(this.spec, 'edge');
    try {
      const me = JSON.parse(
        new TextDecoder().decode(await edgeClient.evaluate({ contract: CONTRACTS.deviceRegistration, fn: 'whoami', args: [] })),
      ) as { mspId: string; id: string };
      await aa.submit({
        contract: CONTRACTS.deviceRegistration,
        fn: 'registerEdge',
        args: [JSON.stringify({ edgeId: 'edge-1', mspId: me.mspId, id: me.id })],
      });
    } finally {
      await edgeClient.close();
    }
    mkdirSync(this.credentialsDir, { recursive: true, mode: 0o700 });
    const t0 = Date.now();
    const run = `${Date.now().toString(36)}`;
    for (let i = 0; i < this.o.devices; i += 64) {
      const chunk = Array.from({ length: Math.min(64, this.o.devices - i) }, (_, k) => i + k);
      await Promise.all(
        chunk.map(async (port) => {
          const deviceId = `eval-${run}-${String(port).padStart(5, '0')}`;
          const e = enrollDevice(issuer, {
            deviceId,
            site: 'eval-site',
            line: `line-${port % 4}`,
            type: 'temperature',
            owner: 'eval',
            fw: '0.1.0',
          });
          await aa.submit({
            contract: CONTRACTS.deviceRegistration,
            fn: 'register',
            args: [JSON.stringify(e.registration)],
            // The ledger gets K_tag and K_chal (derived from K_IoT), never K_IoT.
            transient: { ...ledgerKeys(sha256, e.device.kIoT) },
          });
          const file = join(this.credentialsDir, `${deviceId}.credential.json`);
          writeFileSync(file, JSON.stringify(credentialToJson(e.credential)), { mode: 0o600 });
          this.devices[port] = { deviceId, key: Buffer.from(e.device.kIoT).toString('base64'), port };
        }),
      );
    }
    this.o.log(`authority: ${this.o.devices} devices enrolled and registered in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }

  /**
   * A fresh edge process for the board ports first..first+ports-1 (each point has its own: a
   * point that saturated leaves its backlog, sessions and resend storms behind with its edge,
   * not in the next point), optionally limited; reconnects the board hosts to it. The previous
   * edge is stopped and its outbox deleted.
   */
  private async startEdge(first: number, ports: number, limits: WorkerLimits = {}): Promise<void> {
    await this.edge?.stop();
    this.edge = undefined;
    const prev = this.edgeCount;
    if (prev > 0) {
      for (const f of [
        `outbox-${prev}.db`,
        `outbox-${prev}.db-wal`,
        `outbox-${prev}.db-shm`,
        `bus-${prev}.sock`,
        `credentials-edge-${prev}`,
      ])
        rmSync(join(this.o.dir, f), { recursive: true, force: true });
    }
    const n = ++this.edgeCount;
    const socketPath = join(this.o.dir, `bus-${n}.sock`);
    const spare = this.spareEdge;
    this.spareEdge = undefined;
    if (spare && limits.cpus === undefined && limits.heapMiB === undefined) this.edge = spare;
    else {
      await spare?.stop();
      this.edge = WorkerProcess.start('edge', limits);
    }
    const init: EdgeInit = {
      ledger: this.spec,
      edgeId: 'edge-1',
      issuerPk: this.issuerPk,
      policy: this.policy,
      credentialsDir: this.edgeCredentials(n, first, ports),
      outboxPath: join(this.o.dir, `outbox-${n}.db`),
      socketPath,
      firstPort: first,
      ports,
      intervalMs: MIN_BOARD_INTERVAL_MS,
      batchSize: this.o.batchSize,
      maxWaitMs: this.o.maxWaitMs,
      // The deployed default (edge config traffic.windowSeconds: 60): each device profiled once a minute,
      // all of an edge's profiles in one submitProfiles transaction per 200 devices.
      windowMs: 60_000,
    };
    await this.edge.call('init', init, 300_000);
    const mine = this.devices.slice(first, first + ports);
    await Promise.all(
      this.hosts.map((h, k) => h.call('init', { socketPath, devices: mine.filter((d) => d.port % this.hosts.length === k) }, 300_000)),
    );
  }

  /**
   * Before a point: the auditor has answered or dropped every question of the points before and
   * its follower has stored every transaction on the ledger (the head unchanged and nothing
   * ingested for a second, no edge submitting): a point that saturated does not leave the auditor
   * behind for the next one. At most `limitS`; then the point starts anyway, and says so.
   */
  private async auditorQuiet(limitS: number): Promise<void> {
    const auditor = this.auditor as WorkerProcess;
    await auditor.call('reset');
    const until = now() + limitS * 1000;
    let last = '';
    let since = now();
    for (;;) {
      const s = await auditor.call<{ head: number; ingestedTotal: number; backlog: number }>('progress');
      const key = `${s.head}/${s.ingestedTotal}`;
      if (key !== last || s.backlog > 0) {
        last = key;
        since = now();
      } else if (now() - since >= 1000) return;
      if (now() > until) {
        this.o.log(
          `  auditor still catching up after ${limitS} s (ledger head ${s.head}, ${s.backlog} questions in flight): starting the point anyway`,
        );
        await auditor.call('reset');
        return;
      }
      await sleep(200);
    }
  }

  /**
   * A credentials directory with only the devices on the edge's ports, as a
   * deployed edge holds only its own devices': the traffic monitor profiles every known device
   * each window, so devices enrolled for another edge (the Pi stand-in's) would add ~29 KB of
   * model state each to this one's profile transactions every minute.
   */
  private edgeCredentials(n: number, first: number, ports: number): string {
    const dir = join(this.o.dir, `credentials-edge-${n}`);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    for (const d of this.devices.slice(first, first + ports)) {
      const name = `${d.deviceId}.credential.json`;
      copyFileSync(join(this.credentialsDir, name), join(dir, name));
      chmodSync(join(dir, name), 0o600);
    }
    return dir;
  }

  /** Runs one point: boards on, warm-up, measurement window, boards off, drain, join. */
  async point(p: PointSpec): Promise<PointResult> {
    const auditor = this.auditor as WorkerProcess;
    const k = boardsPerNode(p.rate);
    const boards = p.nodes * k;
    if ((p.firstPort ?? 0) + boards > this.devices.length) throw new Error(`point needs ${boards} boards, ${this.devices.length} enrolled`);
    const g0 = now();
    await this.startEdge(p.firstPort ?? 0, boards, p.edgeLimits);
    await this.auditorQuiet(120);
    const edge = this.edge as WorkerProcess;
    const gateS = (now() - g0) / 1000;
    await auditor.call('sample', { every: p.auditEvery });
    await this.collect(); // forget what happened before
    const cpu0 = this.ledgerCpuMs();
    const w0 = now();
    const runOf = (port: number): BoardRun => ({ port, intervalMs: Math.round((1000 * k) / p.rate) });
    const first = p.firstPort ?? 0;
    const ports = Array.from({ length: boards }, (_, i) => first + i);
    await Promise.all(
      this.hosts.map((h, k) => h.call('start', { boards: ports.filter((i) => i % this.hosts.length === k).map(runOf) }, 300_000)),
    );
    // Every board's session up and a reading of each committed (its partial signature verified
    // and stored by the ledger: a one-off per device and epoch), then the warm-up proper.
    // On a machine too loaded for every session to come up in time, the point is measured with the
    // boards that did (boardsUp says how many): one slow start does not end the run.
    const upBy = now() + START_LIMIT_S * 1000;
    let boardsUp = 0;
    for (;;) {
      boardsUp = await edge.call<number>('committedDevices');
      if (boardsUp >= boards) break;
      if (now() > upBy) {
        this.o.log(`  only ${boardsUp} of ${boards} boards had a reading committed after ${START_LIMIT_S} s: measuring with them`);
        break;
      }
      await sleep(200);
    }
    await sleep(p.warmS * 1000);
    const cpuA = await this.cpuNow();
    const tA = now();
    await sleep(p.measureS * 1000);
    const tB = now();
    const cpuB = await this.cpuNow();
    await Promise.all(this.hosts.map((h) => h.call('stop')));
    // The next point's edge process loads its modules while this one drains.
    this.spareEdge ??= WorkerProcess.start('edge');
    const drainUntil = now() + p.drainS * 1000;
    // Drained: the outbox empty, the auditor has ingested every reading the edge committed
    // (since the point began) and answered the ones it was asked to.
    for (;;) {
      const { depth, committed } = await edge.call<{ depth: number; committed: number }>('depth');
      const { backlog, ingested } = await auditor.call<{ backlog: number; ingested: number }>('backlog');
      if ((depth === 0 && ingested >= committed && backlog === 0) || now() > drainUntil) break;
      await sleep(100);
    }
    const wall = (now() - w0) / 1000;
    const c = await this.collect();
    for (const [m, w] of Object.entries(c.edge.warnings)) this.o.log(`  edge logged ${w.count}× ${m} ${w.last}`);
    for (const [reason, messages] of Object.entries(c.edge.rejectedSamples))
      this.o.log(`  ledger rejected ${c.edge.rejectedBy[reason] ?? 0}× ${reason}, e.g. ${messages.join(' | ')}`);
    const cpuLedger = this.ledgerCpuMs();
    const r = summarise(p, tA, tB, c, wall, cpu0 === null || cpuLedger === null ? null : cpuLedger - cpu0, {
      edge: cpuB.edge - cpuA.edge,
      ledger: cpuA.ledger === null || cpuB.ledger === null ? null : cpuB.ledger - cpuA.ledger,
      auditor: cpuB.auditor - cpuA.auditor,
      boards: cpuB.boards - cpuA.boards,
    });
    return { ...r, startS: Math.round(gateS * 10) / 10, boardsUp: Math.min(boardsUp, boards) };
  }

  /** Every role's CPU time so far (ms), sampled at once: the measurement window's edges. */
  private async cpuNow(): Promise<WindowCpu> {
    const [edge, auditor, boards] = await Promise.all([
      (this.edge as WorkerProcess).call<number>('cpu'),
      (this.auditor as WorkerProcess).call<number>('cpu'),
      Promise.all(this.hosts.map((h) => h.call<number>('cpu'))),
    ]);
    return { edge, ledger: this.ledgerCpuMs(), auditor, boards: boards.reduce((a, b) => a + b, 0) };
  }

  private async collect(): Promise<{ boards: BoardCollect[]; edge: EdgeCollect; auditor: AuditorCollect }> {
    const [boards, edge, auditor] = await Promise.all([
      Promise.all(this.hosts.map((h) => h.call<BoardCollect>('collect'))),
      (this.edge as WorkerProcess).call<EdgeCollect>('collect'),
      (this.auditor as WorkerProcess).call<AuditorCollect>('collect'),
    ]);
    return { boards, edge, auditor };
  }

  /**
   * The ledger's CPU time (ms) from /proc: the embedded ledger's process, or with Fabric the
   * local processes named by `ledgerPids` (peer, orderer, chaincode server); null when none can be read.
   */
  private ledgerCpuMs(): number | null {
    const pids = this.ledgerProc?.pid !== undefined ? [this.ledgerProc.pid] : (this.o.ledgerPids ?? []);
    let ms = 0;
    for (const pid of pids) {
      const s = cpuSeconds(pid);
      if (s === undefined) return null;
      ms += s * 1000;
    }
    return pids.length === 0 ? null : ms;
  }

  async stop(): Promise<void> {
    await Promise.all(this.hosts.map((h) => h.stop()));
    await this.edge?.stop();
    await this.spareEdge?.stop();
    await this.auditor?.stop();
    await this.aa?.close();
    const p = this.ledgerProc;
    if (p && p.exitCode === null) {
      const gone = new Promise<void>((r) => p.once('exit', () => r()));
      p.kill('SIGTERM');
      const t = setTimeout(() => p.kill('SIGKILL'), 10_000);
      await gone;
      clearTimeout(t);
    }
  }
}

/** Starts `provenant ledger start` on a free port; resolves with its URL once it listens. */
async function startLedgerProcess(db: string, tokenFile: string): Promise<{ proc: ChildProcess; url: string }> {
  const proc = spawn(
    process.execPath,
    [
      ...(process.env['PROVENANT_EVAL_PROFILE'] ? ['--cpu-prof', `--cpu-prof-dir=${process.env['PROVENANT_EVAL_PROFILE']}`] : []),
      BIN,
      'ledger',
      'start',
      '--db',
      db,
      '--port',
      '0',
      '--token-file',
      tokenFile,
      '--log-level',
      'warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let err = '';
  const url = await new Promise<string>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`the ledger did not start within 120 s: ${err}`)), 120_000);
    proc.stderr?.on('data', (b: Buffer) => {
      err += b.toString();
      const m = /listening on (http:\/\/\S+)/.exec(err);
      if (m) {
        clearTimeout(t);
        resolve(m[1] as string);
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(t);
      reject(new Error(`the ledger exited (${String(code)}): ${err}`));
    });
  });
  return { proc, url };
}

/** Latency distribution of `xs` (ms). */
export function dist(xs: number[]): Dist {
  if (xs.length === 0) return { n: 0, mean: NaN, p50: NaN, p99: NaN, max: NaN };
  const s = [...xs].sort((a, b) => a - b);
  const q = (f: number): number => s[Math.min(s.length - 1, Math.floor(f * s.length))] as number;
  const r = (v: number): number => Math.round(v * 100) / 100;
  return {
    n: s.length,
    mean: r(s.reduce((a, b) => a + b, 0) / s.length),
    p50: r(q(0.5)),
    p99: r(q(0.99)),
    max: r(s[s.length - 1] as number),
  };
}

function summarise(
  p: PointSpec,
  tA: number,
  tB: number,
  c: { boards: BoardCollect[]; edge: EdgeCollect; auditor: AuditorCollect },
  wall: number,
  ledgerCpuMs: number | null,
  windowCpu: WindowCpu,
): PointResult {
  const secs = (tB - tA) / 1000;
  const inWin = (t: number): boolean => t >= tA && t < tB;
  const sent = new Map<string, number>();
  let nacks = 0;
  let boardCpu = 0;
  let framesInWin = 0;
  for (const b of c.boards) {
    for (const [k, t] of b.sent) {
      if (!sent.has(k)) sent.set(k, t);
      if (t >= tA && t < tB) framesInWin++;
    }
    nacks += b.nacks;
    boardCpu += b.cpuMs;
    if (b.uncaught.length > 0) throw new Error(`a board's firmware threw: ${b.uncaught[0]}`);
  }
  const stored = new Map(c.edge.stored);
  const committed = new Map(c.edge.committed);
  const answered = new Map(c.auditor.answered);
  const s1: number[] = [];
  const s2: number[] = [];
  const s3: number[] = [];
  const tStored: number[] = [];
  const tCommitted: number[] = [];
  const tAnswered: number[] = [];
  let nSent = 0;
  for (const [k, t0] of sent) {
    if (!inWin(t0)) continue;
    nSent++;
    // Each process notes its time after the fact (the edge's stored mark runs after the outbox
    // resolves, which may be after the commit listener; the edge notes a commit when the ledger's
    // answer reaches it, which may be after the auditor, following the ledger's events, answered):
    // a later stage's time bounds an earlier one's, so the times are ordered, the stages are never
    // negative and add up to the response time.
    const t3 = answered.get(k);
    const a2 = committed.get(k);
    const t2 = a2 !== undefined && t3 !== undefined ? Math.min(a2, t3) : a2;
    const a1 = stored.get(k);
    const t1 = a1 !== undefined && t2 !== undefined ? Math.min(a1, t2) : a1;
    if (t1 !== undefined) tStored.push(t1 - t0);
    if (t2 !== undefined) tCommitted.push(t2 - t0);
    if (t3 !== undefined) tAnswered.push(t3 - t0);
    if (t1 !== undefined && t2 !== undefined && t3 !== undefined) {
      s1.push(t1 - t0);
      s2.push(t2 - t1);
      s3.push(t3 - t2);
    }
  }
  const committedInWin = c.edge.committed.filter(([, t]) => inWin(t)).length;
  const txs = c.edge.txs.filter(([t]) => inWin(t));
  const txReadings = txs.reduce((a, [, n]) => a + n, 0);
  const totalCommitted = c.edge.committed.length;
  const r1 = (v: number): number => Math.round(v * 10) / 10;
  const perReading = (ms: number): number => (totalCommitted === 0 ? NaN : r1((ms * 1000) / totalCommitted));
  return {
    nodes: p.nodes,
    ratePerNode: p.rate,
    boards: p.nodes * boardsPerNode(p.rate),
    measureS: r1(secs),
    offeredPerS: r1(nSent / secs),
    committedPerS: r1(committedInWin / secs),
    txPerS: r1(txs.length / secs),
    readingsPerTx: txs.length === 0 ? 0 : r1(txReadings / txs.length),
    rejected: c.edge.rejected,
    nacks,
    resentPerS: r1((framesInWin - nSent) / secs),
    latency: {
      stored: dist(tStored),
      committed: dist(tCommitted),
      answered: dist(tAnswered),
      stages: { boardToStored: dist(s1), storedToCommitted: dist(s2), committedToAnswer: dist(s3) },
    },
    reached: { sent: nSent, stored: tStored.length, committed: tCommitted.length, answered: tAnswered.length },
    verdicts: c.auditor.verdicts,
    cpuShare: {
      edge: Math.round((c.edge.cpuMs / 1000 / wall) * 1000) / 1000,
      ledger: ledgerCpuMs === null ? null : Math.round((ledgerCpuMs / 1000 / wall) * 1000) / 1000,
      auditor: Math.round((c.auditor.cpuMs / 1000 / wall) * 1000) / 1000,
      boards: Math.round((boardCpu / 1000 / wall) * 1000) / 1000,
    },
    edgeCpuUsPerReading: totalCommitted === 0 ? NaN : r1((c.edge.cpuMs * 1000) / totalCommitted),
    cpuUsPerReading: {
      edge: perReading(c.edge.cpuMs),
      ledger: ledgerCpuMs === null ? null : perReading(ledgerCpuMs),
      auditor: perReading(c.auditor.cpuMs),
      boards: perReading(boardCpu),
    },
    windowCpuUsPerReading: ((): PointResult['windowCpuUsPerReading'] => {
      const per = (ms: number): number => (committedInWin === 0 ? NaN : r1((ms * 1000) / committedInWin));
      return {
        edge: per(windowCpu.edge),
        ledger: windowCpu.ledger === null ? null : per(windowCpu.ledger),
        auditor: per(windowCpu.auditor),
        boards: per(windowCpu.boards),
        system: windowCpu.ledger === null ? null : per(windowCpu.edge + windowCpu.ledger + windowCpu.auditor),
      };
    })(),
    rejectedBy: c.edge.rejectedBy,
    edgeRssMiB: r1(c.edge.rssMiB),
    wallS: r1(wall),
    load: r1(loadavg()[0] ?? NaN),
  };
}

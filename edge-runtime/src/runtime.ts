/**
 * The edge runtime: one object that owns the outbox, the forwarder, the partial issuer, the
 * traffic monitor, the metrics and one device session per board link, and implements the
 * SessionHost the sessions talk to. `provenant edge` and `provenant demo` build one of these; the
 * HTTP API reads from it.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { CONTRACTS, type LedgerClient } from '../../ledger-bridge/client.js';
import { ready as bbsReady, parsePolicy, type Policy } from '../../shared/crypto/index.js';
import type { BoardLink } from './links/link.js';
import { errorMessage, silentLog, type Log } from './log.js';
import { EdgeMetrics } from './metrics.js';
import { Forwarder, type ForwarderOptions } from './outbox/forwarder.js';
import { GroupCommit } from './outbox/group-commit.js';
import { Outbox, type OutboxItem, type PutStatus, type SignatureItem, type SignaturePutStatus } from './outbox/outbox.js';
import type { CredentialStore } from './session/credentials.js';
import type { ChallengeCodec, SessionHost, SessionProfile, TrafficSink } from './session/host.js';
import { PartialIssuer } from './session/partials.js';
import { DeviceSession } from './session/session.js';
import { TrafficMonitor, type TrafficOptions, type TrafficStatus } from './traffic/monitor.js';

/** Longest wait for the registry's answer at a HELLO (ms). */
export const REVOCATION_CHECK_MS = 2000;

/** What the runtime needs to start. */
export interface EdgeRuntimeOptions {
  readonly edgeId: string;
  /** Outbox SQLite file. */
  readonly outboxPath: string;
  readonly ledger: LedgerClient;
  readonly credentials: CredentialStore;
  /** The policy Υ the edge proves in each partial. */
  readonly policy: Policy;
  readonly epochMs?: number;
  readonly profile?: { intervalMs: number; maxPerMinute?: number; burst?: number; slack?: number };
  readonly outbox?: { maxPending?: number; synchronous?: 'FULL' | 'NORMAL'; retainCommittedMs?: number };
  readonly forwarder?: Omit<ForwarderOptions, 'log' | 'clock'>;
  readonly traffic?: TrafficOptions | false;
  readonly challengeCodec?: ChallengeCodec;
  readonly log?: Log;
  readonly clock?: () => number;
}

/** Per-device view kept in memory for the API. */
export interface DeviceView {
  readonly deviceId: string;
  /**
   * The configured board name of the link it was last seen on (boards[].name), if any; kept in the
   * outbox (device_names) so it shows between sessions and after a restart while the board is away.
   */
  name: string | null;
  link: string | null;
  linkState: string;
  sessionState: string;
  firmware: string | null;
  bootCount: number | null;
  lastSeenAt: number | null;
  lastSeq: number | null;
  received: number;
  acked: number;
  committed: number;
  rejected: Record<string, number>;
  lastStatus: { code: number; value: number; text: string } | null;
}

/** A board whose HELLO this edge refused (unknown device, bad credential). */
export interface RefusedBoard {
  readonly deviceId: string;
  readonly link: string;
  readonly reason: string;
  count: number;
  readonly firstAt: number;
  lastAt: number;
}

/** How many judged traffic windows the runtime keeps per device (for the console's chart). */
export const TRAFFIC_HISTORY = 120;

/** The running edge. */
export class EdgeRuntime implements SessionHost {
  readonly edgeId: string;
  readonly log: Log;
  readonly clock: () => number;
  readonly metrics = new EdgeMetrics();
  readonly credentials: CredentialStore;
  readonly partials: PartialIssuer;
  readonly profile: SessionProfile;
  readonly traffic: TrafficSink;
  readonly monitor: TrafficMonitor | undefined;
  readonly challengeCodec: ChallengeCodec | undefined;
  readonly outbox: Outbox;
  readonly forwarder: Forwarder;
  readonly ledger: LedgerClient;
  private readonly intake: GroupCommit;
  private readonly sessions = new Map<string, DeviceSession>();
  private readonly devices = new Map<string, DeviceView>();
  private readonly refused = new Map<string, RefusedBoard>();
  private readonly linkNames = new Map<string, string>();
  private readonly trafficWindows = new Map<string, TrafficStatus[]>();
  /** Devices known to be revoked: from the registry at HELLO, or the ledger refusing a reading REVOKED. */
  private readonly revokedDevices = new Set<string>();
  private pruneTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  private constructor(options: EdgeRuntimeOptions, outbox: Outbox) {
    this.edgeId = options.edgeId;
    this.log = options.log ?? silentLog;
    this.clock = options.clock ?? Date.now;
    this.credentials = options.credentials;
    this.ledger = options.ledger;
    this.outbox = outbox;
    this.challengeCodec = options.challengeCodec;
    const p = options.profile ?? { intervalMs: 1000 };
    const maxPerMinute = p.maxPerMinute ?? 0;
    const nominal = maxPerMinute > 0 ? maxPerMinute : 60_000 / p.intervalMs;
    this.profile = {
      intervalMs: p.intervalMs,
      maxPerMinute,
      ratePerMinute: nominal * (1 + (p.slack ?? 0.25)),
      burst: p.burst ?? 16,
    };
    this.partials = new PartialIssuer({
      edgeId: this.edgeId,
      policy: options.policy,
      epochMs: options.epochMs ?? 3_600_000,
      outbox,
      clock: this.clock,
    });
    this.intake = new GroupCommit(outbox, this.clock);
    this.forwarder = new Forwarder(outbox, options.ledger, { ...options.forwarder, log: this.log, clock: this.clock });
    if (options.traffic) {
      this.monitor = new TrafficMonitor(options.traffic, options.ledger, this.metrics, this.log, this.clock);
      this.traffic = this.monitor;
      this.monitor.onJudged((deviceId, status) => {
        const list = this.trafficWindows.get(deviceId) ?? [];
        // A site device's window is judged twice (provisional, then final by the site step): the final replaces it.
        let same = list.length - 1;
        while (same >= 0 && (list[same] as TrafficStatus).window !== status.window) same--;
        if (same >= 0) list[same] = status;
        else list.push(status);
        if (list.length > TRAFFIC_HISTORY) list.splice(0, list.length - TRAFFIC_HISTORY);
        this.trafficWindows.set(deviceId, list);
      });
    } else {
      this.traffic = { arrival: () => undefined, duplicate: () => undefined, frameErrors: () => undefined, rateLimited: () => undefined };
    }
    this.metrics.outboxCapacity.set(outbox.capacity);
    this.metrics.outboxDepth.set(outbox.depth);
    this.metrics.ledgerUp.set(1);
    this.forwarder.onSettled((s) => {
      const now = this.clock();
      this.metrics.committed.inc(s.committed.length);
      this.metrics.submitLatency.observe(s.latencyMs / 1000);
      if (s.conflicts > 0) this.metrics.ledgerConflicts.inc(s.conflicts);
      for (const row of s.committed) {
        this.metrics.commitLatency.observe(Math.max(0, now - row.submission.receivedAt) / 1000);
        const v = this.devices.get(row.deviceId);
        if (v) v.committed += 1;
      }
      for (const r of s.rejected) {
        this.metrics.rejected.inc({ reason: r.reason, stage: 'ledger' });
        const v = this.devices.get(r.row.deviceId);
        if (v) v.rejected[r.reason] = (v.rejected[r.reason] ?? 0) + 1;
        if (r.reason === 'REVOKED') this.markRevoked(r.row.deviceId, 'the ledger refused its reading: REVOKED');
      }
      this.metrics.outboxDepth.set(this.outbox.depth);
      this.metrics.ledgerUp.set(1);
    });
  }

  /** Opens the outbox, loads BBS, and starts forwarding and traffic windows. */
  static async start(options: EdgeRuntimeOptions): Promise<EdgeRuntime> {
    parsePolicy(options.policy);
    mkdirSync(dirname(options.outboxPath), { recursive: true });
    const outbox = await Outbox.open({ path: options.outboxPath, ...options.outbox });
    await bbsReady();
    const rt = new EdgeRuntime(options, outbox);
    for (const id of rt.credentials.deviceIds()) {
      rt.viewOf(id);
      rt.monitor?.watch(id);
    }
    // Names (and links) of the boards seen before, so /devices names a device while its board is away.
    for (const known of outbox.deviceNames()) {
      const v = rt.viewOf(known.deviceId);
      v.name = known.name;
      v.link = known.link;
    }
    rt.forwarder.start();
    rt.monitor?.start();
    const retain = options.outbox?.retainCommittedMs ?? 24 * 3_600_000;
    rt.pruneTimer = setInterval(
      () => {
        try {
          rt.outbox.prune(rt.clock() - retain);
        } catch (err) {
          rt.log.warn({ err: errorMessage(err) }, 'outbox prune failed');
        }
      },
      Math.min(retain, 3_600_000),
    );
    rt.pruneTimer.unref?.();
    rt.log.info({ outbox: options.outboxPath, pending: outbox.depth, devices: rt.credentials.deviceIds().length }, 'edge runtime started');
    return rt;
  }

  /** Attaches a board link (with its configured board name): a session listens to it, and the link is opened (retrying in the background). */
  async attach(link: BoardLink, options: { name?: string } = {}): Promise<DeviceSession> {
    if (options.name !== undefined) this.linkNames.set(link.id, options.name);
    const session = new DeviceSession(link, this);
    this.sessions.set(link.id, session);
    this.metrics.setLinkState(link.id, link.state);
    let previous = link.state;
    // One line per outage and one per recovery: a link that keeps failing to (re)open logs its
    // retries at debug level, not a WARN every backoff step (each step is still in the metrics).
    let down = false;
    let opened = false;
    link.onState((state, detail) => {
      this.metrics.setLinkState(link.id, state);
      if (state === 'reconnecting' && previous === 'open') this.metrics.linkDrops.inc({ link: link.id });
      const was = previous;
      previous = state;
      const id = session.deviceId;
      if (id) {
        const v = this.viewOf(id);
        v.linkState = state;
      }
      const fields = { link: link.id, state, detail };
      if (state === 'open') {
        this.log.info(fields, down && opened ? 'board link back' : 'board link open');
        down = false;
        opened = true;
      } else if (state === 'failed') {
        this.log.error(fields, 'board link failed; not retrying');
      } else if (state === 'closed') {
        this.log.info(fields, 'board link closed');
      } else if (state === 'reconnecting' && !down) {
        down = true;
        this.log.warn(fields, was === 'open' ? 'board link lost; reconnecting' : 'board link not available; retrying');
      } else {
        this.log.debug(fields, 'board link state');
      }
    });
    try {
      await link.open();
    } catch (err) {
      // Already logged once by the state listener above ('board link not available').
      this.log.debug({ link: link.id, err: errorMessage(err) }, 'board link did not open; retrying in the background');
    }
    return session;
  }

  /** Every session, by link id. */
  allSessions(): DeviceSession[] {
    return [...this.sessions.values()];
  }

  /** The session currently serving a device (the last one that said HELLO). */
  sessionOf(deviceId: string): DeviceSession | undefined {
    let found: DeviceSession | undefined;
    for (const s of this.sessions.values()) if (s.deviceId === deviceId && s.state === 'ready') found = s;
    return found;
  }

  /**
   * Marks a device revoked: its open sessions send NACK REVOKED (the board stops sampling), its
   * HELLOs are answered NACK REVOKED and its readings are no longer taken. Idempotent.
   */
  markRevoked(deviceId: string, why: string): void {
    if (this.revokedDevices.has(deviceId)) return;
    this.revokedDevices.add(deviceId);
    this.log.warn({ deviceId, why }, 'device revoked: its readings are refused from now on');
    const v = this.devices.get(deviceId);
    if (v) v.sessionState = 'revoked';
    for (const s of this.sessions.values()) if (s.deviceId === deviceId) void s.revoked();
  }

  /**
   * Asks the registry whether a device is revoked (at each HELLO), waiting at most
   * REVOCATION_CHECK_MS: a ledger that cannot answer in time changes nothing (the ledger still
   * refuses a revoked device's readings, and the edge learns it from that).
   */
  async checkRevocation(deviceId: string): Promise<void> {
    if (this.revokedDevices.has(deviceId) || this.stopped) return;
    let timer: NodeJS.Timeout | undefined;
    const lookup = this.ledger
      .evaluate({ contract: CONTRACTS.deviceRegistration, fn: 'get', args: [deviceId] })
      .then((bytes) => {
        const record = JSON.parse(new TextDecoder().decode(bytes)) as { status?: unknown };
        if (record.status === 'revoked') this.markRevoked(deviceId, 'the registry lists it as revoked');
      })
      .catch((err: unknown) => {
        this.log.debug({ deviceId, err: errorMessage(err) }, 'registry lookup failed; the ledger still refuses revoked readings');
      });
    await Promise.race([lookup, new Promise<void>((r) => (timer = setTimeout(r, REVOCATION_CHECK_MS)))]);
    clearTimeout(timer);
  }

  /** Devices known to this edge (credentials) or seen on a link, sorted. */
  deviceViews(): DeviceView[] {
    return [...this.devices.values()].sort((a, b) => (a.deviceId < b.deviceId ? -1 : a.deviceId > b.deviceId ? 1 : 0));
  }

  /** One device's view, if known. */
  deviceView(deviceId: string): DeviceView | undefined {
    return this.devices.get(deviceId);
  }

  /** The configured board name of a link, if any. */
  boardName(linkId: string): string | undefined {
    return this.linkNames.get(linkId);
  }

  /** Boards whose HELLO was refused, newest first (one entry per device and link). */
  refusedBoards(): RefusedBoard[] {
    return [...this.refused.values()].sort((a, b) => b.lastAt - a.lastAt);
  }

  /** The last judged traffic windows of a device, oldest first (at most TRAFFIC_HISTORY). */
  trafficHistory(deviceId: string): readonly TrafficStatus[] {
    return this.trafficWindows.get(deviceId) ?? [];
  }

  /** Stops sessions, links, the forwarder and the traffic monitor; closes the outbox. Idempotent. */
  async stop(options: { closeLinks?: boolean } = {}): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.pruneTimer) clearInterval(this.pruneTimer);
    for (const s of this.sessions.values()) {
      s.dispose();
      if (options.closeLinks !== false) await s.link.close().catch(() => undefined);
    }
    await Promise.all([...this.sessions.values()].map((s) => s.idle()));
    this.intake.flush();
    await this.forwarder.stop();
    await this.monitor?.stop();
    this.outbox.close();
    this.log.info({}, 'edge runtime stopped');
  }

  // ---- SessionHost

  store(item: OutboxItem): Promise<PutStatus> {
    return this.intake.put(item).then((status) => {
      if (status === 'stored') {
        this.metrics.outboxDepth.set(this.outbox.depth);
        this.forwarder.kick();
      }
      return status;
    });
  }

  storeSignature(item: SignatureItem): Promise<SignaturePutStatus> {
    // Pending readings are committed first, so the body never overtakes the readings it signs.
    this.intake.flush();
    const status = this.outbox.putSignature(item, this.clock());
    if (status === 'stored') this.forwarder.kick();
    return Promise.resolve(status);
  }

  outboxHas(deviceId: string, seq: number, dataHash: string): boolean {
    return this.outbox.has(deviceId, seq, dataHash);
  }

  isRevoked(deviceId: string): boolean {
    return this.revokedDevices.has(deviceId);
  }

  liveSessionElsewhere(deviceId: string, session: DeviceSession): DeviceSession | undefined {
    for (const s of this.sessions.values()) {
      if (s !== session && s.deviceId === deviceId && s.state === 'ready' && s.link.state === 'open') return s;
    }
    return undefined;
  }

  sessionReady(session: DeviceSession, firstHello: boolean): void {
    const id = session.deviceId as string;
    const v = this.viewOf(id);
    const name = this.linkNames.get(session.link.id);
    if (name !== undefined && (name !== v.name || session.link.id !== v.link)) {
      try {
        this.outbox.putDeviceName({ deviceId: id, name, link: session.link.id, seenAt: this.clock() });
      } catch (err) {
        this.log.warn({ deviceId: id, err: errorMessage(err) }, 'cannot store the board name');
      }
    }
    v.link = session.link.id;
    v.name = name ?? v.name;
    v.linkState = session.link.state;
    v.sessionState = session.state;
    v.firmware = session.lastHello?.fwVersion ?? null;
    v.bootCount = session.lastHello?.bootCount ?? null;
    v.lastSeenAt = this.clock();
    this.monitor?.watch(id);
    this.metrics.sessions.set(this.allSessions().filter((s) => s.state === 'ready').length);
    if (firstHello) this.log.info({ deviceId: id, link: session.link.id }, 'device session opened');
  }

  readingStored(deviceId: string, seq: number, at: number): void {
    const v = this.viewOf(deviceId);
    v.received += 1;
    v.lastSeq = Math.max(v.lastSeq ?? 0, seq);
    v.lastSeenAt = at;
  }

  readingAcked(deviceId: string, seq: number): void {
    void seq;
    this.viewOf(deviceId).acked += 1;
  }

  readingRefused(deviceId: string, seq: number, reason: string): void {
    void seq;
    const v = this.devices.get(deviceId);
    if (v) v.rejected[reason] = (v.rejected[reason] ?? 0) + 1;
  }

  boardStatus(deviceId: string | undefined, code: number, value: number, text: string): void {
    if (deviceId) this.viewOf(deviceId).lastStatus = { code, value, text };
  }

  helloRefused(deviceId: string, link: string, reason: string): void {
    const key = `${deviceId}\u0000${link}`;
    const now = this.clock();
    const r = this.refused.get(key);
    if (r) {
      r.count += 1;
      r.lastAt = now;
    } else {
      if (this.refused.size >= 1000) {
        const oldest = this.refusedBoards().at(-1);
        if (oldest) this.refused.delete(`${oldest.deviceId}\u0000${oldest.link}`);
      }
      this.refused.set(key, { deviceId, link, reason, count: 1, firstAt: now, lastAt: now });
    }
  }

  private viewOf(deviceId: string): DeviceView {
    let v = this.devices.get(deviceId);
    if (!v) {
      v = {
        deviceId,
        name: null,
        link: null,
        linkState: 'unknown',
        sessionState: 'none',
        firmware: null,
        bootCount: null,
        lastSeenAt: null,
        lastSeq: null,
        received: 0,
        acked: 0,
        committed: 0,
        rejected: {},
        lastStatus: null,
      };
      this.devices.set(deviceId, v);
    }
    return v;
  }
}

/**
 * `provenant demo`: the whole system in one process — an embedded ledger running the four
 * contracts (or, with `ledger: { type: 'fabric' }`, the operator's Fabric network), an attribute
 * authority that configures it and enrolls N devices (registration + K_IoT deposit), the edge
 * runtime, and N simulated boards running the BUILT firmware bundle in node:vm, each on its own
 * serial link (SerialLink over the simulated boards' serialport binding). Live progress, then a
 * summary that verifies a sample of readings end to end through the auditor; the summary's last
 * line is one JSON object (summary.ts).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CONTRACTS, type LedgerClient } from '../ledger-bridge/client.js';
import type { ProofChecker } from '../ledger-bridge/auditor/auditor.js';
import { ProvenantError } from '../shared/errors.js';
import type { Issuer, Policy } from '../shared/crypto/index.js';
import { fromHex, toHex } from '../shared/encoding/hex.js';
import { enrollDevice, ledgerKeys, parsePolicy, ready, setup, sha256 } from '../shared/crypto/index.js';
import { SerialLink } from '../edge-runtime/src/links/serial-link.js';
import { errorMessage, silentLog, type Log } from '../edge-runtime/src/log.js';
import { EdgeRuntime } from '../edge-runtime/src/runtime.js';
import { wireChallengeCodec } from '../edge-runtime/src/session/challenge-codec.js';
import { CredentialStore } from '../edge-runtime/src/session/credentials.js';
import { forge, replay, tamper, type AttackName } from './attacks.js';
import { judgeAttack } from './judge.js';
import { PipeLink } from './pipe-link.js';
import { RogueBoard } from './rogue-board.js';
import { summaryLine, type DemoSummary } from './summary.js';
import { TapLink } from './tap-link.js';
import { UnpluggableBinding } from './unplug-binding.js';

/** Demo settings. */
export interface DemoOptions {
  readonly devices: number;
  /** Readings per second per board. */
  readonly rate: number;
  /** Seconds to run; undefined = until `signal` aborts. */
  readonly durationS: number | undefined;
  readonly attack?: AttackName;
  /** Keep data here instead of a temp dir removed at the end. */
  readonly dataDir?: string;
  /** Traffic-profile window (ms). Default 2000. */
  readonly windowMs?: number;
  /**
   * Boards sign their epochs with LMS (issue 16): the firmware built with epochSignatures (its
   * raised size budget: firmware/boards.ts EPOCH_SIGNATURES_SIZE_BUDGET), 4 s epochs, the
   * authority registering each board's key set 0 once the board made it. Default: on without
   * --attack, off with one.
   */
  readonly epochSignatures?: boolean;
  /** Readings the auditor verifies at the end. Default 20. */
  readonly verifySample?: number;
  /** Where human lines go (the CLI: stdout). */
  readonly out: (line: string) => void;
  /** 'tty': one refreshing line; 'lines': a line every 5 s; 'none'. */
  readonly progress: 'tty' | 'lines' | 'none';
  readonly signal?: AbortSignal;
  readonly log?: Log;
  /** Run on a Fabric network instead of an embedded ledger (see DemoFabricLedger). */
  readonly ledger?: DemoFabricLedger;
  /**
   * The web consoles: the edge API + console and the auditor + console listen on these ports
   * (default 8080 and 7070; a busy port falls back to a free one; 0: any free port), with one login
   * token (default: random, printed). Omitted or `false`: no servers (`provenant demo` starts them).
   */
  readonly consoles?:
    { readonly host?: string; readonly edgePort?: number; readonly auditorPort?: number; readonly token?: string } | false;
  /** Called once the consoles listen (tests use it to open a browser). */
  readonly onConsoles?: (c: { readonly edgeUrl: string; readonly auditorUrl: string; readonly token: string }) => void;
}

/**
 * The demo on a Fabric network. `config` is a Fabric client config (docs/fabric.md §6) whose
 * identity acts as the attribute authority, the edge and the auditor. Without `issuer` the demo
 * configures the chaincode with a fresh issuer and its own policy (the chaincode must not be
 * configured yet); with `issuer` and `policy` (the authority that configured it, `--authority DIR
 * --policy FILE`) it only registers its simulated devices under them.
 */
export interface DemoFabricLedger {
  readonly type: 'fabric';
  readonly config: string;
  readonly issuer?: Issuer;
  readonly policy?: Policy;
}

/** Listens on `port`, or on a free port when that one is taken. */
async function listenNear(
  app: { listen(o: { host: string; port: number }): Promise<string> },
  host: string,
  port: number,
): Promise<string> {
  try {
    return await app.listen({ host, port });
  } catch (err) {
    if ((err as { code?: string }).code !== 'EADDRINUSE') throw err;
    return app.listen({ host, port: 0 });
  }
}

/** What the demo found, for the CLI and the tests. */
export interface DemoResult {
  readonly summary: DemoSummary;
  readonly attack?: { readonly name: AttackName; readonly detected: boolean; readonly evidence: string };
  readonly linkDrops: number;
  readonly anomalies: number;
  readonly duplicates: number;
}

const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const onAbort = (): void => {
      clearTimeout(t);
      resolve();
    };
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });

async function counterValue(rt: EdgeRuntime, name: string, labels: Record<string, string> = {}): Promise<number> {
  const m = await rt.metrics.registry.getSingleMetric(name)?.get();
  let total = 0;
  for (const v of m?.values ?? []) if (Object.entries(labels).every(([k, x]) => v.labels[k] === x)) total += v.value;
  return total;
}

/** Runs the demo and returns its result (the CLI prints the summary line). */
export async function runDemo(o: DemoOptions): Promise<DemoResult> {
  if (!Number.isInteger(o.devices) || o.devices < 1 || o.devices > 1000)
    throw new RangeError(`--devices must be 1..1000, got ${o.devices}`);
  if (!(o.rate > 0 && o.rate <= 10))
    throw new RangeError(`--rate must be > 0 and ≤ 10 readings/s (the firmware never samples faster than every 100 ms), got ${o.rate}`);
  const log = o.log ?? silentLog;
  const say = o.out;
  const dir = o.dataDir ?? mkdtempSync(join(tmpdir(), 'provenant-demo-'));
  // A --data-dir that does not exist yet is made here: the signing bundle is written into it first.
  if (o.dataDir) mkdirSync(dir, { recursive: true, mode: 0o700 });
  const started = Date.now();

  const { ensureFirmwareBuilt } = await import('../firmware/build.js');
  say('firmware: checking dist/firmware (building it if missing)…');
  await ensureFirmwareBuilt();
  const { startSimBoard, SimBinding } = await import('../hardware/sim/index.js');
  // Off by default under an attack: the attacks' detection (e.g. the rate check) is judged with 1-hour epochs.
  const signing = o.epochSignatures ?? o.attack === undefined;
  let bundlePath: string | undefined;
  if (signing) {
    const { bundleBoard } = await import('../firmware/build.js');
    const { checkBundle } = await import('../firmware/check.js');
    const { EPOCH_SIGNATURES_SIZE_BUDGET, loadBoard } = await import('../firmware/boards.js');
    const profile = { ...loadBoard('LINUX'), epochSignatures: true, sizeBudget: EPOCH_SIGNATURES_SIZE_BUDGET };
    const { text } = await bundleBoard(profile);
    const problems = checkBundle(text, profile).problems;
    if (problems.length > 0) throw new ProvenantError('PROV_ERR_FIRMWARE_BUILD', `LINUX with epoch signatures: ${problems.join('; ')}`);
    bundlePath = join(dir, 'LINUX-epochs.js');
    writeFileSync(bundlePath, text, 'latin1');
    say(`firmware: LINUX with epoch signatures (${text.length} bytes, budget ${EPOCH_SIGNATURES_SIZE_BUDGET})`);
  }
  const { EmbeddedLedger, EmbeddedLedgerClient } = await import('../ledger-bridge/embedded/index.js');
  const { contracts } = await import('../ledger-bridge/contracts/index.js');
  const { Auditor, ProvenanceDb, ProvenanceFollower, embeddedProofChecker } = await import('../ledger-bridge/auditor/index.js');

  // Ledger and authority.
  await ready();
  let aa: LedgerClient;
  let edgeLedger: LedgerClient;
  let auditorLedger: LedgerClient;
  let checkProof: ProofChecker | undefined;
  let closeLedger: () => Promise<void>;
  let ledgerName: string;
  let proofName = 'Merkle inclusion proof';
  const issuer = o.ledger?.issuer ?? setup();
  const policy = o.ledger?.policy ?? parsePolicy({ id: 'plant-3-sensors', anyOf: [{ site: 'plant-3' }] });
  if (o.ledger?.type === 'fabric') {
    const { FabricLedgerClient } = await import('../ledger-bridge/fabric/fabric-client.js');
    const { fabricAwareChecker } = await import('../ledger-bridge/auditor/connect.js');
    const client = await FabricLedgerClient.connect(o.ledger.config);
    aa = edgeLedger = auditorLedger = client;
    checkProof = await fabricAwareChecker();
    closeLedger = () => client.close();
    ledgerName = `the Fabric network (peer ${client.config.peerEndpoint}, channel ${client.config.channel}, chaincode ${client.config.chaincode})`;
    proofName = 'Fabric block proof';
  } else {
    const ledger = await EmbeddedLedger.open({ path: join(dir, 'ledger.db'), contracts });
    aa = new EmbeddedLedgerClient(ledger, 'aa');
    edgeLedger = new EmbeddedLedgerClient(ledger, 'edge-1');
    auditorLedger = new EmbeddedLedgerClient(ledger, 'auditor');
    closeLedger = () => ledger.close();
    ledgerName = `the embedded ledger (${join(dir, 'ledger.db')})`;
  }
  if (o.ledger?.issuer === undefined) {
    try {
      await aa.submit({
        contract: CONTRACTS.deviceRegistration,
        fn: 'configure',
        args: [JSON.stringify({ issuerPk: toHex(issuer.pk), schema: issuer.schema, policies: [policy] })],
      });
    } catch (err) {
      await closeLedger();
      if (/PROV_ERR_ALREADY_CONFIGURED/.test(errorMessage(err)))
        throw new ProvenantError(
          'PROV_ERR_CONFIG',
          'the chaincode is already configured by an attribute authority: pass --authority DIR --policy FILE of that authority, or run the demo on a freshly deployed chaincode name',
          { field: 'authority', cause: err },
        );
      throw err;
    }
  }
  // The edge registry: the edge's ledger identity acts as edge-1, the gateway of every board.
  const edgeWho = JSON.parse(
    new TextDecoder().decode(await edgeLedger.evaluate({ contract: CONTRACTS.deviceRegistration, fn: 'whoami', args: [] })),
  ) as { mspId: string; id: string; edgeId: string };
  if (edgeWho.edgeId !== 'edge-1')
    await aa.submit({
      contract: CONTRACTS.deviceRegistration,
      fn: 'registerEdge',
      args: [JSON.stringify({ edgeId: 'edge-1', mspId: edgeWho.mspId, id: edgeWho.id })],
    });
  const rogueNeeded = o.attack === 'fast-sampling' || o.attack === 'injection';
  const total = o.devices + (rogueNeeded ? 1 : 0);
  const credentials = new CredentialStore(issuer.pk);
  const keys: { deviceId: string; kIoT: Uint8Array }[] = [];
  await Promise.all(
    Array.from({ length: total }, async (_, i) => {
      const deviceId = i < o.devices ? `plant3-t-${String(i + 1).padStart(4, '0')}` : 'plant3-t-rogue';
      const e = enrollDevice(issuer, {
        deviceId,
        site: 'plant-3',
        line: `line-${(i % 4) + 1}`,
        type: 'temperature',
        owner: 'acme',
        fw: '0.1.0',
      });
      try {
        await aa.submit({
          contract: CONTRACTS.deviceRegistration,
          fn: 'register',
          args: [JSON.stringify({ ...e.registration, gatewayId: 'edge-1' })],
          transient: { ...ledgerKeys(sha256, e.device.kIoT) },
        });
      } catch (err) {
        if (/PROV_ERR_DEVICE_EXISTS/.test(errorMessage(err)))
          throw new ProvenantError(
            'PROV_ERR_CONFIG',
            `device ${deviceId} is already registered on this ledger (an earlier demo run?): run the demo on a chaincode it has not run on`,
            { deviceId, cause: err },
          );
        throw err;
      }
      credentials.add(e.credential);
      keys[i] = { deviceId, kIoT: e.device.kIoT };
    }),
  );
  say(`authority: enrolled and registered ${total} devices on ${ledgerName}`);

  // Edge runtime; the provenance database is filled by a follower of the ledger (as in service).
  const intervalMs = Math.max(100, Math.round(1000 / o.rate));
  const windowMs = o.windowMs ?? 2000;
  const rt = await EdgeRuntime.start({
    edgeId: 'edge-1',
    outboxPath: join(dir, 'outbox.db'),
    ledger: edgeLedger,
    credentials,
    policy,
    profile: { intervalMs, burst: 16 },
    forwarder: { batchSize: 500, maxWaitMs: 100 },
    // Short epochs when boards sign them: each new epoch closes a segment, which the board signs.
    ...(signing ? { epochMs: 4_000 } : {}),
    traffic: { windowMs },
    challengeCodec: wireChallengeCodec,
    log,
  });
  const db = await ProvenanceDb.open(join(dir, 'provenance.db'));
  const follower = new ProvenanceFollower({
    ledger: auditorLedger,
    db,
    checkProof: checkProof ?? embeddedProofChecker,
    name: 'demo',
  });
  follower.start();

  // The consoles: the edge API (+ console) and the auditor (+ console), one login token for both.
  const closers: (() => Promise<void>)[] = [];
  if (o.consoles) {
    const c = o.consoles;
    const host = c.host ?? '127.0.0.1';
    const token = c.token ?? randomBytes(18).toString('base64url');
    const { buildAuditorServer } = await import('../ledger-bridge/auditor/http/server.js');
    const auditorApp = await buildAuditorServer({
      ledger: auditorLedger,
      db,
      follower,
      tokens: [token],
      ...(checkProof ? { checkProof } : {}),
    });
    const auditorUrl = await listenNear(auditorApp, host, c.auditorPort ?? 7070);
    closers.push(() => auditorApp.close());
    const { buildApi } = await import('../edge-runtime/src/api/server.js');
    const { RemoteValidator } = await import('../edge-runtime/src/validation/validator.js');
    const edgeApp = await buildApi(rt, {
      token,
      validator: new RemoteValidator(auditorUrl, token, rt.edgeId),
      provenance: { db: db.location, status: () => follower.status() },
    });
    const edgeUrl = await listenNear(edgeApp, host, c.edgePort ?? 8080);
    closers.unshift(() => edgeApp.close());
    say(`console: edge ${edgeUrl}/console · auditor ${auditorUrl}/console · login token ${token}`);
    o.onConsoles?.({ edgeUrl, auditorUrl, token });
  }

  // Boards: the built firmware in node:vm, each on its own serial link.
  const cable = new UnpluggableBinding(SimBinding as never);
  const boards: Awaited<ReturnType<typeof startSimBoard>>[] = [];
  const taps: TapLink[] = [];
  for (let i = 0; i < o.devices; i++) {
    const k = keys[i] as { deviceId: string; kIoT: Uint8Array };
    const sim = await startSimBoard({
      provisioning: {
        deviceId: k.deviceId,
        key: Buffer.from(k.kIoT).toString('base64'),
        intervalMs,
        ...(signing ? { signGapMs: 1000 } : {}),
      },
      link: 'mock',
      ...(bundlePath !== undefined ? { bundlePath } : {}),
    });
    boards.push(sim);
    const tap = new TapLink(
      new SerialLink({ path: sim.path, baudRate: 115200, binding: cable.binding, reconnectInitialMs: 200, reconnectMaxMs: 2000, log }),
    );
    taps.push(tap);
    await rt.attach(tap, { name: `line-${(i % 4) + 1} temp ${String(i + 1).padStart(2, '0')}` });
    // The board booted before its port was open and its first HELLO went nowhere: power-cycle it
    // now that the edge listens, rather than wait for its HELLO retry.
    sim.reboot();
  }
  let rogue: RogueBoard | undefined;
  if (rogueNeeded) {
    const k = keys[o.devices] as { deviceId: string; kIoT: Uint8Array };
    const pipe = new PipeLink('rogue');
    await rt.attach(pipe);
    rogue = new RogueBoard(pipe.board, k.deviceId, k.kIoT);
    rogue.start();
  }
  say(
    `edge: ${o.devices} simulated boards (firmware bundle LINUX) on serial links${rogue ? ' + 1 cloned board (attacker)' : ''}, ${o.rate} readings/s each, traffic window ${windowMs / 1000} s`,
  );
  if (o.durationS === undefined) say('running until interrupted (Ctrl-C for the summary)');

  // The authority registers each board's LMS key (key set 0) once the board has made it from its
  // own randomness: read from the board's Storage, as at a real enrollment.
  const keyRegistration = signing ? registerSigningKeys(boards, keys, aa, say, log) : undefined;

  // The attack, scheduled into the run.
  const durationMs = o.durationS === undefined ? Infinity : o.durationS * 1000;
  // Injection needs a learnt baseline first: the contract judges only after MIN_HISTORY (8) windows.
  const attackAt = o.attack === 'injection' ? 10 * windowMs + 2_000 : Math.min(8_000, durationMs / 3);
  const attackState: { done: boolean; count: number; tamper?: { count: number }; note: string } = { done: false, count: 0, note: '' };
  const victim = taps[0] as TapLink;
  const victimPath = (boards[0] as { path: string }).path;
  const playAttack = async (): Promise<void> => {
    switch (o.attack) {
      case 'forge':
        attackState.count = forge(victim, 10);
        attackState.note = `injected ${attackState.count} READINGs with forged tags for ${[...victim.sent.keys()][0]}`;
        break;
      case 'replay':
        attackState.count = replay(victim, 10);
        attackState.note = `replayed ${attackState.count} captured READING frames`;
        break;
      case 'tamper':
        attackState.tamper = tamper(victim, 3);
        attackState.note = 'rewriting every 3rd reading of the first board in flight (CRC fixed up, tag kept)';
        break;
      case 'fast-sampling':
        if (rogue) rogue.mode = 'fast';
        attackState.note = 'the cloned board now samples 10× faster than its profile';
        break;
      case 'injection':
        if (rogue) rogue.mode = 'inject';
        attackState.note = 'the cloned board now reports temperatures 15 °C too high (valid tags)';
        break;
      case 'unplug':
        cable.unplug(victimPath);
        attackState.note = `pulled the cable of ${victimPath}; plugging it back in 5 s`;
        setTimeout(() => cable.replug(victimPath), 5000);
        break;
      default:
        break;
    }
    attackState.done = true;
    say(`attack ${o.attack}: ${attackState.note}`);
  };

  // Run, with progress. --duration counts from here: setup (firmware check, enrolment, boards)
  // can take seconds on a loaded machine and is not part of the run.
  const running = Date.now();
  let lastAcked = 0;
  let lastTick = Date.now();
  let lastLine = 0;
  while (!o.signal?.aborted && Date.now() - running < durationMs) {
    await sleep(1000, o.signal);
    // Attacks on a board's link wait until that board has sent a few readings (something to capture).
    const victimReady = rogueNeeded || o.attack === 'unplug' || victim.captured.length >= 5;
    if (o.attack && !attackState.done && Date.now() - running >= attackAt && victimReady) await playAttack();
    const acked = await counterValue(rt, 'provenant_edge_readings_acked_total');
    const now = Date.now();
    const perS = ((acked - lastAcked) * 1000) / Math.max(1, now - lastTick);
    lastAcked = acked;
    lastTick = now;
    const committed = await counterValue(rt, 'provenant_edge_readings_committed_total');
    const rejected = await counterValue(rt, 'provenant_edge_readings_rejected_total');
    const anomalies = await counterValue(rt, 'provenant_edge_traffic_profiles_total', { result: 'discrepancy' });
    const line = `t=${Math.round((now - running) / 1000)}s  readings/s=${perS.toFixed(0)}  committed=${committed}  rejected=${rejected}  anomalies=${anomalies}  outbox=${rt.outbox.depth}`;
    if (o.progress === 'tty') process.stdout.write(`\r${line}   `);
    else if (o.progress === 'lines' && now - lastLine >= 5000) {
      say(line);
      lastLine = now;
    }
  }
  if (o.progress === 'tty') process.stdout.write('\n');

  // Stop the boards, let the last frames land, drain the outbox to the ledger.
  say('stopping boards, draining the outbox…');
  // Close no more traffic windows: a window cut short by the boards stopping is not a profile.
  await rt.monitor?.stop();
  rogue?.stop();
  for (const b of boards) b.powerOff();
  await sleep(500);
  await Promise.all(rt.allSessions().map((s) => s.idle()));
  const drainUntil = Date.now() + 30_000;
  while (rt.outbox.depth > 0 && Date.now() < drainUntil) await sleep(100);

  // The boards' last SIG bodies go after their readings.
  keyRegistration?.stop();
  await keyRegistration?.done;
  if (signing) await rt.forwarder.drain().catch(() => undefined);

  // Count, check every acknowledged reading against the ledger, audit a sample end to end.
  const counts = rt.outbox.counts();
  const acknowledged = counts.pending + counts.committed + counts.rejected;
  const rows = allRows(rt);
  let committed = 0;
  for (let i = 0; i < rows.length; i += 200) {
    const chunk = rows.slice(i, i + 200);
    const found = await Promise.all(chunk.map((r) => onLedger(edgeLedger, r.deviceId, r.seq, r.dataHash)));
    committed += found.filter(Boolean).length;
  }
  const rejected: Record<string, number> = {};
  const rej = await rt.metrics.registry.getSingleMetric('provenant_edge_readings_rejected_total')?.get();
  for (const v of rej?.values ?? []) {
    const reason = String(v.labels['reason']);
    rejected[reason] = (rejected[reason] ?? 0) + v.value;
  }
  const lost = Math.max(0, acknowledged - committed - counts.rejected);
  // The follower stores what the ledger committed; wait until it has caught up with the outbox.
  const followUntil = Date.now() + 15_000;
  while ((await db.count()) < counts.committed + counts.rejected && Date.now() < followUntil) await sleep(100);
  const auditor = new Auditor({ ledger: auditorLedger, db, ...(checkProof ? { checkProof } : {}) });
  const sample = pickSample(
    rows.filter((r) => r.state === 'committed'),
    o.verifySample ?? 20,
  );
  let verified = 0;
  let proven: Row | undefined;
  for (const r of sample) {
    const stored = (await db.findBySeq(r.deviceId, r.seq))[0];
    if (!stored) continue;
    try {
      const result = await auditor.check({ deviceId: r.deviceId, at: { seq: r.seq }, data: stored.canonical, tag: fromHex(stored.tag) });
      if (result.genuine) {
        verified += 1;
        proven ??= r;
      }
    } catch (err) {
      log.warn({ err: errorMessage(err) }, 'audit failed');
    }
  }
  const sent = taps.reduce((n, t) => n + t.sentCount(), 0) + (rogue?.sent ?? 0);
  const durationS = Math.round((Date.now() - started) / 100) / 10;
  let independentlyVerifiable = 0;
  if (signing) {
    for (const k of keys.slice(0, o.devices)) {
      try {
        const report = JSON.parse(
          new TextDecoder().decode(
            await auditorLedger.evaluate({ contract: CONTRACTS.dataProvenance, fn: 'signatureReport', args: [k.deviceId] }),
          ),
        ) as { verified: number };
        independentlyVerifiable += report.verified;
      } catch (err) {
        log.warn({ deviceId: k.deviceId, err: errorMessage(err) }, 'no signature report');
      }
    }
    say(
      `epoch signatures: ${independentlyVerifiable} of ${committed} committed readings independently verifiable (board-signed, checkable with public data only)`,
    );
  }
  const summary: DemoSummary = { sent, acknowledged, committed, rejected, lost, verified, independentlyVerifiable, durationS };

  const linkDrops = await counterValue(rt, 'provenant_edge_link_drops_total');
  const anomalies = await counterValue(rt, 'provenant_edge_traffic_profiles_total', { result: 'discrepancy' });
  const duplicates = await counterValue(rt, 'provenant_edge_readings_duplicate_total');
  let attack: DemoResult['attack'];
  if (o.attack)
    attack = {
      name: o.attack,
      ...(await judgeAttack(o.attack, rt, {
        summary,
        attackState,
        linkDrops,
        duplicates,
        rogueId: keys[o.devices]?.deviceId,
        victimState: victim.state,
      })),
    };

  say('');
  say(`sent ${sent}, acknowledged ${acknowledged}, committed ${committed} (each checked on the ledger), lost ${lost}`);
  say(
    `refused: ${
      Object.keys(rejected).length === 0
        ? 'none'
        : Object.entries(rejected)
            .map(([k, v]) => `${k} ${v}`)
            .join(', ')
    }`,
  );
  say(`traffic anomalies: ${anomalies} flagged profile(s); link drops: ${linkDrops}; duplicates re-acknowledged: ${duplicates}`);
  say(`auditor: ${verified} of ${sample.length} sampled readings proven end to end (provenance DB → ledger record → ${proofName})`);
  if (attack) say(`attack ${attack.name}: ${attack.detected ? 'DETECTED' : 'NOT DETECTED'} — ${attack.evidence}`);
  if (o.dataDir && proven) {
    const ledgerArgs = o.ledger?.type === 'fabric' ? `-c ${o.ledger.config}` : `--db ${join(dir, 'ledger.db')}`;
    say(
      `verify one yourself: node bin/provenant.js verify ${ledgerArgs} --device ${proven.deviceId} --seq ${proven.seq} --provenance-db ${join(dir, 'provenance.db')}`,
    );
  }

  for (const close of closers) await close();
  await rt.stop();
  for (const b of boards) await b.stop();
  await follower.stop();
  await db.close();
  await closeLedger();
  if (!o.dataDir) rmSync(dir, { recursive: true, force: true });
  say(summaryLine(summary));
  return { summary, ...(attack ? { attack } : {}), linkDrops, anomalies, duplicates };
}

interface Row {
  readonly deviceId: string;
  readonly seq: number;
  readonly dataHash: string;
  readonly state: string;
}

function allRows(rt: EdgeRuntime): Row[] {
  const out: Row[] = [];
  for (const v of rt.deviceViews()) {
    for (const r of rt.outbox.lastReadings(v.deviceId, 1_000_000))
      out.push({ deviceId: v.deviceId, seq: r.seq, dataHash: r.dataHash, state: r.state });
  }
  return out;
}

async function onLedger(
  client: { evaluate: EdgeRuntime['ledger']['evaluate'] },
  deviceId: string,
  seq: number,
  dataHash: string,
): Promise<boolean> {
  try {
    const bytes = await client.evaluate({ contract: CONTRACTS.dataProvenance, fn: 'get', args: [deviceId, String(seq)] });
    const rec = JSON.parse(new TextDecoder().decode(bytes)) as { dataHash?: string } | { dataHash?: string }[];
    const list = Array.isArray(rec) ? rec : [rec];
    return list.some((x) => x.dataHash === dataHash);
  } catch {
    return false;
  }
}

function pickSample<T>(xs: readonly T[], n: number): T[] {
  const copy = [...xs];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
  }
  return copy.slice(0, n);
}

/**
 * Registers each board's key set 0 (DeviceRegistration:registerSigningKey) as soon as its
 * simulated Storage holds it complete. Runs until every board is registered or `stop()`.
 */
function registerSigningKeys(
  boards: readonly { readonly storage: { get(name: string): Buffer | undefined } }[],
  keys: readonly { readonly deviceId: string }[],
  aa: LedgerClient,
  say: (line: string) => void,
  log: Log,
): { stop(): void; done: Promise<void> } {
  let stopped = false;
  const done = (async () => {
    const { keyFileName, keyFilePublicKey } = await import('../firmware/src/keyfile.js');
    const pending = new Set(boards.map((_, i) => i));
    const started = Date.now();
    while (!stopped && pending.size > 0) {
      for (const i of [...pending]) {
        const file = boards[i]?.storage.get(keyFileName(0));
        const pub = file ? keyFilePublicKey(new Uint8Array(file)) : undefined;
        if (pub === undefined) continue;
        const deviceId = (keys[i] as { deviceId: string }).deviceId;
        try {
          await aa.submit({ contract: CONTRACTS.deviceRegistration, fn: 'registerSigningKey', args: [deviceId, toHex(pub)] });
          pending.delete(i);
        } catch (err) {
          log.warn({ deviceId, err: errorMessage(err) }, 'could not register the signing key');
        }
      }
      if (pending.size === 0)
        say(
          `authority: registered ${boards.length} boards' LMS keys (made on the boards) in ${Math.round((Date.now() - started) / 100) / 10} s`,
        );
      else await sleep(250);
    }
  })();
  return {
    stop: () => {
      stopped = true;
    },
    done,
  };
}

/**
 * Test helpers for the edge runtime:
 * - MemoryLink: an in-memory BoardLink pair (a stand-in for the cable; the real SerialLink is
 *   tested separately against MockBinding and a socat pty);
 * - ScriptedBoard: a stand-in for a board, speaking the real wire protocol with real tags
 *   (complete() under K_IoT), a resend ring and cumulative ACKs as docs/wire-protocol.md says;
 *   the firmware bundle itself runs in H3's simulated board;
 * - ledgerFixture: a real embedded ledger running the real contracts, configured by a real
 *   attribute authority that enrolled and registered N devices.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { contracts } from '../../ledger-bridge/contracts/index.js';
import { EmbeddedLedgerClient } from '../../ledger-bridge/embedded/index.js';
import { EmbeddedLedger } from '../../ledger-bridge/embedded/ledger.js';
import { findIdentity } from '../../ledger-bridge/embedded/identity.js';
import { CONTRACTS } from '../../ledger-bridge/client.js';
import { complete } from '../../shared/crypto/complete.js';
import {
  deviceChallengeResponse,
  enrollDevice,
  parsePolicy,
  ready,
  setup,
  type Credential,
  type Issuer,
  type Policy,
} from '../../shared/crypto/index.js';
import { sha256 } from '../../shared/crypto/sha256.js';
import { encodeReading } from '../../shared/encoding/reading.js';
import type { Reading } from '../../shared/types.js';
import { encodeFrame, FrameDecoder } from '../../shared/wire/frame.js';
import { decodeMessage, encodeMessage, type WireMessage } from '../../shared/wire/union.js';
import { nackIsRetryable } from '../../shared/wire/messages.js';
import { Listeners, type BoardLink, type LinkState, type Unsubscribe } from '../../edge-runtime/src/links/link.js';
import { ProvenantError } from '../../shared/errors.js';
import { ledgerKeys } from '../../shared/crypto/domains.js';
import { CredentialStore } from '../../edge-runtime/src/session/credentials.js';
import { EdgeRuntime } from '../../edge-runtime/src/runtime.js';

/** A fresh temp directory, removed by the returned cleanup. */
export function tempDir(prefix = 'provenant-edge-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** In-memory BoardLink (edge end) with a board end. */
export class MemoryLink implements BoardLink {
  readonly id: string;
  state: LinkState = 'closed';
  private readonly data = new Listeners<[Uint8Array]>();
  private readonly states = new Listeners<[LinkState, string]>();
  private readonly toBoard = new Listeners<[Uint8Array]>();
  /** Set to drop frames going to the board (simulates a lossy line). */
  dropToBoard: ((bytes: Uint8Array) => boolean) | undefined;

  constructor(name: string) {
    this.id = `memory:${name}`;
  }
  async open(): Promise<void> {
    this.set('open');
  }
  async close(): Promise<void> {
    this.set('closed');
  }
  async write(bytes: Uint8Array): Promise<void> {
    if (this.state !== 'open') throw new ProvenantError('PROV_ERR_LINK_DOWN', `${this.id} is ${this.state}`);
    if (this.dropToBoard?.(bytes)) return;
    const copy = new Uint8Array(bytes);
    setImmediate(() => this.toBoard.emit(() => undefined, copy));
  }
  onData(l: (chunk: Uint8Array) => void): Unsubscribe {
    return this.data.add(l);
  }
  onState(l: (s: LinkState, d: string) => void): Unsubscribe {
    return this.states.add(l);
  }
  /** Board side: bytes to the edge (dropped while the link is not open). */
  fromBoard(bytes: Uint8Array): void {
    if (this.state !== 'open') return;
    const copy = new Uint8Array(bytes);
    setImmediate(() =>
      this.data.emit((e) => {
        throw e;
      }, copy),
    );
  }
  /** Board side: bytes from the edge. */
  onToBoard(l: (bytes: Uint8Array) => void): Unsubscribe {
    return this.toBoard.add(l);
  }
  /** Simulates a pulled cable / plugged back. */
  unplug(): void {
    this.set('reconnecting');
  }
  replug(): void {
    this.set('open');
  }
  private set(s: LinkState): void {
    this.state = s;
    this.states.emit(() => undefined, s, 'memory link');
  }
}

/** A device enrolled by the test authority. */
export interface TestDevice {
  readonly deviceId: string;
  readonly kIoT: Uint8Array;
  readonly credential: Credential;
}

/** Stand-in board: HELLO, PARTIAL, READING with real tags, ring + resend, cumulative ACK. */
export class ScriptedBoard {
  seq: number;
  bootCount = 1;
  readonly bootedAt = Date.now();
  epoch: number | undefined;
  digest: Uint8Array | undefined;
  intervalMs = 0;
  readonly ring = new Map<number, Uint8Array>();
  readonly acked: number[] = [];
  readonly nacks: { seq: number; reason: number }[] = [];
  highestAck = -1;
  partials = 0;
  /** SIG_ACKs received (keySet, q). */
  readonly sigAcks: { keySet: number; q: number }[] = [];
  /** Nonces of the PONGs the edge answered (the edge handles a link's frames in order: a barrier). */
  readonly pongs: number[] = [];
  private readonly decoder = new FrameDecoder();
  private readonly unsub: Unsubscribe;
  private readonly waiters: (() => void)[] = [];
  /** Key the board answers challenges with (its K_IoT; another key plays an impostor); unset: silent. */
  challengeKey: Uint8Array | undefined;

  constructor(
    readonly link: MemoryLink,
    readonly device: TestDevice,
    startSeq = 1,
  ) {
    this.seq = startSeq;
    this.unsub = link.onToBoard((bytes) => {
      for (const f of this.decoder.push(bytes)) {
        if (f.type === 0x0a) {
          // CHALLENGE (0x0a, docs/wire-protocol.md): answer challenge ‖ HMAC(K_chal, label ‖ challenge), K_chal from K_IoT.
          if (this.challengeKey) {
            const response = deviceChallengeResponse(sha256, this.challengeKey, f.payload);
            const payload = new Uint8Array(64);
            payload.set(f.payload, 0);
            payload.set(response, 32);
            this.link.fromBoard(encodeFrame(0x0b, payload));
          }
          continue;
        }
        this.onMessage(decodeMessage(f));
      }
    });
  }

  detach(): void {
    this.unsub();
  }

  send(msg: WireMessage): void {
    this.link.fromBoard(encodeMessage(msg));
  }

  hello(): void {
    this.send({
      kind: 'HELLO',
      deviceId: this.device.deviceId,
      fwVersion: 'test-1',
      fwHash: new Uint8Array(32),
      seq: this.seq,
      bootCount: this.bootCount,
      flags: 0,
      pending: this.ring.size,
      board: 'TEST',
    });
  }

  /** A signed reading (not sent). */
  makeReading(overrides: Partial<Reading> = {}): { reading: Reading; canonical: Uint8Array; tag: Uint8Array } {
    if (this.epoch === undefined || !this.digest) throw new Error('no PARTIAL yet');
    const reading: Reading = {
      deviceId: this.device.deviceId,
      seq: this.seq,
      t: Date.now(),
      epoch: this.epoch,
      partialDigest: this.digest,
      batteryMv: 3000,
      channels: [{ id: 0, scale: -2, value: 2000 + (this.seq % 7) }],
      bootCount: this.bootCount,
      uptimeMs: Date.now() - this.bootedAt,
      ...overrides,
    };
    const canonical = encodeReading(reading);
    return { reading, canonical, tag: complete(sha256, this.device.kIoT, reading) };
  }

  /** Samples once: puts the reading in the ring and sends it. */
  sample(overrides: Partial<Reading> = {}): number {
    const { reading, canonical, tag } = this.makeReading(overrides);
    const frame = encodeMessage({ kind: 'READING', canonical, reading, tag });
    this.ring.set(reading.seq, frame);
    this.seq = reading.seq + 1;
    this.link.fromBoard(frame);
    return reading.seq;
  }

  /** Resends every unacknowledged reading, oldest first. */
  resend(): void {
    for (const seq of [...this.ring.keys()].sort((a, b) => a - b)) this.link.fromBoard(this.ring.get(seq) as Uint8Array);
  }

  /**
   * Resolves when `cond` holds (checked after each frame from the edge), or rejects after timeoutMs
   * (30 s: a ledger commit on a loaded CI worker can take seconds).
   */
  async until(cond: () => boolean, timeoutMs = 30_000): Promise<void> {
    const started = Date.now();
    while (!cond()) {
      if (Date.now() - started > timeoutMs)
        throw new Error(
          `timed out after ${timeoutMs} ms waiting for the edge (highest ACK ${this.highestAck}, ${this.nacks.length} NACKs, ${this.partials} PARTIALs)`,
        );
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 50);
      });
    }
  }

  private onMessage(m: WireMessage): void {
    if (m.kind === 'PARTIAL') {
      this.epoch = m.epoch;
      this.digest = m.partialDigest;
      this.intervalMs = m.intervalMs;
      this.partials += 1;
    } else if (m.kind === 'ACK') {
      this.acked.push(m.seq);
      this.highestAck = Math.max(this.highestAck, m.seq);
      for (const s of [...this.ring.keys()]) if (s <= m.seq) this.ring.delete(s);
    } else if (m.kind === 'NACK') {
      this.nacks.push({ seq: m.seq, reason: m.reason });
      if (!nackIsRetryable(m.reason)) this.ring.delete(m.seq);
    } else if (m.kind === 'PING') {
      this.send({ kind: 'PONG', nonce: m.nonce });
    } else if (m.kind === 'SIG_ACK') {
      this.sigAcks.push({ keySet: m.keySet, q: m.q });
    } else if (m.kind === 'PONG') {
      this.pongs.push(m.nonce);
    }
    for (const w of this.waiters.splice(0)) w();
  }
}

/** The demo/test policy: every enrolled device is at plant-3. */
export const TEST_POLICY: Policy = parsePolicy({ id: 'plant-3', anyOf: [{ site: 'plant-3' }] });

/** A real embedded ledger configured by a real authority, with `n` registered devices. */
export interface LedgerFixture {
  readonly ledger: EmbeddedLedger;
  readonly edgeClient: EmbeddedLedgerClient;
  readonly aaClient: EmbeddedLedgerClient;
  readonly issuer: Issuer;
  readonly devices: TestDevice[];
  close(): Promise<void>;
}

/** Opens a ledger at `path` and enrolls devices `dev-0`..`dev-(n-1)`. */
export async function ledgerFixture(path: string, n: number, options: { unregistered?: number } = {}): Promise<LedgerFixture> {
  await ready();
  const ledger = await EmbeddedLedger.open({ path, contracts, blockTimeoutMs: 5 });
  const aaClient = new EmbeddedLedgerClient(ledger, 'aa');
  const edgeClient = new EmbeddedLedgerClient(ledger, 'edge-1');
  const issuer = setup();
  await aaClient.submit({
    contract: CONTRACTS.deviceRegistration,
    fn: 'configure',
    args: [JSON.stringify({ issuerPk: Buffer.from(issuer.pk).toString('hex'), schema: issuer.schema, policies: [TEST_POLICY] })],
  });
  // The edge registry: identity edge-1 acts as edge-1, the gateway every device is registered to.
  const edgeIdentity = findIdentity(ledger.identities, 'edge-1');
  await aaClient.submit({
    contract: CONTRACTS.deviceRegistration,
    fn: 'registerEdge',
    args: [JSON.stringify({ edgeId: 'edge-1', mspId: edgeIdentity.mspId, id: edgeIdentity.id })],
  });
  const devices: TestDevice[] = [];
  for (let i = 0; i < n + (options.unregistered ?? 0); i++) {
    const e = enrollDevice(issuer, { deviceId: `dev-${i}`, site: 'plant-3', line: 'l1', type: 'temperature', owner: 'acme', fw: '1' });
    if (i < n) {
      await aaClient.submit({
        contract: CONTRACTS.deviceRegistration,
        fn: 'register',
        args: [JSON.stringify({ ...e.registration, gatewayId: 'edge-1' })],
        transient: { ...ledgerKeys(sha256, e.device.kIoT) },
      });
    }
    devices.push({ deviceId: e.device.deviceId, kIoT: e.device.kIoT, credential: e.credential });
  }
  return {
    ledger,
    edgeClient,
    aaClient,
    issuer,
    devices,
    close: () => ledger.close(),
  };
}

/**
 * An edge runtime ('edge-1') on the fixture's ledger with every fixture device's credential, its
 * outbox `<name>.outbox.db` in `dir`, short forwarder timings and no traffic profiles; `extra`
 * overrides any option.
 */
export function startFixtureEdge(
  fx: LedgerFixture,
  dir: string,
  name: string,
  extra: Partial<Parameters<typeof EdgeRuntime.start>[0]> = {},
): Promise<EdgeRuntime> {
  const creds = new CredentialStore(fx.issuer.pk);
  for (const d of fx.devices) creds.add(d.credential);
  return EdgeRuntime.start({
    edgeId: 'edge-1',
    outboxPath: join(dir, `${name}.outbox.db`),
    ledger: fx.edgeClient,
    credentials: creds,
    policy: TEST_POLICY,
    profile: { intervalMs: 100, burst: 50 },
    forwarder: { batchSize: 50, maxWaitMs: 20, retryInitialMs: 50, retryMaxMs: 200 },
    traffic: false,
    ...extra,
  });
}

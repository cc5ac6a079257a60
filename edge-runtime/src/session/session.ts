/**
 * One board's session on one link: HELLO handshake against the credentials this edge holds,
 * PARTIAL per epoch, READING intake with its checks, ACK only after the outbox commit, NACK with
 * a reason otherwise, PING/PONG, STATUS, and the Device Provenance challenge.
 *
 * Checks on a READING, in order (the first failing one answers):
 *   frame CRC and shape       FrameDecoder / decodeMessage      dropped and counted (no seq to NACK)
 *   session                   HELLO done                         NACK NO_PARTIAL (board says HELLO)
 *   device                    reading.deviceId = session's       NACK MALFORMED
 *   registry                  device not revoked                 NACK REVOKED (the board stops)
 *   partial                   digest issued by this edge to this device for reading.epoch
 *                                                                NACK NO_PARTIAL; a reading made
 *                                                                before the HELLO (seq < HELLO's)
 *                                                                under a digest this edge never
 *                                                                issued: NACK STALE_PARTIAL (final)
 *   rate                      token bucket over new readings     NACK RATE (retryable)
 *   outbox                    duplicate → ACK again; replay → NACK REPLAY; full → NACK OUTBOX_FULL
 * The tag is NOT checked here: the edge has no K_IoT. The ledger checks it.
 *
 * HELLO is refused (NACK UNKNOWN_DEVICE, the board backs off) for a device without a usable
 * credential, and for a device that has a live session on another link: a keyless HELLO must not
 * take a device's session over (issue 11, attack 9); once that link drops, the board's next HELLO
 * is accepted. A revoked device's HELLO is answered NACK REVOKED.
 */
import { encodeFrame, FrameDecoder, type FrameStats } from '../../../shared/wire/frame.js';
import { decodeMessage, encodeMessage, type WireMessage } from '../../../shared/wire/union.js';
import {
  NACK_NO_PARTIAL,
  nackIsRetryable,
  SigReassembler,
  STATUS_RING_FULL,
  STATUS_RX_ERRORS,
  type Hello,
  type ReadingMessage,
  type SigFragment,
} from '../../../shared/wire/messages.js';
import { decodeSignatureBody, signatureLeaf, SIG_KIND_EPOCH, SIG_KIND_KEYSET, type SignatureBody } from '../../../shared/crypto/epoch.js';
import { toHex } from '../../../shared/encoding/hex.js';
import { ProvenantError } from '../../../shared/errors.js';
import { EDGE_REASONS, nackFor, type EdgeReason } from '../../../shared/reasons.js';
import { sha256 } from '../../../shared/crypto/sha256.js';
import type { ReadingSubmission } from '../../../shared/records.js';
import type { BoardLink, Unsubscribe } from '../links/link.js';
import { errorMessage, type Log } from '../log.js';
import type { PutStatus, SignaturePutStatus } from '../outbox/outbox.js';
import { AckTracker } from './ack-tracker.js';
import type { SessionHost } from './host.js';
import { TokenBucket } from './token-bucket.js';

/** Edge-side reason labels (metrics, logs, API); shared/reasons.ts maps each to its NACK code and ledger reason. */
export { EDGE_REASONS };

/** Quiet time after refusing a HELLO (ms). */
export const REFUSAL_QUIET_MS = 2000;

/** Where a session is. */
export type SessionState = 'awaiting-hello' | 'ready' | 'refused';

/** A pending Device Provenance challenge. */
interface ChallengeWait {
  readonly challenge: string;
  readonly resolve: (response: Uint8Array) => void;
}

/** The session of the board behind one link. */
export class DeviceSession {
  private decoder = new FrameDecoder();
  private lastStats: FrameStats = { ...this.decoder.stats };
  private stateNow: SessionState = 'awaiting-hello';
  private device: string | undefined;
  private hello: Hello | undefined;
  private ack: AckTracker | undefined;
  private bucket: TokenBucket | undefined;
  private epochTimer: NodeJS.Timeout | undefined;
  private readonly unsubs: Unsubscribe[] = [];
  private readonly challenges: ChallengeWait[] = [];
  private readonly log: Log;
  private lastRefusalAt = -Infinity;
  private readonly sig = new SigReassembler();
  /** Serialises frame handling so ACKs leave in order. */
  private chain: Promise<void> = Promise.resolve();

  constructor(
    readonly link: BoardLink,
    private readonly host: SessionHost,
  ) {
    this.log = host.log.child({ link: link.id });
    this.unsubs.push(link.onData((chunk) => this.onBytes(chunk)));
    this.unsubs.push(
      link.onState((state) => {
        if (state !== 'open') return;
        // A reopened link starts mid-nothing: forget partial frames, wait for a fresh HELLO.
        this.decoder.reset();
      }),
    );
  }

  /** The device id after HELLO. */
  get deviceId(): string | undefined {
    return this.device;
  }

  /** Session state. */
  get state(): SessionState {
    return this.stateNow;
  }

  /** The last HELLO (firmware, boot count...). */
  get lastHello(): Hello | undefined {
    return this.hello;
  }

  /** Frame decoder counters. */
  get frameStats(): FrameStats {
    return { ...this.decoder.stats };
  }

  /** Stops listening to the link. */
  dispose(): void {
    for (const u of this.unsubs.splice(0)) u();
    if (this.epochTimer) clearTimeout(this.epochTimer);
  }

  /** Resolves once every frame received so far is handled (tests, shutdown). */
  idle(): Promise<void> {
    return this.chain;
  }

  /**
   * Sends a Device Provenance challenge and waits for the board's answer. Rejects with
   * PROV_ERR_CHALLENGE_TIMEOUT if the board does not answer in time.
   */
  async challenge(challenge: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
    const codec = this.host.challengeCodec;
    if (!codec) {
      throw new ProvenantError(
        'PROV_ERR_CHALLENGE_UNSUPPORTED',
        `the wire protocol in this build has no challenge frame; see docs/edge.md`,
        { deviceId: this.device },
      );
    }
    if (this.stateNow !== 'ready') {
      throw new ProvenantError('PROV_ERR_NO_SESSION', `device ${this.device ?? '?'} has no open session on ${this.link.id}`, {
        deviceId: this.device,
      });
    }
    const hex = toHex(challenge);
    const answer = new Promise<Uint8Array>((resolve, reject) => {
      const wait: ChallengeWait = { challenge: hex, resolve };
      this.challenges.push(wait);
      const timer = setTimeout(() => {
        const i = this.challenges.indexOf(wait);
        if (i >= 0) this.challenges.splice(i, 1);
        reject(
          new ProvenantError(
            'PROV_ERR_CHALLENGE_TIMEOUT',
            `device ${this.device ?? '?'} did not answer the challenge within ${timeoutMs} ms`,
            {
              deviceId: this.device,
            },
          ),
        );
      }, timeoutMs);
      const original = wait.resolve;
      (wait as { resolve: (r: Uint8Array) => void }).resolve = (r) => {
        clearTimeout(timer);
        original(r);
      };
    });
    const { type, payload } = codec.encode(challenge);
    try {
      await this.link.write(encodeFrame(type, payload));
    } catch (err) {
      this.log.debug({ err: errorMessage(err) }, 'could not send the challenge');
    }
    return answer;
  }

  private onBytes(chunk: Uint8Array): void {
    const frames = this.decoder.push(chunk);
    this.reportDrops();
    for (const frame of frames) {
      const answer = this.host.challengeCodec?.decode(frame);
      if (answer) {
        const hex = toHex(answer.challenge);
        const i = this.challenges.findIndex((c) => c.challenge === hex);
        if (i >= 0) this.challenges.splice(i, 1)[0]?.resolve(answer.response);
        continue;
      }
      let msg: WireMessage;
      try {
        msg = decodeMessage(frame);
      } catch (err) {
        this.host.metrics.framesDropped.inc({ link: this.link.id, kind: 'undecodable' });
        this.host.traffic.frameErrors(this.device, 1);
        this.log.warn({ err: errorMessage(err), type: frame.type }, 'dropped a frame that does not decode');
        continue;
      }
      this.chain = this.chain
        .then(() => this.handle(msg))
        .catch((err: unknown) => {
          this.log.error({ err: errorMessage(err), kind: msg.kind }, 'frame handler failed');
        });
    }
  }

  private reportDrops(): void {
    const s = this.decoder.stats;
    const kinds = ['badCrc', 'oversize', 'malformed', 'badVersion'] as const;
    let total = 0;
    for (const k of kinds) {
      const d = s[k] - this.lastStats[k];
      if (d > 0) {
        this.host.metrics.framesDropped.inc({ link: this.link.id, kind: k }, d);
        total += d;
      }
    }
    if (total > 0) this.host.traffic.frameErrors(this.device, total);
    this.lastStats = { ...s };
  }

  private async handle(msg: WireMessage): Promise<void> {
    switch (msg.kind) {
      case 'HELLO':
        return this.onHello(msg);
      case 'READING':
        return this.onReading(msg);
      case 'PING':
        return this.send({ kind: 'PONG', nonce: msg.nonce });
      case 'STATUS':
        this.onStatus(msg.code, msg.value, msg.text);
        return;
      case 'SIG':
        return this.onSig(msg);
      default:
        this.log.debug({ kind: msg.kind }, 'ignored a frame the edge does not expect');
    }
  }

  /**
   * Refuses a HELLO: state 'refused', counted; answered (and logged) at most once per
   * REFUSAL_QUIET_MS, since an older board says HELLO again at once and answering every time would
   * be a busy loop on the link and a flood in the log.
   */
  private async refuseHello(hello: Hello, reason: EdgeReason, why: string): Promise<void> {
    this.stateNow = 'refused';
    this.host.metrics.helloRefused.inc({ reason });
    this.host.helloRefused?.(hello.deviceId, this.link.id, reason);
    const now = this.host.clock();
    if (now - this.lastRefusalAt < REFUSAL_QUIET_MS) return;
    this.lastRefusalAt = now;
    this.log.warn({ deviceId: hello.deviceId, reason, why }, 'refused HELLO');
    await this.send({ kind: 'NACK', seq: hello.seq, reason: nackFor(reason) });
  }

  /**
   * Tells the board of a revoked device to stop (NACK REVOKED: it stops sampling and reports
   * STATUS STOPPED) and takes no more of its readings. Called by the runtime when it learns of the
   * revocation while this session is open.
   */
  async revoked(): Promise<void> {
    if (this.device === undefined || this.stateNow !== 'ready') return;
    this.stateNow = 'refused';
    this.log.warn({ deviceId: this.device }, 'device revoked: told the board to stop');
    await this.send({ kind: 'NACK', seq: this.hello?.seq ?? 0, reason: nackFor(EDGE_REASONS.REVOKED) });
  }

  private async onHello(hello: Hello): Promise<void> {
    const lookup = this.host.credentials.lookup(hello.deviceId);
    if (!lookup.ok) return this.refuseHello(hello, lookup.problem, lookup.message);
    await this.host.checkRevocation(hello.deviceId);
    if (this.host.isRevoked(hello.deviceId)) {
      this.lastRefusalAt = -Infinity; // a revoked board is always told: it stops at once
      return this.refuseHello(hello, EDGE_REASONS.REVOKED, `device ${hello.deviceId} is revoked`);
    }
    const other = this.host.liveSessionElsewhere(hello.deviceId, this);
    if (other) {
      // A keyless HELLO proves nothing: it must not move the device off the link it is live on.
      return this.refuseHello(
        hello,
        EDGE_REASONS.SESSION_ELSEWHERE,
        `device ${hello.deviceId} has a live session on ${other.link.id}; refused until that link drops`,
      );
    }
    let issued;
    try {
      issued = this.host.partials.current(lookup.credential);
    } catch (err) {
      this.stateNow = 'refused';
      this.host.metrics.helloRefused.inc({ reason: EDGE_REASONS.BAD_CREDENTIAL });
      this.host.helloRefused?.(hello.deviceId, this.link.id, EDGE_REASONS.BAD_CREDENTIAL);
      this.log.warn({ deviceId: hello.deviceId, err: errorMessage(err) }, 'refused HELLO: cannot sign a partial');
      await this.send({ kind: 'NACK', seq: hello.seq, reason: nackFor(EDGE_REASONS.BAD_CREDENTIAL) });
      return;
    }
    const first = this.hello === undefined || this.device !== hello.deviceId;
    this.device = hello.deviceId;
    this.hello = hello;
    this.stateNow = 'ready';
    this.ack = new AckTracker(hello.seq, hello.pending);
    const profile = this.host.profile;
    this.bucket = new TokenBucket(profile.ratePerMinute / 60_000, profile.burst, this.host.clock());
    this.host.sessionReady(this, first);
    this.log.info(
      { deviceId: hello.deviceId, fw: hello.fwVersion, seq: hello.seq, boot: hello.bootCount, pending: hello.pending, epoch: issued.epoch },
      'HELLO accepted',
    );
    await this.sendPartial(issued.epoch, issued.digest);
    this.scheduleEpochRoll();
  }

  private async sendPartial(epoch: number, digest: Uint8Array): Promise<void> {
    const p = this.host.profile;
    await this.send({
      kind: 'PARTIAL',
      epoch,
      partialDigest: digest,
      edgeTimeMs: this.host.clock(),
      intervalMs: p.intervalMs,
      maxPerMinute: p.maxPerMinute,
    });
  }

  private scheduleEpochRoll(): void {
    if (this.epochTimer) clearTimeout(this.epochTimer);
    const wait = this.host.partials.msToNextEpoch(this.host.clock()) + 5;
    this.epochTimer = setTimeout(() => {
      this.chain = this.chain
        .then(async () => {
          const deviceId = this.device;
          if (!deviceId || this.stateNow !== 'ready') return;
          const lookup = this.host.credentials.lookup(deviceId);
          if (!lookup.ok) return;
          const issued = this.host.partials.current(lookup.credential);
          await this.sendPartial(issued.epoch, issued.digest);
          this.scheduleEpochRoll();
        })
        .catch((err: unknown) => this.log.warn({ err: errorMessage(err) }, 'epoch roll failed'));
    }, wait);
    this.epochTimer.unref?.();
  }

  private async onReading(m: ReadingMessage): Promise<void> {
    const r = m.reading;
    this.host.metrics.received.inc();
    if (this.host.isRevoked(r.deviceId) && (r.deviceId === this.device || this.device === undefined)) {
      // Not stored, not forwarded: the board drops it and stops (it may be resending its ring).
      if (this.stateNow === 'ready') this.stateNow = 'refused';
      return this.nack(r.seq, EDGE_REASONS.REVOKED, r.deviceId);
    }
    if (this.stateNow !== 'ready' || !this.device || !this.ack || !this.bucket) {
      return this.nack(r.seq, EDGE_REASONS.NO_SESSION, r.deviceId);
    }
    if (r.deviceId !== this.device) {
      return this.nack(r.seq, EDGE_REASONS.WRONG_DEVICE, r.deviceId);
    }
    const digestHex = toHex(r.partialDigest);
    const issued = this.host.partials.lookup(digestHex);
    if (!issued || issued.deviceId !== r.deviceId) {
      // Made before this session's HELLO (seq below the HELLO's next seq) under a partial this
      // edge never issued — the board's resend ring after an edge lost its outbox, or a board
      // moved here: no resend can make it forwardable (the tag covers the digest). NO_PARTIAL
      // would make the board drop the PARTIAL it holds from us and HELLO again, for each such
      // reading, after every PARTIAL (it resends its ring then): it never sampled again. It drops it.
      if (!issued && this.hello !== undefined && r.seq < this.hello.seq) return this.nack(r.seq, EDGE_REASONS.STALE_PARTIAL, r.deviceId);
      return this.nack(r.seq, EDGE_REASONS.UNKNOWN_PARTIAL, r.deviceId);
    }
    if (issued.epoch !== r.epoch) {
      return this.nack(r.seq, EDGE_REASONS.WRONG_EPOCH, r.deviceId);
    }
    const now = this.host.clock();
    const dataHash = toHex(sha256(m.canonical));
    const seenBefore = this.host.outboxHas(r.deviceId, r.seq, dataHash);
    if (!seenBefore && !this.bucket.take(now)) {
      this.host.traffic.rateLimited(r.deviceId);
      return this.nack(r.seq, EDGE_REASONS.RATE, r.deviceId);
    }
    if (seenBefore) {
      // A resend of a reading the outbox holds: the row `outboxHas` saw is committed (the outbox
      // is synchronous: no transaction is open between calls), so it is durable and is ACKed
      // again at once, as the group commit would answer 'duplicate' after a second lookup.
      this.host.metrics.duplicates.inc();
      this.host.traffic.duplicate(r.deviceId);
      return this.acknowledge(r.seq);
    }
    // The board's canonical bytes as they came (the strict decoder accepted them, so they are
    // what encodeReading gives for `r`, and what the tag and dataHash cover): not encoded again.
    const submission: ReadingSubmission = {
      canonical: toHex(m.canonical),
      tag: toHex(m.tag),
      edgeId: this.host.edgeId,
      receivedAt: now,
      path: [`device:${r.deviceId}`, `edge:${this.host.edgeId}`],
    };
    let status: PutStatus;
    try {
      status = await this.host.store({ deviceId: r.deviceId, seq: r.seq, dataHash, partialDigest: digestHex, submission });
    } catch (err) {
      this.log.error({ deviceId: r.deviceId, seq: r.seq, err: errorMessage(err) }, 'outbox write failed');
      return this.nack(r.seq, EDGE_REASONS.NOT_STORED, r.deviceId);
    }
    switch (status) {
      case 'stored':
        this.host.traffic.arrival(r, now);
        this.host.readingStored(r.deviceId, r.seq, now);
        return this.acknowledge(r.seq);
      case 'duplicate':
        this.host.metrics.duplicates.inc();
        this.host.traffic.duplicate(r.deviceId);
        return this.acknowledge(r.seq);
      case 'conflict':
      case 'stale':
        return this.nack(r.seq, EDGE_REASONS.REPLAY, r.deviceId);
      case 'busy':
        return this.nack(r.seq, EDGE_REASONS.BUSY, r.deviceId);
      case 'full':
        return this.nack(r.seq, EDGE_REASONS.OUTBOX_FULL, r.deviceId);
    }
  }

  /**
   * A SIG fragment: once its body is whole and decodes, the body is stored durably and only then
   * answered SIG_ACK (keySet, q), as a reading is ACKed only after its commit. The LMS signature
   * is not checked here (the edge does not need the device's public key): the ledger checks it.
   */
  private async onSig(f: SigFragment): Promise<void> {
    if (this.stateNow !== 'ready' || !this.device) return; // the board sends it again after HELLO
    const bytes = this.sig.push(f);
    if (!bytes) return;
    const deviceId = this.device;
    let body: SignatureBody;
    try {
      body = decodeSignatureBody(bytes);
    } catch (err) {
      this.host.metrics.framesDropped.inc({ link: this.link.id, kind: 'sig' });
      this.log.warn({ deviceId, err: errorMessage(err) }, 'dropped a SIG body that does not decode');
      return;
    }
    const q = signatureLeaf(body.signature);
    let status: SignaturePutStatus;
    try {
      status = await this.host.storeSignature({
        deviceId,
        kind: body.kind === 'epoch' ? SIG_KIND_EPOCH : SIG_KIND_KEYSET,
        keySet: body.keySet,
        q,
        ...(body.kind === 'epoch' ? { firstSeq: body.segment.firstSeq, lastSeq: body.segment.firstSeq + body.segment.count - 1 } : {}),
        body: toHex(bytes),
        bodyHash: toHex(sha256(bytes)),
      });
    } catch (err) {
      this.log.error({ deviceId, keySet: body.keySet, q, err: errorMessage(err) }, 'SIG body not stored');
      return;
    }
    if (status === 'full') {
      this.log.warn({ deviceId, keySet: body.keySet, q }, 'too many SIG bodies of this device wait for the ledger: no SIG_ACK');
      return;
    }
    this.log.info({ deviceId, kind: body.kind, keySet: body.keySet, q, status }, 'SIG body stored');
    await this.send({ kind: 'SIG_ACK', keySet: body.keySet, q });
  }

  private async acknowledge(seq: number): Promise<void> {
    const ack = this.ack;
    if (!ack) return;
    const before = ack.ackPoint;
    const moved = ack.account(seq);
    this.host.metrics.acked.inc();
    this.host.readingAcked(this.device as string, seq);
    if (moved !== undefined) await this.send({ kind: 'ACK', seq: moved });
    else if (before !== undefined && seq <= before) await this.send({ kind: 'ACK', seq: before }); // our earlier ACK was lost
  }

  private async nack(seq: number, reason: EdgeReason, deviceId: string): Promise<void> {
    const code = nackFor(reason);
    this.host.metrics.rejected.inc({ reason, stage: 'edge' });
    this.host.readingRefused(deviceId, seq, reason);
    this.log.warn({ deviceId, seq, reason }, 'NACK');
    if (!nackIsRetryable(code) && this.ack && deviceId === this.device) {
      // The board drops it: it no longer holds the ACK point back.
      const moved = this.ack.account(seq);
      await this.send({ kind: 'NACK', seq, reason: code });
      if (moved !== undefined) await this.send({ kind: 'ACK', seq: moved });
      return;
    }
    await this.send({ kind: 'NACK', seq, reason: code });
  }

  private onStatus(code: number, value: number, text: string): void {
    const fields = { deviceId: this.device, code, value, text };
    if (code === STATUS_RING_FULL && this.stateNow === 'awaiting-hello') {
      // A board that samples (only a board holding a PARTIAL reports RING_FULL) on a link with no
      // session: this edge restarted, or the board was moved here. Its ring is full, so it sends
      // no new READING, and its resend rounds back off up to 60 s (docs/firmware.md "Resend
      // ring"): NACK NO_PARTIAL makes it say HELLO now. seq 0 is a retryable NACK of no reading
      // the board drops; a board that took it stops sampling until its PARTIAL, so it says
      // RING_FULL no more and this is answered once or twice.
      this.log.info(fields, 'a board samples without a session here: NACK NO_PARTIAL asks for its HELLO');
      void this.send({ kind: 'NACK', seq: 0, reason: NACK_NO_PARTIAL });
    }
    if (code === STATUS_RING_FULL) this.log.warn(fields, 'board ring full: samples skipped');
    else if (code === STATUS_RX_ERRORS) this.log.info(fields, 'board reports receive errors');
    else this.log.info(fields, 'board status');
    this.host.boardStatus(this.device, code, value, text);
  }

  private async send(msg: WireMessage): Promise<void> {
    try {
      await this.link.write(encodeMessage(msg));
    } catch (err) {
      // The link is down: the board resends what was not acknowledged once it is back.
      this.log.debug({ err: errorMessage(err), kind: msg.kind }, 'could not send');
    }
  }
}

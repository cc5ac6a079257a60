/**
 * What a device session needs from the runtime around it. Sessions depend on this interface, not
 * on the runtime, so they can be tested with a small host and the runtime stays the one place
 * that wires outbox, partials, traffic and metrics together.
 */
import type { Reading } from '../../../shared/types.js';
import type { Frame } from '../../../shared/wire/frame.js';
import type { Log } from '../log.js';
import type { EdgeMetrics } from '../metrics.js';
import type { OutboxItem, PutStatus, SignatureItem, SignaturePutStatus } from '../outbox/outbox.js';
import type { CredentialStore } from './credentials.js';
import type { PartialIssuer } from './partials.js';
import type { DeviceSession } from './session.js';

/** The traffic profile the edge issues (PARTIAL) and enforces (rate check). */
export interface SessionProfile {
  /** Sampling interval the board must keep (ms). */
  readonly intervalMs: number;
  /** Most readings per minute in PARTIAL (0 = derived from the interval). */
  readonly maxPerMinute: number;
  /** Enforced rate of new readings per minute (with slack over the profile). */
  readonly ratePerMinute: number;
  /** Readings a board may send back to back (its resend ring after an outage). */
  readonly burst: number;
}

/** Where sessions report what the traffic profile needs. */
export interface TrafficSink {
  arrival(reading: Reading, receivedAt: number): void;
  duplicate(deviceId: string): void;
  frameErrors(deviceId: string | undefined, count: number): void;
  rateLimited(deviceId: string): void;
}

/**
 * Challenge frames (Device Provenance, Algorithm 2), when the wire protocol and the firmware have
 * them. Works on raw frames because shared/wire's message union does not know these types.
 */
export interface ChallengeCodec {
  /** The frame (type byte and payload) that carries `challenge` to the board. */
  encode(challenge: Uint8Array): { readonly type: number; readonly payload: Uint8Array };
  /** The challenge and response if `frame` is the board's answer, else undefined. */
  decode(frame: Frame): { challenge: Uint8Array; response: Uint8Array } | undefined;
}

/** The runtime as sessions see it. */
export interface SessionHost {
  readonly edgeId: string;
  readonly log: Log;
  readonly clock: () => number;
  readonly metrics: EdgeMetrics;
  readonly credentials: CredentialStore;
  readonly partials: PartialIssuer;
  readonly profile: SessionProfile;
  readonly traffic: TrafficSink;
  readonly challengeCodec: ChallengeCodec | undefined;
  /** Durable store; resolves after the commit. */
  store(item: OutboxItem): Promise<PutStatus>;
  /** Durable store of a SIG body (an epoch signature or a key-set move); resolves after the commit. */
  storeSignature(item: SignatureItem): Promise<SignaturePutStatus>;
  /** Is this exact reading already in the outbox? (resends take no rate token) */
  outboxHas(deviceId: string, seq: number, dataHash: string): boolean;
  sessionReady(session: DeviceSession, firstHello: boolean): void;
  /**
   * The live session of `deviceId` on another link than `session`'s (ready, link open), if any: a
   * second HELLO for that device is refused until that link drops.
   */
  liveSessionElsewhere(deviceId: string, session: DeviceSession): DeviceSession | undefined;
  /** Is the device known to be revoked (registry, or the ledger refusing its readings REVOKED)? */
  isRevoked(deviceId: string): boolean;
  /** Asks the registry about the device (bounded wait; a ledger that cannot answer changes nothing). */
  checkRevocation(deviceId: string): Promise<void>;
  readingStored(deviceId: string, seq: number, at: number): void;
  readingAcked(deviceId: string, seq: number): void;
  readingRefused(deviceId: string, seq: number, reason: string): void;
  boardStatus(deviceId: string | undefined, code: number, value: number, text: string): void;
  /** A board's HELLO was refused (unknown device, bad credential): the console lists such boards. */
  helloRefused?(deviceId: string, link: string, reason: string): void;
}

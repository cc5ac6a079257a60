/**
 * A compromised board for the demo's attacks: a double of a board whose K_IoT the attacker
 * cloned, so its readings carry VALID tags. It speaks the real wire protocol over a PipeLink
 * (HELLO, PARTIAL, READING, ACK/NACK, a small resend ring) and behaves normally until told to
 * misbehave: sample ten times faster than its profile (draining a battery, flooding the edge) or
 * inject false values. Cryptography cannot catch either — the edge's rate check and the traffic
 * profile must.
 */
import { complete } from '../shared/crypto/complete.js';
import { sha256 } from '../shared/crypto/sha256.js';
import { encodeReading } from '../shared/encoding/reading.js';
import type { Reading } from '../shared/types.js';
import { FrameDecoder } from '../shared/wire/frame.js';
import { nackIsRetryable } from '../shared/wire/messages.js';
import { decodeMessage, encodeMessage } from '../shared/wire/union.js';
import type { PipeEnd } from './pipe-link.js';

/** What the rogue board does. */
export type RogueMode = 'normal' | 'fast' | 'inject';

/** A board double with a cloned key. */
export class RogueBoard {
  mode: RogueMode = 'normal';
  private seq = 1;
  private readonly bootMs = Date.now();
  private epoch: number | undefined;
  private digest: Uint8Array | undefined;
  private intervalMs = 1000;
  private timer: NodeJS.Timeout | undefined;
  private helloTimer: NodeJS.Timeout | undefined;
  private readonly ring = new Map<number, Uint8Array>();
  private readonly decoder = new FrameDecoder();
  private n = 0;
  /** Distinct readings sent, and NACK reasons received. */
  sent = 0;
  readonly nacks = new Map<number, number>();

  constructor(
    private readonly end: PipeEnd,
    private readonly deviceId: string,
    private readonly kIoT: Uint8Array,
  ) {
    end.onReceive((bytes) => {
      for (const f of this.decoder.push(bytes)) {
        let m;
        try {
          m = decodeMessage(f);
        } catch {
          continue;
        }
        if (m.kind === 'PARTIAL') {
          const first = this.epoch === undefined;
          this.epoch = m.epoch;
          this.digest = m.partialDigest;
          this.intervalMs = m.intervalMs;
          if (first) this.schedule();
        } else if (m.kind === 'ACK') {
          for (const s of [...this.ring.keys()]) if (s <= m.seq) this.ring.delete(s);
        } else if (m.kind === 'NACK') {
          this.nacks.set(m.reason, (this.nacks.get(m.reason) ?? 0) + 1);
          if (!nackIsRetryable(m.reason)) this.ring.delete(m.seq);
        }
      }
    });
  }

  /** Boots: HELLO until a PARTIAL arrives. */
  start(): void {
    const hello = (): void => {
      if (this.epoch !== undefined) return;
      this.end.send(
        encodeMessage({
          kind: 'HELLO',
          deviceId: this.deviceId,
          fwVersion: 'rogue',
          fwHash: new Uint8Array(32),
          seq: this.seq,
          bootCount: 1,
          flags: 0,
          pending: 0,
          board: 'ROGUE',
        }),
      );
      this.helloTimer = setTimeout(hello, 1000);
    };
    hello();
  }

  /** Stops sampling. */
  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.helloTimer) clearTimeout(this.helloTimer);
  }

  private schedule(): void {
    const every = this.mode === 'fast' ? Math.max(10, Math.floor(this.intervalMs / 10)) : this.intervalMs;
    const from = Date.now();
    this.timer = setTimeout(() => {
      // Flooding keeps its pace when the host's timers run late (a busy machine fires a 25 ms
      // timer after 100 ms or more): it sends what fell due meanwhile, up to 50 at once.
      const n = this.mode === 'fast' ? Math.min(50, Math.max(1, Math.floor((Date.now() - from) / every))) : 1;
      for (let i = 0; i < n; i++) this.sample();
      this.schedule();
    }, every);
  }

  private sample(): void {
    if (this.epoch === undefined || !this.digest) return;
    if (this.ring.size >= 8) {
      const oldest = Math.min(...this.ring.keys());
      if (this.mode !== 'fast') {
        // Full ring: resend the oldest instead of sampling (like the firmware, nothing is dropped).
        this.end.send(this.ring.get(oldest) as Uint8Array);
        return;
      }
      // Flooding, the attacker does not wait for acknowledgements: it forgets the oldest and
      // samples on, so its rate does not depend on how fast the edge answers.
      this.ring.delete(oldest);
    }
    this.n += 1;
    // A plausible temperature: 21.50 °C with a slow wobble; injected data is 15 °C too hot.
    const base = 2150 + Math.round(20 * Math.sin(this.n / 5)) + (this.n % 3);
    const value = this.mode === 'inject' ? base + 1500 : base;
    const reading: Reading = {
      deviceId: this.deviceId,
      seq: this.seq++,
      t: Date.now(),
      epoch: this.epoch,
      partialDigest: this.digest,
      batteryMv: 3000 - Math.floor(this.n / 100),
      channels: [{ id: 0, scale: -2, value }],
      bootCount: 1,
      uptimeMs: Date.now() - this.bootMs,
    };
    const canonical = encodeReading(reading);
    const frame = encodeMessage({ kind: 'READING', canonical, reading, tag: complete(sha256, this.kIoT, reading) });
    this.ring.set(reading.seq, frame);
    this.sent += 1;
    this.end.send(frame);
  }
}

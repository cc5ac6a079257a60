/**
 * A minimal edge for firmware tests — a test double, not the edge runtime: opens a port (a
 * SimBinding path or a pty), decodes every frame, optionally answers HELLO with PARTIAL (or
 * refuses it with NACK UNKNOWN_DEVICE) and ACKs readings, verifies READING tags under K_IoT with Node's crypto, and can send raw bytes.
 */
import { SerialPortStream } from '@serialport/stream';
import { SerialPort } from 'serialport';
import { sha256 } from '../../shared/crypto/sha256.js';
import { completeBytes } from '../../shared/crypto/complete.js';
import { equalBytes } from '../../shared/encoding/bytes.js';
import { FrameDecoder } from '../../shared/wire/frame.js';
import { NACK_UNKNOWN_DEVICE, SigReassembler } from '../../shared/wire/messages.js';
import { getU32 } from '../../shared/crypto/lms.js';
import { decodeMessage, encodeMessage, type WireMessage } from '../../shared/wire/union.js';
import { SimBinding } from '../../hardware/sim/index.js';

export interface EdgeDoubleOptions {
  path: string;
  link: 'mock' | 'pty';
  key: Uint8Array;
  /** Answer HELLO with this PARTIAL (edgeTimeMs filled with Date.now() when absent). */
  partial?: { epoch: number; partialDigest: Uint8Array; intervalMs: number; maxPerMinute: number; edgeTimeMs?: number };
  /** ACK every READING at once (default true). */
  autoAck?: boolean;
  /** Refuse every HELLO with NACK UNKNOWN_DEVICE (seq = the HELLO's seq), as the edge does for an unknown device. */
  refuseHello?: boolean;
  /** The board's clock, to stamp each received message with `boardAt`. */
  clock?: () => number;
  /** Answer each whole SIG body with SIG_ACK (default true; bodies land in `sigBodies` either way). */
  sigAck?: boolean;
}

export type Received = WireMessage & { at: number; boardAt?: number; tagValid?: boolean };

export class EdgeDouble {
  readonly received: Received[] = [];
  readonly decoder = new FrameDecoder();
  private port!: SerialPortStream;
  /** Set once close() starts: a write still in flight then fails (EBADF) and is no finding. */
  private closing = false;
  /** Port errors while open, surfaced by waitFor so a broken link fails the test by name. */
  readonly portErrors: Error[] = [];
  autoAck: boolean;
  refuseHello: boolean;
  sigAck: boolean;
  /** SIG bodies put back together from the board's SIG frames, in arrival order. */
  readonly sigBodies: Uint8Array[] = [];
  private readonly sig = new SigReassembler();

  constructor(private readonly opts: EdgeDoubleOptions) {
    this.autoAck = opts.autoAck ?? true;
    this.refuseHello = opts.refuseHello ?? false;
    this.sigAck = opts.sigAck ?? true;
  }

  async open(): Promise<void> {
    this.port =
      this.opts.link === 'mock'
        ? new SerialPortStream({ binding: SimBinding, path: this.opts.path, baudRate: 115200, autoOpen: false })
        : (new SerialPort({ path: this.opts.path, baudRate: 115200, autoOpen: false }) as unknown as SerialPortStream);
    await new Promise<void>((resolve, reject) => this.port.open((err) => (err ? reject(err) : resolve())));
    this.port.on('data', (chunk: Buffer) => this.onData(chunk));
    // Without a listener a write that fails would be an uncaught exception of the whole test run
    // (CI saw EBADF from an ACK in flight while the port closed).
    this.port.on('error', (err: Error) => {
      if (!this.closing) this.portErrors.push(err);
    });
  }

  async close(): Promise<void> {
    this.closing = true;
    if (this.port?.isOpen) await new Promise<void>((r) => this.port.close(() => r()));
  }

  send(m: WireMessage): void {
    this.port.write(Buffer.from(encodeMessage(m)));
  }

  sendRaw(bytes: Uint8Array): void {
    this.port.write(Buffer.from(bytes));
  }

  of<K extends WireMessage['kind']>(kind: K): (Received & { kind: K })[] {
    return this.received.filter((m) => m.kind === kind) as (Received & { kind: K })[];
  }

  async waitFor(pred: () => boolean, timeoutMs = 30_000, what = 'condition'): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (!pred()) {
      if (this.portErrors.length > 0)
        throw new Error(`the edge double's port failed while waiting for ${what}: ${this.portErrors[0]!.message}`);
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}; received ${JSON.stringify(this.received.map((m) => m.kind))}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /**
   * Waits for `pred` with a deadline that follows the board's progress: it fails only once no
   * frame has come from the board for `quietMs`, or after `maxMs` in all. For a real interpreter
   * on a loaded machine, which is slow rather than stuck (at load ~40 one sent 68 frames in the
   * 120 s a fixed deadline gave it, and the test failed while it was still getting there).
   */
  async waitForProgress(pred: () => boolean, opts: { quietMs: number; maxMs: number; what: string }): Promise<void> {
    const start = Date.now();
    let seen = this.received.length;
    let lastFrame = start;
    while (!pred()) {
      if (this.portErrors.length > 0)
        throw new Error(`the edge double's port failed while waiting for ${opts.what}: ${this.portErrors[0]!.message}`);
      const now = Date.now();
      if (this.received.length !== seen) {
        seen = this.received.length;
        lastFrame = now;
      }
      if (now - lastFrame > opts.quietMs || now - start > opts.maxMs) {
        const why = now - lastFrame > opts.quietMs ? `no frame from the board for ${opts.quietMs} ms` : `${opts.maxMs} ms in all`;
        throw new Error(
          `timed out waiting for ${opts.what} (${why}; ${this.received.length} frames in ${now - start} ms); received ${JSON.stringify(this.received.map((m) => m.kind))}`,
        );
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  private onData(chunk: Buffer): void {
    for (const f of this.decoder.push(chunk)) {
      const m = decodeMessage(f);
      const r: Received = { ...m, at: Date.now(), ...(this.opts.clock ? { boardAt: this.opts.clock() } : {}) };
      if (m.kind === 'READING') r.tagValid = equalBytes(completeBytes(sha256, this.opts.key, m.canonical), m.tag);
      this.received.push(r);
      if (m.kind === 'HELLO' && this.refuseHello) this.send({ kind: 'NACK', seq: m.seq, reason: NACK_UNKNOWN_DEVICE });
      else if (m.kind === 'HELLO' && this.opts.partial) {
        const p = this.opts.partial;
        this.send({
          kind: 'PARTIAL',
          epoch: p.epoch,
          partialDigest: p.partialDigest,
          intervalMs: p.intervalMs,
          maxPerMinute: p.maxPerMinute,
          edgeTimeMs: p.edgeTimeMs ?? Date.now(),
        });
      }
      if (m.kind === 'READING' && this.autoAck) this.send({ kind: 'ACK', seq: m.reading.seq });
      const body = m.kind === 'SIG' ? this.sig.push(m) : undefined;
      if (body) {
        this.sigBodies.push(body);
        // keySet at byte 1; the LMS signature (q first) after the 81-byte epoch or 53-byte key-set header.
        if (this.sigAck) this.send({ kind: 'SIG_ACK', keySet: getU32(body, 1), q: getU32(body, body[0] === 1 ? 81 : 53) });
      }
    }
  }
}

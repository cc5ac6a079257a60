/**
 * A BoardLink that wraps another and watches (and, for the demo's attacks, alters) the frames on
 * it: it is the wire between board and edge. It decodes the board → edge stream into frames,
 * counts the distinct readings the board sent, lets an attacker rewrite or drop a frame and inject
 * new bytes toward the edge, and sniffs the edge → board PARTIALs (what an eavesdropper learns).
 */
import { FrameDecoder, type Frame } from '../shared/wire/frame.js';
import { decodeMessage, type WireMessage } from '../shared/wire/union.js';
import { Listeners, type BoardLink, type LinkState, type Unsubscribe } from '../edge-runtime/src/links/link.js';
import { encodeFrame } from '../shared/wire/frame.js';

/** Rewrites a board → edge frame: return the bytes to deliver (possibly none). */
export type FrameFilter = (frame: Frame, msg: WireMessage | undefined) => Uint8Array[] | undefined;

/** The wire between one board and the edge. */
export class TapLink implements BoardLink {
  readonly id: string;
  private readonly data = new Listeners<[Uint8Array]>();
  private readonly fromBoard = new FrameDecoder();
  private readonly toBoard = new FrameDecoder();
  /** Distinct seqs of READINGs the board put on the wire, by device. */
  readonly sent = new Map<string, Set<number>>();
  /** READING frames seen from the board (with their bytes), newest last, at most `keep`. */
  readonly captured: { msg: WireMessage & { kind: 'READING' }; bytes: Uint8Array }[] = [];
  /** The last PARTIAL the edge sent (sniffed). */
  lastPartial: (WireMessage & { kind: 'PARTIAL' }) | undefined;
  /** Set by an attack to rewrite board → edge frames. */
  filter: FrameFilter | undefined;

  constructor(
    private readonly inner: BoardLink,
    private readonly keep = 64,
  ) {
    this.id = inner.id;
    inner.onData((chunk) => {
      for (const frame of this.fromBoard.push(chunk)) this.onBoardFrame(frame);
    });
  }

  get state(): LinkState {
    return this.inner.state;
  }
  open(): Promise<void> {
    return this.inner.open();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
  async write(bytes: Uint8Array): Promise<void> {
    for (const f of this.toBoard.push(bytes)) {
      try {
        const m = decodeMessage(f);
        if (m.kind === 'PARTIAL') this.lastPartial = m;
      } catch {
        // not ours to judge
      }
    }
    return this.inner.write(bytes);
  }
  onData(listener: (chunk: Uint8Array) => void): Unsubscribe {
    return this.data.add(listener);
  }
  onState(listener: (state: LinkState, detail: string) => void): Unsubscribe {
    return this.inner.onState(listener);
  }

  /** Puts bytes on the wire toward the edge, as if the board sent them. */
  inject(bytes: Uint8Array): void {
    this.data.emit(() => undefined, bytes);
  }

  /** How many distinct readings the board sent. */
  sentCount(): number {
    let n = 0;
    for (const s of this.sent.values()) n += s.size;
    return n;
  }

  private onBoardFrame(frame: Frame): void {
    let msg: WireMessage | undefined;
    try {
      msg = decodeMessage(frame);
    } catch {
      msg = undefined;
    }
    if (msg?.kind === 'READING') {
      const id = msg.reading.deviceId;
      let set = this.sent.get(id);
      if (!set) this.sent.set(id, (set = new Set()));
      set.add(msg.reading.seq);
      const bytes = encodeFrame(frame.type, frame.payload);
      this.captured.push({ msg, bytes });
      if (this.captured.length > this.keep) this.captured.shift();
    }
    const out = this.filter ? this.filter(frame, msg) : undefined;
    for (const b of out ?? [encodeFrame(frame.type, frame.payload)]) this.data.emit(() => undefined, b);
  }
}

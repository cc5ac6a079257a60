/**
 * An in-process BoardLink pair: the edge end is a BoardLink, the other end is for a board
 * double living in the same process (the demo's rogue board). Bytes are delivered
 * asynchronously, in order, like a serial line.
 */
import { ProvenantError } from '../shared/errors.js';
import { Listeners, type BoardLink, type LinkState, type Unsubscribe } from '../edge-runtime/src/links/link.js';

/** The board's end of a PipeLink. */
export interface PipeEnd {
  send(bytes: Uint8Array): void;
  onReceive(listener: (bytes: Uint8Array) => void): Unsubscribe;
}

/** In-memory BoardLink. */
export class PipeLink implements BoardLink {
  readonly id: string;
  private current: LinkState = 'closed';
  private readonly toEdge = new Listeners<[Uint8Array]>();
  private readonly toBoard = new Listeners<[Uint8Array]>();
  private readonly states = new Listeners<[LinkState, string]>();
  /** The board side. */
  readonly board: PipeEnd;

  constructor(name: string) {
    this.id = `pipe:${name}`;
    this.board = {
      send: (bytes) => {
        if (this.current !== 'open') return;
        const copy = new Uint8Array(bytes);
        setImmediate(() => this.toEdge.emit(() => undefined, copy));
      },
      onReceive: (l) => this.toBoard.add(l),
    };
  }

  get state(): LinkState {
    return this.current;
  }
  async open(): Promise<void> {
    this.set('open');
  }
  async close(): Promise<void> {
    this.set('closed');
  }
  async write(bytes: Uint8Array): Promise<void> {
    if (this.current !== 'open') throw new ProvenantError('PROV_ERR_LINK_DOWN', `link ${this.id} is ${this.current}`);
    const copy = new Uint8Array(bytes);
    setImmediate(() => this.toBoard.emit(() => undefined, copy));
  }
  onData(listener: (chunk: Uint8Array) => void): Unsubscribe {
    return this.toEdge.add(listener);
  }
  onState(listener: (state: LinkState, detail: string) => void): Unsubscribe {
    return this.states.add(listener);
  }
  private set(state: LinkState): void {
    this.current = state;
    this.states.emit(() => undefined, state, 'in-process pipe');
  }
}

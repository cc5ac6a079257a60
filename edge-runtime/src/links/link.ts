/**
 * The one interface the edge runtime uses to talk to a board, whatever carries the bytes (a USB
 * serial adapter, a pty, BLE's Nordic UART). Sessions see only this: bytes in, bytes out, and the
 * link's state, so a serial port and a BLE peripheral are interchangeable and a test can plug in
 * a MockBinding port or a socat pty.
 */

/** Where a link is in its life: `reconnecting` means it was lost and the link is retrying by itself. */
import { errorMessage, type Log } from '../log.js';

export type LinkState = 'closed' | 'opening' | 'open' | 'reconnecting' | 'failed';

/** Every state, in a fixed order (the metrics export one gauge series per state). */
export const LINK_STATES: readonly LinkState[] = ['closed', 'opening', 'open', 'reconnecting', 'failed'];

/** Stops a listener registered with `onData` / `onState`. */
export type Unsubscribe = () => void;

/** A byte pipe to one board. */
export interface BoardLink {
  /** Stable name for logs and metrics, e.g. `serial:/dev/ttyACM0` or `ble:c8:4f:...`. */
  readonly id: string;
  /** The current state. */
  readonly state: LinkState;
  /** Opens the link; resolves once open, rejects if the first attempt fails (retries keep running unless closed). */
  open(): Promise<void>;
  /** Closes the link for good and stops reconnecting. Idempotent. */
  close(): Promise<void>;
  /** Writes bytes; rejects with PROV_ERR_LINK_DOWN when the link is not open. */
  write(bytes: Uint8Array): Promise<void>;
  /** Bytes as they arrive, in order; chunk boundaries carry no meaning. */
  onData(listener: (chunk: Uint8Array) => void): Unsubscribe;
  /** State changes, with a human-readable detail (the error that caused a loss, the next retry delay). */
  onState(listener: (state: LinkState, detail: string) => void): Unsubscribe;
}

/** A tiny typed listener set shared by the link implementations. */
export class Listeners<A extends unknown[]> {
  private readonly set = new Set<(...args: A) => void>();

  /** Adds a listener; returns its remover. */
  add(listener: (...args: A) => void): Unsubscribe {
    this.set.add(listener);
    return () => {
      this.set.delete(listener);
    };
  }

  /** Calls every listener; a throwing listener must not break the link, so errors are reported to `onError`. */
  emit(onError: (err: unknown) => void, ...args: A): void {
    for (const listener of [...this.set]) {
      try {
        listener(...args);
      } catch (err) {
        onError(err);
      }
    }
  }
}

/** Exponential backoff with a cap: attempt 0 waits `initialMs`, each next attempt doubles, up to `maxMs`. */
export function backoffDelay(attempt: number, initialMs: number, maxMs: number): number {
  if (!Number.isInteger(attempt) || attempt < 0) throw new RangeError(`backoff attempt must be an integer >= 0, got ${attempt}`);
  return Math.min(maxMs, initialMs * 2 ** Math.min(attempt, 30));
}

/**
 * The state and listener bookkeeping every link shares, so serial and BLE only do their I/O.
 * Subclasses call `emitData` for received bytes and `setState` on transitions; a listener that
 * throws is logged and never breaks the link.
 */
export abstract class LinkBase {
  protected currentState: LinkState = 'closed';
  private readonly data = new Listeners<[Uint8Array]>();
  private readonly states = new Listeners<[LinkState, string]>();
  protected abstract readonly log: Log;

  get state(): LinkState {
    return this.currentState;
  }

  onData(listener: (chunk: Uint8Array) => void): Unsubscribe {
    return this.data.add(listener);
  }

  onState(listener: (state: LinkState, detail: string) => void): Unsubscribe {
    return this.states.add(listener);
  }

  protected emitData(chunk: Uint8Array): void {
    this.data.emit((err) => this.log.error({ err: errorMessage(err) }, 'data listener threw'), chunk);
  }

  /** Records a transition; repeated `reconnecting` is reported each time (its detail carries the next delay). */
  protected setState(state: LinkState, detail: string): void {
    if (state === this.currentState && state !== 'reconnecting') return;
    this.currentState = state;
    // debug: the edge runtime logs what an operator needs (one line per outage and recovery).
    this.log.debug({ state, detail }, 'link state');
    this.states.emit((err) => this.log.error({ err: errorMessage(err) }, 'state listener threw'), state, detail);
  }
}

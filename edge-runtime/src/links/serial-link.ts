/**
 * A board on a serial port (USB CDC, a UART adapter, a pty). Reconnects by itself with
 * exponential backoff when the port disappears (cable pulled, board reset, socat restarted) and
 * comes back when it reappears, so an unplug shows up as `reconnecting` → `open` and the device
 * session simply sees a new HELLO.
 *
 * The serialport binding is injectable: tests pass `@serialport/binding-mock` or the simulated
 * board's binding; production loads `@serialport/bindings-cpp` lazily (native code).
 */
import type { BindingInterface } from '@serialport/bindings-cpp';
import type { SerialPortStream } from '@serialport/stream';
import { ProvenantError } from '../../../shared/errors.js';
import { errorMessage, silentLog, type Log } from '../log.js';
import { backoffDelay, LinkBase, type BoardLink } from './link.js';

/** How to reach one board over serial. */
export interface SerialLinkOptions {
  /** Device path: /dev/ttyACM0, /dev/serial/by-id/..., a pty, or a MockBinding path. */
  readonly path: string;
  /** Line speed; Espruino's default is 9600, USB CDC ignores it. */
  readonly baudRate: number;
  /** The serialport binding; default: the native one from @serialport/bindings-cpp (loaded on open). */
  readonly binding?: BindingInterface;
  /** First reconnect delay (ms); doubles per failed attempt. Default 250. */
  readonly reconnectInitialMs?: number;
  /** Longest reconnect delay (ms). Default 10000. */
  readonly reconnectMaxMs?: number;
  readonly log?: Log;
}

/** A serial BoardLink with automatic reconnection. */
export class SerialLink extends LinkBase implements BoardLink {
  readonly id: string;
  private port: SerialPortStream | undefined;
  private binding: BindingInterface | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private attempt = 0;
  private wanted = false;
  protected readonly log: Log;

  constructor(private readonly options: SerialLinkOptions) {
    super();
    if (typeof options.path !== 'string' || options.path.length === 0) throw new TypeError('serial link: path must be a non-empty string');
    if (!Number.isInteger(options.baudRate) || options.baudRate <= 0) {
      throw new RangeError(`serial link ${options.path}: baudRate must be a positive integer, got ${String(options.baudRate)}`);
    }
    this.id = `serial:${options.path}`;
    this.binding = options.binding;
    this.log = (options.log ?? silentLog).child({ link: this.id });
  }

  async open(): Promise<void> {
    if (this.wanted && (this.currentState === 'open' || this.currentState === 'opening')) return;
    this.wanted = true;
    this.attempt = 0;
    await this.tryOpen();
  }

  async close(): Promise<void> {
    this.wanted = false;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const port = this.port;
    this.port = undefined;
    if (port?.isOpen) {
      await new Promise<void>((resolve) => port.close(() => resolve()));
    }
    port?.removeAllListeners();
    this.setState('closed', 'closed by the edge');
  }

  async write(bytes: Uint8Array): Promise<void> {
    const port = this.port;
    if (!port || this.currentState !== 'open') {
      throw new ProvenantError('PROV_ERR_LINK_DOWN', `link ${this.id} is ${this.currentState}, cannot write`, { link: this.id });
    }
    await new Promise<void>((resolve, reject) => {
      port.write(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), (err) => {
        if (err)
          reject(new ProvenantError('PROV_ERR_LINK_DOWN', `link ${this.id}: write failed: ${err.message}`, { link: this.id, cause: err }));
        else resolve();
      });
    });
  }

  private async tryOpen(): Promise<void> {
    this.setState(this.attempt === 0 ? 'opening' : 'reconnecting', `opening ${this.options.path}`);
    const binding = this.binding ?? (await loadNativeBinding());
    this.binding = binding;
    const { SerialPortStream } = await import('@serialport/stream');
    const port = new SerialPortStream({ binding, path: this.options.path, baudRate: this.options.baudRate, autoOpen: false });
    try {
      await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
    } catch (err) {
      port.removeAllListeners();
      this.scheduleRetry(`open failed: ${errorMessage(err)}`);
      throw new ProvenantError('PROV_ERR_LINK_DOWN', `link ${this.id}: cannot open ${this.options.path}: ${errorMessage(err)}`, {
        link: this.id,
        cause: err,
      });
    }
    if (!this.wanted) {
      // close() was called while the port was opening.
      port.close();
      return;
    }
    this.port = port;
    this.attempt = 0;
    port.on('data', (chunk: Buffer) => {
      this.emitData(new Uint8Array(chunk));
    });
    port.on('error', (err: Error) => this.log.warn({ err: err.message }, 'serial port error'));
    port.on('close', (err: Error | null) => {
      if (this.port !== port) return;
      this.port = undefined;
      port.removeAllListeners();
      if (this.wanted) this.scheduleRetry(`port closed: ${err ? err.message : 'no reason given'}`);
    });
    this.setState('open', `opened ${this.options.path} at ${this.options.baudRate} baud`);
  }

  private scheduleRetry(reason: string): void {
    if (!this.wanted) return;
    const delay = backoffDelay(this.attempt, this.options.reconnectInitialMs ?? 250, this.options.reconnectMaxMs ?? 10_000);
    this.attempt += 1;
    this.setState('reconnecting', `${reason}; retry in ${delay} ms`);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (!this.wanted) return;
      this.tryOpen().catch(() => undefined); // tryOpen schedules the next retry itself
    }, delay);
    this.retryTimer.unref?.();
  }
}

/** Loads the native serialport binding; a clear error when its prebuilt binary does not fit this machine. */
async function loadNativeBinding(): Promise<BindingInterface> {
  try {
    const { autoDetect } = await import('@serialport/bindings-cpp');
    return autoDetect() as BindingInterface;
  } catch (err) {
    throw new ProvenantError('PROV_ERR_LINK_DOWN', `serial unavailable: cannot load @serialport/bindings-cpp: ${errorMessage(err)}`, {
      cause: err,
    });
  }
}

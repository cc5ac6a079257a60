/**
 * A board over Bluetooth LE, through the Nordic UART Service (NUS) that Espruino's Puck.js,
 * MDBT42Q and friends expose: the edge writes to the RX characteristic and subscribes to TX
 * notifications. The same frames as on serial travel over it.
 *
 * @abandonware/noble is an optional dependency with native code (HCI socket). It is loaded
 * lazily on open; when it is missing, its native part is not built, or there is no radio, open()
 * fails with "BLE unavailable: …" and the rest of the edge keeps running.
 */
import { ProvenantError } from '../../../shared/errors.js';
import { errorMessage, silentLog, type Log } from '../log.js';
import { backoffDelay, LinkBase, type BoardLink } from './link.js';

/** Nordic UART service and characteristic UUIDs (noble spells them lower-case without dashes). */
export const NUS = {
  service: '6e400001b5a3f393e0a9e50e24dcca9e',
  rx: '6e400002b5a3f393e0a9e50e24dcca9e',
  tx: '6e400003b5a3f393e0a9e50e24dcca9e',
} as const;

/** BLE writes without response carry at most 20 bytes at the default MTU. */
const CHUNK = 20;

/** The subset of noble's API this link uses (noble's own typings are loose; this is our seam). */
export interface NobleLike {
  readonly _state?: string;
  readonly state?: string;
  on(event: 'stateChange', listener: (state: string) => void): unknown;
  on(event: 'discover', listener: (peripheral: PeripheralLike) => void): unknown;
  removeListener(event: string, listener: (...args: never[]) => void): unknown;
  startScanningAsync(serviceUuids: string[], allowDuplicates: boolean): Promise<void>;
  stopScanningAsync(): Promise<void>;
}
/** A discovered peripheral. */
export interface PeripheralLike {
  readonly address: string;
  readonly id: string;
  connectAsync(): Promise<void>;
  disconnectAsync(): Promise<void>;
  once(event: 'disconnect', listener: () => void): unknown;
  discoverSomeServicesAndCharacteristicsAsync(
    services: string[],
    characteristics: string[],
  ): Promise<{ characteristics: CharacteristicLike[] }>;
}
/** A GATT characteristic. */
export interface CharacteristicLike {
  readonly uuid: string;
  on(event: 'data', listener: (data: Buffer) => void): unknown;
  subscribeAsync(): Promise<void>;
  writeAsync(data: Buffer, withoutResponse: boolean): Promise<void>;
}

/** How to reach one board over BLE. */
export interface BleLinkOptions {
  /** The board's MAC address (as noble reports it, lower-case with colons). */
  readonly address: string;
  /** How long to scan for the board per attempt (ms). Default 15000. */
  readonly scanTimeoutMs?: number;
  readonly reconnectInitialMs?: number;
  readonly reconnectMaxMs?: number;
  /** Loads noble; tests inject a stand-in radio. Default: `import('@abandonware/noble')`. */
  readonly loadNoble?: () => Promise<NobleLike>;
  readonly log?: Log;
}

/** Loads @abandonware/noble, turning every failure into one clear "BLE unavailable" error. */
export async function loadNoble(): Promise<NobleLike> {
  try {
    const mod = (await import('@abandonware/noble' as string)) as { default?: NobleLike } & NobleLike;
    return mod.default ?? mod;
  } catch (err) {
    throw new ProvenantError('PROV_ERR_BLE_UNAVAILABLE', `BLE unavailable: cannot load @abandonware/noble: ${errorMessage(err)}`, {
      cause: err,
    });
  }
}

/** A BLE (Nordic UART) BoardLink with automatic reconnection. */
export class BleLink extends LinkBase implements BoardLink {
  readonly id: string;
  private rx: CharacteristicLike | undefined;
  private peripheral: PeripheralLike | undefined;
  private wanted = false;
  private attempt = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly address: string;
  protected readonly log: Log;

  constructor(private readonly options: BleLinkOptions) {
    super();
    if (typeof options.address !== 'string' || !/^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/.test(options.address)) {
      throw new RangeError(`BLE link: address must look like aa:bb:cc:dd:ee:ff, got ${String(options.address)}`);
    }
    this.address = options.address.toLowerCase();
    this.id = `ble:${this.address}`;
    this.log = (options.log ?? silentLog).child({ link: this.id });
  }

  async open(): Promise<void> {
    this.wanted = true;
    this.attempt = 0;
    await this.connect();
  }

  async close(): Promise<void> {
    this.wanted = false;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    const peripheral = this.peripheral;
    this.peripheral = undefined;
    this.rx = undefined;
    await peripheral?.disconnectAsync().catch(() => undefined);
    this.setState('closed', 'closed by the edge');
  }

  async write(bytes: Uint8Array): Promise<void> {
    const rx = this.rx;
    if (!rx || this.currentState !== 'open') {
      throw new ProvenantError('PROV_ERR_LINK_DOWN', `link ${this.id} is ${this.currentState}, cannot write`, { link: this.id });
    }
    for (let i = 0; i < bytes.length; i += CHUNK) {
      await rx.writeAsync(Buffer.from(bytes.subarray(i, i + CHUNK)), true);
    }
  }

  private async connect(): Promise<void> {
    this.setState(this.attempt === 0 ? 'opening' : 'reconnecting', `scanning for ${this.address}`);
    let noble: NobleLike;
    try {
      noble = await (this.options.loadNoble ?? loadNoble)();
    } catch (err) {
      // A missing module or radio will not fix itself: fail, do not retry.
      this.wanted = false;
      this.setState('failed', errorMessage(err));
      throw err instanceof ProvenantError ? err : new ProvenantError('PROV_ERR_BLE_UNAVAILABLE', `BLE unavailable: ${errorMessage(err)}`);
    }
    try {
      await waitPoweredOn(noble, this.options.scanTimeoutMs ?? 15_000);
      const peripheral = await this.scan(noble);
      await peripheral.connectAsync();
      const { characteristics } = await peripheral.discoverSomeServicesAndCharacteristicsAsync([NUS.service], [NUS.rx, NUS.tx]);
      const rx = characteristics.find((c) => c.uuid === NUS.rx);
      const tx = characteristics.find((c) => c.uuid === NUS.tx);
      if (!rx || !tx) throw new Error(`${this.address} has no Nordic UART service`);
      tx.on('data', (chunk) => {
        this.emitData(new Uint8Array(chunk));
      });
      await tx.subscribeAsync();
      peripheral.once('disconnect', () => {
        if (this.peripheral !== peripheral) return;
        this.peripheral = undefined;
        this.rx = undefined;
        this.scheduleRetry('peripheral disconnected');
      });
      this.peripheral = peripheral;
      this.rx = rx;
      this.attempt = 0;
      this.setState('open', `connected to ${this.address} (Nordic UART)`);
    } catch (err) {
      this.scheduleRetry(errorMessage(err));
      throw new ProvenantError('PROV_ERR_LINK_DOWN', `link ${this.id}: ${errorMessage(err)}`, { link: this.id, cause: err });
    }
  }

  private async scan(noble: NobleLike): Promise<PeripheralLike> {
    const timeoutMs = this.options.scanTimeoutMs ?? 15_000;
    return new Promise<PeripheralLike>((resolve, reject) => {
      const onDiscover = (p: PeripheralLike): void => {
        if (p.address.toLowerCase() !== this.address) return;
        finish();
        resolve(p);
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`board ${this.address} not found within ${timeoutMs} ms`));
      }, timeoutMs);
      const finish = (): void => {
        clearTimeout(timer);
        noble.removeListener('discover', onDiscover as (...args: never[]) => void);
        noble.stopScanningAsync().catch(() => undefined);
      };
      noble.on('discover', onDiscover);
      noble.startScanningAsync([NUS.service], false).catch((err: unknown) => {
        finish();
        reject(err instanceof Error ? err : new Error(String(err)));
      });
    });
  }

  private scheduleRetry(reason: string): void {
    if (!this.wanted) return;
    const delay = backoffDelay(this.attempt, this.options.reconnectInitialMs ?? 1000, this.options.reconnectMaxMs ?? 30_000);
    this.attempt += 1;
    this.setState('reconnecting', `${reason}; retry in ${delay} ms`);
    this.retryTimer = setTimeout(() => {
      if (this.wanted) this.connect().catch(() => undefined);
    }, delay);
    this.retryTimer.unref?.();
  }
}

/** Resolves when the adapter reports poweredOn; rejects on unsupported/unauthorized or timeout. */
async function waitPoweredOn(noble: NobleLike, timeoutMs: number): Promise<void> {
  const current = noble.state ?? noble._state;
  if (current === 'poweredOn') return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`BLE adapter not powered on within ${timeoutMs} ms (state ${String(current)})`)),
      timeoutMs,
    );
    noble.on('stateChange', (state) => {
      if (state === 'poweredOn') {
        clearTimeout(timer);
        resolve();
      } else if (state === 'unsupported' || state === 'unauthorized') {
        clearTimeout(timer);
        reject(
          new ProvenantError('PROV_ERR_BLE_UNAVAILABLE', `BLE unavailable: adapter is ${state} (see docs/edge.md: setcap, bluetoothd)`),
        );
      }
    });
  });
}

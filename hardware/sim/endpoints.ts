/**
 * How a host reaches a simulated board: a serialport binding (MockBinding underneath, no
 * process, no file) or a real pty pair (hardware/pty.ts), so any program — the flasher, the
 * monitor, the edge runtime, even a terminal — opens it like a USB serial port.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SerialPortMock } from 'serialport';
import { openPtyPair } from '../pty.js';
import type { SimBoard } from './board.js';

const attached = new Map<string, SimBoard>();
const MockBinding = SerialPortMock.binding;

/** The binding type serialport's mock uses (list, open, createPort, reset). */
export type SimBindingInterface = typeof SerialPortMock.binding;

/**
 * A serialport binding whose ports are simulated boards: `new SerialPort({ binding: SimBinding,
 * path, baudRate })` or `new SerialPortStream({ binding: SimBinding, ... })`. It is MockBinding
 * with the port's writes routed into the board and the board's output emitted as port data.
 */
export const SimBinding: SimBindingInterface = {
  ...MockBinding,
  list: () => MockBinding.list(),
  async open(options) {
    const port = await MockBinding.open(options);
    const board = attached.get(options.path);
    if (board) {
      const write = port.write.bind(port);
      port.write = async (buffer: Buffer) => {
        await write(buffer);
        board.hostWrite(buffer);
      };
      const off = board.onOutput((b) => {
        if (port.isOpen) port.emitData(b);
      });
      const close = port.close.bind(port);
      port.close = async () => {
        off();
        await close();
      };
    }
    return port;
  },
};

/** Makes `path` a SimBinding port attached to `board`. */
export function attachMock(path: string, board: SimBoard): void {
  MockBinding.createPort(path, { echo: false, record: false });
  attached.set(path, board);
}

/** Detaches a mock port. */
export function detachMock(path: string): void {
  attached.delete(path);
}

/** A pty pair: the host opens `hostPath`; the board side is wired to the simulated board. */
export interface PtyLink {
  readonly hostPath: string;
  close(): Promise<void>;
}

/**
 * Opens a pty pair (hardware/pty.ts) and pumps bytes between its board end and `board`.
 * `hostPath`: where the host end appears (default: a temp path).
 */
export async function attachPty(board: SimBoard, hostPath?: string): Promise<PtyLink> {
  const dir = mkdtempSync(join(tmpdir(), 'provenant-sim-'));
  const pair = await openPtyPair({ a: join(dir, 'board'), b: hostPath ?? join(dir, 'tty') });
  const { SerialPort } = await import('serialport');
  const side = new SerialPort({ path: pair.a, baudRate: 115200, autoOpen: false });
  await new Promise<void>((resolve, reject) => side.open((err) => (err ? reject(err) : resolve())));
  side.on('data', (b: Buffer) => board.hostWrite(b));
  side.on('error', () => undefined);
  const off = board.onOutput((b) => {
    if (side.isOpen) side.write(b);
  });
  return {
    hostPath: pair.b,
    async close() {
      off();
      if (side.isOpen) await new Promise<void>((r) => side.close(() => r()));
      await pair.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * How a host reaches a simulated board: a serialport binding (MockBinding underneath, no
 * process, no file) or a real pty pair made by socat, so any program — the flasher, the
 * monitor, the edge runtime, even a terminal — opens it like a USB serial port.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SerialPortMock } from 'serialport';
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

/** True when socat is on the PATH. */
export function hasSocat(): boolean {
  return spawnSync('socat', ['-V'], { stdio: 'ignore' }).status === 0;
}

/** A pty pair: the host opens `hostPath`; the board side is wired to the simulated board. */
export interface PtyLink {
  readonly hostPath: string;
  close(): Promise<void>;
}

/** Opens a socat pty pair and pumps bytes between its board side and `board`. */
export async function attachPty(board: SimBoard): Promise<PtyLink> {
  if (!hasSocat()) throw new Error('socat is not installed (apt-get install -y socat): a pty link needs it');
  const dir = mkdtempSync(join(tmpdir(), 'provenant-sim-'));
  const hostPath = join(dir, 'tty');
  const boardPath = join(dir, 'board');
  const socat: ChildProcess = spawn('socat', [`pty,raw,echo=0,link=${boardPath}`, `pty,raw,echo=0,link=${hostPath}`], { stdio: 'ignore' });
  const deadline = Date.now() + 5000;
  while (!(existsSync(hostPath) && existsSync(boardPath))) {
    if (Date.now() > deadline || socat.exitCode !== null) throw new Error('socat did not create the pty pair');
    await new Promise((r) => setTimeout(r, 20));
  }
  const { SerialPort } = await import('serialport');
  const side = new SerialPort({ path: boardPath, baudRate: 115200, autoOpen: false });
  await new Promise<void>((resolve, reject) => side.open((err) => (err ? reject(err) : resolve())));
  side.on('data', (b: Buffer) => board.hostWrite(b));
  side.on('error', () => undefined);
  board.onOutput((b) => {
    if (side.isOpen) side.write(b);
  });
  return {
    hostPath,
    async close() {
      if (side.isOpen) await new Promise<void>((r) => side.close(() => r()));
      socat.kill('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

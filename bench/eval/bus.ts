/**
 * The evaluation's board bus: the serial lines of many simulated boards carried between two
 * processes over one Unix socket, so the boards (a load generator) and the edge run in separate
 * processes and the edge's CPU is its own. A stand-in for the USB/UART cables of a real site,
 * named as such; the edge side is an ordinary serialport binding (MockBinding underneath, as the
 * simulated boards' SimBinding), so the edge's SerialLink, sessions and framing run unchanged.
 *
 * Wire: `u32 length | u16 port | bytes` per chunk, both directions (length counts port + bytes).
 */
import { createServer, type Server, type Socket } from 'node:net';
import { SerialPortMock } from 'serialport';

const MockBinding = SerialPortMock.binding;

/** Encodes one chunk for `port`. */
export function busFrame(port: number, bytes: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(6 + bytes.length);
  out.writeUInt32BE(2 + bytes.length, 0);
  out.writeUInt16BE(port, 4);
  out.set(bytes, 6);
  return out;
}

/** Splits a socket's byte stream back into (port, bytes) chunks. */
export class BusDecoder {
  private buf: Buffer = Buffer.alloc(0);

  push(chunk: Buffer, onChunk: (port: number, bytes: Buffer) => void): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    let off = 0;
    while (this.buf.length - off >= 6) {
      const len = this.buf.readUInt32BE(off);
      if (len < 2) throw new Error(`board bus: bad chunk length ${len}`);
      if (this.buf.length - off < 4 + len) break;
      onChunk(this.buf.readUInt16BE(off + 4), this.buf.subarray(off + 6, off + 4 + len));
      off += 4 + len;
    }
    this.buf = off === this.buf.length ? Buffer.alloc(0) : Buffer.from(this.buf.subarray(off));
  }
}

/** The path of bus port `i` as the edge's SerialLink opens it. */
export const busPortPath = (i: number): string => `/dev/provenant-eval-${i}`;

/**
 * The edge side: listens on `socketPath` for board hosts, and offers a serialport binding whose
 * port `busPortPath(i)` carries port i's bytes. Ports exist before any board host connects (a
 * cable with no board on it yet).
 */
export class EdgeBus {
  private readonly sockets = new Set<Socket>();
  /** Port → the open mock port (emitData) of the edge's link. */
  private readonly open = new Map<number, { emitData(b: Buffer): void; isOpen: boolean }>();
  /** Port → the board host's socket it lives on. */
  private readonly route = new Map<number, Socket>();
  private server: Server | undefined;
  readonly binding: typeof MockBinding;

  constructor(first: number, ports: number) {
    for (let i = first; i < first + ports; i++) MockBinding.createPort(busPortPath(i), { echo: false, record: false });
    const portOf = (path: string): number => Number(/(\d+)$/.exec(path)?.[1] ?? NaN);
    this.binding = {
      ...MockBinding,
      list: () => MockBinding.list(),
      open: async (options) => {
        const port = await MockBinding.open(options);
        const i = portOf(options.path);
        const write = port.write.bind(port);
        port.write = async (buffer: Buffer) => {
          await write(buffer);
          this.route.get(i)?.write(busFrame(i, buffer));
        };
        this.open.set(i, port as unknown as { emitData(b: Buffer): void; isOpen: boolean });
        const close = port.close.bind(port);
        port.close = async () => {
          this.open.delete(i);
          await close();
        };
        return port;
      },
    };
  }

  /** Starts listening; board hosts connect and announce their ports by sending on them. */
  listen(socketPath: string): Promise<void> {
    this.server = createServer((s) => {
      this.sockets.add(s);
      const dec = new BusDecoder();
      s.on('data', (chunk: Buffer) =>
        dec.push(chunk, (port, bytes) => {
          this.route.set(port, s);
          if (bytes.length === 0) return; // a port announcement
          const p = this.open.get(port);
          if (p?.isOpen) p.emitData(Buffer.from(bytes));
        }),
      );
      s.on('error', () => undefined);
      s.on('close', () => this.sockets.delete(s));
    });
    const server = this.server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, () => resolve());
    });
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}

/**
 * Asks a board on a serial port (USB, a USB-serial adapter, a pty) to answer a Device Provenance
 * challenge: sends a CHALLENGE frame and waits for the RESPONSE to that challenge (the firmware
 * answers HMAC under its key, at most one per second: it is asked again each second until it
 * answers or the time is up). Behind `provenant device prove --port`.
 */
import { ProvenantError } from '../shared/errors.js';
import { FrameDecoder } from '../shared/wire/frame.js';
import { decodeMessage, encodeMessage } from '../shared/wire/union.js';

/** Options of {@link askBoard}. */
export interface AskBoardOptions {
  readonly baud?: number;
  /** How long to wait for the answer (default 5 s). */
  readonly timeoutMs?: number;
}

const same = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

/** The board's response to `challenge` (32 bytes), or PROV_ERR_PORT / PROV_ERR_CHALLENGE_TIMEOUT. */
export async function askBoard(path: string, challenge: Uint8Array, options: AskBoardOptions = {}): Promise<Uint8Array> {
  const { SerialPort } = await import('serialport');
  const port = new SerialPort({ path, baudRate: options.baud ?? 115200, autoOpen: false });
  await new Promise<void>((resolve, reject) =>
    port.open((err) =>
      err ? reject(new ProvenantError('PROV_ERR_PORT', `cannot open serial port ${path}: ${err.message}`, { field: 'port' })) : resolve(),
    ),
  );
  const frame = Buffer.from(encodeMessage({ kind: 'CHALLENGE', challenge }));
  const decoder = new FrameDecoder();
  try {
    return await new Promise<Uint8Array>((resolve, reject) => {
      const send = (): void => void port.write(frame);
      const again = setInterval(send, 1000);
      const timer = setTimeout(() => {
        clearInterval(again);
        reject(new ProvenantError('PROV_ERR_CHALLENGE_TIMEOUT', `the board on ${path} did not answer the challenge`, { field: 'port' }));
      }, options.timeoutMs ?? 5000);
      port.on('data', (chunk: Buffer) => {
        for (const f of decoder.push(chunk)) {
          let m;
          try {
            m = decodeMessage(f);
          } catch {
            continue;
          }
          if (m.kind === 'RESPONSE' && same(m.challenge, challenge)) {
            clearInterval(again);
            clearTimeout(timer);
            resolve(m.response);
          }
        }
      });
      send();
    });
  } finally {
    await new Promise<void>((r) => port.close(() => r()));
  }
}

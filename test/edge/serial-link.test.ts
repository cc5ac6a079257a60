/**
 * SerialLink against @serialport/binding-mock (open, write, data, bad path, close) and against a
 * real pty pair (hardware/pty.ts) with the native binding (data both ways, unplug = the pair
 * removed, replug = a new pair on the same path: the link reconnects by itself).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { SerialPortMock } from 'serialport';
import { SerialLink } from '../../edge-runtime/src/links/serial-link.js';
import type { LinkState } from '../../edge-runtime/src/links/link.js';
import { openPtyPair, ptyUnavailableReason, type PtyPair } from '../../hardware/pty.js';
import { tempDir } from '../support/edge-fixture.js';

/** @serialport/binding-mock, reached through serialport's typed re-export. */
const MockBinding = SerialPortMock.binding;

function waitFor(cond: () => boolean, timeoutMs = 30_000): Promise<void> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const tick = (): void => {
      if (cond()) resolve();
      else if (Date.now() - started > timeoutMs) reject(new Error('timed out'));
      else setTimeout(tick, 20);
    };
    tick();
  });
}

describe('SerialLink on MockBinding', () => {
  it('opens, writes, receives and closes', async () => {
    MockBinding.reset();
    MockBinding.createPort('/dev/mock-board', { echo: true, record: true });
    const link = new SerialLink({ path: '/dev/mock-board', baudRate: 115200, binding: MockBinding });
    const states: LinkState[] = [];
    link.onState((s) => states.push(s));
    const got: number[] = [];
    link.onData((c) => got.push(...c));
    await link.open();
    expect(link.state).toBe('open');
    await link.write(new Uint8Array([1, 2, 3, 0]));
    await waitFor(() => got.length === 4); // echo: the mock port sends back what was written
    expect(got).toEqual([1, 2, 3, 0]);
    await link.close();
    expect(states).toEqual(['opening', 'open', 'closed']);
    await expect(link.write(new Uint8Array([1]))).rejects.toMatchObject({ code: 'PROV_ERR_LINK_DOWN' });
  });

  it('keeps retrying a port that does not exist yet, and opens once it appears', async () => {
    MockBinding.reset();
    const link = new SerialLink({
      path: '/dev/mock-late',
      baudRate: 9600,
      binding: MockBinding,
      reconnectInitialMs: 20,
      reconnectMaxMs: 50,
    });
    await expect(link.open()).rejects.toMatchObject({ code: 'PROV_ERR_LINK_DOWN' });
    expect(link.state).toBe('reconnecting');
    MockBinding.createPort('/dev/mock-late');
    await waitFor(() => link.state === 'open');
    await link.close();
  });

  it('rejects bad options with TypeError / RangeError', () => {
    expect(() => new SerialLink({ path: '', baudRate: 9600 })).toThrow(TypeError);
    expect(() => new SerialLink({ path: '/dev/x', baudRate: 0 })).toThrow(RangeError);
  });
});

const noPty = ptyUnavailableReason();
if (noPty) console.log(`skipping the pty tests: ${noPty}`);

describe.skipIf(noPty !== undefined)('SerialLink on a real pty pair (hardware/pty.ts), native binding', () => {
  const tmp = tempDir('provenant-pty-');
  const boardPath = join(tmp.dir, 'board');
  const edgePath = join(tmp.dir, 'edge');
  let pair: PtyPair | undefined;
  afterAll(async () => {
    await pair?.close();
    tmp.cleanup();
  });

  async function plugIn(): Promise<void> {
    pair = await openPtyPair({ a: boardPath, b: edgePath });
  }
  async function pullOut(): Promise<void> {
    await pair?.close();
    pair = undefined;
  }

  it('carries bytes both ways, survives an unplug and reconnects on replug', async () => {
    await plugIn();
    const link = new SerialLink({ path: edgePath, baudRate: 115200, reconnectInitialMs: 50, reconnectMaxMs: 200 });
    const states: LinkState[] = [];
    link.onState((s) => states.push(s));
    const got: number[] = [];
    link.onData((c) => got.push(...c));
    await link.open();
    let fd = openSync(boardPath, 'r+');
    writeSync(fd, Buffer.from([7, 8, 9]));
    await waitFor(() => got.length === 3);
    expect(got).toEqual([7, 8, 9]);
    await link.write(new Uint8Array([4, 5]));
    const buf = Buffer.alloc(2);
    await waitFor(() => {
      try {
        return readSync(fd, buf, 0, 2, null) === 2;
      } catch {
        return false;
      }
    });
    expect([...buf]).toEqual([4, 5]);
    closeSync(fd);

    await pullOut(); // unplug
    await waitFor(() => link.state === 'reconnecting');
    await plugIn(); // replug on the same path
    await waitFor(() => link.state === 'open');
    fd = openSync(boardPath, 'r+');
    writeSync(fd, Buffer.from([1]));
    await waitFor(() => got.length === 4);
    closeSync(fd);
    expect(states.filter((s) => s === 'open').length).toBeGreaterThanOrEqual(2);
    await link.close();
    await pullOut();
  });
});

/** The HIL rig: its johnny-five calls against a stand-in IO plugin, and (with HIL_PORT) a real board-under-test. */
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { HilRig } from '../../hardware/hil/rig.js';
import { readDeviceFile } from '../../hardware/device-file.js';
import { EdgeDouble } from '../support/edge-double.js';
import { PARTIAL } from '../firmware/rig.js';

type Call = { op: string; pin: number; value: number; at: number };

/** stand-in IO plugin: no reference board on this machine. Records every pin call, reports ready at once. */
class StandInIo extends EventEmitter {
  readonly name = 'stand-in';
  readonly MODES = { INPUT: 0, OUTPUT: 1, ANALOG: 2, PWM: 3, SERVO: 4 };
  readonly pins: unknown[] = [];
  readonly analogPins: number[] = [];
  readonly RESOLUTION = { ADC: 1023, DAC: null, PWM: 255 };
  isReady = false;
  readonly calls: Call[] = [];
  constructor(answer = true) {
    super();
    if (answer)
      setTimeout(() => {
        this.isReady = true;
        this.emit('connect');
        this.emit('ready');
      }, 5);
  }
  pinMode(pin: number, value: number) {
    this.calls.push({ op: 'pinMode', pin, value, at: performance.now() });
  }
  analogWrite(pin: number, value: number) {
    this.calls.push({ op: 'analogWrite', pin, value, at: performance.now() });
  }
  digitalWrite(pin: number, value: number) {
    this.calls.push({ op: 'digitalWrite', pin, value, at: performance.now() });
  }
}

describe('HilRig against the stand-in IO plugin: no reference board on this machine', () => {
  it('opens nothing until used, then reports ready through johnny-five', async () => {
    const io = new StandInIo();
    const rig = new HilRig({ io });
    expect(io.listenerCount('ready')).toBe(0);
    await rig.ready();
    expect(io.isReady).toBe(true);
    await rig.close();
  });

  it('stimulus sets PWM mode and the duty scaled to 8 bits', async () => {
    const io = new StandInIo();
    const rig = new HilRig({ io });
    await rig.stimulus(9, 0.5);
    await rig.stimulus(9, 1);
    await rig.stimulus(10, 0);
    const ops = io.calls.map(({ op, pin, value }) => [op, pin, value]);
    expect(ops).toEqual([
      ['pinMode', 9, io.MODES.PWM],
      ['analogWrite', 9, 128],
      ['pinMode', 9, io.MODES.PWM],
      ['analogWrite', 9, 255],
      ['pinMode', 10, io.MODES.PWM],
      ['analogWrite', 10, 0],
    ]);
    await rig.close();
  });

  it('powerCycle drives the line low, waits offMs, then high', async () => {
    const io = new StandInIo();
    const rig = new HilRig({ io });
    await rig.powerCycle(7, 60);
    const ops = io.calls.map(({ op, pin, value }) => [op, pin, value]);
    expect(ops).toEqual([
      ['pinMode', 7, io.MODES.OUTPUT],
      ['digitalWrite', 7, 0],
      ['digitalWrite', 7, 1],
    ]);
    const [, low, high] = io.calls;
    expect(high!.at - low!.at).toBeGreaterThanOrEqual(55);
    await rig.close();
  });

  it('rejects with PROV_ERR_HIL when the IO never reports ready', async () => {
    const io = new StandInIo(false);
    const rig = new HilRig({ io, timeoutMs: 50 });
    await expect(rig.stimulus(9, 0.5)).rejects.toMatchObject({ code: 'PROV_ERR_HIL' });
    expect(io.calls).toEqual([]);
    await rig.close();
  });

  it('refuses bad pins, values and a missing IO before touching the board', async () => {
    const io = new StandInIo();
    const rig = new HilRig({ io });
    await expect(rig.stimulus(9, 1.5)).rejects.toThrow(RangeError);
    await expect(rig.stimulus(-1, 0.2)).rejects.toThrow(/pin/);
    await expect(rig.powerCycle(7, Number.NaN)).rejects.toThrow(/offMs/);
    expect(io.calls).toEqual([]);
    expect(() => new HilRig({})).toThrow(TypeError);
    await rig.close();
  });
});

const port = process.env['HIL_PORT'];
const deviceFile = process.env['HIL_DEVICE'];
if (!port || !deviceFile)
  console.log('real-board HIL tests skipped: set HIL_PORT (board-under-test serial port) and HIL_DEVICE (its device file)');

describe.skipIf(!port || !deviceFile)('board-under-test on HIL_PORT', () => {
  it('sends HELLO and READINGs whose tags verify under the device key', async () => {
    const dev = readDeviceFile(deviceFile as string);
    const edge = new EdgeDouble({ path: port as string, link: 'pty', key: dev.kIoT, partial: PARTIAL });
    await edge.open();
    // With a reference board wired to the reset line, reboot the board-under-test so its first HELLO lands on an open port.
    const ref = process.env['HIL_REF_PORT'] ? new HilRig({ path: process.env['HIL_REF_PORT'] }) : undefined;
    try {
      if (ref) await ref.powerCycle(Number(process.env['HIL_RESET_PIN'] ?? 7), 200);
      const deadline = Date.now() + 20_000;
      while (Date.now() < deadline && edge.received.filter((m) => m.kind === 'READING').length < 3)
        await new Promise((r) => setTimeout(r, 100));
      const hello = edge.received.find((m) => m.kind === 'HELLO');
      expect(hello && hello.kind === 'HELLO' ? hello.deviceId : undefined).toBe(dev.deviceId);
      const readings = edge.received.filter((m) => m.kind === 'READING');
      expect(readings.length).toBeGreaterThanOrEqual(3);
      expect(readings.every((m) => m.tagValid === true)).toBe(true);
    } finally {
      await edge.close();
      await ref?.close();
    }
  }, 30_000);
});

/**
 * Board behaviour beyond the wire basics, on the built bundle in a simulated board: the rate
 * guard, provisioning errors, counter exhaustion, the full ring, the production lock and the
 * two ways back (MAINT under K_maint, the owner's subkey of K_IoT; button held at boot).
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ensureFirmwareBuilt } from '../../firmware/build.js';
import { startSimBoard, SimStorage } from '../../hardware/sim/index.js';
import { maintTag, subkey, SUBKEY_MAINT } from '../../shared/crypto/domains.js';
import { sha256 } from '../../shared/crypto/sha256.js';
import {
  MAINT_UNLOCK,
  STATUS_BAD_PROVISIONING,
  STATUS_MAINT_REJECTED,
  STATUS_NOT_PROVISIONED,
  STATUS_RING_FULL,
  STATUS_SENSOR_FAULT,
  STATUS_SEQ_EXHAUSTED,
  STATUS_UNLOCKED,
} from '../../shared/wire/messages.js';
import { EdgeDouble } from '../support/edge-double.js';
import { ESPRUINO_SKIP, noteSkip, startEspruinoBoard } from '../support/espruino-board.js';
import { PARTIAL, rig, type Rig } from './rig.js';

noteSkip('sensor-fault test');

beforeAll(async () => {
  await ensureFirmwareBuilt();
});

let r: Rig | undefined;
afterEach(async () => {
  await r?.close();
  r = undefined;
});

describe('rate guard', () => {
  it('never samples faster than the profile, however often PARTIAL arrives', async () => {
    // Profile: 100 ms interval but at most 600 per minute → at least 100 ms; cap at 300/min → 200 ms.
    r = await rig('mock', { edge: { partial: { ...PARTIAL, intervalMs: 100, maxPerMinute: 300 } } });
    await r.edge.waitFor(() => r!.edge.of('READING').length >= 2, 10_000, 'readings');
    // Hammer the board with PARTIALs; a guard that restarted on PARTIAL would sample right after
    // each. The guard runs on uptime (which no PARTIAL moves), so that is what the gaps are measured on.
    for (let i = 0; i < 30; i++) {
      r.edge.send({ kind: 'PARTIAL', ...PARTIAL, intervalMs: 100, maxPerMinute: 300, edgeTimeMs: Math.floor(r.b.board.nowMs()) + 50 });
      await new Promise((res) => setTimeout(res, 5));
    }
    await r.edge.waitFor(() => r!.edge.of('READING').length >= 8, 10_000, '8 readings');
    const ts = r.edge.of('READING').map((m) => m.reading.uptimeMs as number);
    for (let i = 1; i < ts.length; i++) expect(ts[i]! - ts[i - 1]!).toBeGreaterThanOrEqual(200);
  });

  it('the provisioned interval is a floor too', async () => {
    const key = new Uint8Array(32).fill(1);
    r = await rig('mock', { key, provisioning: { deviceId: 'slow', key: Buffer.from(key).toString('base64'), intervalMs: 1000 } });
    await r.edge.waitFor(() => r!.edge.of('READING').length >= 3, 10_000, 'readings');
    // On uptime, the sampler's own clock (t may be slewed by up to 1 % toward the edge's time).
    const ts = r.edge.of('READING').map((m) => m.reading.uptimeMs as number);
    for (let i = 1; i < ts.length; i++) expect(ts[i]! - ts[i - 1]!).toBeGreaterThanOrEqual(1000);
  });
});

describe('sensor faults', () => {
  it.each([
    ['temperature NaN (as on the Linux build)', { temperature: () => NaN }, 1, [1]],
    [
      'analogRead throws',
      {
        analog: (): number => {
          throw new Error('Analog is not supported on this device.');
        },
      },
      2,
      [0],
    ],
    ['both', { temperature: () => NaN, analog: () => Infinity }, 3, []],
  ])('%s: the reading goes out without that channel, SENSOR_FAULT at most once per sample', async (_what, sensors, bits, ids) => {
    r = await rig('mock', { sensors });
    await r.edge.waitFor(() => r!.edge.of('READING').length >= 6, 10_000, 'readings despite the fault');
    const readings = r.edge.of('READING');
    expect(readings.every((m) => m.tagValid)).toBe(true);
    expect(readings.map((m) => m.reading.channels.map((c) => c.id))).toEqual(readings.map(() => ids));
    const faults = r.edge.of('STATUS').filter((s) => s.code === STATUS_SENSOR_FAULT);
    expect(faults.every((s) => s.value === bits)).toBe(true);
    // One report per sample slot: never more reports than readings (+1 for a sample in flight).
    expect(faults.length).toBeGreaterThan(0);
    expect(faults.length).toBeLessThanOrEqual(r.edge.of('READING').length + 1);
    // ... and each report is followed by its sample's reading before the next report comes.
    const order = r.edge.received.filter((m) => m.kind === 'READING' || (m.kind === 'STATUS' && m.code === STATUS_SENSOR_FAULT));
    for (let i = 1; i < order.length; i++) expect(order[i - 1]!.kind === 'STATUS' && order[i]!.kind === 'STATUS').toBe(false);
    expect(r.b.stats.uncaught).toEqual([]);
  });
});

describe.skipIf(ESPRUINO_SKIP !== undefined)('sensor faults on the real interpreter (no stand-in sensors)', () => {
  it('the Linux build: temperature NaN is reported once per sample, the analog channel and the readings go on', async () => {
    const key = new Uint8Array(32).fill(11);
    const real = await startEspruinoBoard({
      sensors: false,
      provisioning: { deviceId: 'lx-fault', key: Buffer.from(key).toString('base64'), intervalMs: 200 },
    });
    const edge = new EdgeDouble({ path: real.serial1, link: 'pty', key, partial: { ...PARTIAL, intervalMs: 200 } });
    try {
      await edge.open();
      await edge.waitFor(() => edge.of('READING').length >= 5, 30_000, 'readings despite the faults');
      const readings = edge.of('READING');
      expect(readings.every((m) => m.tagValid)).toBe(true);
      // analogRead on this build prints "Analog is not supported" and returns 0: only the NaN is detectable.
      expect(readings.every((m) => m.reading.channels.length === 1 && m.reading.channels[0]!.id === 1)).toBe(true);
      const faults = edge.of('STATUS').filter((st) => st.code === STATUS_SENSOR_FAULT);
      expect(faults.every((st) => st.value === 1)).toBe(true);
      expect(faults.length).toBeLessThanOrEqual(edge.of('READING').length + 1);
      expect(edge.of('HELLO')).toHaveLength(1); // one PARTIAL was enough; nothing restarted
      expect(real.uncaught()).toEqual([]);
    } finally {
      await edge.close();
      await real.close();
    }
  });
});

describe('provisioning', () => {
  it('without provenant.json the board says NOT_PROVISIONED and keeps its console', async () => {
    r = await rig('mock', { provisioning: {} });
    r.b.storage.erase('provenant.json');
    r.b.reboot();
    await r.edge.waitFor(() => r!.edge.of('STATUS').some((s) => s.code === STATUS_NOT_PROVISIONED), 5000, 'NOT_PROVISIONED');
    expect(r.b.board.console).toBe('Serial1'); // LINUX's data link; the simulated board's console starts there;
    expect(r.edge.of('HELLO')).toHaveLength(0);
  });

  it.each([
    [{ deviceId: 'has space', key: Buffer.alloc(32).toString('base64') }, 'deviceId'],
    [{ deviceId: 'ok', key: 'short' }, 'key'],
    [{ deviceId: 'ok', key: Buffer.alloc(32).toString('base64'), link: 'Serial9' }, 'link'],
    [{ deviceId: 'ok', key: Buffer.alloc(32).toString('base64'), intervalMs: 5 }, 'intervalMs'],
    [{ deviceId: 'ok', key: Buffer.alloc(32).toString('base64'), sensors: ['battery'] }, 'sensors'],
  ])('invalid provisioning %j is reported naming %s', async (prov, field) => {
    r = await rig('mock', { provisioning: prov });
    await r.edge.waitFor(() => r!.edge.of('STATUS').some((s) => s.code === STATUS_BAD_PROVISIONING), 5000, 'BAD_PROVISIONING');
    expect(r.edge.of('STATUS').find((s) => s.code === STATUS_BAD_PROVISIONING)!.text).toMatch(new RegExp(`^${field}`));
  });
});

describe('counter', () => {
  it('near 2^32 the board stops and asks for re-enrollment; nothing turns this off', async () => {
    const storage = new SimStorage();
    storage.set('pv.seq', Buffer.from(String(0xffff0000 - 2)));
    r = await rig('mock', { storage });
    await r.edge.waitFor(() => r!.edge.of('STATUS').some((s) => s.code === STATUS_SEQ_EXHAUSTED), 10_000, 'SEQ_EXHAUSTED');
    const seqs = r.edge.of('READING').map((m) => m.reading.seq);
    expect(seqs).toEqual([0xffff0000 - 2, 0xffff0000 - 1]);
    await new Promise((res) => setTimeout(res, 300));
    expect(r.edge.of('READING')).toHaveLength(2);
  });

  it('persists the lease before using it (skip-ahead: one flash write per 32 readings)', async () => {
    r = await rig('mock');
    await r.edge.waitFor(() => r!.edge.of('READING').length >= 3, 10_000, 'readings');
    expect(Number(r.b.storage.get('pv.seq')!.toString())).toBe(32);
  });
});

describe('resend ring', () => {
  it('when full the board skips samples (no seq consumed) and says RING_FULL; an ACK frees it', async () => {
    r = await rig('mock', { edge: { autoAck: false } });
    await r.edge.waitFor(() => r!.edge.of('STATUS').some((s) => s.code === STATUS_RING_FULL), 10_000, 'RING_FULL');
    const fresh = [...new Set(r.edge.of('READING').map((m) => m.reading.seq))];
    expect(fresh).toEqual([0, 1, 2, 3, 4, 5, 6, 7]); // LINUX ring: 8
    r.edge.send({ kind: 'ACK', seq: 7 });
    await r.edge.waitFor(() => r!.edge.of('READING').some((m) => m.reading.seq === 8), 10_000, 'seq 8 after ACK');
  });
});

describe('production lock and the way back', () => {
  const maint = (key: Uint8Array, deviceId: string, counter: number, tag?: Uint8Array) => ({
    kind: 'MAINT' as const,
    command: MAINT_UNLOCK,
    counter,
    // The owner's MAINT: under K_maint, derived from K_IoT (shared/crypto/domains.ts).
    tag: tag ?? maintTag(sha256, subkey(sha256, key, SUBKEY_MAINT), deviceId, MAINT_UNLOCK, counter),
  });

  it('production moves the console off every link; MAINT under K_maint brings it back; replays are refused', async () => {
    const key = new Uint8Array(32).fill(3);
    const prov = { deviceId: 'prod-1', key: Buffer.from(key).toString('base64'), intervalMs: 100, production: true };
    r = await rig('mock', { key, provisioning: prov });
    await r.edge.waitFor(() => r!.edge.of('READING').length >= 1, 10_000, 'readings');
    expect(r.b.board.console).toBeNull();
    expect(r.edge.of('HELLO')[0]!.flags).toBe(3); // production | locked
    r.edge.send(maint(new Uint8Array(32).fill(4), 'prod-1', 1)); // wrong key
    await r.edge.waitFor(() => r!.edge.of('STATUS').some((s) => s.code === STATUS_MAINT_REJECTED), 5000, 'MAINT_REJECTED');
    expect(r.b.board.console).toBeNull();
    r.edge.send(maint(key, 'prod-1', 5));
    await r.edge.waitFor(() => r!.edge.of('STATUS').some((s) => s.code === STATUS_UNLOCKED), 5000, 'UNLOCKED');
    expect(r.b.board.console).toBe('Serial1');
    // The console is the REPL again: the flasher can talk to it.
    r.edge.sendRaw(Buffer.from('\x10globalThis.probe = 42\n'));
    await new Promise((res) => setTimeout(res, 50));
    expect(r.b.board.eval('probe')).toBe(42);
    // After a reboot the lock is back and counter 5 is spent.
    r.b.reboot();
    await r.edge.waitFor(() => r!.b.board.console === null, 5000, 'relock');
    const n = r.edge.of('STATUS').filter((s) => s.code === STATUS_MAINT_REJECTED).length;
    r.edge.send(maint(key, 'prod-1', 5));
    await r.edge.waitFor(() => r!.edge.of('STATUS').filter((s) => s.code === STATUS_MAINT_REJECTED).length > n, 5000, 'replay rejected');
    expect(r.b.board.console).toBeNull();
  });

  it('a button held at boot keeps the console on the link and does not sample', async () => {
    const key = new Uint8Array(32).fill(5);
    const b = await startSimBoard({
      board: 'PICO',
      clockSpeedup: 20,
      buttonHeld: true,
      provisioning: { deviceId: 'pico-btn', key: Buffer.from(key).toString('base64'), intervalMs: 100, production: true },
    });
    const edge = new EdgeDouble({ path: b.path, link: 'mock', key, partial: PARTIAL });
    r = {
      b,
      edge,
      key,
      close: async () => {
        await edge.close();
        await b.stop();
      },
    };
    await edge.open();
    b.reboot();
    await edge.waitFor(() => edge.of('STATUS').some((s) => s.code === STATUS_UNLOCKED), 5000, 'UNLOCKED');
    expect(b.board.console).toBe('USB');
    await new Promise((res) => setTimeout(res, 200));
    expect(edge.of('READING')).toHaveLength(0);
  });
});

describe('data link', () => {
  it('Serial1 with a path: the board sets the port up with baud, profile pins and the path', async () => {
    const key = new Uint8Array(32).fill(6);
    r = await rig('mock', {
      board: 'PICO',
      key,
      provisioning: {
        deviceId: 'ser-1',
        key: Buffer.from(key).toString('base64'),
        link: 'Serial1',
        baud: 9600,
        path: '/dev/pts/9',
        intervalMs: 100,
      },
    });
    await r.edge.waitFor(() => r!.edge.of('READING').length >= 1, 10_000, 'a reading over Serial1');
    expect(r.b.board.hostLink).toBe('Serial1');
    expect(r.b.board.setups.at(-1)).toEqual({ name: 'Serial1', baud: 9600, options: { rx: 'B7', tx: 'B6', path: '/dev/pts/9' } });
    expect(r.edge.of('READING')[0]!.reading.batteryMv).toBe(3300); // PICO: supply via E.getAnalogVRef()
    expect(r.b.board.console).toBeNull(); // the sim's console started on the link; the firmware moved it off
  });

  it('PUCKJS defaults to Bluetooth (Nordic UART) and reads its battery from NRF.getBattery()', async () => {
    const key = new Uint8Array(32).fill(8);
    r = await rig('mock', {
      board: 'PUCKJS',
      key,
      sensors: { battery: () => 2.987 },
      provisioning: { deviceId: 'puck-1', key: Buffer.from(key).toString('base64'), intervalMs: 100 },
    });
    await r.edge.waitFor(() => r!.edge.of('READING').length >= 1, 10_000, 'a reading over Bluetooth');
    expect(r.b.board.hostLink).toBe('Bluetooth');
    expect(r.b.board.setups).toEqual([]); // Bluetooth needs no Serial.setup
    const m = r.edge.of('READING')[0]!;
    expect(m.reading.batteryMv).toBe(2987);
    expect(m.reading.channels.map((c) => c.id)).toEqual([0, 1]);
    expect(r.edge.of('HELLO')[0]!.board).toBe('PUCKJS');
  });
});

/**
 * The flasher against a simulated board on a real pty (hardware/pty.ts): the bytes it sends go through
 * the board's REPL, land in Storage, and the firmware boots and says HELLO. Also: dry run
 * equals what is sent, a missing or silent port fails clearly, a production board needs --unlock.
 * The simulated board here is a PICO (console and data link both USB, on the pty); the LINUX
 * board is flashed on Espruino's own interpreter (its console pty; data link Serial1) below.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DIST_FIRMWARE, ensureFirmwareBuilt } from '../../firmware/build.js';
import { ptyUnavailableReason, startSimBoard, type SimBoardHandle } from '../../hardware/sim/index.js';
import { LinuxBoard } from '../../hardware/linux-board.js';
import { encodeMessage } from '../../shared/wire/union.js';
import { EdgeDouble } from '../support/edge-double.js';
import { ESPRUINO_SKIP, noteSkip, startEspruinoBoard } from '../support/espruino-board.js';
import { runCli } from '../cli/run-in-process.js';

const run = promisify(execFile);
const noPty = ptyUnavailableReason();
if (noPty) console.log(`flasher pty tests skipped: ${noPty}`);
noteSkip('flasher and monitor tests');

const dir = mkdtempSync(join(tmpdir(), 'provenant-flash-'));
const key = Buffer.alloc(32, 0x42);
const deviceFile = join(dir, 'dev-7.device.json');
writeFileSync(deviceFile, JSON.stringify({ version: 1, deviceId: 'dev-7', kIoT: key.toString('hex'), board: 'PICO' }));
const linuxDeviceFile = join(dir, 'dev-8.device.json');
writeFileSync(linuxDeviceFile, JSON.stringify({ version: 1, deviceId: 'dev-8', kIoT: key.toString('hex'), board: 'LINUX' }));

/**
 * The flasher in this process (test/cli/run-in-process.ts: no Node + tsx start-up per command,
 * ~2-8 s on the loaded machine). The real-interpreter tests below run `node bin/provenant.js`.
 */
async function flashCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const r = await runCli(...args);
  return { code: r.code, stdout: r.out, stderr: r.err };
}

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run('node', ['bin/provenant.js', ...args], { cwd: join(import.meta.dirname, '../..'), timeout: 60_000 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

beforeAll(async () => {
  await ensureFirmwareBuilt();
});

let b: SimBoardHandle | undefined;
afterEach(async () => {
  await b?.stop();
  b = undefined;
});

describe('provenant flash', () => {
  it('--dry-run writes the upload; replayed into an empty board it installs bundle and provisioning', async () => {
    const out = join(dir, 'upload.txt');
    const r = await flashCli(['flash', '--board', 'PICO', '--device', deviceFile, '--dry-run', out, '--interval', '500']);
    expect(r.code).toBe(0);
    const bytes = readFileSync(out);
    expect(bytes.toString('latin1')).toContain('require("Storage").write(".bootcde"');
    expect(bytes.toString('latin1')).toContain('require("Storage").write("provenant.json"');
    expect(bytes.toString('latin1')).not.toContain(key.toString('hex')); // the key travels base64 inside provenant.json only
    b = await startSimBoard({ board: 'PICO', bundlePath: null });
    b.board.hostWrite(bytes);
    await new Promise((res) => setTimeout(res, 100));
    expect(b.stats.replErrors).toEqual([]);
    expect(b.storage.get('.bootcde')!.equals(readFileSync(join(DIST_FIRMWARE, 'PICO.js')))).toBe(true);
    const prov = JSON.parse(b.storage.get('provenant.json')!.toString('latin1'));
    expect(prov).toMatchObject({ deviceId: 'dev-7', key: key.toString('base64'), link: 'USB', intervalMs: 500, production: false });
    expect(b.stats.framesOut['HELLO']).toBeGreaterThanOrEqual(1); // load() booted the firmware
  });

  it.skipIf(noPty !== undefined)('flashes an empty board over a pty and the firmware says HELLO', async () => {
    b = await startSimBoard({ board: 'PICO', bundlePath: null, link: 'pty' });
    const r = await flashCli(['flash', '--board', 'PICO', '--port', b.path, '--device', deviceFile]);
    expect(r.stderr).toMatch(/100%/);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/flashed dev-7 on .*PICO, fw 0\.1\.0 .* next seq 0, boot 1/);
    expect(b.storage.get('.bootcde')!.equals(readFileSync(join(DIST_FIRMWARE, 'PICO.js')))).toBe(true);
    expect(b.board.console).toBeNull(); // the firmware took the link
  });

  it.skipIf(noPty !== undefined)('a production board is refused without --unlock and re-flashed with it', async () => {
    b = await startSimBoard({
      board: 'PICO',
      link: 'pty',
      provisioning: { deviceId: 'dev-7', key: key.toString('base64'), production: true },
    });
    await new Promise((res) => setTimeout(res, 100));
    expect(b.board.console).toBeNull();
    const refused = await flashCli(['flash', '--board', 'PICO', '--port', b.path, '--device', deviceFile, '--timeout', '800']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/no Espruino REPL answered .*--unlock/);
    const ok = await flashCli(['flash', '--board', 'PICO', '--port', b.path, '--device', deviceFile, '--unlock', '--interval', '700']);
    if (ok.code !== 0) console.log(ok.stderr, ok.stdout, b.stats);
    expect(ok.code).toBe(0);
    expect(JSON.parse(b.storage.get('provenant.json')!.toString('latin1')).intervalMs).toBe(700);
  });

  it('a missing port is a clear error', async () => {
    const r = await flashCli(['flash', '--board', 'PICO', '--port', join(dir, 'no-such-tty'), '--device', deviceFile]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot open serial port .*no-such-tty/);
  });

  it.skipIf(noPty !== undefined)('a port nobody answers on times out clearly', async () => {
    b = await startSimBoard({ board: 'PICO', bundlePath: null, link: 'pty' });
    b.powerOff(); // the pty is there, the board is dead
    const r = await flashCli(['flash', '--board', 'PICO', '--port', b.path, '--device', deviceFile, '--timeout', '500']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no Espruino REPL answered/);
  });

  it('bad arguments and device files are refused before anything is sent', async () => {
    expect((await flashCli(['flash', '--board', 'PICO', '--device', deviceFile])).stderr).toMatch(/--port PATH .* or --dry-run FILE/);
    expect((await flashCli(['flash', '--board', 'NOPE', '--device', deviceFile, '--dry-run', join(dir, 'x')])).stderr).toMatch(
      /unknown board "NOPE"/,
    );
    expect((await flashCli(['flash', '--board', 'PICO', '--device', linuxDeviceFile, '--dry-run', join(dir, 'x')])).stderr).toMatch(
      /for board LINUX, not PICO/,
    );
    // The Linux build's Serial1 is a device file: without --serial-path there is no data link.
    expect((await flashCli(['flash', '--board', 'LINUX', '--device', linuxDeviceFile, '--dry-run', join(dir, 'x')])).stderr).toMatch(
      /Serial1 on LINUX is a device file: give --serial-path/,
    );
    expect(
      (await flashCli(['flash', '--board', 'LINUX', '--device', linuxDeviceFile, '--link', 'USB', '--dry-run', join(dir, 'x')])).stderr,
    ).toMatch(/link USB is not available on LINUX/);
    const badFile = join(dir, 'bad.device.json');
    writeFileSync(badFile, JSON.stringify({ deviceId: 'x', kIoT: 'zz' }));
    const r = await flashCli(['flash', '--board', 'PICO', '--device', badFile, '--dry-run', join(dir, 'x')]);
    expect(r.stderr).toMatch(/kIoT must be 64 hex digits/);
    expect(r.stderr).not.toMatch(/zz/);
  });
});

describe.skipIf(ESPRUINO_SKIP !== undefined)('provenant flash on the real interpreter (LINUX: console on a pty, data link Serial1)', () => {
  let real: LinuxBoard | undefined;
  afterEach(async () => {
    await real?.close();
    real = undefined;
  });

  // No retry: the interpreter drops its input line when reset() or load() restarts it, and the
  // flasher now waits for the restart to be over before it types on (hardware/flash.ts SETTLE_PROBE).
  it('uploads paced and verified, twice in a row; the board boots from Storage, says HELLO on Serial1, takes its PARTIAL, streams valid READINGs', async () => {
    real = await LinuxBoard.start(); // empty flash: a bare REPL on its console
    for (const attempt of [1, 2]) {
      await real.releaseConsole();
      const r = await cli([
        'flash',
        '--board',
        'LINUX',
        '--port',
        real.usbPath,
        '--device',
        linuxDeviceFile,
        '--serial-path',
        real.serial1Board,
        '--interval',
        '200',
      ]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/100%/);
      expect(r.stdout).toMatch(/^flashed dev-8 on .*: LINUX, SHA-256 of .bootcde and provenant.json verified on the board/);
      expect(r.stdout).toContain(`booted (boot ${attempt}), data link Serial1 at ${real.serial1Board}`);
    }
    expect(await real.readFile('.bootcde')).toEqual(readFileSync(join(DIST_FIRMWARE, 'LINUX.js')));
    // A power cycle: the interpreter boots the firmware from Storage by itself.
    await real.reboot();
    const edge = new EdgeDouble({
      path: real.serial1,
      link: 'pty',
      key: new Uint8Array(key),
      partial: { epoch: 2, partialDigest: new Uint8Array(32).fill(4), intervalMs: 200, maxPerMinute: 0 },
    });
    await edge.open();
    try {
      await edge.waitFor(() => edge.of('READING').length >= 3, 30_000, 'readings from the flashed board');
      expect(edge.of('HELLO')[0]).toMatchObject({ deviceId: 'dev-8', board: 'LINUX', bootCount: 3 });
      // No stand-in sensors here: the Linux build's temperature is NaN, reported as a fault;
      // the reading goes out anyway.
      expect(edge.of('READING').every((m) => m.tagValid && m.reading.deviceId === 'dev-8')).toBe(true);
    } finally {
      await edge.close();
    }
    await real.console();
    expect(real.uncaught()).toEqual([]);
  });

  it("the probe's Ctrl-C lands in running code, which drops Espruino into its debugger: the flasher leaves it and flashes", async () => {
    real = await LinuxBoard.start(); // empty flash: a bare REPL on its console
    // Code running when the probe's Ctrl-C arrives (a firmware timer callback; here callbacks busy
    // for 0.9 s of every second, so the Ctrl-C lands in one nine times in ten): the interpreter
    // stops in its debugger ("debug>"), which takes lines as debugger commands. Reproduced with
    // Ctrl-C against a sampling board too. `quit` leaves the debugger; the callback runs to its end.
    await real.run('setInterval(function(){var t=getTime()+0.9;while(getTime()<t){}},1000)');
    await real.releaseConsole();
    const r = await cli([
      'flash',
      '--board',
      'LINUX',
      '--port',
      real.usbPath,
      '--device',
      linuxDeviceFile,
      '--serial-path',
      real.serial1Board,
      '--timeout',
      '20000',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/SHA-256 of .bootcde and provenant.json verified on the board/);
  });

  it('monitor --device on the Serial1 pty shows the READINGs with valid tags', async () => {
    real = await startEspruinoBoard({ provisioning: { deviceId: 'dev-8', key: key.toString('base64'), intervalMs: 100 } });
    // The monitor only listens: the test plays the edge's part, writing PARTIALs into the same pty.
    const fd = openSync(real.serial1, 'w');
    const partials = setInterval(() => {
      // The pty may already be closed when a timed-out test is torn down: nothing to send then.
      try {
        writeSync(
          fd,
          encodeMessage({
            kind: 'PARTIAL',
            epoch: 3,
            partialDigest: new Uint8Array(32).fill(1),
            edgeTimeMs: Date.now(),
            intervalMs: 100,
            maxPerMinute: 0,
          }),
        );
      } catch {
        clearInterval(partials);
      }
    }, 500);
    try {
      const r = await cli([
        'monitor',
        '--port',
        real.serial1,
        '--device',
        linuxDeviceFile,
        '--json',
        // 30 frames, not 12: at load ~25, 12 frames held only 2 READINGs once (the rest HELLOs or
        // STATUS while the slowed interpreter took its PARTIAL; the message lists the kinds).
        '--count',
        '30',
        '--timeout',
        '30000',
      ]);
      const lines = r.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { kind: string; tagCheck?: string });
      const readings = lines.filter((l) => l.kind === 'READING');
      expect(readings.length, `frames seen: ${lines.map((l) => l.kind).join(' ')}`).toBeGreaterThanOrEqual(3);
      expect(readings.every((l) => l.tagCheck === 'valid')).toBe(true);
      expect(r.code).toBe(0);
    } finally {
      clearInterval(partials);
      closeSync(fd);
    }
  });
});

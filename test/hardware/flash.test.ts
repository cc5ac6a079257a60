/**
 * The flasher against a simulated board on a real pty (socat): the bytes it sends go through
 * the board's REPL, land in Storage, and the firmware boots and says HELLO. Also: dry run
 * equals what is sent, a missing or silent port fails clearly, a production board needs --unlock.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DIST_FIRMWARE, ensureFirmwareBuilt } from '../../firmware/build.js';
import { hasSocat, startSimBoard, type SimBoardHandle } from '../../hardware/sim/index.js';

const run = promisify(execFile);
const socat = hasSocat();
if (!socat) console.log('flasher pty tests skipped: socat is not installed (apt-get install -y socat)');

const dir = mkdtempSync(join(tmpdir(), 'provenant-flash-'));
const key = Buffer.alloc(32, 0x42);
const deviceFile = join(dir, 'dev-7.device.json');
writeFileSync(deviceFile, JSON.stringify({ version: 1, deviceId: 'dev-7', kIoT: key.toString('hex'), board: 'LINUX' }));

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
    const r = await cli(['flash', '--board', 'LINUX', '--device', deviceFile, '--dry-run', out, '--interval', '500']);
    expect(r.code).toBe(0);
    const bytes = readFileSync(out);
    expect(bytes.toString('latin1')).toContain('require("Storage").write(".bootcde"');
    expect(bytes.toString('latin1')).toContain('require("Storage").write("provenant.json"');
    expect(bytes.toString('latin1')).not.toContain(key.toString('hex')); // the key travels base64 inside provenant.json only
    b = await startSimBoard({ board: 'LINUX', bundlePath: null });
    b.board.hostWrite(bytes);
    await new Promise((res) => setTimeout(res, 100));
    expect(b.stats.replErrors).toEqual([]);
    expect(b.storage.get('.bootcde')!.equals(readFileSync(join(DIST_FIRMWARE, 'LINUX.js')))).toBe(true);
    const prov = JSON.parse(b.storage.get('provenant.json')!.toString('latin1'));
    expect(prov).toMatchObject({ deviceId: 'dev-7', key: key.toString('base64'), link: 'USB', intervalMs: 500, production: false });
    expect(b.stats.framesOut['HELLO']).toBeGreaterThanOrEqual(1); // load() booted the firmware
  });

  it.skipIf(!socat)('flashes an empty board over a pty and the firmware says HELLO', async () => {
    b = await startSimBoard({ board: 'LINUX', bundlePath: null, link: 'pty' });
    const r = await cli(['flash', '--board', 'LINUX', '--port', b.path, '--device', deviceFile]);
    expect(r.stderr).toMatch(/100%/);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/flashed dev-7 on .*LINUX, fw 0\.1\.0 .* next seq 0, boot 1/);
    expect(b.storage.get('.bootcde')!.equals(readFileSync(join(DIST_FIRMWARE, 'LINUX.js')))).toBe(true);
    expect(b.board.console).toBeNull(); // the firmware took the link
  });

  it.skipIf(!socat)('a production board is refused without --unlock and re-flashed with it', async () => {
    b = await startSimBoard({
      board: 'LINUX',
      link: 'pty',
      provisioning: { deviceId: 'dev-7', key: key.toString('base64'), production: true },
    });
    await new Promise((res) => setTimeout(res, 100));
    expect(b.board.console).toBeNull();
    const refused = await cli(['flash', '--board', 'LINUX', '--port', b.path, '--device', deviceFile, '--timeout', '800']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/no Espruino REPL answered .*--unlock/);
    const ok = await cli(['flash', '--board', 'LINUX', '--port', b.path, '--device', deviceFile, '--unlock', '--interval', '700']);
    if (ok.code !== 0) console.log(ok.stderr, ok.stdout, b.stats);
    expect(ok.code).toBe(0);
    expect(JSON.parse(b.storage.get('provenant.json')!.toString('latin1')).intervalMs).toBe(700);
  });

  it('a missing port is a clear error', async () => {
    const r = await cli(['flash', '--board', 'LINUX', '--port', join(dir, 'no-such-tty'), '--device', deviceFile]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot open serial port .*no-such-tty/);
  });

  it.skipIf(!socat)('a port nobody answers on times out clearly', async () => {
    b = await startSimBoard({ board: 'LINUX', bundlePath: null, link: 'pty' });
    b.powerOff(); // the pty is there, the board is dead
    const r = await cli(['flash', '--board', 'LINUX', '--port', b.path, '--device', deviceFile, '--timeout', '500']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no Espruino REPL answered/);
  });

  it('bad arguments and device files are refused before anything is sent', async () => {
    expect((await cli(['flash', '--board', 'LINUX', '--device', deviceFile])).stderr).toMatch(/--port PATH .* or --dry-run FILE/);
    expect((await cli(['flash', '--board', 'NOPE', '--device', deviceFile, '--dry-run', join(dir, 'x')])).stderr).toMatch(
      /unknown board "NOPE"/,
    );
    expect((await cli(['flash', '--board', 'PICO', '--device', deviceFile, '--dry-run', join(dir, 'x')])).stderr).toMatch(
      /for board LINUX, not PICO/,
    );
    const badFile = join(dir, 'bad.device.json');
    writeFileSync(badFile, JSON.stringify({ deviceId: 'x', kIoT: 'zz' }));
    const r = await cli(['flash', '--board', 'LINUX', '--device', badFile, '--dry-run', join(dir, 'x')]);
    expect(r.stderr).toMatch(/kIoT must be 64 hex digits/);
    expect(r.stderr).not.toMatch(/zz/);
  });
});

/** `provenant monitor` against a simulated board on a pty: frames decoded, tags checked. */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureFirmwareBuilt } from '../../firmware/build.js';
import { ptyUnavailableReason, startSimBoard, type SimBoardHandle } from '../../hardware/sim/index.js';
import { encodeMessage } from '../../shared/wire/union.js';
import { renderMessage } from '../../hardware/monitor.js';

const noPty = ptyUnavailableReason();
if (noPty) console.log(`monitor pty tests skipped: ${noPty}`);
const dir = mkdtempSync(join(tmpdir(), 'provenant-mon-'));
const key = Buffer.alloc(32, 0x21);
const good = join(dir, 'good.device.json');
const wrong = join(dir, 'wrong.device.json');
writeFileSync(good, JSON.stringify({ version: 1, deviceId: 'mon-1', kIoT: key.toString('hex') }));
writeFileSync(wrong, JSON.stringify({ version: 1, deviceId: 'mon-1', kIoT: Buffer.alloc(32, 0x22).toString('hex') }));

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('node', ['bin/provenant.js', ...args], { cwd: join(import.meta.dirname, '../..'), timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

beforeAll(async () => {
  await ensureFirmwareBuilt();
});

let b: SimBoardHandle | undefined;
afterEach(async () => {
  await b?.stop();
  b = undefined;
});

/**
 * The monitor only listens, so the test plays the edge's part straight into the board's link:
 * a PARTIAL every 300 ms until the monitor exits (its start-up time varies with machine load).
 */
async function withPartials<T>(board: SimBoardHandle, run: Promise<T>): Promise<T> {
  let done = false;
  void run.finally(() => {
    done = true;
  });
  while (!done) {
    board.board.hostWrite(
      encodeMessage({
        kind: 'PARTIAL',
        epoch: 3,
        partialDigest: new Uint8Array(32).fill(1),
        edgeTimeMs: Math.floor(board.board.nowMs()),
        intervalMs: 100,
        maxPerMinute: 0,
      }),
    );
    await new Promise((r) => setTimeout(r, 300));
  }
  return run;
}

describe.skipIf(noPty !== undefined)('provenant monitor', () => {
  it('prints one JSON object per frame and checks READING tags with the device file', async () => {
    b = await startSimBoard({
      board: 'LINUX',
      link: 'pty',
      clockSpeedup: 10,
      provisioning: { deviceId: 'mon-1', key: key.toString('base64'), intervalMs: 1000 },
    });
    const r = await withPartials(b, cli(['monitor', '--port', b.path, '--device', good, '--count', '6', '--json', '--timeout', '20000']));
    if (r.code !== 0) console.log('monitor failed:', r.code, r.stderr, r.stdout);
    expect(r.code).toBe(0);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { kind: string; tagCheck?: string; reading?: { deviceId: string } });
    expect(lines).toHaveLength(6);
    const readings = lines.filter((l) => l.kind === 'READING');
    expect(readings.length).toBeGreaterThan(0);
    expect(readings.every((l) => l.tagCheck === 'valid' && l.reading!.deviceId === 'mon-1')).toBe(true);
  });

  it('a wrong key shows every READING invalid and exits 2', async () => {
    b = await startSimBoard({
      board: 'LINUX',
      link: 'pty',
      clockSpeedup: 10,
      provisioning: { deviceId: 'mon-1', key: key.toString('base64'), intervalMs: 1000 },
    });
    const r = await withPartials(b, cli(['monitor', '--port', b.path, '--device', wrong, '--count', '5', '--timeout', '20000']));
    if (r.code !== 2) console.log('monitor run:', r.code, r.stderr, r.stdout);
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/READING mon-1 seq=\d+ .* invalid/);
    expect(r.stdout).not.toMatch(/ valid\n/);
  });
});

describe('monitor rendering and arguments', () => {
  it('renders HELLO and READING for humans', () => {
    const hello = renderMessage(
      {
        kind: 'HELLO',
        deviceId: 'd',
        fwVersion: '0.1.0',
        fwHash: new Uint8Array(32),
        seq: 5,
        bootCount: 2,
        flags: 3,
        pending: 1,
        board: 'PICO',
      },
      undefined,
      false,
    );
    expect(hello).toBe('HELLO d board=PICO fw=0.1.0 0000000000000000… seq=5 boot=2 flags=3 pending=1');
  });
  it('refuses a missing port and bad numbers', async () => {
    expect((await cli(['monitor', '--port', join(dir, 'nope')])).stderr).toMatch(/cannot open serial port/);
    expect((await cli(['monitor', '--port', 'x', '--count', '0'])).stderr).toMatch(/--count must be a positive integer/);
  });
});

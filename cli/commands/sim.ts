/**
 * `provenant sim`: simulated boards in their own process, each behind a pty pair, so `flash`,
 * `monitor` and `edge` can be tried without hardware (docs/firmware.md, "Trying it without a
 * board"). `--boards N` starts N empty boards (an Espruino REPL, like a board out of its box:
 * flash them); `--device FILE...` starts one board per device file already running the built
 * firmware with that device's provisioning. Prints one line per board (name and port) and a JSON
 * line, then runs until SIGINT/SIGTERM.
 */
import type { Command } from 'commander';
import { ProvenantError } from '../../shared/errors.js';

interface SimOptions {
  boards?: string;
  device?: string[];
  board: string;
  dir?: string;
  interval: string;
  speedup: string;
}

const positive = (v: string, name: string, max: number): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > max)
    throw new ProvenantError('PROV_ERR_BAD_INPUT', `--${name} must be an integer 1..${max}, got '${v}'`, { field: name });
  return n;
};

export function register(program: Command): void {
  program
    .command('sim')
    .description('run simulated boards (the built firmware on a Node vm) behind pty pairs, and print their ports')
    .option('--boards <n>', 'start N empty boards, ready for `provenant flash` (default 1 without --device)')
    .option('--device <files...>', 'start one board per device file, already flashed and provisioned (no `flash` needed)')
    .option('--board <name>', 'board profile of every board (firmware/boards/<name>.json)', 'PICO')
    .option(
      '--dir <dir>',
      "where the ports (DIR/sim-1 …) and the boards' flash (DIR/sim-1.flash/) live; a board on an existing flash keeps its firmware (default: a new temp dir)",
    )
    .option('--interval <ms>', 'sampling interval of --device boards, ms', '1000')
    .option('--speedup <n>', 'board clock and timers N times faster', '1')
    .action(async (opts: SimOptions) => {
      if (opts.boards !== undefined && opts.device !== undefined)
        throw new ProvenantError('PROV_ERR_BAD_INPUT', 'give --boards N (empty boards) or --device FILE... (flashed boards), not both', {
          field: 'boards',
        });
      const interval = positive(opts.interval, 'interval', 86_400_000);
      const speedup = positive(opts.speedup, 'speedup', 1000);
      const { mkdirSync, mkdtempSync, rmSync } = await import('node:fs');
      const { tmpdir } = await import('node:os');
      const { join, resolve } = await import('node:path');
      const { loadBoard } = await import('../../firmware/boards.js');
      loadBoard(opts.board); // an unknown profile fails here, naming the known ones
      const { readDeviceFile } = await import('../../hardware/device-file.js');
      const devices = (opts.device ?? []).map((f) => readDeviceFile(f));
      const count = devices.length > 0 ? devices.length : positive(opts.boards ?? '1', 'boards', 64);
      if (devices.length > 0) {
        const { ensureFirmwareBuilt } = await import('../../firmware/build.js');
        await ensureFirmwareBuilt();
      }
      const ownDir = opts.dir === undefined;
      const dir = opts.dir !== undefined ? resolve(opts.dir) : mkdtempSync(join(tmpdir(), 'provenant-sim-'));
      mkdirSync(dir, { recursive: true });
      const { startSimBoard } = await import('../../hardware/sim/index.js');
      const started: { stop(): Promise<void> }[] = [];
      const stopAll = async (): Promise<void> => {
        for (const b of started.splice(0)) await b.stop();
        if (ownDir) rmSync(dir, { recursive: true, force: true });
      };
      const rows: { name: string; port: string; board: string; deviceId: string | null }[] = [];
      try {
        for (let i = 0; i < count; i++) {
          const name = `sim-${i + 1}`;
          const d = devices[i];
          const b = await startSimBoard({
            board: opts.board,
            link: 'pty',
            path: join(dir, name),
            storageDir: join(dir, `${name}.flash`),
            clockSpeedup: speedup,
            ...(d
              ? { provisioning: { deviceId: d.deviceId, key: Buffer.from(d.kIoT).toString('base64'), intervalMs: interval } }
              : { bundlePath: null }),
          });
          started.push(b);
          const stored = b.storage.get('provenant.json');
          const deviceId =
            d?.deviceId ?? (stored ? String((JSON.parse(stored.toString('latin1')) as { deviceId?: unknown }).deviceId) : null);
          rows.push({ name, port: b.path, board: opts.board, deviceId });
          const what = d
            ? `running ${d.deviceId}`
            : stored
              ? `flashed earlier (${deviceId})`
              : 'empty: provenant flash --board ' + opts.board + ' --port ' + b.path + ' --device FILE';
          process.stdout.write(`${name}  ${b.path}  ${opts.board}  ${what}\n`);
        }
      } catch (err) {
        await stopAll();
        throw err;
      }
      process.stdout.write(`${JSON.stringify({ dir, boards: rows })}\n`);
      process.stderr.write(`provenant sim: ${count} board(s) running; Ctrl-C stops them\n`);
      await new Promise<void>((done) => {
        process.once('SIGINT', () => done());
        process.once('SIGTERM', () => done());
      });
      await stopAll();
    });
}

/**
 * `provenant monitor`: opens a serial port, decodes every frame and prints it; with the device
 * file it checks each READING's tag. What an integrator runs to see a freshly flashed board.
 */
import type { Command } from 'commander';
import { ProvenantError } from '../../shared/errors.js';

export function register(program: Command): void {
  program
    .command('monitor')
    .description('decode and print the frames a board sends (with --device: check READING tags)')
    .requiredOption('--port <path>', 'serial port of the board')
    .option('--device <file>', 'device file (deviceId + K_IoT) to check READING tags')
    .option('--count <n>', 'stop after N frames')
    .option('--json', 'one JSON object per line', false)
    .option('--baud <n>', 'baud rate', '115200')
    .option('--timeout <ms>', 'stop after this long without a frame (default: never)')
    .action(async (opts: { port: string; device?: string; count?: string; json: boolean; baud: string; timeout?: string }) => {
      const count = opts.count === undefined ? Infinity : Number(opts.count);
      const baud = Number(opts.baud);
      const idle = opts.timeout === undefined ? Infinity : Number(opts.timeout);
      for (const [name, v] of [
        ['count', count],
        ['baud', baud],
        ['timeout', idle],
      ] as const) {
        if (!(v === Infinity || (Number.isInteger(v) && v > 0)))
          throw new ProvenantError('PROV_ERR_BAD_INPUT', `--${name} must be a positive integer`, { field: name });
      }
      const { monitor } = await import('../../hardware/monitor.js');
      const { readDeviceFile } = await import('../../hardware/device-file.js');
      const device = opts.device ? readDeviceFile(opts.device) : undefined;
      const r = await monitor({
        path: opts.port,
        baud,
        count,
        idleMs: idle,
        device,
        print: (line) => process.stdout.write(`${line}\n`),
        json: opts.json,
      });
      if (!opts.json) process.stderr.write(`${r.frames} frames, ${r.invalidTags} invalid tags, dropped: ${JSON.stringify(r.dropped)}\n`);
      if (r.invalidTags > 0) process.exitCode = 2;
    });
}

/**
 * `provenant flash`: uploads the firmware bundle and provenant.json to an Espruino board
 * (hardware/flash.ts; docs/firmware.md, "Flashing").
 */
import type { Command } from 'commander';
import { ProvenantError } from '../../shared/errors.js';

function int(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0)
      throw new ProvenantError('PROV_ERR_BAD_INPUT', `--${name} must be a non-negative integer, got "${v}"`, { field: name });
    return n;
  };
}

export function register(program: Command): void {
  program
    .command('flash')
    .description('upload the firmware bundle and the device provisioning to an Espruino board')
    .requiredOption('--board <name>', 'board profile (firmware/boards/<name>.json)')
    .requiredOption('--device <file>', 'device file from `provenant authority enroll` (deviceId + K_IoT)')
    .option('--port <path>', 'serial port of the board (USB, USB-serial adapter, pty, BLE serial device)')
    .option('--dry-run <file>', 'write exactly the bytes that would be sent to FILE, send nothing')
    .option('--production', 'production provisioning: console moved off every link and locked', false)
    .option('--unlock', 'first unlock a board running production firmware (MAINT frame under K_IoT)', false)
    .option('--link <name>', "data link: USB, Serial1, Serial2 or Bluetooth (default: the board profile's)")
    .option('--baud <n>', "data link speed (default: the board profile's)", int('baud'))
    .option('--serial-path <path>', 'device file a Linux-build board opens for Serial1/2')
    .option('--interval <ms>', 'sampling interval in ms (the edge profile may only slow it)', int('interval'))
    .option('--seq-floor <n>', 'lowest seq the board may use (after a flash wipe)', int('seq-floor'))
    .option('--upload-baud <n>', 'baud rate of the upload connection', int('upload-baud'))
    .option('--timeout <ms>', 'how long to wait for each answer of the board', int('timeout'), 4000)
    .action(
      async (opts: {
        board: string;
        device: string;
        port?: string;
        dryRun?: string;
        production: boolean;
        unlock: boolean;
        link?: string;
        baud?: number;
        serialPath?: string;
        interval?: number;
        seqFloor?: number;
        uploadBaud?: number;
        timeout: number;
      }) => {
        if (!opts.port && !opts.dryRun)
          throw new ProvenantError('PROV_ERR_BAD_INPUT', 'give --port PATH to flash, or --dry-run FILE to write the upload to a file', {
            field: 'port',
          });
        const { readDeviceFile } = await import('../../hardware/device-file.js');
        const { planFlash, writeDryRun, flash } = await import('../../hardware/flash.js');
        const device = readDeviceFile(opts.device);
        const plan = await planFlash({
          board: opts.board,
          device,
          production: opts.production,
          unlock: opts.unlock,
          link: opts.link,
          baud: opts.baud,
          serialPath: opts.serialPath,
          intervalMs: opts.interval,
          seqFloor: opts.seqFloor,
        });
        const total = plan.steps.reduce((n, s) => n + s.bytes.length, 0);
        if (opts.dryRun) {
          writeDryRun(plan, opts.dryRun);
          process.stdout.write(
            `dry run: ${total} bytes (bundle ${plan.bundleBytes} bytes for ${plan.board.name}, device ${device.deviceId}) written to ${opts.dryRun}\n`,
          );
          return;
        }
        const port = opts.port as string;
        let lastPct = -1;
        const result = await flash(plan, port, {
          baud: opts.uploadBaud,
          timeoutMs: opts.timeout,
          progress: (sent, all, step) => {
            const pct = Math.floor((sent / all) * 100);
            if (pct !== lastPct && (pct % 10 === 0 || sent === all)) {
              lastPct = pct;
              process.stderr.write(`  ${String(pct).padStart(3)}%  ${sent}/${all} bytes  (${step})\n`);
            }
          },
        });
        const verified = `SHA-256 of .bootcde and provenant.json verified on the board${result.attempts > 1 ? ` (upload sent ${result.attempts} times)` : ''}`;
        if (result.bootCount !== undefined) {
          process.stdout.write(
            `flashed ${device.deviceId} on ${port}: ${plan.board.name}, ${verified}; booted (boot ${result.bootCount}), data link ${String(plan.provisioning['link'])}${plan.provisioning['path'] ? ` at ${String(plan.provisioning['path'])}` : ''}\n`,
          );
        } else if (result.hello) {
          process.stdout.write(
            `flashed ${device.deviceId} on ${port}: ${plan.board.name}, fw ${result.hello.fwVersion} ${Buffer.from(result.hello.fwHash).toString('hex').slice(0, 16)}…, next seq ${result.hello.seq}, boot ${result.hello.bootCount}; ${verified}\n`,
          );
        } else {
          process.stdout.write(
            `flashed ${device.deviceId} on ${port} (${result.bytesSent} bytes); no HELLO yet — the board talks on its data link ${String(plan.provisioning['link'])}\n`,
          );
        }
      },
    );
}

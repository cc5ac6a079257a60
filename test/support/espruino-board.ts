/**
 * Test support for boards on Espruino's own interpreter (hardware/linux-board.ts): whether it
 * can run here, the stand-in sensors the Linux build lacks, and flash images with a bundle
 * already in Storage so each test starts a board in about a second.
 */
import { copyFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DIST_FIRMWARE, ensureFirmwareBuilt } from '../../firmware/build.js';
import { espruinoUnavailable, LinuxBoard } from '../../hardware/linux-board.js';

/** Why the real-interpreter tests cannot run here (printed with the skip), or undefined. */
export const ESPRUINO_SKIP = espruinoUnavailable();

/** Prints the skip reason once per file. */
export function noteSkip(what: string): void {
  if (ESPRUINO_SKIP) console.log(`${what} skipped on the real interpreter: ${ESPRUINO_SKIP}`);
}

/**
 * STAND-IN sensors. The Linux build has none: `E.getTemperature()` is NaN and `analogRead` only
 * prints "Analog is not supported". A `.boot0` file (Espruino runs `.boot0`..`.boot3` before
 * `.bootcde`) puts slowly varying values in their place, the simulated board's signals.
 */
export const SENSOR_STAND_INS =
  'E.getTemperature=function(){return 21.5+2*Math.sin(getTime()/600)};global.analogRead=function(){return 0.5+0.25*Math.sin(getTime()/60)};';

const images = new Map<string, string>();

/**
 * A flash image holding `board`'s built bundle as `.bootcde` (plus the stand-in sensors unless
 * `sensors` is false), made once per test process on a real interpreter.
 */
export async function flashImage(board = 'LINUX', sensors = true): Promise<string> {
  const key = `${board}:${sensors}`;
  const have = images.get(key);
  if (have) return have;
  await ensureFirmwareBuilt();
  const files: Record<string, string | Uint8Array> = { '.bootcde': readFileSync(join(DIST_FIRMWARE, `${board}.js`)) };
  if (sensors) files['.boot0'] = SENSOR_STAND_INS;
  const b = await LinuxBoard.start({ files });
  const out = join(mkdtempSync(join(tmpdir(), 'provenant-image-')), 'espruino.flash');
  try {
    await b.powerCut();
    copyFileSync(b.flashFile, out);
  } finally {
    await b.close();
  }
  images.set(key, out);
  return out;
}

/**
 * A real-interpreter board running `board`'s bundle with this provisioning (its `path` is set
 * to the board's own Serial1 pty unless given), powered on and booted.
 */
export async function startEspruinoBoard(opts: {
  board?: string;
  provisioning?: Record<string, unknown>;
  sensors?: boolean;
}): Promise<LinuxBoard> {
  const image = await flashImage(opts.board ?? 'LINUX', opts.sensors ?? true);
  const b = await LinuxBoard.start({ image });
  try {
    if (opts.provisioning) {
      const prov = { link: 'Serial1', path: b.serial1Board, ...opts.provisioning };
      await b.writeFile('provenant.json', JSON.stringify(prov));
      await b.reboot();
    }
    await b.console();
  } catch (e) {
    await b.close();
    throw e;
  }
  return b;
}

/**
 * Test support for boards on Espruino's own interpreter (hardware/linux-board.ts): whether it
 * can run here, the stand-in sensors the Linux build lacks, and flash images with a bundle
 * already in Storage so each test starts a board in about a second.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DIST_FIRMWARE, ensureFirmwareBuilt } from '../../firmware/build.js';
import { loadBoard } from '../../firmware/boards.js';
import { espruinoPath, espruinoUnavailable, LinuxBoard, watchdog } from '../../hardware/linux-board.js';

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

/**
 * STAND-INS for the hardware a profile has and the Linux build lacks, as `.boot0` code: the
 * sensors, the button (a pin that reads low), the supply reference, the Puck's battery, and a
 * BLE UART (Serial1 on the board's pty, set up as the board's Bluetooth object would be).
 */
export function hardwareStandIns(board: string): string {
  const b = loadBoard(board);
  let s = SENSOR_STAND_INS;
  if (b.pins.button) s += `global.${b.pins.button}=D1;`;
  if (b.battery === 'vref') s += 'E.getAnalogVRef=function(){return 3.3};';
  if (b.battery === 'nrf') s += 'global.NRF={getBattery:function(){return 2.95}};';
  if (b.link.default === 'Bluetooth') s += 'Serial1.setup(9600,{path:"serial1-board"});global.Bluetooth=Serial1;';
  return s;
}

/** The data link a profile is provisioned with on the interpreter: its default, except USB (this build's stdin). */
export function interpreterLink(board: string): { link: string; path?: string } {
  const b = loadBoard(board);
  const link = b.link.default === 'USB' ? 'Serial1' : b.link.default;
  // Relative to the interpreter's working directory: the board end of its Serial1 pty pair.
  return link.startsWith('Serial') ? { link, path: 'serial1-board' } : { link };
}

/** What a run under a variable limit printed and how it ended. */
export interface LimitedRun {
  /** The interpreter's own verdict line (PASS: `result` was set, nothing left allocated). */
  readonly passed: boolean;
  /** E.getErrorFlags() at the end (MEMORY when an allocation failed). */
  readonly flags: string[];
  /** process.memory() at the end. */
  readonly memory?: { usage: number; total: number; blocksize: number };
  readonly output: string;
}

/**
 * Runs `board`'s bundle (stand-ins in front) under `espruino --test-mem-n FILE vars`, i.e. with
 * the interpreter limited to `vars` variables, on a board directory provisioned with
 * `provisioning` (its data link Serial1 on the pty `serial1` in `dir`). `drive` plays the edge
 * while it runs (it gets the host end of the link); when it is done the run ends (through the
 * interpreter's console, its stdin here) and reports E.getErrorFlags() and process.memory().
 */
export async function runUnderVariableLimit(opts: {
  board: string;
  vars: number;
  provisioning: Record<string, unknown>;
  /** Longest the run may take (then it is killed, and fails). */
  maxMs: number;
  drive: (hostPath: string) => Promise<void>;
  /** Another bundle text instead of the profile's built one (e.g. built with epochSignatures). */
  bundle?: string;
  /** More Storage files, written before the run (e.g. key sets). */
  files?: Record<string, string | Uint8Array>;
}): Promise<LimitedRun> {
  const image = await flashImage(opts.board, false);
  const dir = mkdtempSync(join(tmpdir(), 'provenant-limit-'));
  const b = await LinuxBoard.start({ image, dir });
  try {
    if (opts.bundle !== undefined) await b.writeFile('.bootcde', opts.bundle);
    for (const [name, data] of Object.entries(opts.files ?? {})) await b.writeFile(name, data);
    await b.writeFile('provenant.json', JSON.stringify({ ...interpreterLink(opts.board), ...opts.provisioning }));
    await b.powerCut();
    writeFileSync(
      join(dir, 'limited.js'),
      `${hardwareStandIns(opts.board)}
eval(require("Storage").read(".bootcde"));
global.PV_END=function(){print("PV_LIMIT "+JSON.stringify({flags:E.getErrorFlags(),memory:process.memory()}));result=1;quit();};
`,
    );
    const p = spawn(espruinoPath(), ['--test-mem-n', 'limited.js', String(opts.vars)], { cwd: dir, stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    p.stdout.on('data', (c: Buffer) => (output += c.toString('latin1')));
    p.stderr.on('data', (c: Buffer) => (output += c.toString('latin1')));
    p.stdin.on('error', () => undefined);
    if (p.pid !== undefined) watchdog(p.pid);
    const exited = new Promise<void>((res) => p.once('exit', () => res()));
    const killer = setTimeout(() => p.kill('SIGKILL'), opts.maxMs);
    try {
      await opts.drive(b.serial1);
      // The console is stdin here: end the run, reporting flags and memory, once the drive is done.
      p.stdin.write('\x10PV_END()\n');
      await exited;
    } finally {
      clearTimeout(killer);
      if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    }
    const line = /PV_LIMIT (\{.*\})/.exec(output);
    const end = line
      ? (JSON.parse(line[1] as string) as { flags: string[]; memory: { usage: number; total: number; blocksize: number } })
      : undefined;
    return {
      passed: /PASS limited\.js/.test(output),
      flags: end?.flags ?? ['(no report)'],
      ...(end ? { memory: end.memory } : {}),
      output,
    };
  } finally {
    await b.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

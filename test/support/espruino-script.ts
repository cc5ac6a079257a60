/**
 * Runs one script on Espruino's own interpreter (hardware/linux-board.ts finds it) and returns
 * what it printed: for code that needs no serial link, e.g. a test bundle built with the firmware
 * pipeline (firmware/build.ts bundleEntry) and a few lines calling it. The script runs in a fresh
 * temp directory (its own espruino.flash), with stdin closed so the interpreter exits when the
 * script is done; lines the script prints as `PV:<json>` come back parsed, in order.
 * `runInBoardShim` runs the same kind of script in the simulated board's shim (V8) instead.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import vm from 'node:vm';
import { espruinoPath } from '../../hardware/linux-board.js';
import { createContext } from '../../hardware/sim/shim.js';
import { SimStorage } from '../../hardware/sim/storage.js';

/** The `PV:<json>` lines of a script's output, parsed, in order. */
function pvResults(output: string): unknown[] {
  return output
    .split(/\r?\n/)
    .filter((l) => l.startsWith('PV:'))
    .map((l) => JSON.parse(l.slice(3)) as unknown);
}

/**
 * Runs `code` in the simulated board's shim (hardware/sim/shim.ts, V8) on a quiet host: empty
 * Storage, no links, fixed sensors; an uncaught error throws. Returns the PV: results it printed
 * and the context (for globals the script left).
 */
export function runInBoardShim(
  code: string,
  opts: { nowMs?: () => number; hashed?: (bytes: number) => void } = {},
): {
  results: unknown[];
  ctx: vm.Context;
} {
  const printed: string[] = [];
  const { ctx } = createContext({
    storage: new SimStorage(),
    nowMs: opts.nowMs ?? (() => 0),
    setNowMs: () => undefined,
    realDelay: (ms) => ms,
    write: () => undefined,
    setupSerial: () => undefined,
    print: (s) => printed.push(s),
    setConsole: () => undefined,
    getConsole: () => null,
    uncaught: (e) => {
      throw e;
    },
    reset: () => undefined,
    load: () => undefined,
    busy: () => undefined,
    hashed: opts.hashed ?? (() => undefined),
    sensors: { temperature: () => 20, analog: () => 0, vref: () => 3.3, battery: () => 3, pin: () => 0 },
  });
  vm.runInContext(code, ctx);
  return { results: pvResults(printed.join('')), ctx };
}

/** What a script printed, and the interpreter's CPU time (user + system, from the OS). */
export interface ScriptRun {
  readonly results: unknown[];
  readonly output: string;
  readonly cpuMs: number;
}

/** Runs `code`; rejects if the interpreter fails, prints "Uncaught", or takes longer than timeoutMs. */
export async function runEspruinoScript(code: string, opts: { timeoutMs?: number; maxVars?: number } = {}): Promise<ScriptRun> {
  const dir = mkdtempSync(join(tmpdir(), 'provenant-espruino-script-'));
  const file = join(dir, 'script.js');
  writeFileSync(file, code);
  try {
    const args = opts.maxVars ? ['--test-mem-n', file, String(opts.maxVars)] : [file];
    // bash's `time` reports the interpreter's own CPU time, which machine load does not inflate.
    const child = spawn('bash', ['-c', 'TIMEFORMAT="PVCPU:%U:%S"; time "$0" "$@"', espruinoPath(), ...args], {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // its own process group: a timeout kills bash and the interpreter together
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString('latin1')));
    child.stderr.on('data', (d: Buffer) => (output += d.toString('latin1')));
    const timeoutMs = opts.timeoutMs ?? 120_000;
    const exit = await new Promise<number | null>((resolve, reject) => {
      const t = setTimeout(() => {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
        reject(new Error(`the Espruino script did not finish within ${timeoutMs} ms; it printed:\n${output.slice(-2000)}`));
      }, timeoutMs);
      child.on('error', reject);
      child.on('exit', (c) => {
        clearTimeout(t);
        resolve(c);
      });
    });
    if (/Uncaught/.test(output)) throw new Error(`the Espruino script threw:\n${output.slice(-2000)}`);
    if (exit !== 0) throw new Error(`the Espruino interpreter exited with ${String(exit)}:\n${output.slice(-2000)}`);
    const cpu = /PVCPU:([\d.]+):([\d.]+)/.exec(output);
    const cpuMs = cpu ? Math.round((Number(cpu[1]) + Number(cpu[2])) * 1000) : NaN;
    return { results: pvResults(output), output, cpuMs };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

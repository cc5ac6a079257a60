/**
 * The firmware benchmark on Espruino's own interpreter (2v29, Linux build) and, for the same
 * code, in V8: the workload of bench/firmware/espruino-entry.ts, bundled by the firmware
 * pipeline, run
 *
 * - on the interpreter, in one process: bursts of readings interleaved with elliptic-curve scalar
 *   multiplications (wall times from the interpreter's getTime(); the ratio of one to the other is
 *   taken per round, so machine load hits both alike), then a few field multiplications;
 * - on the interpreter again, twice, for CPU time (user + system, from the OS, which load does not
 *   inflate as it does wall time): the bundle with one reading, and with `cpuReadings` readings —
 *   the difference is the CPU per reading; the first process's CPU, less its readings and the
 *   startup, is the CPU of its scalar multiplications;
 * - in the board shim (V8, node:vm), the same bundle and calls, timed by performance.now().
 *
 * Every answer is checked: the tag against Node's HMAC of the same reading, the point of the
 * interpreter against V8's (test/firmware/ec-es5.test.ts checks V8's against a reference).
 */
import { join } from 'node:path';
import { bundleEntry, ROOT } from '../../firmware/build.js';
import { espruinoUnavailable } from '../../hardware/linux-board.js';
import { DOMAIN_READING } from '../../shared/crypto/domains.js';
import { hmacLabeled } from '../../shared/crypto/hmac.js';
import { sha256 } from '../../shared/crypto/sha256.js';
import { toHex } from '../../shared/encoding/hex.js';
import { encodeReadingAs } from '../../shared/encoding/reading.js';
import { runEspruinoScript, runInBoardShim } from '../../test/support/espruino-script.js';
import { BENCH_SCALAR, benchKey, benchReading } from './workload.js';

/** Mean µs per reading of each piece, as PV_BENCH.reading returns them. */
export interface ReadingPieces {
  encodeUs: number;
  hmacUs: number;
  frameUs: number;
  storeUs: number;
  sha256PerReading: number;
  bytesHashedPerReading: number;
  canonicalBytes: number;
  frameBytes: number;
  lastTag: string;
}

export interface EngineFigures {
  /** Medians over the bursts. */
  reading: Omit<ReadingPieces, 'lastTag'>;
  /** encode + HMAC + frame: the sample path less the Storage write and the serial write (µs). */
  samplePathUs: number;
  /** One BLS12-381 G1 scalar multiplication in ES5 (ms; median). */
  ecMs: number;
  ecRuns: number;
  /** One 381-bit Montgomery multiplication (µs). */
  fieldMulUs: number;
  /** Scalar multiplication / HMAC and / sample path: medians of per-round ratios. */
  ecPerHmac: number;
  ecPerSamplePath: number;
}

export interface InterpreterFigures extends EngineFigures {
  bundleBytes: number;
  /**
   * CPU time (OS: user + system) per reading (encode, HMAC, frame: the sample path less Storage
   * and serial) and per scalar multiplication, and their ratio.
   */
  cpu: { perReadingMs: number; ecMs: number; ecPerReading: number; readings: number };
  /** 1-minute load average while the interpreter ran (wall times scale with it; ratios and CPU do not). */
  load: number;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

function summarize(bursts: ReadingPieces[], ec: { ms: number }[], fieldMulUs: number): EngineFigures {
  const med = (k: keyof Omit<ReadingPieces, 'lastTag'>): number => median(bursts.map((b) => b[k]));
  const path = (b: ReadingPieces): number => b.encodeUs + b.hmacUs + b.frameUs;
  // Round i: the bursts just before and just after scalar multiplication i.
  const around = ec.map((_, i) => [bursts[i] as ReadingPieces, bursts[i + 1] ?? (bursts[i] as ReadingPieces)] as const);
  return {
    reading: {
      encodeUs: med('encodeUs'),
      hmacUs: med('hmacUs'),
      frameUs: med('frameUs'),
      storeUs: med('storeUs'),
      sha256PerReading: med('sha256PerReading'),
      bytesHashedPerReading: med('bytesHashedPerReading'),
      canonicalBytes: med('canonicalBytes'),
      frameBytes: med('frameBytes'),
    },
    samplePathUs: median(bursts.map(path)),
    ecMs: median(ec.map((e) => e.ms)),
    ecRuns: ec.length,
    fieldMulUs,
    ecPerHmac: median(ec.map((e, i) => (e.ms * 1000) / ((around[i]![0].hmacUs + around[i]![1].hmacUs) / 2))),
    ecPerSamplePath: median(ec.map((e, i) => (e.ms * 1000) / ((path(around[i]![0]) + path(around[i]![1])) / 2))),
  };
}

/** The tag Node computes for the last reading of a burst of `n` (PV_BENCH.reading's seq 1000..). */
function expectedTag(n: number): string {
  return toHex(hmacLabeled(sha256, benchKey(), DOMAIN_READING, encodeReadingAs(benchReading(1000 + n - 1), true)));
}

function checkBursts(where: string, bursts: ReadingPieces[], n: number): void {
  const want = expectedTag(n);
  for (const b of bursts) {
    if (b.lastTag !== want) throw new Error(`${where}: the reading's tag is ${b.lastTag}, Node computes ${want}`);
    if (b.sha256PerReading !== 2) throw new Error(`${where}: ${b.sha256PerReading} SHA-256 runs per reading, expected 2`);
  }
}

/** The driver appended to the bundle: PV:<json> lines, bursts and scalar multiplications interleaved. */
function driver(readings: number, ecRuns: number, fieldMuls: number): string {
  const out = ['PV_BENCH.reading(3);']; // warm-up: first-run allocations, Storage's first write
  for (let i = 0; i < ecRuns; i++) {
    out.push(`print('PV:' + JSON.stringify(['r', PV_BENCH.reading(${readings})]));`);
    out.push(`print('PV:' + JSON.stringify(['e', PV_BENCH.ec(${JSON.stringify(BENCH_SCALAR)})]));`);
  }
  out.push(`print('PV:' + JSON.stringify(['r', PV_BENCH.reading(${readings})]));`);
  out.push(`print('PV:' + JSON.stringify(['f', PV_BENCH.fieldMul(${fieldMuls})]));`);
  return out.join('\n');
}

function parse(results: unknown[]): {
  bursts: ReadingPieces[];
  ec: { ms: number; x: string | null; y: string | null }[];
  fieldMulUs: number;
} {
  const bursts: ReadingPieces[] = [];
  const ec: { ms: number; x: string | null; y: string | null }[] = [];
  let fieldMulUs = NaN;
  for (const r of results as [string, unknown][]) {
    if (r[0] === 'r') bursts.push(r[1] as ReadingPieces);
    else if (r[0] === 'e') ec.push(r[1] as { ms: number; x: string | null; y: string | null });
    else if (r[0] === 'f') fieldMulUs = r[1] as number;
  }
  return { bursts, ec, fieldMulUs };
}

let built: string | undefined;
async function bundle(): Promise<string> {
  built ??= await bundleEntry(join(ROOT, 'bench', 'firmware', 'espruino-entry.ts'));
  return built;
}

/** The workload in the board shim (V8). */
export async function measureV8(opts: { readings: number; ecRuns: number }): Promise<EngineFigures & { point: { x: string; y: string } }> {
  const code = await bundle();
  const t0 = performance.now();
  const { results } = runInBoardShim(`${code}\n${driver(opts.readings, opts.ecRuns, 2000)}`, { nowMs: () => performance.now() - t0 });
  const { bursts, ec, fieldMulUs } = parse(results);
  checkBursts('V8', bursts, opts.readings);
  const p = ec[0];
  if (!p?.x || !p.y) throw new Error('V8: the scalar multiplication gave no point');
  return { ...summarize(bursts, ec, fieldMulUs), point: { x: p.x, y: p.y } };
}

/** The workload on Espruino's interpreter; a reason instead where it is not available. */
export async function measureEspruino(opts: {
  readings: number;
  ecRuns: number;
  cpuReadings: number;
  point: { x: string; y: string };
}): Promise<InterpreterFigures | { unavailable: string }> {
  const why = espruinoUnavailable();
  if (why) return { unavailable: why };
  const { loadavg } = await import('node:os');
  const code = await bundle();
  const timeoutMs = 3_600_000;
  const fieldMuls = 10;
  const main = await runEspruinoScript(`${code}\n${driver(opts.readings, opts.ecRuns, fieldMuls)}`, { timeoutMs });
  const load = loadavg()[0] as number;
  const { bursts, ec, fieldMulUs } = parse(main.results);
  checkBursts('Espruino', bursts, opts.readings);
  if (bursts.length !== opts.ecRuns + 1 || ec.length !== opts.ecRuns)
    throw new Error(`Espruino: the run printed ${main.results.length} results:\n${main.output.slice(-1000)}`);
  for (const e of ec)
    if (e.x !== opts.point.x || e.y !== opts.point.y)
      throw new Error(`Espruino: k·G is (${String(e.x)}, ${String(e.y)}), V8 computes (${opts.point.x}, ${opts.point.y})`);
  // CPU: startup + one reading; startup + cpuReadings readings.
  const one = await runEspruinoScript(`${code}\nPV_BENCH.reading(1, true);`, { timeoutMs });
  const many = await runEspruinoScript(`${code}\nPV_BENCH.reading(${opts.cpuReadings}, true);`, { timeoutMs });
  const perReadingMs = (many.cpuMs - one.cpuMs) / (opts.cpuReadings - 1);
  const mainReadings = 3 + (opts.ecRuns + 1) * opts.readings;
  // The main run's field multiplications (~10 × fieldMulUs of wall, < 1% of a scalar multiplication) stay in.
  const ecCpuMs = (main.cpuMs - one.cpuMs - (mainReadings - 1) * perReadingMs) / opts.ecRuns;
  return {
    bundleBytes: code.length,
    ...summarize(bursts, ec, fieldMulUs),
    cpu: { perReadingMs, ecMs: ecCpuMs, ecPerReading: ecCpuMs / perReadingMs, readings: opts.cpuReadings },
    load,
  };
}

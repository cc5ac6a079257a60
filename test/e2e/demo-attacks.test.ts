/**
 * `provenant demo`: the whole system in one process reaches its summary, loses nothing, and
 * catches each `--attack` (the acceptance list of docs/edge.md "Attacks"). Runs are short and
 * small (2 boards) to keep the suite fast; `npm start` runs the same code with 50 boards.
 *
 * The runs mostly wait on their clocks (8-18 s each at 4 readings/s, ~2 s of CPU each), so they
 * go in two waves of concurrent runs (each run has its own ledger, boards and servers): first the
 * plain run and the attacks judged by the ledger or the link (forge, replay, tamper, unplug),
 * then the two whose detection rests on timing (fast-sampling: the edge's rate check; injection:
 * the traffic windows) beside the CLI run in its own process, so a crowded event loop does not
 * blunt them. ~50 s for the file instead of ~130 s one after the other. A test's timeout covers
 * its whole wave, hence 400 s (the runs took up to ~340 s at load average 25 on 2 cores).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { runDemo, type DemoResult } from '../../demo/run.js';
import type { AttackName } from '../../demo/attacks.js';

const ROOT = join(import.meta.dirname, '..', '..');

async function demo(
  attack: AttackName | undefined,
  durationS: number,
  extra: { rate?: number; windowMs?: number } = {},
): Promise<{ result: DemoResult; lines: string[] }> {
  const lines: string[] = [];
  const result = await runDemo({
    devices: 2,
    rate: extra.rate ?? 4,
    durationS,
    ...(attack ? { attack } : {}),
    windowMs: extra.windowMs ?? 2000,
    out: (l) => lines.push(l),
    progress: 'none',
    verifySample: 5,
    // Epoch signatures' key generation would crowd the runs' clocks: test/e2e/demo-signatures.test.ts runs them.
    epochSignatures: false,
  });
  return { result, lines };
}

type Outcome = { ok: { result: DemoResult; lines: string[] } } | { err: unknown };
const ATTACKS = [
  ['forge', 18, {}],
  ['replay', 18, {}],
  ['tamper', 18, {}],
  ['fast-sampling', 16, {}],
  ['unplug', 18, {}],
  ['injection', 18, { windowMs: 1000 }],
] as const;
const runs = new Map<AttackName | 'none', Promise<Outcome>>();
let cliRun: Promise<{ status: number; stdout: string; stderr: string }>;
/** Starts the demo runs in their two waves (before the first test); each test awaits its own. */
beforeAll(() => {
  const start = (name: AttackName | 'none', p: Promise<{ result: DemoResult; lines: string[] }>): void => {
    runs.set(
      name,
      p.then(
        (ok) => ({ ok }),
        (err: unknown) => ({ err }),
      ),
    );
  };
  const timing = (a: AttackName): boolean => a === 'fast-sampling' || a === 'injection';
  start('none', demo(undefined, 8));
  for (const [attack, durationS, extra] of ATTACKS) if (!timing(attack)) start(attack, demo(attack, durationS, extra));
  const firstWave = Promise.all(runs.values());
  for (const [attack, durationS, extra] of ATTACKS)
    if (timing(attack))
      start(
        attack,
        firstWave.then(() => demo(attack, durationS, extra)),
      );
  // No epoch signatures: their key generation beside the timing wave would crowd its clocks.
  const args = [
    'demo',
    '--devices',
    '2',
    '--rate',
    '4',
    '--duration',
    '8',
    '--console-port',
    '0',
    '--auditor-port',
    '0',
    '--no-epoch-signatures',
  ];
  cliRun = firstWave
    .then(() => promisify(execFile)(process.execPath, [join(ROOT, 'bin', 'provenant.js'), ...args], { cwd: ROOT, timeout: 380_000 }))
    .then(
      (r) => ({ status: 0, stdout: r.stdout, stderr: r.stderr }),
      (e: { code?: number; stdout?: string; stderr?: string }) => ({
        status: e.code ?? -1,
        stdout: e.stdout ?? '',
        stderr: e.stderr ?? '',
      }),
    );
});
async function outcome(name: AttackName | 'none'): Promise<{ result: DemoResult; lines: string[] }> {
  const o = await (runs.get(name) as Promise<Outcome>);
  if ('err' in o) throw o.err;
  return o.ok;
}

describe('provenant demo', () => {
  it('ends with one JSON summary line; nothing lost; a sample verified by the auditor', async () => {
    const { result, lines } = await outcome('none');
    const last = JSON.parse(lines.at(-1) as string) as Record<string, unknown>;
    expect(Object.keys(last)).toEqual([
      'sent',
      'acknowledged',
      'committed',
      'rejected',
      'lost',
      'verified',
      'independentlyVerifiable',
      'durationS',
    ]);
    expect(last).toEqual({ ...result.summary });
    expect(result.summary.acknowledged).toBeGreaterThan(0);
    expect(result.summary.committed).toBe(result.summary.acknowledged);
    expect(result.summary.lost).toBe(0);
    expect(result.summary.verified).toBe(5);
  }, 400_000);

  for (const [attack] of ATTACKS) {
    it(`--attack ${attack} is detected and reported`, async () => {
      const { result, lines } = await outcome(attack);
      expect(result.attack?.name).toBe(attack);
      expect(result.attack?.detected, result.attack?.evidence).toBe(true);
      expect(lines.some((l) => l.startsWith(`attack ${attack}: DETECTED`))).toBe(true);
      expect(result.summary.lost).toBe(0);
      if (attack === 'forge' || attack === 'tamper') expect(result.summary.rejected['BAD_TAG']).toBeGreaterThan(0);
      if (attack === 'fast-sampling') expect(result.summary.rejected['RATE']).toBeGreaterThan(0);
      if (attack === 'unplug') expect(result.linkDrops).toBeGreaterThan(0);
      if (attack === 'replay') expect(result.duplicates).toBeGreaterThan(0);
      if (attack === 'injection') expect(result.anomalies).toBeGreaterThan(0);
    }, 400_000);
  }

  it('the CLI run prints the consoles (URLs and a login token) and the summary JSON as its last line (stdin not a TTY)', async () => {
    const r = await cliRun;
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /console: edge http:\/\/127\.0\.0\.1:\d+\/console · auditor http:\/\/127\.0\.0\.1:\d+\/console · login token \S{20,}/,
    );
    const last = JSON.parse(r.stdout.trim().split('\n').at(-1) as string) as {
      lost: number;
      acknowledged: number;
      independentlyVerifiable: number;
    };
    expect(last.lost).toBe(0);
    expect(r.stdout).not.toMatch(/firmware: LINUX with epoch signatures/);
    expect(last.independentlyVerifiable).toBe(0);
    expect(last.acknowledged).toBeGreaterThan(0);
  }, 400_000);

  it('the CLI rejects a bad --attack with a clear message and a non-zero exit', () => {
    const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'provenant.js'), 'demo', '--attack', 'teleport'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/--attack must be one of forge, replay, tamper, fast-sampling, injection, unplug/);
  });
});

/**
 * `provenant demo` with epoch signatures (issue 16): its boards run the LINUX bundle built with
 * epochSignatures, make their own LMS key set, the authority registers it, the boards sign 4 s
 * epochs, the edge forwards the SIG bodies, and the summary counts the readings that reached
 * "independently verifiable". One run of 25 s, alone: under `npm run test:full` (the key sets take
 * ~9 s at load 30 before the first signature, so a run short enough for npm test may count 0).
 */
import { describe, expect, it } from 'vitest';
import { runDemo } from '../../demo/run.js';
import { FULL } from '../support/full.js';

if (!FULL) console.log('demo-signatures: runs under npm run test:full (a 25 s demo run)');

describe.skipIf(!FULL)('provenant demo: epoch signatures', () => {
  it('counts readings that reached independently verifiable in the summary JSON', async () => {
    const lines: string[] = [];
    const result = await runDemo({ devices: 2, rate: 4, durationS: 25, out: (l) => lines.push(l), progress: 'none', verifySample: 5 });
    const last = JSON.parse(lines.at(-1) as string) as { independentlyVerifiable: number; committed: number; lost: number };
    expect(last.lost).toBe(0);
    expect(lines.some((l) => /^authority: registered 2 boards' LMS keys/.test(l))).toBe(true);
    expect(last.independentlyVerifiable).toBeGreaterThan(0);
    expect(last.independentlyVerifiable).toBeLessThanOrEqual(last.committed);
    expect(result.summary.independentlyVerifiable).toBe(last.independentlyVerifiable);
    expect(lines.some((l) => /^epoch signatures: \d+ of \d+ committed readings independently verifiable/.test(l))).toBe(true);
  }, 300_000);
});

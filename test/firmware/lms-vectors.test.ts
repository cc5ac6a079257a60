/**
 * The published LMS vectors (shared/crypto/vectors/lms) through the firmware build pipeline: the
 * ES5 code of shared/crypto/lms.ts as the board gets it (test/firmware/fixtures/lms-entry.ts,
 * bundled by firmware/build.ts bundleEntry), run on Espruino's own interpreter (2v29, Linux
 * build) with its native SHA256: each vector's signature verifies, the signing leaf's key
 * generated from SEED and I leads up the published path to the published public key, and signing
 * with the published C gives the published signature byte for byte; RFC 8554's HSS test cases
 * verify whole. The same bundle in the board shim (V8) as well, so a failure tells the pipeline
 * from the interpreter.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { bundleEntry } from '../../firmware/build.js';
import { checkBundle } from '../../firmware/check.js';
import { ESPRUINO_SKIP, noteSkip } from '../support/espruino-board.js';
import { runEspruinoScript, runInBoardShim } from '../support/espruino-script.js';

const here = dirname(fileURLToPath(import.meta.url));
const V = JSON.parse(readFileSync(join(here, '../../shared/crypto/vectors/lms/vectors.json'), 'utf8')) as Record<
  string,
  { publicKey: string; message: string; signature: string; privateKeys?: Record<string, unknown>[] } & Record<string, unknown>
>;
const signers = [...V['rfc8554-test-case-2']!.privateKeys!, V['rfc9858-test-case-1']!] as Record<string, unknown>[];
const hss = [V['rfc8554-test-case-1']!, V['rfc8554-test-case-2']!];

/** The driver: one PV:<json> line per check. */
function driver(): string {
  const lines: string[] = [];
  for (const s of signers) lines.push(`print('PV:' + JSON.stringify(PV_LMS.vector(${JSON.stringify(JSON.stringify(s))})));`);
  for (const h of hss)
    lines.push(
      `print('PV:' + JSON.stringify(PV_LMS.hss(${JSON.stringify(h.publicKey)}, ${JSON.stringify(h.message)}, ${JSON.stringify(h.signature)})));`,
    );
  return lines.join('\n');
}

function expectVectors(results: unknown[]): void {
  expect(results).toHaveLength(signers.length + hss.length);
  signers.forEach((s, i) => {
    const [verified, publicKey, signature] = results[i] as [boolean, string, string];
    expect(verified).toBe(true);
    expect(publicKey).toBe(s['publicKey']);
    expect(signature).toBe(s['signature']);
  });
  expect(results.slice(signers.length)).toEqual(hss.map(() => true));
}

let bundle = '';
beforeAll(async () => {
  bundle = await bundleEntry(join(here, 'fixtures', 'lms-entry.ts'));
}, 120_000);

describe('LMS vectors through the firmware pipeline', () => {
  it('the bundle is ES5 and needs only Espruino’s crypto module', () => {
    const check = checkBundle(bundle, { name: 'test', sizeBudget: 1 << 20, espruinoModules: ['Storage', 'crypto'] });
    expect(check.problems).toEqual([]);
    expect(check.requires).toContain('crypto');
  });

  it('pass in the board shim (V8)', () => {
    expectVectors(runInBoardShim(`${bundle}\n${driver()}`).results);
  }, 120_000);

  noteSkip('LMS vectors');
  it.skipIf(ESPRUINO_SKIP !== undefined)(
    'pass on Espruino’s own interpreter (2v29), on its native SHA256',
    async () => {
      const run = await runEspruinoScript(`${bundle}\n${driver()}`, { timeoutMs: 300_000 });
      expectVectors(run.results);
    },
    320_000,
  );
});

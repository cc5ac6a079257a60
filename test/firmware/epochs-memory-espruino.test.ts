/**
 * Does a bundle with epoch signatures fit? Measured on Espruino's own interpreter (2v29, Linux
 * build), not estimated: the LINUX bundle built with `epochSignatures: true` runs under
 * `espruino --test-mem-n FILE N` — the interpreter limited to N variables — through boot,
 * readings, two closed segments signed and delivered as SIG frames until SIG_ACK, while it makes
 * its next key set in the background (key set 0 is put in Storage, made in Node in the board's
 * file layout; key set 1 the board makes itself). No MEMORY error flag, nothing uncaught, every
 * SIG body verifies under key set 0. It prints process.memory() at the end: the free variables
 * that justify the profiles' raised `sizeBudget` (docs/firmware.md "Epoch signatures", Size).
 * The code runs from Storage (.bootcde), so its bytes cost flash, not variables. ~40 s at load 30:
 * under `npm run test:full`.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { bundleBoard } from '../../firmware/build.js';
import { EPOCH_SIGNATURES_SIZE_BUDGET, loadBoard } from '../../firmware/boards.js';
import { keyFileName, keyFilePublicKey } from '../../firmware/src/keyfile.js';
import { decodeSignatureBody, verifyEpochBody } from '../../shared/crypto/epoch.js';
import { sha256 } from '../../shared/crypto/sha256.js';
import { EdgeDouble } from '../support/edge-double.js';
import { keySetFile } from '../support/lms-signer.js';
import { FULL } from '../support/full.js';
import { ESPRUINO_SKIP, noteSkip, runUnderVariableLimit } from '../support/espruino-board.js';

noteSkip('epoch-signature memory');
if (!FULL) console.log('epochs-memory-espruino: runs under npm run test:full (~40 s of a real interpreter)');

describe.skipIf(ESPRUINO_SKIP !== undefined || !FULL)('epoch signatures under a variable limit on the real interpreter', () => {
  let bundle: string;
  beforeAll(async () => {
    bundle = (await bundleBoard({ ...loadBoard('LINUX'), epochSignatures: true })).text;
  }, 120_000);

  it('the LINUX bundle with epoch signatures signs and delivers two segments under --test-mem-n 2000 while it makes a key set', async () => {
    expect(bundle.length).toBeLessThanOrEqual(EPOCH_SIGNATURES_SIZE_BUDGET);
    const key = new Uint8Array(randomBytes(32));
    const k0 = keySetFile(0);
    const registered = keyFilePublicKey(k0)!;
    const deviceId = 'x'.repeat(64);
    let edge: EdgeDouble | undefined;
    const partial = (epoch: number) => ({ epoch, partialDigest: new Uint8Array(32).fill(epoch), intervalMs: 200, maxPerMinute: 0 });
    const run = await runUnderVariableLimit({
      board: 'LINUX',
      vars: 2000,
      bundle,
      files: { [keyFileName(0)]: k0 },
      provisioning: { deviceId, key: Buffer.from(key).toString('base64'), intervalMs: 200, signGapMs: 1000 },
      maxMs: 240_000,
      drive: async (path) => {
        edge = new EdgeDouble({ path, link: 'pty', key, partial: partial(1), autoAck: true });
        await edge.open();
        try {
          await edge.waitFor(() => edge!.of('READING').length >= 4, 60_000, 'readings');
          edge.send({ kind: 'PARTIAL', ...partial(2), edgeTimeMs: Date.now() });
          await edge.waitFor(() => edge!.sigBodies.length >= 1, 90_000, 'the first SIG body');
          await edge.waitFor(() => edge!.of('READING').some((m) => m.reading.epoch === 2), 60_000, 'a reading of epoch 2');
          await new Promise((r) => setTimeout(r, 1500)); // signGapMs
          edge.send({ kind: 'PARTIAL', ...partial(3), edgeTimeMs: Date.now() });
          await edge.waitFor(() => edge!.sigBodies.length >= 2, 90_000, 'the second SIG body');
        } finally {
          await edge.close();
        }
      },
    });
    const what = `LINUX+epochSignatures under 2000 variables`;
    expect(run.flags, `${what}: ${run.output.slice(-500)}`).toEqual([]);
    expect(run.output, what).not.toMatch(/Out of memory|Uncaught/);
    expect(run.passed, `${what}: ${run.output.slice(-500)}`).toBe(true);
    for (const body of edge!.sigBodies) {
      const d = decodeSignatureBody(body);
      expect(d.kind).toBe('epoch');
      if (d.kind === 'epoch') expect(verifyEpochBody(sha256, registered, deviceId, d)).toBe(true);
    }
    expect(edge!.of('READING').every((m) => m.tagValid)).toBe(true);
    const m = run.memory!;
    console.log(
      `${what}: bundle ${bundle.length} bytes (budget ${EPOCH_SIGNATURES_SIZE_BUDGET}); 2 segments signed and delivered, key set 1 in progress; process.memory() at the end: usage ${m.usage} of ${m.total}, free ${m.total - m.usage} (blocksize ${m.blocksize})`,
    );
  }, 300_000);
});

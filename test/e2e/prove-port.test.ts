/**
 * `provenant device prove --port` (issue 19): the CLI takes a fresh challenge from the ledger, asks
 * the board on a serial port (hardware/challenge.ts: a CHALLENGE frame, the RESPONSE to it), and
 * presents the answer with the metadata of the device's registration file (shared/device-metadata.ts).
 * The boards are simulated boards running the BUILT firmware behind pty pairs (hardware/pty.ts); the ledger is
 * an embedded ledger file with the real contracts. TRUE for the genuine board; "device signature
 * mismatch" for a clone provisioned with another key.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureFirmwareBuilt } from '../../firmware/build.js';
import { ptyUnavailableReason, startSimBoard } from '../../hardware/sim/index.js';
import { runCli } from '../cli/run-in-process.js';
import { ledgerFixture, tempDir } from '../support/edge-fixture.js';

const noPty = ptyUnavailableReason();
if (noPty) console.log(`device prove --port test skipped: ${noPty}`);
const tmp = tempDir('provenant-prove-port-');
afterAll(() => tmp.cleanup());

describe.skipIf(noPty !== undefined)('provenant device prove --port: the built firmware answers a ledger-issued challenge', () => {
  it('TRUE for the genuine board, "device signature mismatch" for a clone', { timeout: 120_000 }, async () => {
    await ensureFirmwareBuilt();
    const path = join(tmp.dir, 'ledger.db');
    const fx = await ledgerFixture(path, 2);
    const [d0, d1] = [fx.devices[0]!, fx.devices[1]!];
    await fx.close(); // the CLI opens the ledger file itself
    const genuine = await startSimBoard({
      provisioning: { deviceId: d0.deviceId, key: Buffer.from(d0.kIoT).toString('base64'), intervalMs: 60_000 },
      link: 'pty',
    });
    const clone = await startSimBoard({
      provisioning: { deviceId: d1.deviceId, key: Buffer.alloc(32, 7).toString('base64'), intervalMs: 60_000 },
      link: 'pty',
    });
    genuine.reboot();
    clone.reboot();
    try {
      const registration = (d: typeof d0): string => {
        const file = join(tmp.dir, `${d.deviceId}.registration.json`);
        writeFileSync(file, JSON.stringify({ version: 1, attributes: d.credential.attributes, gatewayId: 'edge-1' }));
        return file;
      };
      const ok = await runCli(
        'device',
        'prove',
        '--db',
        path,
        '--device',
        d0.deviceId,
        '--metadata',
        registration(d0),
        '--port',
        genuine.path,
      );
      expect(ok.code, ok.err).toBe(0);
      expect(ok.out).toMatch(new RegExp(`^TRUE: device ${d0.deviceId}`));
      expect(genuine.board.stats.framesOut['RESPONSE']).toBeGreaterThanOrEqual(1);
      const bad = await runCli(
        'device',
        'prove',
        '--db',
        path,
        '--device',
        d1.deviceId,
        '--metadata',
        registration(d1),
        '--port',
        clone.path,
      );
      expect(bad.code).toBe(1);
      expect(bad.err).toMatch(/PROV_ERR_DEVICE_SIGNATURE_MISMATCH: device signature mismatch/);
    } finally {
      await genuine.stop();
      await clone.stop();
    }
  });
});

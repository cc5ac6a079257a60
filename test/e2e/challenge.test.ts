/**
 * Device Provenance (Algorithm 2) end to end, nothing stood in: `provenant edge`'s startEdge from a
 * config → its HTTP API (real socket) → POST /devices/:id/challenge → a fresh challenge from the
 * ledger (DeviceProvenance:issueChallenge) → CHALLENGE frame → a simulated board running the BUILT
 * firmware (H3's sim, node:vm) → RESPONSE = HMAC-SHA256(K_chal, "pv2:c" ‖ challenge) → the
 * DeviceProvenance contract on the embedded ledger, with the metadata of shared/device-metadata.ts.
 * The edge's own metadata gives TRUE; other metadata FALSE; a board provisioned with another key is
 * refused as an impostor; the answered challenge cannot be presented again.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { CONTRACTS } from '../../ledger-bridge/client.js';
import { join } from 'node:path';
import { deviceChallengeResponse } from '../../shared/crypto/index.js';
import { sha256 } from '../../shared/crypto/sha256.js';
import { fromHex, toHex } from '../../shared/encoding/hex.js';
import { validateConfig } from '../../edge-runtime/src/config.js';
import { startEdge } from '../../edge-runtime/src/from-config.js';
import { silentLog } from '../../edge-runtime/src/log.js';
import { SimBinding, startSimBoard } from '../../hardware/sim/index.js';
import { ensureFirmwareBuilt } from '../../firmware/build.js';
import { ledgerFixture, tempDir } from '../support/edge-fixture.js';
import { testEdgeConfig, writeCredentials } from '../support/edge-config.js';

const tmp = tempDir('provenant-e2e-challenge-');
afterAll(() => tmp.cleanup());
const TOKEN = '0123456789abcdef0123';

describe('Device Provenance challenge: API → built firmware in the sim → DeviceProvenance contract', () => {
  it('TRUE for the registered metadata, FALSE for other metadata, refused for a board with another key', async () => {
    await ensureFirmwareBuilt();
    const fx = await ledgerFixture(join(tmp.dir, 'ledger.db'), 2);
    const credDir = writeCredentials(join(tmp.dir, 'creds'), fx.devices);
    const [d0, d1] = [fx.devices[0]!, fx.devices[1]!];
    const genuine = await startSimBoard({
      provisioning: { deviceId: d0.deviceId, key: Buffer.from(d0.kIoT).toString('base64'), intervalMs: 500 },
      link: 'mock',
    });
    // dev-1's identity on a board that does not hold dev-1's K_IoT (a clone).
    const clone = await startSimBoard({
      provisioning: { deviceId: d1.deviceId, key: Buffer.alloc(32, 7).toString('base64'), intervalMs: 500 },
      link: 'mock',
    });
    const config = await validateConfig(
      testEdgeConfig(
        { dataDir: join(tmp.dir, 'data'), credDir, issuerPk: fx.issuer.pk },
        {
          boards: [{ serial: { path: genuine.path, baudRate: 115200 } }, { serial: { path: clone.path, baudRate: 115200 } }],
          ledger: { type: 'embedded', path: join(tmp.dir, 'unused.db') },
          api: { enabled: true, port: 0, token: TOKEN },
        },
      ),
      tmp.dir,
    );
    const edge = await startEdge(config, { log: silentLog, binding: SimBinding as never, ledger: fx.edgeClient });
    genuine.reboot();
    clone.reboot();
    try {
      const until = Date.now() + 20_000;
      while (Date.now() < until && !(edge.runtime.sessionOf(d0.deviceId) && edge.runtime.sessionOf(d1.deviceId)))
        await new Promise((r) => setTimeout(r, 100));
      const post = async (id: string, body: unknown = {}) => {
        const res = await fetch(`${edge.url}/devices/${id}/challenge`, {
          method: 'POST',
          headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
        return { status: res.status, body: (await res.json()) as Record<string, unknown> };
      };

      const ok = await post(d0.deviceId);
      expect(ok.status, JSON.stringify(ok.body)).toBe(200);
      expect(ok.body).toMatchObject({ deviceId: d0.deviceId, verdict: 'TRUE' });
      // The board's answer is exactly shared/crypto's response to the challenge the edge sent.
      const challenge = fromHex(ok.body['challenge'] as string);
      expect(ok.body['response']).toBe(toHex(deviceChallengeResponse(sha256, d0.kIoT, challenge)));
      expect(genuine.board.stats.framesOut['RESPONSE']).toBe(1);
      // The ledger issued that challenge to this edge and consumed it: the pair proves nothing twice.
      const again = fx.edgeClient.submit({
        contract: CONTRACTS.deviceProvenance,
        fn: 'prove',
        args: [
          d0.deviceId,
          JSON.stringify({ attributes: d0.credential.attributes, gatewayId: 'edge-1' }),
          ok.body['challenge'] as string,
          ok.body['response'] as string,
        ],
      });
      await expect(again).rejects.toThrow(/PROV_ERR_CHALLENGE_UNKNOWN/);

      // The board answers at most once a second: let a board second pass.
      await new Promise((r) => setTimeout(r, 1100));
      const other = await post(d0.deviceId, { metadata: { attributes: { ...d0.credential.attributes, site: 'plant-9' } } });
      expect(other.status, JSON.stringify(other.body)).toBe(200);
      expect(other.body).toMatchObject({ verdict: 'FALSE' });

      const impostor = await post(d1.deviceId);
      expect(impostor.status, JSON.stringify(impostor.body)).toBe(422);
      expect(impostor.body).toMatchObject({ code: 'PROV_ERR_DEVICE_SIGNATURE_MISMATCH' });
      expect(clone.board.stats.framesOut['RESPONSE']).toBe(1); // it answered, with the wrong key
    } finally {
      await edge.stop();
      await genuine.stop();
      await clone.stop();
      await fx.close();
    }
  });
});

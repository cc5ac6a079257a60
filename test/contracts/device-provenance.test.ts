import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTRACTS } from '../../ledger-bridge/client.js';
import { deviceChallengeResponse } from '../../shared/crypto/outsourced.js';
import { sha256 } from '../../shared/crypto/sha256.js';
import type { Enrollment } from '../../shared/crypto/outsourced.js';
import { attrs, EDGE_ID, errorCode, json, World } from './fixture.js';

const DP = CONTRACTS.deviceProvenance;
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('DeviceProvenance (Alg. 2) on the embedded ledger', () => {
  let w: World;
  let dev: Enrollment;
  beforeAll(async () => {
    w = await World.open();
    dev = (await w.enroll('dev-p')).enrollment;
  });
  afterAll(async () => {
    await w.close();
  });

  const metadata = (overrides: Record<string, unknown> = {}) =>
    JSON.stringify({ attributes: attrs('dev-p'), gatewayId: EDGE_ID, ...overrides });
  const prove = (deviceId: string, meta: string, challenge: Uint8Array, response: Uint8Array) =>
    w.auditor.evaluate({ contract: DP, fn: 'prove', args: [deviceId, meta, hex(challenge), hex(response)] });

  it('TRUE: right key, right metadata (response made by the device-side function)', async () => {
    const challenge = randomBytes(32);
    const r = json(await prove('dev-p', metadata(), challenge, deviceChallengeResponse(sha256, dev.device.kIoT, challenge)));
    expect(r).toMatchObject({ verdict: 'TRUE', deviceId: 'dev-p', reason: '', differences: [] });
  });

  it('FALSE: right key, metadata differs (names the differing fields)', async () => {
    const challenge = randomBytes(32);
    const response = deviceChallengeResponse(sha256, dev.device.kIoT, challenge);
    const r = json(await prove('dev-p', metadata({ attributes: { ...attrs('dev-p'), site: 'plant-9' } }), challenge, response));
    expect(r).toMatchObject({ verdict: 'FALSE', reason: 'METADATA_MISMATCH', differences: ['attributes.site'] });
    const r2 = json(await prove('dev-p', metadata({ gatewayId: 'edge-9' }), challenge, response));
    expect(r2).toMatchObject({ verdict: 'FALSE', differences: ['gatewayId'] });
  });

  it('throws "could not find the device" for an unknown device, before any signature check', async () => {
    const challenge = randomBytes(32);
    expect(await errorCode(prove('nobody', metadata(), challenge, new Uint8Array(32)))).toBe('PROV_ERR_DEVICE_NOT_FOUND');
    await expect(prove('nobody', metadata(), challenge, new Uint8Array(32))).rejects.toThrow(/could not find the device/);
  });

  it('throws "device signature mismatch" for a wrong key or a response to another challenge, even with right metadata', async () => {
    const challenge = randomBytes(32);
    const wrongKey = deviceChallengeResponse(sha256, new Uint8Array(32).fill(1), challenge);
    await expect(prove('dev-p', metadata(), challenge, wrongKey)).rejects.toThrow(
      /PROV_ERR_DEVICE_SIGNATURE_MISMATCH: device signature mismatch/,
    );
    const stale = deviceChallengeResponse(sha256, dev.device.kIoT, randomBytes(32));
    expect(await errorCode(prove('dev-p', metadata(), challenge, stale))).toBe('PROV_ERR_DEVICE_SIGNATURE_MISMATCH');
    // Signature is checked before metadata (Alg. 2 line 5 before line 6).
    expect(await errorCode(prove('dev-p', metadata({ gatewayId: 'x' }), challenge, stale))).toBe('PROV_ERR_DEVICE_SIGNATURE_MISMATCH');
  });

  it('FALSE with reason REVOKED for a revoked device that still holds its key', async () => {
    const { enrollment } = await w.enroll('dev-gone');
    await w.aa.submit({ contract: CONTRACTS.deviceRegistration, fn: 'revoke', args: ['dev-gone', 'decommissioned'] });
    const challenge = randomBytes(32);
    const r = json(
      await prove(
        'dev-gone',
        JSON.stringify({ attributes: attrs('dev-gone'), gatewayId: EDGE_ID }),
        challenge,
        deviceChallengeResponse(sha256, enrollment.device.kIoT, challenge),
      ),
    );
    expect(r).toMatchObject({ verdict: 'FALSE', reason: 'REVOKED' });
  });

  it('refuses short challenges and malformed arguments', async () => {
    const short = randomBytes(8);
    expect(await errorCode(prove('dev-p', metadata(), short, deviceChallengeResponse(sha256, dev.device.kIoT, short)))).toBe(
      'PROV_ERR_BAD_INPUT',
    );
    expect(await errorCode(w.auditor.evaluate({ contract: DP, fn: 'prove', args: ['dev-p', '{', 'aa'.repeat(32), 'aa'] }))).toBe(
      'PROV_ERR_BAD_INPUT',
    );
    expect(await errorCode(w.auditor.evaluate({ contract: DP, fn: 'prove', args: ['dev-p', metadata(), 'zz', 'aa'] }))).toBe(
      'PROV_ERR_BAD_INPUT',
    );
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTRACTS } from '../../ledger-bridge/client.js';
import { enrollDevice } from '../../shared/crypto/outsourced.js';
import { attrs, errorCode, json, World } from './fixture.js';
import { ledgerKeys } from '../../shared/crypto/domains.js';
import { sha256 } from '../../shared/crypto/sha256.js';

const DR = CONTRACTS.deviceRegistration;

describe('DeviceRegistration (Alg. 1) on the embedded ledger', () => {
  let w: World;
  beforeAll(async () => {
    w = await World.open({ configure: false });
  });
  afterAll(async () => {
    await w.close();
  });

  it('refuses to register before configure', async () => {
    const e = enrollDevice(w.issuer, attrs('early'));
    const p = w.aa.submit({
      contract: DR,
      fn: 'register',
      args: [JSON.stringify(e.registration)],
      transient: { ...ledgerKeys(sha256, e.device.kIoT) },
    });
    expect(await errorCode(p)).toBe('PROV_ERR_NOT_CONFIGURED');
  });

  it('configure is one-time and makes the caller the authority', async () => {
    const config = await w.configure();
    expect(config['authority']).toEqual({ id: 'x509::/CN=aa::/CN=ca', mspId: 'AuthorityMSP' });
    expect(await errorCode(w.configure())).toBe('PROV_ERR_ALREADY_CONFIGURED');
    expect(await errorCode(w.configure(w.edge))).toBe('PROV_ERR_ALREADY_CONFIGURED');
  });

  it('new: registers, returns txId and a bcId derived from MSP, deviceId and txId', async () => {
    const { result } = await w.enroll('dev-a');
    expect(result.txId).toMatch(/^[0-9a-f]{64}$/);
    expect(result.bcId).toMatch(/^[0-9a-f]{64}$/);
    expect(result.version).toBe(1);
    const { result: other } = await w.enroll('dev-b');
    expect(other.bcId).not.toBe(result.bcId);
    const record = json(await w.auditor.evaluate({ contract: DR, fn: 'get', args: ['dev-a'] }));
    expect(record).toMatchObject({
      deviceId: 'dev-a',
      bcId: result.bcId,
      status: 'active',
      gatewayId: 'edge-1',
      registeredTxId: result.txId,
    });
  });

  it('new: a second registration of the same device is refused', async () => {
    const e = enrollDevice(w.issuer, attrs('dev-a'));
    const p = w.aa.submit({
      contract: DR,
      fn: 'register',
      args: [JSON.stringify(e.registration)],
      transient: { ...ledgerKeys(sha256, e.device.kIoT) },
    });
    expect(await errorCode(p)).toBe('PROV_ERR_DEVICE_EXISTS');
  });

  it('only the authority registers, updates and revokes', async () => {
    const e = enrollDevice(w.issuer, attrs('dev-x'));
    const reg = w.edge.submit({
      contract: DR,
      fn: 'register',
      args: [JSON.stringify(e.registration)],
      transient: { ...ledgerKeys(sha256, e.device.kIoT) },
    });
    expect(await errorCode(reg)).toBe('PROV_ERR_FORBIDDEN');
    expect(await errorCode(w.edge.submit({ contract: DR, fn: 'update', args: [JSON.stringify(e.registration)] }))).toBe(
      'PROV_ERR_FORBIDDEN',
    );
    expect(await errorCode(w.edge.submit({ contract: DR, fn: 'revoke', args: ['dev-a', 'x'] }))).toBe('PROV_ERR_FORBIDDEN');
  });

  it('K_tag and K_chal must come in transient data, 32 bytes each; K_IoT itself is refused; no key appears in the result or the record', async () => {
    const e = enrollDevice(w.issuer, attrs('dev-k'));
    const noKey = w.aa.submit({ contract: DR, fn: 'register', args: [JSON.stringify(e.registration)] });
    expect(await errorCode(noKey)).toBe('PROV_ERR_KIOT_MISSING');
    const shortKey = w.aa.submit({
      contract: DR,
      fn: 'register',
      args: [JSON.stringify(e.registration)],
      transient: { kTag: new Uint8Array(16), kChal: new Uint8Array(32) },
    });
    expect(await errorCode(shortKey)).toBe('PROV_ERR_BAD_INPUT');
    const tagOnly = w.aa.submit({
      contract: DR,
      fn: 'register',
      args: [JSON.stringify(e.registration)],
      transient: { kTag: new Uint8Array(32) },
    });
    expect(await errorCode(tagOnly)).toBe('PROV_ERR_BAD_INPUT');
    // The ledger must never hold K_IoT (K_maint, which unlocks the board, derives from it).
    const withKiot = w.aa.submit({
      contract: DR,
      fn: 'register',
      args: [JSON.stringify(e.registration)],
      transient: { ...ledgerKeys(sha256, e.device.kIoT), kIoT: e.device.kIoT },
    });
    expect(await errorCode(withKiot)).toBe('PROV_ERR_BAD_INPUT');
    const r = await w.aa.submit({
      contract: DR,
      fn: 'register',
      args: [JSON.stringify(e.registration)],
      transient: { ...ledgerKeys(sha256, e.device.kIoT) },
    });
    const keys = ledgerKeys(sha256, e.device.kIoT);
    const record = Buffer.from(await w.auditor.evaluate({ contract: DR, fn: 'get', args: ['dev-k'] })).toString();
    for (const k of [e.device.kIoT, keys.kTag, keys.kChal]) {
      const hex = Buffer.from(k).toString('hex');
      expect(Buffer.from(r.result).toString()).not.toContain(hex);
      expect(record).not.toContain(hex);
    }
  });

  it('refuses registrations under another schema, issuer or with bad attributes', async () => {
    const e = enrollDevice(w.issuer, attrs('dev-s'));
    const submit = (reg: unknown) =>
      errorCode(
        w.aa.submit({ contract: DR, fn: 'register', args: [JSON.stringify(reg)], transient: { ...ledgerKeys(sha256, e.device.kIoT) } }),
      );
    expect(await submit({ ...e.registration, schema: ['deviceId', 'site'] })).toBe('PROV_ERR_BAD_INPUT');
    expect(await submit({ ...e.registration, issuerPk: 'ab'.repeat(96) })).toBe('PROV_ERR_BAD_INPUT');
    expect(await submit({ ...e.registration, attributes: { deviceId: 'dev-s' } })).toBe('PROV_ERR_BAD_INPUT');
    expect(await submit({ ...e.registration, deviceId: 'other' })).toBe('PROV_ERR_BAD_INPUT');
    expect(
      await errorCode(
        w.aa.submit({ contract: DR, fn: 'register', args: ['{not json'], transient: { ...ledgerKeys(sha256, e.device.kIoT) } }),
      ),
    ).toBe('PROV_ERR_BAD_INPUT');
  });

  it('update: keeps bcId, bumps the version, keeps every version in history', async () => {
    const before = json(await w.auditor.evaluate({ contract: DR, fn: 'get', args: ['dev-a'] }));
    const e = enrollDevice(w.issuer, { ...attrs('dev-a'), line: 'L2' });
    const r = await w.aa.submit({
      contract: DR,
      fn: 'update',
      args: [JSON.stringify({ ...e.registration, firmwareHash: 'ab'.repeat(32) })],
    });
    const result = json(r.result);
    expect(result).toMatchObject({ bcId: before['bcId'], version: 2, txId: r.txId });
    const history = json<{ txId: string; record: { version: number; attributes: Record<string, string> } }[]>(
      await w.auditor.evaluate({ contract: DR, fn: 'history', args: ['dev-a'] }),
    );
    expect(history.map((h) => h.record.version)).toEqual([1, 2]);
    expect(history[0]?.record.attributes['line']).toBe('L1');
    expect(history[1]?.record.attributes['line']).toBe('L2');
    expect(history[1]?.txId).toBe(r.txId);
  });

  it('update of an unknown device: could not find the device', async () => {
    const e = enrollDevice(w.issuer, attrs('ghost'));
    expect(await errorCode(w.aa.submit({ contract: DR, fn: 'update', args: [JSON.stringify(e.registration)] }))).toBe(
      'PROV_ERR_DEVICE_NOT_FOUND',
    );
    expect(await errorCode(w.auditor.evaluate({ contract: DR, fn: 'get', args: ['ghost'] }))).toBe('PROV_ERR_DEVICE_NOT_FOUND');
  });

  it('revoke: marks the device revoked; a revoked device cannot be updated or revoked again', async () => {
    const { enrollment } = await w.enroll('dev-r');
    const r = json(await w.aa.submit({ contract: DR, fn: 'revoke', args: ['dev-r', 'stolen'] }).then((c) => c.result));
    expect(r).toMatchObject({ status: 'revoked', version: 2 });
    const record = json(await w.auditor.evaluate({ contract: DR, fn: 'get', args: ['dev-r'] }));
    expect(record).toMatchObject({ status: 'revoked', revokedReason: 'stolen' });
    expect(await errorCode(w.aa.submit({ contract: DR, fn: 'revoke', args: ['dev-r', 'again'] }))).toBe('PROV_ERR_DEVICE_REVOKED');
    expect(await errorCode(w.aa.submit({ contract: DR, fn: 'update', args: [JSON.stringify(enrollment.registration)] }))).toBe(
      'PROV_ERR_DEVICE_REVOKED',
    );
    expect(await errorCode(w.aa.submit({ contract: DR, fn: 'revoke', args: ['nobody', ''] }))).toBe('PROV_ERR_DEVICE_NOT_FOUND');
  });

  it('setPolicies: authority only, policies validated against the schema', async () => {
    const pol = { id: 'any-temp', anyOf: [{ type: 'temperature' }] };
    expect(await errorCode(w.edge.submit({ contract: DR, fn: 'setPolicies', args: [JSON.stringify([pol])] }))).toBe('PROV_ERR_FORBIDDEN');
    expect(
      await errorCode(w.aa.submit({ contract: DR, fn: 'setPolicies', args: [JSON.stringify([{ id: 'x', anyOf: [{ colour: 'red' }] }])] })),
    ).toBe('PROV_ERR_BAD_INPUT');
    const config = json<{ policies: { policyId: string }[] }>(
      (await w.aa.submit({ contract: DR, fn: 'setPolicies', args: [JSON.stringify([pol])] })).result,
    );
    expect(config.policies.map((p) => p.policyId.split('@')[0])).toEqual(['any-temp']);
  });
});

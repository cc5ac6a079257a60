/**
 * The four contracts on the Fabric code path: served by fabric-shim's own chaincode server
 * (ChaincodeFromContract dispatch, its stub and ClientIdentity from the signed proposal) and
 * called through the real FabricLedgerClient over gRPC — against H6's STAND-IN peer, because no
 * Fabric peer can run here. Checks what differs from the embedded ledger: argument marshalling by
 * the metadata, transient data and private collections, history newest-first, range scans, error
 * messages carried as strings, block evidence for the auditor.
 */
// The stand-in first: fabric-shim's protos must load before fabric-gateway's (see there).
import { startStandIn, type StandInNetwork } from '../support/fabric-stand-in/network.js';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Auditor } from '../../ledger-bridge/auditor/index.js';
import { CONTRACTS, type LedgerClient } from '../../ledger-bridge/client.js';
import { contracts } from '../../ledger-bridge/contracts/index.js';
import { checkFabricInclusion } from '../../ledger-bridge/fabric/block-proof.js';
import { FabricLedgerClient } from '../../ledger-bridge/fabric/fabric-client.js';
import { ready } from '../../shared/crypto/bbs.js';
import { enrollDevice, deviceChallengeResponse, setup, type Enrollment } from '../../shared/crypto/outsourced.js';
import { sha256 } from '../../shared/crypto/sha256.js';
import { attrs, errorCode, json, partialFor, POLICY, readingOf, signed, T0 } from './fixture.js';

const DR = CONTRACTS.deviceRegistration;
const DATA = CONTRACTS.dataProvenance;

describe('contracts through fabric-shim and FabricLedgerClient (STAND-IN peer)', { timeout: 120_000 }, () => {
  let net: StandInNetwork;
  let client: LedgerClient;
  let dev: Enrollment;

  beforeAll(async () => {
    await ready();
    net = await startStandIn(contracts, { batchTimeoutMs: 5 });
    client = await FabricLedgerClient.connect(net.config);
  });
  afterAll(async () => {
    await client?.close();
    await net?.close();
  });

  it('Alg. 1: configure, register with K_IoT in transient data, update, history', async () => {
    const issuer = setup({ keyMaterial: new Uint8Array(32).fill(7) });
    const config = json(
      (
        await client.submit({
          contract: DR,
          fn: 'configure',
          args: [JSON.stringify({ issuerPk: Buffer.from(issuer.pk).toString('hex'), schema: issuer.schema, policies: [POLICY] })],
        })
      ).result,
    );
    expect((config['authority'] as { mspId: string }).mspId).toBe('Org1MSP');
    dev = enrollDevice(issuer, attrs('dev-f'));
    const reg = await client.submit({
      contract: DR,
      fn: 'register',
      args: [JSON.stringify(dev.registration)],
      transient: { kIoT: dev.device.kIoT },
    });
    expect(json(reg.result)).toMatchObject({ txId: reg.txId, version: 1 });
    expect(
      await errorCode(
        client.submit({ contract: DR, fn: 'register', args: [JSON.stringify(dev.registration)], transient: { kIoT: dev.device.kIoT } }),
      ),
    ).toBe('PROV_ERR_DEVICE_EXISTS');
    await client.submit({ contract: DR, fn: 'update', args: [JSON.stringify({ ...dev.registration, gatewayId: 'edge-1' })] });
    expect(json(await client.evaluate({ contract: DR, fn: 'get', args: ['dev-f'] }))).toMatchObject({ version: 2, gatewayId: 'edge-1' });
    const history: { record: { version: number } }[] = json(await client.evaluate({ contract: DR, fn: 'history', args: ['dev-f'] }));
    expect(history.map((h) => h.record.version)).toEqual([1, 2]);
  });

  it('Alg. 2: TRUE, and "device signature mismatch" carried as the error message', async () => {
    const challenge = randomBytes(32);
    const meta = JSON.stringify({ attributes: attrs('dev-f'), gatewayId: 'edge-1' });
    const ok = json(
      await client.evaluate({
        contract: CONTRACTS.deviceProvenance,
        fn: 'prove',
        args: [
          'dev-f',
          meta,
          challenge.toString('hex'),
          Buffer.from(deviceChallengeResponse(sha256, dev.device.kIoT, challenge)).toString('hex'),
        ],
      }),
    );
    expect(ok['verdict']).toBe('TRUE');
    const bad = client.evaluate({
      contract: CONTRACTS.deviceProvenance,
      fn: 'prove',
      args: ['dev-f', meta, challenge.toString('hex'), 'ab'.repeat(32)],
    });
    expect(await errorCode(bad)).toBe('PROV_ERR_DEVICE_SIGNATURE_MISMATCH');
  });

  it('Alg. 3: a batch with a forged reading, verify by seq and by timestamp, and the auditor with a checked block proof', async () => {
    const p = partialFor(dev.credential, 1);
    const good = signed(dev.device.kIoT, readingOf('dev-f', 1, p));
    const forged = signed(new Uint8Array(32).fill(2), readingOf('dev-f', 2, p));
    const r = await client.submit({
      contract: DATA,
      fn: 'recordBatch',
      args: [JSON.stringify({ version: 1, readings: [good, forged], partials: [p] })],
    });
    const result = json<{ accepted: number; rejected: { reason: string }[] }>(r.result);
    expect(result.accepted).toBe(1);
    expect(result.rejected.map((x) => x.reason)).toEqual(['BAD_TAG']);
    expect(
      json(await client.evaluate({ contract: DATA, fn: 'verify', args: ['dev-f', `t:${T0 + 1000}`, good.canonical, good.tag] }))['verdict'],
    ).toBe('TRUE');
    expect(await errorCode(client.evaluate({ contract: DATA, fn: 'verify', args: ['dev-f', '2', forged.canonical, ''] }))).toBe(
      'PROV_ERR_RECORD_NOT_FOUND',
    );

    const auditor = new Auditor({ ledger: client, checkProof: checkFabricInclusion });
    const audit = await auditor.check({ deviceId: 'dev-f', at: { seq: 1 }, data: Buffer.from(good.canonical, 'hex') });
    expect(audit).toMatchObject({ verdict: 'TRUE', genuine: true, evidence: { txId: r.txId, proofCheck: { ok: true } } });
    const tampered = signed(dev.device.kIoT, readingOf('dev-f', 1, p, { batteryMv: 1 }));
    expect((await auditor.check({ deviceId: 'dev-f', at: { seq: 1 }, data: Buffer.from(tampered.canonical, 'hex') })).verdict).toBe(
      'FALSE',
    );
  });

  it('Alg. 4: profiles stored and listed through a range scan', async () => {
    for (let w = 0; w < 3; w++) {
      const s = json(
        await client
          .submit({
            contract: CONTRACTS.trafficProfile,
            fn: 'submitProfile',
            args: [JSON.stringify({ deviceId: 'dev-f', window: w, features: { rate: 2 + w / 100 } }), ''],
          })
          .then((c) => c.result),
      );
      expect(s).toMatchObject({ trafficProven: true, window: w });
    }
    const list = json<{ window: number }[]>(
      await client.evaluate({ contract: CONTRACTS.trafficProfile, fn: 'listProfiles', args: ['dev-f'] }),
    );
    expect(list.map((p) => p.window)).toEqual([0, 1, 2]);
  });
});

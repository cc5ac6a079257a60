/**
 * The four contracts through a REAL Fabric 2.4.9 peer (the run's shared network), served by
 * `provenant chaincode serve` under this file's own chaincode label, called with
 * FabricLedgerClient as distinct Org1 client identities: argument marshalling by the contract
 * metadata, K_IoT deposited through transient data into the `kIotDeposits` private data collection
 * (and found in NO block of the channel, in any encoding), per-identity authorisation, history
 * from the peer's history database, range scans, error messages carried as strings, and the
 * endorsement policy the chaincode was committed with.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Auditor } from '../../ledger-bridge/auditor/index.js';
import { join } from 'node:path';
import { CONTRACTS, type ContractName } from '../../ledger-bridge/client.js';
import { checkFabricInclusion, decodeBlock } from '../../ledger-bridge/fabric/block-proof.js';
import { FabricLedgerClient } from '../../ledger-bridge/fabric/fabric-client.js';
import { ledgerKeys } from '../../shared/crypto/domains.js';
import { ready } from '../../shared/crypto/bbs.js';
import { deviceChallengeResponse, enrollDevice, setup, type Enrollment, type Issuer } from '../../shared/crypto/outsourced.js';
import { sha256 } from '../../shared/crypto/sha256.js';
import { attrs, errorCode, json, partialFor, POLICY, readingOf, signed, T0 } from '../contracts/fixture.js';
import { describeFabric, FABRIC_SETUP_TIMEOUT, FabricTestNetwork, REPO, type ChaincodeProcess } from '../support/fabric/index.js';

const DR = CONTRACTS.deviceRegistration;
const DATA = CONTRACTS.dataProvenance;

describeFabric('the contracts through a real Fabric peer', () => {
  let net: FabricTestNetwork;
  let cc: ChaincodeProcess;
  let aa: FabricLedgerClient;
  let edge: FabricLedgerClient;
  let auditorClient: FabricLedgerClient;
  let issuer: Issuer;
  let dev: Enrollment;

  beforeAll(async () => {
    await ready();
    net = await FabricTestNetwork.shared();
    cc = await net.startChaincode({ name: 'contracts' });
    const open = (who: string) => FabricLedgerClient.connect(net.clientConfig(cc.label, net.identity(who)), { retryBackoffMs: 50 });
    [aa, edge, auditorClient] = await Promise.all([open('aa'), open('edge-1'), open('auditor')]);
    issuer = setup({ keyMaterial: new Uint8Array(32).fill(7) });
  }, FABRIC_SETUP_TIMEOUT);
  afterAll(async () => {
    await Promise.all([aa?.close(), edge?.close(), auditorClient?.close()]);
    await net?.release();
  });

  it('Alg. 1: configure binds the authority to its certificate; register (K_IoT in transient data), update, history', async () => {
    const config = json(
      (
        await aa.submit({
          contract: DR,
          fn: 'configure',
          args: [JSON.stringify({ issuerPk: Buffer.from(issuer.pk).toString('hex'), schema: issuer.schema, policies: [POLICY] })],
        })
      ).result,
    );
    // the authority is this certificate, not merely its organisation
    expect(config['authority']).toMatchObject({
      mspId: 'Org1MSP',
      id: expect.stringMatching(/^x509::.*CN=aa@org1\.example\.com::.*CN=ca\.org1\.example\.com/),
    });
    dev = enrollDevice(issuer, attrs('dev-f'));
    // another Org1 client (same organisation, other certificate) may not register
    const denied = await edge
      .submit({
        contract: DR,
        fn: 'register',
        args: [JSON.stringify(dev.registration)],
        transient: { ...ledgerKeys(sha256, dev.device.kIoT) },
      })
      .then(
        () => new Error('registered'),
        (e: unknown) => e as Error,
      );
    expect(denied).toMatchObject({ details: { contractCode: 'PROV_ERR_FORBIDDEN' } });
    expect(denied.message).toMatch(
      /authority \(Org1MSP aa@org1\.example\.com\) may register devices; caller is Org1MSP edge-1@org1\.example\.com/,
    );
    // ...nor configure again (configure is one-time, whoever asks)
    const again = JSON.stringify({ issuerPk: Buffer.from(issuer.pk).toString('hex'), schema: issuer.schema, policies: [POLICY] });
    expect(await errorCode(edge.submit({ contract: DR, fn: 'configure', args: [again] }))).toBe('PROV_ERR_ALREADY_CONFIGURED');
    const reg = await aa.submit({
      contract: DR,
      fn: 'register',
      args: [JSON.stringify(dev.registration)],
      transient: { ...ledgerKeys(sha256, dev.device.kIoT) },
    });
    expect(json(reg.result)).toMatchObject({ txId: reg.txId, version: 1 });
    expect(
      await errorCode(
        aa.submit({
          contract: DR,
          fn: 'register',
          args: [JSON.stringify(dev.registration)],
          transient: { ...ledgerKeys(sha256, dev.device.kIoT) },
        }),
      ),
    ).toBe('PROV_ERR_DEVICE_EXISTS');
    // register without the transient deposit is refused: K_IoT never travels as an argument
    const other = enrollDevice(issuer, attrs('dev-g'));
    expect(await errorCode(aa.submit({ contract: DR, fn: 'register', args: [JSON.stringify(other.registration)] }))).toBe(
      'PROV_ERR_KIOT_MISSING',
    );
    await aa.submit({ contract: DR, fn: 'update', args: [JSON.stringify({ ...dev.registration, gatewayId: 'edge-1' })] });
    expect(json(await auditorClient.evaluate({ contract: DR, fn: 'get', args: ['dev-f'] }))).toMatchObject({
      version: 2,
      gatewayId: 'edge-1',
    });
    // key history comes from the peer's history database
    const history: { record: { version: number } }[] = json(await auditorClient.evaluate({ contract: DR, fn: 'history', args: ['dev-f'] }));
    expect(history.map((h) => h.record.version)).toEqual([1, 2]);
  });

  it('no device key (K_IoT, nor the deposited K_tag and K_chal) is in any block of the channel, in any encoding; the block holds only the private write-set hashes', async () => {
    const keys = [dev.device.kIoT, ledgerKeys(sha256, dev.device.kIoT).kTag, ledgerKeys(sha256, dev.device.kIoT).kChal].map((x) =>
      Buffer.from(x),
    );
    const needles = keys.flatMap((k) => [
      k,
      Buffer.from(k.toString('hex')),
      Buffer.from(k.toString('hex').toUpperCase()),
      Buffer.from(k.toString('base64')),
    ]);
    const head = await auditorClient.head();
    let withCollectionHashes = 0;
    for (let n = 0; n < head.height; n++) {
      const raw = Buffer.from(await auditorClient.block(n));
      for (const needle of needles) expect(raw.includes(needle), `block ${n} contains K_IoT`).toBe(false);
      if (raw.includes(Buffer.from('kIotDeposits'))) withCollectionHashes++;
    }
    // the registrations' blocks name the collection (hashed write sets) without its values
    expect(withCollectionHashes).toBeGreaterThanOrEqual(1);
    expect(head.height).toBeGreaterThan(3);
  });

  it('Alg. 2: a ledger-issued challenge gives TRUE once; "device signature mismatch" carried as the error message', async () => {
    const meta = JSON.stringify({ attributes: attrs('dev-f'), gatewayId: 'edge-1' });
    const issue = async () =>
      Buffer.from(
        json<{ challenge: string }>(
          (await auditorClient.submit({ contract: CONTRACTS.deviceProvenance, fn: 'issueChallenge', args: ['dev-f'] })).result,
        ).challenge,
        'hex',
      );
    const prove = async (challenge: Buffer, response: string) =>
      json(
        (
          await auditorClient.submit({
            contract: CONTRACTS.deviceProvenance,
            fn: 'prove',
            args: ['dev-f', meta, challenge.toString('hex'), response],
          })
        ).result,
      );
    const challenge = await issue();
    const response = Buffer.from(deviceChallengeResponse(sha256, dev.device.kIoT, challenge)).toString('hex');
    expect((await prove(challenge, response))['verdict']).toBe('TRUE');
    expect(await errorCode(prove(challenge, response))).toBe('PROV_ERR_CHALLENGE_UNKNOWN');
    expect(await errorCode(prove(await issue(), 'ab'.repeat(32)))).toBe('PROV_ERR_DEVICE_SIGNATURE_MISMATCH');
    expect(await errorCode(prove(randomBytes(32), response))).toBe('PROV_ERR_CHALLENGE_UNKNOWN');
  });

  it('Alg. 3: a batch with a forged reading; verify by seq and by timestamp; the auditor with a checked block proof', async () => {
    // The edge registry: the authority binds the edge client's certificate identity to edge-1.
    const me = json<{ mspId: string; id: string }>(await edge.evaluate({ contract: DR, fn: 'whoami', args: [] }));
    await aa.submit({ contract: DR, fn: 'registerEdge', args: [JSON.stringify({ edgeId: 'edge-1', mspId: me.mspId, id: me.id })] });
    const p = partialFor(dev.credential, 1);
    const good = signed(dev.device.kIoT, readingOf('dev-f', 1, p));
    const forged = signed(new Uint8Array(32).fill(2), readingOf('dev-f', 2, p));
    const r = await edge.submit({
      contract: DATA,
      fn: 'recordBatch',
      args: [JSON.stringify({ version: 1, readings: [good, forged], partials: [p] })],
    });
    const result = json<{ accepted: number; rejected: { reason: string }[] }>(r.result);
    expect(result.accepted).toBe(1);
    expect(result.rejected.map((x) => x.reason)).toEqual(['BAD_TAG']);
    expect(
      json(await auditorClient.evaluate({ contract: DATA, fn: 'verify', args: ['dev-f', `t:${T0 + 1000}`, good.canonical, good.tag] }))[
        'verdict'
      ],
    ).toBe('TRUE');
    expect(await errorCode(auditorClient.evaluate({ contract: DATA, fn: 'verify', args: ['dev-f', '2', forged.canonical, ''] }))).toBe(
      'PROV_ERR_RECORD_NOT_FOUND',
    );
    const auditor = new Auditor({ ledger: auditorClient, checkProof: checkFabricInclusion });
    const audit = await auditor.check({ deviceId: 'dev-f', at: { seq: 1 }, data: Buffer.from(good.canonical, 'hex') });
    expect(audit).toMatchObject({
      verdict: 'TRUE',
      genuine: true,
      evidence: { txId: r.txId, blockNumber: r.blockNumber, proofCheck: { ok: true } },
    });
    // The auditor re-verified the partial's BBS proof itself, a proven write in a Fabric block.
    expect(audit.evidence?.partial).toMatchObject({ partialDigest: p.partialDigest, keyFrom: 'ledger-config', check: { ok: true } });
    const tampered = signed(dev.device.kIoT, readingOf('dev-f', 1, p, { batteryMv: 1 }));
    expect((await auditor.check({ deviceId: 'dev-f', at: { seq: 1 }, data: Buffer.from(tampered.canonical, 'hex') })).verdict).toBe(
      'FALSE',
    );
  });

  it('Alg. 4: profiles stored and listed through a range scan', async () => {
    for (let w = 0; w < 3; w++) {
      const s = json(
        (
          await edge.submit({
            contract: CONTRACTS.trafficProfile,
            fn: 'submitProfile',
            args: [JSON.stringify({ deviceId: 'dev-f', window: w, features: { rate: 2 + w / 100 } }), ''],
          })
        ).result,
      );
      expect(s).toMatchObject({ trafficProven: true, window: w });
    }
    const list = json<{ window: number }[]>(
      await auditorClient.evaluate({ contract: CONTRACTS.trafficProfile, fn: 'listProfiles', args: ['dev-f'] }),
    );
    expect(list.map((p) => p.window)).toEqual([0, 1, 2]);
  });

  it('the endorsement policy is enforced: refused by the gateway, and INVALID at commit when endorsed by fewer organisations', async () => {
    // Org2 is no member of the channel: AND(Org1, Org2) can never be satisfied.
    const strict = await net.startChaincode({
      name: 'strict',
      policy: "AND('Org1MSP.peer','Org2MSP.peer')",
      contractsModule: join(REPO, 'test', 'fabric', 'fixtures', 'test-contract.ts'),
    });
    const cfg = net.clientConfig(strict.label, net.identity('counter'), { maxRetries: 0 });
    const Counter = 'Counter' as ContractName;
    const client = await FabricLedgerClient.connect(cfg);
    // 1. The gateway plans endorsements from the policy: no peer set satisfies it, nothing is ordered.
    const refused = await client.submit({ contract: Counter, fn: 'add', args: ['c', '1'] }).then(
      () => new Error('committed') as Error & { code?: string },
      (e: unknown) => e as Error & { code?: string },
    );
    expect(refused).toMatchObject({ code: 'PROV_ERR_ENDORSEMENT', message: expect.stringMatching(/satisfy the endorsement policy/) });
    await client.close();
    // 2. Endorsed by Org1 alone (the client names the endorsing organisations, as it does for
    //    K_IoT's transient data): the orderer orders it, the peer's validation marks it
    //    ENDORSEMENT_POLICY_FAILURE, and the write is not applied.
    const narrow = await FabricLedgerClient.connect({ ...cfg, transientEndorsingOrgs: ['Org1MSP'] });
    const invalid = await narrow.submit({ contract: Counter, fn: 'add', args: ['c', '1'], transient: { note: Buffer.from('x') } }).then(
      () => new Error('committed') as Error & { code?: string; details?: Record<string, unknown> },
      (e: unknown) => e as Error & { code?: string; details?: Record<string, unknown> },
    );
    expect(invalid).toMatchObject({ code: 'PROV_ERR_ENDORSEMENT_POLICY_FAILURE', details: { validationCode: 10 } });
    const { txId, blockNumber } = invalid.details as { txId: string; blockNumber: number };
    const block = decodeBlock(await auditorClient.block(blockNumber));
    expect(block.validation[block.txIds.indexOf(txId)]).toBe(10);
    expect(Buffer.from(await narrow.evaluate({ contract: Counter, fn: 'get', args: ['c'] })).toString()).toBe('0');
    await narrow.close();
  });
});

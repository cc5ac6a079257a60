/**
 * Device Provenance (talk, Algorithm 2) as one suite for every backend (issue 19): the four
 * outcomes — TRUE; FALSE naming the fields that differ; "could not find the device"; "device
 * signature mismatch" — for devices registered with and without a gateway, with the metadata built
 * the one way every route builds it (shared/device-metadata.ts), and the freshness of issue 11's
 * attack 7: the ledger picks the challenge, it is answered once, only by whom it was issued to,
 * and before its expiry. The embedded ledger runs it in device-provenance.test.ts, the Fabric
 * client path in device-provenance-fabric.test.ts.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTRACTS, type LedgerClient } from '../../ledger-bridge/client.js';
import { ready } from '../../shared/crypto/bbs.js';
import { ledgerKeys } from '../../shared/crypto/domains.js';
import { deviceChallengeResponse, enrollDevice, setup, type Enrollment, type Issuer } from '../../shared/crypto/outsourced.js';
import { sha256 } from '../../shared/crypto/sha256.js';
import { metadataArg, metadataAtEdge, metadataFromRegistration } from '../../shared/device-metadata.js';
import { attrs, errorCode, json, POLICY } from './fixture.js';

/** Three identities on one fresh ledger: the authority, a prover (an auditor) and another caller (an edge). */
export interface ProveHarness {
  readonly aa: LedgerClient;
  readonly prover: LedgerClient;
  readonly other: LedgerClient;
  /** Moves the ledger's clock forward (embedded only; undefined where the ledger's time is real). */
  readonly advanceClock?: (ms: number) => void;
  close(): Promise<void>;
}

const DR = CONTRACTS.deviceRegistration;
const DP = CONTRACTS.deviceProvenance;
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** Registers the suite for one backend. */
export function deviceProvenanceSuite(backend: string, open: () => Promise<ProveHarness>, timeout = 60_000): void {
  describe(`Device Provenance (Alg. 2): ${backend}`, { timeout }, () => {
    let h: ProveHarness;
    let issuer: Issuer;
    const devs: Record<string, { e: Enrollment; registration: Record<string, unknown> }> = {};

    const register = async (deviceId: string, gatewayId?: string): Promise<void> => {
      const e = enrollDevice(issuer, attrs(deviceId));
      // What `authority enroll [--gateway]` writes into <ID>.registration.json.
      const registration = { version: 1, ...e.registration, ...(gatewayId !== undefined ? { gatewayId } : {}) };
      await h.aa.submit({
        contract: DR,
        fn: 'register',
        args: [JSON.stringify(registration)],
        transient: { ...ledgerKeys(sha256, e.device.kIoT) },
      });
      devs[deviceId] = { e, registration };
    };
    const issue = async (client: LedgerClient, deviceId: string): Promise<Uint8Array> => {
      const r = json<{ challenge: string; deviceId: string; expiresAt: number; issuedAt: number }>(
        (await client.submit({ contract: DP, fn: 'issueChallenge', args: [deviceId] })).result,
      );
      expect(r.challenge).toMatch(/^[0-9a-f]{64}$/);
      expect(r.expiresAt).toBeGreaterThan(r.issuedAt);
      return Buffer.from(r.challenge, 'hex');
    };
    const prove = async (client: LedgerClient, deviceId: string, metadata: string, challenge: Uint8Array, response: Uint8Array) =>
      json((await client.submit({ contract: DP, fn: 'prove', args: [deviceId, metadata, hex(challenge), hex(response)] })).result);
    const answer = (deviceId: string, challenge: Uint8Array): Uint8Array =>
      deviceChallengeResponse(sha256, (devs[deviceId] as { e: Enrollment }).e.device.kIoT, challenge);
    const fromFile = (deviceId: string, overrides: { gatewayId?: string } = {}): string =>
      metadataArg(metadataFromRegistration((devs[deviceId] as { registration: unknown }).registration, overrides));

    beforeAll(async () => {
      await ready();
      h = await open();
      issuer = setup({ keyMaterial: new Uint8Array(32).fill(19) });
      const config = JSON.stringify({ issuerPk: hex(issuer.pk), schema: issuer.schema, policies: [POLICY] });
      await h.aa.submit({ contract: DR, fn: 'configure', args: [config] });
      await register('dp-gw', 'edge-1');
      await register('dp-free');
      await register('dp-gone', 'edge-1');
      await h.aa.submit({ contract: DR, fn: 'revoke', args: ['dp-gone', 'decommissioned'] });
    }, timeout);
    afterAll(async () => {
      await h?.close();
    });

    it('TRUE: a fresh challenge answered by the device, with the metadata of its registration file or of its own edge', async () => {
      const c1 = await issue(h.prover, 'dp-gw');
      expect(await prove(h.prover, 'dp-gw', fromFile('dp-gw'), c1, answer('dp-gw', c1))).toMatchObject({
        verdict: 'TRUE',
        reason: '',
        differences: [],
        deviceId: 'dp-gw',
      });
      // What the edge it is registered to presents (credential attributes, itself as gateway).
      const c2 = await issue(h.prover, 'dp-gw');
      const atEdge = metadataArg(metadataAtEdge(attrs('dp-gw'), 'edge-1'));
      expect(await prove(h.prover, 'dp-gw', atEdge, c2, answer('dp-gw', c2))).toMatchObject({ verdict: 'TRUE' });
    });

    it('TRUE for a device registered without a gateway, from its file and through any edge', async () => {
      const c1 = await issue(h.prover, 'dp-free');
      expect(await prove(h.prover, 'dp-free', fromFile('dp-free'), c1, answer('dp-free', c1))).toMatchObject({ verdict: 'TRUE' });
      const c2 = await issue(h.prover, 'dp-free');
      const atEdge = metadataArg(metadataAtEdge(attrs('dp-free'), 'edge-7'));
      expect(await prove(h.prover, 'dp-free', atEdge, c2, answer('dp-free', c2))).toMatchObject({ verdict: 'TRUE' });
    });

    it('FALSE names exactly the fields that differ (an attribute; the pinned gateway)', async () => {
      const c1 = await issue(h.prover, 'dp-gw');
      const otherSite = metadataArg(metadataAtEdge(attrs('dp-gw', 'plant-9'), 'edge-1'));
      expect(await prove(h.prover, 'dp-gw', otherSite, c1, answer('dp-gw', c1))).toMatchObject({
        verdict: 'FALSE',
        reason: 'METADATA_MISMATCH',
        differences: ['attributes.site'],
      });
      const c2 = await issue(h.prover, 'dp-gw');
      expect(await prove(h.prover, 'dp-gw', fromFile('dp-gw', { gatewayId: 'edge-9' }), c2, answer('dp-gw', c2))).toMatchObject({
        verdict: 'FALSE',
        differences: ['gatewayId'],
      });
      const c3 = await issue(h.prover, 'dp-gone');
      expect(await prove(h.prover, 'dp-gone', fromFile('dp-gone'), c3, answer('dp-gone', c3))).toMatchObject({
        verdict: 'FALSE',
        reason: 'REVOKED',
      });
    });

    it('"could not find the device": no challenge is issued for it, and prove says so before anything else', async () => {
      await expect(h.prover.submit({ contract: DP, fn: 'issueChallenge', args: ['nobody'] })).rejects.toThrow(/could not find the device/);
      const c = randomBytes(32);
      expect(await errorCode(prove(h.prover, 'nobody', fromFile('dp-gw'), c, c))).toBe('PROV_ERR_DEVICE_NOT_FOUND');
    });

    it('"device signature mismatch": a board with another key, or an answer to another challenge', async () => {
      const c = await issue(h.prover, 'dp-gw');
      const clone = deviceChallengeResponse(sha256, new Uint8Array(32).fill(1), c);
      await expect(prove(h.prover, 'dp-gw', fromFile('dp-gw'), c, clone)).rejects.toThrow(
        /PROV_ERR_DEVICE_SIGNATURE_MISMATCH: device signature mismatch/,
      );
      const c2 = await issue(h.prover, 'dp-gw');
      expect(await errorCode(prove(h.prover, 'dp-gw', fromFile('dp-gw'), c2, answer('dp-gw', c)))).toBe(
        'PROV_ERR_DEVICE_SIGNATURE_MISMATCH',
      );
    });

    it("issue 11 attack 7: a challenge the caller picked, a recorded pair replayed, or another caller's challenge proves nothing", async () => {
      // The caller picks the challenge and has a genuine board answer it: refused, the ledger never issued it.
      const picked = randomBytes(32);
      expect(await errorCode(prove(h.prover, 'dp-gw', fromFile('dp-gw'), picked, answer('dp-gw', picked)))).toBe(
        'PROV_ERR_CHALLENGE_UNKNOWN',
      );
      // A recorded (challenge, response) pair: TRUE once, then refused.
      const c = await issue(h.prover, 'dp-gw');
      const r = answer('dp-gw', c);
      expect(await prove(h.prover, 'dp-gw', fromFile('dp-gw'), c, r)).toMatchObject({ verdict: 'TRUE' });
      expect(await errorCode(prove(h.prover, 'dp-gw', fromFile('dp-gw'), c, r))).toBe('PROV_ERR_CHALLENGE_UNKNOWN');
      // Another identity's challenge (seen on the wire): refused to anyone but its issuer, still good for it.
      const theirs = await issue(h.other, 'dp-gw');
      expect(await errorCode(prove(h.prover, 'dp-gw', fromFile('dp-gw'), theirs, answer('dp-gw', theirs)))).toBe(
        'PROV_ERR_CHALLENGE_UNKNOWN',
      );
      expect(await prove(h.other, 'dp-gw', fromFile('dp-gw'), theirs, answer('dp-gw', theirs))).toMatchObject({ verdict: 'TRUE' });
      // A challenge for another device does not open this one.
      const forFree = await issue(h.prover, 'dp-free');
      expect(await errorCode(prove(h.prover, 'dp-gw', fromFile('dp-gw'), forFree, answer('dp-gw', forFree)))).toBe(
        'PROV_ERR_CHALLENGE_UNKNOWN',
      );
    });

    it('issue 11 attack 7: an answer after the challenge expired is refused', async (ctx) => {
      if (h.advanceClock === undefined) {
        // The ledger's time is real here (Fabric): waiting CHALLENGE_TTL_MS would make a long test; the
        // embedded variant runs this case on its own clock.
        console.log('challenge expiry skipped on this ledger: its clock is real time (tested on the embedded ledger)');
        ctx.skip();
        return;
      }
      const c = await issue(h.prover, 'dp-gw');
      h.advanceClock(120_001);
      expect(await errorCode(prove(h.prover, 'dp-gw', fromFile('dp-gw'), c, answer('dp-gw', c)))).toBe('PROV_ERR_CHALLENGE_EXPIRED');
    });

    it('refuses a challenge of the wrong size and malformed arguments', async () => {
      const short = randomBytes(16);
      expect(await errorCode(prove(h.prover, 'dp-gw', fromFile('dp-gw'), short, answer('dp-gw', short)))).toBe('PROV_ERR_BAD_INPUT');
      expect(await errorCode(h.prover.submit({ contract: DP, fn: 'prove', args: ['dp-gw', '{', 'aa'.repeat(32), 'aa'] }))).toBe(
        'PROV_ERR_BAD_INPUT',
      );
      expect(await errorCode(h.prover.submit({ contract: DP, fn: 'prove', args: ['dp-gw', fromFile('dp-gw'), 'zz', 'aa'] }))).toBe(
        'PROV_ERR_BAD_INPUT',
      );
    });
  });
}

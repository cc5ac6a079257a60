/**
 * Identity binding (issue 11, "identities that mean something") as one suite for every backend:
 * the edge registry kept by the attribute authority, and Data Provenance's rule that the caller's
 * edgeId = the submission's edgeId = the partial's edgeId = the device's registered gateway. The
 * embedded ledger runs it with four configured identities (identity-binding.test.ts); the Fabric
 * client path with four Org1 client identities of a real network.
 *
 * The clients are whoever the backend says they are: the suite learns their ids from whoami.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTRACTS, type LedgerClient } from '../../ledger-bridge/client.js';
import { ready } from '../../shared/crypto/bbs.js';
import { enrollDevice, setup, type Enrollment, type Issuer } from '../../shared/crypto/outsourced.js';
import { ledgerKeys } from '../../shared/crypto/domains.js';
import { sha256 } from '../../shared/crypto/sha256.js';
import { attrs, errorCode, json, partialFor, POLICY, readingOf, signed, T0 } from './fixture.js';

/** Four identities on one fresh ledger: the authority, two edge boxes and an auditor. */
export interface BindingHarness {
  readonly aa: LedgerClient;
  readonly edge1: LedgerClient;
  readonly edge2: LedgerClient;
  readonly auditor: LedgerClient;
  close(): Promise<void>;
}

type Batch = {
  accepted: number;
  rejected: { index: number; reason: string; message: string }[];
  rejectedPartials: { reason: string; message: string }[];
};

const DR = CONTRACTS.deviceRegistration;

/** Registers the suite for one backend. */
export function identityBindingSuite(backend: string, open: () => Promise<BindingHarness>, timeout = 60_000): void {
  describe(`identity binding: ${backend}`, { timeout }, () => {
    let h: BindingHarness;
    let issuer: Issuer;
    const devs: Record<string, Enrollment> = {};
    const who: Record<string, { mspId: string; id: string }> = {};

    const submitBatch = async (client: LedgerClient, readings: unknown[], partials: unknown[]): Promise<Batch> =>
      json<Batch>(
        (
          await client.submit({
            contract: CONTRACTS.dataProvenance,
            fn: 'recordBatch',
            args: [JSON.stringify({ version: 1, readings, partials })],
          })
        ).result,
      );
    const registerEdge = (client: LedgerClient, edgeId: string, identity: { mspId: string; id: string }) =>
      client.submit({ contract: DR, fn: 'registerEdge', args: [JSON.stringify({ edgeId, mspId: identity.mspId, id: identity.id })] });
    const register = async (deviceId: string, gatewayId: string | undefined) => {
      const e = enrollDevice(issuer, attrs(deviceId));
      await h.aa.submit({
        contract: DR,
        fn: 'register',
        args: [JSON.stringify({ version: 1, ...e.registration, ...(gatewayId ? { gatewayId } : {}) })],
        transient: { ...ledgerKeys(sha256, e.device.kIoT) },
      });
      devs[deviceId] = e;
    };

    beforeAll(async () => {
      await ready();
      h = await open();
      issuer = setup({ keyMaterial: new Uint8Array(32).fill(11) });
      const config = JSON.stringify({ issuerPk: Buffer.from(issuer.pk).toString('hex'), schema: issuer.schema, policies: [POLICY] });
      await h.aa.submit({ contract: DR, fn: 'configure', args: [config] });
      for (const [name, client] of Object.entries({ aa: h.aa, edge1: h.edge1, edge2: h.edge2, auditor: h.auditor })) {
        const me = json<{ mspId: string; id: string; edgeId: string }>(await client.evaluate({ contract: DR, fn: 'whoami', args: [] }));
        expect(me.edgeId).toBe('');
        who[name] = { mspId: me.mspId, id: me.id };
      }
      await register('bind-1', 'edge-1');
      await register('bind-2', 'edge-2');
      await register('bind-none', undefined);
    }, timeout);
    afterAll(async () => {
      await h?.close();
    });

    it('whoami: four distinct identities, none an edge before the authority registers it', () => {
      const ids = Object.values(who).map((w) => `${w.mspId} ${w.id}`);
      expect(new Set(ids).size).toBe(4);
    });

    it('only the authority keeps the edge registry; one identity is at most one edge', async () => {
      expect(await errorCode(registerEdge(h.edge1, 'edge-1', who['edge1']!))).toBe('PROV_ERR_FORBIDDEN');
      const r = json((await registerEdge(h.aa, 'edge-1', who['edge1']!)).result);
      expect(r).toMatchObject({ edgeId: 'edge-1', status: 'active', version: 1, ...who['edge1'] });
      await registerEdge(h.aa, 'edge-2', who['edge2']!);
      expect(await errorCode(registerEdge(h.aa, 'edge-9', who['edge1']!))).toBe('PROV_ERR_EDGE_EXISTS');
      expect(json(await h.edge1.evaluate({ contract: DR, fn: 'whoami', args: [] }))).toMatchObject({ edgeId: 'edge-1' });
      expect(json(await h.auditor.evaluate({ contract: DR, fn: 'whoami', args: [] }))).toMatchObject({ edgeId: '' });
    });

    it('a caller that is no registered edge records nothing, even with a stolen K_IoT and a valid partial (attack 2)', async () => {
      const d = devs['bind-1']!;
      const p = partialFor(d.credential, 1, 'edge-1');
      const stolen = [1, 2, 3].map((seq) => signed(d.device.kIoT, readingOf('bind-1', seq, p, { t: 1_600_000_000_000 + seq }), 'edge-1'));
      expect(await errorCode(submitBatch(h.auditor, stolen, [p]))).toBe('PROV_ERR_FORBIDDEN');
      expect(await errorCode(submitBatch(h.aa, stolen, [p]))).toBe('PROV_ERR_FORBIDDEN');
      const notThere = h.auditor.evaluate({ contract: CONTRACTS.dataProvenance, fn: 'get', args: ['bind-1', '1'] });
      expect(await errorCode(notThere)).toBe('PROV_ERR_RECORD_NOT_FOUND');
    });

    it('caller = submission edge = partial edge = device gateway; each mismatch is PROOF_BINDING and the good readings of the batch are kept', async () => {
      const d1 = devs['bind-1']!;
      const good = partialFor(d1.credential, 2, 'edge-1');
      // A credential holder mints a partial for an invented edge (attack 2) and for the other edge.
      const invented = partialFor(d1.credential, 3, 'edge-99');
      const other = partialFor(d1.credential, 4, 'edge-2');
      const dn = devs['bind-none']!;
      const noGateway = partialFor(dn.credential, 2, 'edge-1');
      const d2 = devs['bind-2']!;
      const foreign = partialFor(d2.credential, 2, 'edge-1');
      const readings = [
        signed(d1.device.kIoT, readingOf('bind-1', 10, good)), // 0 good
        signed(d1.device.kIoT, readingOf('bind-1', 11, good), 'edge-2'), // 1 submission claims another edge
        signed(d1.device.kIoT, readingOf('bind-1', 12, invented), 'edge-99'), // 2 invented edge
        signed(d1.device.kIoT, readingOf('bind-1', 13, invented)), // 3 invented edge's partial, submitted honestly
        signed(d1.device.kIoT, readingOf('bind-1', 14, other)), // 4 the other edge's partial
        signed(dn.device.kIoT, readingOf('bind-none', 1, noGateway)), // 5 good: no gateway pinned, any registered edge
        signed(d2.device.kIoT, readingOf('bind-2', 1, foreign)), // 6 device registered to edge-2
        signed(d1.device.kIoT, readingOf('bind-1', 15, good)), // 7 good
      ];
      const r = await submitBatch(h.edge1, readings, [good, invented, other, noGateway, foreign]);
      expect(r.accepted).toBe(3);
      expect(r.rejected.map((x) => [x.index, x.reason])).toEqual([
        [1, 'PROOF_BINDING'],
        [2, 'PROOF_BINDING'],
        [3, 'PROOF_BINDING'],
        [4, 'PROOF_BINDING'],
        [6, 'PROOF_BINDING'],
      ]);
      expect(r.rejected[0]!.message).toMatch(/names edge edge-2, but it was submitted by edge edge-1/);
      expect(r.rejected[4]!.message).toMatch(/registered to gateway edge-2, not to edge edge-1/);
      // The partials made for other edges were refused without being stored.
      expect(r.rejectedPartials.map((x) => x.reason)).toEqual(['PROOF_BINDING', 'PROOF_BINDING']);
      expect(r.rejectedPartials.map((x) => x.message).join(' ')).toMatch(/made for edge edge-99, but edge edge-1 submitted it/);
      for (const p of [invented, other])
        expect(await errorCode(h.auditor.evaluate({ contract: CONTRACTS.dataProvenance, fn: 'getPartial', args: [p.partialDigest] }))).toBe(
          'PROV_ERR_RECORD_NOT_FOUND',
        );
      // edge-2 may not record edge-1's device, even with a partial of its own.
      const own = partialFor(d1.credential, 5, 'edge-2');
      const r2 = await submitBatch(h.edge2, [signed(d1.device.kIoT, readingOf('bind-1', 20, own), 'edge-2')], [own]);
      expect(r2.rejected.map((x) => x.reason)).toEqual(['PROOF_BINDING']);
      // ... nor record the unpinned device with edge-1's partial (the partial is edge-1's own) ...
      const r3 = await submitBatch(h.edge2, [signed(dn.device.kIoT, readingOf('bind-none', 2, noGateway), 'edge-2')], []);
      expect(r3.rejected.map((x) => x.reason)).toEqual(['PROOF_BINDING']);
      // ... but its own device it may, and the unpinned one with a partial of its own.
      const roam = partialFor(dn.credential, 5, 'edge-2');
      expect((await submitBatch(h.edge2, [signed(dn.device.kIoT, readingOf('bind-none', 3, roam), 'edge-2')], [roam])).accepted).toBe(1);
      const mine = partialFor(d2.credential, 5, 'edge-2');
      expect((await submitBatch(h.edge2, [signed(d2.device.kIoT, readingOf('bind-2', 2, mine), 'edge-2')], [mine])).accepted).toBe(1);
    });

    it('CLOCK_BACKWARDS: t non-decreasing in seq per device — against the replay window for a new highest seq, against the recorded neighbours (index runs, batch records) for a late one', async () => {
      const d1 = devs['bind-1']!;
      const good = partialFor(d1.credential, 2, 'edge-1');
      // bind-1 has seqs 10 and 15 recorded (t = T0 + seq·1000) by the test above.
      const at = (seq: number, t?: number) => signed(d1.device.kIoT, readingOf('bind-1', seq, good, t === undefined ? {} : { t: T0 + t }));
      const r = await submitBatch(h.edge1, [at(16, 14_999), at(16, 15_000), at(12, 9_000), at(12, 15_500), at(12)], [good]);
      expect(r.rejected.map((x) => [x.index, x.reason])).toEqual([
        [0, 'CLOCK_BACKWARDS'],
        [2, 'CLOCK_BACKWARDS'],
        [3, 'CLOCK_BACKWARDS'],
      ]);
      expect(r.rejected[0]!.message).toMatch(/bind-1 seq 16: t \d+ is earlier than t \d+ of seq 15/);
      expect(r.rejected[1]!.message).toMatch(/seq 12: t \d+ is earlier than t \d+ of seq 10/);
      expect(r.rejected[2]!.message).toMatch(/seq 12: t \d+ is later than t \d+ of seq 15/);
      expect(r.accepted).toBe(2);
      // A later batch: seq 12 is now a recorded neighbour, found through its index run.
      const r2 = await submitBatch(h.edge1, [at(13, 11_000), at(13)], [good]);
      expect(r2.rejected.map((x) => [x.index, x.reason])).toEqual([[0, 'CLOCK_BACKWARDS']]);
      expect(r2.rejected[0]!.message).toMatch(/seq 13: t \d+ is earlier than t \d+ of seq 12/);
      const rec = json<{ seq: number; t: number }>(
        await h.auditor.evaluate({ contract: CONTRACTS.dataProvenance, fn: 'get', args: ['bind-1', '13'] }),
      );
      expect(rec).toMatchObject({ seq: 13, t: T0 + 13_000 });
    });

    it('a revoked edge records nothing; re-binding an edge to a new identity drops the old one', async () => {
      const d1 = devs['bind-1']!;
      const p = partialFor(d1.credential, 6, 'edge-1');
      // edge-1's certificate is re-issued: the authority binds edge-1 to the new identity (here: edge2's).
      await h.aa.submit({ contract: DR, fn: 'revokeEdge', args: ['edge-2', 'box replaced'] });
      expect(await errorCode(submitBatch(h.edge2, [signed(d1.device.kIoT, readingOf('bind-1', 30, p))], [p]))).toBe('PROV_ERR_FORBIDDEN');
      await registerEdge(h.aa, 'edge-1', who['edge2']!);
      expect(await errorCode(submitBatch(h.edge1, [signed(d1.device.kIoT, readingOf('bind-1', 31, p))], [p]))).toBe('PROV_ERR_FORBIDDEN');
      expect((await submitBatch(h.edge2, [signed(d1.device.kIoT, readingOf('bind-1', 32, p))], [p])).accepted).toBe(1);
      expect(json(await h.auditor.evaluate({ contract: DR, fn: 'getEdge', args: ['edge-1'] }))).toMatchObject({
        version: 2,
        ...who['edge2'],
      });
    });
  });
}

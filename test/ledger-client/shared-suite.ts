/**
 * One behaviour suite for every LedgerClient: the embedded client and the Fabric client (against a
 * real Fabric network) both run it, through the real four contracts: submit/commit with results, transient K_IoT deposits, contract errors and their
 * codes, evaluate, replay protection across transactions, events from a start block, heads and
 * inclusion proofs, and closing. A harness supplies three clients acting as the attribute
 * authority, an edge box and an auditor.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTRACTS, type LedgerClient, type LedgerEvent } from '../../ledger-bridge/client.js';
import { ready } from '../../shared/crypto/bbs.js';
import { enrollDevice, setup, type Enrollment, type Issuer } from '../../shared/crypto/outsourced.js';
import { EVENTS } from '../../shared/records.js';
import { attrs, json, partialFor, POLICY, readingOf, signed } from '../contracts/fixture.js';
import { ledgerKeys } from '../../shared/crypto/domains.js';
import { sha256 } from '../../shared/crypto/sha256.js';

/** Three clients on one ledger, and how to tear it down. */
export interface LedgerClientHarness {
  readonly aa: LedgerClient;
  readonly edge: LedgerClient;
  readonly auditor: LedgerClient;
  /** Closes a fresh client of the backend (to test use-after-close). */
  openExtra(): Promise<LedgerClient>;
  close(): Promise<void>;
}

type BatchOut = { accepted: number; rejected: { seq: number; reason: string }[]; txId: string };

/** Registers the shared suite for one backend. */
export function ledgerClientSuite(backend: string, open: () => Promise<LedgerClientHarness>, setupTimeoutMs?: number): void {
  describe(`LedgerClient behaviour: ${backend}`, () => {
    let h: LedgerClientHarness;
    let issuer: Issuer;
    let device: Enrollment;
    let startHeight = 0;
    let batchCommit: { txId: string; blockNumber: number };
    let partial: ReturnType<typeof partialFor>;

    beforeAll(async () => {
      await ready();
      h = await open();
      issuer = setup({ keyMaterial: new Uint8Array(32).fill(9) });
      startHeight = (await h.auditor.head()).height;
    }, setupTimeoutMs);
    afterAll(async () => {
      await h?.close();
    });

    const register = (client: LedgerClient, e: Enrollment) =>
      client.submit({
        contract: CONTRACTS.deviceRegistration,
        fn: 'register',
        args: [JSON.stringify({ version: 1, ...e.registration, gatewayId: 'edge-1' })],
        transient: { ...ledgerKeys(sha256, e.device.kIoT) },
      });

    it('commits the authority configuration and returns the contract result', async () => {
      const config = JSON.stringify({ issuerPk: Buffer.from(issuer.pk).toString('hex'), schema: issuer.schema, policies: [POLICY] });
      const r = await h.aa.submit({ contract: CONTRACTS.deviceRegistration, fn: 'configure', args: [config] });
      expect(r.txId).toMatch(/^[0-9a-f]{64}$/);
      expect(r.blockNumber).toBeGreaterThanOrEqual(startHeight);
      expect(r.result.length).toBeGreaterThan(0);
      expect((await h.auditor.head()).height).toBeGreaterThan(r.blockNumber);
      // The edge registry: the edge client's identity (as the contracts see it) acts as edge-1.
      const me = json<{ mspId: string; id: string }>(
        await h.edge.evaluate({ contract: CONTRACTS.deviceRegistration, fn: 'whoami', args: [] }),
      );
      await h.aa.submit({
        contract: CONTRACTS.deviceRegistration,
        fn: 'registerEdge',
        args: [JSON.stringify({ edgeId: 'edge-1', mspId: me.mspId, id: me.id })],
      });
    });

    it('registers a device with K_IoT as transient data', async () => {
      device = enrollDevice(issuer, attrs('dev-s1'));
      const r = await register(h.aa, device);
      const out = json<{ bcId: string }>(r.result);
      expect(out.bcId).toBeTruthy();
    });

    it('rejects a registration by a non-authority with the contract code PROV_ERR_FORBIDDEN', async () => {
      const err = await register(h.edge, enrollDevice(issuer, attrs('dev-s2'))).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'PROV_ERR_ENDORSEMENT', details: { contractCode: 'PROV_ERR_FORBIDDEN' } });
      // The refusal names the identities, not only their organisation (issue #13 defect 6).
      expect((err as Error).message).toMatch(/only the attribute authority \(\S+ aa\S*\) may register[^;]*; caller is \S+ edge-1/);
    });

    it('records a batch from the edge and reports per-reading verdicts', async () => {
      // BBS proofs are randomised: later tests reuse this partial, as an edge does within an epoch.
      partial = partialFor(device.credential, 1);
      const subs = [1, 2, 3].map((seq) => signed(device.device.kIoT, readingOf('dev-s1', seq, partial)));
      const r = await h.edge.submit({
        contract: CONTRACTS.dataProvenance,
        fn: 'recordBatch',
        args: [JSON.stringify({ version: 1, readings: subs, partials: [partial] })],
      });
      batchCommit = r;
      const out = json<BatchOut>(r.result);
      expect(out.accepted).toBe(3);
      expect(out.rejected).toEqual([]);
      expect(out.txId).toBe(r.txId);
    });

    it('does not record a replayed reading twice', async () => {
      const again = signed(device.device.kIoT, readingOf('dev-s1', 2, partial));
      const out = json<BatchOut>(
        (
          await h.edge.submit({
            contract: CONTRACTS.dataProvenance,
            fn: 'recordBatch',
            args: [JSON.stringify({ version: 1, readings: [again], partials: [] })],
          })
        ).result,
      );
      expect(out.accepted).toBe(0);
      expect(out.rejected.map((x) => x.seq)).toEqual([2]);
    });

    it('evaluates reads: a recorded reading verifies TRUE; a missing one carries PROV_ERR_RECORD_NOT_FOUND', async () => {
      const sub = signed(device.device.kIoT, readingOf('dev-s1', 1, partial));
      const v = json<{ verdict: string }>(
        await h.auditor.evaluate({ contract: CONTRACTS.dataProvenance, fn: 'verify', args: ['dev-s1', 'seq:1', sub.canonical, sub.tag] }),
      );
      expect(v.verdict).toBe('TRUE');
      const err = await h.auditor
        .evaluate({ contract: CONTRACTS.dataProvenance, fn: 'get', args: ['dev-s1', '99'] })
        .catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'PROV_ERR_ENDORSEMENT', details: { contractCode: 'PROV_ERR_RECORD_NOT_FOUND' } });
      // Many reads in one (the edge traces already-recorded readings so): each answer as data.
      const many = json<{ answer?: { seq: number; dataHash: string }; error?: { code: string } }[]>(
        await h.auditor.evaluate({
          contract: CONTRACTS.dataProvenance,
          fn: 'getMany',
          args: [
            JSON.stringify([
              ['dev-s1', '1'],
              ['dev-s1', '99'],
            ]),
          ],
        }),
      );
      expect(many).toMatchObject([{ answer: { seq: 1 } }, { error: { code: 'PROV_ERR_RECORD_NOT_FOUND' } }]);
    });

    it('replays chaincode events from a start block, with contract, name and txId', async () => {
      const ac = new AbortController();
      const seen: LedgerEvent[] = [];
      for await (const ev of h.auditor.events({ startBlock: batchCommit.blockNumber, signal: ac.signal })) {
        seen.push(ev);
        if (ev.txId === batchCommit.txId) break;
      }
      const mine = seen.find((e) => e.txId === batchCommit.txId);
      expect(mine).toMatchObject({
        blockNumber: batchCommit.blockNumber,
        contract: CONTRACTS.dataProvenance,
        name: EVENTS.readingsRecorded,
      });
      expect(json<BatchOut>(mine?.payload ?? new Uint8Array()).accepted).toBe(3);
      expect(seen.every((e) => e.blockNumber >= batchCommit.blockNumber)).toBe(true);
    });

    it('proves a committed transaction is in its block under the current head', async () => {
      const head = await h.auditor.head();
      const proof = await h.auditor.inclusionProof(batchCommit.txId);
      expect(proof.txId).toBe(batchCommit.txId);
      expect(proof.blockNumber).toBe(batchCommit.blockNumber);
      expect(proof.head.height).toBeGreaterThanOrEqual(head.height);
      expect(proof.head.hash).toMatch(/^[0-9a-f]{64}$/);
      expect(proof.evidence).toBeTruthy();
      await expect(h.auditor.inclusionProof('ab'.repeat(32))).rejects.toMatchObject({ code: 'PROV_ERR_TX_NOT_FOUND' });
    });

    it('refuses work after close', async () => {
      const extra = await h.openExtra();
      await extra.close();
      await expect(extra.evaluate({ contract: CONTRACTS.dataProvenance, fn: 'get', args: ['dev-s1', '1'] })).rejects.toBeInstanceOf(Error);
    });
  });
}

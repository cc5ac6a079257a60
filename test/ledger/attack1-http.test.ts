/**
 * Issue 11, attack 1, end to end over real HTTP with the real contracts: the edge's ledger token
 * sends `x-provenant-identity: aa`, then (without the header) calls DeviceRegistration.update for
 * one of its devices with a K_IoT of its own, then submits readings tagged with that key. Before:
 * the header made the token the authority, the update went through and the readings were
 * accepted. Now: 403 for the header, PROV_ERR_FORBIDDEN for the update, BAD_TAG for the readings —
 * and the genuine reading of the same batch is kept.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTRACTS } from '../../ledger-bridge/client.js';
import { HttpLedgerClient } from '../../ledger-bridge/embedded/http/client.js';
import { ledgerKeys } from '../../shared/crypto/domains.js';
import { sha256 } from '../../shared/crypto/sha256.js';
import { batchArg, json, partialFor, readingOf, signed, World } from '../contracts/fixture.js';
import { listenLedger } from '../support/services.js';

const EDGE = 'edge-token-attack1-0123456789abcdef';
const AUDITOR = 'auditor-token-attack1-0123456789ab';

describe('issue 11 attack 1: an edge token is the edge, over HTTP with the real contracts', () => {
  let w: World;
  let app: FastifyInstance;
  let url: string;

  beforeAll(async () => {
    w = await World.open();
    ({ app, url } = await listenLedger(w.ledger, { [EDGE]: 'edge-1', [AUDITOR]: 'auditor' }));
  });
  afterAll(async () => {
    await app?.close();
    await w?.close();
  });

  it('the header cannot pick the authority, the edge cannot install a key, readings under its key are BAD_TAG and the genuine one is kept', async () => {
    const { enrollment } = await w.enroll('dev-a1');
    const edge = new HttpLedgerClient({ url, token: EDGE });
    const auditor = new HttpLedgerClient({ url, token: AUDITOR });
    try {
      const attackerKey = new Uint8Array(32).fill(0xa1);
      const update = {
        contract: CONTRACTS.deviceRegistration,
        fn: 'update',
        args: [JSON.stringify({ version: 1, ...enrollment.registration, gatewayId: 'edge-1' })],
        transient: { ...ledgerKeys(sha256, attackerKey) },
      };
      // 1. The edge's token claiming the authority's identity.
      const claimed = await fetch(`${url}/v1/submit`, {
        method: 'POST',
        headers: { authorization: `Bearer ${EDGE}`, 'x-provenant-identity': 'aa', 'content-type': 'application/json' },
        body: JSON.stringify({
          ...update,
          transient: Object.fromEntries(Object.entries(update.transient).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
        }),
      });
      expect(claimed.status).toBe(403);
      expect(await claimed.json()).toMatchObject({ code: 'PROV_ERR_FORBIDDEN', message: "this token acts as 'edge-1', not 'aa'" });
      // 2. The same update as itself: only the authority updates a device.
      await expect(edge.submit(update)).rejects.toMatchObject({ code: expect.stringMatching(/PROV_ERR_(FORBIDDEN|ENDORSEMENT)/) });
      await expect(edge.submit(update)).rejects.toThrow(/PROV_ERR_FORBIDDEN/);
      // 3. Readings tagged with the attacker's key, in a batch with a genuine one.
      const p = partialFor(enrollment.credential, 1);
      const genuine = signed(enrollment.device.kIoT, readingOf('dev-a1', 1, p));
      const forged = [2, 3, 4].map((seq) => signed(attackerKey, readingOf('dev-a1', seq, p)));
      const r = json<{ accepted: number; rejected: { seq: number; reason: string }[] }>(
        (
          await edge.submit({
            contract: CONTRACTS.dataProvenance,
            fn: 'recordBatch',
            args: [batchArg([genuine, ...forged], [p], 'packed')],
          })
        ).result,
      );
      expect(r.accepted).toBe(1);
      expect(r.rejected.map((x) => [x.seq, x.reason])).toEqual([
        [2, 'BAD_TAG'],
        [3, 'BAD_TAG'],
        [4, 'BAD_TAG'],
      ]);
      const verdict = json(
        await auditor.evaluate({
          contract: CONTRACTS.dataProvenance,
          fn: 'verify',
          args: ['dev-a1', 'seq:1', genuine.canonical, genuine.tag],
        }),
      );
      expect(verdict).toMatchObject({ verdict: 'TRUE' });
    } finally {
      await edge.close();
      await auditor.close();
    }
  });
});

/**
 * TrafficProfileProvenance:submitProfiles (an edge's window of profiles in one transaction) as one
 * suite for every backend: each profile of a batch is recorded exactly as its own submitProfile
 * call records it — verdicts, stored profiles, model state (the windows after), the site step
 * (peers, marks, copies) — and refused exactly as that call is refused, alone: one bad profile
 * does not lose the others, a replayed batch changes nothing. Two twin sets of devices get the
 * same windows, one by single calls, the other by batches, and their stored profiles are compared.
 * The embedded ledger runs it in traffic-batch.test.ts, the Fabric client path in
 * traffic-batch-fabric.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTRACTS, type LedgerClient } from '../../ledger-bridge/client.js';
import { ready } from '../../shared/crypto/bbs.js';
import { ledgerKeys } from '../../shared/crypto/domains.js';
import { enrollDevice, setup } from '../../shared/crypto/outsourced.js';
import { sha256 } from '../../shared/crypto/sha256.js';
import { computeMarks } from '../../shared/traffic/copies.js';
import { computeFeatures, type Arrival, type WindowInput } from '../../shared/traffic/features.js';
import { MIN_HISTORY } from '../../shared/traffic/model.js';
import { mulberry32 } from '../../bench/traffic-eval/prng.js';
import { attrs, errorCode, json, POLICY } from './fixture.js';

/** An authority, an edge and a reader on one fresh ledger. */
export interface TrafficBatchHarness {
  readonly aa: LedgerClient;
  readonly edge: LedgerClient;
  readonly reader: LedgerClient;
  close(): Promise<void>;
}

const DR = CONTRACTS.deviceRegistration;
const TP = CONTRACTS.trafficProfile;
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** Devices of each twin set: two alone, three of a site (a traffic class). */
const ALONE = ['x', 'y'] as const;
const SITE = ['s1', 's2', 's3'] as const;
const NAMES = [...ALONE, ...SITE] as const;
/** Readings per window. */
const N = 12;
/** Windows submitted one by one / batch by batch (the warm-up and then some). */
const W = MIN_HISTORY + 4;
/** Window in which x samples ten times as fast (flagged once the model is warm). */
const FAST = MIN_HISTORY + 1;
/** Window in which s2 replays s1's readings of window COPY_OF (the site step's copy check). */
const COPY = MIN_HISTORY + 2;
const COPY_OF = 3;

/** The window `win` of device `name` (the twins get the same): a shared walk plus the device's own offset and noise. */
function windowOf(name: string, win: number): WindowInput {
  if (name === 's2' && win === COPY) return { ...windowOf('s1', COPY_OF), windowStart: windowStart(win), windowEnd: windowStart(win + 1) };
  const rng = mulberry32(1000 * (NAMES.indexOf(name as (typeof NAMES)[number]) + 1) + win);
  const walk = mulberry32(7 + win);
  const fast = name === 'x' && win === FAST ? 10 : 1;
  const arrivals: Arrival[] = [];
  const period = 5_000 / fast;
  for (let j = 0; j < N * fast; j++) {
    const t = windowStart(win) + j * period;
    arrivals.push({
      seq: win * N * 10 + j,
      t,
      receivedAt: t + 40,
      values: {
        temperature:
          Math.round((23 + walk.next() * 0.2 + NAMES.indexOf(name as (typeof NAMES)[number]) * 0.1 + rng.next() * 0.04) * 100) / 100,
      },
      batteryMv: 3000 - win,
    });
  }
  return { windowStart: windowStart(win), windowEnd: windowStart(win + 1), arrivals, frameErrors: 0, duplicates: 0 };
}
function windowStart(win: number): number {
  return 1_000_000 + win * N * 5_000;
}
function profileOf(
  deviceId: string,
  name: string,
  win: number,
): { deviceId: string; window: number; features: Record<string, number>; marks: number[] } {
  const input = windowOf(name, win);
  return { deviceId, window: win, features: computeFeatures(input), marks: computeMarks(input) };
}

interface Stored {
  deviceId: string;
  window: number;
  trafficProven: boolean;
  discrepancyStatus: boolean;
  flagged: { feature: string }[];
  thresholdsFrom: string;
  txId: string;
  judgedTxId?: string;
  peers?: string[];
  copies?: number;
  pending?: true;
  ownProven?: boolean;
  faultSince?: number;
}
interface BatchResult {
  recorded: number;
  profiles: (Omit<Stored, 'txId'> & { index: number })[];
  rejected: { index: number; deviceId: string | null; window: number | null; reason: string; message: string }[];
  sites: { deviceClass: string; window: number }[];
  judged: {
    deviceId: string;
    window: number;
    trafficProven: boolean;
    discrepancyStatus: boolean;
    flagged: unknown[];
    peers: string[];
    copies: number;
  }[];
}

/** Registers the suite for one backend. */
export function trafficBatchSuite(backend: string, open: () => Promise<TrafficBatchHarness>, timeout = 120_000): void {
  describe(`TrafficProfileProvenance:submitProfiles: ${backend}`, { timeout }, () => {
    let h: TrafficBatchHarness;
    // 'a-…' get single calls, 'b-…' batches; 'a-gone'/'b-gone' are revoked.
    const one = (n: string): string => `a-${n}`;
    const many = (n: string): string => `b-${n}`;

    const single = async (p: unknown): Promise<Stored> =>
      json<Stored>((await h.edge.submit({ contract: TP, fn: 'submitProfile', args: [JSON.stringify(p), ''] })).result);
    const batch = async (ps: unknown[], thresholds = ''): Promise<BatchResult> =>
      json<BatchResult>((await h.edge.submit({ contract: TP, fn: 'submitProfiles', args: [JSON.stringify(ps), thresholds] })).result);
    const list = async (deviceId: string): Promise<Stored[]> =>
      json<Stored[]>(await h.reader.evaluate({ contract: TP, fn: 'listProfiles', args: [deviceId] }));
    /** A stored profile with the names of its own set replaced, and without the transaction ids. */
    const neutral = (s: Stored, prefix: string): Record<string, unknown> => {
      const { txId, judgedTxId, ...rest } = s;
      expect(txId).toMatch(/\S/);
      if (s.peers !== undefined) expect(judgedTxId).toMatch(/\S/);
      return JSON.parse(JSON.stringify(rest).replaceAll(`"${prefix}-`, '"§-').replaceAll(`class:site-${prefix}`, 'class:site-§')) as Record<
        string,
        unknown
      >;
    };
    const bad = { deviceId: 'placeholder', window: 0, features: { rate: 'fast' } };

    beforeAll(async () => {
      await ready();
      h = await open();
      const issuer = setup({ keyMaterial: new Uint8Array(32).fill(23) });
      await h.aa.submit({
        contract: DR,
        fn: 'configure',
        args: [JSON.stringify({ issuerPk: hex(issuer.pk), schema: issuer.schema, policies: [POLICY] })],
      });
      for (const set of ['a', 'b']) {
        for (const n of [...NAMES, 'gone']) {
          const e = enrollDevice(issuer, attrs(`${set}-${n}`));
          await h.aa.submit({
            contract: DR,
            fn: 'register',
            args: [JSON.stringify({ version: 1, ...e.registration })],
            transient: { ...ledgerKeys(sha256, e.device.kIoT) },
          });
        }
        await h.aa.submit({ contract: DR, fn: 'revoke', args: [`${set}-gone`, 'decommissioned'] });
        for (const n of SITE)
          await h.aa.submit({
            contract: TP,
            fn: 'setTraffic',
            args: [JSON.stringify({ deviceId: `${set}-${n}`, deviceClass: `site-${set}` })],
          });
      }
    }, timeout);
    afterAll(async () => {
      await h?.close();
    });

    it('records every profile of a batch exactly as its own submitProfile call does (verdicts, model, site step), refusing the same ones', async () => {
      for (let win = 0; win < W; win++) {
        const singles: Stored[] = [];
        for (const n of NAMES) singles.push(await single(profileOf(one(n), n, win)));
        // The same refusals, one by one and inside the batch.
        const refusals = [
          { p: { ...bad, deviceId: one('y'), window: win }, code: 'PROV_ERR_BAD_INPUT' },
          { p: profileOf(one('gone'), 'x', win), code: 'PROV_ERR_DEVICE_REVOKED' },
          { p: profileOf(one('nobody'), 'x', win), code: 'PROV_ERR_DEVICE_NOT_FOUND' },
        ];
        for (const r of refusals) expect(await errorCode(single(r.p))).toBe(r.code);
        const ps = NAMES.map((n) => profileOf(many(n), n, win));
        const b = await batch([
          ...ps.slice(0, 2),
          { ...bad, deviceId: many('y'), window: win },
          profileOf(many('gone'), 'x', win),
          ...ps.slice(2),
          profileOf(many('nobody'), 'x', win),
        ]);
        expect(b.recorded).toBe(NAMES.length);
        expect(b.rejected.map((r) => [r.index, r.deviceId, r.reason])).toEqual([
          [2, many('y'), 'PROV_ERR_BAD_INPUT'],
          [3, many('gone'), 'PROV_ERR_DEVICE_REVOKED'],
          [7, many('nobody'), 'PROV_ERR_DEVICE_NOT_FOUND'],
        ]);
        expect(b.rejected[0]?.message).toMatch(/features\.rate must be a finite number/);
        // The verdicts answered are the ones the single calls got.
        for (const [i, s] of singles.entries()) {
          const v = b.profiles[i] as BatchResult['profiles'][number];
          expect({ window: win, deviceId: v.deviceId, trafficProven: v.trafficProven, flagged: v.flagged, pending: v.pending }).toEqual({
            window: win,
            deviceId: many(NAMES[i] as string),
            trafficProven: s.trafficProven,
            flagged: s.flagged,
            pending: s.pending,
          });
        }
        // The site's devices wait for the site step of this window; their window before was made
        // final by this one (nobody called judgeSite), and the batch says so.
        expect(b.sites).toEqual([{ deviceClass: 'site-b', window: win }]);
        expect(b.judged.map((j) => [j.deviceId, j.window])).toEqual(win === 0 ? [] : SITE.map((n) => [many(n), win - 1]));
        for (const j of b.judged) {
          const final = json<Stored>(await h.reader.evaluate({ contract: TP, fn: 'getProfile', args: [j.deviceId, String(j.window)] }));
          expect(j).toEqual({
            deviceId: final.deviceId,
            window: final.window,
            trafficProven: final.trafficProven,
            discrepancyStatus: final.discrepancyStatus,
            flagged: final.flagged,
            peers: final.peers,
            copies: final.copies,
          });
        }
      }
      // Two windows of a device in one batch: the second sees what the first wrote.
      for (const n of NAMES) {
        await single(profileOf(one(n), n, W));
        await single(profileOf(one(n), n, W + 1));
      }
      const two = await batch(NAMES.flatMap((n) => [profileOf(many(n), n, W), profileOf(many(n), n, W + 1)]));
      expect(two.rejected).toEqual([]);
      expect(two.sites).toEqual([{ deviceClass: 'site-b', window: W + 1 }]);

      for (const n of NAMES) {
        const [a, b] = [await list(one(n)), await list(many(n))];
        expect(a.map((s) => s.window)).toEqual(Array.from({ length: W + 2 }, (_, i) => i));
        expect(b.map((s) => neutral(s, 'b'))).toEqual(a.map((s) => neutral(s, 'a')));
      }
      // Not a comparison of nothings: the fast window was flagged, the site step judged with
      // peers (the copy counted) and the last window is still pending.
      const x = await list(many('x'));
      expect(x[FAST]).toMatchObject({ trafficProven: false });
      expect(x[FAST]?.flagged.map((f) => f.feature)).toEqual(expect.arrayContaining(['rate']));
      const s2 = await list(many('s2'));
      expect(s2[COPY]).toMatchObject({ peers: [many('s1'), many('s3')] });
      expect(s2[COPY]?.copies).toBeGreaterThan(0);
      expect(s2[W + 1]).toMatchObject({ pending: true });
      expect(s2[W]?.pending).toBeUndefined();
    });

    it('the site step after a batch judges exactly what it judges after single calls', async () => {
      const judge = async (cls: string) =>
        json<{ judged: { deviceId: string; trafficProven: boolean; peers: string[] }[] }>(
          (await h.edge.submit({ contract: TP, fn: 'judgeSite', args: [cls, String(W + 1)] })).result,
        );
      const [a, b] = [await judge('site-a'), await judge('site-b')];
      expect(b.judged.map((j) => j.deviceId)).toEqual(SITE.map(many));
      expect(JSON.stringify(b).replaceAll('"b-', '"§-').replace('site-b', 'site-§')).toEqual(
        JSON.stringify(a).replaceAll('"a-', '"§-').replace('site-a', 'site-§'),
      );
    });

    it('a replayed batch is refused profile by profile (stale) and changes nothing; a profile twice in one batch counts once', async () => {
      const before = await Promise.all(NAMES.map((n) => list(many(n))));
      const ps = NAMES.map((n) => profileOf(many(n), n, W + 1));
      const replay = await batch(ps);
      expect(replay.recorded).toBe(0);
      expect(replay.sites).toEqual([]);
      expect(replay.rejected.map((r) => r.reason)).toEqual(NAMES.map(() => 'PROV_ERR_PROFILE_STALE'));
      expect(await Promise.all(NAMES.map((n) => list(many(n))))).toEqual(before);
      const next = profileOf(many('y'), 'y', W + 2);
      const twice = await batch([next, next]);
      expect(twice.recorded).toBe(1);
      expect(twice.rejected).toMatchObject([{ index: 1, deviceId: many('y'), window: W + 2, reason: 'PROV_ERR_PROFILE_STALE' }]);
      expect((await list(many('y'))).length).toBe(W + 3);
    });

    it('refuses the whole call only for a bad argument: not an array, empty, or thresholds from the submitter', async () => {
      const p = profileOf(many('x'), 'x', W + 5);
      expect(await errorCode(h.edge.submit({ contract: TP, fn: 'submitProfiles', args: [JSON.stringify(p), ''] }))).toBe(
        'PROV_ERR_BAD_INPUT',
      );
      expect(await errorCode(batch([]))).toBe('PROV_ERR_BAD_INPUT');
      expect(await errorCode(batch([p], '{"*":100}'))).toBe('PROV_ERR_BAD_INPUT');
      expect(await errorCode(h.edge.submit({ contract: TP, fn: 'submitProfiles', args: ['[{', ''] }))).toBe('PROV_ERR_BAD_INPUT');
      // An element that is no profile at all is that element's rejection.
      const r = await batch([42, p]);
      expect(r.rejected).toMatchObject([{ index: 0, deviceId: null, window: null, reason: 'PROV_ERR_BAD_INPUT' }]);
      expect(r.profiles).toMatchObject([{ index: 1, deviceId: many('x'), window: W + 5 }]);
    });
  });
}

/**
 * The site step of Traffic Profile Provenance on the embedded ledger (real contracts): a device
 * of a site (a traffic class) is judged with its peers' profiles of the same window and the
 * site's marks (docs/traffic-profiles.md "Peers", "Copies"; docs/contracts.md).
 *
 * The attacks: a device whose slow ramp its own model accepts, and a device replaying a peer's
 * earlier readings shifted to its own level (own model: accepted); the edge skipping the site
 * step to keep the peers out. And who can check: the final verdicts are recomputed from the
 * stored profiles alone, outside the contract, bit for bit.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTRACTS } from '../../ledger-bridge/client.js';
import {
  EMPTY_MODEL,
  finalizeProfile,
  provisionalProfile,
  type ProfileModelState,
  type StoredProfile,
} from '../../ledger-bridge/contracts/logic/traffic.js';
import { computeMarks, countCopies } from '../../shared/traffic/copies.js';
import { computeFeatures, type Arrival, type WindowInput } from '../../shared/traffic/features.js';
import { defaultThresholds } from '../../shared/traffic/model.js';
import { mulberry32 } from '../../bench/traffic-eval/prng.js';
import { errorCode, json, World } from './fixture.js';

const TP = CONTRACTS.trafficProfile;
const DEVICES = ['s-a', 's-b', 's-c', 's-d'] as const;
const OFFSET: Record<string, number> = { 's-a': 0, 's-b': 0.3, 's-c': -0.2, 's-d': 0.1 };
const N = 30;

// The air of the site: a random walk every device sees, each with its own offset and own noise.
const air = (() => {
  const rng = mulberry32(7);
  const out: { t: number; h: number }[] = [];
  let t = 2400;
  let h = 4500;
  for (let i = 0; i < 60 * N; i++) {
    t += Math.floor(rng.next() * 5) - 2;
    h += 3 * (Math.floor(rng.next() * 3) - 1);
    out.push({ t: t / 100, h: h / 100 });
  }
  return out;
})();
const noise: Record<string, number[]> = {};
for (const [i, d] of DEVICES.entries()) {
  const rng = mulberry32(100 + i);
  noise[d] = air.map(() => (Math.floor(rng.next() * 3) - 1) / 100);
}

/** Device `d`'s window `w`: the air plus its offset and noise, plus `extra(i)` °C on reading i; or `values` as sent. */
function windowOf(d: string, w: number, extra: (i: number) => number = () => 0, values?: { t: number; h: number }[]): WindowInput {
  const arrivals: Arrival[] = [];
  for (let j = 0; j < N; j++) {
    const i = w * N + j;
    const v = values?.[j] ?? {
      t: (air[i] as { t: number }).t + (OFFSET[d] as number) + (noise[d]![i] as number) + extra(i),
      h: (air[i] as { h: number }).h + 2 * (OFFSET[d] as number),
    };
    arrivals.push({
      seq: i,
      t: 1_000_000 + i * 5_000,
      receivedAt: 1_000_000 + i * 5_000 + 40,
      values: { temperature: Math.round(v.t * 100) / 100, humidity: Math.round(v.h * 100) / 100 },
      batteryMv: 3000 - Math.floor(i / 100),
    });
  }
  return { windowStart: 1_000_000 + w * N * 5_000, windowEnd: 1_000_000 + (w + 1) * N * 5_000, arrivals, frameErrors: 0, duplicates: 0 };
}

interface Final extends StoredProfile {
  pending?: true;
}

describe('Traffic Profile Provenance: the site step (peers and copies) in the contract', () => {
  let w: World;
  const submit = async (deviceId: string, window: number, input: WindowInput): Promise<Final> =>
    json<Final>(
      (
        await w.edge.submit({
          contract: TP,
          fn: 'submitProfile',
          args: [JSON.stringify({ deviceId, window, features: computeFeatures(input), marks: computeMarks(input) }), ''],
        })
      ).result,
    );
  const judgeSite = async (window: number) =>
    json<{ judged: { deviceId: string; trafficProven: boolean; peers: string[] }[] }>(
      (await w.edge.submit({ contract: TP, fn: 'judgeSite', args: ['yard', String(window)] })).result,
    );
  const stored = async (deviceId: string, window: number): Promise<Final> =>
    json<Final>(await w.auditor.evaluate({ contract: TP, fn: 'getProfile', args: [deviceId, String(window)] }));

  // s-a ramps by 0.03 °C per window from window 16 (0.012 °C/min: far inside its own model's
  // slope and continuity allowances); s-b replays s-c's readings of windows 2–3, shifted to its
  // own level, in window 27.
  const RAMP = 16;
  const REPLAY = 27;
  const LAST = 29;
  const inputOf = (d: string, win: number): WindowInput => {
    if (d === 's-a') return windowOf(d, win, (i) => (i >= RAMP * N ? 0.03 * ((i - RAMP * N) / N) : 0));
    if (d === 's-b' && win === REPLAY) {
      const from = 2 * N + 11;
      const src = windowOf('s-c', 2).arrivals.concat(windowOf('s-c', 3).arrivals);
      const first = windowOf('s-b', win).arrivals[0]!.values;
      const s0 = src[11]!.values;
      return windowOf(
        d,
        win,
        undefined,
        src.slice(11, 11 + N).map((a) => ({
          t: (first['temperature'] as number) + (a.values['temperature'] as number) - (s0['temperature'] as number),
          h: (first['humidity'] as number) + (a.values['humidity'] as number) - (s0['humidity'] as number),
        })),
      );
      void from;
    }
    return windowOf(d, win);
  };

  beforeAll(async () => {
    w = await World.open();
    for (const d of DEVICES) {
      await w.enroll(d);
      await w.aa.submit({ contract: TP, fn: 'setTraffic', args: [JSON.stringify({ deviceId: d, deviceClass: 'yard' })] });
    }
    // Window by window: every device submits, then the site step runs on even windows only (the
    // odd ones are made final by each device's next profile).
    for (let win = 0; win <= LAST; win++) {
      for (const d of DEVICES) {
        const s = await submit(d, win, inputOf(d, win));
        expect(s).toMatchObject({ pending: true, window: win });
      }
      if (win % 2 === 0) {
        const r = await judgeSite(win);
        expect(r.judged.map((j) => j.deviceId)).toEqual([...DEVICES]);
      }
    }
  }, 120_000);
  afterAll(async () => {
    await w.close();
  });

  it('the attack: a slow ramp its own model accepts is flagged against the peers; the honest devices are not', async () => {
    const flaggedA: number[] = [];
    const ownAcceptedA: number[] = [];
    for (let win = 0; win < LAST; win++) {
      for (const d of DEVICES) {
        const s = await stored(d, win);
        expect(s.pending).toBeUndefined();
        expect(s.peers).toEqual(DEVICES.filter((x) => x !== d));
        if (d === 's-a' && !s.trafficProven) flaggedA.push(win);
        if (d === 's-a' && win >= RAMP && s.ownProven === true) ownAcceptedA.push(win);
        if (d === 's-c' || d === 's-d') expect({ d, win, flagged: s.flagged }).toEqual({ d, win, flagged: [] });
      }
    }
    // Its own model let most of the ramp through; the site step flags it within eight windows and
    // keeps flagging it.
    expect(ownAcceptedA.length).toBeGreaterThan(6);
    expect(flaggedA.length).toBeGreaterThan(0);
    expect(flaggedA[0]).toBeGreaterThanOrEqual(RAMP);
    expect(flaggedA[0]).toBeLessThan(RAMP + 8);
    const s = await stored('s-a', LAST - 1);
    expect(s.trafficProven).toBe(false);
    expect(s.flagged.map((f) => f.feature)).toEqual(expect.arrayContaining([expect.stringMatching(/^ch\.temperature\.peer/)]));
  });

  it("the attack: a replay of a peer's earlier readings at its own level is flagged as a copy; its own model accepted it", async () => {
    const s = await stored('s-b', REPLAY);
    expect(s.ownProven).toBe(true);
    expect(s.copies).toBeGreaterThan(defaultThresholds()['copy'] as number);
    expect(s.flagged.map((f) => f.feature)).toContain('copy');
    for (let win = 0; win < LAST; win++) if (win !== REPLAY) expect((await stored('s-b', win)).copies).toBe(0);
  });

  it('the last window stays pending until the site step; judging it twice changes nothing', async () => {
    expect((await stored('s-a', LAST)).pending).toBe(true);
    const first = await judgeSite(LAST);
    expect(first.judged.map((j) => j.deviceId)).toEqual([...DEVICES]);
    expect((await judgeSite(LAST)).judged).toEqual([]);
    expect((await stored('s-a', LAST)).pending).toBeUndefined();
  });

  it('who can check it: the final verdicts follow from the stored profiles alone (recomputed outside the contract)', async () => {
    const list = async (d: string) => json<Final[]>(await w.auditor.evaluate({ contract: TP, fn: 'listProfiles', args: [d] }));
    const recorded: Record<string, Final[]> = {};
    for (const d of DEVICES) recorded[d] = await list(d);
    const states: Record<string, ProfileModelState> = {};
    for (const d of DEVICES) states[d] = EMPTY_MODEL;
    const marksFirst: Record<string, number> = {};
    for (let win = 0; win <= LAST; win++) {
      const provisional: Record<string, StoredProfile> = {};
      for (const d of DEVICES) {
        const r = recorded[d]![win]!;
        const profile = { deviceId: d, window: win, features: r.features, ...(r.marks ? { marks: r.marks } : {}) };
        const p = provisionalProfile(states[d]!, profile, r.thresholds, r.txId, {}, r.thresholdsFrom);
        provisional[d] = p.stored;
        states[d] = p.next;
        expect(p.stored.ownProven).toBe(r.ownProven);
      }
      for (const d of DEVICES) {
        const r = recorded[d]![win]!;
        const peers = DEVICES.filter((x) => x !== d).map((x) => provisional[x]!);
        const copies = countCopies(win, r.marks ?? [], (m) =>
          String(m) in marksFirst ? { deviceId: '?', window: marksFirst[String(m)] as number } : undefined,
        );
        const f = finalizeProfile(states[d]!, provisional[d]!, peers, copies, r.judgedTxId ?? '');
        states[d] = f.next;
        expect({ d, win, ...f.stored }).toEqual({ d, win, ...r });
      }
      for (const d of DEVICES) for (const m of recorded[d]![win]!.marks ?? []) if (!(String(m) in marksFirst)) marksFirst[String(m)] = win;
    }
  });

  it('bad input is refused with the field named', async () => {
    const p = { deviceId: 's-a', window: LAST + 1, features: computeFeatures(windowOf('s-a', LAST + 1)), marks: [9, 3] };
    await expect(w.edge.submit({ contract: TP, fn: 'submitProfile', args: [JSON.stringify(p), ''] })).rejects.toThrow(
      /marks must be ascending/,
    );
    expect(await errorCode(w.edge.submit({ contract: TP, fn: 'judgeSite', args: ['yard', '-1'] }))).toBe('PROV_ERR_BAD_INPUT');
    expect(await errorCode(w.edge.submit({ contract: TP, fn: 'judgeSite', args: ['', '3'] }))).toBe('PROV_ERR_BAD_INPUT');
  });
});

/**
 * The cross-device consistency check (shared/traffic/peers.ts, wired through device-state.ts):
 * a device whose level leaves its co-located peers' is flagged even when its own history cannot
 * tell (a slow ramp), a level step the peers took too is the environment (vouched), a flagged
 * window never enters the reference, and the verdict does not depend on the peers' order.
 */
import { describe, expect, it } from 'vitest';
import { checkClassProfile, learnClassProfile } from '../../shared/traffic/class-profile.js';
import { computeFeatures } from '../../shared/traffic/features.js';
import { acknowledgeChange, advanceDevice, emptyDeviceState, type DeviceState } from '../../shared/traffic/device-state.js';
import { defaultThresholds, type TrafficProfile } from '../../shared/traffic/model.js';
import { nextPeerRecent, nextPeerSum, PEER_MIN, PEER_SLACK, peerDeltas, peerRamp, type PeerRecent } from '../../shared/traffic/peers.js';
import { steadyWindow } from './fixtures.js';

const at = (deviceId: string, w: number, offset: number): TrafficProfile => ({
  deviceId,
  window: w,
  features: computeFeatures(steadyWindow(w, { offset })),
});

/** Judges device A window by window, with peers B and C (or alone); returns flagged feature names per window and A's state. */
function run(
  levelA: (w: number) => number,
  levelPeers: (w: number) => number,
  windows: number,
  withPeers: boolean,
): { flags: string[][]; state: DeviceState } {
  let state = emptyDeviceState();
  const flags: string[][] = [];
  for (let w = 0; w < windows; w++) {
    const peers = [at('dev-c', w, levelPeers(w) + 0.3), at('dev-b', w, levelPeers(w) - 0.2)];
    const { judgement, next } = advanceDevice(state, at('dev-a', w, levelA(w)), defaultThresholds(), withPeers ? { peers } : {});
    state = next;
    flags.push(judgement.flagged.map((f) => f.feature));
  }
  return { flags, state };
}

describe('peer check', () => {
  it('a ramp too slow for the device’s own model leaves its peers’ level and is flagged', () => {
    // A gains 0.02 °C a window from window 20 (its own windows stay continuous: each jump is one
    // usual step); its peers stay where they were.
    const ramp = (w: number): number => (w < 20 ? 0 : 0.02 * (w - 19));
    const alone = run(ramp, () => 0, 40, false);
    expect(alone.flags.flat()).toEqual([]);
    const judged = run(ramp, () => 0, 40, true);
    expect(judged.flags.slice(0, 20).flat()).toEqual([]);
    const first = judged.flags.findIndex((f) => f.length > 0);
    expect(first).toBeGreaterThan(20);
    expect(first).toBeLessThan(32);
    expect(
      judged.flags[first]!.some((f) => f === 'ch.temperature.peer' || f === 'ch.temperature.peersum' || f === 'ch.temperature.peerramp'),
    ).toBe(true);
    // Flagged windows never enter the reference: the ramp stays flagged to the end.
    expect(judged.flags.slice(first).every((f) => f.length > 0)).toBe(true);
  });

  it('a level step the peers took in the same window is the environment, not a fault', () => {
    const front = (w: number): number => (w < 20 ? 0 : 2);
    const alone = run(front, front, 30, false);
    expect(alone.flags[20]).toContain('ch.temperature.jump');
    const judged = run(front, front, 30, true);
    expect(judged.flags.flat()).toEqual([]);
    // The same step taken alone is a jump and a peer discrepancy.
    const lone = run(front, () => 0, 30, true);
    expect(lone.flags[20]).toEqual(expect.arrayContaining(['ch.temperature.jump', 'ch.temperature.peer']));
  });

  it('a level pinned while the peers move is flagged; both moving the same way by different amounts is not', () => {
    // The peers warm by 0.5 °C a window from window 20; A pinned where it was (mimic), or A
    // warming 1.6 times as fast (another sensor's gain).
    const weather = (w: number): number => (w < 20 ? 0 : 0.5 * (w - 19));
    const pinned = run(() => 0, weather, 26, true);
    expect(pinned.flags.slice(0, 20).flat()).toEqual([]);
    expect(pinned.flags.slice(21).every((f) => f.some((x) => x.startsWith('ch.temperature.peer')))).toBe(true);
    const gain = run((w) => 1.6 * weather(w), weather, 26, true);
    expect(gain.flags.flat().filter((f) => f.startsWith('ch.temperature.peer'))).toEqual([]);
  });

  it('a level that steps away from its peers is held open until it comes back (peerstep, persist)', () => {
    const offset = (w: number): number => (w >= 30 && w < 40 ? 0.3 : 0);
    const judged = run(offset, () => 0, 50, true);
    expect(judged.flags.slice(0, 30).flat()).toEqual([]);
    expect(judged.flags[30]).toContain('ch.temperature.peerstep');
    for (let w = 31; w < 40; w++) expect(judged.flags[w]).toContain('ch.temperature.persist');
    // The step back ends it: nothing flagged after the fault, and no break left open.
    expect(judged.flags.slice(41).flat()).toEqual([]);
    expect(judged.state.persist).toBeUndefined();
    // The same step taken by the peers too is the air: no step flag, nothing held.
    const together = run(offset, offset, 50, true);
    expect(together.flags.flat().filter((f) => f.endsWith('.peerstep') || f.endsWith('.persist'))).toEqual([]);
  });

  it('the persisting break survives a round trip of the stored state (JSON) and is dropped by an acknowledgement', () => {
    const peersAt = (w: number): TrafficProfile[] => [at('dev-c', w, 0.3), at('dev-b', w, -0.2)];
    let state = emptyDeviceState();
    for (let w = 0; w < 33; w++)
      state = advanceDevice(state, at('dev-a', w, w >= 30 ? 0.3 : 0), defaultThresholds(), { peers: peersAt(w) }).next;
    expect(state.persist?.['temperature']).toMatchObject({ since: 30, held: true });
    const copy = JSON.parse(JSON.stringify(state)) as DeviceState;
    const a = advanceDevice(state, at('dev-a', 33, 0.3), defaultThresholds(), { peers: peersAt(33) });
    const b = advanceDevice(copy, at('dev-a', 33, 0.3), defaultThresholds(), { peers: peersAt(33) });
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
    expect(a.judgement.flagged.map((f) => f.feature)).toContain('ch.temperature.persist');
    const acked = acknowledgeChange(a.next);
    expect(acked.persist).toBeUndefined();
    expect(acked.peerTails).toBeUndefined();
  });

  it('with three peers the median attributes a disagreement: the faulty device is flagged, its honest peers are not', () => {
    // Four devices of one site; dev-a offset by 1.5 °C from window 20.
    const level: Record<string, (w: number) => number> = {
      'dev-a': (w) => (w < 20 ? 0 : 1.5),
      'dev-b': () => 0.2,
      'dev-c': () => -0.1,
      'dev-d': () => 0.4,
    };
    const ids = Object.keys(level);
    const states: Record<string, DeviceState> = {};
    const flagged: Record<string, string[]> = {};
    for (const id of ids) {
      states[id] = emptyDeviceState();
      flagged[id] = [];
    }
    for (let w = 0; w < 26; w++) {
      const all = ids.map((id) => at(id, w, level[id]!(w)));
      for (const p of all) {
        const peers = all.filter((q) => q.deviceId !== p.deviceId);
        const { judgement, next } = advanceDevice(states[p.deviceId]!, p, defaultThresholds(), { peers });
        states[p.deviceId] = next;
        for (const f of judgement.flagged) if (f.feature.includes('.peer')) flagged[p.deviceId]!.push(`${w}:${f.feature}`);
      }
    }
    expect(flagged['dev-a']).toContain('20:ch.temperature.peer');
    expect([...flagged['dev-b']!, ...flagged['dev-c']!, ...flagged['dev-d']!]).toEqual([]);
  });

  it('the authority’s acknowledgement drops the peer reference: the new level is re-learnt against the peers', () => {
    const lone = run(
      (w) => (w < 20 ? 0 : 2),
      () => 0,
      22,
      true,
    );
    expect(lone.flags[21]).toContain('ch.temperature.peer');
    const acked = acknowledgeChange(lone.state);
    expect(acked.peerHistory).toBeUndefined();
    expect(acked.peerSum).toBeUndefined();
    const peers = [at('dev-b', 22, -0.2), at('dev-c', 22, 0.3)];
    expect(peerDeltas(acked.peerHistory ?? [], at('dev-a', 22, 2), peers)).toEqual([]);
  });

  it('judges only after PEER_MIN windows together, and the same whatever the peers’ order', () => {
    let history: ReturnType<typeof advanceDevice>['next']['peerHistory'] = [];
    let state = emptyDeviceState();
    for (let w = 0; w < PEER_MIN + 4; w++) {
      const peers = [at('dev-b', w, 0.1), at('dev-c', w, -0.1)];
      const a = at('dev-a', w, 0.5);
      if (w < PEER_MIN) expect(peerDeltas(state.peerHistory ?? [], a, peers)).toEqual([]);
      state = advanceDevice(state, a, defaultThresholds(), { peers }).next;
      history = state.peerHistory;
    }
    const w = PEER_MIN + 4;
    const a = at('dev-a', w, 1.5);
    const fwd = peerDeltas(history ?? [], a, [at('dev-b', w, 0.1), at('dev-c', w, -0.1)]);
    const rev = peerDeltas(history ?? [], a, [at('dev-c', w, -0.1), at('dev-b', w, 0.1)]);
    expect(JSON.stringify(fwd)).toBe(JSON.stringify(rev));
    expect(fwd.find((d) => d.channel === 'temperature')!.signed).toBeGreaterThan(8);
    // A profile that lists itself among its peers is not its own peer.
    expect(peerDeltas(history ?? [], a, [a])).toEqual([]);
    expect(() => peerDeltas(history ?? [], a, [{ ...a, deviceId: 'dev-b', features: { 'ch.temperature.mean': Number.NaN } }])).toThrow(
      /peers\[0\]\.features\.ch\.temperature\.mean must be finite/,
    );
  });

  it("a device offset from its first window is flagged against the class's tolerance, never learnt, and its end is not flagged", () => {
    // dev-a reads 2 °C above its peers for its first 6 windows (a modification from the start),
    // then its true level; the class registers 1.5 °C as the most two of its devices may differ.
    const cls = learnClassProfile([Array.from({ length: 20 }, (_, w) => at('dev-x', w, 0))]);
    const judge = (peerTolerance?: Record<string, number>): string[][] => {
      let state = emptyDeviceState();
      const flags: string[][] = [];
      for (let w = 0; w < 30; w++) {
        const peers = [at('dev-c', w, 0.3), at('dev-b', w, -0.2)];
        const classProfile = peerTolerance !== undefined ? { ...cls, peerTolerance } : cls;
        const { judgement, next } = advanceDevice(state, at('dev-a', w, w < 6 ? 2 : 0), defaultThresholds(), { peers, classProfile });
        state = next;
        flags.push(judgement.flagged.map((f) => f.feature));
      }
      return flags;
    };
    const tol = judge({ temperature: 1.5 });
    for (let w = 0; w < 6; w++) expect(tol[w]).toContain('ch.temperature.peerlevel');
    expect(tol.slice(6).flat()).toEqual([]);
    // Without the tolerance the offset passes its first six windows (nothing can judge them), but
    // the true level afterwards comes back to the peers' and is vouched for: not a discrepancy
    // (before the warm-up vouching, a level gap window after window).
    const none = judge();
    expect(none.slice(0, 6).flat()).toEqual([]);
    expect(none.slice(6).flat()).toEqual([]);
    expect(() => checkClassProfile({ ...cls, peerTolerance: { temperature: 0 } })).toThrow(
      /peerTolerance.temperature must be finite and > 0/,
    );
  });

  it('the run sum grows with every window past the slack on one side and restarts when a window is back', () => {
    let s = 0;
    for (const z of [4, 5, 6]) s = nextPeerSum(s, z);
    expect(s).toBeCloseTo(15 - 3 * PEER_SLACK, 12);
    expect(nextPeerSum(s, 1)).toBe(0);
    expect(nextPeerSum(s, -5)).toBe(-5 + PEER_SLACK);
  });

  it('the ramp test scores a steady climb away from the anchor, not a steady offset, a zigzag or the way back', () => {
    const series = (zs: readonly number[], ok = true): PeerRecent[] => {
      let r: PeerRecent[] = [];
      zs.forEach((z, w) => (r = nextPeerRecent(r, w, z, ok)));
      return r;
    };
    // 2 δ a window from two accepted windows at the peers' level: too small for the peer check (8)
    // or the run sum in its first windows, but a line.
    expect(peerRamp(series([0, 0, 2, 4, 6]))).toBeGreaterThan(defaultThresholds()['ch.*.peerramp'] as number);
    expect(peerRamp(series([0, 0, -2, -4, -6]))).toBeLessThan(-(defaultThresholds()['ch.*.peerramp'] as number));
    // A steady difference (the peer check's and the run sum's business) is no ramp.
    expect(Math.abs(peerRamp(series([5, 5, 5, 5, 5, 5])))).toBeLessThan(1);
    // The weather's wander zigzags: its scatter about the fitted line widens the noise.
    expect(Math.abs(peerRamp(series([0, 0, 3, -1, 4, 0, 5])))).toBeLessThan(defaultThresholds()['ch.*.peerramp'] as number);
    // The end of a fault brings δ back towards the centre: not a ramp.
    expect(peerRamp(series([0, 0, 3, 6, 9, 0]))).toBe(0);
    expect(peerRamp(series([9, 9, 6, 3, 0]))).toBe(0);
    // An anchor must be a window the verdict accepted.
    expect(peerRamp(series([0, 0, 1.5, 3, 4.5], false))).toBe(0);
    // A gap in the windows restarts the series.
    const broken = nextPeerRecent(series([0, 0, 1.5, 3]), 9, 4.5, false);
    expect(broken).toHaveLength(1);
    expect(peerRamp(broken)).toBe(0);
  });

  it('a ramp of temperature alone is flagged peerramp; with the humidity difference climbing too (the weather moves both), temperature is not', () => {
    const judge = (both: boolean): string[][] => {
      let state = emptyDeviceState();
      const flags: string[][] = [];
      // The peers wander together by ±0.02 °C against A, so the difference has a spread; A climbs 0.04 °C a window from window 20.
      for (let w = 0; w < 26; w++) {
        const wobble = 0.02 * ((w * 5) % 3) - 0.02;
        const climb = w < 20 ? 0 : 0.04 * (w - 19);
        const mk = (id: string, off: number, hum: number): TrafficProfile => {
          const input = steadyWindow(w, { offset: off });
          return {
            deviceId: id,
            window: w,
            features: computeFeatures({
              ...input,
              arrivals: input.arrivals.map((a) => ({ ...a, values: { ...a.values, humidity: (a.values['humidity'] as number) + hum } })),
            }),
          };
        };
        const peers = [mk('dev-b', wobble - 0.2, 0), mk('dev-c', wobble + 0.3, 0)];
        const { judgement, next } = advanceDevice(state, mk('dev-a', climb, both ? -3 * climb * 5 : 0), defaultThresholds(), { peers });
        state = next;
        flags.push(judgement.flagged.map((f) => f.feature));
      }
      return flags;
    };
    const one = judge(false);
    expect(one.slice(0, 20).flat()).toEqual([]);
    expect(one.slice(20).flat()).toContain('ch.temperature.peerramp');
    expect(judge(true).flat()).not.toContain('ch.temperature.peerramp');
  });

  it('in the warm-up a level break the peers vouch for is not flagged; one that leaves them is', () => {
    // The class profile learnt from a steady device; dev-a's peers read its level ± 0.3 °C.
    const cls = { ...learnClassProfile([Array.from({ length: 20 }, (_, w) => at('dev-x', w, 0))]), peerTolerance: { temperature: 1.5 } };
    const judge = (level: (w: number) => number, peersAt: (w: number) => number): string[][] => {
      let state = emptyDeviceState();
      const flags: string[][] = [];
      for (let w = 0; w < 8; w++) {
        const peers = [at('dev-c', w, peersAt(w) + 0.3), at('dev-b', w, peersAt(w) - 0.2)];
        const { judgement, next } = advanceDevice(state, at('dev-a', w, level(w)), defaultThresholds(), { peers, classProfile: cls });
        state = next;
        flags.push(judgement.flagged.map((f) => f.feature));
      }
      return flags;
    };
    // A pinned level 1 °C up (inside the tolerance) for three windows, then the true level: the
    // break back to the peers is the fault's end, and the rest of the warm-up is not held to the
    // forged level.
    expect(
      judge(
        (w) => (w < 3 ? 1 : 0),
        () => 0,
      ).flat(),
    ).toEqual([]);
    // The air warms by 1 °C at once at every device: the break moved with the peers.
    expect(
      judge(
        (w) => (w < 3 ? 0 : 1),
        (w) => (w < 3 ? 0 : 1),
      ).flat(),
    ).toEqual([]);
    // dev-a alone jumps 1 °C away from its peers in window 3: flagged as before.
    const away = judge(
      (w) => (w < 3 ? 0 : 1),
      () => 0,
    );
    expect(away[3]).toContain('ch.temperature.jump');
  });
});

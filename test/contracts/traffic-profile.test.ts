import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTRACTS } from '../../ledger-bridge/client.js';
import { MIN_HISTORY, MODEL_HISTORY } from '../../shared/traffic/model.js';
import { errorCode, json, World } from './fixture.js';

const TP = CONTRACTS.trafficProfile;

/** A clean window: ~120 readings/min, temperature ~23 °C, small deterministic wobble. */
function clean(window: number): Record<string, number> {
  const wobble = ((window * 7919) % 11) / 10 - 0.5; // -0.5..0.5, deterministic
  return {
    count: 120 + Math.round(wobble * 4),
    rate: 2 + wobble * 0.05,
    'ch.0.mean': 23 + wobble * 0.2,
    'ch.0.std': 0.3 + wobble * 0.02,
    'frame.errors': 0,
  };
}

interface Stored {
  trafficProven: boolean;
  discrepancyStatus: boolean;
  flagged: { feature: string; delta: number; threshold: number }[];
  basis: number;
  window: number;
  txId: string;
  faultSince?: number;
}

async function submit(w: World, deviceId: string, window: number, features: Record<string, number>, thresholds = ''): Promise<Stored> {
  const r = await w.edge.submit({ contract: TP, fn: 'submitProfile', args: [JSON.stringify({ deviceId, window, features }), thresholds] });
  return json<Stored>(r.result);
}

describe('TrafficProfileProvenance (Alg. 4) on the embedded ledger', () => {
  let w: World;
  beforeAll(async () => {
    w = await World.open();
    await w.enroll('dev-t');
    await w.enroll('dev-u');
  });
  afterAll(async () => {
    await w.close();
  });

  it('accepts the first MIN_HISTORY profiles unjudged and learns from them', async () => {
    for (let i = 0; i < MIN_HISTORY; i++) {
      const s = await submit(w, 'dev-t', i, clean(i));
      expect(s).toMatchObject({ trafficProven: true, discrepancyStatus: false, flagged: [], basis: i });
    }
  });

  it('TRUE/FALSE per Alg. 4: a clean window is proven, a fast-sampling window is flagged with the feature that tripped', async () => {
    const ok = await submit(w, 'dev-t', MIN_HISTORY, clean(MIN_HISTORY));
    expect(ok).toMatchObject({ trafficProven: true, discrepancyStatus: false, basis: MIN_HISTORY });
    const fast = await submit(w, 'dev-t', MIN_HISTORY + 1, { ...clean(MIN_HISTORY + 1), count: 1200, rate: 20 });
    expect(fast.trafficProven).toBe(false);
    expect(fast.discrepancyStatus).toBe(true);
    expect(fast.flagged.map((f) => f.feature)).toEqual(expect.arrayContaining(['rate']));
    for (const f of fast.flagged) expect(f.delta).toBeGreaterThan(f.threshold);
  });

  it('a flagged profile does not poison the model: the same fault stays flagged', async () => {
    const before = json<Stored>(await w.auditor.evaluate({ contract: TP, fn: 'getProfile', args: ['dev-t', String(MIN_HISTORY)] }));
    for (let k = 2; k < 6; k++) {
      const s = await submit(w, 'dev-t', MIN_HISTORY + k, { ...clean(MIN_HISTORY + k), count: 1200, rate: 20 });
      expect(s.trafficProven).toBe(false);
      expect(s.basis).toBe(before.basis + 1); // history did not grow by the flagged ones
    }
    const after = await submit(w, 'dev-t', MIN_HISTORY + 6, clean(MIN_HISTORY + 6));
    expect(after).toMatchObject({ trafficProven: true, basis: MIN_HISTORY + 1 });
  });

  it('stores every profile (flagged ones too) per device and window, readable and listable', async () => {
    const list = json<Stored[]>(await w.auditor.evaluate({ contract: TP, fn: 'listProfiles', args: ['dev-t'] }));
    expect(list.map((p) => p.window)).toEqual(Array.from({ length: MIN_HISTORY + 7 }, (_, i) => i));
    expect(list.filter((p) => !p.trafficProven).length).toBe(5);
    expect(await errorCode(w.auditor.evaluate({ contract: TP, fn: 'getProfile', args: ['dev-t', '999'] }))).toBe(
      'PROV_ERR_PROFILE_NOT_FOUND',
    );
  });

  it('refuses stale windows, unknown or revoked devices and bad input', async () => {
    expect(await errorCode(submit(w, 'dev-t', 3, clean(3)))).toBe('PROV_ERR_PROFILE_STALE');
    expect(await errorCode(submit(w, 'nobody', 0, clean(0)))).toBe('PROV_ERR_DEVICE_NOT_FOUND');
    expect(await errorCode(submit(w, 'dev-u', 0, { rate: Number.NaN }))).toBe('PROV_ERR_BAD_INPUT');
    expect(await errorCode(submit(w, 'dev-u', 0, {}))).toBe('PROV_ERR_BAD_INPUT');
    expect(await errorCode(submit(w, 'dev-u', 0, clean(0), '{"*":"x"}'))).toBe('PROV_ERR_BAD_INPUT');
    expect(await errorCode(submit(w, 'dev-u', -1, clean(0)))).toBe('PROV_ERR_BAD_INPUT');
    // a lying edge cannot switch the check off with a huge threshold (the model's MAX_THRESHOLD)
    expect(await errorCode(submit(w, 'dev-u', 0, clean(0), '{"*":1000000}'))).toBe('PROV_ERR_BAD_INPUT');
    await w.enroll('dev-v');
    await w.aa.submit({ contract: CONTRACTS.deviceRegistration, fn: 'revoke', args: ['dev-v', ''] });
    expect(await errorCode(submit(w, 'dev-v', 0, clean(0)))).toBe('PROV_ERR_DEVICE_REVOKED');
  });

  it('a level break opens a fault (stored as faultSince) that only the authority can acknowledge; the next profile re-anchors', async () => {
    await w.enroll('dev-w');
    for (let i = 0; i < 12; i++)
      expect((await submit(w, 'dev-w', i, { ...clean(i), 'ch.0.head': 23, 'ch.0.tail': 23 })).trafficProven).toBe(true);
    const moved = { 'ch.0.head': 30, 'ch.0.tail': 30 };
    const broke = await submit(w, 'dev-w', 12, { ...clean(12), ...moved });
    expect(broke).toMatchObject({ trafficProven: false, faultSince: 12 });
    expect(broke.flagged.map((f) => f.feature)).toContain('ch.0.jump');
    expect(await submit(w, 'dev-w', 13, { ...clean(13), ...moved })).toMatchObject({ trafficProven: false, faultSince: 12 });
    // Only the authority may acknowledge; the edge may not.
    expect(await errorCode(w.edge.submit({ contract: TP, fn: 'acknowledgeChange', args: ['dev-w'] }))).toBe('PROV_ERR_FORBIDDEN');
    expect(await errorCode(w.aa.submit({ contract: TP, fn: 'acknowledgeChange', args: ['nobody'] }))).toBe('PROV_ERR_DEVICE_NOT_FOUND');
    const ack = json<{ deviceId: string; reanchor: boolean }>(
      (await w.aa.submit({ contract: TP, fn: 'acknowledgeChange', args: ['dev-w'] })).result,
    );
    expect(ack).toMatchObject({ deviceId: 'dev-w', reanchor: true });
    const after = await submit(w, 'dev-w', 14, { ...clean(14), ...moved });
    expect(after.trafficProven).toBe(true);
    expect(after.faultSince).toBeUndefined();
    expect((await submit(w, 'dev-w', 15, { ...clean(15), ...moved })).trafficProven).toBe(true);
  });

  it('keeps at most MODEL_HISTORY accepted profiles in the model', async () => {
    let last: Stored | undefined;
    for (let i = 0; i < MODEL_HISTORY + 3; i++) last = await submit(w, 'dev-u', i, clean(i));
    expect(last?.basis).toBe(MODEL_HISTORY);
  });

  it('decides identically on two independent ledgers fed the same history (determinism)', async () => {
    const run = async () => {
      const v = await World.open();
      await v.enroll('dev-t');
      const out: string[] = [];
      for (let i = 0; i < MIN_HISTORY + 4; i++) {
        const f = i === MIN_HISTORY + 2 ? { ...clean(i), count: 1200, rate: 20 } : clean(i);
        const s = await submit(v, 'dev-t', i, f);
        out.push(JSON.stringify({ ...s, txId: '' }));
      }
      await v.close();
      return out;
    };
    const [x, y] = [await run(), await run()];
    expect(x).toEqual(y);
    expect(x.some((s) => s.includes('"trafficProven":false'))).toBe(true);
  });
});

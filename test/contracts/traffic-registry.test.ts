/**
 * Issue 11, attack 8: the submitter picked its own traffic thresholds (every δ at the allowed
 * maximum, and a fast-sampling fault was never flagged). Now the registry pins them — per device
 * or per device class, set by the attribute authority with TrafficProfileProvenance:setTraffic —
 * and submitProfile refuses any thresholds a submitter sends. Real contracts on the embedded ledger.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTRACTS } from '../../ledger-bridge/client.js';
import { defaultThresholds, MAX_THRESHOLD, MIN_HISTORY } from '../../shared/traffic/model.js';
import { errorCode, json, World } from './fixture.js';

const TP = CONTRACTS.trafficProfile;

function clean(window: number): Record<string, number> {
  const wobble = ((window * 7919) % 11) / 10 - 0.5;
  return { count: 120 + Math.round(wobble * 4), rate: 2 + wobble * 0.05, 'ch.0.mean': 23 + wobble * 0.2, 'ch.0.std': 0.3 + wobble * 0.02 };
}
const fast = (window: number): Record<string, number> => ({ ...clean(window), count: 1200, rate: 20 });

interface Stored {
  trafficProven: boolean;
  flagged: { feature: string }[];
  thresholds: Record<string, number>;
  thresholdsFrom: string;
}

describe('issue 11 attack 8: traffic thresholds are pinned by the registry, not by the submitter', () => {
  let w: World;
  const allMax = JSON.stringify({ '*': MAX_THRESHOLD, '*~*': MAX_THRESHOLD });
  const submit = async (deviceId: string, window: number, features: Record<string, number>, thresholds = ''): Promise<Stored> =>
    json<Stored>(
      (await w.edge.submit({ contract: TP, fn: 'submitProfile', args: [JSON.stringify({ deviceId, window, features }), thresholds] }))
        .result,
    );
  const warm = async (deviceId: string): Promise<void> => {
    for (let i = 0; i < MIN_HISTORY + 2; i++) expect((await submit(deviceId, i, clean(i))).trafficProven).toBe(true);
  };

  beforeAll(async () => {
    w = await World.open();
    for (const id of ['tr-a', 'tr-b', 'tr-c']) await w.enroll(id);
  });
  afterAll(async () => {
    await w.close();
  });

  it("the attack: thresholds at the maximum from the submitter are refused, and the fault is flagged under the registry's", async () => {
    expect(await errorCode(submit('tr-a', 0, clean(0), allMax))).toBe('PROV_ERR_BAD_INPUT');
    await expect(submit('tr-a', 0, clean(0), allMax)).rejects.toThrow(/pinned by the registry/);
    await warm('tr-a');
    const s = await submit('tr-a', MIN_HISTORY + 2, fast(MIN_HISTORY + 2));
    expect(s).toMatchObject({ trafficProven: false, thresholdsFrom: 'model', thresholds: defaultThresholds() });
    expect(s.flagged.map((f) => f.feature)).toEqual(expect.arrayContaining(['rate']));
  });

  it('only the authority pins; a device entry wins over its class, the class over the model', async () => {
    const set = (client: typeof w.aa, entry: unknown) => client.submit({ contract: TP, fn: 'setTraffic', args: [JSON.stringify(entry)] });
    expect(await errorCode(set(w.edge, { deviceId: 'tr-b', thresholds: { '*': MAX_THRESHOLD } }))).toBe('PROV_ERR_FORBIDDEN');
    expect(await errorCode(set(w.aa, { deviceId: 'nobody', thresholds: { '*': 3 } }))).toBe('PROV_ERR_DEVICE_NOT_FOUND');
    expect(await errorCode(set(w.aa, { deviceId: 'tr-b', thresholds: { '*': MAX_THRESHOLD + 1 } }))).toBe('PROV_ERR_BAD_INPUT');
    expect(await errorCode(set(w.aa, { deviceClass: 'probe' }))).toBe('PROV_ERR_BAD_INPUT');
    await set(w.aa, { deviceClass: 'probe', thresholds: { '*': 4, '*~*': 4 } });
    await set(w.aa, { deviceId: 'tr-b', deviceClass: 'probe' });
    await set(w.aa, { deviceId: 'tr-c', deviceClass: 'probe', thresholds: { '*': 5, '*~*': 5 } });
    const eff = (id: string) => w.auditor.evaluate({ contract: TP, fn: 'getTraffic', args: [id] }).then((b) => json(b));
    expect(await eff('tr-b')).toMatchObject({ thresholdsFrom: 'class:probe', thresholds: { '*': 4, '*~*': 4 } });
    expect(await eff('tr-c')).toMatchObject({ thresholdsFrom: 'device:tr-c', thresholds: { '*': 5, '*~*': 5 } });
    expect(await eff('tr-a')).toMatchObject({ thresholdsFrom: 'model' });
    // What the contract judged with is what the registry pinned, stored with the profile.
    expect(await submit('tr-b', 0, clean(0))).toMatchObject({ thresholdsFrom: 'class:probe', thresholds: { '*': 4, '*~*': 4 } });
    expect(await submit('tr-c', 0, clean(0))).toMatchObject({ thresholdsFrom: 'device:tr-c', thresholds: { '*': 5, '*~*': 5 } });
  });
});

/**
 * The edge's traffic monitor against a real embedded ledger (real contracts, SQLite file): one
 * submitProfiles transaction per window for all of the edge's devices (not one per device), the
 * site step (judgeSite) run by the edge in the same window so a site device's verdict is final
 * at once, one refused profile not losing the others, and a ledger outage catching up in one
 * transaction. The ledger client is the real one, wrapped to count (and, for the outage, refuse)
 * the calls the monitor makes. Last, an edge against a ledger whose deployed chaincode predates
 * submitProfiles (the same contracts with that function removed from their metadata, as an older
 * build lacks it): the monitor falls back to one submitProfile per profile, warning once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTRACTS, type LedgerClient, type Proposal } from '../../ledger-bridge/client.js';
import { silentLog, type Log } from '../../edge-runtime/src/log.js';
import { EdgeMetrics } from '../../edge-runtime/src/metrics.js';
import { DEFAULT_PROFILES_PER_TRANSACTION, TrafficMonitor } from '../../edge-runtime/src/traffic/monitor.js';
import { ProvenantError } from '../../shared/errors.js';
import type { Reading } from '../../shared/types.js';
import { contractsWithout, json, World } from '../contracts/fixture.js';
import { TrafficProfileProvenanceContract } from '../../ledger-bridge/contracts/index.js';

const TP = CONTRACTS.trafficProfile;
const WINDOW_MS = 10_000;
const T0 = 1_700_000_000_000;
/** The monitor numbers windows from the epoch: window `win` of a test is B + win. */
const B = T0 / WINDOW_MS;
const PLAIN = Array.from({ length: 24 }, (_, i) => `plain-${String(i).padStart(2, '0')}`);
const SITE = ['yard-a', 'yard-b', 'yard-c'];
const DEVICES = [...PLAIN, ...SITE];

/** The real client, counting each call the monitor makes; `refuse` makes the next submits fail as an unreachable ledger does. */
function counting(client: LedgerClient): { client: LedgerClient; calls: string[]; refuse: { next: number } } {
  const calls: string[] = [];
  const refuse = { next: 0 };
  const wrapped = Object.create(client) as LedgerClient;
  wrapped.submit = async (req: Proposal) => {
    calls.push(req.fn);
    if (refuse.next > 0) {
      refuse.next -= 1;
      throw new ProvenantError('PROV_ERR_LEDGER_UNAVAILABLE', 'ledger unavailable (test: refused before sending)');
    }
    return client.submit(req);
  };
  return { client: wrapped, calls, refuse };
}

function reading(deviceId: string, seq: number, t: number, value: number): Reading {
  return {
    deviceId,
    seq,
    t,
    epoch: 1,
    partialDigest: new Uint8Array(32),
    batteryMv: 3300,
    channels: [{ id: 0, scale: -2, value }],
  };
}

/** A log that keeps its warnings. */
function warningsLog(): { log: Log; warnings: { fields: Record<string, unknown>; message: string }[] } {
  const warnings: { fields: Record<string, unknown>; message: string }[] = [];
  const log: Log = { ...silentLog, warn: (fields, message) => warnings.push({ fields, message }), child: () => log };
  return { log, warnings };
}

describe('edge traffic monitor: one transaction per window for all devices, and the site step', () => {
  let w: World;
  beforeAll(async () => {
    w = await World.open();
    for (const d of DEVICES) await w.enroll(d);
    for (const d of SITE)
      await w.aa.submit({ contract: TP, fn: 'setTraffic', args: [JSON.stringify({ deviceId: d, deviceClass: 'yard' })] });
  }, 120_000);
  afterAll(async () => {
    await w?.close();
  });

  /** A monitor over `devices` at window `first`, whose clock the test moves. */
  const monitorOf = (client: LedgerClient, devices: readonly string[], first: number, options: { maxPerTransaction?: number } = {}) => {
    const clock = { now: T0 + first * WINDOW_MS };
    const { log, warnings } = warningsLog();
    const metrics = new EdgeMetrics();
    const m = new TrafficMonitor({ windowMs: WINDOW_MS, ...options }, client, metrics, log, () => clock.now);
    for (const d of devices) m.watch(d);
    let seq = 0;
    /** Readings of every device through window `win`, then closes it. */
    const window = async (win: number): Promise<void> => {
      const start = T0 + win * WINDOW_MS;
      for (let k = 0; k < 5; k++) {
        seq += 1;
        for (const [i, d] of devices.entries()) m.arrival(reading(d, seq, start + k * 2000, 2300 + i + (k % 2)), start + k * 2000 + 30);
      }
      clock.now = start + WINDOW_MS + 1;
      await m.closeWindow();
    };
    return { m, window, warnings, metrics };
  };

  it(`${DEVICES.length} devices: one submitProfiles per window, and the site's verdicts final in the same window (judgeSite)`, async () => {
    const { client, calls } = counting(w.edge);
    const { m, window, metrics } = monitorOf(client, DEVICES, 0);
    for (let win = 0; win < 3; win++) {
      calls.length = 0;
      await window(win);
      // One transaction for all the edge's profiles; the site step for the one class that has pending profiles.
      expect(calls).toEqual(['submitProfiles', 'judgeSite']);
      for (const d of DEVICES) expect(m.statusOf(d)).toMatchObject({ window: B + win, trafficProven: true });
      for (const d of SITE) {
        const s = m.statusOf(d);
        expect(s?.pending).toBeUndefined();
        expect(s?.peers).toEqual(SITE.filter((x) => x !== d));
        // On the ledger too: final in this window, not at the device's next profile.
        const stored = json<{ pending?: true; judgedTxId?: string }>(
          await w.auditor.evaluate({ contract: TP, fn: 'getProfile', args: [d, String(B + win)] }),
        );
        expect(stored.pending).toBeUndefined();
        expect(stored.judgedTxId).toBe(s?.judgedTxId);
      }
    }
    for (const d of [PLAIN[0] as string, SITE[0] as string]) {
      const list = json<{ window: number }[]>(await w.auditor.evaluate({ contract: TP, fn: 'listProfiles', args: [d] }));
      expect(list.map((p) => p.window - B)).toEqual([0, 1, 2]);
    }
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/provenant_edge_traffic_transactions_total\{fn="submitProfiles"\} 3/);
    expect(text).toMatch(/provenant_edge_traffic_transactions_total\{fn="judgeSite"\} 3/);
    // Each final verdict counted once (a site device's provisional one is not).
    expect(text).toMatch(new RegExp(`provenant_edge_traffic_profiles_total\\{result="proven"\\} ${3 * DEVICES.length}`));
    await m.stop();
  });

  it('a profile the ledger refuses (an unknown device) is dropped alone; a window split past maxPerTransaction', async () => {
    const { client, calls } = counting(w.edge);
    const devices = [...PLAIN, 'never-enrolled'];
    const { m, window, warnings } = monitorOf(client, devices, 10, { maxPerTransaction: 10 });
    await window(10);
    expect(calls).toEqual(['submitProfiles', 'submitProfiles', 'submitProfiles']);
    for (const d of PLAIN) expect(m.statusOf(d)).toMatchObject({ window: B + 10 });
    expect(m.statusOf('never-enrolled')).toBeUndefined();
    expect(warnings).toContainEqual({
      message: 'traffic profile refused by the ledger',
      fields: expect.objectContaining({ deviceId: 'never-enrolled', window: B + 10, code: 'PROV_ERR_DEVICE_NOT_FOUND' }),
    });
    await m.stop();
  });

  it("unconfigured, a window's profiles are split every 200 (~6 MB of model state: a write set a 10 MB Fabric block holds)", async () => {
    expect(DEFAULT_PROFILES_PER_TRANSACTION).toBe(200);
    const { client, calls } = counting(w.edge);
    // Unknown devices: each refused alone, but each counts in the transaction it went in.
    const many = Array.from({ length: 201 }, (_, i) => `unknown-${i}`);
    const { m, window } = monitorOf(client, many, 30);
    await window(30);
    expect(calls).toEqual(['submitProfiles', 'submitProfiles']);
    await m.stop();
  });

  it('the ledger away for a window: its profiles wait and go with the next window, in one transaction', async () => {
    const { client, calls, refuse } = counting(w.edge);
    const { m, window, warnings } = monitorOf(client, DEVICES, 20);
    refuse.next = 1;
    await window(20);
    expect(calls).toEqual(['submitProfiles']);
    expect(warnings.map((x) => x.message)).toContain('traffic profile submit failed; will retry next window');
    for (const d of DEVICES) expect(m.statusOf(d)).toBeUndefined();
    calls.length = 0;
    await window(21);
    expect(calls).toEqual(['submitProfiles', 'judgeSite']);
    for (const d of DEVICES) expect(m.statusOf(d)).toMatchObject({ window: B + 21 });
    for (const d of [PLAIN[3] as string, SITE[1] as string]) {
      const list = json<{ window: number; pending?: true }[]>(await w.auditor.evaluate({ contract: TP, fn: 'listProfiles', args: [d] }));
      // Both windows stored, the waiting one too, and both final (the site step ran for the last).
      expect(list.filter((p) => p.window >= B + 20).map((p) => [p.window - B, p.pending ?? false])).toEqual([
        [20, false],
        [21, false],
      ]);
    }
    await m.stop();
  });
});

describe('edge traffic monitor against chaincode without submitProfiles', () => {
  let w: World;
  const devices = ['old-a', 'old-b', 'old-c'];
  beforeAll(async () => {
    w = await World.open({ contracts: contractsWithout(TrafficProfileProvenanceContract, 'submitProfiles') });
    for (const d of devices) await w.enroll(d);
  }, 120_000);
  afterAll(async () => {
    await w?.close();
  });

  it('falls back to one submitProfile per device (warned once), keeps the verdicts, and drops a refused profile alone', async () => {
    // The deployment really lacks it: a direct call is the unknown-function error.
    await expect(
      w.edge.submit({
        contract: TP,
        fn: 'submitProfiles',
        args: [JSON.stringify([{ deviceId: 'old-a', window: 1, features: { count: 1 } }]), ''],
      }),
    ).rejects.toThrow(/function that does not exist: (TrafficProfileProvenance:)?submitProfiles/);
    const { client, calls, refuse } = counting(w.edge);
    const clock = { now: T0 };
    const { log, warnings } = warningsLog();
    const metrics = new EdgeMetrics();
    const m = new TrafficMonitor({ windowMs: WINDOW_MS }, client, metrics, log, () => clock.now);
    const watched = [...devices, 'never-enrolled'];
    for (const d of watched) m.watch(d);
    let seq = 0;
    const window = async (win: number): Promise<void> => {
      const start = T0 + win * WINDOW_MS;
      for (let k = 0; k < 5; k++) {
        seq += 1;
        for (const [i, d] of watched.entries()) m.arrival(reading(d, seq, start + k * 2000, 2300 + i + (k % 2)), start + k * 2000 + 30);
      }
      clock.now = start + WINDOW_MS + 1;
      await m.closeWindow();
    };
    await window(0);
    // One failed submitProfiles, then each profile alone (sorted by device id, as queued).
    expect(calls).toEqual(['submitProfiles', 'submitProfile', 'submitProfile', 'submitProfile', 'submitProfile']);
    for (const d of devices) expect(m.statusOf(d)).toMatchObject({ window: B, trafficProven: true, discrepancyStatus: false });
    expect(m.statusOf('never-enrolled')).toBeUndefined();
    expect(warnings).toContainEqual({
      message: 'traffic profile refused by the ledger',
      fields: expect.objectContaining({ deviceId: 'never-enrolled', window: B, code: 'PROV_ERR_DEVICE_NOT_FOUND' }),
    });
    calls.length = 0;
    await window(1);
    // The next window goes straight to submitProfile: no second try of submitProfiles, no second warning.
    expect(calls).toEqual(['submitProfile', 'submitProfile', 'submitProfile', 'submitProfile']);
    const fallbackWarnings = warnings.filter((x) => x.message.includes('has no submitProfiles'));
    expect(fallbackWarnings).toHaveLength(1);
    expect(fallbackWarnings[0]?.fields).toMatchObject({ code: 'PROV_ERR_ENDORSEMENT' });
    // An outage in the middle of a window: the profiles not yet sent wait for the next window.
    calls.length = 0;
    refuse.next = 1;
    await window(2);
    expect(calls).toEqual(['submitProfile']);
    calls.length = 0;
    await window(3);
    expect(calls).toHaveLength(8);
    for (const d of devices) {
      const list = json<{ window: number }[]>(await w.auditor.evaluate({ contract: TP, fn: 'listProfiles', args: [d] }));
      expect(list.map((p) => p.window - B)).toEqual([0, 1, 2, 3]);
      expect(m.statusOf(d)).toMatchObject({ window: B + 3 });
    }
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/provenant_edge_traffic_transactions_total\{fn="submitProfile"\} 12/);
    expect(text).not.toMatch(/fn="submitProfiles"/);
    await m.stop();
  });
});

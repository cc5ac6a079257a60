/**
 * One determinism case, computed the same way in the test process and in judge-child.ts: either
 * { history, profile, thresholds } (one judgement) or { run, thresholds, classProfile?, peers? } (a
 * device's whole run through the contract's state machine: every judgement and the final state;
 * `peers[i]` are the peers' profiles of run[i]'s window).
 */
import { advanceDevice, emptyDeviceState, type ClassProfile } from '../../shared/traffic/device-state.js';
import { countCopies } from '../../shared/traffic/copies.js';
import { judgeProfile, type Thresholds, type TrafficProfile } from '../../shared/traffic/model.js';

/** A determinism case. */
export type Case =
  | { history: TrafficProfile[]; profile: TrafficProfile; thresholds: Thresholds }
  | {
      run: TrafficProfile[];
      thresholds: Thresholds;
      classProfile?: ClassProfile;
      peers?: TrafficProfile[][];
      /** The site's marks (mark → first window) for the copy check; the device's own are added as it goes. */
      site?: Record<string, number>;
    };

/** The case's result. */
export function runCase(c: Case): unknown {
  if ('run' in c) {
    let state = emptyDeviceState();
    const site: Record<string, number> = { ...(c.site ?? {}) };
    const verdicts = c.run.map((p, i) => {
      const copies =
        c.site !== undefined
          ? countCopies(p.window, p.marks ?? [], (m) =>
              String(m) in site ? { deviceId: '', window: site[String(m)] as number } : undefined,
            )
          : undefined;
      if (c.site !== undefined) for (const m of p.marks ?? []) if (!(String(m) in site)) site[String(m)] = p.window;
      const { judgement, next } = advanceDevice(state, p, c.thresholds, {
        ...(c.classProfile !== undefined ? { classProfile: c.classProfile } : {}),
        ...(c.peers !== undefined ? { peers: c.peers[i] ?? [] } : {}),
        ...(copies !== undefined ? { copies } : {}),
      });
      state = next;
      return judgement;
    });
    return { verdicts, state };
  }
  return judgeProfile(c.history, c.profile, c.thresholds);
}

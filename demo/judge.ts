/**
 * Whether an attack of `provenant demo --attack` was caught, and the evidence to print
 * (docs/edge.md, "Attacks"). Each verdict rests on what the system itself reported: ledger
 * verdicts, edge refusals, duplicates, link drops, traffic-profile flags.
 */
import type { EdgeRuntime } from '../edge-runtime/src/runtime.js';
import type { AttackName } from './attacks.js';
import type { DemoSummary } from './summary.js';

/** What the demo observed while and after the attack played. */
export interface AttackFacts {
  readonly summary: DemoSummary;
  readonly attackState: { done: boolean; count: number; tamper?: { count: number }; note: string };
  readonly linkDrops: number;
  readonly duplicates: number;
  readonly rogueId: string | undefined;
  readonly victimState: string;
}

/** Judges one attack. */
export async function judgeAttack(name: AttackName, rt: EdgeRuntime, f: AttackFacts): Promise<{ detected: boolean; evidence: string }> {
  const r = f.summary.rejected;
  if (!f.attackState.done) return { detected: false, evidence: 'the run ended before the attack was played (use a longer --duration)' };
  switch (name) {
    case 'forge': {
      const n = r['BAD_TAG'] ?? 0;
      return {
        detected: n >= f.attackState.count && f.attackState.count > 0,
        evidence: `${f.attackState.count} forged readings injected, ${n} rejected by the ledger as BAD_TAG (the edge cannot check tags; the ledger holds K_IoT)`,
      };
    }
    case 'replay':
      return {
        detected: f.duplicates >= f.attackState.count && f.attackState.count > 0 && f.summary.lost === 0,
        evidence: `${f.attackState.count} frames replayed, ${f.duplicates} recognised as duplicates and stored once; every acknowledged reading is on the ledger exactly once ((deviceId, seq) check)`,
      };
    case 'tamper': {
      const n = r['BAD_TAG'] ?? 0;
      const t = f.attackState.tamper?.count ?? 0;
      return { detected: t > 0 && n >= t, evidence: `${t} readings rewritten in flight, ${n} rejected by the ledger as BAD_TAG` };
    }
    case 'fast-sampling': {
      const n = r['RATE'] ?? 0;
      const flagged = f.rogueId ? rt.monitor?.statusOf(f.rogueId) : undefined;
      return {
        detected: n > 0,
        evidence: `the edge refused ${n} readings of the cloned board with NACK RATE${flagged?.discrepancyStatus ? '; its traffic profile is flagged' : ''}`,
      };
    }
    case 'injection': {
      const s = f.rogueId ? rt.monitor?.statusOf(f.rogueId) : undefined;
      const everFlagged = f.rogueId ? (rt.monitor?.everFlagged(f.rogueId) ?? []) : [];
      const detected = everFlagged.some((x) => x.startsWith('ch.'));
      return {
        detected,
        evidence: detected
          ? `the Traffic Profile contract flagged the cloned board's windows (${everFlagged.slice(0, 4).join(', ')}) although every tag was valid`
          : `no discrepancy flagged for the cloned board (last status: ${s ? JSON.stringify(s.flagged) : 'none'})`,
      };
    }
    case 'unplug':
      return {
        detected: f.linkDrops > 0 && f.summary.lost === 0,
        evidence: `link drops: ${f.linkDrops}; the link came back (${f.victimState}) and the board resent what was not acknowledged: lost ${f.summary.lost}`,
      };
  }
}

/**
 * Prometheus metrics of the auditor server (prom-client, a registry of its own so several
 * servers in one process do not clash): verdicts by result, verification latency, saved-head
 * checks by outcome, the provenance follower's progress, plus Node's process metrics under
 * their standard names (`process_*`, `nodejs_*`), as on every Provenant service.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { FollowerStatus } from '../../provenance/follower.js';

/** The server's registry and its observations. */
export interface AuditorMetrics {
  readonly registry: Registry;
  /** One verdict (POST /verify, /validate): TRUE, FALSE, NOT_FOUND, SIGNATURE_MISMATCH, UNPROVEN, or an error code. */
  observeVerify(result: string, seconds: number): void;
  /** One POST /consistency: whether the chain extended the saved head. */
  observeConsistency(extended: boolean): void;
  /** The follower's counters, read at scrape time. */
  observeFollower(status: FollowerStatus | undefined): void;
}

/** Creates the metrics. */
export function auditorMetrics(): AuditorMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const verdicts = new Counter({
    name: 'provenant_auditor_verdicts_total',
    help: 'verifications by result (verdict or error code)',
    labelNames: ['result'],
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'provenant_auditor_verify_seconds',
    help: 'time to answer one verification (contract call, inclusion proof, DB update), seconds',
    buckets: [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const checks = new Counter({
    name: 'provenant_auditor_head_checks_total',
    help: 'saved-head checks by outcome',
    labelNames: ['extends'],
    registers: [registry],
  });
  const ingested = new Counter({
    name: 'provenant_auditor_follower_readings_total',
    help: 'readings the follower stored in the provenance database, by ledger outcome',
    labelNames: ['outcome'],
    registers: [registry],
  });
  const block = new Gauge({
    name: 'provenant_auditor_follower_block',
    help: 'last ledger block whose readings the follower stored (-1 before the first)',
    registers: [registry],
  });
  const up = new Gauge({
    name: 'provenant_auditor_follower_up',
    help: '1 while the follower tails the ledger without error, 0 while it retries',
    registers: [registry],
  });
  const seen = { committed: 0, rejected: 0 };
  return {
    registry,
    observeVerify(result, seconds) {
      verdicts.inc({ result });
      latency.observe(seconds);
    },
    observeConsistency(extended) {
      checks.inc({ extends: String(extended) });
    },
    observeFollower(status) {
      if (status === undefined) return;
      ingested.inc({ outcome: 'committed' }, Math.max(0, status.committed - seen.committed));
      ingested.inc({ outcome: 'rejected' }, Math.max(0, status.rejected - seen.rejected));
      seen.committed = status.committed;
      seen.rejected = status.rejected;
      block.set(status.lastBlock ?? -1);
      up.set(status.running && status.lastError === null ? 1 : 0);
    },
  };
}

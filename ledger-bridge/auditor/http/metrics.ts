/**
 * Prometheus metrics of the auditor server (prom-client, a registry of its own so several
 * servers in one process do not clash): verdicts by result, verification latency, saved-head
 * checks by outcome, plus Node's default metrics.
 */
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The server's registry and its observations. */
export interface AuditorMetrics {
  readonly registry: Registry;
  /** One answered POST /verify: its verdict (TRUE, FALSE, NOT_FOUND, SIGNATURE_MISMATCH, UNPROVEN) or error code. */
  observeVerify(result: string, seconds: number): void;
  /** One POST /consistency: whether the chain extended the saved head. */
  observeConsistency(extended: boolean): void;
}

/** Creates the metrics. */
export function auditorMetrics(): AuditorMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'provenant_auditor_' });
  const verdicts = new Counter({
    name: 'provenant_auditor_verdicts_total',
    help: 'verifications by result (verdict or error code)',
    labelNames: ['result'],
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'provenant_auditor_verify_seconds',
    help: 'time to answer POST /verify (contract call, inclusion proof, DB update), seconds',
    buckets: [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const checks = new Counter({
    name: 'provenant_auditor_head_checks_total',
    help: 'saved-head checks by outcome',
    labelNames: ['extends'],
    registers: [registry],
  });
  return {
    registry,
    observeVerify(result, seconds) {
      verdicts.inc({ result });
      latency.observe(seconds);
    },
    observeConsistency(extended) {
      checks.inc({ extends: String(extended) });
    },
  };
}

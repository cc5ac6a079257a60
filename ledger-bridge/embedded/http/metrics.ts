/**
 * Prometheus metrics of the ledger server (prom-client, a registry of its own so several
 * servers in one process do not clash): submits by outcome, commit latency, chain height,
 * pending transactions, blocks and transactions by validity, plus Node's process metrics under
 * their standard names (`process_*`, `nodejs_*`), as on every Provenant service. Counters end in
 * `_total`, durations are in seconds.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { EmbeddedLedger } from '../ledger.js';

/** The server's registry and the one observation it makes per submit. */
export function ledgerMetrics(ledger: EmbeddedLedger): { registry: Registry; observeSubmit(outcome: string, seconds: number): void } {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const submits = new Counter({
    name: 'provenant_ledger_submits_total',
    help: 'submits over HTTP by outcome (committed or error code)',
    labelNames: ['outcome'],
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'provenant_ledger_submit_seconds',
    help: 'time from request to committed block, seconds',
    buckets: [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [registry],
  });
  new Gauge({
    name: 'provenant_ledger_height',
    help: 'blocks on the chain, genesis included',
    registers: [registry],
    collect() {
      this.set(ledger.head().height);
    },
  });
  new Gauge({
    name: 'provenant_ledger_pending_transactions',
    help: 'endorsed transactions waiting for a block',
    registers: [registry],
    collect() {
      this.set(ledger.pendingCount());
    },
  });
  // Counters read from the engine's own tallies at scrape time (they only grow while it runs).
  new Counter({
    name: 'provenant_ledger_blocks_committed_total',
    help: 'blocks committed since start',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(ledger.stats.blocks);
    },
  });
  new Counter({
    name: 'provenant_ledger_transactions_committed_total',
    help: 'transactions committed since start, by validity',
    labelNames: ['valid'],
    registers: [registry],
    collect() {
      this.reset();
      this.inc({ valid: 'true' }, ledger.stats.txValid);
      this.inc({ valid: 'false' }, ledger.stats.txInvalid);
    },
  });
  new Gauge({
    name: 'provenant_ledger_last_commit_seconds',
    help: 'validation + commit time of the last block, seconds',
    registers: [registry],
    collect() {
      this.set(ledger.stats.lastCommitMs / 1000);
    },
  });
  return {
    registry,
    observeSubmit(outcome, seconds) {
      submits.inc({ outcome });
      latency.observe(seconds);
    },
  };
}

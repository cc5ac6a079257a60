/**
 * Prometheus metrics of one edge runtime (prom-client), on a registry of its own so several
 * runtimes (tests, the demo) never share counters. Names follow Prometheus conventions:
 * `provenant_edge_*`, `_total` for counters, seconds for durations; Node's process metrics under
 * their standard names (`process_*`, `nodejs_*`) as on every Provenant service.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { LINK_STATES, type LinkState } from './links/link.js';

/** The edge's metrics. */
export class EdgeMetrics {
  readonly registry = new Registry();
  /** READING frames that decoded, before any check. */
  readonly received = new Counter({
    name: 'provenant_edge_readings_received_total',
    help: 'READING frames received and decoded',
    registers: [this.registry],
  });
  /** Readings acknowledged to the board (durably stored, or already stored). */
  readonly acked = new Counter({
    name: 'provenant_edge_readings_acked_total',
    help: 'readings acknowledged after a durable outbox commit',
    registers: [this.registry],
  });
  /** Resends of a reading already stored (acknowledged again, stored once). */
  readonly duplicates = new Counter({
    name: 'provenant_edge_readings_duplicate_total',
    help: 'resent readings already in the outbox',
    registers: [this.registry],
  });
  /** Readings the ledger committed. */
  readonly committed = new Counter({
    name: 'provenant_edge_readings_committed_total',
    help: 'readings committed on the ledger',
    registers: [this.registry],
  });
  /** Readings refused, by reason and by who refused them (edge NACK or ledger verdict). */
  readonly rejected = new Counter({
    name: 'provenant_edge_readings_rejected_total',
    help: 'readings refused, by reason; stage=edge (NACK) or ledger (contract verdict)',
    labelNames: ['reason', 'stage'] as const,
    registers: [this.registry],
  });
  /** HELLOs refused (unknown device, bad credential). */
  readonly helloRefused = new Counter({
    name: 'provenant_edge_hello_refused_total',
    help: 'HELLO handshakes refused',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  /** Frames the decoder dropped. */
  readonly framesDropped = new Counter({
    name: 'provenant_edge_frames_dropped_total',
    help: 'frames dropped by the decoder',
    labelNames: ['link', 'kind'] as const,
    registers: [this.registry],
  });
  /** Readings waiting for the ledger. */
  readonly outboxDepth = new Gauge({
    name: 'provenant_edge_outbox_depth',
    help: 'readings waiting in the outbox',
    registers: [this.registry],
  });
  /** Outbox bound. */
  readonly outboxCapacity = new Gauge({
    name: 'provenant_edge_outbox_capacity',
    help: 'most readings the outbox holds before NACKing OUTBOX_FULL',
    registers: [this.registry],
  });
  /** 1 while the last ledger submit succeeded. */
  readonly ledgerUp = new Gauge({
    name: 'provenant_edge_ledger_up',
    help: '1 if the last ledger submit succeeded',
    registers: [this.registry],
  });
  /** One series per link and state; the current state is 1. */
  readonly linkState = new Gauge({
    name: 'provenant_edge_link_state',
    help: 'board link state (1 = current)',
    labelNames: ['link', 'state'] as const,
    registers: [this.registry],
  });
  /** Link losses (unplug, BLE disconnect). */
  readonly linkDrops = new Counter({
    name: 'provenant_edge_link_drops_total',
    help: 'times a link was lost and went reconnecting',
    labelNames: ['link'] as const,
    registers: [this.registry],
  });
  /** Edge receive → ledger commit. */
  readonly commitLatency = new Histogram({
    name: 'provenant_edge_commit_latency_seconds',
    help: 'time from edge receive to ledger commit',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600],
    registers: [this.registry],
  });
  /** One recordBatch submit. */
  readonly submitLatency = new Histogram({
    name: 'provenant_edge_submit_latency_seconds',
    help: 'recordBatch submit to commit',
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  /** recordBatch submits invalidated by an MVCC or phantom-read conflict and resubmitted. */
  readonly ledgerConflicts = new Counter({
    name: 'provenant_edge_ledger_conflicts_total',
    help: 'batches invalidated by an MVCC or phantom-read conflict and resubmitted',
    registers: [this.registry],
  });
  /** Traffic profiles submitted, by outcome. */
  readonly profiles = new Counter({
    name: 'provenant_edge_traffic_profiles_total',
    help: 'traffic profiles judged by the ledger',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  /** Traffic-profile transactions committed: submitProfiles (one per window for all devices) and judgeSite (the site step). */
  readonly profileTransactions = new Counter({
    name: 'provenant_edge_traffic_transactions_total',
    help: 'traffic-profile transactions committed, by contract function',
    labelNames: ['fn'] as const,
    registers: [this.registry],
  });
  /** Devices whose last profile was flagged. */
  readonly devicesFlagged = new Gauge({
    name: 'provenant_edge_devices_flagged',
    help: 'devices whose last traffic profile showed a discrepancy',
    registers: [this.registry],
  });
  /** Sessions with a completed HELLO. */
  readonly sessions = new Gauge({ name: 'provenant_edge_sessions', help: 'device sessions past HELLO', registers: [this.registry] });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  /** Records a link's new state (one-hot over LINK_STATES). */
  setLinkState(link: string, state: LinkState): void {
    for (const s of LINK_STATES) this.linkState.set({ link, state: s }, s === state ? 1 : 0);
  }

  /** The exposition text. */
  async render(): Promise<string> {
    return this.registry.metrics();
  }
}

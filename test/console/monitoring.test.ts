/**
 * Operations: the Prometheus alert rules and the Grafana dashboard in deploy/monitoring/ name only
 * metrics the three services really serve (scraped here from a live edge API, ledger server and
 * auditor), the five alerts the issue asks for are there, counters end in `_total`, durations are in
 * seconds, and Node's process metrics have the same names on every service.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { EdgeRuntime } from '../../edge-runtime/src/runtime.js';
import { ledgerFixture, MemoryLink, tempDir, type LedgerFixture } from '../support/edge-fixture.js';
import { serviceApps, startEdgeOnFixture } from '../support/services.js';

const ROOT = join(import.meta.dirname, '..', '..');
const TOKEN = 'monitoring-test-token-0123456789ab';
const tmp = tempDir('provenant-monitoring-');
let fx: LedgerFixture;
let rt: EdgeRuntime;
const text: Record<string, string> = {};

beforeAll(async () => {
  fx = await ledgerFixture(join(tmp.dir, 'ledger.db'), 1);
  rt = await startEdgeOnFixture(fx, tmp.dir, { traffic: { windowMs: 60_000 } });
  await rt.attach(new MemoryLink('board-1'));
  const apps = await serviceApps(fx, rt, TOKEN);
  for (const [name, app] of Object.entries(apps)) {
    const res = await app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.statusCode).toBe(200);
    text[name] = res.body;
    await app.close();
  }
}, 60_000);
afterAll(async () => {
  await rt.stop();
  await fx.close();
  tmp.cleanup();
});

/** name → type, from the exposition's # TYPE lines. */
const types = (body: string): Map<string, string> =>
  new Map([...body.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1] as string, m[2] as string]));
const served = (): Set<string> => {
  const names = new Set<string>(['up']);
  for (const body of Object.values(text))
    for (const [n, t] of types(body)) {
      names.add(n);
      if (t === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(n + s);
    }
  return names;
};
/** Metric names in a PromQL expression (our prefixes, Node's process metrics, up). */
const namesIn = (expr: string): string[] =>
  [...expr.matchAll(/\b(provenant_[a-z_]+|process_[a-z_]+|nodejs_[a-z_]+|up)\b(?!\s*\()/g)].map((m) => m[1] as string);

describe('metrics of the three services', () => {
  it('counters end in _total, durations are seconds, nothing is in ms', () => {
    for (const [name, body] of Object.entries(text)) {
      for (const [n, t] of types(body)) {
        if (t === 'counter') expect(n, `${name}: counter ${n}`).toMatch(/_total$/);
        expect(n, `${name}: ${n}`).not.toMatch(/_ms$|_millis/);
        if (/latency|duration|_time$/.test(n)) expect(n, `${name}: ${n}`).toMatch(/_seconds/);
      }
    }
  });

  it('process metrics have the same standard names on every service', () => {
    for (const body of Object.values(text)) {
      const t = types(body);
      for (const n of [
        'process_cpu_seconds_total',
        'process_resident_memory_bytes',
        'nodejs_heap_size_used_bytes',
        'nodejs_eventloop_lag_seconds',
      ])
        expect(t.has(n), n).toBe(true);
      expect([...t.keys()].filter((n) => /^provenant_[a-z]+_(process|nodejs)_/.test(n))).toEqual([]);
    }
  });
});

describe('deploy/monitoring', () => {
  it('alert rules: the five asked for, and every metric they use is served', () => {
    const rules = parse(readFileSync(join(ROOT, 'deploy/monitoring/provenant-alerts.yml'), 'utf8')) as {
      groups: { rules: { alert: string; expr: string }[] }[];
    };
    const all = rules.groups.flatMap((g) => g.rules);
    expect(all.map((r) => r.alert)).toEqual(
      expect.arrayContaining([
        'ProvenantLedgerDown',
        'ProvenantOutboxFilling',
        'ProvenantLinkDown',
        'ProvenantDeviceFlagged',
        'ProvenantHeadCheckFailed',
      ]),
    );
    const names = served();
    for (const r of all) {
      expect(namesIn(r.expr).length, r.alert).toBeGreaterThan(0);
      for (const n of namesIn(r.expr)) expect(names.has(n), `${r.alert}: ${n}`).toBe(true);
    }
  });

  it('the Grafana dashboard is valid JSON whose every query names served metrics', () => {
    const dash = JSON.parse(readFileSync(join(ROOT, 'deploy/monitoring/grafana-provenant.json'), 'utf8')) as {
      panels: { title: string; targets: { expr: string }[] }[];
    };
    expect(dash.panels.length).toBeGreaterThan(10);
    const names = served();
    for (const p of dash.panels)
      for (const t of p.targets) for (const n of namesIn(t.expr)) expect(names.has(n), `${p.title}: ${n}`).toBe(true);
  });

  it('the scrape example scrapes the three services with their bearer tokens and loads the rules', () => {
    const prom = parse(readFileSync(join(ROOT, 'deploy/monitoring/prometheus.yml'), 'utf8')) as {
      rule_files: string[];
      scrape_configs: { job_name: string; authorization: { type: string; credentials_file: string } }[];
    };
    expect(prom.rule_files).toContain('provenant-alerts.yml');
    expect(prom.scrape_configs.map((s) => s.job_name).sort()).toEqual(['provenant-auditor', 'provenant-edge', 'provenant-ledger']);
    for (const s of prom.scrape_configs) expect(s.authorization.type).toBe('Bearer');
  });
});

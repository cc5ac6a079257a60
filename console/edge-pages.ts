/**
 * The edge's console: its devices by board name (session, link state, last seen in local time,
 * seq, boot count, rate, anomalies), refused boards, outbox depth and ledger health; one device's
 * live readings with decoded values, its traffic-profile chart with flagged windows, and a
 * validate button per reading (the paper's flow through the edge).
 */
import type { FastifyInstance } from 'fastify';
import { trafficChart, type WindowPoint } from './chart.js';
import { badge, channelText, html, raw, short, time, type Raw } from './html.js';
import type { PageSet } from './plugin.js';

interface Device {
  deviceId: string;
  name: string | null;
  link: string | null;
  linkState: string;
  sessionState: string;
  firmware: string | null;
  bootCount: number | null;
  lastSeenAt: number | null;
  lastSeq: number | null;
  received: number;
  acked: number;
  committed: number;
  rejected: Record<string, number>;
  lastStatus: { code: number; value: number; text: string } | null;
  trafficProven: boolean | null;
}
interface Reading {
  seq: number;
  dataHash: string;
  receivedAt: number;
  state: string;
  reason: string | null;
  txId: string | null;
  values: { t?: number; batteryMv?: number; channels?: { id: number; scale: number; value: number }[]; [k: string]: unknown } | null;
}
interface Health {
  status: string;
  edgeId: string;
  ledgerUp: boolean;
  lastLedgerError: string | null;
  outbox: { depth: number; capacity: number };
  links: { open: number; total: number };
  provenance: { db: string; committed: number; rejected: number; lastError: string | null } | null;
  validation: string;
}

const sum = (o: Record<string, number>): number => Object.values(o).reduce((a, b) => a + b, 0);

function healthCards(h: Health): Raw {
  return html`<div class="cards">
    <div class="card">
      <div class="k">edge</div>
      <div class="v">${h.edgeId} ${badge(h.status)}</div>
    </div>
    <div class="card">
      <div class="k">ledger</div>
      <div class="v">${badge(h.ledgerUp ? 'up' : 'down', h.ledgerUp ? 'good' : 'bad')}</div>
      ${h.lastLedgerError ? html`<div class="muted">${h.lastLedgerError}</div>` : ''}
    </div>
    <div class="card">
      <div class="k">outbox (waiting / capacity)</div>
      <div class="v" data-testid="outbox">${h.outbox.depth} / ${h.outbox.capacity}</div>
    </div>
    <div class="card">
      <div class="k">links open</div>
      <div class="v">${h.links.open} / ${h.links.total}</div>
    </div>
    <div class="card">
      <div class="k">provenance database</div>
      <div class="v">${h.provenance ? `${h.provenance.committed} stored` : 'off'}</div>
      ${h.provenance?.lastError ? html`<div class="error">${h.provenance.lastError}</div>` : ''}
    </div>
    <div class="card">
      <div class="k">validation</div>
      <div class="v">${h.validation}</div>
    </div>
  </div>`;
}

function deviceRows(devices: Device[], rates: Map<string, number | null>): Raw {
  if (devices.length === 0)
    return html`<tr>
      <td colspan="11" class="muted">No device yet.</td>
    </tr>`;
  return html`${devices.map((d) => {
    const anomalies =
      d.trafficProven === false ? badge('flagged') : d.trafficProven === true ? badge('ok') : html`<span class="muted">—</span>`;
    const rate = rates.get(d.deviceId);
    return html`<tr data-device="${d.deviceId}">
      <td>
        <a href="/console/devices/${encodeURIComponent(d.deviceId)}">${d.name ?? d.deviceId}</a
        >${d.name ? html`<div class="muted">${d.deviceId}</div>` : ''}
      </td>
      <td>${badge(d.sessionState)}</td>
      <td>
        ${badge(d.linkState)}
        <div class="muted">${d.link ?? ''}</div>
      </td>
      <td>${time(d.lastSeenAt)}</td>
      <td class="num">${d.lastSeq ?? '—'}</td>
      <td class="num">${d.bootCount ?? '—'}</td>
      <td class="num">${rate === null || rate === undefined ? '—' : rate.toFixed(1)}</td>
      <td class="num">${d.committed}</td>
      <td class="num">
        ${sum(d.rejected)}${
          Object.keys(d.rejected).length
            ? html`<div class="muted">
                ${Object.entries(d.rejected)
                  .map(([k, v]) => `${k} ${v}`)
                  .join(', ')}
              </div>`
            : ''
        }
      </td>
      <td>${anomalies}</td>
      <td>${d.lastStatus ? d.lastStatus.text : ''}</td>
    </tr>`;
  })}`;
}

function readingRows(deviceId: string, readings: Reading[]): Raw {
  if (readings.length === 0)
    return html`<tr>
      <td colspan="8" class="muted">No reading yet.</td>
    </tr>`;
  return html`${readings.map((r) => {
    const extra = Object.entries(r.values ?? {}).filter(([k]) => !['t', 'batteryMv', 'channels'].includes(k));
    return html`<tr data-seq="${r.seq}">
      <td class="num">${r.seq}</td>
      <td>${time(r.values?.t)}</td>
      <td class="values">${channelText(r.values?.channels)}</td>
      <td class="num">${r.values?.batteryMv ?? '—'}</td>
      <td>${extra.length ? extra.map(([k, v]) => `${k} ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`).join(' · ') : ''}</td>
      <td>${badge(r.state)}${r.reason ? html`<div class="muted">${r.reason}</div>` : ''}</td>
      <td>${short(r.txId)}</td>
      <td>
        ${
          r.state === 'committed'
            ? html`<button
                class="small"
                data-post="/console/devices/${encodeURIComponent(deviceId)}/validate/${r.seq}"
                data-target="#validation"
              >
                Validate
              </button>`
            : ''
        }
      </td>
    </tr>`;
  })}`;
}

/** The edge role's pages. */
export const edgePages: PageSet = (app: FastifyInstance, ctx, guard) => {
  const get = async <T>(url: string): Promise<T> => (await ctx.api('GET', url)).json as T;
  const rates = async (devices: Device[]): Promise<Map<string, number | null>> => {
    const m = new Map<string, number | null>();
    await Promise.all(
      devices.map(async (d) => {
        const w = await ctx.api('GET', `/devices/${encodeURIComponent(d.deviceId)}/traffic`);
        const list = (w.status === 200 ? w.json : []) as WindowPoint[];
        m.set(d.deviceId, list.length ? (list[list.length - 1]?.features['rate'] ?? null) : null);
      }),
    );
    return m;
  };
  const devicesTable = async (): Promise<Raw> => {
    const devices = await get<Device[]>('/devices');
    return deviceRows(devices, await rates(devices));
  };

  app.get('/console', { schema: { hide: true }, preHandler: guard }, async (_req, reply) => {
    const [h, rows, refused] = await Promise.all([get<Health>('/health'), devicesTable(), get<unknown[]>('/boards/refused')]);
    const body = html`<h1>Devices</h1>
      <div data-refresh="/console/fragment/health" data-every="2000">${healthCards(h)}</div>
      <table id="devices">
        <thead>
          <tr>
            <th>device</th>
            <th>session</th>
            <th>link</th>
            <th>last seen</th>
            <th class="num">seq</th>
            <th class="num">boot count</th>
            <th class="num">rate /min</th>
            <th class="num">committed</th>
            <th class="num">refused</th>
            <th>traffic</th>
            <th>board status</th>
          </tr>
        </thead>
        <tbody data-refresh="/console/fragment/devices" data-every="2000">
          ${rows}
        </tbody>
      </table>
      ${refused.length ? html`<p><a href="/console/boards">${refused.length} refused board(s)</a></p>` : ''}`;
    return reply.type('text/html; charset=utf-8').send(ctx.page('Devices', '/console', body));
  });
  app.get('/console/fragment/health', { schema: { hide: true }, preHandler: guard }, async (_req, reply) =>
    reply.type('text/html; charset=utf-8').send(healthCards(await get<Health>('/health')).html),
  );
  app.get('/console/fragment/devices', { schema: { hide: true }, preHandler: guard }, async (_req, reply) =>
    reply.type('text/html; charset=utf-8').send((await devicesTable()).html),
  );

  app.get('/console/boards', { schema: { hide: true }, preHandler: guard }, async (_req, reply) => {
    const refused =
      await get<{ deviceId: string; link: string; name: string | null; reason: string; count: number; firstAt: number; lastAt: number }[]>(
        '/boards/refused',
      );
    const body = html`<h1>Refused boards</h1>
      <p class="muted">
        Boards whose HELLO this edge refused: no credential for the id they claim, or a credential that does not verify. Enroll them with
        <code>provenant authority enroll</code> and put their credential in the credentials directory.
      </p>
      <table>
        <thead>
          <tr>
            <th>claimed device id</th>
            <th>board</th>
            <th>link</th>
            <th>reason</th>
            <th class="num">HELLOs</th>
            <th>first</th>
            <th>last</th>
          </tr>
        </thead>
        <tbody>
          ${
            refused.length === 0
              ? html`<tr>
                  <td colspan="7" class="muted">None.</td>
                </tr>`
              : refused.map(
                  (b) =>
                    html`<tr>
                      <td><code>${b.deviceId}</code></td>
                      <td>${b.name ?? '—'}</td>
                      <td>${b.link}</td>
                      <td>${badge(b.reason, 'bad')}</td>
                      <td class="num">${b.count}</td>
                      <td>${time(b.firstAt)}</td>
                      <td>${time(b.lastAt)}</td>
                    </tr>`,
                )
          }
        </tbody>
      </table>`;
    return reply.type('text/html; charset=utf-8').send(ctx.page('Refused boards', '/console/boards', body));
  });

  app.get<{ Params: { id: string } }>('/console/devices/:id', { schema: { hide: true }, preHandler: guard }, async (req, reply) => {
    const id = req.params.id;
    const detail = await ctx.api('GET', `/devices/${encodeURIComponent(id)}?readings=30`);
    if (detail.status !== 200) {
      const msg = (detail.json as { message?: string } | null)?.message ?? `HTTP ${detail.status}`;
      return reply
        .status(detail.status)
        .type('text/html; charset=utf-8')
        .send(
          ctx.page(
            'Device',
            '/console',
            html`<h1>${id}</h1>
              <p class="error">${msg}</p>`,
          ),
        );
    }
    const d = detail.json as { device: Device; lastReadings: Reading[]; traffic: WindowPoint | null };
    const windows = await get<WindowPoint[]>(`/devices/${encodeURIComponent(id)}/traffic`);
    const flagged = windows.filter((w) => w.discrepancyStatus);
    const dev = d.device;
    const body = html`<h1>${dev.name ?? dev.deviceId} ${dev.name ? html`<span class="muted">${dev.deviceId}</span>` : ''}</h1>
      <div class="box">
        <dl class="kv">
          <dt>session</dt>
          <dd>${badge(dev.sessionState)}</dd>
          <dt>link</dt>
          <dd>${badge(dev.linkState)} ${dev.link ?? ''}</dd>
          <dt>firmware</dt>
          <dd>${dev.firmware ?? '—'}</dd>
          <dt>boot count</dt>
          <dd>${dev.bootCount ?? '—'}</dd>
          <dt>last seen</dt>
          <dd>${time(dev.lastSeenAt)}</dd>
          <dt>last seq</dt>
          <dd>${dev.lastSeq ?? '—'}</dd>
          <dt>received / committed</dt>
          <dd>${dev.received} / ${dev.committed}</dd>
          <dt>refused</dt>
          <dd>
            ${
              Object.keys(dev.rejected).length
                ? Object.entries(dev.rejected)
                    .map(([k, v]) => `${k} ${v}`)
                    .join(', ')
                : 'none'
            }
          </dd>
          <dt>board status</dt>
          <dd>${dev.lastStatus ? dev.lastStatus.text : '—'}</dd>
        </dl>
      </div>
      <h2>Readings <span class="muted">(live)</span></h2>
      <div id="validation" class="validation"></div>
      <table id="readings">
        <thead>
          <tr>
            <th class="num">seq</th>
            <th>device time</th>
            <th>values</th>
            <th class="num">battery mV</th>
            <th>more</th>
            <th>state</th>
            <th>tx</th>
            <th></th>
          </tr>
        </thead>
        <tbody data-refresh="/console/fragment/devices/${encodeURIComponent(id)}/readings" data-every="1000">
          ${readingRows(id, d.lastReadings)}
        </tbody>
      </table>
      <h2>Traffic profile <span class="muted">(${windows.length} windows, ${flagged.length} flagged)</span></h2>
      <div data-refresh="/console/fragment/devices/${encodeURIComponent(id)}/traffic" data-every="5000">
        ${raw(trafficChart(windows))}${flaggedList(flagged)}
      </div>`;
    return reply.type('text/html; charset=utf-8').send(ctx.page(dev.name ?? dev.deviceId, '/console', body));
  });
  app.get<{ Params: { id: string } }>(
    '/console/fragment/devices/:id/readings',
    { schema: { hide: true }, preHandler: guard },
    async (req, reply) => {
      const r = await ctx.api('GET', `/devices/${encodeURIComponent(req.params.id)}/readings?limit=30`);
      return reply.type('text/html; charset=utf-8').send(readingRows(req.params.id, r.status === 200 ? (r.json as Reading[]) : []).html);
    },
  );
  app.get<{ Params: { id: string } }>(
    '/console/fragment/devices/:id/traffic',
    { schema: { hide: true }, preHandler: guard },
    async (req, reply) => {
      const windows = await get<WindowPoint[]>(`/devices/${encodeURIComponent(req.params.id)}/traffic`);
      return reply
        .type('text/html; charset=utf-8')
        .send(trafficChart(windows) + flaggedList(windows.filter((w) => w.discrepancyStatus)).html);
    },
  );
  app.post<{ Params: { id: string; seq: string } }>(
    '/console/devices/:id/validate/:seq',
    { schema: { hide: true }, preHandler: guard },
    async (req, reply) => {
      const r = await ctx.api('POST', `/devices/${encodeURIComponent(req.params.id)}/validate`, { seq: Number(req.params.seq) });
      const j = r.json as { via?: string; results?: { verdict: string; genuine: boolean; message: string }[]; message?: string };
      const out =
        r.status !== 200
          ? html`<span class="error">${j.message ?? `HTTP ${r.status}`}</span>`
          : html`${(j.results ?? []).map(
              (x) =>
                html`<div class="box ${x.verdict === 'TRUE' && x.genuine ? 'good' : 'bad'}">
                  seq ${req.params.seq}: ${badge(x.verdict)} <span class="muted">${x.message} (via ${j.via ?? ''})</span>
                </div>`,
            )}`;
      return reply.type('text/html; charset=utf-8').send(out.html);
    },
  );
};

function flaggedList(flagged: WindowPoint[]): Raw {
  if (flagged.length === 0) return html``;
  return html`<h2>Flagged windows</h2>
    <table>
      <thead>
        <tr>
          <th class="num">window</th>
          <th>start</th>
          <th>flagged features (δ &gt; threshold)</th>
        </tr>
      </thead>
      <tbody>
        ${flagged
          .slice(-20)
          .reverse()
          .map(
            (w) =>
              html`<tr>
                <td class="num">${w.window}</td>
                <td>${time(w.windowStart)}</td>
                <td>${w.flagged.map((f) => `${f.feature} δ=${f.delta.toFixed(2)} > ${f.threshold}`).join(', ')}</td>
              </tr>`,
          )}
      </tbody>
    </table>`;
}

/**
 * The auditor's console: look up a reading (device + seq or device time) or upload data, and see
 * the verdict with its evidence — the ledger's record, transaction, block, inclusion proof, head,
 * consistency with a trusted head, and the independence level — with the reading's verdict
 * history; the whole history; the saved-head check; re-validation jobs with progress.
 */
import type { FastifyInstance } from 'fastify';
import { badge, channelText, html, short, time, type Raw } from './html.js';
import type { PageSet } from './plugin.js';

interface Verdict {
  verdict: string;
  genuine: boolean;
  deviceId: string;
  locator: string;
  dataHash: string;
  message: string;
  dbStatus?: string;
  independence?: string;
  evidence?: {
    record: Record<string, unknown> & { path?: string[] };
    txId: string;
    blockNumber: number;
    proofCheck: { ok: boolean | 'unchecked'; reason?: string };
    consistency?: { ok: boolean; reason?: string };
    head: { height: number; hash: string };
    proof: unknown;
  };
}
interface Stored {
  dataHash: string;
  seq: number;
  t: number;
  values: { batteryMv?: number; channels?: { id: number; scale: number; value: number }[]; [k: string]: unknown };
  status: string;
  outcome: string;
  outcomeReason: string;
  edgeId: string;
  receivedAt: number;
  txId: string | null;
  blockNumber: number | null;
}
interface HistoryEntry {
  verdict: string;
  genuine: boolean;
  message: string;
  headHeight: number | null;
  askedBy: string;
  at: number;
  locator: string;
  deviceId: string;
  dataHash: string;
}
interface Job {
  id: number;
  deviceId: string | null;
  fromT: number | null;
  toT: number | null;
  state: string;
  total: number;
  done: number;
  counts: Record<string, number>;
  error: string | null;
  createdAt: number;
}

const num = (v: unknown): number | undefined => (typeof v === 'string' && /^[0-9]+$/.test(v.trim()) ? Number(v.trim()) : undefined);
const timeOf = (v: unknown): number | undefined => {
  if (typeof v !== 'string' || v.trim() === '') return undefined;
  if (/^[0-9]+$/.test(v.trim())) return Number(v.trim());
  const ms = Date.parse(v);
  return Number.isNaN(ms) ? undefined : ms;
};

function historyTable(h: HistoryEntry[], showReading = false): Raw {
  if (h.length === 0) return html`<p class="muted">No verdict yet.</p>`;
  return html`<table class="history">
    <thead>
      <tr>
        <th>when</th>
        ${showReading ? html`<th>reading</th>` : ''}
        <th>verdict</th>
        <th>head</th>
        <th>asked by</th>
        <th>message</th>
      </tr>
    </thead>
    <tbody>
      ${h.map(
        (v) =>
          html`<tr>
            <td>${time(v.at)}</td>
            ${
              showReading
                ? html`<td>
                    <a
                      href="/console/lookup?deviceId=${encodeURIComponent(v.deviceId)}&amp;${v.locator.startsWith('seq:') ? 'seq' : 'time'}=${v.locator.slice(v.locator.indexOf(':') + 1)}"
                      >${v.deviceId} ${v.locator}</a
                    >
                  </td>`
                : ''
            }
            <td>${badge(v.verdict)}</td>
            <td class="num">${v.headHeight ?? '—'}</td>
            <td>${v.askedBy}</td>
            <td class="muted">${v.message}</td>
          </tr>`,
      )}
    </tbody>
  </table>`;
}

/** One verdict with its evidence (and the stored copy's values and ledger outcome, when known). */
export function verdictView(v: Verdict, stored?: Stored, history?: HistoryEntry[]): Raw {
  const good = v.verdict === 'TRUE' && v.genuine;
  const e = v.evidence;
  const rejected = stored?.outcome === 'rejected';
  return html`<div class="box ${good ? 'good' : 'bad'}" data-verdict="${v.verdict}" data-hash="${v.dataHash}">
    <div class="verdict ${good ? 'good' : 'bad'}">${v.verdict}${good ? ' — genuine' : ''}</div>
    ${rejected ? html`<p><span class="badge bad" data-testid="rejected">REJECTED by the ledger</span> ${stored?.outcomeReason}</p>` : ''}
    <p>${v.message}</p>
    <dl class="kv">
      <dt>reading</dt>
      <dd>${v.deviceId} ${v.locator}</dd>
      <dt>data hash</dt>
      <dd><code>${v.dataHash}</code></dd>
      ${
        stored
          ? html`<dt>values</dt>
              <dd class="values">
                ${channelText(stored.values.channels)}${stored.values.batteryMv !== undefined ? ` · battery ${stored.values.batteryMv} mV` : ''}${Object.entries(
                  stored.values,
                )
                  .filter(([k]) => !['channels', 'batteryMv', 'partialDigest'].includes(k))
                  .map(([k, x]) => ` · ${k} ${String(x)}`)
                  .join('')}
              </dd>
              <dt>device time</dt>
              <dd>${time(stored.t)}</dd>
              <dt>received by</dt>
              <dd>${stored.edgeId} at ${time(stored.receivedAt)}</dd>
              <dt>ledger outcome</dt>
              <dd>${badge(stored.outcome)} ${stored.outcomeReason}</dd>`
          : ''
      }
      <dt>database status</dt>
      <dd>${v.dbStatus ? badge(v.dbStatus) : html`<span class="muted">not stored in the provenance database</span>`}</dd>
    </dl>
    ${
      e
        ? html`<h2>Evidence</h2>
            <dl class="kv evidence">
              <dt>ledger record</dt>
              <dd>
                dataHash <code>${String(e.record['dataHash'])}</code><br />tag ${short(String(e.record['tag']))} · seq
                ${String(e.record['seq'])} · epoch ${String(e.record['epoch'])} · edge ${String(e.record['edgeId'])} · received
                ${time(Number(e.record['receivedAt']))}<br />path ${(e.record.path ?? []).join(' → ')}
              </dd>
              <dt>transaction</dt>
              <dd><code>${e.txId}</code></dd>
              <dt>block</dt>
              <dd data-testid="block">${e.blockNumber}</dd>
              <dt>inclusion proof</dt>
              <dd>
                ${e.proofCheck.ok === true ? badge('checked', 'good') : e.proofCheck.ok === false ? html`${badge('FAILED', 'bad')} ${e.proofCheck.reason}` : html`${badge('unchecked', 'warn')} ${e.proofCheck.reason}`}
              </dd>
              <dt>head</dt>
              <dd>height ${e.head.height} · <code>${e.head.hash}</code></dd>
              ${
                e.consistency
                  ? html`<dt>extends trusted head</dt>
                      <dd>${e.consistency.ok ? badge('yes', 'good') : html`${badge('NO', 'bad')} ${e.consistency.reason}`}</dd>`
                  : ''
              }
              <dt>independence</dt>
              <dd data-testid="independence">
                ${v.independence ?? 'ledger'}
                <span class="muted"
                  >— rests on the ledger's record and an inclusion proof up to the ledger's head; readings checkable without the ledger will
                  show a higher level here</span
                >
              </dd>
            </dl>
            <details>
              <summary>proof (JSON)</summary>
              <pre><code>${JSON.stringify(e.proof, null, 1)}</code></pre>
            </details>`
        : ''
    }
    ${
      history
        ? html`<h2>Verdict history of this copy</h2>
            ${historyTable(history)}`
        : ''
    }
  </div>`;
}

/** The auditor role's pages. */
export const auditorPages: PageSet = (app: FastifyInstance, ctx, guard) => {
  const send = (title: string, active: string, body: Raw) => ctx.page(title, active, body);

  const lookupForms = (q: { deviceId?: string; seq?: string; time?: string } = {}): Raw =>
    html`<div class="cards">
      <div class="box">
        <h2>Look up a stored reading</h2>
        <form class="grid" method="get" action="/console/lookup" id="lookup">
          <label for="deviceId">device</label><input id="deviceId" name="deviceId" value="${q.deviceId ?? ''}" required />
          <label for="seq">seq</label><input id="seq" name="seq" value="${q.seq ?? ''}" inputmode="numeric" placeholder="e.g. 42" />
          <label for="time">or device time</label
          ><input id="time" name="time" value="${q.time ?? ''}" placeholder="ms since 1970, or 2026-12-06T09:00:00Z" /> <span></span
          ><button type="submit">Validate</button>
        </form>
      </div>
      <div class="box">
        <h2>Check data you hold</h2>
        <form class="grid" method="post" action="/console/verify" id="upload">
          <label for="u-device">device</label><input id="u-device" name="deviceId" required /> <label for="u-seq">seq</label
          ><input id="u-seq" name="seq" inputmode="numeric" /> <label for="u-time">or device time</label><input id="u-time" name="time" />
          <label for="u-data">data</label
          ><textarea
            id="u-data"
            name="data"
            placeholder="canonical reading hex, a submission {canonical, tag}, or the reading JSON"
            required
          ></textarea>
          <label for="u-file">or a file</label><input id="u-file" type="file" data-into="#u-data" />
          <label for="u-tag">tag (optional)</label><input id="u-tag" name="tag" placeholder="64 hex digits" /> <span></span
          ><button type="submit">Verify</button>
        </form>
      </div>
    </div>`;

  app.get('/console', { schema: { hide: true }, preHandler: guard }, async (_req, reply) => {
    const stats = (await ctx.api('GET', '/stats')).json as {
      counts: Record<string, number>;
      devices: { deviceId: string; readings: number; lastSeq: number; lastT: number }[];
      follower: { lastBlock: number | null; lastError: string | null } | null;
    } | null;
    const body = html`<h1>Look up a reading</h1>
      ${lookupForms()}
      ${
        stats && stats.counts
          ? html`<h2>Provenance database</h2>
              <div class="cards">
                ${Object.entries(stats.counts).map(
                  ([k, n]) =>
                    html`<div class="card">
                      <div class="k">${k}</div>
                      <div class="v">${n}</div>
                    </div>`,
                )}
                <div class="card">
                  <div class="k">follower: last block</div>
                  <div class="v">${stats.follower?.lastBlock ?? '—'}</div>
                  ${stats.follower?.lastError ? html`<div class="error">${stats.follower.lastError}</div>` : ''}
                </div>
              </div>
              <table>
                <thead>
                  <tr>
                    <th>device</th>
                    <th class="num">readings</th>
                    <th class="num">last seq</th>
                    <th>last device time</th>
                    <th></th>
                  </tr>
                </thead>
                <tbody>
                  ${stats.devices.map(
                    (d) =>
                      html`<tr>
                        <td>${d.deviceId}</td>
                        <td class="num">${d.readings}</td>
                        <td class="num">${d.lastSeq}</td>
                        <td>${time(d.lastT)}</td>
                        <td>
                          <a href="/console/lookup?deviceId=${encodeURIComponent(d.deviceId)}&amp;seq=${d.lastSeq}">last reading</a> ·
                          <a href="/console/verdicts?deviceId=${encodeURIComponent(d.deviceId)}">verdicts</a>
                        </td>
                      </tr>`,
                  )}
                </tbody>
              </table>`
          : html`<p class="muted">This auditor runs without a provenance database: only data you upload can be checked.</p>`
      }`;
    return reply.type('text/html; charset=utf-8').send(send('Look up', '/console', body));
  });

  app.get<{ Querystring: { deviceId?: string; seq?: string; time?: string } }>(
    '/console/lookup',
    { schema: { hide: true }, preHandler: guard },
    async (req, reply) => {
      const q = req.query;
      const seq = num(q.seq);
      const t = seq === undefined ? timeOf(q.time) : undefined;
      let result: Raw;
      if (!q.deviceId || (seq === undefined && t === undefined))
        result = html`<p class="error">Give a device and a seq or a device time.</p>`;
      else {
        const r = await ctx.api('POST', '/validate', {
          deviceId: q.deviceId,
          ...(seq !== undefined ? { seq } : { timestamp: t }),
          askedBy: 'console',
        });
        if (r.status !== 200) result = html`<p class="error">${(r.json as { message?: string }).message ?? `HTTP ${r.status}`}</p>`;
        else {
          const verdicts = (r.json as { results: Verdict[] }).results;
          const parts: Raw[] = [];
          for (const v of verdicts) {
            const stored = seq !== undefined ? await ctx.api('GET', `/records/${encodeURIComponent(q.deviceId)}/${seq}`) : undefined;
            const copy = ((stored?.json as { stored?: Stored[] } | undefined)?.stored ?? []).find((s) => s.dataHash === v.dataHash);
            const history = (await ctx.api('GET', `/verdicts?dataHash=${v.dataHash}&limit=20`)).json as HistoryEntry[];
            parts.push(verdictView(v, copy, history));
          }
          result = html`<p class="muted">
              ${verdicts.length} stored cop${verdicts.length === 1 ? 'y' : 'ies'} of this reading, each checked against the ledger now.
            </p>
            ${parts}`;
        }
      }
      return reply.type('text/html; charset=utf-8').send(
        send(
          'Verdict',
          '/console',
          html`<h1>Verdict</h1>
            ${result}${lookupForms({ ...(q.deviceId ? { deviceId: q.deviceId } : {}), ...(q.seq ? { seq: q.seq } : {}), ...(q.time ? { time: q.time } : {}) })}`,
        ),
      );
    },
  );

  app.post<{ Body: Record<string, string> }>('/console/verify', { schema: { hide: true }, preHandler: guard }, async (req, reply) => {
    const b = req.body ?? {};
    const seq = num(b['seq']);
    const t = seq === undefined ? timeOf(b['time']) : undefined;
    const text = (b['data'] ?? '').trim();
    let data: unknown = text.replace(/\s+/g, '');
    if (text.startsWith('{')) {
      try {
        data = JSON.parse(text);
      } catch {
        data = text;
      }
    }
    let result: Raw;
    if (!b['deviceId'] || (seq === undefined && t === undefined))
      result = html`<p class="error">Give a device and a seq or a device time.</p>`;
    else {
      const r = await ctx.api('POST', '/verify', {
        deviceId: b['deviceId'],
        ...(seq !== undefined ? { seq } : { timestamp: t }),
        data,
        ...(b['tag'] && b['tag'].trim() !== '' ? { tag: b['tag'].trim() } : {}),
      });
      result =
        r.status === 200
          ? verdictView(
              r.json as Verdict,
              undefined,
              (await ctx.api('GET', `/verdicts?dataHash=${(r.json as Verdict).dataHash}&limit=20`)).json as HistoryEntry[],
            )
          : html`<p class="error">${(r.json as { message?: string }).message ?? `HTTP ${r.status}`}</p>`;
    }
    return reply.type('text/html; charset=utf-8').send(
      send(
        'Verdict',
        '/console',
        html`<h1>Verdict on the uploaded data</h1>
          ${result}${lookupForms()}`,
      ),
    );
  });

  app.get<{ Querystring: { deviceId?: string } }>(
    '/console/verdicts',
    { schema: { hide: true }, preHandler: guard },
    async (req, reply) => {
      const dev = req.query.deviceId;
      const r = await ctx.api('GET', `/verdicts?limit=200${dev ? `&deviceId=${encodeURIComponent(dev)}` : ''}`);
      const body = html`<h1>Verdict history${dev ? html` of ${dev}` : ''}</h1>
        <form method="get" action="/console/verdicts" class="grid">
          <label for="v-dev">device</label><input id="v-dev" name="deviceId" value="${dev ?? ''}" /><span></span
          ><button type="submit">Filter</button>
        </form>
        <br />
        ${r.status === 200 ? historyTable(r.json as HistoryEntry[], true) : html`<p class="error">${(r.json as { message?: string }).message ?? ''}</p>`}`;
      return reply.type('text/html; charset=utf-8').send(send('Verdict history', '/console/verdicts', body));
    },
  );

  const headPage = async (saved?: string, check?: Raw): Promise<string> => {
    const head = (await ctx.api('GET', '/head')).json as { height: number; hash: string };
    return send(
      'Saved head',
      '/console/head',
      html`<h1>Chain head</h1>
        <div class="box">
          <dl class="kv">
            <dt>height</dt>
            <dd>${head.height}</dd>
            <dt>hash</dt>
            <dd><code>${head.hash}</code></dd>
          </dl>
          <p class="muted">Save this JSON now; later, paste it below to check that the ledger's history up to it was not rewritten.</p>
          <pre><code id="current-head">${JSON.stringify(head)}</code></pre>
        </div>
        <div class="box">
          <h2>Check a head saved earlier</h2>
          <form method="post" action="/console/head" class="grid">
            <label for="saved">saved head</label
            ><textarea id="saved" name="saved" placeholder='{"height": 12, "hash": "…"}'>${saved ?? ''}</textarea><span></span
            ><button type="submit">Check</button>
          </form>
        </div>
        ${check ?? ''}`,
    );
  };
  app.get('/console/head', { schema: { hide: true }, preHandler: guard }, async (_req, reply) =>
    reply.type('text/html; charset=utf-8').send(await headPage()),
  );
  app.post<{ Body: Record<string, string> }>('/console/head', { schema: { hide: true }, preHandler: guard }, async (req, reply) => {
    const text = (req.body?.['saved'] ?? '').trim();
    let saved: unknown;
    try {
      saved = JSON.parse(text);
    } catch {
      const m = /^([0-9]+):([0-9a-fA-F]{64})$/.exec(text);
      saved = m ? { height: Number(m[1]), hash: m[2] } : text;
    }
    const r = await ctx.api('POST', '/consistency', { savedHead: saved });
    const j = r.json as { extends?: boolean; reason?: string; method?: string; current?: { height: number }; message?: string };
    const check =
      r.status !== 200
        ? html`<p class="error">${j.message ?? `HTTP ${r.status}`}</p>`
        : html`<div class="box ${j.extends ? 'good' : 'bad'}" data-extends="${String(j.extends)}">
            <div class="verdict ${j.extends ? 'good' : 'bad'}">
              ${j.extends ? 'EXTENDS the saved head' : 'does NOT extend the saved head'}
            </div>
            <p>${j.method} · current height ${j.current?.height ?? ''}${j.reason ? ` · ${j.reason}` : ''}</p>
          </div>`;
    return reply.type('text/html; charset=utf-8').send(await headPage(text, check));
  });

  const jobRows = (jobs: Job[]): Raw =>
    jobs.length === 0
      ? html`<tr>
          <td colspan="6" class="muted">No job yet.</td>
        </tr>`
      : html`${jobs.map((j) => {
          const pct = j.total === 0 ? 100 : Math.round((100 * j.done) / j.total);
          return html`<tr data-job="${j.id}">
            <td class="num">${j.id}</td>
            <td>
              ${j.deviceId ?? 'all devices'}${j.fromT !== null || j.toT !== null ? html`<div class="muted">${j.fromT !== null ? time(j.fromT) : '…'} – ${j.toT !== null ? time(j.toT) : '…'}</div>` : ''}
            </td>
            <td>${badge(j.state)}</td>
            <td>
              <span class="progress"><div style="width:${pct}%"></div></span> ${j.done} / ${j.total}
            </td>
            <td>${Object.entries(j.counts).map(([k, n]) => html`${badge(k)} ${n} `)}</td>
            <td>${time(j.createdAt)}${j.error ? html`<div class="error">${j.error}</div>` : ''}</td>
          </tr>`;
        })}`;
  app.get('/console/jobs', { schema: { hide: true }, preHandler: guard }, async (_req, reply) => {
    const r = await ctx.api('GET', '/jobs');
    const body = html`<h1>Re-validation jobs</h1>
      <div class="box">
        <form method="post" action="/console/jobs" class="grid" id="job">
          <label for="j-dev">device</label><input id="j-dev" name="deviceId" placeholder="all devices" />
          <label for="j-from">from (device time)</label><input id="j-from" name="from" placeholder="ms or ISO time" />
          <label for="j-to">to</label><input id="j-to" name="to" placeholder="ms or ISO time" /> <span></span
          ><button type="submit">Re-validate</button>
        </form>
      </div>
      ${
        r.status === 200
          ? html`<table>
              <thead>
                <tr>
                  <th class="num">job</th>
                  <th>range</th>
                  <th>state</th>
                  <th>progress</th>
                  <th>verdicts</th>
                  <th>started</th>
                </tr>
              </thead>
              <tbody data-refresh="/console/fragment/jobs" data-every="1000">
                ${jobRows(r.json as Job[])}
              </tbody>
            </table>`
          : html`<p class="error">${(r.json as { message?: string }).message ?? ''}</p>`
      }`;
    return reply.type('text/html; charset=utf-8').send(send('Re-validation', '/console/jobs', body));
  });
  app.get('/console/fragment/jobs', { schema: { hide: true }, preHandler: guard }, async (_req, reply) => {
    const r = await ctx.api('GET', '/jobs');
    return reply.type('text/html; charset=utf-8').send(jobRows(r.status === 200 ? (r.json as Job[]) : []).html);
  });
  app.post<{ Body: Record<string, string> }>('/console/jobs', { schema: { hide: true }, preHandler: guard }, async (req, reply) => {
    const b = req.body ?? {};
    const from = timeOf(b['from']);
    const to = timeOf(b['to']);
    const r = await ctx.api('POST', '/jobs', {
      ...(b['deviceId'] && b['deviceId'].trim() !== '' ? { deviceId: b['deviceId'].trim() } : {}),
      ...(from !== undefined ? { from } : {}),
      ...(to !== undefined ? { to } : {}),
    });
    if (r.status !== 202)
      return reply
        .status(r.status)
        .type('text/html; charset=utf-8')
        .send(send('Re-validation', '/console/jobs', html`<p class="error">${(r.json as { message?: string }).message ?? ''}</p>`));
    return reply.redirect('/console/jobs', 303);
  });
};

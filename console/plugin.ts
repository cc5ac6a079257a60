/**
 * The web console, served by the edge box and by the auditor from the same code: the role decides
 * which pages exist. It sits behind the same bearer tokens as the API, through a login page (a
 * token in a form, then an HttpOnly SameSite=Strict session cookie), and it is a client of its own
 * server's API: each page asks the API through `app.inject` with a server-side token and renders
 * the answer to HTML, so the console shows exactly what the API says and holds no state of its own.
 * Live parts re-fetch fragments (assets.ts). `/` redirects here.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { CSS, JS } from './assets.js';
import { auditorPages } from './auditor-pages.js';
import { edgePages } from './edge-pages.js';
import { html, page, type Layout, type Raw } from './html.js';

/** Console settings. */
export interface ConsoleOptions {
  readonly role: 'edge' | 'auditor';
  /** Shown in the header: the edgeId, or 'auditor'. */
  readonly service: string;
  /** The tokens that log in (the API's own). The first is used to call the API server-side. */
  readonly tokens: readonly string[];
  /** Idle session lifetime (default 12 h). */
  readonly sessionMs?: number;
}

/** What a page handler gets. */
export interface ConsoleContext {
  /** Calls this server's API as the console. */
  api(method: 'GET' | 'POST', url: string, body?: unknown): Promise<{ status: number; json: unknown }>;
  /** Renders a full page. */
  page(title: string, active: string, body: Raw): string;
}

/** The routes one role adds. */
export type PageSet = (
  app: FastifyInstance,
  ctx: ConsoleContext,
  guard: (req: FastifyRequest, reply: FastifyReply) => Promise<unknown>,
) => void;

const COOKIE = 'provenant_console';
const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

function cookieOf(req: FastifyRequest): string | undefined {
  const header = req.headers.cookie ?? '';
  for (const part of header.split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === COOKIE) return v.join('=');
  }
  return undefined;
}

/** Adds the console to an API server (call before `ready()`). */
export function registerConsole(app: FastifyInstance, options: ConsoleOptions): void {
  const tokens = options.tokens.map(digest);
  const internal = options.tokens[0];
  if (internal === undefined) throw new TypeError('the console needs the API token');
  const ttl = options.sessionMs ?? 12 * 3_600_000;
  const sessions = new Map<string, number>();
  const nav =
    options.role === 'edge'
      ? [
          { href: '/console', label: 'Devices' },
          { href: '/console/boards', label: 'Refused boards' },
        ]
      : [
          { href: '/console', label: 'Look up' },
          { href: '/console/verdicts', label: 'Verdict history' },
          { href: '/console/head', label: 'Saved head' },
          { href: '/console/jobs', label: 'Re-validation' },
        ];
  const layout = (title: string, active: string, loggedIn: boolean): Layout => ({
    title,
    role: options.role,
    service: options.service,
    nav,
    active,
    loggedIn,
  });

  // Form posts (login, lookups) without a dependency: URL-encoded bodies become plain objects.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(String(body))));
  });

  const valid = (req: FastifyRequest): boolean => {
    const id = cookieOf(req);
    if (id === undefined) return false;
    const exp = sessions.get(id);
    if (exp === undefined || exp < Date.now()) {
      sessions.delete(id);
      return false;
    }
    sessions.set(id, Date.now() + ttl);
    return true;
  };
  const guard = async (req: FastifyRequest, reply: FastifyReply): Promise<unknown> => {
    if (req.method === 'POST') {
      // Cross-site form posts never carry the SameSite=Strict cookie; refuse a foreign Origin outright too.
      const origin = req.headers.origin;
      if (origin !== undefined && origin !== 'null' && new URL(origin).host !== req.headers.host)
        return reply.status(403).type('text/plain').send('cross-origin request refused');
    }
    if (valid(req)) return undefined;
    if (req.headers['x-provenant-console'] === '1') return reply.status(401).type('text/plain').send('log in again');
    return reply.redirect(`/console/login?next=${encodeURIComponent(req.url)}`, 303);
  };

  const ctx: ConsoleContext = {
    async api(method, url, body) {
      const res = await app.inject({
        method,
        url,
        headers: { authorization: `Bearer ${internal}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
      });
      let json: unknown = null;
      try {
        json = res.body === '' ? null : JSON.parse(res.body);
      } catch {
        json = { message: res.body };
      }
      return { status: res.statusCode, json };
    },
    page: (title, active, body) => page(layout(title, active, true), body),
  };

  app.get('/', { schema: { hide: true } }, async (_req, reply) => reply.redirect('/console', 302));
  app.get('/console/assets/console.css', { schema: { hide: true } }, async (_req, reply) =>
    reply.type('text/css; charset=utf-8').header('cache-control', 'max-age=3600').send(CSS),
  );
  app.get('/console/assets/console.js', { schema: { hide: true } }, async (_req, reply) =>
    reply.type('text/javascript; charset=utf-8').header('cache-control', 'max-age=3600').send(JS),
  );

  const loginPage = (error: string | undefined, next: string): string =>
    page(
      layout('Log in', '', false),
      html`<div class="login box">
        <h1>Log in</h1>
        <p class="muted">
          Paste the
          ${options.role === 'edge' ? "edge API token (api.token / api.tokenFile in the edge's config)" : "auditor's bearer token (--token-file)"}.
        </p>
        ${error ? html`<p class="error">${error}</p>` : ''}
        <form method="post" action="/console/login">
          <input type="hidden" name="next" value="${next}" />
          <p><input type="password" name="token" autocomplete="current-password" placeholder="token" autofocus required /></p>
          <p><button type="submit">Log in</button></p>
        </form>
      </div>`,
    );
  const safeNext = (n: unknown): string =>
    typeof n === 'string' && /^\/console(\/[^\s]*)?$/.test(n) && !n.startsWith('//') ? n : '/console';

  app.get<{ Querystring: { next?: string } }>('/console/login', { schema: { hide: true } }, async (req, reply) =>
    reply.type('text/html; charset=utf-8').send(loginPage(undefined, safeNext(req.query.next))),
  );
  app.post<{ Body: { token?: string; next?: string } }>('/console/login', { schema: { hide: true } }, async (req, reply) => {
    const presented = typeof req.body?.token === 'string' ? digest(req.body.token.trim()) : null;
    if (presented === null || !tokens.some((t) => timingSafeEqual(t, presented))) {
      req.log.warn({ ip: req.ip }, 'console login refused');
      return reply
        .status(401)
        .type('text/html; charset=utf-8')
        .send(loginPage('That token is not valid here.', safeNext(req.body?.next)));
    }
    for (const [id, exp] of sessions) if (exp < Date.now()) sessions.delete(id);
    const id = randomBytes(32).toString('base64url');
    sessions.set(id, Date.now() + ttl);
    return reply
      .header('set-cookie', `${COOKIE}=${id}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${Math.floor(ttl / 1000)}`)
      .redirect(safeNext(req.body?.next), 303);
  });
  app.post('/console/logout', { schema: { hide: true } }, async (req, reply) => {
    const id = cookieOf(req);
    if (id !== undefined) sessions.delete(id);
    return reply.header('set-cookie', `${COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`).redirect('/console/login', 303);
  });

  (options.role === 'edge' ? edgePages : auditorPages)(app, ctx, guard);
}

/** Is this path the console's (it does its own authentication)? */
export function isConsolePath(path: string): boolean {
  return path === '/' || path === '/console' || path.startsWith('/console/');
}

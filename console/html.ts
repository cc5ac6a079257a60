/**
 * Server-rendered HTML for the console: a tagged template that escapes every interpolated value
 * unless it is already markup (`raw`), and the page layout. No client framework: pages are
 * rendered here, and a small script (assets.ts) refreshes fragments and converts times to the
 * browser's local time.
 */

/** Markup that is already safe. */
export class Raw {
  constructor(readonly html: string) {}
  toString(): string {
    return this.html;
  }
}

/** Marks trusted markup. */
export const raw = (s: string): Raw => new Raw(s);

/** Escapes text for HTML content and attribute values. */
export function esc(value: unknown): string {
  return String(value ?? '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

type Part = Raw | string | number | boolean | null | undefined | readonly Part[];

function render(p: Part): string {
  if (p === null || p === undefined || p === false) return '';
  if (p instanceof Raw) return p.html;
  if (Array.isArray(p)) return p.map(render).join('');
  return esc(p);
}

/** `html\`<p>${text}</p>\`` escapes `text`; arrays are concatenated; Raw passes through. */
export function html(strings: TemplateStringsArray, ...values: Part[]): Raw {
  let out = strings[0] ?? '';
  values.forEach((v, i) => {
    out += render(v) + (strings[i + 1] ?? '');
  });
  return new Raw(out);
}

/** A time the browser shows in its local time zone (ISO text until the script runs). */
export function time(ms: number | null | undefined): Raw {
  if (ms === null || ms === undefined) return raw('<span class="muted">—</span>');
  return html`<time data-ms="${ms}">${new Date(ms).toISOString()}</time>`;
}

/** A short hex (first 12 characters) with the whole value as its title. */
export function short(hex: string | null | undefined): Raw {
  if (!hex) return raw('<span class="muted">—</span>');
  return html`<code title="${hex}">${hex.slice(0, 12)}…</code>`;
}

/** A status badge: green for good words, red for bad ones, grey otherwise. */
export function badge(text: string, kind?: 'good' | 'bad' | 'warn' | 'info'): Raw {
  const k =
    kind ??
    (/^(TRUE|proven|committed|ok|open|ready|done|yes|GENUINE)$/i.test(text)
      ? 'good'
      : /^(FALSE|UNPROVEN|NOT_FOUND|SIGNATURE_MISMATCH|rejected|not_proven|unrecorded|signature_mismatch|failed|refused|down|flagged|degraded|NO)$/i.test(
            text,
          )
        ? 'bad'
        : /^(pending|reconnecting|queued|running|interrupted|unknown)$/i.test(text)
          ? 'warn'
          : 'info');
  return html`<span class="badge ${k}">${text}</span>`;
}

/** A reading's channel values as text: value × 10^scale, e.g. "ch0 21.50". */
export function channelText(channels: readonly { id: number; scale: number; value: number }[] | undefined): string {
  if (!channels || channels.length === 0) return '—';
  return channels
    .map((c) => {
      const v = c.scale < 0 ? (c.value / 10 ** -c.scale).toFixed(-c.scale) : String(c.value * 10 ** c.scale);
      return `ch${c.id} ${v}`;
    })
    .join(' · ');
}

/** What the layout needs. */
export interface Layout {
  readonly title: string;
  readonly role: 'edge' | 'auditor';
  /** The service's name in the header (edgeId, or "auditor"). */
  readonly service: string;
  readonly nav: readonly { readonly href: string; readonly label: string }[];
  readonly active?: string;
  readonly loggedIn: boolean;
}

/** The page around `body`. */
export function page(l: Layout, body: Raw): string {
  return `<!doctype html>${
    html`<html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${l.title} · Provenant ${l.role}</title>
        <link rel="stylesheet" href="/console/assets/console.css" />
        <script src="/console/assets/console.js" defer></script>
      </head>
      <body data-role="${l.role}">
        <header>
          <a class="brand" href="/console">Provenant <span>${l.role} · ${l.service}</span></a>
          ${
            l.loggedIn
              ? html`<nav>
                  ${l.nav.map((n) => html`<a href="${n.href}" class="${n.href === l.active ? 'active' : ''}">${n.label}</a>`)}
                  <a href="/docs">API</a>
                  <form method="post" action="/console/logout" class="inline"><button type="submit" class="link">Log out</button></form>
                </nav>`
              : ''
          }
        </header>
        <main>${body}</main>
      </body>
    </html>`.html
  }`;
}

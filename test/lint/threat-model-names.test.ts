/**
 * docs/crypto.md backs every "cannot" with a named test: the threat-model table (actor × cannot)
 * and the threats table name test files and, in italics, test titles. This keeps the names true:
 * every named file exists, and every italic title (the text before an ellipsis) is a test or
 * describe title in the file named before it in the same cell (the threats table's default file
 * is test/crypto/outsourced.test.ts, as its introduction says).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const doc = readFileSync(join(root, 'docs', 'crypto.md'), 'utf8');

/** The table rows of a section (from its heading to the next heading of the same or a higher level). */
function tableRows(heading: string): string[] {
  const at = doc.indexOf(heading);
  expect(at, `docs/crypto.md has "${heading}"`).toBeGreaterThanOrEqual(0);
  const level = /^#+/.exec(heading)?.[0].length ?? 2;
  const rest = doc.slice(at + heading.length);
  const next = new RegExp(`^#{1,${level}} `, 'm').exec(rest);
  return (next ? rest.slice(0, next.index) : rest).split('\n').filter((l) => l.startsWith('|') && !/^\|[-| ]+\|$/.test(l));
}

/** Source text with \uXXXX escapes decoded and typographic quotes made plain, for comparing titles. */
const plain = (s: string): string =>
  s.replace(/\\u([0-9a-fA-F]{4})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))).replace(/[\u2018\u2019]/g, "'");

interface Named {
  readonly file: string;
  readonly title?: string;
}

/** (file, title) pairs of the rows: each title with the last file named before it in its cell. */
function namesIn(rows: readonly string[], defaultFile?: string): Named[] {
  const out: Named[] = [];
  for (const row of rows) {
    for (const cell of row.split(' | ')) {
      let file = defaultFile;
      for (const m of cell.matchAll(/`(test\/[^`\s]+?\.ts)`|(?<![*\w])\*([^*]+?)\*(?![*\w])/g)) {
        if (m[1] !== undefined) {
          file = m[1];
          out.push({ file });
        } else if (m[2] !== undefined && file !== undefined) out.push({ file, title: m[2] });
      }
    }
  }
  return out;
}

const named = [
  ...namesIn(tableRows('## Threat model: what each actor can and cannot do')),
  ...namesIn(tableRows('## Threats and the tests that cover them'), 'test/crypto/outsourced.test.ts'),
];

describe('docs/crypto.md: every test the threat model names exists', () => {
  it('names some fifty tests (the parse found the tables)', () => {
    expect(named.filter((n) => n.title !== undefined).length).toBeGreaterThan(40);
  });

  it('every named test file exists', () => {
    const missing = [...new Set(named.map((n) => n.file))].filter((f) => !existsSync(join(root, f)));
    expect(missing).toEqual([]);
  });

  it('every italic test title is in the file named before it', () => {
    const absent = named
      .filter((n): n is Required<Named> => n.title !== undefined && existsSync(join(root, n.file)))
      .filter((n) => {
        const wanted = plain(n.title.split('…')[0] as string).trim();
        return !plain(readFileSync(join(root, n.file), 'utf8')).includes(wanted);
      })
      .map((n) => `${n.file}: ${n.title}`);
    expect(absent).toEqual([]);
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeHexStrict, decodeSubmission } from '../../ledger-bridge/contracts/logic/submission.js';
import { parseReadingSubmission } from '../../shared/records.js';

const HEX_RE = /^(?:[0-9a-fA-F]{2})+$/;

/** What the contract did before the fast path: the shared parser, then a hex decode. */
function reference(input: unknown, index: number): { sub: unknown; hex: string } | { error: string } {
  try {
    const sub = parseReadingSubmission(input, `readings[${index}]`);
    return { sub, hex: Buffer.from(sub.canonical, 'hex').toString('hex') };
  } catch (err) {
    return { error: `${(err as Error).constructor.name}: ${(err as Error).message}` };
  }
}

function fastPath(input: unknown, index: number): { sub: unknown; hex: string } | { error: string } {
  try {
    const { sub, bytes } = decodeSubmission(input, index);
    return { sub, hex: bytes.toString('hex') };
  } catch (err) {
    return { error: `${(err as Error).constructor.name}: ${(err as Error).message}` };
  }
}

const good = {
  canonical: '01AbCd00ff',
  tag: 'aB'.repeat(32),
  edgeId: 'edge-1',
  receivedAt: 1_700_000_000_000,
  path: ['dev-1', 'edge-1'],
};

describe('decodeHexStrict', () => {
  it('accepts exactly what the hex regex accepts, with the same bytes', () => {
    const hexish = fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEFgz \u0130\u0131\u0141\u0100x'.split('')), maxLength: 12 });
    fc.assert(
      fc.property(fc.oneof(hexish, fc.string({ maxLength: 8 }), fc.string({ unit: 'binary', maxLength: 8 })), (s) => {
        const out = decodeHexStrict(s);
        expect(out !== undefined).toBe(HEX_RE.test(s));
        if (out !== undefined) expect(out.equals(Buffer.from(s, 'hex'))).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });

  it('refuses non-ASCII units whose low byte is a hex digit (Node decodes only the low byte)', () => {
    // U+0130 and U+0131: low bytes 0x30 '0' and 0x31 '1'.
    expect(decodeHexStrict('\u0130\u0131')).toBeUndefined();
    expect(decodeHexStrict('ab\u0141\u0130')).toBeUndefined();
    expect(decodeHexStrict('0g')).toBeUndefined();
    expect(decodeHexStrict('abc')).toBeUndefined();
    expect(decodeHexStrict('')).toBeUndefined();
    expect(decodeHexStrict('0A')?.[0]).toBe(10);
  });
});

describe('decodeSubmission (hot-path parse)', () => {
  it('gives the shared parser’s result for a valid submission, hex lower-cased', () => {
    const out = fastPath(good, 3);
    expect(out).toEqual(reference(good, 3));
    expect(out).toMatchObject({ sub: { canonical: '01abcd00ff', tag: 'ab'.repeat(32) }, hex: '01abcd00ff' });
  });

  it('gives the shared parser’s exact error for each kind of bad input', () => {
    const cases: unknown[] = [
      null,
      [],
      'x',
      { ...good, canonical: '01abc' },
      { ...good, canonical: '0g' },
      { ...good, canonical: '' },
      { ...good, canonical: '\u0130\u0131' },
      { ...good, canonical: 12 },
      { ...good, tag: 'ab'.repeat(31) },
      { ...good, tag: 'zz'.repeat(32) },
      { ...good, tag: '\u0130'.repeat(64) },
      { ...good, edgeId: '' },
      { ...good, edgeId: 'a b' },
      { ...good, receivedAt: -1 },
      { ...good, receivedAt: 1.5 },
      { ...good, receivedAt: '1' },
      { ...good, path: [] },
      { ...good, path: ['ok', 7] },
      { ...good, path: Array(9).fill('hop') },
    ];
    for (const input of cases) {
      const ref = reference(input, 7);
      expect('error' in ref, JSON.stringify(input)).toBe(true);
      expect(fastPath(input, 7)).toEqual(ref);
    }
  });

  it('agrees with the shared parser on arbitrary mutations of a valid submission', () => {
    const field = fc.constantFrom('canonical', 'tag', 'edgeId', 'receivedAt', 'path');
    const value = fc.oneof(
      fc.string({ maxLength: 70 }),
      fc.integer(),
      fc.double(),
      fc.constant(null),
      fc.array(fc.string({ maxLength: 4 }), { maxLength: 9 }),
      fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEF'.split('')), maxLength: 70 }),
    );
    fc.assert(
      fc.property(field, value, (k, v) => {
        const input = { ...good, [k]: v };
        expect(fastPath(input, 1)).toEqual(reference(input, 1));
      }),
      { numRuns: 2000 },
    );
  });
});

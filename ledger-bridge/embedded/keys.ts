/**
 * Composite keys in Fabric's exact format: U+0000, objectType, U+0000, then each attribute
 * followed by U+0000. Keeping the format identical means a contract's keys, and the order of
 * its range scans, are the same on the embedded ledger and on a Fabric peer.
 */

/** Namespace prefix of composite keys (simple keys may not start with it). */
export const COMPOSITE_NS = '\u0000';
/** Separator between composite key parts. */
export const MIN_RUNE = '\u0000';
/** Upper bound appended to a partial composite key for a prefix scan. */
export const MAX_RUNE = '\u{10ffff}';
/** Fabric substitutes this for an empty start key of a range query. */
export const EMPTY_KEY_SUBSTITUTE = '\u0001';

function checkPart(part: unknown, what: string): asserts part is string {
  if (typeof part !== 'string' || part.length === 0) throw new Error(`${what}: object type or attribute not a non-zero length string`);
  if (part.includes(MIN_RUNE) || part.includes(MAX_RUNE)) throw new Error(`${what}: must not contain U+0000 or U+10FFFF`);
}

/** Fabric's createCompositeKey. */
export function createCompositeKey(objectType: string, attributes: readonly string[]): string {
  checkPart(objectType, 'createCompositeKey');
  if (!Array.isArray(attributes)) throw new TypeError('createCompositeKey: attributes must be an array of strings');
  let key = COMPOSITE_NS + objectType + MIN_RUNE;
  for (const a of attributes) {
    checkPart(a, 'createCompositeKey');
    key += a + MIN_RUNE;
  }
  return key;
}

/** Fabric's splitCompositeKey; a simple key gives { objectType: null, attributes: [] }. */
export function splitCompositeKey(key: string): { objectType: string | null; attributes: string[] } {
  if (typeof key === 'string' && key.length > 1 && key.charAt(0) === COMPOSITE_NS) {
    const parts = key.substring(1).split(MIN_RUNE);
    const objectType = parts[0] ?? '';
    parts.pop();
    return { objectType, attributes: parts.length > 1 ? parts.slice(1) : [] };
  }
  return { objectType: null, attributes: [] };
}

/** Throws like Fabric when a simple key would collide with the composite namespace. */
export function checkSimpleKey(key: string, what: string): void {
  if (key && key.charAt(0) === COMPOSITE_NS)
    throw new Error(`${what}: first character of the key [${key}] contains a null character which is not allowed`);
}

/** Throws unless `key` is a non-empty string (Fabric rejects empty keys on writes and reads). */
export function checkKey(key: unknown, what: string): asserts key is string {
  if (typeof key !== 'string' || key.length === 0) throw new Error(`${what}: key must be a non-empty string`);
}

/**
 * Byte-wise (UTF-8) comparison, the order Fabric and SQLite's BINARY collation use. JS string
 * comparison orders by UTF-16 units, which differs for characters above U+FFFF.
 */
export function compareKeys(a: string, b: string): number {
  // Below U+D800 a UTF-16 unit is one character and UTF-8 keeps code-point order, so the first
  // differing unit decides, without encoding (this runs for every in-flight key of every range
  // read: encoding both strings each time was ~7 % of the ledger thread while the auditor read).
  // Surrogates and U+E000..U+FFFF, where unit order and byte order part (and a lone surrogate
  // encodes as U+FFFD), take the exact path.
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x >= 0xd800 || y >= 0xd800) return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
    if (x !== y) return x < y ? -1 : 1;
  }
  // One is a prefix of the other in characters below U+D800: the longer has more bytes.
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

/** True when start ≤ key < end in byte order; an empty end means unbounded. */
export function inRange(key: string, start: string, end: string): boolean {
  return compareKeys(key, start) >= 0 && (end === '' || compareKeys(key, end) < 0);
}

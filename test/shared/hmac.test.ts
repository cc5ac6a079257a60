import { createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { hmacSha256 } from '../../shared/crypto/hmac.js';
import { sha256 } from '../../shared/crypto/sha256.js';
import { fromHex, toHex } from '../../shared/encoding/hex.js';
import { equalBytes } from '../../shared/encoding/bytes.js';

// RFC 4231 test cases 1, 2, 6 (key longer than the block), 7.
const rfc4231 = [
  { key: '0b'.repeat(20), data: '4869205468657265', mac: 'b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7' },
  {
    key: '4a656665',
    data: '7768617420646f2079612077616e7420666f72206e6f7468696e673f',
    mac: '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
  },
  {
    key: 'aa'.repeat(131),
    data: toHex(new TextEncoder().encode('Test Using Larger Than Block-Size Key - Hash Key First')),
    mac: '60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54',
  },
];

describe('hmacSha256 over a pluggable sha256', () => {
  for (const [i, v] of rfc4231.entries()) {
    it(`RFC 4231 case ${i}`, () => expect(toHex(hmacSha256(sha256, fromHex(v.key), fromHex(v.data)))).toBe(v.mac));
  }
  it('agrees with node:crypto on random keys and messages', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), fc.uint8Array({ maxLength: 300 }), (key, msg) => {
        const ours = hmacSha256(sha256, key, msg);
        expect(toHex(ours)).toBe(createHmac('sha256', key).update(msg).digest('hex'));
      }),
    );
  });
  it('calls sha256 exactly twice for a 32-byte key', () => {
    let calls = 0;
    const counting = (d: Uint8Array): Uint8Array => {
      calls++;
      return sha256(d);
    };
    hmacSha256(counting, randomBytes(32), randomBytes(100));
    expect(calls).toBe(2);
  });
  it('rejects non-bytes', () => expect(() => hmacSha256(sha256, 'k' as unknown as Uint8Array, new Uint8Array())).toThrow(TypeError));
});

describe('hex and bytes helpers', () => {
  it('round-trips', () =>
    fc.assert(
      fc.property(fc.uint8Array(), (b) => {
        expect(fromHex(toHex(b))).toEqual(b);
      }),
    ));
  it('rejects odd length and bad characters', () => {
    expect(() => fromHex('abc')).toThrow(/odd length/);
    expect(() => fromHex('zz')).toThrow(/invalid hex/);
  });
  it('equalBytes', () => {
    expect(equalBytes(fromHex('0102'), fromHex('0102'))).toBe(true);
    expect(equalBytes(fromHex('0102'), fromHex('0103'))).toBe(false);
    expect(equalBytes(fromHex('0102'), fromHex('01'))).toBe(false);
  });
});

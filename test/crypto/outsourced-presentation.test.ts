import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodePresentationHeader, encodePresentationHeader, partialDigest } from '../../shared/crypto/presentation.js';
import { sha256 } from '../../shared/crypto/sha256.js';
import { toHex } from '../../shared/encoding/hex.js';

const id = fc.stringMatching(/^[\x21-\x7e]{1,64}$/);

describe('presentation header ph', () => {
  it('round-trips every valid field set (property)', () => {
    fc.assert(
      fc.property(fc.nat({ max: 0xffffffff }), id, id, fc.string({ minLength: 1, maxLength: 200 }), (epoch, edgeId, deviceId, policyId) => {
        const ph = encodePresentationHeader({ epoch, edgeId, deviceId, policyId });
        expect(decodePresentationHeader(ph)).toEqual({ epoch, edgeId, deviceId, policyId });
      }),
    );
  });

  it('is injective where separators would not be: moving a character between fields changes the bytes', () => {
    const a = encodePresentationHeader({ epoch: 1, edgeId: 'edge-1', deviceId: 'd', policyId: 'p@0' });
    const b = encodePresentationHeader({ epoch: 1, edgeId: 'edge-', deviceId: '1d', policyId: 'p@0' });
    expect(toHex(a)).not.toBe(toHex(b));
  });

  it('encodes exactly the documented layout', () => {
    const ph = encodePresentationHeader({ epoch: 0x01020304, edgeId: 'e', deviceId: 'dv', policyId: 'p' });
    expect(toHex(ph)).toBe('5056504801' + '01020304' + '000165' + '00026476' + '000170');
  });

  it.each([
    ['epoch not a u32', { epoch: 2 ** 32, edgeId: 'e', deviceId: 'd', policyId: 'p' }, RangeError],
    ['negative epoch', { epoch: -1, edgeId: 'e', deviceId: 'd', policyId: 'p' }, RangeError],
    ['edgeId with a space', { epoch: 1, edgeId: 'e 1', deviceId: 'd', policyId: 'p' }, RangeError],
    ['empty deviceId', { epoch: 1, edgeId: 'e', deviceId: '', policyId: 'p' }, RangeError],
    ['deviceId not a string', { epoch: 1, edgeId: 'e', deviceId: 7, policyId: 'p' }, TypeError],
  ])('refuses %s', (_name, fields, type) => {
    expect(() => encodePresentationHeader(fields as never)).toThrow(type);
  });

  it('decodes strictly: truncated, trailing, wrong magic or version are RangeErrors', () => {
    const ph = encodePresentationHeader({ epoch: 9, edgeId: 'edge', deviceId: 'dev', policyId: 'pol' });
    expect(() => decodePresentationHeader(ph.subarray(0, ph.length - 1))).toThrow(RangeError);
    expect(() => decodePresentationHeader(new Uint8Array([...ph, 0]))).toThrow(/trailing/);
    const badMagic = ph.slice();
    badMagic[0] = 0;
    expect(() => decodePresentationHeader(badMagic)).toThrow(/magic/);
    const badVersion = ph.slice();
    badVersion[4] = 2;
    expect(() => decodePresentationHeader(badVersion)).toThrow(/version/);
  });

  it('partialDigest is SHA-256 of proof then ph', () => {
    const proof = new Uint8Array([1, 2, 3]);
    const ph = new Uint8Array([4, 5]);
    expect(toHex(partialDigest(sha256, proof, ph))).toBe(toHex(sha256(new Uint8Array([1, 2, 3, 4, 5]))));
  });
});

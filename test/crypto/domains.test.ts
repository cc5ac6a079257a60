/**
 * Device keys and MAC domains (shared/crypto/domains.ts): the subkeys are HKDF-Expand of K_IoT
 * under distinct labels, every MAC's input starts with its own label, and none of the labels is a
 * prefix of another, so a MAC of one kind is never one of another even under one key. Vectors for
 * all of it, checked on Node and in the firmware pipeline: test/firmware/vectors.test.ts.
 */
import { createHmac, hkdfSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  challengeResponse,
  deriveSubkeys,
  DOMAIN_CHALLENGE,
  DOMAIN_MAINT,
  DOMAIN_READING,
  ledgerKeys,
  maintTag,
  readingTag,
  SUBKEY_CHALLENGE,
  SUBKEY_MAINT,
  SUBKEY_TAG,
} from '../../shared/crypto/domains.js';
import { sha256 } from '../../shared/crypto/sha256.js';

const key = fc.uint8Array({ minLength: 32, maxLength: 32 });

describe('subkeys of K_IoT', () => {
  it('are HKDF-Expand(K_IoT, label, 32) as node:crypto computes it (HKDF with the extract step made the identity)', () => {
    fc.assert(
      fc.property(key, (k) => {
        const s = deriveSubkeys(sha256, k);
        for (const [info, got] of [
          [SUBKEY_TAG, s.kTag],
          [SUBKEY_CHALLENGE, s.kChal],
          [SUBKEY_MAINT, s.kMaint],
        ] as const) {
          expect(Buffer.from(got).toString('hex')).toBe(
            createHmac('sha256', k)
              .update(info)
              .update(Buffer.from([1]))
              .digest('hex'),
          );
        }
      }),
      { numRuns: 50 },
    );
    // Node's own HKDF: hkdf(IKM, salt, info) = Expand(PRK = HMAC(salt, IKM), info). With that PRK
    // in the role of K_IoT, our derivation must give node's output for every label.
    const ikm = Buffer.alloc(32, 1);
    const salt = Buffer.alloc(32, 2);
    const prk = createHmac('sha256', salt).update(ikm).digest();
    const s = deriveSubkeys(sha256, prk);
    for (const [info, got] of [
      [SUBKEY_TAG, s.kTag],
      [SUBKEY_CHALLENGE, s.kChal],
      [SUBKEY_MAINT, s.kMaint],
    ] as const) {
      expect(Buffer.from(got).equals(Buffer.from(hkdfSync('sha256', ikm, salt, info, 32)))).toBe(true);
    }
  });
  it('are distinct, and the ledger gets K_tag and K_chal only', () => {
    fc.assert(
      fc.property(key, (k) => {
        const s = deriveSubkeys(sha256, k);
        const hex = [k, s.kTag, s.kChal, s.kMaint].map((b) => Buffer.from(b).toString('hex'));
        expect(new Set(hex).size).toBe(4);
        const l = ledgerKeys(sha256, k);
        expect(Object.keys(l).sort()).toEqual(['kChal', 'kTag']);
        expect(Buffer.from(l.kTag).equals(Buffer.from(s.kTag))).toBe(true);
        expect(Buffer.from(l.kChal).equals(Buffer.from(s.kChal))).toBe(true);
      }),
      { numRuns: 50 },
    );
  });
});

describe('MAC domains', () => {
  it('no label is a prefix of another (so label ‖ message never reads as another label ‖ message)', () => {
    const labels = [DOMAIN_READING, DOMAIN_CHALLENGE, DOMAIN_MAINT, SUBKEY_TAG, SUBKEY_CHALLENGE, SUBKEY_MAINT];
    expect(new Set(labels).size).toBe(labels.length);
    for (const a of labels) for (const b of labels) if (a !== b) expect(b.startsWith(a)).toBe(false);
  });
  it('under one and the same key, a reading tag, a challenge response and a MAINT tag of the same bytes differ', () => {
    fc.assert(
      fc.property(key, fc.uint8Array({ minLength: 32, maxLength: 32 }), (k, bytes) => {
        const macs = [readingTag(sha256, k, bytes), challengeResponse(sha256, k, bytes), maintTag(sha256, k, 'd', 1, 7)];
        expect(new Set(macs.map((m) => Buffer.from(m).toString('hex'))).size).toBe(3);
      }),
      { numRuns: 50 },
    );
  });
});

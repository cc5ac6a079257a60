import { describe, expect, it } from 'vitest';
import { checkDevice, checkSeq, checkUnseen, REASONS } from '../../shared/crypto/verdict.js';

describe('ledger-state checks (pure, used by the contract)', () => {
  it('checkDevice: active passes, revoked and unknown devices are rejected', () => {
    expect(checkDevice('d1', 'active')).toEqual({ ok: true });
    expect(checkDevice('d1', 'revoked')).toMatchObject({ ok: false, reason: REASONS.REVOKED });
    expect(checkDevice('d1', undefined)).toMatchObject({ ok: false, reason: REASONS.UNKNOWN_DEVICE });
    expect(checkDevice('d1', 'paused' as never)).toMatchObject({ ok: false, reason: REASONS.MALFORMED });
  });

  it('checkSeq: seq must advance past the high-water mark', () => {
    expect(checkSeq('d1', undefined, 0)).toEqual({ ok: true });
    expect(checkSeq('d1', 5, 6)).toEqual({ ok: true });
    const replay = checkSeq('d1', 5, 5);
    expect(replay).toMatchObject({ ok: false, reason: REASONS.REPLAY });
    expect(!replay.ok && replay.message).toMatch(/d1.*seq 5/);
    expect(checkSeq('d1', 5, 4)).toMatchObject({ ok: false, reason: REASONS.REPLAY });
    expect(checkSeq('d1', undefined, 2 ** 32)).toMatchObject({ ok: false, reason: REASONS.MALFORMED });
    expect(checkSeq('d1', undefined, 1.5)).toMatchObject({ ok: false, reason: REASONS.MALFORMED });
  });

  it('checkUnseen: a (deviceId, seq) already recorded is a replay', () => {
    expect(checkUnseen('d1', false, 7)).toEqual({ ok: true });
    expect(checkUnseen('d1', true, 7)).toMatchObject({ ok: false, reason: REASONS.REPLAY });
    expect(checkUnseen('d1', false, -1)).toMatchObject({ ok: false, reason: REASONS.MALFORMED });
  });
});

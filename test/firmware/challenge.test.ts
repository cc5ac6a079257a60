/**
 * The built bundle in a simulated board: Device Provenance challenges (Algorithm 2) answered with
 * shared/crypto's deviceChallengeResponse, at most one per second, bad ones counted; and the
 * HELLO backoff after the edge refuses the device (NACK UNKNOWN_DEVICE), doubling from 1 s to 60 s.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ensureFirmwareBuilt } from '../../firmware/build.js';
import { deviceChallengeResponse } from '../../shared/crypto/outsourced.js';
import { sha256 } from '../../shared/crypto/sha256.js';
import { encodeFrame } from '../../shared/wire/frame.js';
import { MSG_CHALLENGE, STATUS_RX_ERRORS } from '../../shared/wire/messages.js';
import { encodeMessage } from '../../shared/wire/union.js';
import { rig, type Rig } from './rig.js';

beforeAll(async () => {
  await ensureFirmwareBuilt();
});

let r: Rig | undefined;
afterEach(async () => {
  await r?.close();
  r = undefined;
});

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('challenge', () => {
  it('answers a CHALLENGE with the challenge and HMAC(K_IoT, domain ‖ challenge), while sampling', async () => {
    r = await rig('mock');
    await r.edge.waitFor(() => r!.edge.of('READING').length >= 1, 10_000, 'a reading');
    for (let i = 0; i < 3; i++) {
      // At most one challenge is answered per board second: let one pass between them.
      const t = r.b.board.nowMs();
      await r.edge.waitFor(() => r!.b.board.nowMs() > t + 1500, 10_000, '1.5 board seconds');
      const challenge = new Uint8Array(randomBytes(32));
      const before = r.edge.of('RESPONSE').length;
      r.edge.send({ kind: 'CHALLENGE', challenge });
      await r.edge.waitFor(() => r!.edge.of('RESPONSE').length > before, 10_000, 'RESPONSE');
      const answer = r.edge.of('RESPONSE')[before]!;
      expect(hex(answer.challenge)).toBe(hex(challenge));
      expect(hex(answer.response)).toBe(hex(deviceChallengeResponse(sha256, r.key, challenge)));
      expect(hex(answer.response)).not.toBe(hex(deviceChallengeResponse(sha256, new Uint8Array(32), challenge)));
    }
    const n = r.edge.of('READING').length;
    await r.edge.waitFor(() => r!.edge.of('READING').length > n + 2, 10_000, 'sampling goes on');
    expect(r.edge.of('READING').every((m) => m.tagValid)).toBe(true);
    expect(r.b.board.stats.uncaught).toEqual([]);
  });

  it('answers at most one of a burst of challenges (rate limit), the next one again later', async () => {
    r = await rig('mock');
    await r.edge.waitFor(() => r!.edge.of('READING').length >= 1, 10_000, 'a reading');
    const burst = Array.from({ length: 5 }, () => new Uint8Array(randomBytes(32)));
    // One write: the board handles all five in one 'data' event, with no tick in between.
    r.edge.sendRaw(Buffer.concat(burst.map((challenge) => encodeMessage({ kind: 'CHALLENGE', challenge }))));
    await r.edge.waitFor(() => r!.edge.of('RESPONSE').length >= 1, 10_000, 'RESPONSE');
    // Let a few board seconds pass (the clock runs 20× faster): the rest of the burst stays unanswered.
    const t = r.b.board.nowMs();
    await r.edge.waitFor(() => r!.b.board.nowMs() > t + 3000, 10_000, '3 board seconds');
    expect(r.edge.of('RESPONSE').map((m) => hex(m.challenge))).toEqual([hex(burst[0]!)]);
    const later = new Uint8Array(randomBytes(32));
    r.edge.send({ kind: 'CHALLENGE', challenge: later });
    await r.edge.waitFor(() => r!.edge.of('RESPONSE').length >= 2, 10_000, 'second RESPONSE');
    expect(hex(r.edge.of('RESPONSE')[1]!.response)).toBe(hex(deviceChallengeResponse(sha256, r.key, later)));
  });

  it('a CHALLENGE of the wrong length is counted as a receive error and not answered', async () => {
    r = await rig('mock');
    await r.edge.waitFor(() => r!.edge.of('READING').length >= 1, 10_000, 'a reading');
    r.edge.sendRaw(encodeFrame(MSG_CHALLENGE, new Uint8Array(31)));
    r.edge.sendRaw(encodeFrame(MSG_CHALLENGE, new Uint8Array(33)));
    await r.edge.waitFor(() => r!.edge.of('STATUS').some((s) => s.code === STATUS_RX_ERRORS && s.value >= 2), 10_000, 'RX_ERRORS 2');
    expect(r.edge.of('RESPONSE')).toHaveLength(0);
    const n = r.edge.of('READING').length;
    await r.edge.waitFor(() => r!.edge.of('READING').length > n, 10_000, 'sampling goes on');
  });
});

describe('HELLO backoff after NACK UNKNOWN_DEVICE', () => {
  it('waits 1 s, then doubles up to 60 s between refused HELLOs; a PARTIAL ends the backoff', async () => {
    // 50× clock: 60 board seconds take 1.2 s.
    r = await rig('mock', { clockSpeedup: 50, edge: { refuseHello: true } });
    // The boot's HELLO went out before the edge double listened: it may have been lost (then the
    // board waited its 5 s HELLO_MS for the next) or delivered late beside the next one. Boot
    // again with the double listening, and time the HELLOs of that boot.
    const sent = (): number[] => r!.b.board.stats.sentAtMs['HELLO'] ?? [];
    const before = sent().length;
    r.b.reboot();
    await r.edge.waitFor(() => sent().length >= before + 9, 30_000, '9 refused HELLOs after the reboot');
    // When the board sent each HELLO, by its own clock: the edge double's receive stamps are late
    // by whatever delayed delivery (two HELLOs 1 board second apart, 20 ms here, once arrived
    // 50 board ms apart in a CI run).
    const at = sent().slice(before);
    const gaps = at.slice(1).map((t, i) => t - at[i]!);
    // Expected 1, 2, 4, 8, 16, 32, 60, 60 s. Never early (that is the property that protects the
    // edge); late by up to a 1 s tick plus the host's timer and NACK delivery jitter, which the 50×
    // clock multiplies (a 100 ms stall on a loaded CI worker is 5 board seconds), hence 50 % + 3 s.
    // The bounds still refuse a wrong schedule: quadrupling fails gap 3 (16 s > 9 s), no cap fails
    // gap 8 (128 s > 93 s).
    const want = [1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000];
    gaps.slice(0, want.length).forEach((g, i) => {
      expect(g, `gap ${i + 1}`).toBeGreaterThanOrEqual(want[i]! - 100);
      expect(g, `gap ${i + 1}`).toBeLessThanOrEqual(want[i]! * 1.5 + 3000);
    });
    expect(r.edge.of('READING')).toHaveLength(0); // never accepted, never sampled
    // The edge learns the device: the next HELLO (at most 60 s later) gets its PARTIAL and sampling starts.
    r.edge.refuseHello = false;
    await r.edge.waitFor(() => r!.edge.of('READING').length >= 2, 30_000, 'readings once accepted');
    expect(r.edge.of('READING').every((m) => m.tagValid)).toBe(true);
    expect(r.b.board.stats.uncaught).toEqual([]);
  });
});

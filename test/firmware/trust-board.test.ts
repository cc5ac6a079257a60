/**
 * Issue 11, board side, attacks 3 and 6, through the real parts: the built LINUX bundle in the
 * simulated board (V8 stand-in for a board), an edge double that plays the compromised edge, and
 * the four contracts on the embedded ledger (a real SQLite file).
 *
 *   attack 3  an unauthenticated PARTIAL a year back (or ahead) must not move the board's clock:
 *             firmware/src/clock.ts; the ledger refuses t ahead of the commit time (CLOCK_AHEAD)
 *   attack 6  the ledger holds K_tag and K_chal, not K_IoT: nothing it holds makes a MAINT tag the
 *             firmware accepts; only the owner's K_maint (from K_IoT) unlocks the board
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureFirmwareBuilt } from '../../firmware/build.js';
import { CONTRACTS } from '../../ledger-bridge/client.js';
import { contracts } from '../../ledger-bridge/contracts/index.js';
import { EmbeddedLedger, EmbeddedLedgerClient } from '../../ledger-bridge/embedded/index.js';
import { ready } from '../../shared/crypto/bbs.js';
import { DOMAIN_CHALLENGE, DOMAIN_MAINT, DOMAIN_READING, maintBody, maintTag, subkey, SUBKEY_MAINT } from '../../shared/crypto/domains.js';
import { hmacLabeled, hmacSha256 } from '../../shared/crypto/hmac.js';
import { ledgerKeys } from '../../shared/crypto/domains.js';
import { enrollDevice, setup, type Enrollment, type Issuer } from '../../shared/crypto/outsourced.js';
import { sha256 } from '../../shared/crypto/sha256.js';
import { fromHex } from '../../shared/encoding/hex.js';
import { toSubmission } from '../../shared/records.js';
import { MAINT_UNLOCK, STATUS_MAINT_REJECTED, STATUS_UNLOCKED } from '../../shared/wire/messages.js';
import { attrs, EDGE_ID, partialFor, POLICY } from '../contracts/fixture.js';
import { PeerReaderContract } from './fixtures/peer-reader-contract.js';
import { rig, type Rig } from './rig.js';

const YEAR = 365 * 86_400_000;
const DAY = 86_400_000;

let dir: string;
let ledger: EmbeddedLedger;
let aa: EmbeddedLedgerClient;
let edge: EmbeddedLedgerClient;
let peer: EmbeddedLedgerClient;
let issuer: Issuer;

beforeAll(async () => {
  await ensureFirmwareBuilt();
  await ready();
  dir = mkdtempSync(join(tmpdir(), 'prov-board-trust-'));
  // A ledger whose endorsing peer also runs chaincode of its own (PeerReader): what an operator of
  // a peer in the device owner's collection can do with the deposits it holds.
  ledger = await EmbeddedLedger.open({ path: join(dir, 'ledger.db'), contracts: [...contracts, PeerReaderContract], blockTimeoutMs: 1 });
  aa = new EmbeddedLedgerClient(ledger, 'aa');
  edge = new EmbeddedLedgerClient(ledger, 'edge-1');
  peer = new EmbeddedLedgerClient(ledger, 'auditor');
  issuer = setup({ keyMaterial: new Uint8Array(32).fill(11) });
  await aa.submit({
    contract: CONTRACTS.deviceRegistration,
    fn: 'configure',
    args: [JSON.stringify({ issuerPk: Buffer.from(issuer.pk).toString('hex'), schema: issuer.schema, policies: [POLICY] })],
  });
  // The edge registry (issue 11): the authority binds the edge-1 identity to EDGE_ID before it records.
  const me = JSON.parse(
    new TextDecoder().decode(await edge.evaluate({ contract: CONTRACTS.deviceRegistration, fn: 'whoami', args: [] })),
  ) as { mspId: string; id: string };
  await aa.submit({
    contract: CONTRACTS.deviceRegistration,
    fn: 'registerEdge',
    args: [JSON.stringify({ edgeId: EDGE_ID, mspId: me.mspId, id: me.id })],
  });
}, 120_000);

afterAll(async () => {
  await ledger?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function enroll(deviceId: string): Promise<Enrollment> {
  const e = enrollDevice(issuer, attrs(deviceId));
  await aa.submit({
    contract: CONTRACTS.deviceRegistration,
    fn: 'register',
    args: [JSON.stringify({ version: 1, ...e.registration, gatewayId: EDGE_ID })],
    transient: { ...ledgerKeys(sha256, e.device.kIoT) },
  });
  return e;
}

/** The readings the board sent (first copy of each seq), in seq order. */
function readings(r: Rig): { seq: number; t: number; bootCount?: number; uptimeMs?: number }[] {
  const bySeq = new Map<number, { seq: number; t: number; bootCount?: number; uptimeMs?: number }>();
  for (const m of r.edge.of('READING')) if (!bySeq.has(m.reading.seq)) bySeq.set(m.reading.seq, m.reading);
  return [...bySeq.values()].sort((a, b) => a.seq - b.seq);
}

async function moreReadings(r: Rig, n: number): Promise<void> {
  const want = readings(r).length + n;
  await r.edge.waitFor(() => readings(r).length >= want, 30_000, `${n} more readings`);
}

/** Readings' t never decreases in seq. */
function expectMonotonic(rs: { t: number }[]): void {
  for (let i = 1; i < rs.length; i++) expect((rs[i] as { t: number }).t).toBeGreaterThanOrEqual((rs[i - 1] as { t: number }).t);
}

describe('attack 3: a PARTIAL cannot move the board clock (built firmware, simulated board)', () => {
  it('one PARTIAL a year back mid-session moves nothing: genuine readings keep their date', async () => {
    const r = await rig('mock', { clockSpeedup: 1 });
    try {
      await moreReadings(r, 3);
      const before = readings(r);
      const lastBefore = (before[before.length - 1] as { t: number }).t;
      r.edge.send({
        kind: 'PARTIAL',
        epoch: 7,
        partialDigest: new Uint8Array(32).fill(9),
        intervalMs: 100,
        maxPerMinute: 0,
        edgeTimeMs: Math.floor(r.b.board.nowMs()) - YEAR,
      });
      await moreReadings(r, 5);
      const all = readings(r);
      expectMonotonic(all);
      const after = all.slice(before.length);
      for (const x of after) {
        expect(x.t).toBeGreaterThanOrEqual(lastBefore);
        // Within a second of the board's own clock: at most 1 % of the uptime since the last sync moved.
        expect(Math.abs(x.t - r.b.board.nowMs())).toBeLessThan(2_000);
      }
      expect(r.edge.of('READING').every((m) => m.tagValid)).toBe(true);
      expect(r.b.stats.uncaught).toEqual([]);
    } finally {
      await r.close();
    }
  });

  it('a PARTIAL a year ahead moves the clock by at most 1 % of the time since the last sync', async () => {
    const r = await rig('mock', { clockSpeedup: 1 });
    try {
      await moreReadings(r, 3);
      r.edge.send({
        kind: 'PARTIAL',
        epoch: 7,
        partialDigest: new Uint8Array(32).fill(9),
        intervalMs: 100,
        maxPerMinute: 0,
        edgeTimeMs: Math.floor(r.b.board.nowMs()) + YEAR,
      });
      // A flood of them does not add up: the allowance grows with uptime, not with PARTIALs.
      for (let i = 0; i < 20; i++)
        r.edge.send({
          kind: 'PARTIAL',
          epoch: 7,
          partialDigest: new Uint8Array(32).fill(9),
          intervalMs: 100,
          maxPerMinute: 0,
          edgeTimeMs: Math.floor(r.b.board.nowMs()) + YEAR,
        });
      await moreReadings(r, 5);
      const last = readings(r).slice(-1)[0] as { t: number; uptimeMs?: number };
      expect(last.t - r.b.board.nowMs()).toBeLessThan(2_000 + (last.uptimeMs as number) / 100);
      expectMonotonic(readings(r));
    } finally {
      await r.close();
    }
  });

  it('t never decreases across quick reboots: a boot leases its bound in flash before handing out any t past it', async () => {
    // Found by the paper's evaluation (docs/evaluation.md): boards power-cycled every few seconds
    // were refused CLOCK_BACKWARDS by the ledger — a boot started at the same stored floor + 60 s
    // as the boot before it, which had handed out later t without writing any.
    const r = await rig('mock', { clockSpeedup: 40 });
    try {
      // Boot 1 runs 90 s (its floor written at its first t and 60 s later); boot 2 starts 60 s
      // past that and runs 50 s, handing out t beyond its floor but under the next step; boot 3
      // must not start below them.
      const runFor = [90_000, 50_000, 10_000];
      for (const [k, ms] of runFor.entries()) {
        const boot = k + 1;
        await r.edge.waitFor(() => readings(r).some((x) => x.bootCount === boot), 30_000, `a reading of boot ${boot}`);
        const until = r.b.board.nowMs() + ms;
        await r.edge.waitFor(
          () => r.b.board.nowMs() >= until && readings(r).some((x) => x.bootCount === boot && x.t >= until - 5_000),
          30_000,
          `boot ${boot} at +${ms / 1000} s`,
        );
        if (boot < runFor.length) r.b.reboot();
      }
      const all = readings(r);
      expect(new Set(all.map((x) => x.bootCount))).toEqual(new Set([1, 2, 3]));
      expectMonotonic(all);
    } finally {
      await r.close();
    }
  });

  it('a crash loop neither goes back in time nor drifts ahead: boots seconds apart hold t at the floor', async () => {
    const r = await rig('mock', { clockSpeedup: 40 });
    try {
      // Six boots, each ~3 board seconds: every boot's floor is ahead of true time. Before, each
      // boot started 60 s past the last written t (backwards after the second) or, with its first
      // t written, 60 s further ahead per boot (CLOCK_AHEAD after five).
      for (let boot = 1; boot <= 6; boot++) {
        await r.edge.waitFor(() => readings(r).some((x) => x.bootCount === boot), 30_000, `a reading of boot ${boot}`);
        const until = r.b.board.nowMs() + 3_000;
        await r.edge.waitFor(() => r.b.board.nowMs() >= until, 30_000, `boot ${boot} at +3 s`);
        if (boot < 6) r.b.reboot();
      }
      const all = readings(r);
      expect(new Set(all.map((x) => x.bootCount))).toEqual(new Set([1, 2, 3, 4, 5, 6]));
      expectMonotonic(all);
      // Ahead of the board's true time by at most the one floor step, however many boots.
      const ahead = Math.max(...all.map((x) => x.t - r.b.board.nowMs()));
      expect(ahead).toBeLessThanOrEqual(61_000);
    } finally {
      await r.close();
    }
  });

  it('after a reboot without an RTC, a PARTIAL a year back is held at the floor (the flash time, then the last t stored)', async () => {
    const now = Date.now();
    const key = new Uint8Array(32).fill(5);
    // startTimeMs 1: the board's own clock wakes at 1970, like a board without a battery-backed RTC.
    const r = await rig('mock', {
      clockSpeedup: 1,
      startTimeMs: 1,
      key,
      provisioning: { deviceId: 'sim-no-rtc', key: Buffer.from(key).toString('base64'), intervalMs: 100, notBefore: now - 3_600_000 },
      edge: { partial: { epoch: 7, partialDigest: new Uint8Array(32).fill(9), intervalMs: 100, maxPerMinute: 0, edgeTimeMs: now } },
    });
    try {
      await moreReadings(r, 3);
      const first = readings(r);
      expect(first[0]).toMatchObject({ bootCount: 1 });
      expect(Math.abs((first[0] as { t: number }).t - now)).toBeLessThan(5_000);
      // The compromised edge now answers every HELLO with last year's time; the board reboots.
      (r.edge as unknown as { opts: { partial: { edgeTimeMs: number } } }).opts.partial.edgeTimeMs = now - YEAR;
      const n = first.length;
      r.b.reboot();
      await r.edge.waitFor(() => readings(r).some((x) => x.bootCount === 2), 30_000, 'a reading of the second boot');
      await moreReadings(r, 3);
      const all = readings(r);
      const second = all.slice(n).filter((x) => x.bootCount === 2);
      expect(second.length).toBeGreaterThanOrEqual(3);
      const lastBefore = (first[first.length - 1] as { t: number }).t;
      for (const x of second) {
        expect(x.t).toBeGreaterThanOrEqual(lastBefore); // never below any t of the earlier boot
        expect(x.t).toBeLessThan(Date.now() + 61_000); // and at most the floor step (60 s) ahead
      }
      // Uptime restarted with the boot and the edge cannot set it.
      expect((second[0] as { uptimeMs: number }).uptimeMs).toBeLessThan(
        (first[first.length - 1] as { uptimeMs: number }).uptimeMs + 60_000,
      );
      expectMonotonic(all);
    } finally {
      await r.close();
    }
  });

  it('the ledger records genuine readings with boot count and uptime, and refuses a board pushed a day ahead (CLOCK_AHEAD), keeping the rest of the batch', async () => {
    const good = await enroll('board-good');
    const ahead = await enroll('board-ahead');
    const epoch = 100;
    const pGood = partialFor(good.credential, epoch);
    const pAhead = partialFor(ahead.credential, epoch);
    const partialOf = (p: { partialDigest: string }) => ({
      epoch,
      partialDigest: fromHex(p.partialDigest),
      intervalMs: 100,
      maxPerMinute: 0,
    });
    const rGood = await rig('mock', {
      clockSpeedup: 1,
      key: good.device.kIoT,
      provisioning: { deviceId: 'board-good', key: Buffer.from(good.device.kIoT).toString('base64'), intervalMs: 100 },
      edge: { partial: partialOf(pGood) },
    });
    // No RTC, and its first PARTIAL after boot comes from an edge a day ahead: the one step an unset clock takes.
    const rAhead = await rig('mock', {
      clockSpeedup: 1,
      startTimeMs: 1,
      key: ahead.device.kIoT,
      provisioning: { deviceId: 'board-ahead', key: Buffer.from(ahead.device.kIoT).toString('base64'), intervalMs: 100 },
      edge: { partial: { ...partialOf(pAhead), edgeTimeMs: Date.now() + DAY } },
    });
    try {
      await Promise.all([moreReadings(rGood, 3), moreReadings(rAhead, 2)]);
      const subs = (r: Rig) =>
        r.edge
          .of('READING')
          .slice(0, 3)
          .map((m) =>
            toSubmission({ reading: m.reading, tag: m.tag }, EDGE_ID, Date.now(), [`device:${m.reading.deviceId}`, `edge:${EDGE_ID}`]),
          );
      const goods = subs(rGood);
      const aheads = subs(rAhead).slice(0, 2);
      const res = await edge.submit({
        contract: CONTRACTS.dataProvenance,
        fn: 'recordBatch',
        args: [JSON.stringify({ version: 1, readings: [goods[0], aheads[0], goods[1], aheads[1], goods[2]], partials: [pGood, pAhead] })],
      });
      const out = JSON.parse(Buffer.from(res.result).toString()) as { accepted: number; rejected: { index: number; reason: string }[] };
      expect(out.accepted).toBe(3);
      expect(out.rejected.map((x) => [x.index, x.reason])).toEqual([
        [1, 'CLOCK_AHEAD'],
        [3, 'CLOCK_AHEAD'],
      ]);
      const rec = JSON.parse(
        Buffer.from(
          await peer.evaluate({
            contract: CONTRACTS.dataProvenance,
            fn: 'get',
            args: ['board-good', String(rGood.edge.of('READING')[0]!.reading.seq)],
          }),
        ).toString(),
      ) as Record<string, unknown>;
      expect(rec).toMatchObject({ bootCount: 1, uptimeMs: expect.any(Number), deviceId: 'board-good' });
    } finally {
      await rGood.close();
      await rAhead.close();
    }
  });
});

describe('attack 6: a ledger-held key cannot unlock a board', () => {
  it('MAINT tags under K_tag and K_chal (read out of the ledger by a peer) are refused; the owner K_maint unlocks', async () => {
    const e = await enroll('board-maint');
    // What a ledger peer holds for the device: its deposit, read by chaincode the peer runs.
    const deposit = fromHex(
      Buffer.from(await ledger.evaluate('auditor', { contract: 'PeerReader', fn: 'deposit', args: ['board-maint'] })).toString(),
    );
    const held = [deposit.subarray(0, 32), deposit.subarray(32, 64)].filter((k) => k.length === 32);
    expect(deposit.length).toBe(64);
    expect(held.some((k) => Buffer.from(k).equals(Buffer.from(e.device.kIoT)))).toBe(false);
    const r = await rig('mock', {
      clockSpeedup: 1,
      key: e.device.kIoT,
      provisioning: { deviceId: 'board-maint', key: Buffer.from(e.device.kIoT).toString('base64'), intervalMs: 100, production: true },
    });
    try {
      await moreReadings(r, 1);
      let counter = 1000;
      const statuses = () => r.edge.of('STATUS');
      const body = (c: number): Uint8Array => new Uint8Array(maintBody('board-maint', MAINT_UNLOCK, c));
      // Every way to build a MAINT tag from a held key: the MAINT label, the other labels, the old
      // v1 layout ("PVMAINT" ‖ body, no label) and K_maint derived from the held key as if it were K_IoT.
      const makers: ((k: Uint8Array, c: number) => Uint8Array)[] = [
        (k, c) => maintTag(sha256, k, 'board-maint', MAINT_UNLOCK, c),
        (k, c) => hmacLabeled(sha256, k, DOMAIN_MAINT, body(c)),
        (k, c) => hmacLabeled(sha256, k, DOMAIN_READING, body(c)),
        (k, c) => hmacLabeled(sha256, k, DOMAIN_CHALLENGE, body(c)),
        (k, c) => hmacSha256(sha256, k, new Uint8Array([0x50, 0x56, 0x4d, 0x41, 0x49, 0x4e, 0x54, ...body(c)])),
        (k, c) => maintTag(sha256, subkey(sha256, k, SUBKEY_MAINT), 'board-maint', MAINT_UNLOCK, c),
      ];
      for (const k of held) {
        for (const make of makers) {
          const c = ++counter;
          const seen = statuses().length;
          r.edge.send({ kind: 'MAINT', command: MAINT_UNLOCK, counter: c, tag: make(k, c) });
          await r.edge.waitFor(() => statuses().length > seen, 10_000, 'a STATUS after MAINT');
          expect(
            statuses()
              .slice(seen)
              .map((s) => [s.code, s.value]),
          ).toContainEqual([STATUS_MAINT_REJECTED, c]);
        }
      }
      expect(statuses().some((s) => s.code === STATUS_UNLOCKED)).toBe(false);
      // Still locked and sampling.
      await moreReadings(r, 2);
      // The owner's device file holds K_IoT, which yields K_maint: that unlocks.
      const kMaint = subkey(sha256, e.device.kIoT, SUBKEY_MAINT);
      r.edge.send({
        kind: 'MAINT',
        command: MAINT_UNLOCK,
        counter: ++counter,
        tag: maintTag(sha256, kMaint, 'board-maint', MAINT_UNLOCK, counter),
      });
      await r.edge.waitFor(() => statuses().some((s) => s.code === STATUS_UNLOCKED && s.value === counter), 10_000, 'STATUS UNLOCKED');
    } finally {
      await r.close();
    }
  });
});

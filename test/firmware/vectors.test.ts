/**
 * The vectors file (shared/encoding/vectors/readings.json) gives the same canonical bytes, subkeys
 * and tags from the board's code as from Node: (1) every vector through the firmware build
 * pipeline's ES5 output in the board shim (readings v2, subkeys, challenge responses, MAINT
 * tags), (2) the real LINUX bundle, frozen clock, producing the one vector its sensor layout can
 * express, and (3) Node's own encodeReading/complete, v1 vectors included (old records).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';
import { bundleEntry, ensureFirmwareBuilt } from '../../firmware/build.js';
import { checkBundle } from '../../firmware/check.js';
import { startSimBoard } from '../../hardware/sim/index.js';
import { completeBytes } from '../../shared/crypto/complete.js';
import { challengeResponse, deriveSubkeys, maintTag } from '../../shared/crypto/domains.js';
import { sha256 } from '../../shared/crypto/sha256.js';
import { fromHex, toHex } from '../../shared/encoding/hex.js';
import { encodeReading } from '../../shared/encoding/reading.js';
import { EdgeDouble } from '../support/edge-double.js';
import { runInBoardShim } from '../support/espruino-script.js';

const here = dirname(fileURLToPath(import.meta.url));
interface Vector {
  reading: {
    deviceId: string;
    seq: number;
    t: number;
    epoch: number;
    partialDigest: string;
    batteryMv: number;
    channels: { id: number; scale: number; value: number }[];
    bootCount?: number;
    uptimeMs?: number;
  };
  canonical: string;
  tag: string;
}
const file = JSON.parse(readFileSync(join(here, '../../shared/encoding/vectors/readings.json'), 'utf8')) as {
  key: string;
  subkeys: { kTag: string; kChal: string; kMaint: string };
  vectors: Vector[];
  v1: Vector[];
  challenges: { challenge: string; response: string }[];
  maints: { deviceId: string; command: number; counter: number; tag: string }[];
};
const b64 = (hex: string): string => Buffer.from(hex, 'hex').toString('base64');
const keyB64 = b64(file.key);

beforeAll(async () => {
  await ensureFirmwareBuilt();
});

describe('reading vectors', () => {
  it("Node produces the file's bytes, subkeys and tags (v2 and v1)", () => {
    expect(file.vectors.length).toBeGreaterThanOrEqual(5);
    for (const v of [...file.vectors, ...file.v1]) {
      const canonical = encodeReading({ ...v.reading, partialDigest: fromHex(v.reading.partialDigest) });
      expect(toHex(canonical)).toBe(v.canonical);
      expect(toHex(completeBytes(sha256, fromHex(file.key), canonical))).toBe(v.tag);
    }
    const k = deriveSubkeys(sha256, fromHex(file.key));
    expect({ kTag: toHex(k.kTag), kChal: toHex(k.kChal), kMaint: toHex(k.kMaint) }).toEqual(file.subkeys);
    for (const c of file.challenges) expect(toHex(challengeResponse(sha256, k.kChal, fromHex(c.challenge)))).toBe(c.response);
    for (const m of file.maints) expect(toHex(maintTag(sha256, k.kMaint, m.deviceId, m.command, m.counter))).toBe(m.tag);
  });

  it("the firmware pipeline's ES5 code, on the board shim's SHA256, produces the same bytes and tags", async () => {
    const text = await bundleEntry(join(here, 'fixtures', 'vectors-entry.ts'));
    expect(checkBundle(text, { name: 'test', sizeBudget: 1 << 20, espruinoModules: ['Storage', 'crypto'] }).problems).toEqual([]);
    let hashed = 0;
    const { ctx } = runInBoardShim(text, {
      hashed: () => {
        hashed++;
      },
    });
    const t = vm.runInContext('PV_TEST', ctx) as {
      run(json: string, kTag: string): string[];
      subkeys(key: string): string[];
      challenge(kChal: string, challenge: string): string;
      maint(kMaint: string, deviceId: string, command: number, counter: number): string;
    };
    for (const v of file.vectors) {
      const [canonical, tag] = t.run(JSON.stringify(v.reading), b64(file.subkeys.kTag));
      expect(canonical).toBe(v.canonical);
      expect(tag).toBe(v.tag);
    }
    expect(hashed).toBe(2 * file.vectors.length); // a reading tag = exactly two SHA-256 runs (K_tag derived once, at boot)
    expect(t.subkeys(keyB64)).toEqual([file.subkeys.kTag, file.subkeys.kChal, file.subkeys.kMaint]);
    for (const c of file.challenges) expect(t.challenge(b64(file.subkeys.kChal), c.challenge)).toBe(c.challenge + c.response);
    for (const m of file.maints) expect(t.maint(b64(file.subkeys.kMaint), m.deviceId, m.command, m.counter)).toBe(m.tag);
  });

  it('the built LINUX bundle, clock frozen, sends the vector its sensor layout can express', async () => {
    // One reboot with a frozen clock: boot count 2, uptime 0; t = 0 (an unset clock takes the first PARTIAL's time).
    const v = file.vectors.find((x) => x.reading.channels.length === 0 && x.reading.batteryMv === 0 && x.reading.t === 0)!;
    expect(v.reading).toMatchObject({ bootCount: 2, uptimeMs: 0 });
    expect(v).toBeDefined();
    const b = await startSimBoard({
      board: 'LINUX',
      clockSpeedup: 0,
      startTimeMs: 1,
      provisioning: { deviceId: v.reading.deviceId, key: keyB64, sensors: [], intervalMs: 100, seqFloor: v.reading.seq },
    });
    const edge = new EdgeDouble({
      path: b.path,
      link: 'mock',
      key: fromHex(file.key),
      partial: {
        epoch: v.reading.epoch,
        partialDigest: fromHex(v.reading.partialDigest),
        intervalMs: 100,
        maxPerMinute: 0,
        edgeTimeMs: v.reading.t,
      },
    });
    try {
      await edge.open();
      b.reboot();
      await edge.waitFor(() => edge.of('READING').length >= 1, 10_000, 'a reading');
      const m = edge.of('READING')[0]!;
      expect(toHex(m.canonical)).toBe(v.canonical);
      expect(toHex(m.tag)).toBe(v.tag);
    } finally {
      await edge.close();
      await b.stop();
    }
  });
});

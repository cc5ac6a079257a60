/**
 * Generates readings.json: readings → canonical hex → dataHash → tag under a fixed TEST key, for
 * reading version 2 (`vectors`: tag = HMAC-SHA256(K_tag, "pv2:r" ‖ canonical), K_tag =
 * HKDF-Expand(K_IoT, "pv2:kt", 32)) and the old version 1 (`v1`: tag = HMAC-SHA256(K_IoT,
 * canonical)), plus the subkeys, challenge responses and MAINT tags (shared/crypto/domains.ts).
 *
 * The expected bytes come from a second, independent encoder written here with DataView and
 * Buffer, and the hashes, subkeys and tags from node:crypto — not from shared/ — so the vectors
 * check our encoder, HMAC and the firmware's against another implementation. Run:
 *   node --import tsx shared/encoding/vectors/generate.ts > shared/encoding/vectors/readings.json
 */
import { createHash, createHmac } from 'node:crypto';

/** A fixed key for vectors only; never a deployment key. */
const TEST_KEY = Buffer.from('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', 'hex');

interface VectorReading {
  deviceId: string;
  seq: number;
  t: number;
  epoch: number;
  partialDigest: string;
  batteryMv: number;
  channels: { id: number; scale: number; value: number }[];
  bootCount?: number;
  uptimeMs?: number;
}

function independentEncode(r: VectorReading): Buffer {
  const v2 = r.bootCount !== undefined;
  const id = Buffer.from(r.deviceId, 'ascii');
  const buf = Buffer.alloc((v2 ? 63 : 54) + id.length + 6 * r.channels.length);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let o = 0;
  dv.setUint8(o++, v2 ? 2 : 1);
  dv.setUint8(o++, id.length);
  id.copy(buf, o);
  o += id.length;
  dv.setUint32(o, r.seq);
  dv.setBigUint64(o + 4, BigInt(r.t));
  dv.setUint32(o + 12, r.epoch);
  dv.setUint8(o + 16, 32);
  Buffer.from(r.partialDigest, 'hex').copy(buf, o + 17);
  o += 49;
  dv.setUint16(o, r.batteryMv);
  o += 2;
  if (v2) {
    dv.setUint32(o, r.bootCount as number);
    // u40: the high byte, then the low 32 bits.
    dv.setUint8(o + 4, Math.floor((r.uptimeMs as number) / 2 ** 32));
    dv.setUint32(o + 5, (r.uptimeMs as number) % 2 ** 32);
    o += 9;
  }
  dv.setUint8(o, r.channels.length);
  o += 1;
  for (const c of r.channels) {
    dv.setUint8(o, c.id);
    dv.setInt8(o + 1, c.scale);
    dv.setInt32(o + 2, c.value);
    o += 6;
  }
  return buf;
}

const digest = (s: string): string => createHash('sha256').update(s).digest('hex');

const readings: VectorReading[] = [
  { deviceId: 'a', seq: 0, t: 0, epoch: 0, partialDigest: '00'.repeat(32), batteryMv: 0, channels: [] },
  {
    deviceId: 'pico-0001',
    seq: 1,
    t: 1_700_000_000_000,
    epoch: 42,
    partialDigest: digest('partial-1'),
    batteryMv: 3300,
    channels: [
      { id: 0, scale: -2, value: 2315 },
      { id: 1, scale: -3, value: 512 },
    ],
  },
  {
    deviceId: 'puck-plant3-line2',
    seq: 4_294_967_295,
    t: 9_007_199_254_740_991,
    epoch: 4_294_967_295,
    partialDigest: 'ff'.repeat(32),
    batteryMv: 65_535,
    channels: [
      { id: 0, scale: -128, value: -2_147_483_648 },
      { id: 7, scale: 127, value: 2_147_483_647 },
      { id: 255, scale: 0, value: -1 },
    ],
  },
  {
    deviceId: 'X'.repeat(64),
    seq: 123_456,
    t: 1_763_700_000_123,
    epoch: 7,
    partialDigest: digest('partial-7'),
    batteryMv: 2_950,
    channels: Array.from({ length: 16 }, (_, i) => ({ id: i * 3, scale: (i % 5) - 2, value: (i - 8) * 100_003 })),
  },
  {
    deviceId: 'esp32:cold-chain/7',
    seq: 65_536,
    t: 4_294_967_296,
    epoch: 65_537,
    partialDigest: digest('partial-65537'),
    batteryMv: 4_100,
    channels: [{ id: 2, scale: -1, value: -405 }],
  },
];

const hmac = (key: Buffer, ...parts: (string | Buffer)[]): Buffer => {
  const h = createHmac('sha256', key);
  for (const p of parts) h.update(p);
  return h.digest();
};
/** HKDF-Expand(PRK, info, 32) = HMAC(PRK, info ‖ 0x01) (RFC 5869, one block). */
const expand = (prk: Buffer, info: string): Buffer => hmac(prk, info, Buffer.from([1]));
const kTag = expand(TEST_KEY, 'pv2:kt');
const kChal = expand(TEST_KEY, 'pv2:kc');
const kMaint = expand(TEST_KEY, 'pv2:km');

// Version 2: the readings above with a boot count and an uptime (the first is what the built
// LINUX bundle sends after one reboot with a frozen clock: boot 2, uptime 0).
const uptimes: [number, number][] = [
  [2, 0],
  [1, 61_234],
  [4_294_967_295, 1_000_000_000_000],
  [17, 86_400_000],
  [65_536, 4_294_967_296],
];
const v2Readings = readings.map((r, i) => ({ ...r, bootCount: (uptimes[i] as [number, number])[0], uptimeMs: (uptimes[i] as [number, number])[1] }));

const vectors = v2Readings.map((r) => {
  const bytes = independentEncode(r);
  if (bytes.length > 223) throw new Error('a v2 vector exceeds 223 bytes');
  return {
    reading: r,
    canonical: bytes.toString('hex'),
    dataHash: createHash('sha256').update(bytes).digest('hex'),
    tag: hmac(kTag, 'pv2:r', bytes).toString('hex'),
  };
});

const v1 = readings.map((r) => {
  const bytes = independentEncode(r);
  return {
    reading: r,
    canonical: bytes.toString('hex'),
    dataHash: createHash('sha256').update(bytes).digest('hex'),
    tag: hmac(TEST_KEY, bytes).toString('hex'),
  };
});

const challenges = [Buffer.alloc(32, 0), Buffer.from(digest('challenge-1'), 'hex')].map((c) => ({
  challenge: c.toString('hex'),
  response: hmac(kChal, 'pv2:c', c).toString('hex'),
}));

const maints = [
  { deviceId: 'pico-0001', command: 1, counter: 1 },
  { deviceId: 'X'.repeat(64), command: 1, counter: 4_294_967_295 },
].map((m) => {
  const id = Buffer.from(m.deviceId, 'ascii');
  const body = Buffer.alloc(1 + id.length + 5);
  body.writeUInt8(id.length, 0);
  id.copy(body, 1);
  body.writeUInt8(m.command, 1 + id.length);
  body.writeUInt32BE(m.counter, 2 + id.length);
  return { ...m, tag: hmac(kMaint, 'pv2:m', body).toString('hex') };
});

process.stdout.write(
  `${JSON.stringify(
    {
      description:
        'Provenant vectors. vectors: canonical reading v2, tag = HMAC-SHA256(K_tag, "pv2:r" || canonical); v1: canonical reading v1, tag = HMAC-SHA256(key, canonical); subkeys K_x = HMAC-SHA256(key, info || 0x01) for info pv2:kt, pv2:kc, pv2:km; challenges: HMAC-SHA256(K_chal, "pv2:c" || challenge); maints: HMAC-SHA256(K_maint, "pv2:m" || u8 len || deviceId || command || counter u32). key is a TEST key',
      key: TEST_KEY.toString('hex'),
      subkeys: { kTag: kTag.toString('hex'), kChal: kChal.toString('hex'), kMaint: kMaint.toString('hex') },
      vectors,
      v1,
      challenges,
      maints,
    },
    null,
    2,
  )}\n`,
);

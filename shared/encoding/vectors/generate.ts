/**
 * Generates readings.json: readings → canonical hex → dataHash → tag under a fixed TEST key.
 *
 * The expected bytes come from a second, independent encoder written here with DataView and
 * Buffer, and the hashes and tags from node:crypto — not from shared/ — so the vectors check our
 * encoder, HMAC and the firmware's against another implementation. Run:
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
}

function independentEncode(r: VectorReading): Buffer {
  const id = Buffer.from(r.deviceId, 'ascii');
  const buf = Buffer.alloc(54 + id.length + 6 * r.channels.length);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let o = 0;
  dv.setUint8(o++, 1);
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
  dv.setUint8(o + 2, r.channels.length);
  o += 3;
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

const vectors = readings.map((r) => {
  const bytes = independentEncode(r);
  return {
    reading: r,
    canonical: bytes.toString('hex'),
    dataHash: createHash('sha256').update(bytes).digest('hex'),
    tag: createHmac('sha256', TEST_KEY).update(bytes).digest('hex'),
  };
});

process.stdout.write(
  `${JSON.stringify({ description: 'Provenant canonical reading vectors v1; tag = HMAC-SHA256(key, canonical); key is a TEST key', key: TEST_KEY.toString('hex'), vectors }, null, 2)}\n`,
);

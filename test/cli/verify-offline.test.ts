/**
 * `provenant verify --offline`: a reading checked with public data only (the registered LMS
 * public key, the key-set chain, the epoch signature, the Merkle path, the data). The attacker is
 * the ledger operator, who holds K_tag (and, for the worst case here, K_IoT itself): it can make
 * a reading whose HMAC tag checks, but not one that is independently verifiable.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inclusionPath, merkleRoot } from '../../shared/crypto/accumulator.js';
import { deriveSubkeys, readingTag } from '../../shared/crypto/domains.js';
import { epochHeader, keySetHeader, signedMessage, type EpochSegment } from '../../shared/crypto/epoch.js';
import { lmotsParams, lmsAuthPath, lmsParams, lmsPublicKey, lmsSign, lmsTree } from '../../shared/crypto/lms.js';
import { sha256 } from '../../shared/crypto/sha256.js';
import { encodeReading } from '../../shared/encoding/reading.js';
import { equalBytes } from '../../shared/encoding/bytes.js';
import { toHex } from '../../shared/encoding/hex.js';
import { runCli } from './run-in-process.js';

const lms = lmsParams(10); // LMS_SHA256_M24_H5, the boards' set
const ots = lmotsParams(7); // LMOTS_SHA256_N24_W4
const deviceId = 'plant3-t-0001';
const kIoT = new Uint8Array(randomBytes(32));
const { kTag } = deriveSubkeys(sha256, kIoT);

/** A key set: I, SEED, its tree and public key. */
function keySet() {
  const I = new Uint8Array(randomBytes(16));
  const seed = new Uint8Array(randomBytes(24));
  const tree = lmsTree(sha256, lms, ots, I, seed);
  return { I, seed, tree, pub: lmsPublicKey(lms, ots, I, tree.subarray(0, lms.m)) };
}
type KeySet = ReturnType<typeof keySet>;

function sign(k: KeySet, q: number, header: Uint8Array): Uint8Array {
  const sig = lmsSign(sha256, lms, ots, k.I, k.seed, q, signedMessage(sha256, deviceId, header), lmsAuthPath(k.tree, lms, q));
  const out = new Uint8Array(header.length + sig.length);
  out.set(header);
  out.set(sig, header.length);
  return out;
}

const readingAt = (seq: number, value: number) =>
  encodeReading({
    deviceId,
    seq,
    t: 1_767_225_600_000 + seq * 60_000,
    epoch: 9,
    partialDigest: new Uint8Array(32).fill(3),
    batteryMv: 3000,
    bootCount: 1,
    uptimeMs: seq * 60_000,
    channels: [{ id: 0, scale: -2, value }],
  });

let dir: string;
let board: KeySet;
const data: Uint8Array[] = [];
let segment: EpochSegment;
let body: Uint8Array;

function evidenceFor(index: number, leaves: readonly Uint8Array[], epochBody: Uint8Array, registered: Uint8Array, keySets: string[] = []) {
  return {
    version: 1,
    deviceId,
    registeredKey: toHex(registered),
    keySets,
    epochSignature: toHex(epochBody),
    leafIndex: index,
    path: inclusionPath(sha256, leaves, index).map(toHex),
  };
}

function file(name: string, content: unknown): string {
  const p = join(dir, name);
  writeFileSync(p, typeof content === 'string' ? content : content instanceof Uint8Array ? toHex(content) : JSON.stringify(content));
  return p;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'provenant-offline-'));
  board = keySet();
  for (let s = 100; s < 105; s++) data.push(readingAt(s, 2000 + s));
  const leaves = data.map((d) => sha256(d));
  segment = { epoch: 9, partialDigest: new Uint8Array(32).fill(3), firstSeq: 100, count: 5, root: merkleRoot(sha256, leaves)! };
  body = sign(board, 0, epochHeader(0, segment));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('provenant verify --offline', () => {
  it('a genuine reading is independently verifiable with the registered key alone', async () => {
    const leaves = data.map((d) => sha256(d));
    const ev = file('genuine.json', evidenceFor(2, leaves, body, board.pub));
    const r = await runCli('verify', '--offline', ev, '--key', toHex(board.pub), '--data', file('r2.hex', data[2]!));
    expect(r.code).toBe(0);
    expect(r.out).toMatch(
      /independently verifiable: YES — device plant3-t-0001 seq 102, epoch 9, in segment 100..104 signed by key set 0 leaf 0/,
    );
    // The key from a file, the result as JSON.
    const j = await runCli('verify', '--offline', ev, '--key', file('key.hex', board.pub), '--data', file('r2.hex', data[2]!), '--json');
    expect(j.code).toBe(0);
    expect(JSON.parse(j.out)).toMatchObject({ ok: true, seq: 102, keySet: 0, leaf: 0 });
  });

  it('the ledger operator forges a reading whose tag checks under K_tag: not independently verifiable', async () => {
    const leaves = data.map((d) => sha256(d));
    const forged = readingAt(102, 9999);
    const tag = readingTag(sha256, kTag, forged);
    // The HMAC gate the endorsers apply: passed, since the operator holds K_tag.
    expect(equalBytes(readingTag(sha256, kTag, forged), tag)).toBe(true);
    // 1. The genuine evidence does not cover the forged bytes.
    const ev = file('genuine.json', evidenceFor(2, leaves, body, board.pub));
    const a = await runCli('verify', '--offline', ev, '--key', toHex(board.pub), '--data', file('forged.hex', forged));
    expect(a.code).toBe(1);
    expect(a.out).toMatch(/independently verifiable: NO — path:/);
    // 2. Its own segment, signed with an LMS key of its own, named as the registered key: refused at the key.
    const mine = keySet();
    const fLeaves = [...leaves];
    fLeaves[2] = sha256(forged);
    const fSeg = { ...segment, root: merkleRoot(sha256, fLeaves)! };
    const fBody = sign(mine, 0, epochHeader(0, fSeg));
    const b = await runCli(
      'verify',
      '--offline',
      file('own-key.json', evidenceFor(2, fLeaves, fBody, mine.pub)),
      '--key',
      toHex(board.pub),
      '--data',
      file('forged.hex', forged),
    );
    expect(b.code).toBe(1);
    expect(b.out).toMatch(/NO — key:/);
    // 3. The same, claiming the board's registered key: the signature does not verify under it.
    const c = await runCli(
      'verify',
      '--offline',
      file('claims-board.json', evidenceFor(2, fLeaves, fBody, board.pub)),
      '--key',
      toHex(board.pub),
      '--data',
      file('forged.hex', forged),
    );
    expect(c.code).toBe(1);
    expect(c.out).toMatch(/NO — signature:/);
    // 4. A key-set move to its own key, signed by its own key: the chain breaks.
    const move = sign(mine, 30, keySetHeader(1, mine.pub));
    const fBody1 = sign(mine, 1, epochHeader(1, fSeg));
    const d = await runCli(
      'verify',
      '--offline',
      file('own-chain.json', evidenceFor(2, fLeaves, fBody1, board.pub, [toHex(move)])),
      '--key',
      toHex(board.pub),
      '--data',
      file('forged.hex', forged),
    );
    expect(d.code).toBe(1);
    expect(d.out).toMatch(/NO — chain: key set 1 is not signed by key set 0/);
    // 5. Moving the genuine reading to another seq inside the segment: refused at the segment.
    const e = await runCli(
      'verify',
      '--offline',
      file('wrong-index.json', { ...evidenceFor(3, leaves, body, board.pub), leafIndex: 3 }),
      '--key',
      toHex(board.pub),
      '--data',
      file('r2.hex', data[2]!),
    );
    expect(e.code).toBe(1);
    expect(e.out).toMatch(/NO — segment:/);
  });

  it('refuses missing or bad inputs by name', async () => {
    const ev = file('genuine.json', evidenceFor(0, [sha256(data[0]!)], body, board.pub));
    const noKey = await runCli('verify', '--offline', ev, '--data', file('r0.hex', data[0]!));
    expect(noKey.code).not.toBe(0);
    expect(noKey.err).toMatch(/--key/);
    const noData = await runCli('verify', '--offline', ev, '--key', toHex(board.pub));
    expect(noData.code).not.toBe(0);
    expect(noData.err).toMatch(/--data/);
    const badFile = await runCli(
      'verify',
      '--offline',
      file('bad.json', '[1,2]'),
      '--key',
      toHex(board.pub),
      '--data',
      file('r0.hex', data[0]!),
    );
    expect(badFile.code).not.toBe(0);
    expect(badFile.err).toMatch(/--offline .* must hold one evidence object/);
    const badKey = await runCli('verify', '--offline', ev, '--key', join(dir, 'absent'), '--data', file('r0.hex', data[0]!));
    expect(badKey.code).not.toBe(0);
    expect(badKey.err).toMatch(/--key is neither hex nor a readable file/);
  });
});

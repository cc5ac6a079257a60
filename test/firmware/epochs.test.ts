/**
 * Epoch signatures on the board (firmware/src/epochs.ts), on the simulated board running a LINUX
 * bundle built with `epochSignatures: true`: the board makes its own key sets, signs each closed
 * segment of readings with a one-time LMS key, vouches for its next key set with the last keys of
 * the current one, and a reading checks offline against the registered key alone. Then the power
 * is cut after every Storage write of the epoch machinery in turn — signing, storing, the move to
 * the next key set, key generation — and no one-time key ever signs two messages.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleBoard } from '../../firmware/build.js';
import { loadBoard } from '../../firmware/boards.js';
import { EPOCH_LEAVES, KEY_FILE_BYTES, LEAVES, LMS, OTS, keyFileName, keyFilePublicKey } from '../../firmware/src/keyfile.js';
import { SimStorage, startSimBoard, type SimBoardHandle } from '../../hardware/sim/index.js';
import { inclusionPath, merkleRoot } from '../../shared/crypto/accumulator.js';
import {
  bodyMessage,
  decodeSignatureBody,
  signatureLeaf,
  verifyEpochBody,
  verifyKeySetBody,
  type SignatureBody,
} from '../../shared/crypto/epoch.js';
import { checkEvidence } from '../../shared/crypto/evidence.js';
import { lmotsParams, lmsParams } from '../../shared/crypto/lms.js';
import { sha256 } from '../../shared/crypto/sha256.js';
import { toHex } from '../../shared/encoding/hex.js';
import { EdgeDouble } from '../support/edge-double.js';

const SPEED = 50;
let dir: string;
let bundlePath: string;
const key = new Uint8Array(randomBytes(32));
const deviceId = 'lms-board-1';
const provisioning = { deviceId, key: Buffer.from(key).toString('base64'), intervalMs: 100, signGapMs: 1000 };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'provenant-epochs-'));
  bundlePath = join(dir, 'LINUX-lms.js');
  writeFileSync(bundlePath, (await bundleBoard({ ...loadBoard('LINUX'), epochSignatures: true })).text, 'latin1');
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Flash whose contents freeze after the `cutAt`-th write to an epoch file (pv.k*, pv.sig, pv.seg, pv.acc): the power is cut there. */
class CutStorage extends SimStorage {
  epochWrites = 0;
  cut = false;
  /** Files of the epoch writes so far, in order. */
  readonly names: string[] = [];
  onCut: () => void = () => undefined;
  constructor(
    files: Map<string, Buffer>,
    private readonly cutAt = Infinity,
  ) {
    super();
    for (const [n, b] of files) super.set(n, Buffer.from(b));
  }
  override set(name: string, data: Buffer): void {
    if (this.cut) return;
    super.set(name, data);
    this.count(name);
  }
  override erase(name: string): void {
    if (this.cut) return;
    const had = this.get(name) !== undefined;
    super.erase(name);
    if (had) this.count(name);
  }
  private count(name: string): void {
    if (!/^pv\.(k|sig|seg|acc)/.test(name)) return;
    this.names.push(name);
    if (++this.epochWrites >= this.cutAt) {
      this.cut = true;
      this.onCut();
    }
  }
  snapshot(): Map<string, Buffer> {
    return new Map(this.list().map((n) => [n, Buffer.from(this.get(n)!)]));
  }
}

interface Session {
  b: SimBoardHandle;
  edge: EdgeDouble;
  stop(): Promise<void>;
}

let epochCounter = 100;
/** A board on `storage` with an edge double that moves to a new epoch every `rollMs` real ms (each one closes a segment). */
async function session(storage: SimStorage, rollMs = 40): Promise<Session> {
  const b = await startSimBoard({ bundlePath, storage, provisioning, clockSpeedup: SPEED, link: 'mock' });
  const partial = () => ({
    epoch: ++epochCounter,
    partialDigest: sha256(new Uint8Array([epochCounter & 255, epochCounter >> 8])),
    intervalMs: 100,
    maxPerMinute: 0,
  });
  const edge = new EdgeDouble({ path: b.path, link: 'mock', key, partial: partial(), clock: () => b.board.nowMs() });
  await edge.open();
  const roll = setInterval(() => edge.send({ kind: 'PARTIAL', ...partial(), edgeTimeMs: Date.now() }), rollMs);
  return {
    b,
    edge,
    async stop() {
      clearInterval(roll);
      await edge.close();
      await b.stop();
    },
  };
}

async function until(pred: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const complete = (s: SimStorage, k: number) => {
  const f = s.get(keyFileName(k));
  return !!f && f.readUInt32BE(0) === k && keyFilePublicKey(new Uint8Array(f)) !== undefined;
};

/** Checks every body against the key sets it claims, from the registered key on; returns (keySet:q) → M of each. */
function verifyAll(
  bodies: readonly Uint8Array[],
  registered: Uint8Array,
  extraKeys: Map<number, Uint8Array> = new Map(),
): Map<string, string> {
  const keys = new Map<number, Uint8Array>([[0, registered], ...extraKeys]);
  const used = new Map<string, string>();
  const decoded: SignatureBody[] = bodies.map((b) => decodeSignatureBody(b));
  for (const d of decoded) if (d.kind === 'keyset') keys.set(d.keySet, d.publicKey);
  for (const d of decoded) {
    const signer = d.kind === 'epoch' ? d.keySet : d.keySet - 1;
    const pk = keys.get(signer);
    expect(pk, `public key of key set ${signer}`).toBeDefined();
    expect(d.kind === 'epoch' ? verifyEpochBody(sha256, pk!, deviceId, d) : verifyKeySetBody(sha256, pk!, deviceId, d)).toBe(true);
    const id = `${signer}:${signatureLeaf(d.signature)}`;
    const m = toHex(bodyMessage(sha256, deviceId, d));
    // The one property that matters: a one-time key never signs two different messages.
    expect(used.get(id) ?? m, `one-time key ${id}`).toBe(m);
    used.set(id, m);
  }
  return used;
}

describe('epoch signatures on the board (simulated board, LINUX bundle with epochSignatures)', () => {
  it('uses the parameters its key files are laid out for', () => {
    expect(LMS).toEqual(lmsParams(LMS.type));
    expect(OTS).toEqual(lmotsParams(OTS.type));
    expect(KEY_FILE_BYTES).toBe(44 + (2 * LEAVES - 1) * 24);
  });

  it('signs each closed segment; every reading checks offline against the registered key; the next key set is vouched for', async () => {
    const storage = new SimStorage();
    const s = await session(storage);
    try {
      await until(() => complete(storage, 0), 60_000, 'key set 0');
      // What enrollment registers: the public key of key set 0, read from the board's Storage.
      const registered = keyFilePublicKey(new Uint8Array(storage.get(keyFileName(0))!))!;
      // A segment closes every 40 ms here: key set 0's epoch leaves are spent before key set 1 is
      // made, so the board waits for it (dropping what it cannot sign) and then moves to it.
      await until(() => s.edge.sigBodies.some((b) => b[0] === 2), 60_000, 'a key-set body');
      await until(() => epochOn(s.edge.sigBodies, 1), 60_000, 'an epoch signed by key set 1');
      const bodies = s.edge.sigBodies.slice();
      if (process.env.LMS_DEBUG)
        for (const b of bodies) {
          const d = decodeSignatureBody(b);
          console.log(
            d.kind,
            d.keySet,
            signatureLeaf(d.signature),
            d.kind === 'epoch' ? [d.segment.epoch, d.segment.firstSeq, d.segment.count] : '',
            toHex(bodyMessage(sha256, deviceId, d)).slice(0, 8),
          );
        }
      const used = verifyAll(bodies, registered);
      expect(used.size).toBe(bodies.length); // each body its own key
      const keySet = decodeSignatureBody(bodies.find((b) => b[0] === 2)!);
      expect(keySet.kind === 'keyset' && keySet.keySet).toBe(1);
      expect(signatureLeaf(keySet.signature)).toBe(EPOCH_LEAVES);

      // Each epoch body's root is the Merkle root of exactly the readings firstSeq..firstSeq+count-1.
      const readings = new Map(s.edge.of('READING').map((r) => [r.reading.seq, r.canonical]));
      const keySets = bodies.filter((b) => b[0] === 2).map((b) => toHex(b));
      let checked = 0;
      for (const b of bodies) {
        const d = decodeSignatureBody(b);
        if (d.kind !== 'epoch') continue;
        const seg = d.segment;
        const data = Array.from({ length: seg.count }, (_, i) => readings.get(seg.firstSeq + i)!);
        expect(data.every((x) => x !== undefined)).toBe(true);
        const leaves = data.map((x) => sha256(x));
        expect(toHex(merkleRoot(sha256, leaves)!)).toBe(toHex(seg.root));
        // The offline check: public key, key-set chain, epoch signature, path, data — nothing else.
        const i = seg.count - 1;
        const evidence = {
          version: 1 as const,
          deviceId,
          registeredKey: toHex(registered),
          keySets: keySets.slice(0, d.keySet),
          epochSignature: toHex(b),
          leafIndex: i,
          path: inclusionPath(sha256, leaves, i).map(toHex),
        };
        const r = checkEvidence(sha256, evidence, data[i]!, registered);
        expect(r.ok).toBe(true);
        // One byte of the data changed (a forged value): refused at the path.
        const forged = Uint8Array.from(data[i]!);
        forged[forged.length - 1]! ^= 1;
        expect(checkEvidence(sha256, evidence, forged, registered)).toMatchObject({ ok: false });
        checked++;
      }
      expect(checked).toBeGreaterThanOrEqual(3);
      expect(s.b.stats.uncaught).toEqual([]);
      // Acknowledged bodies are gone from Storage.
      await until(() => storage.get('pv.sig') === undefined, 10_000, 'pv.sig erased after SIG_ACK');
    } finally {
      await s.stop();
    }
  }, 180_000);

  it('a power cut after any Storage write of signing, storing, moving to the next key set or generating keys never reuses a one-time key', async () => {
    // A board with both key sets made and key set 0 nearly spent: the next steps sign its last
    // epoch leaves, vouch for key set 1, move to it and start generating key set 2.
    const storage = new SimStorage();
    const s = await session(storage, 1e9); // no new epoch: nothing is signed while the key sets are made
    let registered: Uint8Array;
    let base: Map<string, Buffer>;
    try {
      await until(() => complete(storage, 0) && complete(storage, 1), 120_000, 'key sets 0 and 1');
      registered = keyFilePublicKey(new Uint8Array(storage.get(keyFileName(0))!))!;
      s.b.powerOff();
      storage.set('pv.kq', Buffer.from(`0 ${EPOCH_LEAVES - 2}`));
      base = new Map(storage.list().map((n) => [n, Buffer.from(storage.get(n)!)]));
    } finally {
      await s.stop();
    }
    expect(base.get('pv.sig')).toBeUndefined();
    const key1 = keyFilePublicKey(new Uint8Array(base.get(keyFileName(1))!))!;
    const cuts = 24;
    let reachedAdvance = 0;
    const wrote: string[] = [];
    for (let cutAt = 1; cutAt <= cuts; cutAt++) {
      // World `cutAt`: the power goes after that write; the board boots again on what flash holds.
      const flash = new CutStorage(base, cutAt);
      const a = await session(flash);
      let uncaughtBefore: string[] = [];
      flash.onCut = () => {
        a.b.board.stop();
        // What the dead board's code still does after this point (in the same call) never happened.
        uncaughtBefore = a.b.stats.uncaught.slice();
      };
      await until(() => flash.cut, 30_000, `write ${cutAt}`);
      const before = a.edge.sigBodies.slice();
      await a.stop();
      const after = new CutStorage(flash.snapshot());
      const b = await session(after);
      try {
        await until(() => epochOn(b.edge.sigBodies, 1), 30_000, `an epoch signed by key set 1 after the cut at write ${cutAt}`);
      } finally {
        await b.stop();
      }
      const all = [...before, ...b.edge.sigBodies];
      if (cutAt === cuts) wrote.push(...flash.names);
      verifyAll(all, registered, new Map([[1, key1]]));
      if (all.some((x) => x[0] === 2)) reachedAdvance++;
      expect(uncaughtBefore.concat(b.b.stats.uncaught)).toEqual([]);
    }
    // The cuts fell on every kind of step: closing a segment, the leaf counter, storing a
    // signature, the key-set move and key generation for key set 2.
    if (process.env.LMS_DEBUG) console.log(wrote.join(' '));
    for (const f of ['pv.seg', 'pv.kq', 'pv.sig', 'pv.k0']) expect(wrote).toContain(f);
    expect(reachedAdvance).toBe(cuts);
  }, 300_000);
});

function epochOn(bodies: readonly Uint8Array[], keySet: number): boolean {
  return bodies.some((b) => b[0] === 1 && ((b[1]! << 24) | (b[2]! << 16) | (b[3]! << 8) | b[4]!) === keySet);
}

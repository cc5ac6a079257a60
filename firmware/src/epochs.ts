/**
 * Epoch signatures on the board (docs/firmware.md, "Epoch signatures"; docs/crypto.md): every
 * reading's dataHash is folded into a Merkle accumulator; when its epoch segment closes (a
 * PARTIAL of another epoch or digest, a gap in seq, a reboot) the board signs the segment with a
 * one-time LMS key and sends the signature in SIG frames until the edge answers SIG_ACK. Its own
 * key sets are generated here in the background from the board's own randomness; the last keys
 * of a set vouch for the next set.
 *
 * Storage (all `pv.*`): `pv.k0`/`pv.k1` key sets (keyfile.ts), `pv.kq` "k q" = current key set
 * and next unused leaf, `pv.acc` a checkpoint of the open segment (every 32 readings), `pv.seg`
 * one closed segment waiting to be signed, `pv.sig` the SIG body being delivered (plus a last
 * byte that turns 0 once it is complete).
 *
 * The one rule that matters: a leaf q is recorded as spent in `pv.kq` BEFORE anything is signed
 * with it, so a power cut at any point can waste a leaf but never sign two messages with one
 * (test/firmware/lms-powercut.test.ts cuts the power after every Storage write).
 */
import { emptyFrontier, frontierAdd, frontierRoot, type Frontier } from '../../shared/crypto/accumulator.js';
import { signedMessage } from '../../shared/crypto/epoch.js';
import { getU32, lmotsKeyBuffer, lmotsPublicKey, lmsInterior, lmsLeafFromKey, lmsSign, putU32 } from '../../shared/crypto/lms.js';
import { equalBytes } from '../../shared/encoding/bytes.js';
import { MSG_SIG, MSG_STATUS, STATUS_KEYS_EXHAUSTED, STATUS_UNSIGNED } from '../../shared/wire/messages.js';
import { after, hwRandom, sha256, storage } from './espruino.js';
import { blank, EPOCH_LEAVES, KEY_FILE_BYTES, keyFileName, keyFilePublicKey, LEAVES, LMS, NODE, nodeAt, OTS, TREE_AT } from './keyfile.js';
import { need, statusPayload } from './wire.js';

const SIG = 'pv.sig';
const SEG = 'pv.seg';
const ACC = 'pv.acc';
const KQ = 'pv.kq';
/** Bytes of an LMS signature with the boards' parameters. */
const SIG_BYTES = 1380;
/** Body bytes per SIG frame (the payload adds index and count). */
const CHUNK = 253;
/** LM-OTS chains per key-generation step, and the pause between steps (the link is served in between). */
const CHAINS = 6;
const STEP_MS = 20;
/** Readings between checkpoints of the open segment. */
const CHECKPOINT = 32;
/** Resend of an unacknowledged SIG: first after 5 s, doubling up to 10 min. */
const FIRST_WAIT = 5000;
const MAX_WAIT = 600000;

let deviceId = '';
let send: (type: number, payload: ArrayLike<number>) => void;
let signGap = 60000;
/** Current key set and its next unused leaf (as in pv.kq). */
let k = 0;
let q = 0;
let acc: Frontier | null = null;
let accEpoch = 0;
let accDigest: Uint8Array;
let accFirst = 0;
/** Segments closed while another waited for its signature: never signed (STATUS UNSIGNED). */
let dropped = 0;
let told = 0;
let exhaustedTold = false;
let lastSign = -1e15;
let sigDue = 0;
let sigWait = FIRST_WAIT;
/** Key generation in progress: key set, leaf, next chain and the buffer of chain ends. */
let genSet = -1;
let genLeaf = -1;
let genChain = 0;
let genBuf: Uint8Array | null = null;
/** A key-generation step is scheduled. */
let generating = false;

/** A Storage file as bytes (memory-mapped on a board: invalid after the next Storage write). */
function mapped(name: string): Uint8Array | undefined {
  const ab = storage.readArrayBuffer(name);
  return ab && new Uint8Array(ab);
}

function saveKq(): void {
  storage.write(KQ, k + ' ' + q);
}

/** n bytes of the board's own randomness (hardware noise, hashed). */
function random(n: number): Uint8Array {
  const a = new Uint8Array(36);
  for (let i = 0; i < 9; i++) putU32(a, 4 * i, hwRandom());
  return sha256(a).subarray(0, n);
}

/** Closes the open segment: it becomes pv.seg (epoch, digest, firstSeq, count, root), or is dropped when one is already waiting. */
function close(): void {
  if (!acc) return;
  if (storage.readArrayBuffer(SEG)) dropped++;
  else {
    const g = new Uint8Array(76);
    putU32(g, 0, accEpoch);
    g.set(accDigest, 4);
    putU32(g, 36, accFirst);
    putU32(g, 40, acc.count);
    g.set(frontierRoot(sha256, acc) as Uint8Array, 44);
    storage.write(SEG, g);
  }
  acc = null;
  storage.erase(ACC);
}

/** Writes the open segment's checkpoint: epoch, digest, firstSeq, count, then its frontier nodes. */
function checkpoint(f: Frontier): void {
  const a = new Uint8Array(44 + 32 * f.nodes.length);
  putU32(a, 0, accEpoch);
  a.set(accDigest, 4);
  putU32(a, 36, accFirst);
  putU32(a, 40, f.count);
  let at = 44;
  for (let b = 0; b < f.nodes.length; b++) {
    const n = f.nodes[b];
    if (n) {
      a.set(n, at);
      at += 32;
    }
  }
  storage.write(ACC, a.subarray(0, at));
}

/** Adopts the segment a checkpoint holds (it is closed at once: readings after it were lost). */
function restore(c: Uint8Array): void {
  const f = emptyFrontier();
  f.count = getU32(c, 40);
  let at = 44;
  for (let b = 0; b < 32; b++) {
    if ((f.count >>> b) & 1) {
      f.nodes[b] = new Uint8Array(c.subarray(at, at + 32));
      at += 32;
    }
  }
  accEpoch = getU32(c, 0);
  accDigest = new Uint8Array(c.subarray(4, 36));
  accFirst = getU32(c, 36);
  acc = f;
}

/**
 * Signs header = kind ‖ keySet ‖ tail (a SIG body header, shared/crypto/epoch.ts) with the next
 * leaf and stores header ‖ signature as pv.sig. The leaf is recorded as spent first; the last
 * byte of pv.sig turns 0 only once the body is stored, so a cut leaves it visibly incomplete.
 */
function sign(kind: number, keySet: number, tail: Uint8Array): void {
  const f = mapped(keyFileName(k)) as Uint8Array;
  const I = new Uint8Array(f.subarray(4, 20));
  const seed = new Uint8Array(f.subarray(20, 44));
  const path = new Uint8Array(LMS.h * NODE);
  let r = LEAVES + q;
  for (let i = 0; i < LMS.h; i++) {
    const s = nodeAt(r ^ 1);
    path.set(f.subarray(s, s + NODE), i * NODE);
    r = r >> 1;
  }
  const leaf = q++;
  saveKq();
  const hl = 5 + tail.length;
  const body = new Uint8Array(hl + SIG_BYTES + 1);
  body[0] = kind;
  putU32(body, 1, keySet);
  body.set(tail, 5);
  lmsSign(sha256, LMS, OTS, I, seed, leaf, signedMessage(sha256, deviceId, body.subarray(0, hl)), path, undefined, body, hl);
  body[hl + SIG_BYTES] = 255;
  storage.write(SIG, body);
  storage.write(SIG, new Uint8Array(1), hl + SIG_BYTES);
  sigDue = 0;
  sigWait = FIRST_WAIT;
}

/** Moves to the next key set once the signature vouching for it is stored. */
function advance(): void {
  storage.erase(keyFileName(k));
  k++;
  q = 0;
  saveKq();
}

/** True when key set j is complete in its file. */
function ready(j: number): boolean {
  const f = mapped(keyFileName(j));
  return !!f && getU32(f, 0) === j && !blank(f, TREE_AT);
}

/**
 * One step of key generation: a few chains of the next leaf of the current key set (or, once it
 * is complete, of the next set), the leaf when its chains are done, the interior nodes when all
 * leaves are. Re-arms itself until both sets are complete.
 */
function keygen(): void {
  generating = false;
  const j = ready(k) ? k + 1 : k;
  if (ready(j)) return;
  const name = keyFileName(j);
  let f = mapped(name);
  if (f && getU32(f, 0) !== j) {
    storage.erase(name);
    f = undefined;
  }
  if (!f) {
    const h = new Uint8Array(44);
    putU32(h, 0, j);
    h.set(random(16), 4);
    h.set(random(24), 20);
    storage.write(name, h, 0, KEY_FILE_BYTES);
    f = mapped(name) as Uint8Array;
  }
  let leaf = 0;
  while (leaf < LEAVES && !blank(f, nodeAt(LEAVES + leaf))) leaf++;
  const I = new Uint8Array(f.subarray(4, 20));
  if (leaf < LEAVES) {
    if (genSet !== j || genLeaf !== leaf) {
      genSet = j;
      genLeaf = leaf;
      genChain = 0;
      genBuf = lmotsKeyBuffer(OTS, I, leaf);
    }
    const to = Math.min(genChain + CHAINS, OTS.p);
    const K = lmotsPublicKey(sha256, OTS, I, leaf, new Uint8Array(f.subarray(20, 44)), genBuf as Uint8Array, genChain, to);
    genChain = to;
    if (K) {
      storage.write(name, lmsLeafFromKey(sha256, LMS, I, leaf, K), nodeAt(LEAVES + leaf));
      genLeaf = -1;
      genBuf = null;
    }
  } else {
    for (let r = LEAVES - 1; r >= 1; r--) {
      const t = mapped(name) as Uint8Array;
      const a = nodeAt(2 * r);
      storage.write(name, lmsInterior(sha256, LMS, I, r, t.subarray(a, a + NODE), t.subarray(a + NODE, a + 2 * NODE)), nodeAt(r));
    }
  }
  generating = true;
  after(STEP_MS, keygen);
}

/**
 * At boot, after the counter: the key state, a signature cut short (dropped: its leaf stays
 * spent) or complete (sent again), a key-set move that was cut short, and the checkpoint of a
 * segment the reboot interrupted (closed now). Key generation starts on the first tick.
 */
export function epochBoot(id: string, sender: (type: number, payload: ArrayLike<number>) => void, gapMs: number): void {
  deviceId = id;
  send = sender;
  signGap = gapMs;
  const s = storage.read(KQ);
  if (s) {
    const a = s.split(' ');
    k = +(a[0] as string);
    q = +(a[1] as string);
  }
  const sig = mapped(SIG);
  if (sig && sig[sig.length - 1] !== 0) storage.erase(SIG);
  else if (sig) {
    const seg = mapped(SEG);
    if (sig[0] === 1 && seg && equalBytes(sig.subarray(5, 81), seg)) storage.erase(SEG);
    else if (sig[0] === 2 && getU32(sig, 1) === k + 1) advance();
  }
  const c = mapped(ACC);
  if (c) {
    restore(new Uint8Array(c));
    close();
  }
}

/** Folds a reading just sent into the open segment (closing the old one if this one cannot join it). */
export function epochReading(epoch: number, digest: Uint8Array, seq: number, canonical: Uint8Array): void {
  if (acc && (epoch !== accEpoch || !equalBytes(digest, accDigest) || seq !== accFirst + acc.count)) close();
  if (!acc) {
    acc = emptyFrontier();
    accEpoch = epoch;
    accDigest = digest;
    accFirst = seq;
  }
  frontierAdd(sha256, acc, sha256(canonical));
  if (acc.count % CHECKPOINT === 0) checkpoint(acc);
}

/** A PARTIAL arrived: a new epoch or digest closes the open segment; a pending SIG goes out again. */
export function epochPartial(epoch: number, digest: Uint8Array): void {
  if (acc && (epoch !== accEpoch || !equalBytes(digest, accDigest))) close();
  sigDue = 0;
}

function sendSig(f: Uint8Array): void {
  const n = f.length - 1;
  const total = Math.ceil(n / CHUNK);
  for (let i = 0; i < total; i++) {
    const part = f.subarray(i * CHUNK, Math.min(n, (i + 1) * CHUNK));
    const p = new Uint8Array(2 + part.length);
    p[0] = i;
    p[1] = total;
    p.set(part, 2);
    send(MSG_SIG, p);
  }
}

/**
 * Housekeeping (every tick): sign the waiting segment (at most one per signGapMs), move to the next
 * key set when the epoch leaves are spent, resend an unacknowledged SIG, report what was dropped.
 */
export function epochTick(now: number): void {
  if (!generating) keygen();
  if (!storage.readArrayBuffer(SIG)) {
    if (q >= EPOCH_LEAVES) {
      if (q < LEAVES && ready(k + 1)) {
        sign(2, k + 1, keyFilePublicKey(mapped(keyFileName(k + 1)) as Uint8Array) as Uint8Array);
        advance();
      } else if (q >= LEAVES && !exhaustedTold) {
        exhaustedTold = true;
        send(MSG_STATUS, statusPayload(STATUS_KEYS_EXHAUSTED, k, ''));
      }
    } else if (now - lastSign >= signGap && ready(k)) {
      const g = mapped(SEG);
      if (g) {
        lastSign = now;
        sign(1, k, new Uint8Array(g));
        storage.erase(SEG);
      }
    }
  }
  const f = mapped(SIG);
  if (f && now >= sigDue) {
    sendSig(f);
    sigDue = now + sigWait;
    sigWait = Math.min(2 * sigWait, MAX_WAIT);
  }
  if (dropped !== told) send(MSG_STATUS, statusPayload(STATUS_UNSIGNED, (told = dropped), ''));
}

/** SIG_ACK (keySet u32, q u32): the edge holds the signature; it is erased. */
export function epochAck(p: Uint8Array): void {
  need(p, 8);
  const f = mapped(SIG);
  if (f && getU32(p, 0) === getU32(f, 1) && getU32(p, 4) === getU32(f, f[0] === 1 ? 81 : 53)) storage.erase(SIG);
}

/**
 * Cross-checks our BBS (mcl-wasm) against @digitalbazaar/bbs-signatures (pure JS, noble-curves)
 * on random cases: random keys, 1..10 messages of random lengths, random disclosed subsets
 * (empty and full included), random headers and presentation headers.
 *
 * Each case runs both ways. Signatures: theirs is byte-identical to ours (Sign is deterministic)
 * and verifies with ours; ours verifies with theirs (checked explicitly on every fourth case, the
 * bytes being the same). Proofs (randomised): ours verifies with theirs and theirs with ours.
 * Every tenth case is also tampered with (a flipped byte in the signature and in the proof,
 * another header, another presentation header, another disclosed message) and must be rejected
 * by both. Cases come from fast-check with a printed seed (BBS_INTEROP_SEED replays a run).
 * The peer (50-130 ms of CPU per operation) runs in worker threads, one per core, with a few
 * cases in flight. `npm test` runs 40 cases (every fifth tampered: 8 tampered sets), about 12 s
 * of CPU; `npm run test:full` (PROVENANT_TEST_FULL=1) runs 200 cases (every tenth tampered), about
 * 60 s of CPU, ~35 s on an idle 2-core machine (160 s measured at load average 12 on 2 cores).
 */
import fc from 'fast-check';
import { availableParallelism } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as bbs from '../../shared/crypto/bbs.js';
import { FULL } from '../support/full.js';
import { PEER_CIPHERSUITE as ciphersuite, loadPeerBbsPool, type PeerBbsPool } from '../support/bbs-peer.js';

const CASES = FULL ? 200 : 40;
const CHUNK = 20;
const TAMPER_EVERY = FULL ? 10 : 5;
const PEER_VERIFIES_SIGNATURE_EVERY = 4;
const seed = Number(process.env.BBS_INTEROP_SEED ?? Date.now() % 2 ** 31);

interface Case {
  keyMaterial: Uint8Array;
  header: Uint8Array;
  ph: Uint8Array;
  messages: Uint8Array[];
  disclosedMask: boolean[];
  flipAt: number;
}

const caseArb: fc.Arbitrary<Case> = fc.integer({ min: 1, max: 10 }).chain((L) =>
  fc.record({
    keyMaterial: fc.uint8Array({ minLength: 32, maxLength: 48 }),
    header: fc.uint8Array({ maxLength: 40 }),
    ph: fc.uint8Array({ maxLength: 40 }),
    messages: fc.array(fc.uint8Array({ maxLength: 64 }), { minLength: L, maxLength: L }),
    disclosedMask: fc.array(fc.boolean(), { minLength: L, maxLength: L }),
    flipAt: fc.nat(),
  }),
);

const cases = fc.sample(caseArb, { seed, numRuns: CASES });

/** Resolves false or throws: either way the peer did not accept. */
async function peerRejects(p: Promise<boolean>): Promise<boolean> {
  try {
    return !(await p);
  } catch {
    return true;
  }
}

function flipped(b: Uint8Array, at: number): Uint8Array {
  const c = b.slice();
  c[at % c.length] = (c[at % c.length] as number) ^ 0x01;
  return c;
}

function otherThan(b: Uint8Array): Uint8Array {
  return b.length === 0 ? new Uint8Array([0]) : flipped(b, 0);
}

let peer: PeerBbsPool;
// The peer runs in worker threads (one per core); a few cases are in flight so they stay busy.
const WORKERS = Math.max(1, availableParallelism());
const IN_FLIGHT = WORKERS + 1;
const stats = { cases: 0, tampered: 0 };

async function runCase(c: Case, index: number): Promise<void> {
  const sk = bbs.keyGen(c.keyMaterial);
  const pk = bbs.skToPk(sk);
  const { header, ph, messages } = c;
  const indexes = c.disclosedMask.flatMap((d, i) => (d ? [i] : []));
  const disclosed = indexes.map((i) => messages[i] as Uint8Array);
  const where = `case ${index} (seed ${seed}, L=${messages.length}, disclosed=[${indexes.join(',')}])`;

  // Signatures, both ways. Sign is deterministic, so the two must agree byte for byte.
  const ourSig = bbs.sign(sk, pk, header, messages);
  const theirSig = await peer.sign({ secretKey: sk, publicKey: pk, header, messages, ciphersuite });
  expect(bbs.bytesToHex(theirSig), where).toBe(bbs.bytesToHex(ourSig));
  if (index % PEER_VERIFIES_SIGNATURE_EVERY === 0) {
    expect(await peer.verifySignature({ publicKey: pk, signature: ourSig, header, messages, ciphersuite }), where).toBe(true);
  }
  expect(bbs.verify(pk, theirSig, header, messages), where).toBe(true);

  // Proofs, both ways (randomised, so each side checks the other's).
  const ourProof = bbs.proofGen(pk, ourSig, header, ph, messages, indexes);
  const theirProof = await peer.deriveProof({
    publicKey: pk,
    signature: theirSig,
    header,
    messages,
    presentationHeader: ph,
    disclosedMessageIndexes: indexes,
    ciphersuite,
  });
  const theirVerify = (proof: Uint8Array, h = header, p = ph, msgs = disclosed) =>
    peer.verifyProof({
      publicKey: pk,
      proof,
      header: h,
      presentationHeader: p,
      disclosedMessages: msgs,
      disclosedMessageIndexes: indexes,
      ciphersuite,
    });
  expect(await theirVerify(ourProof), where).toBe(true);
  expect(bbs.proofVerify(pk, theirProof, header, ph, disclosed, indexes), where).toBe(true);
  stats.cases++;

  if (index % TAMPER_EVERY !== 0) return;
  // Tampered signatures: a flipped byte, another header. Both reject.
  const badSig = flipped(ourSig, c.flipAt);
  expect(bbs.verify(pk, badSig, header, messages), `${where}: flipped signature`).toBe(false);
  expect(
    await peerRejects(peer.verifySignature({ publicKey: pk, signature: badSig, header, messages, ciphersuite })),
    `${where}: flipped signature (peer)`,
  ).toBe(true);
  expect(bbs.verify(pk, ourSig, otherThan(header), messages), `${where}: other header`).toBe(false);
  expect(
    await peerRejects(peer.verifySignature({ publicKey: pk, signature: ourSig, header: otherThan(header), messages, ciphersuite })),
    `${where}: other header (peer)`,
  ).toBe(true);
  // Tampered proofs: a flipped byte, another header, another ph, another disclosed message.
  const badProof = flipped(theirProof, c.flipAt);
  expect(bbs.proofVerify(pk, badProof, header, ph, disclosed, indexes), `${where}: flipped proof`).toBe(false);
  expect(await peerRejects(theirVerify(flipped(ourProof, c.flipAt))), `${where}: flipped proof (peer)`).toBe(true);
  expect(bbs.proofVerify(pk, theirProof, otherThan(header), ph, disclosed, indexes), `${where}: other header in proof`).toBe(false);
  expect(await peerRejects(theirVerify(ourProof, otherThan(header))), `${where}: other header in proof (peer)`).toBe(true);
  expect(bbs.proofVerify(pk, theirProof, header, otherThan(ph), disclosed, indexes), `${where}: other ph`).toBe(false);
  expect(await peerRejects(theirVerify(ourProof, header, otherThan(ph))), `${where}: other ph (peer)`).toBe(true);
  if (disclosed.length > 0) {
    const wrong = [otherThan(disclosed[0] as Uint8Array), ...disclosed.slice(1)];
    expect(bbs.proofVerify(pk, theirProof, header, ph, wrong, indexes), `${where}: other disclosed message`).toBe(false);
    expect(await peerRejects(theirVerify(ourProof, header, ph, wrong)), `${where}: other disclosed message (peer)`).toBe(true);
  }
  stats.tampered++;
}

describe(`BBS interop with @digitalbazaar/bbs-signatures (${CASES} random cases, seed ${seed})`, () => {
  beforeAll(async () => {
    await bbs.ready();
    peer = await loadPeerBbsPool(WORKERS);
  });
  afterAll(async () => {
    await peer.close();
  });

  for (let start = 0; start < CASES; start += CHUNK) {
    it(`cases ${start}..${start + CHUNK - 1}`, { timeout: 120_000 }, async () => {
      let next = start;
      const end = Math.min(start + CHUNK, CASES);
      const runner = async () => {
        while (next < end) {
          const i = next++;
          await runCase(cases[i] as Case, i);
        }
      };
      await Promise.all(Array.from({ length: IN_FLIGHT }, runner));
    });
  }

  it('ran every case both ways', () => {
    console.log(`BBS interop: ${stats.cases} cases both ways, ${stats.tampered} tampered sets rejected by both (seed ${seed})`);
    expect(stats.cases).toBe(CASES);
    expect(stats.tampered).toBe(Math.ceil(CASES / TAMPER_EVERY));
  });
});

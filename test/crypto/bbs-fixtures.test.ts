/**
 * Every file of the draft's BLS12-381-SHA-256 fixtures (vendored in shared/crypto/vectors/, see its
 * README for where they come from; or $PROVENANT_FIXTURES) is run by its kind. The directory is walked recursively and any file
 * whose shape we do not recognise fails the run, so a fixture can never be silently skipped.
 */
import { readdirSync, readFileSync, statSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import * as bbs from '../../shared/crypto/bbs.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const fixturesRoot = process.env.PROVENANT_FIXTURES ?? path.resolve(repoRoot, 'shared', 'crypto', 'vectors');
// PROVENANT_FIXTURES may name the fixtures root or the suite directory itself.
const suiteDir = existsSync(path.join(fixturesRoot, 'keypair.json')) ? fixturesRoot : path.join(fixturesRoot, 'bbs-bls12-381-sha-256');

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

function walk(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const full = path.join(dir, name);
      return statSync(full).isDirectory() ? walk(full) : [full];
    });
}

type Json = Record<string, unknown>;
type Kind = 'generators' | 'h2s' | 'mapMessageToScalar' | 'keypair' | 'mockedRng' | 'signature' | 'proof';

/** What a fixture file is, judged by its fields (file names are not trusted). */
function kindOf(j: Json): Kind | null {
  const has = (...keys: string[]) => keys.every((k) => k in j);
  if (has('P1', 'Q1', 'MsgGenerators')) return 'generators';
  if (has('seed', 'dst', 'count', 'mockedScalars')) return 'mockedRng';
  if (has('keyMaterial', 'keyPair')) return 'keypair';
  if (has('dst', 'cases')) return 'mapMessageToScalar';
  if (has('message', 'dst', 'scalar')) return 'h2s';
  if (has('signerKeyPair', 'signature', 'header', 'messages', 'result')) return 'signature';
  if (has('signerPublicKey', 'signature', 'proof', 'presentationHeader', 'disclosedIndexes', 'result')) return 'proof';
  return null;
}

const files = walk(suiteDir);
const loaded = files.map((file) => {
  let json: Json | null = null;
  try {
    json = JSON.parse(readFileSync(file, 'utf8')) as Json;
  } catch {
    json = null;
  }
  return { file, rel: path.relative(suiteDir, file), json, kind: json === null ? null : kindOf(json) };
});
const mockedRng = loaded.find((f) => f.kind === 'mockedRng')?.json as { seed: string; dst: string } | undefined;
const ran: string[] = [];

const s = (v: unknown): string => v as string;
const arr = (v: unknown): string[] => v as string[];

const run: Record<Kind, (j: Json) => void> = {
  generators(j) {
    expect(bbs.P1_HEX).toBe(j.P1);
    const msgGens = arr(j.MsgGenerators);
    const gens = bbs.createGenerators(msgGens.length + 1).map(toHex);
    expect(gens[0]).toBe(j.Q1);
    expect(gens.slice(1)).toEqual(msgGens);
  },
  h2s(j) {
    expect(toHex(bbs.hashToScalar(hex(s(j.message)), hex(s(j.dst))))).toBe(j.scalar);
  },
  mapMessageToScalar(j) {
    const cases = j.cases as { message: string; scalar: string }[];
    expect(cases.length).toBeGreaterThan(0);
    const ours = bbs.messagesToScalars(cases.map((c) => hex(c.message))).map(toHex);
    expect(ours).toEqual(cases.map((c) => c.scalar));
    for (const c of cases) expect(toHex(bbs.hashToScalar(hex(c.message), hex(s(j.dst))))).toBe(c.scalar);
  },
  keypair(j) {
    const kp = j.keyPair as { secretKey: string; publicKey: string };
    expect(toHex(bbs.keyGen(hex(s(j.keyMaterial)), hex(s(j.keyInfo)), hex(s(j.keyDst))))).toBe(kp.secretKey);
    if (toHex(bbs.KEYGEN_DST) === j.keyDst) expect(toHex(bbs.keyGen(hex(s(j.keyMaterial)), hex(s(j.keyInfo))))).toBe(kp.secretKey);
    expect(toHex(bbs.skToPk(hex(kp.secretKey)))).toBe(kp.publicKey);
  },
  mockedRng(j) {
    expect(bbs.mockedCalculateRandomScalars(hex(s(j.seed)), hex(s(j.dst)), j.count as number).map(toHex)).toEqual(arr(j.mockedScalars));
  },
  signature(j) {
    const kp = j.signerKeyPair as { secretKey: string; publicKey: string };
    const pk = hex(kp.publicKey);
    const header = hex(s(j.header));
    const messages = arr(j.messages).map(hex);
    const valid = (j.result as { valid: boolean }).valid;
    expect(bbs.verify(pk, hex(s(j.signature)), header, messages)).toBe(valid);
    if (valid) {
      expect(toHex(bbs.sign(hex(kp.secretKey), pk, header, messages))).toBe(j.signature);
      const trace = j.trace as { domain?: string } | undefined;
      if (trace?.domain !== undefined) expect(toHex(bbs.calculateDomain(pk, header, messages.length))).toBe(trace.domain);
    }
  },
  proof(j) {
    const pk = hex(s(j.signerPublicKey));
    const header = hex(s(j.header));
    const ph = hex(s(j.presentationHeader));
    const messages = arr(j.messages).map(hex);
    const indexes = j.disclosedIndexes as number[];
    const proof = hex(s(j.proof));
    const valid = (j.result as { valid: boolean }).valid;
    const disclosed = indexes.map((i) => messages[i] ?? new Uint8Array(0));
    expect(bbs.proofVerify(pk, proof, header, ph, disclosed, indexes)).toBe(valid);
    if (!valid) return;
    expect(bbs.verify(pk, hex(s(j.signature)), header, messages)).toBe(true);
    const trace = j.trace as
      { random_scalars: Record<string, unknown>; A_bar: string; B_bar: string; D: string; domain: string; challenge: string } | undefined;
    expect(mockedRng, 'proofGen reproduction needs mockedRng.json').toBeDefined();
    if (mockedRng === undefined) return;
    let drawn: string[] = [];
    const source = (count: number): Uint8Array[] => {
      const out = bbs.mockedCalculateRandomScalars(hex(mockedRng.seed), hex(mockedRng.dst), count);
      drawn = out.map(toHex);
      return out;
    };
    const ours = bbs.proofGenWithRandomScalars(pk, hex(s(j.signature)), header, ph, messages, indexes, source);
    expect(toHex(ours)).toBe(j.proof);
    if (trace !== undefined) {
      const rs = trace.random_scalars;
      expect(drawn).toEqual([s(rs.r1), s(rs.r2), s(rs.e_tilde), s(rs.r1_tilde), s(rs.r3_tilde), ...arr(rs.m_tilde_scalars)]);
      expect(toHex(proof.subarray(0, 48))).toBe(trace.A_bar);
      expect(toHex(proof.subarray(48, 96))).toBe(trace.B_bar);
      expect(toHex(proof.subarray(96, 144))).toBe(trace.D);
      expect(toHex(proof.subarray(proof.length - 32))).toBe(trace.challenge);
      expect(toHex(bbs.calculateDomain(pk, header, messages.length))).toBe(trace.domain);
    }
    // A fresh proof with real randomness differs from the fixture yet verifies too.
    const fresh = bbs.proofGen(pk, hex(s(j.signature)), header, ph, messages, indexes);
    expect(toHex(fresh)).not.toBe(j.proof);
    expect(bbs.proofVerify(pk, fresh, header, ph, disclosed, indexes)).toBe(true);
  },
};

describe(`BBS fixtures in ${suiteDir}`, () => {
  beforeAll(async () => {
    await bbs.ready();
  });

  it('the fixture directory exists and is not empty', () => {
    expect(files.length, `no fixture files under ${suiteDir}`).toBeGreaterThan(0);
  });

  for (const f of loaded) {
    it(`${f.rel} (${f.kind ?? 'unrecognised'}${f.json && typeof f.json.caseName === 'string' ? `: ${f.json.caseName}` : ''})`, () => {
      expect(f.json, `${f.rel} is not JSON`).not.toBeNull();
      expect(f.kind, `${f.rel} has a shape no handler knows`).not.toBeNull();
      if (f.json === null || f.kind === null) return;
      run[f.kind](f.json);
      ran.push(f.rel);
    });
  }

  it('ran every file of the directory', () => {
    console.log(`BBS fixtures: ran ${ran.length} of ${files.length} files in ${suiteDir}`);
    expect(ran.length).toBe(files.length);
  });
});

/**
 * Fabric's block header hash (protoutil.BlockHeaderHash): our DER encoder against headers encoded
 * by OpenSSL (fixtures/gen-block-header-vectors.sh), including the big.Int edge cases (0, a set
 * top bit needing a 0x00 pad, 2^64-1) and an empty previous hash (the genesis block).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { blockDataHash, blockHeaderBytes, blockHeaderHash, toHex } from '../../ledger-bridge/fabric/block-hash.js';
import { fixtures } from './helpers.js';

interface Vector {
  number: string;
  previousHash: string;
  dataHash: string;
  der: string;
  hash: string;
}
const vectors = JSON.parse(readFileSync(join(fixtures, 'block-header-vectors.json'), 'utf8')) as Vector[];

describe('block header hash = SHA-256(DER(number, previous_hash, data_hash))', () => {
  it('has vectors to check', () => expect(vectors.length).toBeGreaterThanOrEqual(10));
  for (const v of vectors) {
    it(`block ${v.number}`, () => {
      const h = { number: BigInt(v.number), previousHash: Buffer.from(v.previousHash, 'hex'), dataHash: Buffer.from(v.dataHash, 'hex') };
      expect(toHex(blockHeaderBytes(h))).toBe(v.der);
      expect(toHex(blockHeaderHash(h))).toBe(v.hash);
    });
  }
  it('changes with every field', () => {
    const base = { number: 5, previousHash: new Uint8Array(32), dataHash: new Uint8Array(32).fill(1) };
    const h0 = toHex(blockHeaderHash(base));
    expect(toHex(blockHeaderHash({ ...base, number: 6 }))).not.toBe(h0);
    expect(toHex(blockHeaderHash({ ...base, previousHash: new Uint8Array(32).fill(2) }))).not.toBe(h0);
    expect(toHex(blockHeaderHash({ ...base, dataHash: new Uint8Array(32) }))).not.toBe(h0);
  });
  it('data hash is SHA-256 over the concatenated entries (protoutil.BlockDataHash)', () => {
    expect(toHex(blockDataHash([]))).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(toHex(blockDataHash([Buffer.from('ab'), Buffer.from('c')]))).toBe(toHex(blockDataHash([Buffer.from('abc')])));
    expect(toHex(blockDataHash([Buffer.from('abc')]))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
  it('rejects a negative block number', () => {
    expect(() => blockHeaderBytes({ number: -1, previousHash: new Uint8Array(), dataHash: new Uint8Array() })).toThrow(RangeError);
  });
});

/**
 * Proof formats of the embedded ledger and their pure verifiers, for an auditor who holds no
 * database: only a saved chain head (height, hash of the last block header).
 *
 * Inclusion: envelope → tx hash → audit path → block header's dataHash → block hash → audit path
 * → the head header's chainRoot (the RFC 9162 root over every earlier block hash) → head hash.
 * Consistency: the head at h2 extends the head at h1 when the chain tree of h1-1 leaves is a
 * prefix of the one of h2-1 leaves (RFC 9162 consistency proof) and block h1-1 is leaf h1-1.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import type { ChainHead } from '../client.js';
import { fromHex, toHex } from '../../shared/encoding/hex.js';
import { ValidationCode, decodeEnvelope, decodeHeader, validationCodeName } from './codec.js';
import { leafHash, verifyConsistencyPath, verifyInclusionPath } from './merkle.js';

/** Evidence of an embedded inclusion proof (every byte string is hex). */
export interface EmbeddedInclusionEvidence {
  readonly txIndex: number;
  /** The transaction envelope; its SHA-256 is the transaction hash. */
  readonly envelope: string;
  readonly txPath: readonly string[];
  /** Encoded header of the block holding the transaction. */
  readonly blockHeader: string;
  /** Audit path of the block hash in the chain tree the head header commits to. */
  readonly blockPath: readonly string[];
  /** Encoded header of the head block (its hash is head.hash). */
  readonly headHeader: string;
}

/** Evidence that the chain with head `second` extends the chain with head `first`. */
export interface ConsistencyProof {
  readonly first: ChainHead;
  readonly second: ChainHead;
  readonly firstHeader: string;
  readonly secondHeader: string;
  /** RFC 9162 consistency path between chain trees of first.height-1 and second.height-1 leaves. */
  readonly path: readonly string[];
  /** Audit path of block first.height-1 in the chain tree of second.height-1 leaves. */
  readonly firstBlockPath: readonly string[];
}

/** A verifier's answer: ok, or the first check that failed. */
export type ProofVerdict = { ok: true } | { ok: false; reason: string };

const fail = (reason: string): ProofVerdict => ({ ok: false, reason });

function hexList(list: unknown): Uint8Array[] | null {
  if (!Array.isArray(list)) return null;
  try {
    return list.map((h) => fromHex(h as string));
  } catch {
    return null;
  }
}

/**
 * Verifies an embedded inclusion proof (LedgerClient.inclusionProof's evidence). With
 * `trustedHead`, also checks the proof is relative to that head; without, relative to the head
 * the proof names (check that head against a saved one with verifyConsistency).
 */
export function verifyInclusion(
  proof: { txId: string; blockNumber: number; evidence: unknown; head: ChainHead },
  trustedHead?: ChainHead,
): ProofVerdict {
  try {
    const e = proof.evidence as EmbeddedInclusionEvidence;
    if (!e || typeof e !== 'object') return fail('evidence missing');
    if (trustedHead && (trustedHead.height !== proof.head.height || trustedHead.hash !== proof.head.hash))
      return fail('proof is relative to another head');
    const envelopeBytes = fromHex(e.envelope);
    const env = decodeEnvelope(envelopeBytes);
    if (env.txId !== proof.txId) return fail(`envelope is of tx ${env.txId}, not ${proof.txId}`);
    if (env.code !== ValidationCode.VALID) return fail(`transaction is on the chain but invalid (${validationCodeName(env.code)})`);
    const txHash = sha256(envelopeBytes);
    const blockHeaderBytes = fromHex(e.blockHeader);
    const header = decodeHeader(blockHeaderBytes);
    if (header.number !== proof.blockNumber) return fail(`header is of block ${header.number}, not ${proof.blockNumber}`);
    const txPath = hexList(e.txPath);
    if (!txPath || !verifyInclusionPath(leafHash(txHash), e.txIndex, header.txCount, txPath, header.dataHash))
      return fail('transaction hash does not lead to the block dataHash');
    const blockHash = sha256(blockHeaderBytes);
    const headHeaderBytes = fromHex(e.headHeader);
    const headHeader = decodeHeader(headHeaderBytes);
    if (toHex(sha256(headHeaderBytes)) !== proof.head.hash || headHeader.number !== proof.head.height - 1)
      return fail('head header does not hash to the head');
    const blockPath = hexList(e.blockPath);
    if (!blockPath) return fail('block path malformed');
    if (header.number === headHeader.number) {
      if (toHex(blockHash) !== proof.head.hash || blockPath.length !== 0) return fail('block is the head but its hash differs');
    } else if (!verifyInclusionPath(leafHash(blockHash), header.number, headHeader.number, blockPath, headHeader.chainRoot)) {
      return fail('block hash does not lead to the head chainRoot');
    }
    return { ok: true };
  } catch (err) {
    return fail(`malformed proof: ${(err as Error).message}`);
  }
}

/** Verifies that `proof.second` extends `proof.first`, optionally against the heads the caller saved. */
export function verifyConsistency(proof: ConsistencyProof, savedFirst?: ChainHead, savedSecond?: ChainHead): ProofVerdict {
  try {
    const { first, second } = proof;
    if (savedFirst && (savedFirst.height !== first.height || savedFirst.hash !== first.hash)) return fail('proof starts from another head');
    if (savedSecond && (savedSecond.height !== second.height || savedSecond.hash !== second.hash))
      return fail('proof ends at another head');
    if (!(first.height >= 1 && second.height >= first.height)) return fail(`heights ${first.height} → ${second.height} do not extend`);
    const firstBytes = fromHex(proof.firstHeader);
    const secondBytes = fromHex(proof.secondHeader);
    const h1 = decodeHeader(firstBytes);
    const h2 = decodeHeader(secondBytes);
    if (toHex(sha256(firstBytes)) !== first.hash || h1.number !== first.height - 1)
      return fail('first header does not hash to the first head');
    if (toHex(sha256(secondBytes)) !== second.hash || h2.number !== second.height - 1)
      return fail('second header does not hash to the second head');
    const path = hexList(proof.path);
    const leafPath = hexList(proof.firstBlockPath);
    if (!path || !leafPath) return fail('paths malformed');
    if (first.height === second.height)
      return first.hash === second.hash && path.length === 0 ? { ok: true } : fail('same height, different heads');
    if (!verifyConsistencyPath(h1.number, h2.number, h1.chainRoot, h2.chainRoot, path))
      return fail('chain tree of the first head is not a prefix of the second');
    if (!verifyInclusionPath(leafHash(fromHex(first.hash)), h1.number, h2.number, leafPath, h2.chainRoot))
      return fail('first head block is not in the second chain');
    return { ok: true };
  } catch (err) {
    return fail(`malformed proof: ${(err as Error).message}`);
  }
}

/**
 * Inclusion proofs on Fabric. Fabric gives light clients no inclusion-proof API, so the evidence
 * is the block itself (fetched through the peer's query system chaincode, qscc) plus the headers
 * of every later block up to a head: the verifier decodes the block, checks that its data hash
 * covers the envelopes, that the envelope with our transaction id is in it and was marked VALID
 * in the block's TRANSACTIONS_FILTER metadata, and that the header hashes chain from that block
 * to the head (each header's previous_hash is the hash of the one before). Trust then rests on
 * the head: one the auditor saved earlier, or one read from a peer it trusts.
 */
import { common } from '@hyperledger/fabric-protos';
import type { ChainHead, InclusionProof } from '../client.js';
import { ProvenantError } from '../../shared/errors.js';
import { Lru } from '../../shared/lru.js';
import { blockDataHash, blockHeaderHash, toHex } from './block-hash.js';

/** A header as carried in the evidence (hex fields). */
export interface HeaderEvidence {
  readonly number: number;
  readonly previousHash: string;
  readonly dataHash: string;
}

/** `InclusionProof.evidence` of the Fabric client. */
export interface FabricBlockEvidence {
  readonly kind: 'fabric-block';
  readonly channel: string;
  /** The serialized common.Block (base64) that holds the transaction. */
  readonly block: string;
  /** Position of the transaction's envelope in the block's data. */
  readonly txIndex: number;
  /** Headers of blocks blockNumber+1 … head.height-1, in order. */
  readonly headers: readonly HeaderEvidence[];
}

/** What a decoded block offers the verifier. */
export interface DecodedBlock {
  readonly number: number;
  readonly previousHash: Uint8Array;
  readonly dataHash: Uint8Array;
  readonly hash: Uint8Array;
  readonly data: readonly Uint8Array[];
  readonly txIds: readonly string[];
  readonly channels: readonly string[];
  /** TxValidationCode per transaction (metadata TRANSACTIONS_FILTER). */
  readonly validation: Uint8Array;
}

const TRANSACTIONS_FILTER = 2;

function proofError(message: string, details: Record<string, unknown> = {}): ProvenantError {
  return new ProvenantError('PROV_ERR_PROOF_INVALID', message, details);
}

/** Decodes a serialized common.Block into what the verifier needs. */
export function decodeBlock(bytes: Uint8Array): DecodedBlock {
  let block: common.Block;
  try {
    block = common.Block.deserializeBinary(bytes);
  } catch (cause) {
    throw proofError('block bytes do not decode as common.Block', { cause });
  }
  const header = block.getHeader();
  if (!header) throw proofError('block has no header');
  const data = block.getData()?.getDataList_asU8() ?? [];
  const txIds: string[] = [];
  const channels: string[] = [];
  for (const d of data) {
    try {
      const env = common.Envelope.deserializeBinary(d);
      const payload = common.Payload.deserializeBinary(env.getPayload_asU8());
      const ch = common.ChannelHeader.deserializeBinary(payload.getHeader()?.getChannelHeader_asU8() ?? new Uint8Array());
      txIds.push(ch.getTxId());
      channels.push(ch.getChannelId());
    } catch {
      txIds.push('');
      channels.push('');
    }
  }
  const md = block.getMetadata()?.getMetadataList_asU8() ?? [];
  const number = Number(header.getNumber());
  const previousHash = header.getPreviousHash_asU8();
  const dataHash = header.getDataHash_asU8();
  return {
    number,
    previousHash,
    dataHash,
    hash: blockHeaderHash({ number, previousHash, dataHash }),
    data,
    txIds,
    channels,
    validation: md[TRANSACTIONS_FILTER] ?? new Uint8Array(),
  };
}

/** A decoded block with the outcome of the check that its header's data hash covers its data. */
export interface CheckedBlock {
  readonly block: DecodedBlock;
  /** SHA-256 over the block's envelopes equals the header's data_hash. */
  readonly dataHashOk: boolean;
}

/** How many decoded blocks `checkedBlockOf` keeps (blocks are up to a few MB of envelopes). */
export const CHECKED_BLOCKS_KEPT = 32;
/** Blocks whose evidence text was decoded lately (base64 text → decoded and checked). */
const checkedBlocks = new Lru<string, CheckedBlock>(CHECKED_BLOCKS_KEPT);

/**
 * The block in a proof's evidence (`FabricBlockEvidence.block`, base64), decoded and its data hash
 * checked — once per block text, however many proofs of its transactions are checked or read
 * (every reading of a block asks about the same text). Keyed by the whole text, so it is a pure
 * function of the bytes: a block that differs in any byte is a different key, decoded and checked
 * on its own. What it returns is shared: callers must not change it.
 */
export function checkedBlockOf(base64: string): CheckedBlock {
  const hit = checkedBlocks.get(base64);
  if (hit !== undefined) return hit;
  const block = decodeBlock(Buffer.from(base64, 'base64'));
  Object.freeze(block.txIds);
  Object.freeze(block.channels);
  Object.freeze(block.data);
  const checked: CheckedBlock = Object.freeze({ block, dataHashOk: toHex(blockDataHash(block.data)) === toHex(block.dataHash) });
  checkedBlocks.set(base64, checked);
  return checked;
}

/** The evidence headers of a decoded block. */
export function headerEvidence(b: DecodedBlock): HeaderEvidence {
  return { number: b.number, previousHash: toHex(b.previousHash), dataHash: toHex(b.dataHash) };
}

/**
 * Verifies a Fabric inclusion proof; returns normally when it holds and throws
 * PROV_ERR_PROOF_INVALID naming the failed check otherwise. With `trustedHead` (a head the
 * auditor saved earlier) the proof's hash chain must pass through it: either the proof is
 * against that very head, or the head is a later one and the saved head's block is on the
 * chain between the transaction's block and it — so history up to the saved head is unchanged.
 * A saved head older than the transaction's block cannot be checked from this evidence.
 */
export function verifyFabricInclusion(proof: InclusionProof, trustedHead?: ChainHead): void {
  const ev = proof.evidence as FabricBlockEvidence;
  if (!ev || ev.kind !== 'fabric-block') throw proofError('evidence is not a Fabric block proof');
  if (typeof ev.block !== 'string' || !Number.isSafeInteger(ev.txIndex) || !Array.isArray(ev.headers))
    throw proofError('evidence is not a Fabric block proof');
  const { block: b, dataHashOk } = checkedBlockOf(ev.block);
  const where = { txId: proof.txId, blockNumber: proof.blockNumber };
  if (b.number !== proof.blockNumber) throw proofError(`block is number ${b.number}, proof says ${proof.blockNumber}`, where);
  if (!dataHashOk) throw proofError(`block ${b.number}: data hash does not match its transactions`, where);
  if (b.txIds[ev.txIndex] !== proof.txId)
    throw proofError(`block ${b.number}: transaction ${proof.txId} is not at index ${ev.txIndex}`, where);
  if (b.channels[ev.txIndex] !== ev.channel)
    throw proofError(`block ${b.number}: transaction is on channel "${b.channels[ev.txIndex]}", not "${ev.channel}"`, where);
  if (b.validation[ev.txIndex] !== 0)
    throw proofError(`block ${b.number}: transaction ${proof.txId} was not committed as VALID (code ${b.validation[ev.txIndex]})`, where);
  let hash = toHex(b.hash);
  let number = b.number;
  const chain = new Map<number, string>([[number, hash]]);
  for (const h of ev.headers) {
    if (h.number !== number + 1) throw proofError(`header ${h.number} follows block ${number}`, where);
    if (h.previousHash !== hash) throw proofError(`block ${h.number}: previous hash does not match block ${number}`, where);
    hash = toHex(
      blockHeaderHash({ number: h.number, previousHash: Buffer.from(h.previousHash, 'hex'), dataHash: Buffer.from(h.dataHash, 'hex') }),
    );
    number = h.number;
    chain.set(number, hash);
  }
  if (number !== proof.head.height - 1 || hash !== proof.head.hash)
    throw proofError(`the hash chain ends at block ${number} ${hash}, not at the head`, where);
  if (trustedHead) {
    const at = trustedHead.height - 1;
    if (at < b.number) {
      throw proofError(
        `the trusted head ${trustedHead.height}/${trustedHead.hash} is older than block ${b.number}: prove against a later saved head`,
        where,
      );
    }
    const onChain = chain.get(at);
    if (onChain === undefined) {
      throw proofError(
        `the trusted head ${trustedHead.height}/${trustedHead.hash} is newer than the proof's head ${proof.head.height}`,
        where,
      );
    }
    if (onChain !== trustedHead.hash) {
      throw proofError(
        `block ${at} hashes to ${onChain}, not the trusted head's ${trustedHead.hash}: history was rewritten or the head is wrong`,
        where,
      );
    }
  }
}

/**
 * The auditor's ProofChecker shape (ledger-bridge/auditor): `{ ok: true }` when the Fabric proof
 * holds, `{ ok: false, reason }` when it does not, `{ ok: 'unchecked' }` for other backends'
 * evidence, so it can be chained with the embedded ledger's checker.
 */
export function checkFabricInclusion(
  proof: InclusionProof,
  trustedHead?: ChainHead,
): { ok: true } | { ok: false; reason: string } | { ok: 'unchecked'; reason: string } {
  const ev = proof.evidence as { kind?: unknown } | null;
  if (ev === null || typeof ev !== 'object' || ev.kind !== 'fabric-block') return { ok: 'unchecked', reason: 'not a Fabric block proof' };
  try {
    verifyFabricInclusion(proof, trustedHead);
    return { ok: true };
  } catch (err) {
    return { ok: false, reason: err instanceof Error ? err.message : String(err) };
  }
}

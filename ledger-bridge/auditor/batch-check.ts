/**
 * The auditor's check of a batch record's evidence: the provenance record the ledger answered
 * with is one leaf of a batch record (docs/contracts.md "State layout"), and verify's answer
 * carries the path from that leaf to the batch's Merkle root. The auditor recomputes the leaf
 * from the record itself, walks the path (RFC 9162) and requires the root to be the one the
 * proven transaction wrote — read from that transaction's write set in the inclusion proof's
 * evidence (the embedded ledger's envelope, or the Fabric block's read/write set). So a record
 * that was altered, or taken from another batch, does not pass even though its transaction is
 * on the chain.
 */
import { common, ledger as fabricLedger, peer } from '@hyperledger/fabric-protos';
import type { InclusionProof } from '../client.js';
import { KEY_TYPES } from '../contracts/keys.js';
import { decodeBatchRecord, recordLeafHash, type BatchProof } from '../contracts/logic/batch-layout.js';
import { decodeEnvelope } from '../embedded/codec.js';
import { createCompositeKey } from '../embedded/keys.js';
import { verifyInclusionPath } from '../embedded/merkle.js';
import { checkedBlockOf } from '../fabric/block-proof.js';
import type { ProofVerdict } from '../embedded/proofs.js';
import type { ProvenanceRecord } from '../../shared/records.js';

/** The batch path of verify's answer, with the auditor's check of it. */
export interface BatchEvidence extends BatchProof {
  readonly check: ProofVerdict | { ok: 'unchecked'; reason: string };
}

/** verify's `batch` field, if it is well formed. */
export function parseBatchProof(x: unknown): BatchProof | undefined {
  if (typeof x !== 'object' || x === null) return undefined;
  const b = x as Record<string, unknown>;
  const hex32 = (v: unknown): v is string => typeof v === 'string' && /^[0-9a-f]{64}$/.test(v);
  if (!hex32(b['root']) || !Number.isSafeInteger(b['leafIndex']) || !Number.isSafeInteger(b['leaves'])) return undefined;
  if (!Array.isArray(b['path']) || !b['path'].every(hex32)) return undefined;
  return { root: b['root'], leafIndex: b['leafIndex'] as number, leaves: b['leaves'] as number, path: b['path'] as string[] };
}

/** The public writes of the transaction a proof covers: key → value (undefined: not a format we read). */
export function provenTxWrites(proof: InclusionProof): Map<string, Uint8Array> | undefined {
  const e = proof.evidence as { envelope?: unknown; kind?: unknown; block?: unknown; txIndex?: unknown } | null;
  if (e === null || typeof e !== 'object') return undefined;
  if (typeof e.envelope === 'string') {
    const env = decodeEnvelope(Buffer.from(e.envelope, 'hex'));
    const out = new Map<string, Uint8Array>();
    for (const w of env.writes) if (w.value !== null) out.set(w.key, w.value);
    return out;
  }
  if (e.kind === 'fabric-block' && typeof e.block === 'string' && typeof e.txIndex === 'number') {
    // The block decoded once for every transaction of it that is read or checked (block-proof.ts).
    const data = checkedBlockOf(e.block).block.data[e.txIndex];
    if (data === undefined) return new Map();
    const payload = common.Payload.deserializeBinary(common.Envelope.deserializeBinary(data).getPayload_asU8());
    const tx = peer.Transaction.deserializeBinary(payload.getData_asU8());
    const out = new Map<string, Uint8Array>();
    for (const action of tx.getActionsList()) {
      const cap = peer.ChaincodeActionPayload.deserializeBinary(action.getPayload_asU8());
      const response = cap.getAction()?.getProposalResponsePayload_asU8();
      if (response === undefined) continue;
      const ca = peer.ChaincodeAction.deserializeBinary(peer.ProposalResponsePayload.deserializeBinary(response).getExtension_asU8());
      const rwset = fabricLedger.rwset.TxReadWriteSet.deserializeBinary(ca.getResults_asU8());
      for (const ns of rwset.getNsRwsetList()) {
        const kv = fabricLedger.rwset.kvrwset.KVRWSet.deserializeBinary(ns.getRwset_asU8());
        for (const w of kv.getWritesList()) if (!w.getIsDelete()) out.set(w.getKey(), w.getValue_asU8());
      }
    }
    return out;
  }
  return undefined;
}

/** The batch root a proven transaction wrote, or why it cannot be read (depends on the proof alone). */
export type WrittenRoot =
  | { readonly ok: true; readonly root: Uint8Array }
  | { readonly ok: false; readonly reason: string }
  | { readonly ok: 'unchecked'; readonly reason: string };

/**
 * The batch root transaction `txId` wrote, read from its write set in the inclusion proof's
 * evidence. O(batch): the auditor computes it once per proof (proof-cache.ts), not per reading.
 */
export function writtenBatchRoot(txId: string, proof: InclusionProof): WrittenRoot {
  let writes: Map<string, Uint8Array> | undefined;
  try {
    writes = provenTxWrites(proof);
  } catch (err) {
    return { ok: false, reason: `the proven transaction does not decode: ${(err as Error).message}` };
  }
  if (writes === undefined)
    return { ok: 'unchecked', reason: 'the inclusion proof is of a format whose write set the auditor does not read' };
  const value = writes.get(createCompositeKey(KEY_TYPES.batch, [txId]));
  if (value === undefined) return { ok: false, reason: `transaction ${txId} wrote no batch record` };
  try {
    return { ok: true, root: decodeBatchRecord(value).root };
  } catch (err) {
    return { ok: false, reason: `the batch record transaction ${txId} wrote does not decode: ${(err as Error).message}` };
  }
}

/**
 * Checks the record's path to its batch root, and that root against the proven transaction's
 * write (`written`: writtenBatchRoot of the same proof, when the caller has it already).
 */
export function checkBatchPath(
  record: ProvenanceRecord,
  batch: BatchProof,
  proof: InclusionProof,
  written: WrittenRoot = writtenBatchRoot(record.txId, proof),
): BatchEvidence['check'] {
  const root = Buffer.from(batch.root, 'hex');
  const path = batch.path.map((h) => Buffer.from(h, 'hex'));
  if (!verifyInclusionPath(recordLeafHash(record), batch.leafIndex, batch.leaves, path, root))
    return { ok: false, reason: `the record is not leaf ${batch.leafIndex} of the batch: its path does not lead to root ${batch.root}` };
  if (written.ok !== true) return written;
  if (!Buffer.from(written.root).equals(root))
    return {
      ok: false,
      reason: `the batch root differs from the one transaction ${record.txId} wrote (${Buffer.from(written.root).toString('hex')})`,
    };
  return { ok: true };
}

/**
 * The readings a committed Data Provenance transaction carried, read from the transaction itself
 * as its inclusion proof holds it: the embedded ledger's envelope (its arguments are in the
 * block), or the Fabric block (the proposal's arguments are in the endorsed transaction; transient
 * data never is). The follower checks the proof first, so the bytes it stores are the ones the
 * chain committed, not what some edge claims it sent.
 */
import type { InclusionProof } from '../client.js';
import { CONTRACTS } from '../client.js';
import { ProvenantError } from '../../shared/errors.js';
import { parseBatchArgument } from '../../shared/encoding/batch.js';
import { parseReadingBatch, type ReadingSubmission } from '../../shared/records.js';

/** Contract, function and arguments of a transaction (bytes: a binary argument of an embedded envelope). */
export interface TxCall {
  readonly contract: string;
  readonly fn: string;
  readonly args: readonly (string | Uint8Array)[];
}

function bad(message: string, txId: string): ProvenantError {
  return new ProvenantError('PROV_ERR_PROOF_INVALID', message, { txId });
}

/** The call recorded in an embedded-ledger proof's envelope. */
async function embeddedCall(proof: InclusionProof, envelopeHex: string): Promise<TxCall> {
  const { decodeEnvelope } = await import('../embedded/codec.js');
  const env = decodeEnvelope(new Uint8Array(Buffer.from(envelopeHex, 'hex')));
  if (env.txId !== proof.txId) throw bad(`the proof's envelope is transaction ${env.txId}, not ${proof.txId}`, proof.txId);
  return { contract: env.contract, fn: env.fn, args: env.args };
}

/** The call recorded in a Fabric block: Envelope → Payload → Transaction → ChaincodeActionPayload → invocation spec. */
async function fabricCall(proof: InclusionProof, blockB64: string, txIndex: number): Promise<TxCall> {
  const { common, peer } = await import('@hyperledger/fabric-protos');
  // The block decoded once for every transaction of it that is read or checked (block-proof.ts).
  const { checkedBlockOf } = await import('../fabric/block-proof.js');
  const raw = checkedBlockOf(blockB64).block.data[txIndex];
  if (raw === undefined) throw bad(`the block has no transaction at index ${txIndex}`, proof.txId);
  const payload = common.Payload.deserializeBinary(common.Envelope.deserializeBinary(raw).getPayload_asU8());
  const channelHeader = common.ChannelHeader.deserializeBinary(payload.getHeader()?.getChannelHeader_asU8() ?? new Uint8Array());
  if (channelHeader.getTxId() !== proof.txId) throw bad(`the block's transaction ${txIndex} is ${channelHeader.getTxId()}`, proof.txId);
  const tx = peer.Transaction.deserializeBinary(payload.getData_asU8());
  const action = tx.getActionsList()[0];
  if (action === undefined) throw bad('the transaction has no action', proof.txId);
  const cap = peer.ChaincodeActionPayload.deserializeBinary(action.getPayload_asU8());
  const cpp = peer.ChaincodeProposalPayload.deserializeBinary(cap.getChaincodeProposalPayload_asU8());
  const spec = peer.ChaincodeInvocationSpec.deserializeBinary(cpp.getInput_asU8()).getChaincodeSpec();
  const args = (spec?.getInput()?.getArgsList_asU8() ?? []).map((a) => Buffer.from(a).toString('utf8'));
  const [name, ...rest] = args;
  if (name === undefined) throw bad('the transaction names no function', proof.txId);
  const colon = name.indexOf(':');
  return colon < 0 ? { contract: '', fn: name, args: rest } : { contract: name.slice(0, colon), fn: name.slice(colon + 1), args: rest };
}

/** The call a proof's evidence records (embedded envelope or Fabric block). */
export async function callOf(proof: InclusionProof): Promise<TxCall> {
  const e = proof.evidence as { envelope?: unknown; kind?: unknown; block?: unknown; txIndex?: unknown } | null;
  if (e !== null && typeof e === 'object' && typeof e.envelope === 'string') return embeddedCall(proof, e.envelope);
  if (e !== null && typeof e === 'object' && e.kind === 'fabric-block' && typeof e.block === 'string' && typeof e.txIndex === 'number')
    return fabricCall(proof, e.block, e.txIndex);
  throw bad('the inclusion proof carries neither an embedded envelope nor a Fabric block', proof.txId);
}

/**
 * The readings of a DataProvenance.recordBatch / record call, in submission order (the order the
 * contract's result indexes refer to), from either encoding of the batch (packed or JSON). Any
 * other call has none.
 */
export function readingsOf(call: TxCall): readonly ReadingSubmission[] {
  if (call.contract !== '' && call.contract !== CONTRACTS.dataProvenance) return [];
  if (call.fn === 'recordBatch') return parseBatchArgument(call.args[0]).readings;
  if (call.fn === 'record') {
    const arg = call.args[0];
    const text = arg === undefined ? 'null' : typeof arg === 'string' ? arg : Buffer.from(arg).toString('utf8');
    return parseReadingBatch({ version: 1, readings: [JSON.parse(text)], partials: [] }).readings;
  }
  return [];
}

/**
 * The bridge's one interface to a ledger. The edge runtime and the auditor talk to the ledger
 * only through this; the embedded ledger (ledger-bridge/embedded) and the Fabric client
 * (ledger-bridge/fabric) implement it. Shaped after Fabric's gateway (submit / evaluate /
 * events) so both backends are thin, plus block-based proofs.
 */

import { codeOf } from '../shared/errors.js';

/** The four contracts, by their names on the ledger. */
export const CONTRACTS = {
  deviceRegistration: 'DeviceRegistration',
  deviceProvenance: 'DeviceProvenance',
  dataProvenance: 'DataProvenance',
  trafficProfile: 'TrafficProfileProvenance',
} as const;
export type ContractName = (typeof CONTRACTS)[keyof typeof CONTRACTS];

/**
 * A transaction proposal: contract, function, arguments, optional transient data. An argument is
 * text, or bytes where the function takes them (DataProvenance.recordBatch: the packed batch);
 * the embedded ledger stores bytes as they are, a backend that carries only text (Fabric's
 * contract API, the ledger's HTTP API) sends them as base64, which the same functions accept.
 */
export type ProposalArg = string | Uint8Array;

/** The arguments as text, a binary one as its base64 (for a backend that carries only text). */
export function textArgs(args: readonly ProposalArg[]): string[] {
  return args.map((a) => (typeof a === 'string' ? a : Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64')));
}

export interface Proposal {
  readonly contract: ContractName;
  readonly fn: string;
  readonly args: readonly ProposalArg[];
  /** Private inputs (e.g. K_IoT deposits) that must never be written into a block. */
  readonly transient?: Readonly<Record<string, Uint8Array>>;
}

/** The outcome of a committed transaction. */
export interface CommitResult {
  readonly txId: string;
  readonly blockNumber: number;
  /** The contract function's return value (UTF-8 JSON for our contracts). */
  readonly result: Uint8Array;
}

/** A chaincode event emitted by a committed transaction. */
export interface LedgerEvent {
  readonly blockNumber: number;
  readonly txId: string;
  readonly contract: string;
  readonly name: string;
  readonly payload: Uint8Array;
}

/** The head of the chain an auditor can save and later check consistency against. */
export interface ChainHead {
  readonly height: number;
  /** Hex hash of the last block's header. */
  readonly hash: string;
}

/** Evidence that a transaction is in block N, and that block N is in the chain with a head. */
export interface InclusionProof {
  readonly txId: string;
  readonly blockNumber: number;
  /** Backend-specific evidence (Merkle path for embedded; the block itself for Fabric). */
  readonly evidence: unknown;
  readonly head: ChainHead;
}

/** What the edge runtime and the auditor need from a ledger. */
export interface LedgerClient {
  /** Endorse, order and commit; resolves once committed (or rejects with a ProvenantError). */
  submit(proposal: Proposal): Promise<CommitResult>;
  /** Run a read-only function against the committed state. */
  evaluate(proposal: Omit<Proposal, 'transient'>): Promise<Uint8Array>;
  /** Chaincode events from `startBlock` on (inclusive), until the signal aborts. */
  events(options: { startBlock?: number; signal?: AbortSignal }): AsyncIterable<LedgerEvent>;
  /** The current head of the chain. */
  head(): Promise<ChainHead>;
  /** Evidence that `txId` is committed, relative to the current head. */
  inclusionProof(txId: string): Promise<InclusionProof>;
  close(): Promise<void>;
}

/**
 * True when the ledger says its contract has no function `fn` (fabric-contract-api's
 * unknownTransaction, on Fabric and the embedded ledger alike): a chaincode deployed before `fn`
 * was added. Callers fall back to what that chaincode offers.
 */
export function lacksFunction(err: unknown, fn: string): boolean {
  if (codeOf(err) !== 'PROV_ERR_ENDORSEMENT') return false;
  const message = err instanceof Error ? err.message : String(err);
  return message.includes('function that does not exist') && message.includes(fn);
}

/**
 * EmbeddedLedgerClient: the LedgerClient of the embedded ledger, acting as one configured
 * identity (like a Fabric gateway connection holds one identity).
 */
import type { ChainHead, CommitResult, InclusionProof, LedgerClient, LedgerEvent, Proposal } from '../client.js';
import { EmbeddedLedger, type EmbeddedLedgerOptions } from './ledger.js';

/** LedgerClient over an in-process EmbeddedLedger. */
export class EmbeddedLedgerClient implements LedgerClient {
  /**
   * @param ledger the open ledger
   * @param identity name of the configured identity to act as ('aa', 'edge-1', 'auditor', ...)
   * @param ownsLedger close the ledger when this client closes
   */
  constructor(
    readonly ledger: EmbeddedLedger,
    readonly identity: string,
    private readonly ownsLedger = false,
  ) {}

  /** Opens a ledger and a client that owns it. */
  static async open(options: EmbeddedLedgerOptions & { identity: string }): Promise<EmbeddedLedgerClient> {
    return new EmbeddedLedgerClient(await EmbeddedLedger.open(options), options.identity, true);
  }

  submit(proposal: Proposal): Promise<CommitResult> {
    return this.ledger.submit(this.identity, proposal);
  }

  evaluate(proposal: Omit<Proposal, 'transient'>): Promise<Uint8Array> {
    return this.ledger.evaluate(this.identity, proposal);
  }

  events(options: { startBlock?: number; signal?: AbortSignal }): AsyncIterable<LedgerEvent> {
    return this.ledger.events(options);
  }

  async head(): Promise<ChainHead> {
    return this.ledger.head();
  }

  async inclusionProof(txId: string): Promise<InclusionProof> {
    return this.ledger.inclusionProof(txId);
  }

  async close(): Promise<void> {
    if (this.ownsLedger) await this.ledger.close();
  }
}

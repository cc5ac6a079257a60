/**
 * FabricLedgerClient: the LedgerClient on Hyperledger Fabric, through @hyperledger/fabric-gateway
 * (1.11.x; 1.12 needs Node 22) over @grpc/grpc-js, as one client identity on one channel.
 *
 * - submit: `submitAsync` is proposal.endorse() followed by transaction.submit(); we keep the two
 *   steps apart so an orderer hiccup resubmits the SAME signed transaction (Fabric commits a
 *   transaction id at most once) instead of endorsing again, then wait with commit.getStatus().
 *   At most `maxInFlight` transactions are between endorsement and commit. MVCC / phantom read
 *   conflicts re-endorse (new transaction); unavailable peers back off. A failure is thrown,
 *   never swallowed: the caller keeps the readings in its outbox until a submit resolves.
 * - transient data (K_IoT deposits) travels as the proposal's transientData, never as arguments.
 * - events: getChaincodeEvents. An event is checkpointed when the consumer asks for the next one,
 *   so a reconnect resumes after the last event it finished; the one in hand at a stop or crash
 *   comes again (at-least-once, never lost). A caller that names its start block keeps its own
 *   position (the provenance follower keeps it in its database); `checkpointPath`'s file is where
 *   a caller that names none resumes after a restart.
 * - head / inclusionProof: qscc GetChainInfo / GetBlockByTxID / GetBlockByNumber (block-proof.ts).
 */
import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import type * as FabricGateway from '@hyperledger/fabric-gateway';
import type { ChaincodeEvent, Checkpointer, Contract, Gateway, Network } from '@hyperledger/fabric-gateway';
import { common } from '@hyperledger/fabric-protos';
import {
  CONTRACTS,
  type ChainHead,
  type CommitResult,
  type InclusionProof,
  type LedgerClient,
  type LedgerEvent,
  type Proposal,
  textArgs,
} from '../client.js';
import { EVENTS } from '../../shared/records.js';
import { ProvenantError } from '../../shared/errors.js';
import { toHex } from './block-hash.js';
import { decodeBlock, headerEvidence, verifyFabricInclusion, type FabricBlockEvidence, type HeaderEvidence } from './block-proof.js';
import { loadFabricConfig, validateFabricConfig, type FabricConfig } from './config.js';
import { commitError, retryByReendorsing, retrySameCall, toProvenantError, type Stage } from './errors.js';

type Gw = typeof FabricGateway;

/** Which contract emits which event (chaincode events carry only the chaincode name). */
const EVENT_CONTRACT: Record<string, string> = {
  [EVENTS.configured]: CONTRACTS.deviceRegistration,
  [EVENTS.deviceRegistered]: CONTRACTS.deviceRegistration,
  [EVENTS.deviceUpdated]: CONTRACTS.deviceRegistration,
  [EVENTS.deviceRevoked]: CONTRACTS.deviceRegistration,
  [EVENTS.readingsRecorded]: CONTRACTS.dataProvenance,
  [EVENTS.profileRecorded]: CONTRACTS.trafficProfile,
  [EVENTS.trafficDiscrepancy]: CONTRACTS.trafficProfile,
  [EVENTS.profilesRecorded]: CONTRACTS.trafficProfile,
  [EVENTS.trafficSiteJudged]: CONTRACTS.trafficProfile,
  [EVENTS.profileChangeAcknowledged]: CONTRACTS.trafficProfile,
};

/** Counters for benchmarks and metrics. */
export interface FabricClientStats {
  submitted: number;
  committed: number;
  reendorsed: number;
  resubmitted: number;
  statusRetries: number;
  /** Event streams re-opened after the peer broke or ended them. */
  eventReconnects: number;
}

/** Tuning that is not part of the deployment config. */
export interface FabricClientOptions {
  /** First backoff delay; doubles per retry up to 5 s, with jitter (default 200 ms). */
  readonly retryBackoffMs?: number;
}

function readFileFor(path: string, field: string): Buffer {
  try {
    return readFileSync(path);
  } catch (cause) {
    throw new ProvenantError(
      'PROV_ERR_CONFIG',
      `fabric config: cannot read ${field} "${path}": ${(cause as NodeJS.ErrnoException).code ?? cause}`,
      { field, cause },
    );
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A counting semaphore: bounds transactions in flight. */
class Slots {
  private free: number;
  private readonly waiting: (() => void)[] = [];
  constructor(n: number) {
    this.free = n;
  }
  async acquire(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return;
    }
    await new Promise<void>((r) => this.waiting.push(r));
  }
  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free++;
  }
}

/** LedgerClient over a Fabric gateway peer. */
export class FabricLedgerClient implements LedgerClient {
  readonly config: ReturnType<typeof validateFabricConfig>;
  readonly stats: FabricClientStats = { submitted: 0, committed: 0, reendorsed: 0, resubmitted: 0, statusRetries: 0, eventReconnects: 0 };
  private readonly gw: Gw;
  private readonly grpcClient: grpc.Client;
  private readonly gateway: Gateway;
  private readonly network: Network;
  private readonly contracts = new Map<string, Contract>();
  private readonly slots: Slots;
  private readonly backoffMs: number;
  private readonly headers = new Map<number, HeaderEvidence>();
  private closed = false;

  private constructor(gw: Gw, config: ReturnType<typeof validateFabricConfig>, options: FabricClientOptions) {
    this.gw = gw;
    this.config = config;
    this.backoffMs = options.retryBackoffMs ?? 200;
    this.slots = new Slots(config.maxInFlight);
    const cert = readFileFor(config.certPath, 'certPath');
    const key = readFileFor(config.keyPath, 'keyPath');
    let privateKey;
    try {
      privateKey = createPrivateKey(key);
    } catch (cause) {
      // The key's bytes never go into the message.
      throw new ProvenantError('PROV_ERR_CONFIG', `fabric config: keyPath "${config.keyPath}" is not a PEM private key`, {
        field: 'keyPath',
        cause,
      });
    }
    const channelOptions: grpc.ChannelOptions = {};
    let creds: grpc.ChannelCredentials;
    if (config.tlsCaCertPath) {
      creds = grpc.credentials.createSsl(readFileFor(config.tlsCaCertPath, 'tlsCaCertPath'));
      if (config.hostNameOverride) channelOptions['grpc.ssl_target_name_override'] = config.hostNameOverride;
    } else {
      creds = grpc.credentials.createInsecure();
    }
    this.grpcClient = new grpc.Client(config.peerEndpoint, creds, channelOptions);
    const t = config.timeouts;
    const deadline = (ms: number) => (): grpc.CallOptions => ({ deadline: Date.now() + ms });
    this.gateway = gw.connect({
      client: this.grpcClient,
      identity: { mspId: config.mspId, credentials: cert },
      signer: gw.signers.newPrivateKeySigner(privateKey),
      hash: gw.hash.sha256,
      evaluateOptions: deadline(t.evaluateMs),
      endorseOptions: deadline(t.endorseMs),
      submitOptions: deadline(t.submitMs),
      commitStatusOptions: deadline(t.commitStatusMs),
    });
    this.network = this.gateway.getNetwork(config.channel);
  }

  /**
   * Creates a client from a config object or a YAML/JSON file path. Does not wait for the peer:
   * an unreachable peer shows as PROV_ERR_LEDGER_UNAVAILABLE on the first call, so an edge box can
   * start (and fill its outbox) while the network is down.
   */
  static async connect(config: FabricConfig | string, options: FabricClientOptions = {}): Promise<FabricLedgerClient> {
    const cfg = typeof config === 'string' ? loadFabricConfig(config) : validateFabricConfig(config);
    const gw = await import('@hyperledger/fabric-gateway');
    return new FabricLedgerClient(gw, cfg, options);
  }

  private contract(name: string): Contract {
    let c = this.contracts.get(name);
    if (!c) this.contracts.set(name, (c = this.network.getContract(this.config.chaincode, name)));
    return c;
  }

  private ensureOpen(): void {
    if (this.closed) throw new ProvenantError('PROV_ERR_LEDGER_CLOSED', 'the Fabric ledger client is closed');
  }

  private async backoff(attempt: number): Promise<void> {
    const ms = Math.min(this.backoffMs * 2 ** attempt, 5_000);
    await sleep(ms / 2 + Math.random() * (ms / 2));
  }

  /** Repeats `fn` while it fails with an error `retry` accepts, up to maxRetries. */
  private async withRetry<T>(stage: Stage, txId: string | undefined, fn: () => Promise<T>, onRetry?: () => void): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn();
      } catch (err) {
        const e = toProvenantError(err, stage, txId);
        if (!retrySameCall(e) || attempt >= this.config.maxRetries || this.closed) throw e;
        onRetry?.();
        await this.backoff(attempt);
      }
    }
  }

  async submit(proposal: Proposal): Promise<CommitResult> {
    this.ensureOpen();
    await this.slots.acquire();
    try {
      for (let attempt = 0; ; attempt++) {
        try {
          return await this.submitOnce(proposal);
        } catch (err) {
          const e = toProvenantError(err, 'endorse');
          if (!retryByReendorsing(e) || attempt >= this.config.maxRetries || this.closed) throw e;
          this.stats.reendorsed++;
          await this.backoff(attempt);
        }
      }
    } finally {
      this.slots.release();
    }
  }

  /** One endorsement; the same signed transaction is resubmitted and its status re-read as needed. */
  private async submitOnce(proposal: Proposal): Promise<CommitResult> {
    const hasTransient = proposal.transient !== undefined && Object.keys(proposal.transient).length > 0;
    const p = this.contract(proposal.contract).newProposal(proposal.fn, {
      // Fabric's contract API hands a chaincode its arguments as UTF-8 text: bytes go as base64.
      arguments: textArgs(proposal.args),
      ...(hasTransient ? { transientData: { ...proposal.transient } } : {}),
      ...(hasTransient && this.config.transientEndorsingOrgs ? { endorsingOrganizations: [...this.config.transientEndorsingOrgs] } : {}),
    });
    const txId = p.getTransactionId();
    let tx;
    try {
      tx = await p.endorse();
    } catch (err) {
      throw toProvenantError(err, 'endorse', txId);
    }
    this.stats.submitted++;
    const commit = await this.withRetry(
      'submit',
      txId,
      () => tx.submit(),
      () => this.stats.resubmitted++,
    );
    const status = await this.withRetry(
      'commitStatus',
      txId,
      () => commit.getStatus(),
      () => this.stats.statusRetries++,
    );
    const blockNumber = Number(status.blockNumber);
    if (!status.successful) {
      const name = Object.entries(this.gw.StatusCode).find(([, v]) => v === status.code)?.[0] ?? String(status.code);
      throw commitError(status.code, name, txId, blockNumber);
    }
    this.stats.committed++;
    return { txId, blockNumber, result: tx.getResult() };
  }

  async evaluate(proposal: Omit<Proposal, 'transient'>): Promise<Uint8Array> {
    this.ensureOpen();
    return this.withRetry('evaluate', undefined, () =>
      this.contract(proposal.contract).evaluate(proposal.fn, { arguments: textArgs(proposal.args) }),
    );
  }

  /** Calls a qscc function; returns its payload. */
  private qscc(fn: string, ...args: string[]): Promise<Uint8Array> {
    this.ensureOpen();
    const qscc = this.network.getContract('qscc');
    return this.withRetry('qscc', undefined, () => qscc.evaluateTransaction(fn, this.config.channel, ...args));
  }

  async head(): Promise<ChainHead> {
    const info = common.BlockchainInfo.deserializeBinary(await this.qscc('GetChainInfo'));
    return { height: Number(info.getHeight()), hash: toHex(info.getCurrentblockhash_asU8()) };
  }

  /** The serialized common.Block number `n` (qscc GetBlockByNumber), as the peer stores it. */
  block(n: number): Promise<Uint8Array> {
    return this.qscc('GetBlockByNumber', String(n));
  }

  /** The header of block `n` (qscc GetBlockByNumber, cached): what an auditor chains from a saved head. */
  async blockHeader(n: number): Promise<HeaderEvidence> {
    const cached = this.headers.get(n);
    if (cached) return cached;
    const h = headerEvidence(decodeBlock(await this.block(n)));
    if (h.number !== n) throw new ProvenantError('PROV_ERR_PROOF_INVALID', `peer returned block ${h.number} for block ${n}`);
    this.headers.set(n, h);
    return h;
  }

  /**
   * The block holding `txId` and the headers from it to `options.head` (default: the current
   * head), verified before it is returned; see block-proof.ts for what is checked.
   */
  async inclusionProof(txId: string, options: { head?: ChainHead } = {}): Promise<InclusionProof> {
    const head = options.head ?? (await this.head());
    let blockBytes: Uint8Array;
    try {
      blockBytes = await this.qscc('GetBlockByTxID', txId);
    } catch (err) {
      const e = toProvenantError(err, 'qscc', txId);
      if (e.code === 'PROV_ERR_ENDORSEMENT')
        throw new ProvenantError('PROV_ERR_TX_NOT_FOUND', `transaction ${txId} is not on the chain: ${e.message}`, { txId, cause: e });
      throw e;
    }
    const block = decodeBlock(blockBytes);
    const txIndex = block.txIds.indexOf(txId);
    if (block.number > head.height - 1) {
      throw new ProvenantError('PROV_ERR_PROOF_INVALID', `transaction ${txId} is in block ${block.number}, after head ${head.height - 1}`, {
        txId,
      });
    }
    const headers: HeaderEvidence[] = [];
    for (let n = block.number + 1; n < head.height; n++) headers.push(await this.blockHeader(n));
    const evidence: FabricBlockEvidence = {
      kind: 'fabric-block',
      channel: this.config.channel,
      block: Buffer.from(blockBytes).toString('base64'),
      txIndex,
      headers,
    };
    const proof: InclusionProof = { txId, blockNumber: block.number, evidence, head };
    verifyFabricInclusion(proof);
    return proof;
  }

  /**
   * Chaincode events of valid transactions from `startBlock` (inclusive) on. Without a start
   * block: from just after the last event a consumer finished, when a checkpoint file is
   * configured and holds a position (at-least-once: the event in hand when the consumer stopped
   * is delivered again), else from the next block. A start block always wins over the file: the
   * caller holds its own position (a provenance database wiped and rebuilt from block 0 must get
   * block 0, not the file's position). The file is kept up to date either way. Reconnects with
   * backoff while the peer is unavailable, resuming after the last event delivered.
   */
  async *events(options: { startBlock?: number; signal?: AbortSignal } = {}): AsyncIterable<LedgerEvent> {
    this.ensureOpen();
    const file: Checkpointer | undefined = this.config.checkpointPath
      ? await this.gw.checkpointers.file(this.config.checkpointPath)
      : undefined;
    const checkpointer: Checkpointer = file && options.startBlock === undefined ? file : this.gw.checkpointers.inMemory();
    const signal = options.signal;
    for (let attempt = 0; !signal?.aborted && !this.closed;) {
      let stream;
      try {
        stream = await this.network.getChaincodeEvents(this.config.chaincode, {
          checkpoint: checkpointer,
          ...(options.startBlock !== undefined ? { startBlock: BigInt(options.startBlock) } : {}),
        });
      } catch (err) {
        const e = toProvenantError(err, 'events');
        if (!retrySameCall(e) || attempt >= this.config.maxRetries) throw e;
        await this.backoff(attempt++);
        continue;
      }
      const onAbort = (): void => stream.close();
      signal?.addEventListener('abort', onAbort, { once: true });
      try {
        for await (const ev of stream as AsyncIterable<ChaincodeEvent>) {
          attempt = 0;
          yield {
            blockNumber: Number(ev.blockNumber),
            txId: ev.transactionId,
            contract: EVENT_CONTRACT[ev.eventName] ?? ev.chaincodeName,
            name: ev.eventName,
            payload: ev.payload,
          };
          await checkpointer.checkpointChaincodeEvent(ev);
          if (file && file !== checkpointer) await file.checkpointChaincodeEvent(ev);
        }
        // The gateway never ends this stream by itself: an end means the peer went away.
        if (signal?.aborted || this.closed) return;
        if (attempt >= this.config.maxRetries)
          throw new ProvenantError('PROV_ERR_LEDGER_UNAVAILABLE', 'fabric events: the peer ended the event stream', { stage: 'events' });
        this.stats.eventReconnects++;
        await this.backoff(attempt++);
      } catch (err) {
        if (signal?.aborted || this.closed) return;
        const e = toProvenantError(err, 'events');
        if (e.code === 'PROV_ERR_CANCELLED') return;
        if (!retrySameCall(e) || attempt >= this.config.maxRetries) throw e;
        this.stats.eventReconnects++;
        await this.backoff(attempt++);
      } finally {
        signal?.removeEventListener('abort', onAbort);
        stream.close();
      }
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.gateway.close();
    this.grpcClient.close();
  }
}

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
 *   One block fetch serves every transaction in it: blocks fetched by number are kept (the last
 *   BLOCKS_KEPT, each decoded and its data hash checked once), with the VALID transaction ids they
 *   hold and those the event stream named, so a proof of a transaction whose block is known costs
 *   no GetBlockByTxID; headers are kept (the last HEADERS_KEPT); concurrent proofs share one
 *   GetChainInfo. Every proof is still verified before it is returned, and a proof that fails
 *   drops the blocks it was built from, so the next one fetches them again.
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
import { Lru } from '../../shared/lru.js';
import { ProvenantError } from '../../shared/errors.js';
import { toHex } from './block-hash.js';
import {
  checkedBlockOf,
  headerEvidence,
  verifyFabricInclusion,
  type DecodedBlock,
  type FabricBlockEvidence,
  type HeaderEvidence,
} from './block-proof.js';
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
  /** qscc reads by the proof path: GetChainInfo, GetBlockByNumber, GetBlockByTxID. */
  headReads: number;
  blockFetches: number;
  txLookups: number;
  /** Inclusion proofs built, and those whose block was already held (no block read for it). */
  proofs: number;
  proofsFromKeptBlock: number;
}

/** Blocks kept by number for proofs (each up to a few MB: a transaction of 2,000 readings is ~0.7 MB). */
const BLOCKS_KEPT = 64;
/** Block headers kept by number (~200 bytes each): the chain from a proof's block to the head. */
const HEADERS_KEPT = 65_536;
/** Transaction id → block number hints kept (from events and kept blocks). */
const TX_HINTS_KEPT = 65_536;
/** Header fetches in flight at once for one proof. */
const HEADER_FETCHES = 8;

/** A block fetched by number: decoded and its data hash checked once; its evidence text shared by its proofs. */
interface KeptBlock {
  readonly block: DecodedBlock;
  readonly base64: string;
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
  readonly stats: FabricClientStats = {
    submitted: 0,
    committed: 0,
    reendorsed: 0,
    resubmitted: 0,
    statusRetries: 0,
    eventReconnects: 0,
    headReads: 0,
    blockFetches: 0,
    txLookups: 0,
    proofs: 0,
    proofsFromKeptBlock: 0,
  };
  private readonly gw: Gw;
  private readonly grpcClient: grpc.Client;
  private readonly gateway: Gateway;
  private readonly network: Network;
  private readonly contracts = new Map<string, Contract>();
  private readonly slots: Slots;
  private readonly backoffMs: number;
  private readonly headers = new Lru<number, HeaderEvidence>(HEADERS_KEPT);
  private readonly blocks = new Lru<number, Promise<KeptBlock>>(BLOCKS_KEPT);
  private readonly txBlocks = new Lru<string, number>(TX_HINTS_KEPT);
  private headRead: Promise<ChainHead> | undefined;
  /**
   * How the auditor's `verifyMany`/`signatureLevelMany` reads on this client are coalesced
   * (LedgerReads.for): the chaincode answers a read's questions one after the other, each state
   * read a message to the peer, so 8 reads of 32 in flight answer more per second than 2 of 128
   * (bench fabric --answers 2000 at load 6: 488 against 313–319 answers/s, the same CPU per answer).
   */
  readonly readCoalescing = { maxBatch: 32, maxInFlight: 8 } as const;
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
    this.stats.headReads++;
    const info = common.BlockchainInfo.deserializeBinary(await this.qscc('GetChainInfo'));
    return { height: Number(info.getHeight()), hash: toHex(info.getCurrentblockhash_asU8()) };
  }

  /**
   * A head that covers block `n` (height > n): the GetChainInfo read in flight, shared with the
   * proofs asked meanwhile, or a new one. Never one read before this call unless it is still in
   * flight, so a proof's head is as fresh as a read of its own would be, within one round trip.
   */
  private async headCovering(n: number): Promise<ChainHead> {
    for (let tries = 0; ; tries++) {
      let read = this.headRead;
      if (read === undefined) {
        const p = this.head();
        this.headRead = read = p;
        const clear = (): void => {
          if (this.headRead === p) this.headRead = undefined;
        };
        p.then(clear, clear);
      }
      const h = await read;
      if (h.height > n || tries >= 1) return h;
    }
  }

  /** The serialized common.Block number `n` (qscc GetBlockByNumber), as the peer stores it (a copy: the client keeps its own). */
  async block(n: number): Promise<Uint8Array> {
    return new Uint8Array(Buffer.from((await this.keptBlock(n)).base64, 'base64'));
  }

  /**
   * Block `n`, fetched once while it is kept: decoded, its number and data hash checked, its
   * header and VALID transaction ids noted. A fetch that fails (or a block that does not check)
   * is not kept.
   */
  private keptBlock(n: number): Promise<KeptBlock> {
    const hit = this.blocks.get(n);
    if (hit !== undefined) return hit;
    this.stats.blockFetches++;
    const p = this.qscc('GetBlockByNumber', String(n)).then((bytes) => {
      const kept = this.admit(bytes);
      if (kept.block.number !== n)
        throw new ProvenantError('PROV_ERR_PROOF_INVALID', `peer returned block ${kept.block.number} for block ${n}`, { blockNumber: n });
      return kept;
    });
    this.blocks.set(n, p);
    p.catch(() => this.forget(n, p));
    return p;
  }

  /** Checks a block the peer sent and notes what it tells (header, VALID transactions); throws if its data hash does not match. */
  private admit(bytes: Uint8Array): KeptBlock {
    const base64 = Buffer.from(bytes).toString('base64');
    const { block, dataHashOk } = checkedBlockOf(base64);
    if (!dataHashOk)
      throw new ProvenantError(
        'PROV_ERR_PROOF_INVALID',
        `peer sent block ${block.number} whose data hash does not match its transactions`,
        {
          blockNumber: block.number,
        },
      );
    this.headers.set(block.number, headerEvidence(block));
    block.txIds.forEach((id, i) => {
      if (id !== '' && block.validation[i] === 0) this.txBlocks.set(id, block.number);
    });
    return { block, base64 };
  }

  /** Drops block `n` (and its header) from what is kept, if `only` is what is kept for it. */
  private forget(n: number, only?: Promise<KeptBlock>): void {
    if (only === undefined || this.blocks.get(n) === only) this.blocks.delete(n);
    this.headers.delete(n);
  }

  /** The header of block `n` (from the block, kept): what an auditor chains from a saved head. */
  async blockHeader(n: number): Promise<HeaderEvidence> {
    const cached = this.headers.get(n);
    if (cached) return cached;
    // keptBlock notes the header of every block it admits.
    return headerEvidence((await this.keptBlock(n)).block);
  }

  /** The block holding VALID transaction `txId`: a kept block when its number is known, else qscc GetBlockByTxID. */
  private async blockOf(txId: string): Promise<KeptBlock> {
    const hinted = this.txBlocks.get(txId);
    if (hinted !== undefined) {
      try {
        const kept = await this.keptBlock(hinted);
        if (kept.block.txIds.includes(txId)) {
          this.stats.proofsFromKeptBlock++;
          return kept;
        }
      } catch {
        // asked again by transaction id below
      }
    }
    this.stats.txLookups++;
    let bytes: Uint8Array;
    try {
      bytes = await this.qscc('GetBlockByTxID', txId);
    } catch (err) {
      const e = toProvenantError(err, 'qscc', txId);
      if (e.code === 'PROV_ERR_ENDORSEMENT')
        throw new ProvenantError('PROV_ERR_TX_NOT_FOUND', `transaction ${txId} is not on the chain: ${e.message}`, { txId, cause: e });
      throw e;
    }
    const kept = this.admit(bytes);
    if (this.blocks.get(kept.block.number) === undefined) this.blocks.set(kept.block.number, Promise.resolve(kept));
    return kept;
  }

  /**
   * The block holding `txId` and the headers from it to `options.head` (default: the current
   * head), verified before it is returned; see block-proof.ts for what is checked.
   */
  async inclusionProof(txId: string, options: { head?: ChainHead } = {}): Promise<InclusionProof> {
    this.ensureOpen();
    this.stats.proofs++;
    const kept = await this.blockOf(txId);
    const block = kept.block;
    const head = options.head ?? (await this.headCovering(block.number));
    if (block.number > head.height - 1) {
      throw new ProvenantError('PROV_ERR_PROOF_INVALID', `transaction ${txId} is in block ${block.number}, after head ${head.height - 1}`, {
        txId,
      });
    }
    const numbers: number[] = [];
    for (let n = block.number + 1; n < head.height; n++) numbers.push(n);
    const headers: HeaderEvidence[] = new Array(numbers.length);
    for (let i = 0; i < numbers.length; i += HEADER_FETCHES) {
      const part = numbers.slice(i, i + HEADER_FETCHES);
      (await Promise.all(part.map((n) => this.blockHeader(n)))).forEach((h, j) => (headers[i + j] = h));
    }
    const evidence: FabricBlockEvidence = {
      kind: 'fabric-block',
      channel: this.config.channel,
      block: kept.base64,
      txIndex: block.txIds.indexOf(txId),
      headers,
    };
    const proof: InclusionProof = { txId, blockNumber: block.number, evidence, head };
    try {
      verifyFabricInclusion(proof);
    } catch (err) {
      // What it was built from is not kept: the next proof reads it from the peer again.
      for (let n = block.number; n < head.height; n++) this.forget(n);
      throw err;
    }
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
          // Where its proof will look first (a hint only: the block is checked to hold it).
          this.txBlocks.set(ev.transactionId, Number(ev.blockNumber));
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

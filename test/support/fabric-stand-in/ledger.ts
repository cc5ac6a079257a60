/**
 * STAND-IN for a Fabric channel's ordering and commit path, in memory: Submit queues envelopes,
 * blocks are cut by count or by BatchTimeout (like the orderer's BatchSize/BatchTimeout), each
 * transaction is validated against committed versions (MVCC_READ_CONFLICT, DUPLICATE_TXID, as the
 * committing peer does), valid writes are applied, and blocks are built in Fabric's format:
 * header (number, previous_hash, data_hash), data = the signed envelopes, metadata with the
 * TRANSACTIONS_FILTER validation codes. Private writes never enter the block; only their
 * SHA-256 hashes do (collection hashed rw-set), as in Fabric.
 *
 * Used by the tests and `bench fabric --stand-in`; it does not check signatures or policies.
 */
import { createHash } from 'node:crypto';
import { common, ledger, peer } from '@hyperledger/fabric-protos';
import { blockDataHash, blockHeaderHash } from '../../../ledger-bridge/fabric/block-hash.js';
import type { Simulation, StateView } from './chaincode-peer.js';

const V = peer.TxValidationCode;
const sha256 = (b: Uint8Array | string): Uint8Array => new Uint8Array(createHash('sha256').update(b).digest());

/** A committed block with the per-transaction outcome the gateway and qscc need. */
export interface CommittedBlock {
  readonly block: common.Block;
  readonly number: number;
  readonly hash: Uint8Array;
  readonly txs: readonly { txId: string; code: number; event?: peer.ChaincodeEvent }[];
}

interface Queued {
  txId: string;
  envelope: Uint8Array;
  namespace: string;
  simulation?: Simulation;
  event?: peer.ChaincodeEvent;
}

type Versioned = { value: Uint8Array; version: { block: number; tx: number } };

/** Ordering + committing stand-in for one channel. */
export class StandInLedger implements StateView {
  readonly channel: string;
  private readonly state = new Map<string, Versioned>();
  private readonly privateState = new Map<string, Uint8Array>();
  private readonly historyOf = new Map<string, { txId: string; value: Uint8Array | null; committedAtMs: number }[]>();
  /** Most transactions ever waiting in the orderer queue at once (to check client concurrency). */
  peakQueued = 0;
  private readonly blocks: CommittedBlock[] = [];
  private readonly txIndex = new Map<string, { block: number; code: number }>();
  private readonly endorsed = new Map<string, { namespace: string; simulation: Simulation; event?: peer.ChaincodeEvent }>();
  private queue: Queued[] = [];
  private timer: NodeJS.Timeout | undefined;
  private held = false;
  private readonly listeners = new Set<(b: CommittedBlock) => void>();
  private readonly batchTimeoutMs: number;
  private readonly maxMessageCount: number;

  constructor(options: { channel: string; batchTimeoutMs: number; maxMessageCount: number }) {
    this.channel = options.channel;
    this.batchTimeoutMs = options.batchTimeoutMs;
    this.maxMessageCount = options.maxMessageCount;
    this.commitGenesis();
  }

  get height(): number {
    return this.blocks.length;
  }

  blockAt(n: number): CommittedBlock | undefined {
    return this.blocks[n];
  }

  txStatus(txId: string): { block: number; code: number } | undefined {
    return this.txIndex.get(txId);
  }

  /** Calls `fn` for every block committed from now on; returns an unsubscribe function. */
  onBlock(fn: (b: CommittedBlock) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  get(namespace: string, key: string): Versioned | undefined {
    return this.state.get(`${namespace}\u0000${key}`);
  }

  getPrivate(namespace: string, collection: string, key: string): Uint8Array | undefined {
    return this.privateState.get(`${namespace}\u0000${collection}\u0000${key}`);
  }

  history(namespace: string, key: string): readonly { txId: string; value: Uint8Array | null; committedAtMs: number }[] {
    return this.historyOf.get(`${namespace}\u0000${key}`) ?? [];
  }

  range(namespace: string, start: string, end: string): string[] {
    const prefix = `${namespace}\u0000`;
    const s = Buffer.from(start);
    const e = Buffer.from(end);
    return [...this.state.keys()]
      .filter((k) => k.startsWith(prefix))
      .map((k) => k.slice(prefix.length))
      .filter((k) => {
        const b = Buffer.from(k);
        return Buffer.compare(b, s) >= 0 && (end === '' || Buffer.compare(b, e) < 0);
      })
      .sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  }

  /** Remembers what endorsement simulated, like the peer's transient store keeps private data. */
  recordEndorsement(txId: string, namespace: string, simulation: Simulation, event?: peer.ChaincodeEvent): void {
    this.endorsed.set(txId, { namespace, simulation, ...(event ? { event } : {}) });
  }

  /** Builds the public rw-set bytes Fabric puts in the ChaincodeAction (private data hashed). */
  static rwsetBytes(namespace: string, sim: Simulation): Uint8Array {
    const kv = new ledger.rwset.kvrwset.KVRWSet();
    for (const [key, version] of sim.reads) {
      const r = new ledger.rwset.kvrwset.KVRead();
      r.setKey(key);
      if (version) {
        const v = new ledger.rwset.kvrwset.Version();
        v.setBlockNum(version.block);
        v.setTxNum(version.tx);
        r.setVersion(v);
      }
      kv.addReads(r);
    }
    for (const [key, value] of sim.writes) {
      const w = new ledger.rwset.kvrwset.KVWrite();
      w.setKey(key);
      if (value === null) w.setIsDelete(true);
      else w.setValue(value);
      kv.addWrites(w);
    }
    const ns = new ledger.rwset.NsReadWriteSet();
    ns.setNamespace(namespace);
    ns.setRwset(kv.serializeBinary());
    for (const [collection, writes] of sim.privateWrites) {
      const hashed = new ledger.rwset.kvrwset.HashedRWSet();
      for (const [key, value] of writes) {
        const wh = new ledger.rwset.kvrwset.KVWriteHash();
        wh.setKeyHash(sha256(key));
        if (value === null) wh.setIsDelete(true);
        else wh.setValueHash(sha256(value));
        hashed.addHashedWrites(wh);
      }
      const c = new ledger.rwset.CollectionHashedReadWriteSet();
      c.setCollectionName(collection);
      c.setHashedRwset(hashed.serializeBinary());
      c.setPvtRwsetHash(sha256(hashed.serializeBinary()));
      ns.addCollectionHashedRwset(c);
    }
    const tx = new ledger.rwset.TxReadWriteSet();
    tx.setDataModel(ledger.rwset.TxReadWriteSet.DataModel.KV);
    tx.addNsRwset(ns);
    return tx.serializeBinary();
  }

  /** Orderer intake: queue a signed envelope; a block is cut by count or timeout. */
  enqueue(txId: string, envelope: Uint8Array): void {
    const e = this.endorsed.get(txId);
    this.endorsed.delete(txId);
    this.queue.push({
      txId,
      envelope,
      namespace: e?.namespace ?? '',
      ...(e ? { simulation: e.simulation } : {}),
      ...(e?.event ? { event: e.event } : {}),
    });
    this.peakQueued = Math.max(this.peakQueued, this.queue.length);
    if (this.held) return;
    if (this.queue.length >= this.maxMessageCount) this.cut();
    else this.timer ??= setTimeout(() => this.cut(), this.batchTimeoutMs);
  }

  /** Transactions waiting in the orderer queue. */
  get queued(): number {
    return this.queue.length;
  }

  /** Stops cutting blocks (tests: line transactions up so they land in one block). */
  hold(): void {
    this.held = true;
  }

  /** Resumes cutting: everything queued is cut now, in blocks of MaxMessageCount. */
  release(): void {
    this.held = false;
    while (this.queue.length > 0) this.cut();
  }

  /** Stops the batch timer (pending transactions are cut into a final block). */
  close(): void {
    this.held = false;
    if (this.timer || this.queue.length > 0) this.cut();
  }

  private cut(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.queue.splice(0, this.maxMessageCount);
    if (batch.length === 0) return;
    const number = this.blocks.length;
    const codes: number[] = [];
    const txs: CommittedBlock['txs'][number][] = [];
    const seen = new Set<string>();
    batch.forEach((q, txNum) => {
      let code: number = V.VALID;
      if (this.txIndex.has(q.txId) || seen.has(q.txId)) code = V.DUPLICATE_TXID;
      else if (!q.simulation) code = V.INVALID_OTHER_REASON;
      else {
        for (const [key, version] of q.simulation.reads) {
          const cur = this.get(q.namespace, key);
          const same = cur ? version !== null && cur.version.block === version.block && cur.version.tx === version.tx : version === null;
          if (!same) {
            code = V.MVCC_READ_CONFLICT;
            break;
          }
        }
      }
      seen.add(q.txId);
      if (code === V.VALID && q.simulation) this.apply(q.txId, q.namespace, q.simulation, number, txNum);
      codes.push(code);
      txs.push({ txId: q.txId, code, ...(q.event ? { event: q.event } : {}) });
    });
    this.commit(
      batch.map((q) => q.envelope),
      codes,
      txs,
    );
    if (this.queue.length > 0 && !this.held) this.timer = setTimeout(() => this.cut(), this.batchTimeoutMs);
  }

  private apply(txId: string, namespace: string, sim: Simulation, block: number, tx: number): void {
    for (const [key, value] of sim.writes) {
      const k = `${namespace}\u0000${key}`;
      let h = this.historyOf.get(k);
      if (!h) this.historyOf.set(k, (h = []));
      h.push({ txId, value, committedAtMs: Date.now() });
      if (value === null) this.state.delete(k);
      else this.state.set(k, { value, version: { block, tx } });
    }
    for (const [collection, writes] of sim.privateWrites) {
      for (const [key, value] of writes) {
        const k = `${namespace}\u0000${collection}\u0000${key}`;
        if (value === null) this.privateState.delete(k);
        else this.privateState.set(k, value);
      }
    }
  }

  private commit(data: Uint8Array[], codes: number[], txs: CommittedBlock['txs'][number][]): void {
    const number = this.blocks.length;
    const prev = this.blocks[number - 1];
    const header = new common.BlockHeader();
    header.setNumber(number);
    header.setPreviousHash(prev ? prev.hash : new Uint8Array());
    header.setDataHash(blockDataHash(data));
    const blockData = new common.BlockData();
    blockData.setDataList(data);
    const metadata = new common.BlockMetadata();
    const emptyMd = new common.Metadata().serializeBinary();
    // SIGNATURES, LAST_CONFIG, TRANSACTIONS_FILTER (raw codes), ORDERER, COMMIT_HASH
    metadata.setMetadataList([emptyMd, emptyMd, Uint8Array.from(codes), new Uint8Array(), new Uint8Array()]);
    const block = new common.Block();
    block.setHeader(header);
    block.setData(blockData);
    block.setMetadata(metadata);
    const hash = blockHeaderHash({ number, previousHash: header.getPreviousHash_asU8(), dataHash: header.getDataHash_asU8() });
    const committed: CommittedBlock = { block, number, hash, txs };
    this.blocks.push(committed);
    txs.forEach((t) => {
      if (t.txId && !this.txIndex.has(t.txId)) this.txIndex.set(t.txId, { block: number, code: t.code });
    });
    for (const fn of this.listeners) fn(committed);
  }

  private commitGenesis(): void {
    const ch = new common.ChannelHeader();
    ch.setType(common.HeaderType.CONFIG);
    ch.setChannelId(this.channel);
    const hdr = new common.Header();
    hdr.setChannelHeader(ch.serializeBinary());
    const payload = new common.Payload();
    payload.setHeader(hdr);
    const env = new common.Envelope();
    env.setPayload(payload.serializeBinary());
    this.commit([env.serializeBinary()], [V.VALID], [{ txId: '', code: V.VALID }]);
  }
}

/**
 * STAND-IN for a Fabric peer's chaincode support: the peer side of the chaincode protocol
 * (peer.ChaincodeMessage over the `protos.Chaincode/Connect` stream), as a peer speaks it to a
 * chaincode-as-a-service endpoint. It dials the chaincode server, expects REGISTER carrying the
 * chaincode id, answers REGISTERED then READY, and runs transactions: TRANSACTION (signed
 * proposal + ChaincodeInput) → the chaincode's GET_STATE / PUT_STATE / DEL_STATE /
 * GET_STATE_BY_RANGE / QUERY_STATE_NEXT / QUERY_STATE_CLOSE (public and private) → COMPLETED or
 * ERROR. State comes from a `StateView` so the caller decides what "committed" means.
 *
 * It exists because no Fabric peer can run here (no Docker); it is used by the tests and by
 * `bench fabric --stand-in`, never by production code. A real peer also enforces ACLs, chaincode
 * lifecycle, key-level endorsement and range-query phantom checks, none of which this does.
 */
import * as grpc from '@grpc/grpc-js';
import { ledger, peer } from '@hyperledger/fabric-protos';
import { Timestamp } from 'google-protobuf/google/protobuf/timestamp_pb.js';
import { ProvenantError } from '../../../shared/errors.js';

const T = peer.ChaincodeMessage.Type;

/** Committed state the stand-in peer reads during simulation. */
export interface StateView {
  /** Committed value and version (block, tx) of a public key, or undefined. */
  get(namespace: string, key: string): { value: Uint8Array; version: { block: number; tx: number } } | undefined;
  /** Committed value of a private key in a collection, or undefined. */
  getPrivate(namespace: string, collection: string, key: string): Uint8Array | undefined;
  /** Public keys in [start, end) in byte order; end '' means unbounded. */
  range(namespace: string, start: string, end: string): string[];
  /** Committed modifications of a public key, oldest first (GetHistoryForKey). */
  history?(namespace: string, key: string): readonly { txId: string; value: Uint8Array | null; committedAtMs: number }[];
}

/** What one simulated transaction read and wrote (Fabric's rw-set, before hashing). */
export interface Simulation {
  readonly reads: Map<string, { block: number; tx: number } | null>;
  readonly writes: Map<string, Uint8Array | null>;
  /** collection → key → value (null = delete). */
  readonly privateWrites: Map<string, Map<string, Uint8Array | null>>;
}

/** Outcome of a TRANSACTION round trip. */
export interface ExecuteResult {
  readonly status: number;
  readonly message: string;
  readonly payload: Uint8Array;
  readonly event?: { name: string; payload: Uint8Array };
  readonly simulation: Simulation;
  /** Message types exchanged, in order (for protocol tests). */
  readonly trace: string[];
}

const typeName = (t: number): string => Object.keys(T).find((k) => (T as unknown as Record<string, number>)[k] === t) ?? String(t);

interface Pending {
  sim: Simulation;
  state: StateView;
  namespace: string;
  trace: string[];
  iterators: Map<string, string[]>;
  resolve: (r: ExecuteResult) => void;
  reject: (e: Error) => void;
}

/** A connection from the stand-in peer to one chaincode server. */
export class ChaincodePeerStandIn {
  readonly registeredId: string;
  readonly handshake: readonly string[];
  private readonly client: grpc.Client;
  private readonly stream: grpc.ClientDuplexStream<peer.ChaincodeMessage, peer.ChaincodeMessage>;
  private readonly pending = new Map<string, Pending>();
  private nextIterator = 0;

  private constructor(
    client: grpc.Client,
    stream: grpc.ClientDuplexStream<peer.ChaincodeMessage, peer.ChaincodeMessage>,
    id: string,
    handshake: string[],
  ) {
    this.client = client;
    this.stream = stream;
    this.registeredId = id;
    this.handshake = handshake;
    stream.on('data', (m: peer.ChaincodeMessage) => this.onMessage(m));
    stream.on('error', (e: Error) => this.failAll(e));
    stream.on('end', () => this.failAll(new Error('chaincode stream ended')));
  }

  /**
   * Dials a chaincode server as a peer does for chaincode-as-a-service and completes the
   * REGISTER → REGISTERED → READY handshake. `expectedId` is checked like the peer checks the
   * package id; `credentials` default to plaintext.
   */
  static async connect(
    address: string,
    options: { expectedId?: string; credentials?: grpc.ChannelCredentials; timeoutMs?: number } = {},
  ): Promise<ChaincodePeerStandIn> {
    const Client = grpc.makeGenericClientConstructor({}, 'Chaincode');
    const client = new Client(address, options.credentials ?? grpc.credentials.createInsecure());
    const stream = client.makeBidiStreamRequest<peer.ChaincodeMessage, peer.ChaincodeMessage>(
      '/protos.Chaincode/Connect',
      (m) => Buffer.from(m.serializeBinary()),
      (b) => peer.ChaincodeMessage.deserializeBinary(b),
    );
    const handshake: string[] = [];
    const id = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new ProvenantError('PROV_ERR_TIMEOUT', `no REGISTER from chaincode at ${address}`)),
        options.timeoutMs ?? 10_000,
      );
      const onError = (e: Error): void => {
        clearTimeout(timer);
        reject(new ProvenantError('PROV_ERR_LEDGER_UNAVAILABLE', `chaincode at ${address}: ${e.message}`, { cause: e }));
      };
      stream.once('error', onError);
      stream.once('data', (m: peer.ChaincodeMessage) => {
        clearTimeout(timer);
        stream.off('error', onError);
        handshake.push(`recv ${typeName(m.getType())}`);
        if (m.getType() !== T.REGISTER) return reject(new Error(`expected REGISTER, got ${typeName(m.getType())}`));
        const ccid = peer.ChaincodeID.deserializeBinary(m.getPayload_asU8()).getName();
        if (options.expectedId !== undefined && ccid !== options.expectedId) {
          return reject(new ProvenantError('PROV_ERR_CONFIG', `chaincode registered as "${ccid}", expected "${options.expectedId}"`));
        }
        for (const t of [T.REGISTERED, T.READY]) {
          const reply = new peer.ChaincodeMessage();
          reply.setType(t);
          stream.write(reply);
          handshake.push(`send ${typeName(t)}`);
        }
        resolve(ccid);
      });
    }).catch((e: unknown) => {
      stream.cancel();
      client.close();
      throw e;
    });
    return new ChaincodePeerStandIn(client, stream, id, handshake);
  }

  /**
   * Runs one TRANSACTION (or INIT) as the peer would during endorsement: sends the signed proposal
   * and input, answers the chaincode's state calls from `state`, records the rw-set.
   */
  execute(args: {
    channelId: string;
    txId: string;
    namespace: string;
    input: peer.ChaincodeInput;
    signedProposal: peer.SignedProposal;
    state: StateView;
  }): Promise<ExecuteResult> {
    const ctxId = args.channelId + args.txId;
    if (this.pending.has(ctxId)) return Promise.reject(new Error(`duplicate transaction ${args.txId} in flight`));
    return new Promise<ExecuteResult>((resolve, reject) => {
      const trace = ['send TRANSACTION'];
      this.pending.set(ctxId, {
        sim: { reads: new Map(), writes: new Map(), privateWrites: new Map() },
        state: args.state,
        namespace: args.namespace,
        trace,
        iterators: new Map(),
        resolve,
        reject,
      });
      const msg = new peer.ChaincodeMessage();
      msg.setType(T.TRANSACTION);
      msg.setTxid(args.txId);
      msg.setChannelId(args.channelId);
      msg.setPayload(args.input.serializeBinary());
      msg.setProposal(args.signedProposal);
      this.stream.write(msg);
    });
  }

  /** Closes the stream and the connection. */
  close(): void {
    this.stream.cancel();
    this.client.close();
  }

  private failAll(e: Error): void {
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }

  private reply(m: peer.ChaincodeMessage, type: number, payload: Uint8Array, p: Pending): void {
    const r = new peer.ChaincodeMessage();
    r.setType(type as peer.ChaincodeMessage.TypeMap[keyof peer.ChaincodeMessage.TypeMap]);
    r.setTxid(m.getTxid());
    r.setChannelId(m.getChannelId());
    r.setPayload(payload);
    p.trace.push(`send ${typeName(type)}`);
    this.stream.write(r);
  }

  private onMessage(m: peer.ChaincodeMessage): void {
    const ctxId = m.getChannelId() + m.getTxid();
    const p = this.pending.get(ctxId);
    if (!p) return;
    p.trace.push(`recv ${typeName(m.getType())}`);
    try {
      switch (m.getType()) {
        case T.COMPLETED: {
          this.pending.delete(ctxId);
          const resp = peer.Response.deserializeBinary(m.getPayload_asU8());
          const ev = m.getChaincodeEvent();
          p.resolve({
            status: resp.getStatus(),
            message: resp.getMessage(),
            payload: resp.getPayload_asU8(),
            ...(ev && ev.getEventName() ? { event: { name: ev.getEventName(), payload: ev.getPayload_asU8() } } : {}),
            simulation: p.sim,
            trace: p.trace,
          });
          return;
        }
        case T.ERROR: {
          this.pending.delete(ctxId);
          p.resolve({
            status: 500,
            message: Buffer.from(m.getPayload_asU8()).toString(),
            payload: new Uint8Array(),
            simulation: p.sim,
            trace: p.trace,
          });
          return;
        }
        case T.GET_STATE: {
          const req = peer.GetState.deserializeBinary(m.getPayload_asU8());
          const coll = req.getCollection();
          let value: Uint8Array | undefined;
          if (coll) value = p.state.getPrivate(p.namespace, coll, req.getKey());
          else {
            const cur = p.state.get(p.namespace, req.getKey());
            p.sim.reads.set(req.getKey(), cur ? cur.version : null);
            value = cur?.value;
          }
          this.reply(m, T.RESPONSE, value ?? new Uint8Array(), p);
          return;
        }
        case T.PUT_STATE: {
          const req = peer.PutState.deserializeBinary(m.getPayload_asU8());
          this.recordWrite(p, req.getCollection(), req.getKey(), req.getValue_asU8());
          this.reply(m, T.RESPONSE, new Uint8Array(), p);
          return;
        }
        case T.DEL_STATE: {
          const req = peer.DelState.deserializeBinary(m.getPayload_asU8());
          this.recordWrite(p, req.getCollection(), req.getKey(), null);
          this.reply(m, T.RESPONSE, new Uint8Array(), p);
          return;
        }
        case T.GET_STATE_BY_RANGE: {
          const req = peer.GetStateByRange.deserializeBinary(m.getPayload_asU8());
          if (req.getCollection()) throw new Error('private range queries are not supported by the stand-in peer');
          const keys = p.state.range(p.namespace, req.getStartkey(), req.getEndkey());
          this.reply(m, T.RESPONSE, this.queryBatch(p, keys).serializeBinary(), p);
          return;
        }
        case T.GET_HISTORY_FOR_KEY: {
          const req = peer.GetHistoryForKey.deserializeBinary(m.getPayload_asU8());
          const res = new peer.QueryResponse();
          // Fabric returns the newest modification first.
          for (const mod of [...(p.state.history?.(p.namespace, req.getKey()) ?? [])].reverse()) {
            const km = new ledger.queryresult.KeyModification();
            km.setTxId(mod.txId);
            km.setIsDelete(mod.value === null);
            // fabric-shim reads every modification's timestamp (a peer always sends one).
            km.setTimestamp(Timestamp.fromDate(new Date(mod.committedAtMs)));
            if (mod.value) km.setValue(mod.value);
            const item = new peer.QueryResultBytes();
            item.setResultbytes(km.serializeBinary());
            res.addResults(item);
          }
          res.setHasMore(false);
          res.setId(`it${this.nextIterator++}`);
          this.reply(m, T.RESPONSE, res.serializeBinary(), p);
          return;
        }
        case T.QUERY_STATE_NEXT:
        case T.QUERY_STATE_CLOSE: {
          // queryBatch answers ranges in one batch with has_more=false: nothing is left.
          this.reply(m, T.RESPONSE, new peer.QueryResponse().serializeBinary(), p);
          return;
        }
        default:
          throw new Error(`${typeName(m.getType())} is not supported by the stand-in peer`);
      }
    } catch (e) {
      this.reply(m, T.ERROR, Buffer.from((e as Error).message), p);
    }
  }

  private recordWrite(p: Pending, collection: string, key: string, value: Uint8Array | null): void {
    if (!collection) {
      p.sim.writes.set(key, value);
      return;
    }
    let coll = p.sim.privateWrites.get(collection);
    if (!coll) p.sim.privateWrites.set(collection, (coll = new Map()));
    coll.set(key, value);
  }

  private queryBatch(p: Pending, keys: string[]): peer.QueryResponse {
    const res = new peer.QueryResponse();
    for (const key of keys) {
      const cur = p.state.get(p.namespace, key);
      if (!cur) continue;
      p.sim.reads.set(key, cur.version);
      const kv = new ledger.queryresult.KV();
      kv.setNamespace(p.namespace);
      kv.setKey(key);
      kv.setValue(cur.value);
      const item = new peer.QueryResultBytes();
      item.setResultbytes(kv.serializeBinary());
      res.addResults(item);
    }
    res.setHasMore(false);
    res.setId(`it${this.nextIterator++}`);
    return res;
  }
}

/**
 * STAND-IN PEER: a real gRPC server implementing Fabric's `gateway.Gateway` service (Endorse,
 * Submit, CommitStatus, Evaluate, ChaincodeEvents) on 127.0.0.1, so the unmodified
 * @hyperledger/fabric-gateway client — our FabricLedgerClient — runs against it over real gRPC.
 * Endorsement executes the chaincode through the chaincode protocol (ChaincodePeerStandIn →
 * fabric-shim's chaincode server → the real contract classes); ordering and commit are
 * StandInLedger; `qscc` answers GetChainInfo / GetBlockByNumber / GetBlockByTxID from it.
 * Errors follow the Fabric gateway's codes and messages (internal/pkg/gateway): ABORTED with
 * ErrorDetail for failed endorsements, UNAVAILABLE when the orderer cannot be reached.
 *
 * Not a peer: no signature, ACL or endorsement-policy checks, one org, one channel. Tests and
 * `bench fabric --stand-in` only.
 */
import { createHash } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { common, gateway, google, msp, peer } from '@hyperledger/fabric-protos';
import type { orderer } from '@hyperledger/fabric-protos';
import { ChaincodePeerStandIn } from './chaincode-peer.js';
import { StandInLedger, type CommittedBlock } from './ledger.js';

/** Options of the stand-in peer. */
export interface StandInPeerOptions {
  readonly channel: string;
  readonly chaincodeName: string;
  /** Address of the chaincode server (`provenant chaincode serve`) this peer dials. */
  readonly chaincodeAddress: string;
  readonly mspId?: string;
  /** The orderer's BatchTimeout; Fabric's default is 2 s, tests use less. */
  readonly batchTimeoutMs?: number;
  /** The orderer's BatchSize.MaxMessageCount; Fabric's default is 500 (test-network: 10). */
  readonly maxMessageCount?: number;
  /** Serve TLS with this PEM key and certificate (as a peer's gateway port does). */
  readonly tls?: { readonly key: Buffer; readonly cert: Buffer };
}

/** Knobs to make the stand-in fail like a real network does. */
export interface StandInFaults {
  /** Submit answers UNAVAILABLE (orderer unreachable) this many times. */
  submitUnavailable: number;
  /** Every call answers UNAVAILABLE while true (peer overloaded / restarting). */
  down: boolean;
}

const sha256 = (b: Uint8Array): Uint8Array => new Uint8Array(createHash('sha256').update(b).digest());

function rpcError(code: grpc.status, message: string, details: gateway.ErrorDetail[] = []): grpc.ServiceError {
  const metadata = new grpc.Metadata();
  if (details.length) {
    const st = new google.rpc.Status();
    st.setCode(code);
    st.setMessage(message);
    for (const d of details) {
      // addDetails() creates the google.protobuf.Any, as status.WithDetails does in Go.
      const any = st.addDetails();
      any.setTypeUrl('type.googleapis.com/gateway.ErrorDetail');
      any.setValue(d.serializeBinary());
    }
    metadata.set('grpc-status-details-bin', Buffer.from(st.serializeBinary()));
  }
  return Object.assign(new Error(message), { code, details: message, metadata });
}

function parseProposal(sp: peer.SignedProposal | undefined) {
  if (!sp || sp.getProposalBytes_asU8().length === 0)
    throw rpcError(grpc.status.INVALID_ARGUMENT, 'the proposed transaction must contain a signed proposal');
  const proposal = peer.Proposal.deserializeBinary(sp.getProposalBytes_asU8());
  const header = common.Header.deserializeBinary(proposal.getHeader_asU8());
  const channelHeader = common.ChannelHeader.deserializeBinary(header.getChannelHeader_asU8());
  const ccpp = peer.ChaincodeProposalPayload.deserializeBinary(proposal.getPayload_asU8());
  const spec = peer.ChaincodeInvocationSpec.deserializeBinary(ccpp.getInput_asU8()).getChaincodeSpec();
  if (!spec) throw rpcError(grpc.status.INVALID_ARGUMENT, 'no chaincode spec is provided');
  return { proposal, header, channelHeader, ccpp, spec };
}

/** The stand-in peer: start with `StandInPeer.start`, point FabricLedgerClient at `address`. */
export class StandInPeer {
  readonly ledger: StandInLedger;
  readonly faults: StandInFaults = { submitUnavailable: 0, down: false };
  readonly address: string;
  private readonly server: grpc.Server;
  private readonly chaincode: ChaincodePeerStandIn;
  private readonly options: Required<StandInPeerOptions>;
  /** Open ChaincodeEvents streams and how to unsubscribe each from new blocks. */
  private readonly streams = new Map<grpc.ServerWritableStream<unknown, unknown>, () => void>();

  private constructor(server: grpc.Server, address: string, chaincode: ChaincodePeerStandIn, options: Required<StandInPeerOptions>) {
    this.server = server;
    this.address = address;
    this.chaincode = chaincode;
    this.options = options;
    this.ledger = new StandInLedger({
      channel: options.channel,
      batchTimeoutMs: options.batchTimeoutMs,
      maxMessageCount: options.maxMessageCount,
    });
  }

  /** Connects to the chaincode server, then listens on 127.0.0.1 (port 0 = any free port). */
  static async start(options: StandInPeerOptions, port = 0): Promise<StandInPeer> {
    const full = { mspId: 'Org1MSP', batchTimeoutMs: 50, maxMessageCount: 500, ...options } as Required<StandInPeerOptions>;
    const creds = options.tls
      ? grpc.ServerCredentials.createSsl(null, [{ private_key: options.tls.key, cert_chain: options.tls.cert }], false)
      : grpc.ServerCredentials.createInsecure();
    const chaincode = await ChaincodePeerStandIn.connect(full.chaincodeAddress);
    const server = new grpc.Server();
    const bound = await new Promise<number>((resolve, reject) =>
      server.bindAsync(`127.0.0.1:${port}`, creds, (e, p) => (e ? reject(e) : resolve(p))),
    );
    const self = new StandInPeer(server, `127.0.0.1:${bound}`, chaincode, full);
    server.addService(gateway.GatewayService as unknown as grpc.ServiceDefinition, {
      endorse: self.unary((r: gateway.EndorseRequest) => self.endorse(r)),
      submit: self.unary((r: gateway.SubmitRequest) => self.submit(r)),
      commitStatus: self.unary((r: gateway.SignedCommitStatusRequest, call) => self.commitStatus(r, call)),
      evaluate: self.unary((r: gateway.EvaluateRequest) => self.evaluate(r)),
      chaincodeEvents: (call: grpc.ServerWritableStream<gateway.SignedChaincodeEventsRequest, gateway.ChaincodeEventsResponse>) =>
        self.chaincodeEvents(call),
    });
    return self;
  }

  /** Breaks every open ChaincodeEvents stream with UNAVAILABLE, as a restarting peer does. */
  dropEventStreams(): void {
    for (const [s, off] of this.streams) {
      off();
      // grpc-js ends a server stream with an error status when 'error' is emitted on it.
      s.emit('error', rpcError(grpc.status.UNAVAILABLE, 'stand-in peer restarting'));
    }
    this.streams.clear();
  }

  /** Stops listening, closes event streams and the chaincode connection. */
  async close(): Promise<void> {
    this.ledger.close();
    for (const [s, off] of this.streams) {
      off();
      s.end();
    }
    this.streams.clear();
    await new Promise<void>((resolve) => this.server.tryShutdown(() => resolve()));
    this.server.forceShutdown();
    this.chaincode.close();
  }

  private unary<Req, Res>(fn: (req: Req, call: grpc.ServerUnaryCall<Req, Res>) => Promise<Res>) {
    return (call: grpc.ServerUnaryCall<Req, Res>, callback: grpc.sendUnaryData<Res>): void => {
      if (this.faults.down) return callback(rpcError(grpc.status.UNAVAILABLE, 'stand-in peer is down'));
      fn(call.request, call).then(
        (res) => callback(null, res),
        (err: unknown) =>
          callback(
            (err as grpc.ServiceError).code !== undefined ? (err as grpc.ServiceError) : rpcError(grpc.status.INTERNAL, String(err)),
          ),
      );
    };
  }

  private detail(message: string): gateway.ErrorDetail {
    const d = new gateway.ErrorDetail();
    d.setAddress(this.address);
    d.setMspId(this.options.mspId);
    d.setMessage(message);
    return d;
  }

  private async run(sp: peer.SignedProposal | undefined, txId: string) {
    const parsed = parseProposal(sp);
    const ch = parsed.channelHeader.getChannelId();
    if (ch !== this.options.channel) throw rpcError(grpc.status.NOT_FOUND, `channel does not exist: ${ch}`);
    const name = parsed.spec.getChaincodeId()?.getName() ?? '';
    if (name !== this.options.chaincodeName) {
      throw rpcError(grpc.status.FAILED_PRECONDITION, `no peers available to evaluate chaincode ${name} in channel ${ch}`);
    }
    const result = await this.chaincode.execute({
      channelId: ch,
      txId,
      namespace: name,
      input: parsed.spec.getInput() ?? new peer.ChaincodeInput(),
      signedProposal: sp as peer.SignedProposal,
      state: this.ledger,
    });
    return { parsed, result };
  }

  private async endorse(req: gateway.EndorseRequest): Promise<gateway.EndorseResponse> {
    const txId = req.getTransactionId();
    const { parsed, result } = await this.run(req.getProposedTransaction(), txId);
    if (result.status >= 400) {
      throw rpcError(grpc.status.ABORTED, 'failed to endorse transaction, see attached details for more info', [
        this.detail(`chaincode response ${result.status}, ${result.message}`),
      ]);
    }
    const name = this.options.chaincodeName;
    let event: peer.ChaincodeEvent | undefined;
    if (result.event) {
      event = new peer.ChaincodeEvent();
      event.setChaincodeId(name);
      event.setTxId(txId);
      event.setEventName(result.event.name);
      event.setPayload(result.event.payload);
    }
    this.ledger.recordEndorsement(txId, name, result.simulation, event);
    const response = new peer.Response();
    response.setStatus(result.status);
    response.setMessage(result.message);
    response.setPayload(result.payload);
    const ccId = new peer.ChaincodeID();
    ccId.setName(name);
    const action = new peer.ChaincodeAction();
    action.setResults(StandInLedger.rwsetBytes(name, result.simulation));
    if (event) action.setEvents(event.serializeBinary());
    action.setResponse(response);
    action.setChaincodeId(ccId);
    // As the gateway does (prepareTransaction): the transient map never reaches the envelope.
    const ccppNoTransient = new peer.ChaincodeProposalPayload();
    ccppNoTransient.setInput(parsed.ccpp.getInput_asU8());
    const prp = new peer.ProposalResponsePayload();
    prp.setProposalHash(sha256(Buffer.concat([parsed.proposal.getHeader_asU8(), ccppNoTransient.serializeBinary()])));
    prp.setExtension$(action.serializeBinary());
    const endorser = new msp.SerializedIdentity();
    endorser.setMspid(this.options.mspId);
    endorser.setIdBytes(Buffer.from('stand-in peer (no certificate, no signature)'));
    const endorsement = new peer.Endorsement();
    endorsement.setEndorser(endorser.serializeBinary());
    const endorsed = new peer.ChaincodeEndorsedAction();
    endorsed.setProposalResponsePayload(prp.serializeBinary());
    endorsed.setEndorsementsList([endorsement]);
    const cap = new peer.ChaincodeActionPayload();
    cap.setChaincodeProposalPayload(ccppNoTransient.serializeBinary());
    cap.setAction(endorsed);
    const ta = new peer.TransactionAction();
    ta.setHeader(parsed.header.getSignatureHeader_asU8());
    ta.setPayload(cap.serializeBinary());
    const tx = new peer.Transaction();
    tx.setActionsList([ta]);
    const payload = new common.Payload();
    payload.setHeader(parsed.header);
    payload.setData(tx.serializeBinary());
    const env = new common.Envelope();
    env.setPayload(payload.serializeBinary());
    const res = new gateway.EndorseResponse();
    res.setPreparedTransaction(env);
    return res;
  }

  private async submit(req: gateway.SubmitRequest): Promise<gateway.SubmitResponse> {
    if (this.faults.submitUnavailable > 0) {
      this.faults.submitUnavailable--;
      throw rpcError(grpc.status.UNAVAILABLE, 'no orderer nodes available');
    }
    const env = req.getPreparedTransaction();
    if (!env || env.getSignature_asU8().length === 0) throw rpcError(grpc.status.INVALID_ARGUMENT, 'prepared transaction must be signed');
    this.ledger.enqueue(req.getTransactionId(), env.serializeBinary());
    return new gateway.SubmitResponse();
  }

  private async commitStatus(
    req: gateway.SignedCommitStatusRequest,
    call: grpc.ServerUnaryCall<unknown, unknown>,
  ): Promise<gateway.CommitStatusResponse> {
    const txId = gateway.CommitStatusRequest.deserializeBinary(req.getRequest_asU8()).getTransactionId();
    const status =
      this.ledger.txStatus(txId) ??
      (await new Promise<{ block: number; code: number }>((resolve, reject) => {
        const off = this.ledger.onBlock(() => {
          const s = this.ledger.txStatus(txId);
          if (s) {
            off();
            resolve(s);
          }
        });
        call.on('cancelled', () => {
          off();
          reject(rpcError(grpc.status.CANCELLED, 'commit status request cancelled'));
        });
      }));
    const res = new gateway.CommitStatusResponse();
    res.setResult(status.code as peer.TxValidationCodeMap[keyof peer.TxValidationCodeMap]);
    res.setBlockNumber(status.block);
    return res;
  }

  private async evaluate(req: gateway.EvaluateRequest): Promise<gateway.EvaluateResponse> {
    const parsed = parseProposal(req.getProposedTransaction());
    const name = parsed.spec.getChaincodeId()?.getName();
    const response = new peer.Response();
    if (name === 'qscc') {
      const args = (parsed.spec.getInput()?.getArgsList_asU8() ?? []).map((a) => Buffer.from(a).toString());
      response.setStatus(200);
      response.setPayload(this.qscc(args));
    } else {
      const { result } = await this.run(req.getProposedTransaction(), req.getTransactionId());
      if (result.status >= 400) {
        throw rpcError(grpc.status.ABORTED, 'evaluate call to endorser returned error: ' + result.message, [
          this.detail(`chaincode response ${result.status}, ${result.message}`),
        ]);
      }
      response.setStatus(result.status);
      response.setPayload(result.payload);
    }
    const res = new gateway.EvaluateResponse();
    res.setResult(response);
    return res;
  }

  /** The query system chaincode functions the verifier uses, answering as Fabric's qscc does. */
  private qscc(args: string[]): Uint8Array {
    const [fn, channel, arg] = args;
    if (channel !== this.options.channel)
      throw rpcError(grpc.status.ABORTED, `chaincode response 500, Failed to get ledger for channel: ${channel}`);
    const l = this.ledger;
    if (fn === 'GetChainInfo') {
      const last = l.blockAt(l.height - 1) as CommittedBlock;
      const info = new common.BlockchainInfo();
      info.setHeight(l.height);
      info.setCurrentblockhash(last.hash);
      info.setPreviousblockhash(last.block.getHeader()?.getPreviousHash_asU8() ?? new Uint8Array());
      return info.serializeBinary();
    }
    let b: CommittedBlock | undefined;
    if (fn === 'GetBlockByNumber') b = l.blockAt(Number(arg));
    else if (fn === 'GetBlockByTxID') {
      const s = arg ? l.txStatus(arg) : undefined;
      b = s ? l.blockAt(s.block) : undefined;
    } else throw rpcError(grpc.status.ABORTED, `chaincode response 500, Requested function ${fn} not found.`);
    if (!b) throw rpcError(grpc.status.ABORTED, `chaincode response 500, Failed to get block ${arg}: not found`);
    return b.block.serializeBinary();
  }

  private chaincodeEvents(call: grpc.ServerWritableStream<gateway.SignedChaincodeEventsRequest, gateway.ChaincodeEventsResponse>): void {
    if (this.faults.down) {
      call.destroy(rpcError(grpc.status.UNAVAILABLE, 'stand-in peer is down'));
      return;
    }
    const req = gateway.ChaincodeEventsRequest.deserializeBinary(call.request.getRequest_asU8());
    const pos = req.getStartPosition();
    let next = this.ledger.height;
    if (pos?.hasSpecified()) next = Number((pos.getSpecified() as orderer.SeekSpecified).getNumber());
    else if (pos?.hasOldest()) next = 0;
    let skipUntil = req.getAfterTransactionId();
    const send = (b: CommittedBlock): void => {
      let events = b.txs.filter(
        (t) => t.code === peer.TxValidationCode.VALID && t.event && t.event.getChaincodeId() === req.getChaincodeId(),
      );
      if (skipUntil) {
        const i = b.txs.findIndex((t) => t.txId === skipUntil);
        if (i >= 0) events = events.filter((t) => b.txs.indexOf(t) > i);
        skipUntil = '';
      }
      if (events.length === 0) return;
      const res = new gateway.ChaincodeEventsResponse();
      res.setBlockNumber(b.number);
      res.setEventsList(events.map((t) => t.event as peer.ChaincodeEvent));
      call.write(res);
    };
    const pump = (): void => {
      while (next < this.ledger.height) send(this.ledger.blockAt(next++) as CommittedBlock);
    };
    const off = this.ledger.onBlock(() => pump());
    this.streams.set(call as grpc.ServerWritableStream<unknown, unknown>, off);
    call.on('cancelled', () => {
      off();
      this.streams.delete(call as grpc.ServerWritableStream<unknown, unknown>);
    });
    pump();
  }
}

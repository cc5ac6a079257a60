/**
 * DOUBLE of a Fabric peer's chaincode-facing side, reduced to the handshake: it dials a chaincode
 * server over `protos.Chaincode/Connect` as a peer does for chaincode-as-a-service, expects
 * REGISTER carrying the chaincode id and answers REGISTERED and READY. Kept only for the chaincode
 * server's TLS and mutual-TLS tests (test/fabric/chaincode-tls.test.ts): showing those with the
 * real peer would need a TLS package with certificates for every case. Everything else the
 * chaincode server does is tested against the real Fabric peer (test/support/fabric/network.ts).
 */
import * as grpc from '@grpc/grpc-js';
import { peer } from '@hyperledger/fabric-protos';
import { ProvenantError } from '../../../shared/errors.js';

const T = peer.ChaincodeMessage.Type;
const typeName = (t: number): string => Object.keys(T).find((k) => (T as unknown as Record<string, number>)[k] === t) ?? String(t);

/** A registered connection to one chaincode server. */
export class ChaincodePeerDouble {
  private constructor(
    private readonly client: grpc.Client,
    private readonly stream: grpc.ClientDuplexStream<peer.ChaincodeMessage, peer.ChaincodeMessage>,
    /** The chaincode id the server registered with. */
    readonly registeredId: string,
    /** The messages of the handshake, in order. */
    readonly handshake: readonly string[],
  ) {}

  /** Dials and completes REGISTER → REGISTERED → READY; `expectedId` is checked as the peer checks the package id. */
  static async connect(
    address: string,
    options: { expectedId?: string; credentials?: grpc.ChannelCredentials; timeoutMs?: number } = {},
  ): Promise<ChaincodePeerDouble> {
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
        if (options.expectedId !== undefined && ccid !== options.expectedId)
          return reject(new ProvenantError('PROV_ERR_CONFIG', `chaincode registered as "${ccid}", expected "${options.expectedId}"`));
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
    stream.on('error', () => undefined); // the cancel at close
    return new ChaincodePeerDouble(client, stream, id, handshake);
  }

  /** Closes the stream and the connection. */
  close(): void {
    this.stream.cancel();
    this.client.close();
  }
}

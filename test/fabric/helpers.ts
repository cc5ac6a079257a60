/**
 * Test helpers for the Fabric tests: the fixture identity, and signed proposals built with
 * @hyperledger/fabric-protos the way a client SDK builds them (header, channel header,
 * signature header with the creator, ChaincodeProposalPayload with transient map).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { common, msp, peer } from '@hyperledger/fabric-protos';

export const fixtures = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');
export const certPath = join(fixtures, 'user-cert.pem');
export const keyPath = join(fixtures, 'user-key.pem');
export const certPem = readFileSync(certPath);

/** A signed proposal and its parts, as the peer receives it. */
export function makeProposal(opts: {
  channel: string;
  chaincode: string;
  args: string[];
  transient?: Record<string, Uint8Array>;
  mspId?: string;
}): { txId: string; signedProposal: peer.SignedProposal; input: peer.ChaincodeInput } {
  const txId = randomBytes(32).toString('hex');
  const creator = new msp.SerializedIdentity();
  creator.setMspid(opts.mspId ?? 'Org1MSP');
  creator.setIdBytes(certPem);
  const sigHeader = new common.SignatureHeader();
  sigHeader.setCreator(creator.serializeBinary());
  sigHeader.setNonce(randomBytes(24));
  const chHeader = new common.ChannelHeader();
  chHeader.setType(common.HeaderType.ENDORSER_TRANSACTION);
  chHeader.setChannelId(opts.channel);
  chHeader.setTxId(txId);
  const header = new common.Header();
  header.setChannelHeader(chHeader.serializeBinary());
  header.setSignatureHeader(sigHeader.serializeBinary());
  const input = new peer.ChaincodeInput();
  input.setArgsList(opts.args.map((a) => Buffer.from(a)));
  const ccid = new peer.ChaincodeID();
  ccid.setName(opts.chaincode);
  const spec = new peer.ChaincodeSpec();
  spec.setType(peer.ChaincodeSpec.Type.NODE);
  spec.setChaincodeId(ccid);
  spec.setInput(input);
  const cis = new peer.ChaincodeInvocationSpec();
  cis.setChaincodeSpec(spec);
  const ccpp = new peer.ChaincodeProposalPayload();
  ccpp.setInput(cis.serializeBinary());
  for (const [k, v] of Object.entries(opts.transient ?? {})) ccpp.getTransientmapMap().set(k, v);
  const proposal = new peer.Proposal();
  proposal.setHeader(header.serializeBinary());
  proposal.setPayload(ccpp.serializeBinary());
  const signedProposal = new peer.SignedProposal();
  signedProposal.setProposalBytes(proposal.serializeBinary());
  signedProposal.setSignature(randomBytes(64));
  return { txId, signedProposal, input };
}

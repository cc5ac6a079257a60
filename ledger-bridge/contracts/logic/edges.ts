/**
 * The edge registry and the binding of a submission to its submitter, as pure functions.
 *
 * The attribute authority maps each edge's ledger identity (MSP id + client id, as
 * ctx.clientIdentity gives it: on Fabric the X.509 subject and issuer of the certificate the MSP
 * validated, on the embedded ledger the identity its bearer token is bound to) to one edgeId.
 * Data Provenance then requires, for every reading of a batch:
 *
 *   caller's edgeId (from the registry) = the submission's edgeId
 *                                       = the partial's edgeId (inside its BBS-bound ph)
 *                                       = the device's registered gateway
 *
 * A device registered without a gateway is not pinned to one edge: any registered edge may record
 * its readings, the other three equalities still hold (the caller must be a registered edge, name
 * itself in the submission, and submit a partial made for itself, which only an edge holding the
 * device's credential can make). The authority pins a device to its edge with `gatewayId`
 * (register/update), and then only that edge may record it. A caller that is not a registered,
 * active edge cannot record anything (PROV_ERR_FORBIDDEN for the whole batch).
 */
import { assertIdentifier } from '../../../shared/crypto/presentation.js';
import { OK, REASONS, reject, type Verdict } from '../../../shared/crypto/verdict.js';
import { CONTRACT_ERRORS, contractError } from '../errors.js';
import { isPlainObject, parseJsonArg } from './args.js';
import type { Identity } from './registration.js';

/** An edge as the registry holds it (key edge~edgeId). */
export interface EdgeRecord {
  readonly edgeId: string;
  /** The ledger identity that acts as this edge. */
  readonly id: string;
  readonly mspId: string;
  /** Why it was revoked ('' while active). */
  readonly revokedReason: string;
  readonly status: 'active' | 'revoked';
  /** The transaction that wrote this version. */
  readonly txId: string;
  /** 1 at registration, +1 per change. */
  readonly version: number;
}

/** What registerEdge takes. */
export interface EdgeRegistration {
  readonly edgeId: string;
  readonly mspId: string;
  readonly id: string;
}

function bad(message: string, field: string): Error {
  return contractError(CONTRACT_ERRORS.BAD_INPUT, message, { field });
}

const ID_TEXT = /^[\x20-\x7e]{1,1024}$/;

/** Parses registerEdge's JSON { edgeId, mspId, id }. */
export function parseEdgeRegistration(json: string): EdgeRegistration {
  const input = parseJsonArg(json, 'edge');
  if (!isPlainObject(input)) throw bad('edge must be an object { edgeId, mspId, id }', 'edge');
  const { edgeId, mspId, id } = input;
  try {
    assertIdentifier(edgeId, 'edgeId');
  } catch (err) {
    throw bad((err as Error).message, 'edgeId');
  }
  if (typeof mspId !== 'string' || !/^[\x21-\x7e]{1,128}$/.test(mspId))
    throw bad('edge.mspId must be 1..128 printable characters', 'mspId');
  if (typeof id !== 'string' || !ID_TEXT.test(id)) throw bad('edge.id must be 1..1024 printable characters (the client id)', 'id');
  return { edgeId, id, mspId };
}

/** Is `caller` the identity of `edge`? */
export function isEdgeIdentity(edge: EdgeRecord, caller: Identity): boolean {
  return edge.mspId === caller.mspId && edge.id === caller.id;
}

/**
 * registerEdge: a new edge, or an existing one bound to a new identity (its certificate was
 * re-issued). `boundTo` is the edgeId the new identity already acts as, if any: one identity acts
 * as at most one edge.
 */
export function registerEdge(
  existing: EdgeRecord | undefined,
  boundTo: string | undefined,
  input: EdgeRegistration,
  txId: string,
): EdgeRecord {
  if (boundTo !== undefined && boundTo !== input.edgeId) {
    throw contractError(CONTRACT_ERRORS.EDGE_EXISTS, `identity ${input.mspId} ${input.id} already acts as edge ${boundTo}`, {
      field: 'id',
    });
  }
  return {
    edgeId: input.edgeId,
    id: input.id,
    mspId: input.mspId,
    revokedReason: '',
    status: 'active',
    txId,
    version: (existing?.version ?? 0) + 1,
  };
}

/** revokeEdge: the edge can no longer record readings. */
export function revokeEdge(existing: EdgeRecord | undefined, edgeId: string, reason: string, txId: string): EdgeRecord {
  if (existing === undefined) throw contractError(CONTRACT_ERRORS.EDGE_NOT_FOUND, `no edge ${edgeId} is registered`, { field: 'edgeId' });
  if (existing.status === 'revoked')
    throw contractError(CONTRACT_ERRORS.EDGE_NOT_FOUND, `edge ${edgeId} is already revoked`, { field: 'edgeId' });
  if (reason.length > 256) throw bad('reason must be at most 256 characters', 'reason');
  return { ...existing, revokedReason: reason === '' ? 'revoked' : reason, status: 'revoked', txId, version: existing.version + 1 };
}

/**
 * The edgeId the caller acts as, or PROV_ERR_FORBIDDEN: `edge` is the registry entry its
 * identity maps to (undefined when none).
 */
export function callerEdgeId(edge: EdgeRecord | undefined, caller: Identity, action: string): string {
  if (edge === undefined || !isEdgeIdentity(edge, caller)) {
    throw contractError(CONTRACT_ERRORS.FORBIDDEN, `only a registered edge may ${action}; caller ${caller.mspId} ${caller.id} is not one`, {
      field: 'identity',
    });
  }
  if (edge.status !== 'active')
    throw contractError(CONTRACT_ERRORS.FORBIDDEN, `edge ${edge.edgeId} is revoked and may not ${action}`, { field: 'identity' });
  return edge.edgeId;
}

/**
 * The reading's edge binding: the submission names the caller's edge, and the device's registered
 * gateway (when it has one) is that edge. PROOF_BINDING otherwise (the partial's own edge is
 * checked with the partial, {@link checkPartialEdge}).
 */
export function checkEdgeBinding(deviceId: string, gatewayId: string, callerEdge: string, submissionEdge: string): Verdict {
  if (submissionEdge !== callerEdge)
    return reject(
      REASONS.PROOF_BINDING,
      `device ${deviceId}: submission names edge ${submissionEdge}, but it was submitted by edge ${callerEdge}`,
    );
  if (gatewayId !== '' && gatewayId !== callerEdge)
    return reject(REASONS.PROOF_BINDING, `device ${deviceId} is registered to gateway ${gatewayId}, not to edge ${callerEdge}`);
  return OK;
}

/** A partial signature must be the caller's own: made for the edge that submits it. */
export function checkPartialEdge(deviceId: string, partialEdge: string, callerEdge: string): Verdict {
  if (partialEdge !== callerEdge)
    return reject(
      REASONS.PROOF_BINDING,
      `partial of device ${deviceId} was made for edge ${partialEdge}, but edge ${callerEdge} submitted it`,
    );
  return OK;
}

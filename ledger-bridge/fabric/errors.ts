/**
 * Fabric gateway errors → our error model, at the boundary, with the retry decision next to it.
 *
 * fabric-gateway reports a failed gRPC call as EndorseError / SubmitError / CommitStatusError
 * (GatewayError subclasses carrying the gRPC status `code` and per-peer `details`), and a
 * transaction that was ordered but invalidated as CommitError (or a Status) carrying the
 * TxValidationCode. What is safe to retry differs per stage:
 *  - endorsement never reached the orderer: any retry (new proposal) is safe;
 *  - submit of the SAME signed transaction is safe: Fabric commits a transaction id at most once;
 *  - commit status is a read: safe; re-endorsing instead could commit the data twice;
 *  - MVCC_READ_CONFLICT / PHANTOM_READ_CONFLICT: the transaction is invalid on the ledger, so a
 *    fresh endorsement (new transaction id) is the documented remedy.
 */
import { codeOf, ProvenantError } from '../../shared/errors.js';

/** gRPC status codes we branch on (@grpc/grpc-js `status`). */
export const GRPC = {
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;

/** Fabric TxValidationCode names for the codes we treat specially (peer/transaction.proto). */
export const TX_CODES = {
  VALID: 0,
  DUPLICATE_TXID: 9,
  ENDORSEMENT_POLICY_FAILURE: 10,
  MVCC_READ_CONFLICT: 11,
  PHANTOM_READ_CONFLICT: 12,
} as const;

/** The stage of a transaction an error came from. */
export type Stage = 'endorse' | 'submit' | 'commitStatus' | 'evaluate' | 'events' | 'qscc';

interface GatewayErrorLike {
  name?: string;
  code?: number;
  message?: string;
  details?: { address: string; message: string; mspId: string }[];
  transactionId?: string;
}

/** Converts an error thrown by fabric-gateway at `stage` into a ProvenantError. */
export function toProvenantError(err: unknown, stage: Stage, txId?: string): ProvenantError {
  if (err instanceof ProvenantError) return err;
  const e = (err ?? {}) as GatewayErrorLike;
  const id = e.transactionId ?? txId;
  const peerMessages = (e.details ?? []).map((d) => `${d.mspId}@${d.address}: ${d.message}`);
  const text = [e.message ?? String(err), ...peerMessages].join('; ');
  const base = { ...(id ? { txId: id } : {}), stage, grpcCode: e.code, cause: err };
  switch (e.code) {
    case GRPC.UNAVAILABLE:
      return new ProvenantError('PROV_ERR_LEDGER_UNAVAILABLE', `fabric ${stage}: peer unavailable: ${text}`, base);
    case GRPC.DEADLINE_EXCEEDED:
      return new ProvenantError('PROV_ERR_TIMEOUT', `fabric ${stage}: timed out: ${text}`, base);
    case GRPC.CANCELLED:
      return new ProvenantError('PROV_ERR_CANCELLED', `fabric ${stage}: cancelled: ${text}`, base);
    case GRPC.PERMISSION_DENIED:
    case GRPC.UNAUTHENTICATED:
      return new ProvenantError('PROV_ERR_FORBIDDEN', `fabric ${stage}: access denied: ${text}`, base);
    case GRPC.NOT_FOUND:
      return new ProvenantError('PROV_ERR_CONFIG', `fabric ${stage}: not found (channel or chaincode?): ${text}`, base);
    case GRPC.ABORTED:
    case GRPC.FAILED_PRECONDITION:
    case GRPC.UNKNOWN:
    case GRPC.INVALID_ARGUMENT: {
      const contractCode = codeOf(text);
      if (stage === 'endorse' || stage === 'evaluate' || stage === 'qscc') {
        return new ProvenantError('PROV_ERR_ENDORSEMENT', `fabric ${stage}: ${text}`, {
          ...base,
          ...(contractCode ? { contractCode } : {}),
        });
      }
      return new ProvenantError('PROV_ERR_SUBMIT', `fabric ${stage}: ${text}`, base);
    }
    default:
      return new ProvenantError('PROV_ERR_FABRIC', `fabric ${stage}: ${text}`, base);
  }
}

/** The error for a transaction that was ordered but not validated (TxValidationCode ≠ VALID). */
export function commitError(code: number, codeName: string, txId: string, blockNumber: number): ProvenantError {
  const c =
    code === TX_CODES.MVCC_READ_CONFLICT
      ? 'PROV_ERR_MVCC_READ_CONFLICT'
      : code === TX_CODES.PHANTOM_READ_CONFLICT
        ? 'PROV_ERR_PHANTOM_READ_CONFLICT'
        : code === TX_CODES.ENDORSEMENT_POLICY_FAILURE
          ? 'PROV_ERR_ENDORSEMENT_POLICY_FAILURE'
          : 'PROV_ERR_COMMIT';
  return new ProvenantError(c, `transaction ${txId} invalidated in block ${blockNumber}: ${codeName}`, {
    txId,
    blockNumber,
    validationCode: code,
  });
}

/** Whether a fresh endorsement (new transaction) may fix this error. */
export function retryByReendorsing(e: ProvenantError): boolean {
  const stage = e.details.stage as Stage | undefined;
  if (e.code === 'PROV_ERR_MVCC_READ_CONFLICT' || e.code === 'PROV_ERR_PHANTOM_READ_CONFLICT') return true;
  // Nothing reached the orderer yet: a new proposal cannot double-commit.
  return stage === 'endorse' && (e.code === 'PROV_ERR_LEDGER_UNAVAILABLE' || e.code === 'PROV_ERR_TIMEOUT');
}

/** Whether the same call (same transaction id) may simply be repeated. */
export function retrySameCall(e: ProvenantError): boolean {
  return e.code === 'PROV_ERR_LEDGER_UNAVAILABLE' || e.code === 'PROV_ERR_TIMEOUT';
}

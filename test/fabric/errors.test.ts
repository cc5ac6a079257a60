/**
 * The boundary between fabric-gateway's errors and ours, and the retry decisions next to it:
 * which errors may repeat the same call, which may endorse again, and which must reach the
 * caller untouched (so its outbox keeps the readings).
 */
import { describe, expect, it } from 'vitest';
import { codeOf, ProvenantError, type ErrorCode } from '../../shared/errors.js';
import { commitError, GRPC, retryByReendorsing, retrySameCall, toProvenantError, TX_CODES } from '../../ledger-bridge/fabric/errors.js';

const gatewayError = (
  code: number,
  message: string,
  details: { address: string; message: string; mspId: string }[] = [],
  transactionId?: string,
) => Object.assign(new Error(message), { name: 'EndorseError', code, details, ...(transactionId ? { transactionId } : {}) });

describe('toProvenantError', () => {
  it.each([
    [GRPC.UNAVAILABLE, 'endorse', 'PROV_ERR_LEDGER_UNAVAILABLE'],
    [GRPC.DEADLINE_EXCEEDED, 'submit', 'PROV_ERR_TIMEOUT'],
    [GRPC.CANCELLED, 'events', 'PROV_ERR_CANCELLED'],
    [GRPC.PERMISSION_DENIED, 'evaluate', 'PROV_ERR_FORBIDDEN'],
    [GRPC.NOT_FOUND, 'endorse', 'PROV_ERR_CONFIG'],
    [GRPC.ABORTED, 'endorse', 'PROV_ERR_ENDORSEMENT'],
    [GRPC.FAILED_PRECONDITION, 'endorse', 'PROV_ERR_ENDORSEMENT'],
    [GRPC.ABORTED, 'submit', 'PROV_ERR_SUBMIT'],
    [99, 'endorse', 'PROV_ERR_FABRIC'],
  ] as const)('gRPC %i at %s → %s', (grpcCode, stage, code) => {
    const e = toProvenantError(gatewayError(grpcCode, 'boom'), stage, 'tx1');
    expect(e).toBeInstanceOf(ProvenantError);
    expect(e.code).toBe(code);
    expect(e.details).toMatchObject({ stage, txId: 'tx1', grpcCode });
  });

  it('keeps the peers\u2019 messages and the contract code of a chaincode error', () => {
    const e = toProvenantError(
      gatewayError(
        GRPC.ABORTED,
        '10 ABORTED: failed to endorse transaction, see attached details for more info',
        [{ address: 'peer0:7051', mspId: 'Org1MSP', message: 'chaincode response 500, PROV_ERR_UNAUTHORIZED: only the authority' }],
        'abc',
      ),
      'endorse',
    );
    expect(e.message).toContain('Org1MSP@peer0:7051: chaincode response 500, PROV_ERR_UNAUTHORIZED');
    expect(e.details).toMatchObject({ contractCode: 'PROV_ERR_UNAUTHORIZED', txId: 'abc' });
  });

  it('passes our own errors through unchanged', () => {
    const mine = new ProvenantError('PROV_ERR_MVCC_READ_CONFLICT', 'x');
    expect(toProvenantError(mine, 'endorse')).toBe(mine);
  });

  it('finds a contract code anywhere in a message', () => {
    expect(codeOf('chaincode response 500, PROV_ERR_RECORD_NOT_FOUND: could not locate the record')).toBe('PROV_ERR_RECORD_NOT_FOUND');
    expect(codeOf('plain failure')).toBeUndefined();
  });
});

describe('commitError', () => {
  it.each([
    [TX_CODES.MVCC_READ_CONFLICT, 'PROV_ERR_MVCC_READ_CONFLICT'],
    [TX_CODES.PHANTOM_READ_CONFLICT, 'PROV_ERR_PHANTOM_READ_CONFLICT'],
    [TX_CODES.ENDORSEMENT_POLICY_FAILURE, 'PROV_ERR_ENDORSEMENT_POLICY_FAILURE'],
    [TX_CODES.DUPLICATE_TXID, 'PROV_ERR_COMMIT'],
  ])('validation code %i → %s, naming tx and block', (code, expected) => {
    const e = commitError(code, 'NAME', 'tx9', 12);
    expect(e.code).toBe(expected);
    expect(e.message).toBe('transaction tx9 invalidated in block 12: NAME');
    expect(e.details).toMatchObject({ txId: 'tx9', blockNumber: 12, validationCode: code });
  });
});

describe('retry decisions', () => {
  const at = (code: ErrorCode, stage: string) => new ProvenantError(code, 'x', { stage });
  it('re-endorses conflicts and endorsement-stage outages only', () => {
    expect(retryByReendorsing(at('PROV_ERR_MVCC_READ_CONFLICT', 'commitStatus'))).toBe(true);
    expect(retryByReendorsing(at('PROV_ERR_PHANTOM_READ_CONFLICT', 'commitStatus'))).toBe(true);
    expect(retryByReendorsing(at('PROV_ERR_LEDGER_UNAVAILABLE', 'endorse'))).toBe(true);
    expect(retryByReendorsing(at('PROV_ERR_TIMEOUT', 'endorse'))).toBe(true);
    // Once submitted, a new endorsement could commit the same readings twice.
    expect(retryByReendorsing(at('PROV_ERR_LEDGER_UNAVAILABLE', 'submit'))).toBe(false);
    expect(retryByReendorsing(at('PROV_ERR_TIMEOUT', 'commitStatus'))).toBe(false);
    expect(retryByReendorsing(at('PROV_ERR_ENDORSEMENT', 'endorse'))).toBe(false);
    expect(retryByReendorsing(at('PROV_ERR_ENDORSEMENT_POLICY_FAILURE', 'commitStatus'))).toBe(false);
  });
  it('repeats the same call only for outages and timeouts', () => {
    expect(retrySameCall(at('PROV_ERR_LEDGER_UNAVAILABLE', 'submit'))).toBe(true);
    expect(retrySameCall(at('PROV_ERR_TIMEOUT', 'commitStatus'))).toBe(true);
    expect(retrySameCall(at('PROV_ERR_ENDORSEMENT', 'evaluate'))).toBe(false);
    expect(retrySameCall(at('PROV_ERR_CONFIG', 'endorse'))).toBe(false);
  });
});

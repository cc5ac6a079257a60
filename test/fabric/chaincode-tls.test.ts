/**
 * The chaincode server's optional TLS, as connection.json's tls_required / client_auth_required
 * make the peer use it: server TLS (the peer checks root_cert), and mutual TLS (the server checks
 * the peer's client certificate against --tls-client-ca). Test-only keys in fixtures/tls (gen.sh).
 */
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { startChaincodeServer } from '../../ledger-bridge/fabric/chaincode-server.js';
import { ChaincodePeerDouble } from '../support/fabric/chaincode-peer-double.js';
import { CounterContract } from './fixtures/test-contract.js';
import { fixtures } from './helpers.js';

const tls = (f: string): string => join(fixtures, 'tls', f);
const pem = (f: string): Buffer => readFileSync(tls(f));

describe('chaincode server TLS', () => {
  it('serves over TLS: a peer trusting the CA registers; a plaintext peer does not', async () => {
    const server = await startChaincodeServer({
      address: '127.0.0.1:0',
      chaincodeId: 'provenant_1.0:tls',
      contracts: [CounterContract],
      tls: { keyPath: tls('server-key.pem'), certPath: tls('server-cert.pem') },
    });
    try {
      const peer = await ChaincodePeerDouble.connect(`127.0.0.1:${server.port}`, {
        credentials: grpc.credentials.createSsl(pem('ca-cert.pem')),
      });
      expect(peer.registeredId).toBe('provenant_1.0:tls');
      peer.close();
      await expect(ChaincodePeerDouble.connect(`127.0.0.1:${server.port}`, { timeoutMs: 3_000 })).rejects.toMatchObject({
        code: expect.stringMatching(/PROV_ERR_(LEDGER_UNAVAILABLE|TIMEOUT)/),
      });
    } finally {
      await server.close();
    }
  });

  it('with a client CA, only a peer presenting a certificate from it registers', async () => {
    const server = await startChaincodeServer({
      address: '127.0.0.1:0',
      chaincodeId: 'provenant_1.0:mtls',
      contracts: [CounterContract],
      tls: { keyPath: tls('server-key.pem'), certPath: tls('server-cert.pem'), clientCaCertPath: tls('ca-cert.pem') },
    });
    try {
      const withCert = grpc.credentials.createSsl(pem('ca-cert.pem'), pem('client-key.pem'), pem('client-cert.pem'));
      const peer = await ChaincodePeerDouble.connect(`127.0.0.1:${server.port}`, { credentials: withCert });
      expect(peer.registeredId).toBe('provenant_1.0:mtls');
      peer.close();
      const noCert = grpc.credentials.createSsl(pem('ca-cert.pem'));
      await expect(
        ChaincodePeerDouble.connect(`127.0.0.1:${server.port}`, { credentials: noCert, timeoutMs: 3_000 }),
      ).rejects.toBeInstanceOf(Error);
    } finally {
      await server.close();
    }
  });

  it('names an unreadable TLS file', async () => {
    await expect(
      startChaincodeServer({
        address: '127.0.0.1:0',
        chaincodeId: 'x',
        contracts: [CounterContract],
        tls: { keyPath: '/nope/key.pem', certPath: tls('server-cert.pem') },
      }),
    ).rejects.toMatchObject({ code: 'PROV_ERR_CONFIG', details: { field: 'tls-key' } });
  });
});

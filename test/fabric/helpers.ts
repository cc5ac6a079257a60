/**
 * Fixture files of the Fabric tests: a throwaway client certificate and key (not of any network;
 * enough for the config and connectivity tests that never reach a peer) and TLS material for the
 * chaincode server's TLS tests (fixtures/tls, made by gen.sh).
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const fixtures = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');
export const certPath = join(fixtures, 'user-cert.pem');
export const keyPath = join(fixtures, 'user-key.pem');

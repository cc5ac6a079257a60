/**
 * The test identities' certificates (test/support/fabric/identity.ts): valid X.509 v3 signed by
 * the CA, with a low-S signature whatever S the signer drew, OU=client/admin in the subject, and
 * the key file private. The real peer accepting them is shown by every real-network test that
 * uses `net.identity(...)` (e.g. test/ledger-client/fabric.test.ts).
 */
import { createPublicKey, generateKeyPairSync, verify, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { certificateParts, isLowS, issueOrgIdentity, selfSignedCa, signLowS } from '../support/fabric/identity.js';

const tmp = mkdtempSync(join(tmpdir(), 'prov-fabid-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('test identities signed by an organisation CA', () => {
  const ca = selfSignedCa('ca.org1.example.com');
  const org = { mspId: 'Org1MSP', domain: 'org1.example.com', caCertPath: '', caKeyPath: '' };

  it('makes a CA certificate that verifies itself and is a CA', () => {
    const cert = new X509Certificate(ca.certPem);
    expect(cert.ca).toBe(true);
    expect(cert.verify(cert.publicKey)).toBe(true);
    expect(isLowS(certificateParts(cert.raw).signature)).toBe(true);
  });

  it('issues client and admin identities the CA verifies, low-S, with OU and CN', () => {
    for (const [name, role] of [
      ['edge-1', 'client'],
      ['aa', 'admin'],
    ] as const) {
      const id = issueOrgIdentity(org, ca.certPem, ca.keyPem, tmp, name, role);
      const cert = new X509Certificate(id.certPem);
      expect(cert.verify(new X509Certificate(ca.certPem).publicKey)).toBe(true);
      expect(cert.checkIssued(new X509Certificate(ca.certPem))).toBe(true);
      expect(cert.ca).toBe(false);
      expect(cert.subject).toContain(`OU=${role}`);
      expect(cert.subject).toContain(`CN=${name}@org1.example.com`);
      expect(id.subject).toBe(`/C=US/ST=California/L=San Francisco/OU=${role}/CN=${name}@org1.example.com`);
      expect(isLowS(certificateParts(cert.raw).signature)).toBe(true);
      // Fabric validates the chain at leaf.notBefore + 1 s: the leaf never starts before its CA
      expect(Date.parse(cert.validFrom)).toBeGreaterThanOrEqual(Date.parse(new X509Certificate(ca.certPem).validFrom));
      expect(statSync(id.keyPath).mode & 0o777).toBe(0o600);
      expect(statSync(join(tmp, name)).mode & 0o777).toBe(0o700);
      // the key on disk belongs to the certificate
      expect(createPublicKey(readFileSync(id.keyPath)).export({ type: 'spki', format: 'der' })).toEqual(
        cert.publicKey.export({ type: 'spki', format: 'der' }),
      );
    }
  });

  it('the same name twice gives two identities', () => {
    const a = issueOrgIdentity(org, ca.certPem, ca.keyPem, join(tmp, 'a'), 'edge-2');
    const b = issueOrgIdentity(org, ca.certPem, ca.keyPem, join(tmp, 'b'), 'edge-2');
    expect(new X509Certificate(a.certPem).serialNumber).not.toBe(new X509Certificate(b.certPem).serialNumber);
  });

  it('signLowS always gives S <= n/2 and a signature that verifies', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    for (let i = 0; i < 40; i++) {
      const data = Buffer.from(`message ${i}`);
      const sig = signLowS(data, privateKey);
      expect(isLowS(sig)).toBe(true);
      expect(verify('sha256', data, publicKey, sig)).toBe(true);
    }
  });

  it('refuses a name that is not a short file-name-safe word', () => {
    expect(() => issueOrgIdentity(org, ca.certPem, ca.keyPem, tmp, '../x')).toThrow(/file-name-safe/);
  });
});

/**
 * Client identities of a test network's organisation, issued by the organisation's own CA (the
 * one cryptogen wrote under crypto/peerOrganizations/<org>/ca), so each test actor (an attribute
 * authority, edge-1, edge-2, an auditor) signs as a distinct X.509 identity that the real peer's
 * MSP accepts.
 *
 * The certificate is built here (DER by hand, P-256, ECDSA-SHA256) rather than with openssl so the
 * signature can be made low-S: these Fabric 2.4.9 binaries are built with Go 1.19, and Fabric 2.4's
 * MSP "sanitizes" certificates to low-S signatures, which with Go >= 1.19 breaks chains whose
 * certificates carry high-S signatures (golang/go#54549; see the kit's README, pitfall 1). A low-S
 * signature needs no sanitizing, so the certificate the client presents is byte-for-byte the one
 * the MSP validates.
 *
 * The subject carries OU=client (or admin): the network's MSPs enable NodeOUs, so an identity
 * without one of the node OUs is no member at all (Writers = Org1MSP.admin or Org1MSP.client).
 */
import { createHash, createPrivateKey, generateKeyPairSync, randomBytes, sign, X509Certificate, type KeyObject } from 'node:crypto';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

// ---------------------------------------------------------------- DER, the little we need

function len(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}
const tlv = (tag: number, ...content: Buffer[]): Buffer => {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), len(body.length), body]);
};
const seq = (...c: Buffer[]): Buffer => tlv(0x30, ...c);
const set = (...c: Buffer[]): Buffer => tlv(0x31, ...c);
/** A non-negative INTEGER from big-endian magnitude bytes (minimal, with a 0x00 when the top bit is set). */
function uint(bytes: Uint8Array): Buffer {
  let b = Buffer.from(bytes);
  while (b.length > 1 && b[0] === 0) b = b.subarray(1);
  if ((b[0] as number) & 0x80) b = Buffer.concat([Buffer.from([0]), b]);
  return tlv(0x02, b);
}
function oid(dotted: string): Buffer {
  const parts = dotted.split('.').map(Number);
  const out = [40 * (parts[0] as number) + (parts[1] as number)];
  for (const p of parts.slice(2)) {
    const enc = [p & 0x7f];
    for (let v = p >>> 7; v > 0; v >>>= 7) enc.unshift(0x80 | (v & 0x7f));
    out.push(...enc);
  }
  return tlv(0x06, Buffer.from(out));
}
const utf8 = (s: string): Buffer => tlv(0x0c, Buffer.from(s, 'utf8'));
const printable = (s: string): Buffer => tlv(0x13, Buffer.from(s, 'ascii'));
const octets = (b: Uint8Array): Buffer => tlv(0x04, Buffer.from(b));
const bits = (b: Uint8Array): Buffer => tlv(0x03, Buffer.from([0]), Buffer.from(b));
const explicit = (n: number, c: Buffer): Buffer => tlv(0xa0 + n, c);
function utcTime(d: Date): Buffer {
  const p = (n: number): string => String(n).padStart(2, '0');
  const s = `${p(d.getUTCFullYear() % 100)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}Z`;
  return tlv(0x17, Buffer.from(s, 'ascii'));
}

/** One parsed TLV: tag, where its content starts and ends in `buf`, and the whole element. */
interface Node {
  readonly tag: number;
  readonly start: number;
  readonly end: number;
  readonly raw: Buffer;
}
function read(buf: Buffer, at: number): Node {
  const tag = buf[at] as number;
  let l = buf[at + 1] as number;
  let start = at + 2;
  if (l & 0x80) {
    const n = l & 0x7f;
    l = 0;
    for (let i = 0; i < n; i++) l = l * 256 + (buf[start + i] as number);
    start += n;
  }
  return { tag, start, end: start + l, raw: buf.subarray(at, start + l) };
}
function children(buf: Buffer, n: Node): Node[] {
  const out: Node[] = [];
  for (let at = n.start; at < n.end;) {
    const c = read(buf, at);
    out.push(c);
    at = c.end;
  }
  return out;
}

const OID = {
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  country: '2.5.4.6',
  state: '2.5.4.8',
  locality: '2.5.4.7',
  organization: '2.5.4.10',
  orgUnit: '2.5.4.11',
  commonName: '2.5.4.3',
  keyUsage: '2.5.29.15',
  basicConstraints: '2.5.29.19',
  subjectKeyId: '2.5.29.14',
  authorityKeyId: '2.5.29.35',
} as const;

/** The order of P-256's base point, and half of it: a signature is low-S when S <= N/2. */
const P256_N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
const P256_HALF_N = P256_N >> 1n;

const toBig = (b: Uint8Array): bigint => BigInt(`0x${Buffer.from(b).toString('hex') || '0'}`);
const fromBig = (v: bigint): Buffer => Buffer.from(v.toString(16).padStart(64, '0'), 'hex');

/** ECDSA-SHA256 over `data`, DER-encoded, with S forced into the lower half (S' = N - S is as valid). */
export function signLowS(data: Uint8Array, key: KeyObject): Buffer {
  const rs = sign('sha256', data, { key, dsaEncoding: 'ieee-p1363' });
  const r = rs.subarray(0, 32);
  let s = toBig(rs.subarray(32));
  if (s > P256_HALF_N) s = P256_N - s;
  return seq(uint(r), uint(fromBig(s)));
}

/** Whether a DER ECDSA signature has S <= N/2. */
export function isLowS(derSignature: Uint8Array): boolean {
  const buf = Buffer.from(derSignature);
  const [, s] = children(buf, read(buf, 0));
  return toBig(buf.subarray((s as Node).start, (s as Node).end)) <= P256_HALF_N;
}

/** The parts of a certificate (DER) this module needs: subject Name, SKI, and the signature. */
export function certificateParts(der: Uint8Array): { subject: Buffer; subjectKeyId?: Buffer; signature: Buffer } {
  const buf = Buffer.from(der);
  const [tbs, , sigBits] = children(buf, read(buf, 0)) as [Node, Node, Node];
  const fields = children(buf, tbs);
  const base = fields[0]?.tag === 0xa0 ? 1 : 0; // [0] version present
  const subject = (fields[base + 4] as Node).raw;
  let subjectKeyId: Buffer | undefined;
  const extsWrapper = fields.find((f) => f.tag === 0xa3);
  if (extsWrapper) {
    const [exts] = children(buf, extsWrapper) as [Node];
    for (const ext of children(buf, exts)) {
      const [id, ...rest] = children(buf, ext) as [Node, ...Node[]];
      if (!id.raw.equals(oid(OID.subjectKeyId))) continue;
      const value = rest.at(-1) as Node; // OCTET STRING wrapping OCTET STRING keyIdentifier
      const inner = read(buf, value.start);
      subjectKeyId = buf.subarray(inner.start, inner.end);
    }
  }
  return { subject, ...(subjectKeyId ? { subjectKeyId } : {}), signature: buf.subarray(sigBits.start + 1, sigBits.end) };
}

/** A distinguished name as Fabric's samples write them (C, ST, L, [O], [OU], CN). */
export interface NameFields {
  readonly country?: string;
  readonly state?: string;
  readonly locality?: string;
  readonly organization?: string;
  readonly orgUnit?: string;
  readonly commonName: string;
}

function name(n: NameFields): Buffer {
  const rdn = (id: string, v: Buffer): Buffer => set(seq(oid(id), v));
  return seq(
    ...[
      n.country !== undefined ? rdn(OID.country, printable(n.country)) : undefined,
      n.state !== undefined ? rdn(OID.state, printable(n.state)) : undefined,
      n.locality !== undefined ? rdn(OID.locality, printable(n.locality)) : undefined,
      n.organization !== undefined ? rdn(OID.organization, printable(n.organization)) : undefined,
      n.orgUnit !== undefined ? rdn(OID.orgUnit, printable(n.orgUnit)) : undefined,
      rdn(OID.commonName, utf8(n.commonName)),
    ].filter((x): x is Buffer => x !== undefined),
  );
}

const pem = (der: Buffer): string =>
  `-----BEGIN CERTIFICATE-----\n${
    der
      .toString('base64')
      .match(/.{1,64}/g)
      ?.join('\n') ?? ''
  }\n-----END CERTIFICATE-----\n`;

/** What to put in a certificate. */
export interface CertificateRequest {
  readonly subject: NameFields;
  readonly publicKey: KeyObject;
  /** Signer: the issuing CA's certificate (PEM) and key; omitted for a self-signed CA. */
  readonly issuer?: { readonly certPem: string | Buffer; readonly key: KeyObject };
  /** Self-signing key of a CA (with no issuer). */
  readonly selfKey?: KeyObject;
  readonly ca?: boolean;
  readonly days?: number;
}

/** Issues an X.509 v3 certificate (PEM) with a low-S ECDSA-SHA256 signature. */
export function issueCertificate(req: CertificateRequest): string {
  const issuerParts = req.issuer ? certificateParts(new X509Certificate(req.issuer.certPem).raw) : undefined;
  const signer = req.issuer?.key ?? req.selfKey;
  if (!signer) throw new Error('issueCertificate needs an issuer or, for a self-signed CA, selfKey');
  const subject = name(req.subject);
  const spki = req.publicKey.export({ type: 'spki', format: 'der' });
  const now = Date.now();
  // Fabric's MSP checks the chain at the time leaf.NotBefore + 1 s (msp getValidityOptsForCert), so
  // the leaf must not start before its CA: a leaf back-dated past the CA's start is "not yet valid".
  const caFrom = req.issuer ? Date.parse(new X509Certificate(req.issuer.certPem).validFrom) : -Infinity;
  const notBefore = new Date(Math.max(Math.floor((now - 60_000) / 1000) * 1000, caFrom));
  const notAfter = new Date(now + (req.days ?? 365) * 86_400_000);
  const ext = (id: string, critical: boolean, value: Buffer): Buffer =>
    seq(oid(id), ...(critical ? [tlv(0x01, Buffer.from([0xff]))] : []), octets(value));
  // SKI: SHA-256 of the public key bytes, as cryptogen makes it.
  const ski = createHash('sha256').update(spki).digest();
  // keyUsage BIT STRING: digitalSignature (bit 0); a CA also keyCertSign (5) and cRLSign (6).
  const keyUsage = req.ca ? tlv(0x03, Buffer.from([1, 0x86])) : tlv(0x03, Buffer.from([7, 0x80]));
  const extensions = [
    ext(OID.keyUsage, true, keyUsage),
    ext(OID.basicConstraints, true, req.ca ? seq(tlv(0x01, Buffer.from([0xff]))) : seq()),
    ...(req.ca ? [ext(OID.subjectKeyId, false, octets(ski))] : []),
    ...(issuerParts?.subjectKeyId ? [ext(OID.authorityKeyId, false, seq(tlv(0x80, issuerParts.subjectKeyId)))] : []),
  ];
  const sigAlg = seq(oid(OID.ecdsaWithSha256));
  const tbs = seq(
    explicit(0, uint(Buffer.from([2]))),
    uint(Buffer.concat([Buffer.from([0x01]), randomBytes(15)])),
    sigAlg,
    issuerParts?.subject ?? subject,
    seq(utcTime(notBefore), utcTime(notAfter)),
    subject,
    Buffer.from(spki),
    explicit(3, seq(...extensions)),
  );
  return pem(seq(tbs, sigAlg, bits(signLowS(tbs, signer))));
}

/** A client identity on disk, ready for a FabricConfig (`mspId`, `certPath`, `keyPath`). */
export interface OrgIdentity {
  /** The name it was asked for (the certificate's CN is `<name>@<org domain>`). */
  readonly name: string;
  readonly mspId: string;
  /** PEM certificate file. */
  readonly certPath: string;
  /** PKCS#8 PEM private key file, mode 0600 (its folder 0700). */
  readonly keyPath: string;
  readonly certPem: string;
  /** The subject as fabric-shim's ClientIdentity prints it (`/C=US/.../CN=edge-1@org1.example.com`). */
  readonly subject: string;
}

/** Where an organisation's CA lives and what its identities are called. */
export interface OrgCa {
  readonly mspId: string;
  /** e.g. org1.example.com */
  readonly domain: string;
  readonly caCertPath: string;
  readonly caKeyPath: string;
}

/**
 * Issues a new identity of the organisation (OU=client, or OU=admin with `role: 'admin'`),
 * signed by its CA, into `dir/<name>/{cert.pem,key.pem}`.
 */
export function issueOrgIdentity(
  ca: OrgCa,
  caCertPem: string | Buffer,
  caKeyPem: string | Buffer,
  dir: string,
  name: string,
  role: 'client' | 'admin' = 'client',
): OrgIdentity {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(name)) throw new Error(`identity name "${name}" must be a short file-name-safe word`);
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const subject: NameFields = {
    country: 'US',
    state: 'California',
    locality: 'San Francisco',
    orgUnit: role,
    commonName: `${name}@${ca.domain}`,
  };
  const certPem = issueCertificate({ subject, publicKey, issuer: { certPem: caCertPem, key: createPrivateKey(caKeyPem) } });
  const home = join(dir, name);
  mkdirSync(home, { recursive: true, mode: 0o700 });
  chmodSync(home, 0o700);
  const certPath = join(home, 'cert.pem');
  const keyPath = join(home, 'key.pem');
  writeFileSync(certPath, certPem);
  writeFileSync(keyPath, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  return {
    name,
    mspId: ca.mspId,
    certPath,
    keyPath,
    certPem,
    subject: `/C=${subject.country}/ST=${subject.state}/L=${subject.locality}/OU=${role}/CN=${subject.commonName}`,
  };
}

/** A fresh self-signed P-256 CA (for unit tests of this module). */
export function selfSignedCa(commonName: string): { certPem: string; keyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const certPem = issueCertificate({
    subject: { country: 'US', organization: commonName.replace(/^ca\./, ''), commonName },
    publicKey,
    selfKey: privateKey,
    ca: true,
    days: 30,
  });
  return { certPem, keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string };
}

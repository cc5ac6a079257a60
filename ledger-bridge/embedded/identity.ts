/**
 * Identities on the embedded ledger. Fabric derives a client's identity from its X.509
 * certificate; the embedded ledger has a configured set instead, each with the same shape a
 * contract sees through ctx.clientIdentity (an id in Fabric's `x509::subject::issuer` form, an
 * MSP id and attributes). The HTTP server maps bearer tokens to these names.
 */
import { ProvenantError } from '../../shared/errors.js';

/** One configured identity. */
export interface EmbeddedIdentity {
  /** Short name used by clients ('aa', 'edge-1', 'auditor'). */
  readonly name: string;
  readonly mspId: string;
  /** Fabric-style unique id, e.g. 'x509::/CN=aa::/CN=ca'. */
  readonly id: string;
  /** Certificate attributes (Fabric CA's hf.* / custom attrs). */
  readonly attrs?: Readonly<Record<string, string>>;
}

/** The default identities: the attribute authority, one edge box, an auditor. */
export const DEFAULT_IDENTITIES: readonly EmbeddedIdentity[] = Object.freeze([
  { name: 'aa', mspId: 'AuthorityMSP', id: 'x509::/CN=aa::/CN=ca', attrs: { role: 'authority' } },
  { name: 'edge-1', mspId: 'EdgeMSP', id: 'x509::/CN=edge-1::/CN=ca', attrs: { role: 'edge' } },
  { name: 'auditor', mspId: 'AuditorMSP', id: 'x509::/CN=auditor::/CN=ca', attrs: { role: 'auditor' } },
]);

/** Looks up an identity by name; ProvenantError PROV_ERR_FORBIDDEN if absent. */
export function findIdentity(identities: readonly EmbeddedIdentity[], name: string): EmbeddedIdentity {
  const found = identities.find((i) => i.name === name);
  if (!found)
    throw new ProvenantError('PROV_ERR_FORBIDDEN', `unknown identity '${name}' (known: ${identities.map((i) => i.name).join(', ')})`, {
      field: 'identity',
    });
  return found;
}

/** fabric-shim's ClientIdentity surface, over a configured identity. */
export class EmbeddedClientIdentity {
  constructor(private readonly identity: EmbeddedIdentity) {}

  /** Fabric-style unique id of the submitter. */
  getID(): string {
    return this.identity.id;
  }

  /** MSP id of the submitter's organisation. */
  getMSPID(): string {
    return this.identity.mspId;
  }

  /** The identity's bytes (Fabric: the PEM certificate; here the UTF-8 id). */
  getIDBytes(): Uint8Array {
    return Buffer.from(this.identity.id, 'utf8');
  }

  /** An attribute value, or null when the identity has none of that name. */
  getAttributeValue(name: string): string | null {
    const v = this.identity.attrs?.[name];
    return v === undefined ? null : v;
  }

  /** True when the attribute exists and equals `value`. */
  assertAttributeValue(name: string, value: string): boolean {
    const v = this.getAttributeValue(name);
    return v !== null && v === value;
  }
}

/**
 * Parses a configured identity set (JSON text: an array of { name, mspId, id, attrs? }), as
 * `provenant ledger start --identities FILE` reads it. ProvenantError PROV_ERR_CONFIG naming the
 * entry on any problem.
 */
export function parseIdentities(text: string, source: string): EmbeddedIdentity[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new ProvenantError('PROV_ERR_CONFIG', `${source} is not valid JSON: ${(err as Error).message}`, { field: 'identities' });
  }
  if (!Array.isArray(parsed) || parsed.length === 0)
    throw new ProvenantError('PROV_ERR_CONFIG', `${source} must be a non-empty array of identities`, { field: 'identities' });
  const names = new Set<string>();
  return parsed.map((e: unknown, i) => {
    const bad = (why: string): never => {
      throw new ProvenantError('PROV_ERR_CONFIG', `${source}[${i}]: ${why}`, { field: 'identities', index: i });
    };
    if (typeof e !== 'object' || e === null) return bad('must be an object { name, mspId, id, attrs? }');
    const { name, mspId, id, attrs } = e as Record<string, unknown>;
    for (const [k, v] of [
      ['name', name],
      ['mspId', mspId],
      ['id', id],
    ] as const)
      if (typeof v !== 'string' || v === '') bad(`${k} must be a non-empty string`);
    if (names.has(name as string)) bad(`duplicate name '${String(name)}'`);
    names.add(name as string);
    if (attrs !== undefined && (typeof attrs !== 'object' || attrs === null || Object.values(attrs).some((v) => typeof v !== 'string')))
      bad('attrs must map names to strings');
    return { name: name as string, mspId: mspId as string, id: id as string, ...(attrs ? { attrs: attrs as Record<string, string> } : {}) };
  });
}

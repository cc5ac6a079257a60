/**
 * The credentials (K_Fog) this edge holds, one per device it serves. Each is checked against the
 * attribute authority's public key when loaded: a device whose credential does not verify (wrong
 * issuer, tampered file) is kept as refused, so its HELLO is refused and logged with the reason
 * instead of the edge signing garbage partials for it. The edge never holds K_IoT.
 * BBS must be initialised (`await ready()` from shared/crypto) before credentials are added.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ProvenantError } from '../../../shared/errors.js';
import { checkCredential, credentialFromJson, type Credential } from '../../../shared/crypto/index.js';
import { equalBytes } from '../../../shared/encoding/bytes.js';

/** Why a device cannot open a session. */
export type CredentialProblem = 'UNKNOWN_DEVICE' | 'BAD_CREDENTIAL';

/** Lookup result: a usable credential, or the problem. */
export type CredentialLookup =
  | { readonly ok: true; readonly credential: Credential }
  | { readonly ok: false; readonly problem: CredentialProblem; readonly message: string };

/** The edge's credential set. */
export class CredentialStore {
  private readonly good = new Map<string, Credential>();
  private readonly bad = new Map<string, string>();

  /** @param issuerPk the AA public key credentials must verify under (undefined: accept any issuer that verifies). */
  constructor(private readonly issuerPk?: Uint8Array) {}

  /** Adds a credential after verifying it; returns false (and remembers why) when it does not verify. */
  add(credential: Credential): boolean {
    const verdict = checkCredential(credential, this.issuerPk);
    if (verdict.ok) {
      this.good.set(credential.deviceId, credential);
      this.bad.delete(credential.deviceId);
      return true;
    }
    this.good.delete(credential.deviceId);
    this.bad.set(credential.deviceId, verdict.message);
    return false;
  }

  /** Loads every `*.credential.json` in a directory; returns how many verified and which did not. */
  loadDirectory(dir: string): { loaded: number; refused: { file: string; message: string }[] } {
    let files: string[];
    try {
      files = readdirSync(dir)
        .filter((f) => f.endsWith('.credential.json'))
        .sort();
    } catch (err) {
      throw new ProvenantError('PROV_ERR_CONFIG', `credentials directory ${dir}: ${(err as Error).message}`, { field: 'credentials.dir' });
    }
    let loaded = 0;
    const refused: { file: string; message: string }[] = [];
    for (const file of files) {
      try {
        const credential = credentialFromJson(JSON.parse(readFileSync(join(dir, file), 'utf8')) as unknown);
        if (this.add(credential)) loaded += 1;
        else refused.push({ file, message: this.bad.get(credential.deviceId) ?? 'does not verify' });
      } catch (err) {
        refused.push({ file, message: (err as Error).message });
      }
    }
    return { loaded, refused };
  }

  /** The credential for a HELLO, or why there is none. */
  lookup(deviceId: string): CredentialLookup {
    const credential = this.good.get(deviceId);
    if (credential) return { ok: true, credential };
    const why = this.bad.get(deviceId);
    if (why !== undefined) return { ok: false, problem: 'BAD_CREDENTIAL', message: why };
    return { ok: false, problem: 'UNKNOWN_DEVICE', message: `device ${deviceId} has no credential on this edge` };
  }

  /** Device ids with a verified credential, sorted. */
  deviceIds(): string[] {
    return [...this.good.keys()].sort();
  }

  /** True when this store accepts credentials of `issuerPk`. */
  acceptsIssuer(issuerPk: Uint8Array): boolean {
    return this.issuerPk === undefined || equalBytes(this.issuerPk, issuerPk);
  }
}

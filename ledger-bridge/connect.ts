/**
 * Opening a LedgerClient from a connection spec: an embedded ledger file, a remote embedded ledger
 * over HTTP, or a Fabric gateway peer. With client.ts this is the bridge's client interface, the
 * only part of ledger-bridge the edge runtime may import (eslint.config.js enforces it). Each
 * backend loads lazily: an edge on Fabric never loads SQLite, an embedded edge never loads gRPC.
 */
import type { LedgerClient } from './client.js';
import type { FabricConfig } from './fabric/config.js';

export { validateFabricConfig, type FabricConfig } from './fabric/config.js';

/** Where the ledger is and who we are on it. Paths are absolute; secrets are already read. */
export type LedgerSpec =
  | { readonly type: 'embedded'; readonly path: string; readonly identity: string }
  | { readonly type: 'http'; readonly url: string; readonly token: string; readonly identity?: string }
  | { readonly type: 'fabric'; readonly fabric: FabricConfig };

/** Opens the ledger client the spec describes. */
export async function openLedgerClient(spec: LedgerSpec): Promise<LedgerClient> {
  if (spec.type === 'fabric') {
    const { FabricLedgerClient } = await import('./fabric/fabric-client.js');
    return FabricLedgerClient.connect(spec.fabric);
  }
  if (spec.type === 'http') {
    const { HttpLedgerClient } = await import('./embedded/http/client.js');
    return new HttpLedgerClient({ url: spec.url, token: spec.token, ...(spec.identity ? { identity: spec.identity } : {}) });
  }
  const { EmbeddedLedgerClient } = await import('./embedded/client.js');
  const { contracts } = await import('./contracts/index.js');
  return EmbeddedLedgerClient.open({ path: spec.path, contracts, identity: spec.identity });
}

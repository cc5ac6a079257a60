/**
 * How the evaluation's processes reach the ledger: the embedded ledger served over HTTP by
 * `provenant ledger start` (one bearer token per identity: the attribute authority, the edge,
 * the auditor), or a Fabric network through a gateway peer (one client config whose identity
 * plays every role, as `provenant demo --config` does).
 */
import type { LedgerClient } from '../../ledger-bridge/client.js';

/** The roles that talk to the ledger. */
export type LedgerRole = 'aa' | 'edge' | 'auditor';

/** Where the ledger is. */
export type EvalLedgerSpec =
  | { readonly type: 'http'; readonly url: string; readonly tokens: Readonly<Record<LedgerRole, string>> }
  | { readonly type: 'fabric'; readonly config: string };

/** Opens a LedgerClient for `role`. */
export async function openEvalLedger(spec: EvalLedgerSpec, role: LedgerRole): Promise<LedgerClient> {
  if (spec.type === 'fabric') {
    const { FabricLedgerClient } = await import('../../ledger-bridge/fabric/fabric-client.js');
    return FabricLedgerClient.connect(spec.config);
  }
  const { HttpLedgerClient } = await import('../../ledger-bridge/embedded/http/client.js');
  return new HttpLedgerClient({ url: spec.url, token: spec.tokens[role] });
}

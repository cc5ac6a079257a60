/**
 * Loads @digitalbazaar/bbs-signatures (a devDependency: pure JS on noble-curves), the second
 * implementation our BBS is cross-checked and benchmarked against. Node-only, tests and
 * benchmarks only; never imported by product code.
 *
 * Why a loader: bbs-signatures 3.0.0 imports `@noble/hashes/sha256` without declaring
 * @noble/hashes, relying on a hoisted v1. Our own dependency hoists @noble/hashes v2, which has
 * no such subpath, so a plain import fails. A tiny resolve hook sends that package's
 * `@noble/hashes/*` imports to the copy its own @noble/curves resolves (v1), leaving every
 * other import alone.
 */
import { register } from 'node:module';

/** The peer's async API, in the shape its README documents (ciphersuite fixed by the caller). */
export interface PeerBbs {
  generateKeyPair(o: { ciphersuite: string }): Promise<{ secretKey: Uint8Array; publicKey: Uint8Array }>;
  sign(o: { secretKey: Uint8Array; publicKey: Uint8Array; header: Uint8Array; messages: Uint8Array[]; ciphersuite: string }): Promise<Uint8Array>;
  verifySignature(o: { publicKey: Uint8Array; signature: Uint8Array; header: Uint8Array; messages: Uint8Array[]; ciphersuite: string }): Promise<boolean>;
  deriveProof(o: {
    publicKey: Uint8Array; signature: Uint8Array; header: Uint8Array; messages: Uint8Array[];
    presentationHeader: Uint8Array; disclosedMessageIndexes: number[]; ciphersuite: string;
  }): Promise<Uint8Array>;
  verifyProof(o: {
    publicKey: Uint8Array; proof: Uint8Array; header: Uint8Array; presentationHeader: Uint8Array;
    disclosedMessages: Uint8Array[]; disclosedMessageIndexes: number[]; ciphersuite: string;
  }): Promise<boolean>;
}

/** The ciphersuite name the peer uses for ours. */
export const PEER_CIPHERSUITE = 'BLS12-381-SHA-256';

const HOOK = `
export async function resolve(specifier, context, next) {
  const parent = context.parentURL ?? '';
  if (specifier.startsWith('@noble/hashes/') && parent.includes('/@digitalbazaar/bbs-signatures/')) {
    const curves = await next('@noble/curves/abstract/modular', context);
    return next(specifier, { ...context, parentURL: curves.url });
  }
  return next(specifier, context);
}`;

let peer: Promise<PeerBbs> | undefined;

/** Import the peer once, with the resolve hook installed first. */
export function loadPeerBbs(): Promise<PeerBbs> {
  peer ??= (async () => {
    register(`data:text/javascript,${encodeURIComponent(HOOK)}`);
    const name = '@digitalbazaar/bbs-signatures';
    return (await import(name)) as PeerBbs;
  })();
  return peer;
}

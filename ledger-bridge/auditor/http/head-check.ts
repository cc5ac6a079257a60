/**
 * The transparency-log check of BRIEF §7: an auditor saved a chain head earlier; does the chain
 * the ledger serves now extend it, or was history rewritten? The embedded ledger answers with a
 * consistency proof (RFC 9162 style, checked by verifyConsistency); Fabric has no such proof, so
 * the auditor walks the block headers from the saved head's block to the current head and checks
 * that each one's previous_hash is the hash of the one before.
 */
import { readFileSync } from 'node:fs';
import type { ChainHead, LedgerClient } from '../../client.js';
import { verifyConsistency, type ConsistencyProof } from '../../embedded/proofs.js';
import { blockHeaderHash, toHex } from '../../fabric/block-hash.js';
import { ProvenantError } from '../../../shared/errors.js';

/** A Fabric block header as the Fabric client carries it (hex fields). */
export interface ChainHeader {
  readonly number: number;
  readonly previousHash: string;
  readonly dataHash: string;
}

/** The answer to "does the current chain extend the saved head?". */
export interface HeadCheck {
  readonly extends: boolean;
  readonly saved: ChainHead;
  readonly current: ChainHead;
  /** How it was decided; 'none' when the ledger offers neither proofs nor headers. */
  readonly method: 'consistency-proof' | 'block-hash-chain' | 'none';
  /** Why not, when `extends` is false. */
  readonly reason?: string;
}

type ConsistencySource = (from: number, to: number) => Promise<ConsistencyProof>;
type HeaderSource = (n: number) => Promise<ChainHeader>;

/** The consistency proofs of an embedded ledger: HttpLedgerClient has them, EmbeddedLedgerClient through its engine. */
function consistencySource(ledger: LedgerClient): ConsistencySource | undefined {
  const direct = ledger as unknown as { consistencyProof?: (from: number, to?: number) => ConsistencyProof | Promise<ConsistencyProof> };
  if (typeof direct.consistencyProof === 'function') {
    const fn = direct.consistencyProof;
    return async (from, to) => fn.call(ledger, from, to);
  }
  const inner = (ledger as unknown as { ledger?: { consistencyProof?: (from: number, to?: number) => ConsistencyProof } }).ledger;
  if (inner !== undefined && typeof inner.consistencyProof === 'function') {
    const fn = inner.consistencyProof;
    return async (from, to) => fn.call(inner, from, to);
  }
  return undefined;
}

/** The block headers of a client that offers them (FabricLedgerClient.blockHeader). */
function headerSource(ledger: LedgerClient): HeaderSource | undefined {
  const fn = (ledger as unknown as { blockHeader?: HeaderSource }).blockHeader;
  return typeof fn === 'function' ? (n) => fn.call(ledger, n) : undefined;
}

/**
 * Pure check of a Fabric hash chain: `headers` are blocks saved.height-1 … current.height-1 in
 * order; the first must hash to the saved head, each must name its predecessor's hash as
 * previous_hash, and the last must hash to the current head.
 */
export function verifyHeaderChain(
  saved: ChainHead,
  current: ChainHead,
  headers: readonly ChainHeader[],
): { ok: true } | { ok: false; reason: string } {
  if (headers.length !== current.height - saved.height + 1)
    return { ok: false, reason: `expected ${current.height - saved.height + 1} headers, got ${headers.length}` };
  let prev: string | undefined;
  for (let i = 0; i < headers.length; i++) {
    const h = headers[i] as ChainHeader;
    const expected = saved.height - 1 + i;
    if (h.number !== expected) return { ok: false, reason: `header ${h.number} where block ${expected} was expected` };
    if (prev !== undefined && h.previousHash !== prev)
      return { ok: false, reason: `block ${h.number}: previous hash does not match block ${h.number - 1}` };
    prev = toHex(
      blockHeaderHash({ number: h.number, previousHash: Buffer.from(h.previousHash, 'hex'), dataHash: Buffer.from(h.dataHash, 'hex') }),
    );
    if (i === 0 && prev !== saved.hash) {
      return {
        ok: false,
        reason: `block ${h.number} hashes to ${prev}, not the saved head's ${saved.hash}: history was rewritten or the head is wrong`,
      };
    }
  }
  if (prev !== current.hash)
    return { ok: false, reason: `the hash chain ends at ${prev ?? 'nothing'}, not at the current head ${current.hash}` };
  return { ok: true };
}

/** Does the ledger's current chain extend `saved`? Never throws for a failed check: `extends` is false with the reason. */
export async function checkSavedHead(ledger: LedgerClient, saved: ChainHead): Promise<HeadCheck> {
  const current = await ledger.head();
  const no = (method: HeadCheck['method'], reason: string): HeadCheck => ({ extends: false, saved, current, method, reason });
  const consistency = consistencySource(ledger);
  const headers = consistency === undefined ? headerSource(ledger) : undefined;
  const method: HeadCheck['method'] = consistency ? 'consistency-proof' : headers ? 'block-hash-chain' : 'none';
  if (saved.height > current.height)
    return no(method, `the saved head (height ${saved.height}) is ahead of the ledger's (height ${current.height})`);
  try {
    if (consistency) {
      const verdict = verifyConsistency(await consistency(saved.height, current.height), saved, current);
      return verdict.ok ? { extends: true, saved, current, method } : no(method, verdict.reason);
    }
    if (headers) {
      const chain: ChainHeader[] = [];
      for (let n = saved.height - 1; n < current.height; n++) chain.push(await headers(n));
      const verdict = verifyHeaderChain(saved, current, chain);
      return verdict.ok ? { extends: true, saved, current, method } : no(method, verdict.reason);
    }
  } catch (err) {
    return no(method, err instanceof Error ? err.message : String(err));
  }
  return no('none', 'this ledger client offers neither consistency proofs nor block headers');
}

/** Validates a head value ({height ≥ 1, hash: 64 hex}); `what` names it in the error. */
export function parseHeadValue(value: unknown, what: string): ChainHead {
  const v = value as { height?: unknown; hash?: unknown } | null;
  if (v === null || typeof v !== 'object')
    throw new ProvenantError('PROV_ERR_BAD_INPUT', `${what} must be an object {height, hash}`, { field: what });
  if (typeof v.height !== 'number' || !Number.isSafeInteger(v.height) || v.height < 1)
    throw new ProvenantError('PROV_ERR_BAD_INPUT', `${what}.height must be an integer ≥ 1`, { field: `${what}.height` });
  if (typeof v.hash !== 'string' || !/^[0-9a-fA-F]{64}$/.test(v.hash))
    throw new ProvenantError('PROV_ERR_BAD_INPUT', `${what}.hash must be 64 hex digits`, { field: `${what}.hash` });
  return { height: v.height, hash: v.hash.toLowerCase() };
}

/** Reads a head saved as JSON {height, hash} (as `provenant auditor head --save` writes it). */
export function readHeadFile(path: string): ChainHead {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ProvenantError('PROV_ERR_BAD_INPUT', `cannot read the saved head ${path}: ${(err as Error).message}`, { field: 'saved' });
  }
  try {
    return parseHeadValue(json, 'saved head');
  } catch (err) {
    throw new ProvenantError('PROV_ERR_BAD_INPUT', `${path}: ${(err as Error).message}`, { field: 'saved' });
  }
}

/**
 * Data Provenance verify (talk, Algorithm 3, read side) as a pure decision over the records the
 * contract found:
 *
 *   no record under (deviceId, seq | t)          → throw PROV_ERR_RECORD_NOT_FOUND "could not locate the record"
 *   presented tag ≠ recorded tag (device'.sig ≠ device.sig) → throw PROV_ERR_SIGNATURE_MISMATCH "signature mismatch"
 *   recorded dataHash = SHA-256(data)            → TRUE  (record is proven)
 *   otherwise                                     → FALSE (record is NOT proven)
 *
 * The tag is optional: without one, the signature step compares nothing and the hash decides.
 */
import { createHash } from 'node:crypto';
import type { ProvenanceRecord } from '../../../shared/records.js';
import { CONTRACT_ERRORS, contractError } from '../errors.js';
import { parseHexArg, parseIntArg } from './args.js';

/** How a record is located: by sequence number or by device timestamp. */
export type Locator = { readonly by: 'seq'; readonly seq: number } | { readonly by: 't'; readonly t: number };

/** Alg. 3's answer with its evidence. */
export interface VerifyResult {
  readonly verdict: 'TRUE' | 'FALSE';
  /** SHA-256 of the presented data. */
  readonly dataHash: string;
  /** The ledger record the data was compared with. */
  readonly record: ProvenanceRecord;
}

/**
 * Parses the locator argument: "seq:N", "t:MS", or a bare N (a seq). Device times are ms since
 * 1970 and seq a u32, so the prefix keeps them apart.
 */
export function parseLocator(text: string): Locator {
  if (typeof text === 'string' && text.startsWith('t:'))
    return { by: 't', t: parseIntArg(text.slice(2), 'timestamp', 0, Number.MAX_SAFE_INTEGER) };
  const raw = typeof text === 'string' && text.startsWith('seq:') ? text.slice(4) : text;
  return { by: 'seq', seq: parseIntArg(raw, 'seq', 0, 0xffffffff) };
}

/** The canonical text of a locator. */
export function locatorText(locator: Locator): string {
  return locator.by === 'seq' ? `seq:${locator.seq}` : `t:${locator.t}`;
}

/** SHA-256 (hex) of the presented data (hex of the canonical reading bytes). */
export function dataHashOf(dataHex: string): string {
  return createHash('sha256')
    .update(Buffer.from(parseHexArg(dataHex, 'data'), 'hex'))
    .digest('hex');
}

/**
 * Decides Alg. 3 over `candidates` (the records at the locator, in seq order; several only when
 * a device stamped several readings with the same t). `tagHex` '' means no tag presented.
 */
export function decideVerify(
  deviceId: string,
  locator: Locator,
  candidates: readonly ProvenanceRecord[],
  dataHash: string,
  tagHex: string,
): VerifyResult {
  if (candidates.length === 0) {
    throw contractError(CONTRACT_ERRORS.RECORD_NOT_FOUND, `could not locate the record of device ${deviceId} at ${locatorText(locator)}`, {
      deviceId,
    });
  }
  let pool = candidates;
  if (tagHex !== '') {
    const tag = parseHexArg(tagHex, 'tag', 32);
    pool = candidates.filter((r) => r.tag === tag);
    if (pool.length === 0) {
      throw contractError(
        CONTRACT_ERRORS.SIGNATURE_MISMATCH,
        `signature mismatch: the presented tag is not the recorded one (device ${deviceId} at ${locatorText(locator)})`,
        {
          deviceId,
        },
      );
    }
  }
  const match = pool.find((r) => r.dataHash === dataHash);
  if (match !== undefined) return { dataHash, record: match, verdict: 'TRUE' };
  return { dataHash, record: pool[0] as ProvenanceRecord, verdict: 'FALSE' };
}

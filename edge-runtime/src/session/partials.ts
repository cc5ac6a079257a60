/**
 * SignPartial at the edge: once per device per epoch, a BBS proof σp over the device's credential
 * (pairing-heavy, so computed once and reused for every reading of the epoch). Each partial is
 * stored durably in the outbox BEFORE its digest is sent to the board, so readings completed
 * under it can still be forwarded with it after an edge restart.
 *
 * Epochs are wall-clock slices: epoch = floor(now / epochMs). Every edge and board agree on them
 * without talking, and an epoch number says roughly when a partial was valid.
 */
import { toHex } from '../../../shared/encoding/hex.js';
import { partialToJson, signPartial, type Credential, type PartialSignature, type Policy } from '../../../shared/crypto/index.js';
import type { Outbox } from '../outbox/outbox.js';

/** What the edge knows about a digest it issued. */
export interface IssuedPartial {
  readonly deviceId: string;
  readonly epoch: number;
  readonly digest: Uint8Array;
  readonly digestHex: string;
}

/** Issues and remembers partial signatures. */
export class PartialIssuer {
  private readonly byDevice = new Map<string, IssuedPartial>();
  private readonly byDigest = new Map<string, IssuedPartial>();

  constructor(private readonly options: { edgeId: string; policy: Policy; epochMs: number; outbox: Outbox; clock: () => number }) {
    if (!Number.isInteger(options.epochMs) || options.epochMs < 1000)
      throw new RangeError(`epochMs must be an integer >= 1000, got ${options.epochMs}`);
  }

  /** The epoch at edge time `now`. */
  epochAt(now: number): number {
    return Math.floor(now / this.options.epochMs);
  }

  /** Milliseconds until the next epoch starts. */
  msToNextEpoch(now: number): number {
    return (this.epochAt(now) + 1) * this.options.epochMs - now;
  }

  /**
   * The device's partial for the current epoch, signing (and durably storing) it the first time.
   * Throws PROV_ERR_POLICY_UNSATISFIED when the device's attributes do not meet the edge policy.
   */
  current(credential: Credential): IssuedPartial {
    const epoch = this.epochAt(this.options.clock());
    const cached = this.byDevice.get(credential.deviceId);
    if (cached && cached.epoch === epoch) return cached;
    const partial: PartialSignature = signPartial(credential, { epoch, edgeId: this.options.edgeId, policy: this.options.policy });
    this.options.outbox.putPartial(partialToJson(partial), this.options.clock());
    const issued: IssuedPartial = {
      deviceId: credential.deviceId,
      epoch,
      digest: partial.partialDigest,
      digestHex: toHex(partial.partialDigest),
    };
    this.byDevice.set(credential.deviceId, issued);
    this.byDigest.set(issued.digestHex, issued);
    return issued;
  }

  /** The partial a reading references, if this edge issued it (memory first, then the outbox). */
  lookup(digestHex: string): IssuedPartial | undefined {
    const hit = this.byDigest.get(digestHex);
    if (hit) return hit;
    const stored = this.options.outbox.getPartial(digestHex);
    if (!stored || stored.partial.edgeId !== this.options.edgeId) return undefined;
    const issued: IssuedPartial = {
      deviceId: stored.partial.deviceId,
      epoch: stored.partial.epoch,
      digest: Uint8Array.from(Buffer.from(digestHex, 'hex')),
      digestHex,
    };
    this.byDigest.set(digestHex, issued);
    return issued;
  }
}

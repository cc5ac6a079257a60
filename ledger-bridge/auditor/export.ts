/**
 * Evidence bundles: what an outside verifier needs to convince themself that a reading is
 * genuine without access to our provenance database — the reading's canonical bytes, tag and
 * decoded values, and the auditor's verdict with its evidence (the ledger's record, the
 * transaction, the block, the inclusion proof and the head it was checked against).
 *
 * `checkBundle` is the verifier's side, offline: the bytes hash to the record's dataHash, the tag
 * is the recorded one, the proof checks up to its head, and the proven transaction carries these
 * very bytes. What it cannot tell alone is whether the head is the real chain's: compare it with
 * a head saved earlier (`provenant auditor head --save`) or ask a ledger you trust.
 */
import { createHash } from 'node:crypto';
import { ProvenantError } from '../../shared/errors.js';
import { callOf, readingsOf } from '../provenance/tx-args.js';
import type { StoredReading } from '../provenance/store.js';
import type { AuditResult, Auditor, ProofChecker } from './auditor.js';

/** Format tag of a bundle. */
export const BUNDLE_FORMAT = 'provenant-evidence/1';

/** One reading's evidence, as exported. */
export interface EvidenceBundle {
  readonly format: typeof BUNDLE_FORMAT;
  readonly exportedAt: number;
  readonly reading: {
    readonly deviceId: string;
    readonly seq: number;
    readonly t: number;
    readonly dataHash: string;
    /** Canonical bytes, hex. */
    readonly canonical: string;
    readonly tag: string;
    readonly values: unknown;
    readonly status: string;
    readonly reason: string;
  };
  readonly verdict: AuditResult;
}

/** Builds the bundle of a stored reading: audits it now (the verdict is recorded as asked by 'export'). */
export async function exportReading(auditor: Auditor, r: StoredReading, askedBy = 'export'): Promise<EvidenceBundle> {
  const verdict = await auditor.check({
    deviceId: r.deviceId,
    at: { seq: r.seq },
    data: r.canonical,
    tag: Buffer.from(r.tag, 'hex'),
    askedBy,
  });
  return {
    format: BUNDLE_FORMAT,
    exportedAt: Date.now(),
    reading: {
      deviceId: r.deviceId,
      seq: r.seq,
      t: r.t,
      dataHash: r.dataHash,
      canonical: Buffer.from(r.canonical).toString('hex'),
      tag: r.tag,
      values: r.values,
      status: verdict.dbStatus ?? r.status,
      reason: verdict.dbStatus !== undefined ? verdict.message : r.reason,
    },
    verdict,
  };
}

/** One check of a bundle. */
export interface BundleCheck {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

/** The offline verdict on a bundle: genuine only if every check passed. */
export interface BundleReport {
  readonly genuine: boolean;
  readonly checks: readonly BundleCheck[];
  /** The head the proof ends at: compare it with one you trust. */
  readonly head: { height: number; hash: string } | null;
}

/** Checks a bundle offline (no ledger, no database). */
export async function checkBundle(input: unknown, checkProof: ProofChecker): Promise<BundleReport> {
  const b = input as EvidenceBundle;
  if (b === null || typeof b !== 'object' || b.format !== BUNDLE_FORMAT || typeof b.reading?.canonical !== 'string')
    throw new ProvenantError('PROV_ERR_BAD_INPUT', `not an evidence bundle (format ${BUNDLE_FORMAT})`, { field: 'bundle' });
  const checks: BundleCheck[] = [];
  const add = (name: string, ok: boolean, detail: string): void => {
    checks.push({ name, ok, detail });
  };
  const hash = createHash('sha256').update(Buffer.from(b.reading.canonical, 'hex')).digest('hex');
  const ev = b.verdict?.evidence;
  if (ev === undefined) {
    add('record', false, `no ledger evidence: the auditor's verdict was ${String(b.verdict?.verdict)}`);
    return { genuine: false, checks, head: null };
  }
  add('data hash', hash === ev.record.dataHash, `sha256(canonical) = ${hash}; the ledger recorded ${ev.record.dataHash}`);
  add('tag', b.reading.tag === ev.record.tag, b.reading.tag === ev.record.tag ? 'the recorded tag' : 'not the recorded tag');
  add(
    'record',
    ev.record.deviceId === b.reading.deviceId && ev.record.seq === b.reading.seq,
    `record of ${ev.record.deviceId} seq ${ev.record.seq}`,
  );
  add('transaction', ev.proof.txId === ev.record.txId, `proof of ${ev.proof.txId}, record written by ${ev.record.txId}`);
  const pc = checkProof(ev.proof);
  add('inclusion proof', pc.ok === true, pc.ok === true ? `block ${ev.blockNumber} under head ${ev.head.height}` : String(pc.reason));
  try {
    const carried = readingsOf(await callOf(ev.proof)).some((s) => s.canonical.toLowerCase() === b.reading.canonical.toLowerCase());
    add(
      'bytes in transaction',
      carried,
      carried ? 'the proven transaction carries these bytes' : 'the proven transaction does not carry these bytes',
    );
  } catch (err) {
    add('bytes in transaction', false, (err as Error).message);
  }
  return { genuine: checks.every((c) => c.ok), checks, head: ev.head };
}

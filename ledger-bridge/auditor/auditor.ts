/**
 * The provenance auditor (BRIEF §8 "Validation"): answers "is this data genuine?" for
 * (deviceId, seq or timestamp, data) by asking the Data Provenance contract (Algorithm 3), then
 * gathers the evidence — the ledger record, its transaction and block, an inclusion proof up to
 * the chain head, checked — and records the verdict in the provenance database.
 *
 * It talks to the ledger only through LedgerClient, so it audits the embedded ledger and Fabric
 * alike; the proof check is pluggable (the embedded ledger's Merkle proofs by default).
 */
import { createHash } from 'node:crypto';
import { CONTRACTS, type ChainHead, type InclusionProof, type LedgerClient } from '../client.js';
import { verifyConsistency, verifyInclusion, type ConsistencyProof, type ProofVerdict } from '../embedded/proofs.js';
import { codeOf, ProvenantError } from '../../shared/errors.js';
import { parseProvenanceRecord, type ProvenanceRecord } from '../../shared/records.js';
import type { ProvenanceDb, ReadingStatus } from '../provenance/store.js';
import type { BatchProof } from '../contracts/logic/batch-layout.js';
import { checkBatchPath, parseBatchProof, writtenBatchRoot, type BatchEvidence } from './batch-check.js';
import { checkRecordPartial, type PartialEvidence } from './partial-check.js';
import { ProofCache } from './proof-cache.js';
import { LedgerReads } from './coalesce.js';
import type { LevelAnswer, SignatureLevel } from '../contracts/logic/epoch-signatures.js';
import { checkEvidence, type EvidenceResult, type SignatureEvidence } from '../../shared/crypto/evidence.js';
import { sha256 } from '../../shared/crypto/sha256.js';

/**
 * The auditor's answers: Algorithm 3's two verdicts and two errors, and UNPROVEN — the contract
 * holds a record of exactly this data but its inclusion proof failed (e.g. against a trusted head
 * the chain does not pass through), or the record's path to its batch root did, so the data is
 * not proven genuine.
 */
export type AuditVerdict = 'TRUE' | 'FALSE' | 'NOT_FOUND' | 'SIGNATURE_MISMATCH' | 'UNPROVEN';

/** Where the record is looked up. */
export type AuditLocator = { readonly seq: number } | { readonly t: number };

/** What is asked. */
export interface AuditQuery {
  readonly deviceId: string;
  readonly at: AuditLocator;
  /** Canonical reading bytes to check. */
  readonly data: Uint8Array;
  /** The tag presented with the data (Alg. 3's device.sig); omitted: the hash alone decides. */
  readonly tag?: Uint8Array;
  /** Who asks (kept in the verdict history): 'api', 'console', 'cli', 'edge:<id>', 'job:<n>'. Default 'api'. */
  readonly askedBy?: string;
}

/** The evidence behind a TRUE or FALSE. */
export interface AuditEvidence {
  /** The ledger's provenance record the data was compared with. */
  readonly record: ProvenanceRecord;
  readonly txId: string;
  readonly blockNumber: number;
  /** The inclusion proof of the recording transaction, relative to `head`. */
  readonly proof: InclusionProof;
  /** Result of checking the proof (and, with a trusted head, that the chain extends it). */
  readonly proofCheck: ProofVerdict | { ok: 'unchecked'; reason: string };
  readonly head: ChainHead;
  /**
   * With a trusted head older than `head` on the embedded ledger: the check that `head` extends
   * it (a consistency proof), so history up to the trusted head was not rewritten.
   */
  readonly consistency?: ProofVerdict;
  /**
   * For a record kept in a batch record (every record since the batch layout): the path from the
   * record's leaf to the batch root, and the check that it leads there and that the proven
   * transaction wrote that root (batch-check.ts). Absent for a record of the per-reading layout.
   */
  readonly batch?: BatchEvidence;
  /**
   * The partial signature the record rests on, checked by the auditor itself (partial-check.ts):
   * bound to the record, its BBS proof verified under the authority's issuer key, and a proven
   * write like the config it was checked under. Present when the ledger recorded the data.
   */
  readonly partial?: PartialEvidence;
}

/** The answer with its evidence. */
export interface AuditResult {
  readonly verdict: AuditVerdict;
  /**
   * verdict TRUE: the contract said TRUE, and neither the inclusion proof, nor the batch path, nor
   * the auditor's own check of the partial signature (BBS re-verified) failed.
   */
  readonly genuine: boolean;
  readonly deviceId: string;
  /** "seq:N" or "t:MS". */
  readonly locator: string;
  /** SHA-256 of the data checked. */
  readonly dataHash: string;
  readonly message: string;
  readonly evidence?: AuditEvidence;
  /** Status written to the provenance database, if the data is stored there. */
  readonly dbStatus?: ReadingStatus;
  /**
   * How independently a TRUE can be checked (docs/crypto.md "Two levels of trust"):
   * 'ledger-attested' — it rests on the ledger's record (HMAC tag checked by endorsers who hold
   * K_tag) and the inclusion proof against its head; 'independently-verifiable' — the board's own
   * epoch signature covers exactly these bytes, checked here, and `signature.evidence` lets anyone
   * check it again with public data only (`provenant verify --offline`).
   */
  readonly independence?: SignatureLevel;
  /** The reading's level as the ledger answers it (signatureLevel), with the evidence when it has one. */
  readonly signature?: SignatureAnswer;
}

/** The level part of an answer. */
export interface SignatureAnswer {
  readonly level: SignatureLevel;
  /** Why not independently verifiable (or why the auditor's own check of the evidence failed). */
  readonly reason?: string;
  readonly segment?: LevelAnswer['segment'];
  readonly evidence?: SignatureEvidence;
  /** The auditor's own check of the evidence against the data (present with evidence). */
  readonly check?: EvidenceResult;
}

/** Checks a backend's inclusion proof; returns 'unchecked' when it does not know the format. */
export type ProofChecker = (proof: InclusionProof, trustedHead?: ChainHead) => ProofVerdict | { ok: 'unchecked'; reason: string };

/** The default checker: embedded-ledger Merkle proofs; other formats are reported unchecked. */
export const embeddedProofChecker: ProofChecker = (proof, trustedHead) => {
  const e = proof.evidence as { envelope?: unknown } | null;
  if (e === null || typeof e !== 'object' || typeof e.envelope !== 'string')
    return { ok: 'unchecked', reason: 'not an embedded-ledger proof' };
  return verifyInclusion(proof, trustedHead);
};

/** A source of embedded consistency proofs (EmbeddedLedger, HttpLedgerClient). */
type ConsistencySource = (fromHeight: number, toHeight: number) => Promise<ConsistencyProof>;

/** The consistency-proof capability of a LedgerClient, when it has one (the interface does not require it). */
function consistencySourceOf(ledger: LedgerClient): ConsistencySource | undefined {
  const direct = ledger as unknown as { consistencyProof?: (from: number, to?: number) => ConsistencyProof | Promise<ConsistencyProof> };
  if (typeof direct.consistencyProof === 'function')
    return async (from, to) => direct.consistencyProof?.call(ledger, from, to) as ConsistencyProof;
  // EmbeddedLedgerClient exposes its engine as `ledger`.
  const inner = (ledger as unknown as { ledger?: { consistencyProof?: (from: number, to?: number) => ConsistencyProof } }).ledger;
  if (inner !== undefined && typeof inner.consistencyProof === 'function')
    return async (from, to) => inner.consistencyProof?.call(inner, from, to) as ConsistencyProof;
  return undefined;
}

const isEmbeddedProof = (proof: InclusionProof): boolean => {
  const e = proof.evidence as { envelope?: unknown } | null;
  return e !== null && typeof e === 'object' && typeof e.envelope === 'string';
};

/** Options of an auditor. */
export interface AuditorOptions {
  readonly ledger: LedgerClient;
  /** Provenance database to read stored data from and write verdicts to. */
  readonly db?: ProvenanceDb;
  readonly checkProof?: ProofChecker;
  /**
   * A head saved earlier. Embedded ledger: the current head must extend it (consistency proof)
   * and the inclusion proof is checked up to the current head. Other backends: passed to
   * `checkProof` (Fabric's checker chains block headers up to it).
   */
  readonly trustedHead?: ChainHead;
  /**
   * Where inclusion proofs come from: by default the cache shared by every user of `ledger`
   * (ProofCache.for: one fetch and one check per transaction, however many of its readings are
   * asked about; proof-cache.ts); `false`: fetched and checked again for every question. With a
   * `trustedHead` the proof is always fetched fresh (the chain must extend that head now).
   */
  readonly proofCache?: ProofCache | false;
  /**
   * How `verify` and `signatureLevel` are asked: by default coalesced with the other questions in
   * flight on this ledger client into one `verifyMany` / `signatureLevelMany` read (LedgerReads.for,
   * coalesce.ts; each answer is what the single function answers); `false`: one request per question.
   */
  readonly reads?: LedgerReads | false;
  /**
   * The issuer public key the auditor trusts (the authority's issuer.public.json): partials are
   * re-verified under it, and a ledger config naming another key fails the check. Without it, the
   * key of the ledger config (itself a proven write) is used.
   */
  readonly issuerPk?: Uint8Array;
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const decoder = new TextDecoder();

/** The locator text of the contract's verify argument. */
export function locatorText(at: AuditLocator): string {
  return 'seq' in at ? `seq:${at.seq}` : `t:${at.t}`;
}

const STATUS: Record<AuditVerdict, ReadingStatus> = {
  TRUE: 'proven',
  FALSE: 'not_proven',
  NOT_FOUND: 'unrecorded',
  SIGNATURE_MISMATCH: 'signature_mismatch',
  UNPROVEN: 'not_proven',
};

/** The provenance auditor. */
export class Auditor {
  private readonly checkProof: ProofChecker;
  private readonly proofs: ProofCache | undefined;
  private readonly reads: LedgerReads | undefined;

  constructor(private readonly options: AuditorOptions) {
    this.checkProof = options.checkProof ?? embeddedProofChecker;
    this.proofs = options.proofCache === false ? undefined : (options.proofCache ?? ProofCache.for(options.ledger));
    this.reads = options.reads === false ? undefined : (options.reads ?? LedgerReads.for(options.ledger));
  }

  /** A read-only Data Provenance function's answer, parsed: coalesced (LedgerReads) or alone. */
  private async read(fn: 'verify' | 'signatureLevel', args: readonly string[]): Promise<unknown> {
    const reads = this.reads;
    if (reads !== undefined)
      return fn === 'verify'
        ? reads.verify(args[0] as string, args[1] as string, args[2] as string, args[3] as string)
        : reads.signatureLevel(args[0] as string, args[1] as string);
    return JSON.parse(decoder.decode(await this.options.ledger.evaluate({ contract: CONTRACTS.dataProvenance, fn, args: [...args] })));
  }

  /** Is `query.data` the genuine reading of (deviceId, seq | t)? */
  async check(query: AuditQuery): Promise<AuditResult> {
    const locator = locatorText(query.at);
    const dataHash = createHash('sha256').update(query.data).digest('hex');
    const base = { deviceId: query.deviceId, locator, dataHash };
    let parsed: unknown;
    try {
      parsed = await this.read('verify', [query.deviceId, locator, hex(query.data), query.tag === undefined ? '' : hex(query.tag)]);
    } catch (err) {
      const code = codeOf(err);
      const message = err instanceof Error ? err.message : String(err);
      if (code === 'PROV_ERR_RECORD_NOT_FOUND') return this.finish({ ...base, verdict: 'NOT_FOUND', genuine: false, message }, query);
      if (code === 'PROV_ERR_SIGNATURE_MISMATCH')
        return this.finish({ ...base, verdict: 'SIGNATURE_MISMATCH', genuine: false, message }, query);
      throw err;
    }
    const answer = parsed as { verdict: 'TRUE' | 'FALSE'; record: unknown; dataHash: string; batch?: unknown };
    if (answer.dataHash !== dataHash) {
      throw new ProvenantError('PROV_ERR_AUDIT', `the ledger hashed the data to ${answer.dataHash}, the auditor to ${dataHash}`, {
        deviceId: query.deviceId,
      });
    }
    const record = parseProvenanceRecord(answer.record);
    const batchProof = answer.batch === undefined ? undefined : parseBatchProof(answer.batch);
    if (answer.batch !== undefined && batchProof === undefined)
      throw new ProvenantError('PROV_ERR_AUDIT', 'the ledger answered with a malformed batch path', { deviceId: query.deviceId });
    const recorded = answer.verdict === 'TRUE';
    // The reading's level is asked while the inclusion proof is fetched (two ledger round trips
    // at once, not one after the other: the paper's response time); used only if it is genuine.
    const level = recorded ? this.signatureOf(query.deviceId, record.seq, query.data) : undefined;
    level?.catch(() => undefined); // awaited below; not an unhandled rejection if the proof fails first
    const proven = await this.evidenceFor(record, batchProof);
    const evidence: AuditEvidence = recorded
      ? {
          ...proven,
          partial: await checkRecordPartial(this.options.ledger, record, {
            checkProof: this.checkProof,
            ...(this.proofs ? { proofs: this.proofs } : {}),
            ...(this.options.issuerPk ? { issuerPk: this.options.issuerPk } : {}),
          }),
        }
      : proven;
    // An unchecked proof (a backend whose format we cannot check) does not refute; a failed one
    // does, and so does a record whose path to its batch root failed (batch-check.ts), or whose
    // partial signature does not verify here (partial-check.ts).
    const check = evidence.proofCheck;
    const batchCheck = evidence.batch?.check;
    const partialCheck = evidence.partial?.check;
    const failure =
      check.ok === false
        ? `its inclusion proof FAILED: ${check.reason}`
        : batchCheck?.ok === false
          ? `its batch path FAILED: ${batchCheck.reason}`
          : partialCheck?.ok === false
            ? `its partial signature FAILED the auditor's check: ${partialCheck.reason}`
            : undefined;
    const genuine = recorded && failure === undefined;
    const where = `${query.deviceId} ${locator} is in tx ${record.txId}, block ${evidence.blockNumber}`;
    const verdict: AuditVerdict = !recorded ? answer.verdict : genuine ? 'TRUE' : 'UNPROVEN';
    const batchNote =
      batchCheck === undefined
        ? ''
        : batchCheck.ok === true
          ? `, batch path checked (leaf ${evidence.batch?.leafIndex} of ${evidence.batch?.leaves})`
          : `, batch path unchecked (${batchCheck.reason})`;
    const message =
      verdict === 'TRUE'
        ? `record proven: ${where}` +
          (check.ok === true ? ', inclusion proof checked' : `, inclusion proof unchecked (${check.reason})`) +
          batchNote +
          (partialCheck?.ok === true
            ? `, partial signature re-verified (BBS, ${evidence.partial?.keyFrom === 'pinned' ? 'pinned issuer key' : "the ledger config's issuer key"})`
            : partialCheck === undefined
              ? ''
              : `, partial signature unchecked (${partialCheck.reason})`)
        : verdict === 'UNPROVEN'
          ? `record NOT proven: the ledger says ${where}, but ${failure ?? ''}`
          : `record NOT proven: the data hashes to ${dataHash}, the ledger recorded ${record.dataHash}`;
    const signature = genuine ? await level : undefined;
    const independence: SignatureLevel = signature?.level ?? 'ledger-attested';
    const levelNote =
      verdict !== 'TRUE'
        ? ''
        : independence === 'independently-verifiable'
          ? '; independently verifiable: the board signed it (epoch signature checked)'
          : `; ledger-attested only${signature?.reason !== undefined ? ` (${signature.reason})` : ''}`;
    return this.finish(
      { ...base, verdict, genuine, message: message + levelNote, evidence, independence, ...(signature ? { signature } : {}) },
      query,
    );
  }

  /**
   * The reading's level from the ledger (DataProvenance signatureLevel), and when the ledger
   * offers evidence, the auditor's own check of it against the data: a level the evidence does
   * not back is reported ledger-attested. A ledger whose contracts predate epoch signatures
   * answers nothing here (undefined).
   */
  private async signatureOf(deviceId: string, seq: number, data: Uint8Array): Promise<SignatureAnswer | undefined> {
    let answer: LevelAnswer;
    try {
      answer = (await this.read('signatureLevel', [deviceId, String(seq)])) as LevelAnswer;
    } catch {
      return undefined;
    }
    const base = { ...(answer.segment ? { segment: answer.segment } : {}) };
    if (answer.level !== 'independently-verifiable' || answer.evidence === undefined)
      return { ...base, level: 'ledger-attested', ...(answer.reason !== undefined ? { reason: answer.reason } : {}) };
    const check = checkEvidence(sha256, answer.evidence, data);
    if (!check.ok)
      return {
        ...base,
        level: 'ledger-attested',
        reason: `the ledger's evidence does not check: ${check.step}: ${check.reason}`,
        evidence: answer.evidence,
        check,
      };
    return { ...base, level: 'independently-verifiable', evidence: answer.evidence, check };
  }

  /**
   * Checks what the provenance database holds for (deviceId, seq | t): every stored copy (a
   * tampered copy is a separate row) with its own tag. Throws PROV_ERR_NOT_FOUND if none.
   */
  async checkStored(deviceId: string, at: AuditLocator, askedBy = 'api'): Promise<AuditResult[]> {
    const db = this.options.db;
    if (db === undefined) throw new ProvenantError('PROV_ERR_BAD_INPUT', 'checkStored needs a provenance database', { deviceId });
    const rows = 'seq' in at ? await db.findBySeq(deviceId, at.seq) : await db.findByTime(deviceId, at.t);
    if (rows.length === 0)
      throw new ProvenantError('PROV_ERR_NOT_FOUND', `the provenance database holds no reading of ${deviceId} at ${locatorText(at)}`, {
        deviceId,
      });
    const out: AuditResult[] = [];
    for (const row of rows) out.push(await this.check({ deviceId, at, data: row.canonical, tag: Buffer.from(row.tag, 'hex'), askedBy }));
    return out;
  }

  private async evidenceFor(record: ProvenanceRecord, batchProof: BatchProof | undefined): Promise<AuditEvidence> {
    // Against a trusted head the question is whether the chain extends it NOW: a fresh proof, up
    // to the current head. Otherwise a proof of this transaction shared with the other questions
    // (at most the cache's maxAgeMs old).
    const cache = this.options.trustedHead === undefined ? this.proofs : undefined;
    const proof = cache ? await cache.get(record.txId) : await this.options.ledger.inclusionProof(record.txId);
    // What depends on the proof alone is computed once per proof when it is shared (O(batch) each).
    const once = <T>(key: string, compute: () => T): T => (cache ? cache.derive(proof, key, compute) : compute());
    const head = proof.head;
    const base = {
      record,
      txId: record.txId,
      blockNumber: proof.blockNumber,
      proof,
      head,
      ...(batchProof === undefined
        ? {}
        : {
            batch: {
              ...batchProof,
              check: checkBatchPath(
                record,
                batchProof,
                proof,
                once(`root:${record.txId}`, () => writtenBatchRoot(record.txId, proof)),
              ),
            },
          }),
    };
    const trusted = this.options.trustedHead;
    const check = (against?: ChainHead): ReturnType<ProofChecker> =>
      cache ? cache.check(proof, this.checkProof, against) : this.checkProof(proof, against);
    if (trusted === undefined || !isEmbeddedProof(proof) || (trusted.height === head.height && trusted.hash === head.hash)) {
      return { ...base, proofCheck: check(trusted) };
    }
    const consistency = await once(`consistency:${trusted.height}:${trusted.hash}`, () => this.consistency(trusted, head));
    const proofCheck = consistency.ok
      ? check()
      : { ok: false as const, reason: `the chain does not extend the trusted head: ${consistency.reason}` };
    return { ...base, proofCheck, consistency };
  }

  /** Does `head` extend `trusted`? Asks the ledger for a consistency proof and checks it. */
  private async consistency(trusted: ChainHead, head: ChainHead): Promise<ProofVerdict> {
    if (trusted.height > head.height)
      return { ok: false, reason: `the trusted head (height ${trusted.height}) is ahead of the ledger's (${head.height})` };
    const source = consistencySourceOf(this.options.ledger);
    if (source === undefined) return { ok: false, reason: 'this ledger client offers no consistency proof' };
    try {
      return verifyConsistency(await source(trusted.height, head.height), trusted, head);
    } catch (err) {
      return { ok: false, reason: err instanceof Error ? err.message : String(err) };
    }
  }

  /**
   * The paper's last validation step: the status goes into the provenance database (when it
   * holds the data) with the evidence, and the verdict joins the reading's history.
   */
  private async finish(result: Omit<AuditResult, 'dbStatus'>, query: AuditQuery): Promise<AuditResult> {
    const db = this.options.db;
    if (db === undefined) return result;
    const status = STATUS[result.verdict];
    const ev = result.evidence;
    const written = await db.recordAudit(
      result.dataHash,
      status,
      {
        reason: result.message,
        ...(ev
          ? {
              evidence: {
                head: ev.head,
                proofCheck: ev.proofCheck,
                txId: ev.txId,
                blockNumber: ev.blockNumber,
                ...(ev.batch
                  ? { batch: { root: ev.batch.root, leafIndex: ev.batch.leafIndex, leaves: ev.batch.leaves, check: ev.batch.check } }
                  : {}),
                ...(ev.partial ? { partial: ev.partial } : {}),
              },
            }
          : {}),
      },
      {
        deviceId: result.deviceId,
        locator: result.locator,
        verdict: result.verdict,
        genuine: result.genuine,
        message: result.message,
        headHeight: ev?.head.height ?? null,
        headHash: ev?.head.hash ?? null,
        askedBy: query.askedBy ?? 'api',
      },
    );
    return written ? { ...result, dbStatus: status } : result;
  }
}

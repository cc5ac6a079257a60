/** The provenance auditor and the provenance database (BRIEF §8, Validation). */
export {
  Auditor,
  embeddedProofChecker,
  locatorText,
  type AuditEvidence,
  type AuditLocator,
  type AuditQuery,
  type AuditResult,
  type AuditVerdict,
  type AuditorOptions,
  type ProofChecker,
} from './auditor.js';
export { Coalescer, LedgerReads, type CoalescerOptions, type Outcome } from './coalesce.js';
export { ProvenanceDb, ProvenanceFollower, type ReadingStatus, type StoredReading } from '../provenance/index.js';
export { Revalidator, type RevalidatorOptions } from './jobs.js';
export { connectLedger, fabricAwareChecker, type ConnectOptions } from './connect.js';
export { BUNDLE_FORMAT, checkBundle, exportReading, type BundleReport, type EvidenceBundle } from './export.js';

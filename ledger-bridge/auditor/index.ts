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
export { ProvenanceDb, type ReadingStatus, type StoredReading } from './provenance-db.js';
export { connectLedger, type ConnectOptions } from './connect.js';

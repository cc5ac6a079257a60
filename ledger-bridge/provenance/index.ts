/** The provenance database (SQLite or PostgreSQL) and the follower that fills it from the ledger. */
export {
  ProvenanceDb,
  type DecodedValues,
  type IngestCounts,
  type IngestTx,
  type JobRow,
  type ReadingRange,
  type ReadingStatus,
  type StoredReading,
  type VerdictEntry,
} from './store.js';
export { ProvenanceFollower, type FollowerOptions, type FollowerStatus } from './follower.js';
export { isPostgresUrl, redactUrl } from './sql.js';
export { callOf, readingsOf, type TxCall } from './tx-args.js';

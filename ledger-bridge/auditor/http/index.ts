/** The auditor over HTTP and the saved-head (transparency-log) check. */
export { buildAuditorServer, type AuditorServerOptions } from './server.js';
export { checkSavedHead, parseHeadValue, readHeadFile, verifyHeaderChain, type ChainHeader, type HeadCheck } from './head-check.js';
export { parseData, type ParsedData } from './data.js';
export { auditorMetrics, type AuditorMetrics } from './metrics.js';

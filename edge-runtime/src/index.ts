/** The edge runtime's public surface. */
export * from './links/link.js';
export { SerialLink, type SerialLinkOptions } from './links/serial-link.js';
export { BleLink, loadNoble, NUS, type BleLinkOptions } from './links/ble-link.js';
export { Outbox, type OutboxItem, type OutboxOptions, type PutStatus, type StoredReading } from './outbox/outbox.js';
export { Forwarder, type ForwarderOptions, type SettledBatch } from './outbox/forwarder.js';
export { CredentialStore } from './session/credentials.js';
export { DeviceSession, EDGE_REASONS } from './session/session.js';
export type { ChallengeCodec, SessionHost, SessionProfile } from './session/host.js';
export { wireChallengeCodec, MSG_CHALLENGE, MSG_RESPONSE } from './session/challenge-codec.js';
export { TrafficMonitor, type TrafficStatus } from './traffic/monitor.js';
export { EdgeMetrics } from './metrics.js';
export { EdgeRuntime, type EdgeRuntimeOptions, type DeviceView } from './runtime.js';
export { buildApi, type ApiOptions } from './api/server.js';
export { silentLog, type Log } from './log.js';

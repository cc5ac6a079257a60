/** The device ↔ edge wire protocol: CRC-16, COBS, frames, messages (docs/wire-protocol.md). */
export * from './crc16.js';
export * from './cobs.js';
export * from './frame.js';
export * from './codec.js';
export * from './messages.js';
export * from './union.js';

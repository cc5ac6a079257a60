/** The crypto surface of Provenant: BBS, policies, the outsourced signature and its verdicts. */
export { ready } from './bbs.js';
export { complete, completeBytes, readingDataHash, K_IOT_BYTES } from './complete.js';
export { hmacLabeled, hmacSha256 } from './hmac.js';
export * from './domains.js';
export { sha256 } from './sha256.js';
export * from './verdict.js';
export * from './policy.js';
export * from './presentation.js';
export * from './credential.js';
export * from './outsourced.js';

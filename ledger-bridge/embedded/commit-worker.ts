/**
 * The commit worker: a worker thread with its own SQLite connection that writes sealed blocks in
 * the order it receives them and answers each with { ok: number } or { error }. After the first
 * error it refuses every later block (fail-stop): writing block N+1 over a missing block N would
 * break the chain. Started by committer.ts.
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { type BlockMessage, type SyncMode, blockWriter, configure } from './writer.js';
import { DepositCipher } from './deposit-key.js';

type Message = { type: 'block'; block: BlockMessage } | { type: 'close' };

const { path, sync, depositKey } = workerData as { path: string; sync: SyncMode; depositKey: Uint8Array };
const db = new Database(path, { fileMustExist: true });
configure(db, sync);
const cipher = new DepositCipher(depositKey);
const write = blockWriter(db, (c, k, v, value) => cipher.seal(c, k, v, value));
let failed: string | null = null;

parentPort?.on('message', (m: Message) => {
  if (m.type === 'close') {
    try {
      db.pragma('wal_checkpoint(TRUNCATE)');
    } finally {
      db.close();
      parentPort?.postMessage({ type: 'closed' });
    }
    return;
  }
  const n = m.block.header.number;
  if (failed !== null) {
    parentPort?.postMessage({ type: 'error', number: n, message: `not written: an earlier block failed (${failed})` });
    return;
  }
  try {
    write(m.block);
    parentPort?.postMessage({ type: 'ok', number: n });
  } catch (err) {
    failed = (err as Error).message;
    parentPort?.postMessage({ type: 'error', number: n, message: failed });
  }
});
parentPort?.postMessage({ type: 'ready' });

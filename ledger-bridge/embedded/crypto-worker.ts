/**
 * A validation worker: runs its share of a batch's cryptography (contracts/logic/batch-crypto.ts:
 * HMAC tag check, dataHash, record leaf) and posts the results back. Started by crypto-pool.ts.
 */
import { parentPort } from 'node:worker_threads';
import { cryptoResult, runCryptoRange, type CryptoJob } from '../contracts/logic/batch-crypto.js';

/** A share of a job as posted: the job's arrays, and the items [from, to) to run. */
export interface CryptoTask {
  readonly id: number;
  readonly job: Omit<CryptoJob, 'data' | 'routes' | 'keys'> & { data: Uint8Array; routes: Uint8Array[]; keys: Uint8Array[] };
  readonly from: number;
  readonly to: number;
}

const asBuffer = (b: Uint8Array): Buffer => Buffer.from(b.buffer, b.byteOffset, b.byteLength);

parentPort?.on('message', (task: CryptoTask) => {
  const job: CryptoJob = { ...task.job, data: asBuffer(task.job.data), routes: task.job.routes.map(asBuffer), keys: task.job.keys };
  const n = task.to - task.from;
  // Results for items [from, to) at positions 0..n: run over a job whose items are the share.
  const share: CryptoJob = { ...job, items: job.items.subarray(task.from, task.to), key: job.key.subarray(task.from, task.to) };
  const out = cryptoResult(n);
  runCryptoRange(share, 0, n, out);
  const tagOk = out.tagOk;
  const dataHash = new Uint8Array(out.dataHash.buffer, out.dataHash.byteOffset, out.dataHash.byteLength);
  const leaf = new Uint8Array(out.leaf.buffer, out.leaf.byteOffset, out.leaf.byteLength);
  // Transferred, not cloned: the buffers are this share's own (cryptoResult allocates them whole).
  const transfer = [tagOk.buffer, dataHash.buffer, leaf.buffer].filter((b, i, all) => all.indexOf(b) === i) as ArrayBuffer[];
  parentPort?.postMessage({ id: task.id, tagOk, dataHash, leaf }, transfer);
});
parentPort?.postMessage({ type: 'ready' });

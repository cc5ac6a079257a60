/**
 * Starts one of this folder's TypeScript modules on a worker thread and waits for its 'ready'
 * message. Under tsx or vitest the worker registers tsx's loader first (a worker does not
 * inherit the parent thread's loader hooks); compiled to .js it loads the module directly.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

/** URL of tsx's ESM register API, from its package exports (require.resolve would give the CJS build). */
function tsxEsmApi(): string {
  const pkgPath = createRequire(import.meta.url).resolve('tsx/package.json');
  const pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as { exports: Record<string, { import: { default: string } }> };
  const rel = pkg.exports['./esm/api']?.import.default;
  if (!rel) throw new Error('tsx does not export ./esm/api');
  return pathToFileURL(join(dirname(pkgPath), rel)).href;
}

/** Spawns `<name>.ts|.js` from this folder with `workerData`; resolves once it posts { type: 'ready' }. */
export async function spawnWorker(name: string, workerData: unknown): Promise<Worker> {
  const self = fileURLToPath(import.meta.url);
  const ext = extname(self);
  const entry = pathToFileURL(join(dirname(self), name + ext)).href;
  const tsx = ext === '.ts' ? tsxEsmApi() : null;
  // A failure while loading is reported as a message and ends the thread: a library may have
  // installed an unhandledRejection handler in the worker, which would otherwise swallow it.
  const boot =
    `(async () => { ${tsx ? `(await import(${JSON.stringify(tsx)})).register();` : ''} await import(${JSON.stringify(entry)}); })()` +
    `.catch((e) => { require('node:worker_threads').parentPort.postMessage({ type: 'failed', message: String((e && e.message) || e) }); process.exit(1); });`;
  const worker = new Worker(boot, { eval: true, workerData });
  await new Promise<void>((resolve, reject) => {
    const onExit = (code: number): void => reject(new Error(`${name} exited while starting (code ${code})`));
    const onMessage = (m: { type?: string; message?: string }): void => {
      if (m?.type === 'failed') {
        done();
        reject(new Error(`${name} failed to start: ${m.message}`));
      } else if (m?.type === 'ready') {
        done();
        resolve();
      }
    };
    const done = (): void => {
      worker.off('message', onMessage);
      worker.off('error', reject);
      worker.off('exit', onExit);
    };
    worker.on('message', onMessage);
    worker.once('error', reject);
    worker.once('exit', onExit);
  });
  return worker;
}

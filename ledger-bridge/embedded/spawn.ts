/**
 * Starts one of this folder's TypeScript modules on a worker thread and waits for its 'ready'
 * message. Compiled to .js it loads the module directly. Under tsx or vitest (a worker does not
 * inherit the parent thread's loader hooks) the entry is bundled by esbuild into one CommonJS
 * script, once per process, packages left to require(); an entry that cannot be bundled so (top-
 * level await, as the endorser's) registers tsx's loader in the worker instead. The bundle starts
 * in ~10 ms of CPU where registering tsx costs ~0.4 s at every start: every embedded ledger opened
 * in the tests starts a commit worker.
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

const bundles = new Map<string, Promise<string | null>>();

/** `file` (TypeScript) as one CommonJS script with its packages required from its folder; null if esbuild cannot. */
function bundled(file: string): Promise<string | null> {
  let b = bundles.get(file);
  if (b === undefined) {
    b = (async () => {
      try {
        const { build } = await import('esbuild');
        const r = await build({
          entryPoints: [file],
          bundle: true,
          packages: 'external',
          platform: 'node',
          format: 'cjs',
          target: 'node20',
          write: false,
          logLevel: 'silent',
        });
        const code = r.outputFiles[0]?.text;
        if (code === undefined) return null;
        return `(function (require, module, exports) {\n${code}\n})(require('node:module').createRequire(${JSON.stringify(file)}), { exports: {} }, {});`;
      } catch {
        return null;
      }
    })();
    bundles.set(file, b);
  }
  return b;
}

/** Spawns `<name>.ts|.js` from this folder with `workerData`; resolves once it posts { type: 'ready' }. */
export async function spawnWorker(name: string, workerData: unknown): Promise<Worker> {
  const self = fileURLToPath(import.meta.url);
  const ext = extname(self);
  const file = join(dirname(self), name + ext);
  const entry = pathToFileURL(file).href;
  const script = ext === '.ts' ? await bundled(file) : null;
  const tsx = ext === '.ts' && script === null ? tsxEsmApi() : null;
  // A failure while loading is reported as a message and ends the thread: a library may have
  // installed an unhandledRejection handler in the worker, which would otherwise swallow it.
  const boot =
    script ??
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

/**
 * Loads @digitalbazaar/bbs-signatures (a devDependency: pure JS on noble-curves), the second
 * implementation our BBS is cross-checked and benchmarked against. Node-only, tests and
 * benchmarks only; never imported by product code.
 *
 * Why a loader: bbs-signatures 3.0.0 imports `@noble/hashes/sha256` without declaring
 * @noble/hashes, relying on a hoisted v1. Our own dependency hoists @noble/hashes v2, which has
 * no such subpath, so a plain import fails. A tiny resolve hook sends that package's
 * `@noble/hashes/*` imports to the copy its own @noble/curves resolves (v1), leaving every
 * other import alone.
 *
 * The peer needs 50-130 ms of CPU per operation, so long interop runs use `loadPeerBbsPool`,
 * which runs it in worker threads (one per core) while our side stays on the main thread.
 * Benchmarks use `loadPeerBbs` (same thread, like ours).
 */
import { createRequire, register } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

/** The peer's async API, in the shape its README documents (ciphersuite fixed by the caller). */
export interface PeerBbs {
  generateKeyPair(o: { ciphersuite: string }): Promise<{ secretKey: Uint8Array; publicKey: Uint8Array }>;
  sign(o: {
    secretKey: Uint8Array;
    publicKey: Uint8Array;
    header: Uint8Array;
    messages: Uint8Array[];
    ciphersuite: string;
  }): Promise<Uint8Array>;
  verifySignature(o: {
    publicKey: Uint8Array;
    signature: Uint8Array;
    header: Uint8Array;
    messages: Uint8Array[];
    ciphersuite: string;
  }): Promise<boolean>;
  deriveProof(o: {
    publicKey: Uint8Array;
    signature: Uint8Array;
    header: Uint8Array;
    messages: Uint8Array[];
    presentationHeader: Uint8Array;
    disclosedMessageIndexes: number[];
    ciphersuite: string;
  }): Promise<Uint8Array>;
  verifyProof(o: {
    publicKey: Uint8Array;
    proof: Uint8Array;
    header: Uint8Array;
    presentationHeader: Uint8Array;
    disclosedMessages: Uint8Array[];
    disclosedMessageIndexes: number[];
    ciphersuite: string;
  }): Promise<boolean>;
}

/** The ciphersuite name the peer uses for ours. */
export const PEER_CIPHERSUITE = 'BLS12-381-SHA-256';

const HOOK = `
export async function resolve(specifier, context, next) {
  const parent = context.parentURL ?? '';
  if (specifier.startsWith('@noble/hashes/') && parent.includes('/@digitalbazaar/bbs-signatures/')) {
    const curves = await next('@noble/curves/abstract/modular', context);
    return next(specifier, { ...context, parentURL: curves.url });
  }
  return next(specifier, context);
}`;

let peer: Promise<PeerBbs> | undefined;

/** Import the peer once, with the resolve hook installed first. */
export function loadPeerBbs(): Promise<PeerBbs> {
  peer ??= (async () => {
    register(`data:text/javascript,${encodeURIComponent(HOOK)}`);
    const name = '@digitalbazaar/bbs-signatures';
    return (await import(name)) as PeerBbs;
  })();
  return peer;
}

/** The peer in worker threads; the same API plus `close()` to stop the workers. */
export interface PeerBbsPool extends PeerBbs {
  close(): Promise<void>;
}

// Plain CommonJS evaluated in each worker: install the hook, import the peer, serve requests.
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const { register } = require('node:module');
register('data:text/javascript,' + encodeURIComponent(workerData.hook));
import(workerData.peerUrl).then((peer) => {
  parentPort.on('message', ({ id, op, arg }) => {
    Promise.resolve().then(() => peer[op](arg)).then(
      (value) => parentPort.postMessage({ id, ok: true, value }),
      (e) => parentPort.postMessage({ id, ok: false, message: String((e && e.message) || e) }));
  });
  parentPort.postMessage({ ready: true });
});`;

interface Reply {
  id?: number;
  ok?: boolean;
  value?: unknown;
  message?: string;
  ready?: boolean;
}

/** Start `size` workers running the peer; calls are spread over the least busy worker. */
export async function loadPeerBbsPool(size: number): Promise<PeerBbsPool> {
  const peerUrl = pathToFileURL(createRequire(import.meta.url).resolve('@digitalbazaar/bbs-signatures')).href;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  const busy: number[] = [];
  let nextId = 0;
  const workers = await Promise.all(
    Array.from(
      { length: Math.max(1, size) },
      (_, w) =>
        new Promise<Worker>((resolve, reject) => {
          const worker = new Worker(WORKER, { eval: true, workerData: { hook: HOOK, peerUrl } });
          busy[w] = 0;
          worker.on('error', reject);
          worker.on('message', (m: Reply) => {
            if (m.ready === true) return resolve(worker);
            const p = pending.get(m.id as number);
            if (p === undefined) return;
            pending.delete(m.id as number);
            busy[w] = (busy[w] as number) - 1;
            if (m.ok === true) p.resolve(m.value);
            else p.reject(new Error(m.message));
          });
        }),
    ),
  );
  const call =
    (op: keyof PeerBbs) =>
    (arg: unknown): Promise<never> => {
      let w = 0;
      for (let i = 1; i < workers.length; i++) if ((busy[i] as number) < (busy[w] as number)) w = i;
      busy[w] = (busy[w] as number) + 1;
      const id = nextId++;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
        (workers[w] as Worker).postMessage({ id, op, arg });
      });
    };
  return {
    generateKeyPair: call('generateKeyPair'),
    sign: call('sign'),
    verifySignature: call('verifySignature'),
    deriveProof: call('deriveProof'),
    verifyProof: call('verifyProof'),
    close: async () => {
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}

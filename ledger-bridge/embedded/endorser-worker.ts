/**
 * An endorser: a worker thread that simulates transactions (runs the contracts through the
 * stub) against the chain on disk and answers with the read/write set. Endorsement is the only
 * parallel step of execute-order-validate; ordering and MVCC validation stay on the ledger
 * thread, which invalidates any simulation that read a version a newer block changed. Started by
 * endorsers.ts with the module that exports the contract classes.
 */
import { parentPort, workerData } from 'node:worker_threads';
import './quiet.js';
import Database from 'better-sqlite3';
import { ContractHost, type ContractClass } from './host.js';
import type { EmbeddedIdentity } from './identity.js';
import { LedgerStore } from './store.js';
import { DepositCipher } from './deposit-key.js';
import { EmbeddedStub } from './stub.js';

/** A simulation request from the ledger thread. */
export interface EndorseRequest {
  readonly id: number;
  readonly txId: string;
  readonly timestamp: number;
  readonly identity: EmbeddedIdentity;
  readonly contract: string;
  readonly fn: string;
  readonly args: readonly (string | Uint8Array)[];
  readonly transient: Readonly<Record<string, Uint8Array>>;
}

const { path, module, exportName, channelId, depositKey } = workerData as {
  path: string;
  module: string;
  exportName: string;
  channelId: string;
  depositKey: Uint8Array;
};
const mod = (await import(module)) as Record<string, unknown>;
const classes = mod[exportName];
if (!Array.isArray(classes)) throw new TypeError(`${module} does not export an array '${exportName}' of contract classes`);
const host = new ContractHost(classes as ContractClass[]);
const store = new LedgerStore(new Database(path, { fileMustExist: true }), {
  sync: 'normal',
  snapshotOnly: true,
  cipher: new DepositCipher(depositKey),
});
const reader = store.reader();

parentPort?.on('message', (r: EndorseRequest) => {
  void (async () => {
    const stub = new EmbeddedStub(reader, {
      txId: r.txId,
      channelId,
      timestamp: r.timestamp,
      identity: r.identity,
      args: [`${r.contract}:${r.fn}`, ...r.args],
      transient: new Map(Object.entries(r.transient)),
    });
    try {
      const outcome = await host.invoke(stub, r.identity, r.contract, r.fn, r.args);
      const sim = stub.simulation;
      parentPort?.postMessage({
        id: r.id,
        outcome,
        simulation: {
          reads: [...sim.reads],
          ranges: sim.ranges,
          writes: [...sim.writes],
          privateReads: [...sim.privateReads],
          privateWrites: [...sim.privateWrites],
          event: sim.event,
        },
      });
    } catch (err) {
      parentPort?.postMessage({ id: r.id, outcome: { ok: false, message: `endorser failed: ${(err as Error).message}` } });
    }
  })();
});
parentPort?.postMessage({ type: 'ready' });

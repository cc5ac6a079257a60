/**
 * The ChaincodeStub of the embedded ledger: the part of fabric-shim's stub our contracts use,
 * with Fabric's semantics. A transaction simulates against committed state; every read is
 * recorded with the version it saw, every write is buffered (a read never sees the same
 * transaction's own writes, as on Fabric), and the result is a read/write set that the orderer
 * and the MVCC validator work on.
 */
import { createHash } from 'node:crypto';
import type { BatchCrypto } from '../contracts/logic/batch-crypto.js';
import type { KeyVersion, RangeRead } from './codec.js';
import type { EmbeddedIdentity } from './identity.js';
import { EMPTY_KEY_SUBSTITUTE, MAX_RUNE, checkKey, checkSimpleKey, createCompositeKey, splitCompositeKey } from './keys.js';

/** A committed value with its version (version 0 and value null: the key does not exist). */
export interface Versioned {
  readonly version: number;
  readonly value: Uint8Array | null;
}

/** A committed key in a range scan. */
export interface VersionedKV {
  readonly key: string;
  readonly version: number;
  readonly value: Uint8Array;
}

/** One entry of a key's history, as fabric-shim's HistoryQueryIterator yields it. */
export interface KeyModification {
  readonly txId: string;
  readonly value: Uint8Array;
  readonly isDelete: boolean;
  readonly timestamp: { seconds: LongLike; nanos: number };
}

/** What the stub needs from committed state (synchronous: SQLite via better-sqlite3 + cache). */
export interface StateReader {
  get(key: string): Versioned;
  range(start: string, end: string): VersionedKV[];
  privateGet(collection: string, key: string): Versioned;
  privateRange(collection: string, start: string, end: string): VersionedKV[];
  history(key: string): KeyModification[];
}

/** The simulation's outcome: Fabric's read/write set plus the event. */
export interface Simulation {
  readonly reads: Map<string, number>;
  readonly ranges: RangeRead[];
  readonly writes: Map<string, Uint8Array | null>;
  /** keyed by collection + U+0000 + key */
  readonly privateReads: Map<string, { collection: string; key: string; version: number }>;
  readonly privateWrites: Map<string, { collection: string; key: string; value: Uint8Array | null }>;
  event: { name: string; payload: Uint8Array } | null;
}

function textOf(a: string | Uint8Array): string {
  return typeof a === 'string' ? a : Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('utf8');
}

/** The fields of a proposal the stub exposes. */
export interface StubInput {
  readonly txId: string;
  readonly channelId: string;
  readonly timestamp: number;
  readonly identity: EmbeddedIdentity;
  /** 'Contract:fn' followed by the arguments (text, or bytes: a binary argument). */
  readonly args: readonly (string | Uint8Array)[];
  readonly transient: ReadonlyMap<string, Uint8Array>;
}

/** The subset of Long (the `long` package) contracts call on Fabric timestamps. */
export interface LongLike {
  readonly low: number;
  readonly high: number;
  readonly unsigned: boolean;
  toNumber(): number;
  toString(): string;
}

/** A Long-compatible value for Fabric's Timestamp.seconds. */
export function longOf(n: number): LongLike {
  return {
    low: (n >>> 0) | 0,
    high: Math.floor(n / 0x1_0000_0000) | 0,
    unsigned: true,
    toNumber: () => n,
    toString: () => String(n),
  };
}

/** Fabric's timestamp object for milliseconds since the epoch. */
export function timestampOf(ms: number): { seconds: LongLike; nanos: number } {
  return { seconds: longOf(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1_000_000 };
}

function toBuffer(v: Uint8Array): Buffer {
  return Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength);
}

function checkCollection(collection: unknown): asserts collection is string {
  if (!collection || typeof collection !== 'string') throw new Error('collection must be a valid string');
  if (collection.includes('\u0000')) throw new Error('collection must not contain U+0000');
}

type Iter<T> = Promise<{ next(): Promise<{ value: T; done: boolean }>; close(): Promise<void> }> & AsyncIterable<T>;

/** fabric-shim's iterator shape: a promise of an iterator that is also async-iterable. */
function iteratorOf<T>(items: readonly T[]): Iter<T> {
  const make = (): { next(): Promise<{ value: T; done: boolean }>; close(): Promise<void> } => {
    let i = 0;
    return {
      next: async () => (i < items.length ? { value: items[i++] as T, done: false } : { value: undefined as unknown as T, done: true }),
      close: async () => {
        i = items.length;
      },
    };
  };
  const p = Promise.resolve(make()) as Iter<T>;
  (p as unknown as Record<symbol, unknown>)[Symbol.asyncIterator] = () => {
    const it = make();
    return { next: it.next, return: async () => ({ value: undefined, done: true }) };
  };
  return p;
}

/** A rejected promise that is also (failing) async-iterable, as fabric-shim returns on bad input. */
function failedIterator<T>(err: Error): Iter<T> {
  const p = Promise.reject(err) as Iter<T>;
  p.catch(() => undefined);
  (p as unknown as Record<symbol, unknown>)[Symbol.asyncIterator] = () => ({ next: () => Promise.reject(err) });
  return p;
}

/** The embedded ChaincodeStub for one transaction simulation. */
export class EmbeddedStub {
  readonly simulation: Simulation = {
    reads: new Map(),
    ranges: [],
    writes: new Map(),
    privateReads: new Map(),
    privateWrites: new Map(),
    event: null,
  };
  private readonly transientMap: Map<string, Buffer>;
  /**
   * Not a Fabric API: where DataProvenance runs a batch's tag checks and hashing (the ledger's
   * validation threads, when it has them). Absent: the contract's default, this thread.
   */
  batchCrypto?: BatchCrypto;

  constructor(
    private readonly state: StateReader,
    private readonly input: StubInput,
  ) {
    this.transientMap = new Map([...input.transient].map(([k, v]) => [k, toBuffer(v)]));
  }

  /** The arguments as text (a binary one decoded as UTF-8, as fabric-shim does). */
  getArgs(): string[] {
    return this.input.args.map(textOf);
  }

  getStringArgs(): string[] {
    return this.getArgs();
  }

  getBufferArgs(): Buffer[] {
    return this.input.args.map((a) => (typeof a === 'string' ? Buffer.from(a, 'utf8') : Buffer.from(a)));
  }

  getFunctionAndParameters(): { fcn: string; params: string[] } {
    const [fcn = '', ...params] = this.getArgs();
    return { fcn, params };
  }

  getTxID(): string {
    return this.input.txId;
  }

  getChannelID(): string {
    return this.input.channelId;
  }

  getCreator(): { mspid: string; idBytes: Uint8Array } {
    return { mspid: this.input.identity.mspId, idBytes: Buffer.from(this.input.identity.id, 'utf8') };
  }

  /** The MSP of the (embedded) peer running the contract. */
  getMspID(): string {
    return process.env['CORE_PEER_LOCALMSPID'] ?? 'EmbeddedPeerMSP';
  }

  getTransient(): Map<string, Buffer> {
    return this.transientMap;
  }

  getTxTimestamp(): { seconds: LongLike; nanos: number } {
    return timestampOf(this.input.timestamp);
  }

  getDateTimestamp(): Date {
    return new Date(this.input.timestamp);
  }

  /** Hex SHA-256 binding of the transaction (Fabric: nonce ‖ creator ‖ epoch; here txId ‖ creator). */
  getBinding(): string {
    return createHash('sha256').update(this.input.txId).update(this.input.identity.id).digest('hex');
  }

  async getState(key: string): Promise<Buffer> {
    checkKey(key, 'getState');
    const { version, value } = this.state.get(key);
    if (!this.simulation.reads.has(key)) this.simulation.reads.set(key, version);
    // A fresh copy, as Fabric returns: the committed bytes may sit in the ledger's cache.
    return value === null ? Buffer.alloc(0) : Buffer.from(value);
  }

  async putState(key: string, value: Uint8Array | string): Promise<void> {
    checkKey(key, 'putState');
    const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
    if (!(bytes instanceof Uint8Array)) throw new TypeError(`putState ${JSON.stringify(key)}: value must be a Uint8Array or string`);
    // Fabric treats an empty value as a delete.
    this.simulation.writes.set(key, bytes.length === 0 ? null : Buffer.from(bytes));
  }

  async deleteState(key: string): Promise<void> {
    checkKey(key, 'deleteState');
    this.simulation.writes.set(key, null);
  }

  getStateByRange(startKey: string, endKey: string): Iter<{ namespace: string; key: string; value: Buffer }> {
    const start = startKey || EMPTY_KEY_SUBSTITUTE;
    try {
      checkSimpleKey(start, 'getStateByRange');
      checkSimpleKey(endKey, 'getStateByRange');
    } catch (err) {
      return failedIterator(err as Error);
    }
    return this.rangeQuery(start, endKey ?? '');
  }

  getStateByPartialCompositeKey(objectType: string, attributes: string[]): Iter<{ namespace: string; key: string; value: Buffer }> {
    let start: string;
    try {
      start = createCompositeKey(objectType, attributes);
    } catch (err) {
      return failedIterator(err as Error);
    }
    return this.rangeQuery(start, start + MAX_RUNE);
  }

  private rangeQuery(start: string, end: string): Iter<{ namespace: string; key: string; value: Buffer }> {
    const rows = this.state.range(start, end);
    const results: KeyVersion[] = rows.map((r) => ({ key: r.key, version: r.version }));
    this.simulation.ranges.push({ start, end, results });
    return iteratorOf(rows.map((r) => ({ namespace: '', key: r.key, value: toBuffer(r.value) })));
  }

  getHistoryForKey(key: string): Iter<KeyModification> {
    try {
      checkKey(key, 'getHistoryForKey');
    } catch (err) {
      return failedIterator(err as Error);
    }
    // As on Fabric, history reads are not re-validated at commit (no read-set entry).
    return iteratorOf(this.state.history(key).map((m) => ({ ...m, value: toBuffer(m.value) })));
  }

  createCompositeKey(objectType: string, attributes: string[]): string {
    return createCompositeKey(objectType, attributes);
  }

  splitCompositeKey(compositeKey: string): { objectType: string | null; attributes: string[] } {
    return splitCompositeKey(compositeKey);
  }

  setEvent(name: string, payload: Uint8Array | string): void {
    if (typeof name !== 'string' || name === '') throw new Error('Event name must be a non-empty string');
    const bytes =
      typeof payload === 'string'
        ? Buffer.from(payload, 'utf8')
        : payload === undefined || payload === null
          ? Buffer.alloc(0)
          : Buffer.from(payload);
    // Fabric keeps only the last event of a transaction.
    this.simulation.event = { name, payload: bytes };
  }

  async getPrivateData(collection: string, key: string): Promise<Buffer> {
    checkCollection(collection);
    checkKey(key, 'getPrivateData');
    const { version, value } = this.state.privateGet(collection, key);
    const id = collection + '\u0000' + key;
    if (!this.simulation.privateReads.has(id)) this.simulation.privateReads.set(id, { collection, key, version });
    return value === null ? Buffer.alloc(0) : Buffer.from(value);
  }

  /** SHA-256 of a committed private value (empty when absent), readable without the value itself. */
  async getPrivateDataHash(collection: string, key: string): Promise<Buffer> {
    checkCollection(collection);
    checkKey(key, 'getPrivateDataHash');
    const { value } = this.state.privateGet(collection, key);
    return value === null ? Buffer.alloc(0) : createHash('sha256').update(value).digest();
  }

  async putPrivateData(collection: string, key: string, value: Uint8Array | string): Promise<void> {
    checkCollection(collection);
    checkKey(key, 'putPrivateData');
    if (!value || (typeof value !== 'string' && !(value instanceof Uint8Array))) throw new Error('value must be valid');
    const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : Buffer.from(value);
    this.simulation.privateWrites.set(collection + '\u0000' + key, { collection, key, value: bytes.length === 0 ? null : bytes });
  }

  async deletePrivateData(collection: string, key: string): Promise<void> {
    checkCollection(collection);
    checkKey(key, 'deletePrivateData');
    this.simulation.privateWrites.set(collection + '\u0000' + key, { collection, key, value: null });
  }

  getPrivateDataByRange(collection: string, startKey: string, endKey: string): Iter<{ namespace: string; key: string; value: Buffer }> {
    try {
      checkCollection(collection);
    } catch (err) {
      return failedIterator(err as Error);
    }
    // Private range reads are not phantom-validated (as on Fabric, which only hashes point reads).
    const rows = this.state.privateRange(collection, startKey || EMPTY_KEY_SUBSTITUTE, endKey ?? '');
    return iteratorOf(rows.map((r) => ({ namespace: '', key: r.key, value: toBuffer(r.value) })));
  }

  getPrivateDataByPartialCompositeKey(
    collection: string,
    objectType: string,
    attributes: string[],
  ): Iter<{ namespace: string; key: string; value: Buffer }> {
    let start: string;
    try {
      start = createCompositeKey(objectType, attributes);
    } catch (err) {
      return failedIterator(err as Error);
    }
    return this.getPrivateDataByRange(collection, start, start + MAX_RUNE);
  }

  /** Rich (CouchDB) queries: the embedded state is a key-value store, like a LevelDB peer. */
  getQueryResult(): Iter<never> {
    return failedIterator(new Error('rich queries need CouchDB; the embedded ledger keeps key-value state like a LevelDB peer'));
  }
}

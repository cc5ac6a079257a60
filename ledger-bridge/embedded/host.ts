/**
 * Runs fabric-contract-api contract classes the way fabric-shim's ChaincodeFromContract does:
 * resolve `Contract:fn`, build the Context (ctx.stub, ctx.clientIdentity, ctx.logging), marshal
 * the string arguments by the @Transaction metadata, then beforeTransaction → aroundTransaction
 * (the method) → afterTransaction, or unknownTransaction for a name the contract lacks. The
 * return value becomes the response payload with fabric-contract-api's JSON serializer rules.
 */
import './quiet.js';
import fca from 'fabric-contract-api';
import type { Context, Contract } from 'fabric-contract-api';
import pino from 'pino';
import { EmbeddedClientIdentity, type EmbeddedIdentity } from './identity.js';
import type { EmbeddedStub } from './stub.js';

/** A contract class as exported by ledger-bridge/contracts (constructed without arguments). */
export type ContractClass = new () => Contract;

interface TxMeta {
  readonly name: string;
  readonly parameters?: readonly { name: string; schema: { type?: string; $ref?: string } }[];
  readonly returns?: { type?: string };
  readonly tag?: readonly string[];
}

interface Registered {
  readonly instance: Contract;
  readonly transactions: Map<string, TxMeta>;
}

/** What a contract invocation produced: a payload, or the contract's error. */
export type InvokeOutcome = { ok: true; payload: Uint8Array } | { ok: false; message: string; contractCode?: string };

const contractLog = pino({ name: 'contract', level: process.env['PROVENANT_CONTRACT_LOG'] ?? 'warn' }, pino.destination(2));

/** winston-style logger surface (message first) that contracts get from ctx.logging.getLogger. */
function loggerFor(name: string): Record<string, (...args: unknown[]) => void> {
  const child = contractLog.child({ contract: name });
  const at =
    (level: 'error' | 'warn' | 'info' | 'debug') =>
    (...args: unknown[]) => {
      if (child.isLevelEnabled(level)) child[level](args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' '));
    };
  return { error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug') };
}

/** Hosts a set of contract classes and dispatches invocations to them. */
export class ContractHost {
  private readonly contracts = new Map<string, Registered>();

  constructor(classes: readonly ContractClass[]) {
    const skip = new Set(Object.getOwnPropertyNames(fca.Contract.prototype));
    for (const cls of classes) {
      const instance = new cls();
      if (!(fca.Contract as unknown as { _isContract(o: unknown): boolean })._isContract(instance))
        throw new TypeError(`${cls.name} is not a fabric-contract-api Contract`);
      const name = instance.getName();
      if (this.contracts.has(name)) throw new RangeError(`two contracts are named '${name}'`);
      this.contracts.set(name, { instance, transactions: transactionsOf(instance, skip) });
    }
  }

  /** Names of the hosted contracts. */
  names(): string[] {
    return [...this.contracts.keys()];
  }

  /** True when `contract` has a transaction `fn` tagged for evaluation only (@Transaction(false)). */
  isEvaluateOnly(contract: string, fn: string): boolean {
    return this.contracts.get(contract)?.transactions.get(fn)?.tag?.includes('EVALUATE') ?? false;
  }

  /** Invokes `contract:fn` with its arguments (text, or bytes where the function takes them) against the stub, as `identity`. */
  async invoke(
    stub: EmbeddedStub,
    identity: EmbeddedIdentity,
    contract: string,
    fn: string,
    args: readonly (string | Uint8Array)[],
  ): Promise<InvokeOutcome> {
    const registered = this.contracts.get(contract);
    if (!registered) return { ok: false, message: `Contract name is not known: ${contract}` };
    const { instance, transactions } = registered;
    const ctx = instance.createContext() as Context & { setChaincodeStub(s: unknown): void; setClientIdentity(c: unknown): void };
    ctx.setChaincodeStub(stub);
    ctx.setClientIdentity(new EmbeddedClientIdentity(identity));
    ctx.logging = {
      setLevel: (level: string) => {
        contractLog.level = level.toLowerCase() === 'warning' ? 'warn' : level.toLowerCase();
      },
      getLogger: (name?: string) => loggerFor(name ? `${contract}:${name}` : contract) as never,
    };
    try {
      const meta = transactions.get(fn);
      if (!meta) {
        await instance.unknownTransaction(ctx);
        return { ok: true, payload: new Uint8Array(0) };
      }
      const params = marshalParameters(meta, args);
      await instance.beforeTransaction(ctx);
      const result: unknown = await instance.aroundTransaction(ctx, fn as never, params);
      await instance.afterTransaction(ctx, result);
      return { ok: true, payload: toWire(result, meta.returns) };
    } catch (err) {
      const e = err as { message?: unknown; code?: unknown };
      const message = typeof e?.message === 'string' ? e.message : String(err);
      const contractCode = typeof e?.code === 'string' && e.code.startsWith('PROV_ERR_') ? e.code : undefined;
      return contractCode ? { ok: false, message, contractCode } : { ok: false, message };
    }
  }
}

/** @Transaction metadata, or (plain JS contracts) every public prototype method, as fabric-shim does. */
function transactionsOf(instance: Contract, skip: Set<string>): Map<string, TxMeta> {
  const fromMeta =
    (Reflect as unknown as { getMetadata(k: string, t: object): TxMeta[] | undefined }).getMetadata('fabric:transactions', instance) ?? [];
  const out = new Map<string, TxMeta>();
  if (fromMeta.length > 0) {
    for (const t of fromMeta) out.set(t.name, t);
    return out;
  }
  for (const name of Object.getOwnPropertyNames(Object.getPrototypeOf(instance))) {
    const v = (instance as unknown as Record<string, unknown>)[name];
    if (typeof v !== 'function' || name === 'constructor' || name.startsWith('_') || skip.has(name)) continue;
    out.set(name, { name, tag: ['SUBMIT', 'submitTx'] });
  }
  return out;
}

/**
 * fabric-shim's DataMarshall: typed parameters are converted by their JSON schema. When the
 * build emitted no parameter types (esbuild/tsx emit no design:paramtypes), the metadata lists
 * none, and the arguments pass through as strings, as fabric-shim does for plain JS contracts.
 * A binary argument reaches a string parameter as its bytes (unlike fabric-shim, which would
 * decode it as UTF-8): only functions that take bytes there (recordBatch) are sent any; every
 * other type gets it decoded as UTF-8, as on Fabric.
 */
function marshalParameters(meta: TxMeta, args: readonly (string | Uint8Array)[]): unknown[] {
  const expected = meta.parameters;
  if (!expected || expected.length === 0) return [...args];
  if (expected.length !== args.length) throw new Error(`Expected ${expected.length} parameters, but ${args.length} have been supplied`);
  return expected.map((p, i) => {
    const arg = args[i] as string | Uint8Array;
    if (p.schema.type === 'string') return arg;
    const s = typeof arg === 'string' ? arg : Buffer.from(arg.buffer, arg.byteOffset, arg.byteLength).toString('utf8');
    switch (p.schema.type) {
      case 'number': {
        const n = Number(s);
        if (Number.isNaN(n)) throw new Error(`fromBuffer could not convert data to number: parameter ${p.name}`);
        return n;
      }
      case 'boolean': {
        const b = s.trim().toLowerCase();
        if (b !== 'true' && b !== 'false') throw new Error(`fromBuffer could not convert data to boolean: parameter ${p.name}`);
        return b === 'true';
      }
      default:
        try {
          return JSON.parse(s) as unknown;
        } catch {
          return s;
        }
    }
  });
}

/** fabric-contract-api JSONSerializer.toBuffer: primitives as text, objects as JSON, nothing as empty. */
function toWire(result: unknown, returns?: { type?: string }): Uint8Array {
  if (result === undefined || result === null) return new Uint8Array(0);
  if (returns?.type === 'string' || returns?.type === 'number') {
    if (typeof result !== returns.type) throw new Error(`Returned value is ${typeof result} does not match schema type of ${returns.type}`);
  }
  if (typeof result === 'string' || typeof result === 'number' || typeof result === 'boolean') return Buffer.from(String(result), 'utf8');
  return Buffer.from(JSON.stringify(result), 'utf8');
}

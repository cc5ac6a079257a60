/**
 * fabric-contract-api, loaded the one way that works under Node's ESM loader, tsx, vitest and
 * tsc alike, plus `StringParams`, which makes the transaction metadata independent of the
 * compiler.
 *
 * Why: fabric-contract-api is CommonJS and attaches its decorators with Object.assign, so Node's
 * ESM loader sees no named export `Transaction`: we take them from the default export. And
 * `@Transaction()` reads each parameter's type from `design:paramtypes`, which tsc emits but
 * esbuild (tsx) does not; without it the metadata lists zero parameters and fabric-shim then
 * refuses every call with "Expected 0 parameters". `@StringParams(...)` states them explicitly.
 */
import 'reflect-metadata';
import { createRequire } from 'node:module';
import api from 'fabric-contract-api';

// fabric-contract-api logs every decorator at info level; a peer sets its own level through
// CORE_CHAINCODE_LOGGING_LEVEL, otherwise we lower the default to warnings.
// (fabric's setLevel writes winston's 'warn' back into the variable, which its own parser reads
// as 'info' in child processes, so we put the Fabric spelling back.)
const FABRIC_LEVELS = ['CRITICAL', 'ERROR', 'WARNING', 'INFO', 'DEBUG'];
if (!FABRIC_LEVELS.includes((process.env['CORE_CHAINCODE_LOGGING_LEVEL'] ?? '').toUpperCase())) {
  const logger = createRequire(import.meta.url)('fabric-contract-api/lib/logger.js') as { setLevel(level: string): void };
  logger.setLevel('WARNING');
  process.env['CORE_CHAINCODE_LOGGING_LEVEL'] = 'WARNING';
}

/**
 * Restores Node's crash-on-error defaults. Loading fabric-contract-api (and fabric-shim) installs a
 * winston logger that catches every uncaughtException with exitOnError false, and a handler that
 * only logs unhandled rejections: the process then never dies of an error. A CLI whose stdout is
 * closed early (`provenant … | head -1`) loops on EPIPE → log to stdout → EPIPE until it runs out
 * of memory, and a service keeps running in an undefined state instead of being restarted. Call it
 * again after loading fabric-shim.
 */
export function restoreNodeCrashDefaults(): void {
  for (const l of process.listeners('uncaughtException')) {
    if (l.name === 'bound _uncaughtException') process.removeListener('uncaughtException', l);
  }
  for (const l of process.listeners('unhandledRejection')) {
    if (l.name === 'loggerUnhandledRejectionFn') process.removeListener('unhandledRejection', l);
  }
}
restoreNodeCrashDefaults();

/**
 * The transaction context class. Imported as a value (not `import type`) on purpose: with
 * emitDecoratorMetadata the parameter type `Context` must be the class itself, which
 * `@Transaction` recognises and skips; a type-only import would be emitted as `Object`, which
 * it refuses.
 */
export { Context } from 'fabric-contract-api';
/** Base class of every contract. */
export const Contract = api.Contract;
/** Marks a transaction function; `Transaction(false)` marks a read (evaluate). */
export const Transaction = api.Transaction;
/** Declares the transaction's return type (all ours return JSON text: 'string'). */
export const Returns = api.Returns;
/** Contract-level metadata (title, version) for the chaincode's metadata. */
export const Info = api.Info;

interface TransactionMetadata {
  name: string;
  parameters?: { name: string; description: string; schema: { type: string } }[];
}

/**
 * Declares a transaction's parameters (after the context) as strings, by name, in order. Must be
 * written ABOVE `@Transaction` (decorators apply bottom-up, so it runs after it and overrides
 * whatever `@Transaction` inferred). Throws at class definition when the names do not match the
 * method's arity, so a wrong declaration cannot ship.
 */
export function StringParams(...names: string[]): MethodDecorator {
  return (target, propertyKey) => {
    const key = String(propertyKey);
    const fn = (target as Record<string, unknown>)[key];
    if (typeof fn !== 'function') throw new TypeError(`@StringParams: ${key} is not a method`);
    if (fn.length !== names.length + 1) {
      throw new RangeError(`@StringParams on ${key}: ${names.length} names for ${fn.length - 1} parameters after ctx`);
    }
    const txs = (Reflect.getMetadata('fabric:transactions', target) ?? []) as TransactionMetadata[];
    const tx = txs.find((t) => t.name === key);
    if (tx === undefined) throw new Error(`@StringParams on ${key} must be written above @Transaction`);
    tx.parameters = names.map((name) => ({ name, description: '', schema: { type: 'string' } }));
    Reflect.defineMetadata('fabric:transactions', txs, target);
  };
}

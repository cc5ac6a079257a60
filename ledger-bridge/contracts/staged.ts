/**
 * Staged writes for a contract function that does several steps in one transaction (a batch of
 * traffic profiles), so that the transaction leaves exactly what consecutive single calls would:
 *
 * - Read your writes: Fabric's stub (and the embedded ledger's, which follows it) returns the
 *   committed value from getState, never what this transaction put before. A step reads through
 *   the layers staged before it.
 * - All or nothing per step: a step that throws leaves nothing behind (its layer is dropped),
 *   as a failed single transaction writes nothing.
 *
 * Only getState, putState and deleteState go through the layers; range and composite-key scans
 * see the committed state only, so a step must not scan keys an earlier step of the same
 * transaction writes (the traffic profile steps scan class members, which they never write).
 */
import type { Context } from './fabric.js';

/** A layer of staged writes (an empty value is a delete, as in Fabric). */
export type StagedWrites = Map<string, Uint8Array>;

/** A copy of `ctx` whose stub reads through `layers` (last wins) and writes into the last one. */
export function stagedContext(ctx: Context, layers: readonly StagedWrites[]): Context {
  const top = layers[layers.length - 1];
  if (top === undefined) throw new RangeError('stagedContext needs at least one layer');
  const base = ctx.stub;
  const stub = new Proxy(base, {
    get(target, prop) {
      if (prop === 'getState')
        return async (key: string): Promise<Uint8Array> => {
          for (let i = layers.length - 1; i >= 0; i--) {
            const v = (layers[i] as StagedWrites).get(key);
            if (v !== undefined) return Uint8Array.from(v);
          }
          return target.getState(key);
        };
      if (prop === 'putState')
        return async (key: string, value: Uint8Array | string): Promise<void> => {
          top.set(key, typeof value === 'string' ? new TextEncoder().encode(value) : Uint8Array.from(value));
        };
      if (prop === 'deleteState')
        return async (key: string): Promise<void> => {
          top.set(key, new Uint8Array(0));
        };
      const v = Reflect.get(target, prop, target) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  const staged = Object.create(ctx) as Context;
  Object.defineProperty(staged, 'stub', { value: stub, enumerable: true });
  return staged;
}

/** Moves `from`'s writes into `into` (a step that succeeded joins the transaction's writes). */
export function mergeStaged(into: StagedWrites, from: StagedWrites): void {
  for (const [k, v] of from) into.set(k, v);
}

/** Applies staged writes to the real stub, in the order they were first made. */
export async function flushStaged(ctx: Context, writes: StagedWrites): Promise<void> {
  for (const [k, v] of writes) {
    if (v.length === 0) await ctx.stub.deleteState(k);
    else await ctx.stub.putState(k, v);
  }
}

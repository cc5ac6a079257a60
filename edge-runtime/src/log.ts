/**
 * The logging surface the edge runtime uses: the subset of pino's Logger it calls, so tests and
 * library users can pass pino, a child logger, or a silent stand-in.
 */

/** One log method: structured fields first, then the message (pino's argument order). */
export type LogFn = (fields: Record<string, unknown>, message: string) => void;

/** A structured logger (pino-compatible). */
export interface Log {
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  child(bindings: Record<string, unknown>): Log;
}

const noop: LogFn = () => undefined;

/** A logger that drops everything (library default; the CLI passes a real pino logger). */
export const silentLog: Log = { debug: noop, info: noop, warn: noop, error: noop, child: () => silentLog };

/** The message of an unknown thrown value, for log fields (never the value itself: it may hold secrets). */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

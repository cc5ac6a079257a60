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

/**
 * The PROV_ERR_* code of an error from the ledger. Contract errors carry their code at the start of
 * the message (that is what survives Fabric), wrapped by a backend error with a code of its own, so
 * the message wins over `code`.
 */
export function errorCodeOf(err: unknown): string | undefined {
  const inMessage = /PROV_ERR_[A-Z0-9_]+/.exec(errorMessage(err))?.[0];
  if (inMessage) return inMessage;
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('PROV_ERR_') ? code : undefined;
}

/**
 * Waiting in tests: on a condition, never on a fixed sleep. Each wait has a generous deadline
 * (the CI machine is shared: at load 30+ on 2 cores a step that takes 100 ms quiet can take
 * seconds) and fails with a message naming what it waited for and what it saw last.
 */

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Resolves once `cond` holds; throws after `timeoutMs` naming `what` (and `detail()`, if given,
 * for what was there instead).
 */
export async function waitFor(
  what: string,
  cond: () => boolean | Promise<boolean>,
  opts: { timeoutMs?: number; everyMs?: number; detail?: () => string } = {},
): Promise<void> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`not within ${timeoutMs} ms: ${what}${opts.detail ? `; ${opts.detail()}` : ''}`);
    await sleep(opts.everyMs ?? 50);
  }
}

/**
 * Resolves once `done()` holds AND `sample()` has not changed for `quietMs`: for things that keep
 * arriving for a while (a frame already on the wire when a board powers off is stored after the
 * outbox first drained). Throws after `timeoutMs` naming `what`.
 */
export async function waitQuiet(
  what: string,
  sample: () => unknown,
  done: () => boolean,
  opts: { quietMs?: number; timeoutMs?: number; everyMs?: number; detail?: () => string } = {},
): Promise<void> {
  const quietMs = opts.quietMs ?? 1000;
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const end = Date.now() + timeoutMs;
  let last = JSON.stringify(sample());
  let since = Date.now();
  for (;;) {
    const now = JSON.stringify(sample());
    if (now !== last) {
      last = now;
      since = Date.now();
    }
    if (done() && Date.now() - since >= quietMs) return;
    if (Date.now() > end)
      throw new Error(
        `not within ${timeoutMs} ms: ${what} (quiet for ${quietMs} ms; last ${last})${opts.detail ? `; ${opts.detail()}` : ''}`,
      );
    await sleep(opts.everyMs ?? 100);
  }
}

/**
 * Loading the contracts must leave Node's crash-on-error behaviour alone: fabric-contract-api's
 * logger would otherwise swallow every uncaught exception (a CLI piped into `head` then loops on
 * EPIPE until it runs out of memory).
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import '../../ledger-bridge/contracts/index.js';

describe('process behaviour after loading the contracts', () => {
  it('no fabric logger handler swallows uncaught exceptions or unhandled rejections', () => {
    expect(process.listeners('uncaughtException').map((l) => l.name)).not.toContain('bound _uncaughtException');
    expect(process.listeners('unhandledRejection').map((l) => l.name)).not.toContain('loggerUnhandledRejectionFn');
  });

  it('an uncaught exception still ends the process with a non-zero code', () => {
    const script = "await import('./ledger-bridge/contracts/index.ts'); setTimeout(() => { throw new Error('boom'); }, 0);";
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: process.cwd(),
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.signal).toBeNull(); // not killed by the timeout: it ended on its own
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/boom/);
  });
});

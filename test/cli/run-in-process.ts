/**
 * Runs the `provenant` CLI inside the test process (no child process, no tsx start-up) and
 * captures what it writes. Restores stdout/stderr and process.exitCode afterwards.
 */
import { vi } from 'vitest';
import { main } from '../../cli/index.js';

/** What one CLI run printed and its exit code. */
export interface CliRun {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

const text = (chunk: string | Uint8Array): string => (typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString());

/** `provenant ...args`, in process. */
export async function runCli(...args: string[]): Promise<CliRun> {
  let out = '';
  let err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => ((out += text(c)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((c: string | Uint8Array) => ((err += text(c)), true));
  const before = process.exitCode;
  try {
    const code = await main(['node', 'provenant', ...args]);
    return { code, out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
    process.exitCode = before;
  }
}

/**
 * Read-only commands open existing ledger files only: a typo'd path is `no ledger at PATH`, not a
 * fresh empty ledger answering formally ("could not locate the record", a new genesis, "ledger BAD").
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from './run-in-process.js';

const dir = mkdtempSync(join(tmpdir(), 'provenant-readonly-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const data = join(dir, 'reading.hex');
writeFileSync(data, '00');

describe('read-only commands refuse a missing ledger file', () => {
  const cases: [string, string[]][] = [
    ['verify --db', ['verify', '--db', join(dir, 'typo.db'), '--device', 'dev-1', '--seq', '1', '--data', data]],
    ['auditor head --ledger-db', ['auditor', 'head', '--ledger-db', join(dir, 'typo2.db')]],
    ['ledger verify --db', ['ledger', 'verify', '--db', join(dir, 'typo3.db')]],
    ['device show --db', ['device', 'show', '--db', join(dir, 'typo4.db'), '--device', 'dev-1']],
  ];
  it.each(cases)('%s', async (_name, args) => {
    const path = args[args.findIndex((a) => a === '--db' || a === '--ledger-db') + 1] as string;
    const r = await runCli(...args);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`no ledger at ${path} [PROV_ERR_NOT_FOUND]`);
    expect(existsSync(path)).toBe(false);
  });
});

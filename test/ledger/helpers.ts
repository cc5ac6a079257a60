/** Shared helpers of the ledger tests: temp dirs and a ledger over the test contract. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddedLedger, type EmbeddedLedgerOptions } from '../../ledger-bridge/embedded/index.js';
import { testContracts } from './fixtures/counter-contract.js';

/** A fresh temp dir and its cleanup. */
export function tempDir(prefix = 'prov-ledger-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Opens a ledger over the test contract in `dir`. */
export function openTestLedger(dir: string, options: Partial<EmbeddedLedgerOptions> = {}): Promise<EmbeddedLedger> {
  return EmbeddedLedger.open({ path: join(dir, 'ledger.db'), contracts: testContracts, sync: 'normal', ...options });
}

/** UTF-8 text of bytes. */
export const text = (b: Uint8Array): string => Buffer.from(b).toString('utf8');

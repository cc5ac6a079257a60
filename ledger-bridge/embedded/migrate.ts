/**
 * `provenant ledger migrate`: converts an embedded ledger of store format 2 — Data Provenance
 * records one state key per reading — to format 3, the batch-native layout. The records stay
 * where they are (the contract still finds them, and their original transactions still prove
 * them); what a device needs is its replay window, without which a replay of one of its old
 * readings would not be recognised. For every device with such records the command commits one
 * DataProvenance:migrateDevice transaction, which builds the window from the device's records
 * on the ledger (so the migration is itself on the chain and `ledger verify` checks it), then
 * marks the file format 3. Interrupted, it can be run again: devices already migrated are
 * skipped, and the file stays format 2 (refused by the ledger, naming this command) until done.
 */
import { CONTRACTS } from '../client.js';
import { KEY_TYPES } from '../contracts/keys.js';
import { createCompositeKey, splitCompositeKey } from './keys.js';
import { EmbeddedLedger, type EmbeddedLedgerOptions } from './ledger.js';
import { MIGRATABLE_FORMAT, PREVIOUS_FORMAT, STORE_FORMAT, openDatabase } from './store.js';

/** What a migration did. */
export interface MigrationReport {
  readonly from: string;
  readonly to: string;
  /** Devices whose window this run built (others already had one). */
  readonly migrated: number;
  readonly skipped: number;
  /** Per-reading records found. */
  readonly readings: number;
  readonly height: number;
}

/** The format a ledger file has ('' for a file without one). */
async function formatOf(path: string): Promise<string> {
  const db = await openDatabase(path, { mustExist: true });
  try {
    const meta = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'meta'").pluck().get();
    if (meta === undefined) return '';
    return (db.prepare("SELECT v FROM meta WHERE k = 'format'").pluck().get() as string | undefined) ?? '';
  } finally {
    db.close();
  }
}

/** The devices with per-reading records, and how many records each has. */
async function legacyDevices(path: string): Promise<Map<string, number>> {
  const db = await openDatabase(path, { mustExist: true });
  const start = createCompositeKey(KEY_TYPES.reading, []);
  const end = start.slice(0, -1) + '\u0001';
  const out = new Map<string, number>();
  try {
    for (const key of db
      .prepare('SELECT key FROM state WHERE key >= ? AND key < ? ORDER BY key')
      .pluck()
      .iterate(start, end) as IterableIterator<string>) {
      const { attributes } = splitCompositeKey(key);
      const id = attributes[0] as string;
      out.set(id, (out.get(id) ?? 0) + 1);
    }
  } finally {
    db.close();
  }
  return out;
}

/**
 * Migrates the ledger file at `options.path` (see the file comment); `identity` submits the
 * migration transactions (any configured identity may). `progress` gets a line per device.
 */
export async function migrateLedger(
  options: Omit<EmbeddedLedgerOptions, 'migrating'>,
  identity: string,
  progress: (line: string) => void = () => undefined,
): Promise<MigrationReport> {
  const from = await formatOf(options.path);
  // Format 3 needs no conversion: opening it for writing marks it format 4 (store.ts STORE_FORMAT).
  if (from === STORE_FORMAT || from === PREVIOUS_FORMAT) {
    const ledger = await EmbeddedLedger.open(options);
    const height = ledger.head().height;
    await ledger.close();
    return { from, to: STORE_FORMAT, migrated: 0, skipped: 0, readings: 0, height };
  }
  if (from !== MIGRATABLE_FORMAT)
    throw new RangeError(
      `${options.path} has store format ${from || 'none'}; \`ledger migrate\` converts format ${MIGRATABLE_FORMAT} to ${STORE_FORMAT}`,
    );
  const devices = await legacyDevices(options.path);
  const ledger = await EmbeddedLedger.open({ ...options, migrating: true });
  let migrated = 0;
  let skipped = 0;
  let readings = 0;
  try {
    for (const [deviceId, count] of devices) {
      readings += count;
      const r = await ledger.submit(identity, { contract: CONTRACTS.dataProvenance, fn: 'migrateDevice', args: [deviceId] });
      const out = JSON.parse(Buffer.from(r.result).toString('utf8')) as { already: boolean; highest: number | null; marked: number | null };
      if (out.already) skipped++;
      else migrated++;
      progress(
        out.already
          ? `${deviceId}: already has a replay window (highest seq ${String(out.highest)})`
          : `${deviceId}: ${count} readings, replay window up to seq ${String(out.highest)} (${String(out.marked)} marked), block ${r.blockNumber}`,
      );
    }
  } finally {
    await ledger.close();
  }
  const db = await openDatabase(options.path, { mustExist: true });
  try {
    db.prepare('UPDATE meta SET v = ? WHERE k = ?').run(STORE_FORMAT, 'format');
    db.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    db.close();
  }
  const ledgerAfter = await EmbeddedLedger.open(options);
  const height = ledgerAfter.head().height;
  await ledgerAfter.close();
  return { from, to: STORE_FORMAT, migrated, skipped, readings, height };
}

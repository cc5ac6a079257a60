/**
 * The state rows of an embedded ledger file as a test that edits the file sees them: key and
 * value bytes, a value stored once in its envelope (store format 4: the row holds a reference,
 * ledger-bridge/embedded/codec.ts stateRef) read back from that envelope. An attack test then
 * writes its edited bytes into the row itself, which is what an attacker with the file can do.
 */
import type BetterSqlite3 from 'better-sqlite3';
import { splitStateRef, splitVersion } from '../../ledger-bridge/embedded/codec.js';

export function stateRows(db: BetterSqlite3.Database): { key: string; value: Buffer }[] {
  const rows = db.prepare('SELECT key, version, value FROM state').all() as { key: string; version: number; value: Buffer | number }[];
  const envelope = db.prepare('SELECT envelope FROM txs WHERE block = ? AND idx = ?').pluck();
  return rows.map((r) => {
    if (typeof r.value !== 'number') return { key: r.key, value: r.value };
    const { offset, length } = splitStateRef(r.value);
    const { block, txIndex } = splitVersion(r.version);
    const env = envelope.get(block, txIndex) as Buffer;
    return { key: r.key, value: env.subarray(offset, offset + length) };
  });
}

/**
 * `provenant ledger verify`: walks the whole chain in a ledger database and reports the first
 * block that does not check out. Checks, per block: header hash, number sequence, previousHash
 * link, transaction count and order, every envelope's hash and decoded id/validation code, the
 * Merkle root over the transaction hashes, the chain-tree root the header commits to and the
 * stored tree nodes; then that world state, key history, events and private data are exactly
 * what the valid transactions wrote. SQLite's own integrity_check runs first, so a corrupted
 * page is reported as a failure too.
 */
import { existsSync } from 'node:fs';
import { ProvenantError } from '../../shared/errors.js';
import { equalBytes } from '../../shared/encoding/bytes.js';
import { toHex } from '../../shared/encoding/hex.js';
import { ValidationCode, decodeEnvelope, decodeHeader, splitStateRef, versionOf } from './codec.js';
import { EMPTY_ROOT, leafHash, merkleRoot, nodeHash } from './merkle.js';
import { MIGRATABLE_FORMAT, PREVIOUS_FORMAT, STORE_FORMAT, openDatabase, sha256Native } from './store.js';
import { DepositCipher } from './deposit-key.js';

/** What verify found. */
export interface VerifyReport {
  readonly ok: boolean;
  readonly height: number;
  readonly transactions: number;
  readonly validTransactions: number;
  readonly stateKeys: number;
  /** The first block that failed (null when the failure is not tied to one block, or ok). */
  readonly badBlock: number | null;
  readonly reason: string | null;
  readonly headHash: string | null;
  /**
   * Private values (sealed under the deposit key) opened and checked against the hashes on the
   * chain; false when no deposit key was given: then only their keys and versions were checked.
   */
  readonly privateValuesChecked: boolean;
}

/** The bytes a state reference (codec.ts stateRef) names in an envelope; undefined if out of range. */
function referenced(envelope: Uint8Array, ref: number): Uint8Array | undefined {
  let at;
  try {
    at = splitStateRef(ref);
  } catch {
    return undefined;
  }
  return at.offset + at.length <= envelope.length ? envelope.subarray(at.offset, at.offset + at.length) : undefined;
}

class Bad extends Error {
  constructor(
    readonly block: number | null,
    message: string,
  ) {
    super(message);
  }
}

/** Verifies the ledger database at `path`; never throws for a bad ledger, only reports it. */
export async function verifyLedger(
  path: string,
  options: { onProgress?: (block: number) => void; depositKey?: Uint8Array } = {},
): Promise<VerifyReport> {
  const cipher = options.depositKey === undefined ? undefined : new DepositCipher(options.depositKey);
  let privateValuesChecked = cipher !== undefined;
  // A file written before deposits were sealed (no depositKeyCheck) holds its private values in clear.
  let clearDeposits = false;
  let height = 0;
  let transactions = 0;
  let valid = 0;
  let stateKeys = 0;
  let headHash: string | null = null;
  let db: Awaited<ReturnType<typeof openDatabase>> | null = null;
  if (!existsSync(path)) throw new ProvenantError('PROV_ERR_NOT_FOUND', `no ledger at ${path}`, { field: 'db' });
  try {
    try {
      db = await openDatabase(path, { mustExist: true });
      const check = db.pragma('integrity_check') as { integrity_check: string }[];
      const problems = check.map((r) => r.integrity_check).filter((m) => m !== 'ok');
      if (problems.length > 0) throw new Bad(null, `SQLite integrity_check: ${problems.slice(0, 3).join('; ')}`);
    } catch (err) {
      if (err instanceof Bad) throw err;
      throw new Bad(null, `database cannot be read: ${(err as Error).message}`);
    }
    const format = (db.prepare("SELECT v FROM meta WHERE k = 'format'").pluck().get() as string | undefined) ?? null;
    // The chain of a format-2 file (before migration) is checked the same way: only the contracts' state layout differs.
    if (format !== STORE_FORMAT && format !== PREVIOUS_FORMAT && format !== MIGRATABLE_FORMAT)
      throw new Bad(
        null,
        `store format ${format ?? 'missing'}; this build verifies formats ${MIGRATABLE_FORMAT}, ${PREVIOUS_FORMAT} and ${STORE_FORMAT}`,
      );
    const depositCheck = db.prepare("SELECT v FROM meta WHERE k = 'depositKeyCheck'").pluck().get() as string | undefined;
    if (depositCheck === undefined) {
      clearDeposits = true;
      privateValuesChecked = true;
    } else if (cipher !== undefined) {
      try {
        cipher.assertCheck(depositCheck, path);
      } catch (err) {
        throw new Bad(null, (err as Error).message);
      }
    }
    // One read transaction: a ledger serving this file may commit meanwhile (WAL); the walk and the
    // row counts must all see the same snapshot.
    db.exec('BEGIN');
    const q = {
      blocks: db.prepare('SELECT number, header, hash FROM blocks ORDER BY number'),
      txs: db.prepare('SELECT idx, tx_id AS txId, code, envelope, hash FROM txs WHERE block = ? ORDER BY idx'),
      state: db.prepare('SELECT version, value FROM state WHERE key = ?'),
      history: db.prepare('SELECT deleted FROM history WHERE key = ? AND version = ?').pluck(),
      lastHistory: db.prepare('SELECT version, deleted FROM history WHERE key = ? ORDER BY version DESC LIMIT 1'),
      event: db.prepare('SELECT tx_id AS txId, contract, name, payload FROM events WHERE block = ? AND idx = ?'),
      node: db.prepare('SELECT hash FROM tree WHERE level = ? AND idx = ?').pluck(),
      count: (table: string) => (db as NonNullable<typeof db>).prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number,
    };
    let prevHash: Uint8Array = new Uint8Array(32);
    const peaks: { level: number; idx: number; hash: Uint8Array }[] = [];
    let treeNodes = 0;
    let stateMatched = 0;
    let historyMatched = 0;
    let events = 0;
    const privateLatest = new Map<string, { version: number; valueHash: Uint8Array | null }>();
    for (const row of q.blocks.iterate() as IterableIterator<{ number: number; header: Uint8Array; hash: Uint8Array }>) {
      const n = row.number;
      if (n !== height) throw new Bad(height, `block ${height} is missing (next stored block is ${n})`);
      if (!equalBytes(sha256Native(row.header), row.hash)) throw new Bad(n, `block ${n}: stored hash does not match its header`);
      let header;
      try {
        header = decodeHeader(row.header);
      } catch (err) {
        throw new Bad(n, `block ${n}: header does not decode (${(err as Error).message})`);
      }
      if (header.number !== n) throw new Bad(n, `block ${n}: header says number ${header.number}`);
      if (!equalBytes(header.previousHash, prevHash)) throw new Bad(n, `block ${n}: previousHash does not link to block ${n - 1}`);
      const chainRoot =
        peaks.length === 0
          ? EMPTY_ROOT
          : (peaks.reduceRight<Uint8Array | null>((acc, p) => (acc === null ? p.hash : nodeHash(p.hash, acc)), null) as Uint8Array);
      if (!equalBytes(header.chainRoot, chainRoot)) throw new Bad(n, `block ${n}: chainRoot is not the Merkle root of blocks 0..${n - 1}`);
      const txs = q.txs.all(n) as { idx: number; txId: string; code: number; envelope: Uint8Array; hash: Uint8Array }[];
      if (txs.length !== header.txCount) throw new Bad(n, `block ${n}: header counts ${header.txCount} transactions, ${txs.length} stored`);
      const leaves: Uint8Array[] = [];
      for (const [i, tx] of txs.entries()) {
        if (tx.idx !== i) throw new Bad(n, `block ${n}: transaction index ${i} is missing`);
        if (!equalBytes(sha256Native(tx.envelope), tx.hash)) throw new Bad(n, `block ${n} tx ${i}: envelope does not match its hash`);
        let env;
        try {
          env = decodeEnvelope(tx.envelope);
        } catch (err) {
          throw new Bad(n, `block ${n} tx ${i}: envelope does not decode (${(err as Error).message})`);
        }
        if (env.txId !== tx.txId || env.code !== tx.code)
          throw new Bad(n, `block ${n} tx ${i}: stored id or validation code differs from the envelope`);
        leaves.push(leafHash(tx.hash));
        transactions++;
        if (env.code !== ValidationCode.VALID) continue;
        valid++;
        const version = versionOf(n, i);
        for (const w of env.writes) {
          // Each live key's current write is its state row; every other write is a history row.
          const st = q.state.get(w.key) as { version: number; value: Uint8Array | number } | undefined;
          if (st && st.version === version) {
            // A value stored once: the row refers to exactly this write's bytes in this envelope.
            const stored = typeof st.value === 'number' ? referenced(tx.envelope, st.value) : st.value;
            if (w.value === null || stored === undefined || !equalBytes(stored, w.value))
              throw new Bad(n, `block ${n} tx ${i}: state value of ${JSON.stringify(w.key)} differs from the write`);
            stateMatched++;
            continue;
          }
          const deleted = q.history.get(w.key, version) as number | undefined;
          if (deleted === undefined || deleted !== (w.value === null ? 1 : 0))
            throw new Bad(n, `block ${n} tx ${i}: history of key ${JSON.stringify(w.key)} lacks this write`);
          historyMatched++;
          if (st) {
            if (st.version < version)
              throw new Bad(n, `block ${n} tx ${i}: state of ${JSON.stringify(w.key)} is older than this committed write`);
          } else {
            const last = q.lastHistory.get(w.key) as { version: number; deleted: number } | undefined;
            if (!last || last.deleted !== 1 || last.version < version)
              throw new Bad(n, `block ${n} tx ${i}: key ${JSON.stringify(w.key)} is missing from state`);
          }
        }
        for (const p of env.privateWrites)
          privateLatest.set(`${p.collection}\u0000${toHex(p.keyHash)}`, { version, valueHash: p.valueHash });
        if (env.event) {
          events++;
          const e = q.event.get(n, i) as { txId: string; contract: string; name: string; payload: Uint8Array } | undefined;
          if (
            !e ||
            e.txId !== env.txId ||
            e.contract !== env.contract ||
            e.name !== env.event.name ||
            !equalBytes(e.payload, env.event.payload)
          ) {
            throw new Bad(n, `block ${n} tx ${i}: stored event differs from the envelope`);
          }
        }
      }
      if (!equalBytes(merkleRoot(leaves), header.dataHash))
        throw new Bad(n, `block ${n}: dataHash is not the Merkle root of its transactions`);
      // Append the block to the chain tree and check every node the store keeps for it.
      let node = { level: 0, idx: n, hash: leafHash(row.hash) };
      for (;;) {
        const stored = q.node.get(node.level, node.idx) as Uint8Array | undefined;
        if (!stored || !equalBytes(stored, node.hash))
          throw new Bad(n, `block ${n}: chain tree node (${node.level}, ${node.idx}) is wrong`);
        treeNodes++;
        const top = peaks[peaks.length - 1];
        if (!top || top.level !== node.level) break;
        peaks.pop();
        node = { level: node.level + 1, idx: top.idx / 2, hash: nodeHash(top.hash, node.hash) };
      }
      peaks.push(node);
      prevHash = row.hash;
      headHash = toHex(row.hash);
      height++;
      options.onProgress?.(n);
    }
    if (height === 0) throw new Bad(null, 'no blocks: not a ledger database');
    const counts = {
      txs: q.count('txs'),
      state: q.count('state'),
      history: q.count('history'),
      events: q.count('events'),
      tree: q.count('tree'),
    };
    stateKeys = counts.state;
    if (counts.txs !== transactions) throw new Bad(null, `${counts.txs - transactions} stored transactions belong to no block`);
    if (counts.history !== historyMatched)
      throw new Bad(null, `history holds ${counts.history} entries, valid transactions wrote ${historyMatched} that are not current state`);
    if (counts.state !== stateMatched)
      throw new Bad(null, `state holds ${counts.state} keys, ${counts.state - stateMatched} not written by any valid transaction`);
    if (counts.events !== events) throw new Bad(null, `events hold ${counts.events} rows, valid transactions emitted ${events}`);
    if (counts.tree !== treeNodes) throw new Bad(null, `chain tree holds ${counts.tree} nodes, expected ${treeNodes}`);
    let privateRows = 0;
    for (const p of db.prepare('SELECT collection, key, version, value FROM private').iterate() as IterableIterator<{
      collection: string;
      key: string;
      version: number;
      value: Uint8Array;
    }>) {
      privateRows++;
      const expected = privateLatest.get(`${p.collection}\u0000${toHex(sha256Native(p.key))}`);
      let opened: Uint8Array | null = null;
      if (clearDeposits) opened = p.value;
      else if (cipher !== undefined) {
        try {
          opened = cipher.open(p.collection, p.key, p.version, p.value);
        } catch {
          opened = null;
        }
      }
      if (
        !expected ||
        expected.version !== p.version ||
        expected.valueHash === null ||
        (privateValuesChecked && (opened === null || !equalBytes(expected.valueHash, sha256Native(opened))))
      ) {
        throw new Bad(
          Math.floor(p.version / 65_536),
          `private data ${p.collection}/${JSON.stringify(p.key)} does not match the hash on the chain`,
        );
      }
    }
    const livePrivate = [...privateLatest.values()].filter((v) => v.valueHash !== null).length;
    if (privateRows !== livePrivate) throw new Bad(null, `private store holds ${privateRows} values, the chain has ${livePrivate}`);
    return {
      ok: true,
      height,
      transactions,
      validTransactions: valid,
      stateKeys,
      badBlock: null,
      reason: null,
      headHash,
      privateValuesChecked,
    };
  } catch (err) {
    const bad = err instanceof Bad ? err : new Bad(height, `block ${height}: ${(err as Error).message}`);
    return {
      ok: false,
      height,
      transactions,
      validTransactions: valid,
      stateKeys,
      badBlock: bad.block,
      reason: bad.message,
      headHash,
      privateValuesChecked,
    };
  } finally {
    if (db?.inTransaction) db.exec('ROLLBACK');
    db?.close();
  }
}

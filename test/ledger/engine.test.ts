import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ProvenantError } from '../../shared/errors.js';
import { type EmbeddedLedger, createCompositeKey } from '../../ledger-bridge/embedded/index.js';
import { PAGE_SIZE } from '../../ledger-bridge/embedded/writer.js';
import { openTestLedger, tempDir, text } from './helpers.js';

describe('embedded ledger: simulate → order → validate → commit', () => {
  let dir: { dir: string; cleanup: () => void };
  let ledger: EmbeddedLedger;
  beforeEach(async () => {
    dir = tempDir();
    ledger = await openTestLedger(dir.dir);
  });
  afterEach(async () => {
    await ledger.close();
    dir.cleanup();
  });

  it('writes a new ledger file with 16 KB pages, and opens a ledger made with 4 KB pages as it is', async () => {
    const pageSize = (path: string): number => {
      const db = new Database(path, { readonly: true });
      try {
        return db.pragma('page_size', { simple: true }) as number;
      } finally {
        db.close();
      }
    };
    expect(pageSize(join(dir.dir, 'ledger.db'))).toBe(PAGE_SIZE);
    // A ledger created by an earlier build (SQLite's default 4 KB pages) keeps them and works.
    const old = tempDir();
    try {
      const path = join(old.dir, 'ledger.db');
      const db = new Database(path);
      db.pragma('page_size = 4096');
      db.pragma('journal_mode = WAL');
      db.close();
      const l = await openTestLedger(old.dir);
      try {
        const r = await l.submit('edge-1', { contract: 'Counter', fn: 'increment', args: ['p', '2'] });
        expect(text(r.result)).toBe('2');
        expect(pageSize(path)).toBe(4096);
      } finally {
        await l.close();
      }
    } finally {
      old.cleanup();
    }
  });

  it('starts with a genesis block and commits a transaction into block 1', async () => {
    expect(ledger.head().height).toBe(1);
    const r = await ledger.submit('edge-1', { contract: 'Counter', fn: 'increment', args: ['a', '5'] });
    expect(r.blockNumber).toBe(1);
    expect(text(r.result)).toBe('5');
    expect(r.txId).toMatch(/^[0-9a-f]{64}$/);
    expect(ledger.head().height).toBe(2);
    expect(text(await ledger.evaluate('auditor', { contract: 'Counter', fn: 'getCounter', args: ['a'] }))).toBe('5');
  });

  it('puts concurrent submits into one block, and invalidates a stale read as MVCC_READ_CONFLICT', async () => {
    await ledger.submit('edge-1', { contract: 'Counter', fn: 'increment', args: ['c', '1'] });
    // Both simulate against the same committed version of counter c: the second in the block is stale.
    const results = await Promise.allSettled([
      ledger.submit('edge-1', { contract: 'Counter', fn: 'increment', args: ['c', '10'] }),
      ledger.submit('edge-1', { contract: 'Counter', fn: 'increment', args: ['c', '100'] }),
    ]);
    const ok = results.filter((r) => r.status === 'fulfilled');
    const bad = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(ok).toHaveLength(1);
    expect(bad).toHaveLength(1);
    const err = bad[0]?.reason as ProvenantError;
    expect(err).toBeInstanceOf(ProvenantError);
    expect(err.code).toBe('PROV_ERR_MVCC_READ_CONFLICT');
    const okBlock = (ok[0] as PromiseFulfilledResult<{ blockNumber: number }>).value.blockNumber;
    expect(err.details['blockNumber']).toBe(okBlock);
    // The invalid transaction's write was dropped: 1 + 10, not 1 + 100 or 111.
    expect(text(await ledger.evaluate('auditor', { contract: 'Counter', fn: 'getCounter', args: ['c'] }))).toBe('11');
    // Both transactions are on the chain, one valid, one with its validation code.
    const block = ledger.block(okBlock);
    expect(block?.txs.map((t) => t.code).sort()).toEqual([0, 11]);
  });

  it('detects phantom reads: a range scan whose result changed in the same block', async () => {
    await ledger.submit('edge-1', { contract: 'Counter', fn: 'increment', args: ['x', '1'] });
    const results = await Promise.allSettled([
      ledger.submit('edge-1', { contract: 'Counter', fn: 'increment', args: ['y', '2'] }),
      ledger.submit('edge-1', { contract: 'Counter', fn: 'total', args: ['sum'] }),
    ]);
    expect(results[0]?.status).toBe('fulfilled');
    expect(results[1]?.status).toBe('rejected');
    expect(((results[1] as PromiseRejectedResult).reason as ProvenantError).code).toBe('PROV_ERR_PHANTOM_READ_CONFLICT');
    const r = await ledger.submit('edge-1', { contract: 'Counter', fn: 'total', args: ['sum'] });
    expect(text(r.result)).toBe('3');
  });

  it('rejects a failing contract with PROV_ERR_ENDORSEMENT, its message and code, and orders nothing', async () => {
    const before = ledger.head();
    const err = (await ledger
      .submit('edge-1', { contract: 'Counter', fn: 'fail', args: ['boom: device 7'] })
      .catch((e: unknown) => e)) as ProvenantError;
    expect(err.code).toBe('PROV_ERR_ENDORSEMENT');
    expect(err.message).toBe('boom: device 7');
    expect(err.details['contractCode']).toBe('PROV_ERR_TEST_FAILURE');
    expect(ledger.head()).toEqual(before);
  });

  it('routes unknown functions to unknownTransaction and unknown contracts to an error', async () => {
    const e1 = (await ledger.submit('edge-1', { contract: 'Counter', fn: 'nope', args: [] }).catch((e: unknown) => e)) as ProvenantError;
    expect(e1.message).toContain('does not exist: Counter:nope');
    const e2 = (await ledger.submit('edge-1', { contract: 'Nope', fn: 'x', args: [] }).catch((e: unknown) => e)) as ProvenantError;
    expect(e2.message).toBe('Contract name is not known: Nope');
  });

  it('checks proposal shapes and identities', async () => {
    await expect(ledger.submit('edge-1', { contract: 'Counter', fn: 'put', args: [1 as unknown as string] })).rejects.toThrow(TypeError);
    await expect(ledger.submit('mallory', { contract: 'Counter', fn: 'put', args: ['a', 'b'] })).rejects.toMatchObject({
      code: 'PROV_ERR_FORBIDDEN',
    });
  });

  it('gives the contract the submitter identity, tx id, channel, timestamp and args', async () => {
    const out = JSON.parse(text(await ledger.evaluate('aa', { contract: 'Counter', fn: 'whoami', args: [] }))) as Record<string, unknown>;
    expect(out).toMatchObject({
      id: 'x509::/CN=aa::/CN=ca',
      mspId: 'AuthorityMSP',
      role: 'authority',
      isAuthority: true,
      channel: 'provenant',
      fcn: 'Counter:whoami',
      params: [],
    });
    expect(Math.abs((out['time'] as number) - Date.now())).toBeLessThan(60_000);
    const edge = JSON.parse(text(await ledger.evaluate('edge-1', { contract: 'Counter', fn: 'whoami', args: [] }))) as Record<
      string,
      unknown
    >;
    expect(edge).toMatchObject({ mspId: 'EdgeMSP', role: 'edge', isAuthority: false });
    await expect(ledger.submit('edge-1', { contract: 'Counter', fn: 'adminOnly', args: [] })).rejects.toThrow(/not the authority/);
    await expect(ledger.submit('aa', { contract: 'Counter', fn: 'adminOnly', args: [] })).resolves.toMatchObject({
      result: expect.any(Uint8Array),
    });
  });

  it('keeps composite keys in Fabric format and scans them in order', async () => {
    expect(createCompositeKey('reading', ['d1', '7'])).toBe('\u0000reading\u0000d1\u00007\u0000');
    await Promise.all(['3', '1', '2'].map((s) => ledger.submit('edge-1', { contract: 'Counter', fn: 'record', args: ['dev', s] })));
    const list = JSON.parse(text(await ledger.evaluate('auditor', { contract: 'Counter', fn: 'list', args: ['reading'] }))) as {
      attributes: string[];
    }[];
    expect(list.map((l) => l.attributes)).toEqual([
      ['dev', '0000000001'],
      ['dev', '0000000002'],
      ['dev', '0000000003'],
    ]);
    await ledger.submit('edge-1', { contract: 'Counter', fn: 'put', args: ['k1', 'a'] });
    await ledger.submit('edge-1', { contract: 'Counter', fn: 'put', args: ['k2', 'b'] });
    await ledger.submit('edge-1', { contract: 'Counter', fn: 'put', args: ['k3', 'c'] });
    expect(JSON.parse(text(await ledger.evaluate('auditor', { contract: 'Counter', fn: 'range', args: ['k1', 'k3'] })))).toEqual([
      'k1',
      'k2',
    ]);
    // An empty start key scans from the first simple key, not into the composite namespace.
    expect(JSON.parse(text(await ledger.evaluate('auditor', { contract: 'Counter', fn: 'range', args: ['', 'k2'] })))).toEqual(['k1']);
  });

  it('reads every write and delete of a key once its block is committed (read, rewritten and deleted across blocks)', async () => {
    const get = async (key: string): Promise<string> =>
      text(await ledger.evaluate('auditor', { contract: 'Counter', fn: 'get', args: [key] }));
    // Each step reads the key (so the ledger caches it), then a later block rewrites or deletes it.
    for (const step of ['a', 'b', null, 'c', null, null, 'd']) {
      if (step === null) await ledger.submit('edge-1', { contract: 'Counter', fn: 'remove', args: ['cached'] });
      else await ledger.submit('edge-1', { contract: 'Counter', fn: 'put', args: ['cached', step] });
      expect(await get('cached')).toBe(step ?? '');
    }
    for (let i = 1; i <= 5; i++) {
      const r = await ledger.submit('edge-1', { contract: 'Counter', fn: 'increment', args: ['hot', '1'] });
      expect(text(r.result)).toBe(String(i));
    }
    await ledger.close();
    ledger = await openTestLedger(dir.dir);
    expect(await get('cached')).toBe('d');
    expect(text(await ledger.evaluate('auditor', { contract: 'Counter', fn: 'getCounter', args: ['hot'] }))).toBe('5');
  });

  it('keeps key history, newest first, including deletes', async () => {
    const a = await ledger.submit('edge-1', { contract: 'Counter', fn: 'put', args: ['h', 'one'] });
    const b = await ledger.submit('edge-1', { contract: 'Counter', fn: 'put', args: ['h', 'two'] });
    const c = await ledger.submit('edge-1', { contract: 'Counter', fn: 'remove', args: ['h'] });
    const h = JSON.parse(text(await ledger.evaluate('auditor', { contract: 'Counter', fn: 'history', args: ['h'] }))) as unknown[];
    expect(h).toEqual([
      { txId: c.txId, value: '', isDelete: true },
      { txId: b.txId, value: 'two', isDelete: false },
      { txId: a.txId, value: 'one', isDelete: false },
    ]);
    expect(text(await ledger.evaluate('auditor', { contract: 'Counter', fn: 'get', args: ['h'] }))).toBe('');
  });

  it('keeps private data out of blocks: transient in, hash on chain, value in the private store', async () => {
    const r = await ledger.submit('aa', {
      contract: 'Counter',
      fn: 'deposit',
      args: ['dev-1'],
      transient: { secret: Buffer.from('k-iot-secret') },
    });
    expect(text(await ledger.evaluate('auditor', { contract: 'Counter', fn: 'checkSecret', args: ['dev-1', 'k-iot-secret'] }))).toBe(
      'true',
    );
    const hash = text(await ledger.evaluate('auditor', { contract: 'Counter', fn: 'secretHash', args: ['dev-1'] }));
    expect(hash).toBe(Buffer.from(await crypto.subtle.digest('SHA-256', Buffer.from('k-iot-secret'))).toString('hex'));
    const proof = ledger.inclusionProof(r.txId);
    const envelope = Buffer.from((proof.evidence as { envelope: string }).envelope, 'hex');
    expect(envelope.includes(Buffer.from('k-iot-secret'))).toBe(false);
    expect(envelope.includes(Buffer.from(hash, 'hex'))).toBe(true);
    await expect(ledger.submit('aa', { contract: 'Counter', fn: 'deposit', args: ['dev-2'] })).rejects.toThrow(
      /transient field secret is missing/,
    );
  });

  it('cuts blocks by transaction count', async () => {
    await ledger.close();
    ledger = await openTestLedger(dir.dir, { blockMaxTx: 4, blockTimeoutMs: 50 });
    const rs = await Promise.all(
      Array.from({ length: 10 }, (_, i) => ledger.submit('edge-1', { contract: 'Counter', fn: 'record', args: ['d', String(i)] })),
    );
    const perBlock = new Map<number, number>();
    for (const r of rs) perBlock.set(r.blockNumber, (perBlock.get(r.blockNumber) ?? 0) + 1);
    expect([...perBlock.values()].sort()).toEqual([2, 4, 4]);
  });

  it('survives close and reopen with the same head and state', async () => {
    await ledger.submit('edge-1', { contract: 'Counter', fn: 'increment', args: ['p', '7'] });
    const head = ledger.head();
    await ledger.close();
    ledger = await openTestLedger(dir.dir);
    expect(ledger.head()).toEqual(head);
    expect(text(await ledger.evaluate('auditor', { contract: 'Counter', fn: 'getCounter', args: ['p'] }))).toBe('7');
    const r = await ledger.submit('edge-1', { contract: 'Counter', fn: 'increment', args: ['p', '1'] });
    expect(r.blockNumber).toBe(head.height);
  });

  it('refuses work once closed', async () => {
    await ledger.close();
    await expect(ledger.submit('edge-1', { contract: 'Counter', fn: 'put', args: ['a', 'b'] })).rejects.toMatchObject({
      code: 'PROV_ERR_LEDGER_CLOSED',
    });
  });
});

describe('embedded ledger without the commit worker (blocks written on the ledger thread)', () => {
  it('commits, invalidates stale reads and reopens the same way', async () => {
    const dir = tempDir();
    try {
      let ledger = await openTestLedger(dir.dir, { commitWorker: false });
      await ledger.submit('edge-1', { contract: 'Counter', fn: 'increment', args: ['w', '1'] });
      const results = await Promise.allSettled([
        ledger.submit('edge-1', { contract: 'Counter', fn: 'increment', args: ['w', '10'] }),
        ledger.submit('edge-1', { contract: 'Counter', fn: 'increment', args: ['w', '100'] }),
      ]);
      expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
      const head = ledger.head();
      await ledger.close();
      ledger = await openTestLedger(dir.dir);
      expect(ledger.head()).toEqual(head);
      expect(text(await ledger.evaluate('auditor', { contract: 'Counter', fn: 'getCounter', args: ['w'] }))).toBe('11');
      await ledger.close();
    } finally {
      dir.cleanup();
    }
  });
});

describe('group commit with the commit worker', () => {
  it('answers every submit of a burst, in fewer blocks than transactions, and head() only shows blocks on disk', async () => {
    const dir = tempDir();
    try {
      const ledger = await openTestLedger(dir.dir, { blockTimeoutMs: 0 });
      const rs = await Promise.all(
        Array.from({ length: 60 }, (_, i) => ledger.submit('edge-1', { contract: 'Counter', fn: 'record', args: ['g', String(i)] })),
      );
      const blocks = new Set(rs.map((r) => r.blockNumber));
      expect(blocks.size).toBeLessThan(60);
      expect(ledger.head().height).toBe(Math.max(...blocks) + 1);
      for (const r of rs.slice(0, 5)) expect(ledger.inclusionProof(r.txId).blockNumber).toBe(r.blockNumber);
      // close() drains what is still queued before it returns.
      const late = ledger.submit('edge-1', { contract: 'Counter', fn: 'record', args: ['g', 'late'] });
      await new Promise((r) => setImmediate(r));
      await ledger.close();
      await expect(late).resolves.toMatchObject({ txId: expect.any(String) });
    } finally {
      dir.cleanup();
    }
  });
});

describe('storage failure on the commit worker', () => {
  it('stops the ledger (fail-stop) instead of forking the chain, and reopens from the last block on disk', async () => {
    const dir = tempDir();
    try {
      const ledger = await openTestLedger(dir.dir);
      await ledger.submit('edge-1', { contract: 'Counter', fn: 'put', args: ['a', '1'] });
      const head = ledger.head();
      // Another writer takes the next block number, so the worker's INSERT of that block fails.
      const Database = (await import('better-sqlite3')).default;
      const intruder = new Database(join(dir.dir, 'ledger.db'));
      intruder.prepare('INSERT INTO blocks (number, header, hash) VALUES (?, ?, ?)').run(head.height, Buffer.alloc(117), Buffer.alloc(32));
      intruder.close();
      const err = (await ledger
        .submit('edge-1', { contract: 'Counter', fn: 'put', args: ['b', '2'] })
        .catch((e: unknown) => e)) as ProvenantError;
      expect(err.code).toBe('PROV_ERR_STORAGE');
      expect(err.message).toMatch(new RegExp(`block ${head.height}`));
      await expect(ledger.submit('edge-1', { contract: 'Counter', fn: 'put', args: ['c', '3'] })).rejects.toMatchObject({
        code: 'PROV_ERR_STORAGE',
      });
      expect(ledger.head()).toEqual(head);
      await ledger.close();
    } finally {
      dir.cleanup();
    }
  });
});

describe('a second writer on the same file', () => {
  it('is stopped by the block-number conflict; the chain on disk stays linear and verifies', async () => {
    const dir = tempDir();
    try {
      const a = await openTestLedger(dir.dir);
      const b = await openTestLedger(dir.dir);
      await a.submit('edge-1', { contract: 'Counter', fn: 'put', args: ['x', 'from-a'] });
      await expect(b.submit('edge-1', { contract: 'Counter', fn: 'put', args: ['x', 'from-b'] })).rejects.toMatchObject({
        code: 'PROV_ERR_STORAGE',
      });
      await a.submit('edge-1', { contract: 'Counter', fn: 'put', args: ['y', 'from-a'] });
      await b.close();
      await a.close();
      const { verifyLedger } = await import('../../ledger-bridge/embedded/verify.js');
      const report = await verifyLedger(join(dir.dir, 'ledger.db'));
      expect(report, report.reason ?? '').toMatchObject({ ok: true, height: 3 });
    } finally {
      dir.cleanup();
    }
  });
});

describe('parallel endorsement on endorser threads', () => {
  const module = new URL('./fixtures/counter-contract.ts', import.meta.url).href;

  it('simulates submits on endorsers with the same results, conflicts, identities and transient data', async () => {
    const dir = tempDir();
    try {
      const ledger = await openTestLedger(dir.dir, { endorsers: { count: 2, module, exportName: 'testContracts' } });
      expect(text((await ledger.submit('edge-1', { contract: 'Counter', fn: 'increment', args: ['e', '1'] })).result)).toBe('1');
      // Two increments of one key, one per endorser: when both simulate on the same version, one is
      // refused MVCC_READ_CONFLICT. On a loaded machine one endorser may simulate only after the
      // other's block is on disk (no conflict then, both count), so pairs go until one conflicts;
      // every pair must leave no lost update.
      let expected = 1;
      let conflicts = 0;
      for (let pair = 0; pair < 10 && conflicts === 0; pair++) {
        const results = await Promise.allSettled([
          ledger.submit('edge-1', { contract: 'Counter', fn: 'increment', args: ['e', '10'] }),
          ledger.submit('edge-1', { contract: 'Counter', fn: 'increment', args: ['e', '100'] }),
        ]);
        results.forEach((r, i) => {
          if (r.status === 'fulfilled') expected += i === 0 ? 10 : 100;
          else {
            expect((r.reason as ProvenantError).code).toBe('PROV_ERR_MVCC_READ_CONFLICT');
            conflicts += 1;
          }
        });
        expect(conflicts, `pair ${pair}: both refused`).toBeLessThan(2);
        expect(text(await ledger.evaluate('auditor', { contract: 'Counter', fn: 'getCounter', args: ['e'] })), `after pair ${pair}`).toBe(
          String(expected),
        );
      }
      expect(conflicts, 'no pair of concurrent increments met a conflict in 10 tries').toBe(1);
      await expect(ledger.submit('edge-1', { contract: 'Counter', fn: 'adminOnly', args: [] })).rejects.toThrow(/not the authority/);
      await ledger.submit('aa', { contract: 'Counter', fn: 'deposit', args: ['d'], transient: { secret: Buffer.from('pst') } });
      expect(text(await ledger.evaluate('auditor', { contract: 'Counter', fn: 'checkSecret', args: ['d', 'pst'] }))).toBe('true');
      const rs = await Promise.all(
        Array.from({ length: 40 }, (_, i) => ledger.submit('edge-1', { contract: 'Counter', fn: 'record', args: ['p', String(i)] })),
      );
      expect(new Set(rs.map((r) => r.txId)).size).toBe(40);
      await ledger.close();
      const { verifyLedger } = await import('../../ledger-bridge/embedded/verify.js');
      expect(await verifyLedger(join(dir.dir, 'ledger.db'))).toMatchObject({ ok: true });
    } finally {
      dir.cleanup();
    }
  });

  it('refuses a module without the contracts export', async () => {
    const dir = tempDir();
    try {
      await expect(openTestLedger(dir.dir, { endorsers: { count: 1, module, exportName: 'nope' } })).rejects.toThrow(
        /does not export an array 'nope'/,
      );
    } finally {
      dir.cleanup();
    }
  });
});

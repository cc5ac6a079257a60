import { spawn } from 'node:child_process';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeEnvelope, createCompositeKey } from '../../ledger-bridge/embedded/index.js';
import { verifyLedger } from '../../ledger-bridge/embedded/verify.js';
import { FULL } from '../support/full.js';
import { tempDir } from './helpers.js';

const child = join(import.meta.dirname, 'fixtures', 'kill9-child.ts');
/** Each round starts a child under tsx (~1 s of CPU): `npm test` kills 6 times, `npm run test:full` 24. */
const ROUNDS = FULL ? 24 : 6;

/**
 * Runs the child until it has printed its first ACK (it is committing), waits `ms`, SIGKILLs it;
 * returns the acks it printed. Counting from the first ACK, not from READY, the kill lands
 * mid-stream however slowly a loaded machine opens the ledger.
 */
function runAndKill(db: string, firstSeq: number, ms: number): Promise<{ acks: number[]; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', child, db, 'dev', String(firstSeq)], { stdio: ['ignore', 'pipe', 'pipe'] });
    const acks: number[] = [];
    let out = '';
    let stderr = '';
    let timer: NodeJS.Timeout | null = null;
    p.stdout.setEncoding('utf8');
    p.stdout.on('data', (chunk: string) => {
      out += chunk;
      let nl: number;
      while ((nl = out.indexOf('\n')) !== -1) {
        const line = out.slice(0, nl);
        out = out.slice(nl + 1);
        if (!line.startsWith('ACK ')) continue;
        acks.push(Number(line.split(' ')[2]));
        timer ??= setTimeout(() => p.kill('SIGKILL'), ms);
      }
    });
    p.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    p.on('error', reject);
    p.on('exit', (code, signal) => {
      if (signal !== 'SIGKILL') reject(new Error(`child exited on its own (code ${code}): ${stderr}`));
      else resolve({ acks, stderr });
    });
  });
}

describe('kill -9 at random moments under load', () => {
  const dir = tempDir('prov-kill9-');
  afterAll(() => dir.cleanup());

  it(`reopens a consistent chain after each of ${ROUNDS} kills and loses or duplicates no acknowledged reading`, async () => {
    const db = join(dir.dir, 'ledger.db');
    const acked = new Set<number>();
    let nextSeq = 0;
    let lastHeight = 0;
    for (let round = 0; round < ROUNDS; round++) {
      // Restart a little below the highest ack so readings committed-but-unacknowledged are resubmitted.
      const first = Math.max(0, nextSeq - 5);
      const { acks } = await runAndKill(db, first, 60 + Math.floor(Math.random() * 400));
      for (const s of acks) acked.add(s);
      if (acks.length > 0) nextSeq = Math.max(nextSeq, Math.max(...acks) + 1);

      const report = await verifyLedger(db);
      expect(report, `round ${round}: ${report.reason}`).toMatchObject({ ok: true });
      expect(report.height).toBeGreaterThanOrEqual(lastHeight);
      lastHeight = report.height;

      const sqlite = new Database(db);
      try {
        const has = sqlite.prepare('SELECT 1 FROM state WHERE key = ?').pluck();
        const lost = [...acked].filter((s) => has.get(createCompositeKey('once', ['dev', String(s).padStart(10, '0')])) === undefined);
        expect(lost, `round ${round}: acknowledged readings missing from state`).toEqual([]);
        // Every reading is recorded by exactly one valid transaction on the chain.
        const seen = new Map<string, number>();
        for (const row of sqlite.prepare('SELECT envelope FROM txs WHERE code = 0').pluck().iterate() as IterableIterator<Buffer>) {
          const env = decodeEnvelope(row);
          if (env.fn !== 'recordOnce') continue;
          const k = env.args.join('/');
          seen.set(k, (seen.get(k) ?? 0) + 1);
        }
        const dups = [...seen].filter(([, n]) => n > 1);
        expect(dups, `round ${round}: readings committed twice`).toEqual([]);
        const stateCount = sqlite
          .prepare("SELECT count(*) FROM state WHERE key >= char(0) || 'once' AND key < char(0) || 'oncf'")
          .pluck()
          .get() as number;
        expect(stateCount).toBe(seen.size);
      } finally {
        sqlite.close();
      }
    }
    // The load really ran: the kills landed while readings were being committed.
    expect(acked.size).toBeGreaterThan(ROUNDS * 5);
    console.log(`kill -9: ${ROUNDS} rounds, ${acked.size} acknowledged readings, final height ${lastHeight}`);
  }, 240_000);
});
